//! The JSON shapes of API.md's objects, shared by server and browser. Times are RFC 3339
//! UTC strings, ids opaque strings.

use serde::{Deserialize, Serialize};

use crate::{
    room::{JoinPolicy, Role},
    User,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomView {
    pub id: String,
    pub name: String,
    pub topic: Option<String>,
    pub join_policy: JoinPolicy,
    pub max_members: Option<u32>,
    pub member_count: u32,
    /// `active` or `terminated`.
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRoom {
    #[serde(flatten)]
    pub room: RoomView,
    pub my_role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousRoom {
    pub room: RoomView,
    pub left_at: String,
    /// `left` or `kicked`.
    pub reason: String,
    pub can_rejoin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub user: User,
    pub role: Role,
    pub joined_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestView {
    pub user: User,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BanView {
    pub user: User,
    pub reason: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntryView {
    pub id: String,
    pub kind: String,
    pub actor: Option<User>,
    pub target: Option<User>,
    pub reason: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationView {
    pub id: String,
    pub kind: String,
    pub room_id: Option<String>,
    pub room_name: Option<String>,
    pub actor: Option<User>,
    pub reason: Option<String>,
    pub created_at: String,
    pub read: bool,
}
