//! The JSON shapes of the API's objects (docs/API.md), shared by server and browser. Times
//! are RFC 3339 UTC strings, ids opaque strings.

use serde::{Deserialize, Serialize};

use crate::{
    effects::{LogKind, NotificationKind},
    message::MessageView,
    report::{ReportAction, ReportReason, ReportStatus},
    room::{JoinPolicy, LeaveReason, Role, RoomStatus},
    NotificationId, ReportId, RoomId, User,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomView {
    pub id: RoomId,
    pub name: String,
    pub topic: Option<String>,
    pub join_policy: JoinPolicy,
    pub max_members: Option<u32>,
    pub member_count: u32,
    pub status: RoomStatus,
    /// Seconds between one member's messages; 0 is off (docs/RULES.md §5).
    #[serde(default)]
    pub slow_mode_seconds: u32,
    /// Only admins post.
    #[serde(default)]
    pub announcement: bool,
    /// After a declined request, seconds before that person may ask again.
    #[serde(default)]
    pub request_cooldown_seconds: u32,
}

/// `rooms/open`: a room's page in one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPage {
    pub room: RoomView,
    /// `None` when you are not a member: the page offers to join instead.
    pub my_role: Option<Role>,
    /// Members in join order; empty unless you are one.
    pub members: Vec<MemberView>,
    /// The latest messages, newest first; empty unless you are a member.
    pub messages: Vec<MessageView>,
    /// Whether there are older messages than these.
    pub has_older: bool,
    /// Not a member: whether you asked to join and wait for an answer.
    pub requested: bool,
    /// Not a member: whether you hold a valid invite.
    pub invited: bool,
    /// For admins: how many people wait for an answer to their request.
    pub pending_requests: u32,
    /// A member's read position when the page was read: the "new messages" divider goes
    /// after it.
    #[serde(default)]
    pub read_to: Option<crate::MessageId>,
    /// The end of your timeout in this room, while you have one.
    #[serde(default)]
    pub muted_until: Option<String>,
    /// Slow mode: when you may send your next message, if that is still to come.
    #[serde(default)]
    pub next_post_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRoom {
    #[serde(flatten)]
    pub room: RoomView,
    pub my_role: Role,
    /// Messages from others past my read position (docs/RULES.md §6, "Unread").
    #[serde(default)]
    pub unread: u64,
    /// Of those, the ones that mention me.
    #[serde(default)]
    pub mentions: u64,
    /// My read position: the newest message I have read.
    #[serde(default)]
    pub read_to: Option<crate::MessageId>,
    /// For an admin: the open reports they see in the room (docs/RULES.md §5, "Reports");
    /// 0 for everyone else.
    #[serde(default)]
    pub open_reports: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousRoom {
    pub room: RoomView,
    pub left_at: String,
    /// `left`, `kicked` or `banned` (terminated rooms are never listed, nor rooms that
    /// banned you for good).
    pub reason: LeaveReason,
    pub can_rejoin: bool,
    /// While a timed ban on you in that room runs: its end, before which there is no way
    /// back; null otherwise (docs/RULES.md §8).
    #[serde(default)]
    pub until: Option<String>,
    /// The room is private and you hold no invite to it: it exists only for its members and
    /// invitees (docs/RULES.md §2), so only its name and when you left are told; its
    /// topic, member count and limit are left out.
    #[serde(default)]
    pub private: bool,
}

/// What `rooms/join` did: joined at once, or asked the admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinStatus {
    Joined,
    Requested,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub user: User,
    pub role: Role,
    pub joined_at: String,
    /// The end of their timeout, while they have one.
    #[serde(default)]
    pub muted_until: Option<String>,
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
    /// Who banned them (absent if that account is gone).
    #[serde(default)]
    pub banned_by: Option<User>,
    /// When a timed ban ends; `null`: never.
    #[serde(default)]
    pub until: Option<String>,
}

/// An invitation that has not been answered (admins see them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteView {
    pub user: User,
    pub invited_by: Option<User>,
    pub created_at: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntryView {
    pub id: String,
    pub kind: LogKind,
    pub actor: Option<User>,
    pub target: Option<User>,
    pub reason: Option<String>,
    pub created_at: String,
    /// The end a timeout or timed ban was given (`null` for a permanent ban).
    #[serde(default)]
    pub until: Option<String>,
    /// The report this action resolved, if it came from one.
    #[serde(default)]
    pub report_id: Option<ReportId>,
}

/// A report on a message, as the room's admins who may see it get it (docs/RULES.md §5,
/// "Reports").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportView {
    pub id: ReportId,
    /// The message as it is now: a deleted one is its tombstone.
    pub message: MessageView,
    pub reason: ReportReason,
    pub text: Option<String>,
    pub created_at: String,
    pub status: ReportStatus,
    /// What the admin did, once resolved.
    #[serde(default)]
    pub action: Option<ReportAction>,
    /// Who resolved it (absent if that account is gone) and when.
    #[serde(default)]
    pub resolved_by: Option<User>,
    #[serde(default)]
    pub resolved_at: Option<String>,
    /// Who filed it: never in an answer to the person reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter: Option<User>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationView {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub room_id: Option<RoomId>,
    pub room_name: Option<String>,
    pub actor: Option<User>,
    pub reason: Option<String>,
    pub created_at: String,
    pub read: bool,
    /// The message a `mention` links to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<crate::MessageId>,
}
