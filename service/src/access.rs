//! Loads what the access rule (`domain::access`) needs about one person and one room, in a
//! few point lookups whatever the room's size, and applies it.

use chrono::Utc;
use domain::{
    access::{room_not_found, Standing},
    room::{MembershipStatus, Role},
    ApiError, RoomId, UserId,
};
use entity::{ban, invite, membership, room as room_row};
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::error::ServiceResult;

/// One person's standing with one room, and the room's row.
pub struct Access {
    pub room: room_row::Model,
    pub standing: Standing,
    /// Their role, while they are a member.
    pub role: Option<Role>,
    /// Their read position, while they are a member.
    pub read_to: Option<domain::MessageId>,
}

/// What is stored about `user_id` and `room_id`; `room_not_found` if there is no such room.
pub async fn load<C: ConnectionTrait>(
    conn: &C,
    user_id: &UserId,
    room_id: &RoomId,
) -> ServiceResult<Access> {
    let Some(room) = room_row::Entity::find_by_id(room_id.to_string())
        .one(conn)
        .await?
    else {
        return Err(room_not_found().into());
    };
    let key = (room_id.to_string(), user_id.to_string());
    let membership = membership::Entity::find_by_id(key.clone())
        .one(conn)
        .await?;
    let banned = ban::Entity::find_by_id(key.clone())
        .one(conn)
        .await?
        .is_some();
    let now = Utc::now();
    let invited = invite::Entity::find_by_id(key)
        .one(conn)
        .await?
        .is_some_and(|i| i.expires_at > now);
    let active = membership
        .as_ref()
        .filter(|m| m.status == MembershipStatus::Active);
    let role = active.map(|m| m.role);
    let read_to = active.and_then(|m| m.read_to).map(domain::MessageId::new);
    let standing = Standing {
        status: room.status,
        policy: room.join_policy,
        membership: membership.map(|m| m.status),
        banned,
        invited,
    };
    Ok(Access {
        room,
        standing,
        role,
        read_to,
    })
}

/// Checks that `user_id` may read and post in `room_id` (`Standing::may_post`).
pub async fn require_member<C: ConnectionTrait>(
    conn: &C,
    user_id: &UserId,
    room_id: &RoomId,
) -> ServiceResult<Access> {
    let access = load(conn, user_id, room_id).await?;
    access.standing.may_post()?;
    Ok(access)
}

/// Checks that `user_id` is an admin of `room_id`, for the admins' listings.
pub async fn require_admin<C: ConnectionTrait>(
    conn: &C,
    user_id: &UserId,
    room_id: &RoomId,
) -> ServiceResult<Access> {
    let access = require_member(conn, user_id, room_id).await?;
    if !access.role.is_some_and(Role::is_admin) {
        return Err(ApiError::new(
            domain::ErrorCode::Forbidden,
            "Only the room's admins can see that.",
        )
        .into());
    }
    Ok(access)
}
