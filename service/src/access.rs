//! Loads what the access rule (`domain::access`) needs about one person and one room, in a
//! few point lookups whatever the room's size, and applies it.

use chrono::Utc;
use domain::{
    access::{room_not_found, Standing},
    room::{MembershipStatus, Role},
    ApiError, RoomId, UserId,
};
use entity::{ban, invite, membership, room as room_row};
use sea_orm::{
    sea_query::{Alias, Condition, Expr, ExprTrait, JoinType, Query},
    ConnectionTrait, FromQueryResult, Iterable,
};

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
    // One statement, not four: every page and action of a room starts here, and each
    // statement is a hop to the database's thread and back (docs/BENCHMARKS.md, S4).
    let (m, b, i) = (Alias::new("m"), Alias::new("b"), Alias::new("i"));
    // Memberships, bans and invites are each keyed by (room_id, user_id).
    let theirs = |alias: &Alias| {
        Condition::all()
            .add(
                Expr::col((alias.clone(), Alias::new("room_id")))
                    .equals((room_row::Entity, room_row::Column::Id)),
            )
            .add(Expr::col((alias.clone(), Alias::new("user_id"))).eq(user_id.as_str()))
    };
    let mut query = Query::select();
    query
        .columns(room_row::Column::iter().map(|c| (room_row::Entity, c)))
        .expr_as(
            Expr::col((m.clone(), membership::Column::Status)),
            Alias::new("m_status"),
        )
        .expr_as(
            Expr::col((m.clone(), membership::Column::Role)),
            Alias::new("m_role"),
        )
        .expr_as(
            Expr::col((m.clone(), membership::Column::ReadTo)),
            Alias::new("m_read_to"),
        )
        .expr_as(
            Expr::col((b.clone(), ban::Column::UserId)),
            Alias::new("b_user"),
        )
        .expr_as(
            Expr::col((i.clone(), invite::Column::ExpiresAt)),
            Alias::new("i_expires"),
        )
        .from(room_row::Entity)
        .join_as(
            JoinType::LeftJoin,
            membership::Entity,
            m.clone(),
            theirs(&m),
        )
        .join_as(JoinType::LeftJoin, ban::Entity, b.clone(), theirs(&b))
        .join_as(JoinType::LeftJoin, invite::Entity, i.clone(), theirs(&i))
        .and_where(Expr::col((room_row::Entity, room_row::Column::Id)).eq(room_id.as_str()));
    let Some(row) = conn.query_one(&query).await? else {
        return Err(room_not_found().into());
    };
    let room = room_row::Model::from_query_result(&row, "")?;
    let status: Option<MembershipStatus> = row.try_get("", "m_status")?;
    let role: Option<Role> = row.try_get("", "m_role")?;
    let read_to: Option<i64> = row.try_get("", "m_read_to")?;
    let banned = row.try_get::<Option<String>>("", "b_user")?.is_some();
    let invite_expires: Option<chrono::DateTime<Utc>> = row.try_get("", "i_expires")?;
    let invited = invite_expires.is_some_and(|at| at > Utc::now());
    let active = status == Some(MembershipStatus::Active);
    let role = role.filter(|_| active);
    let read_to = read_to.filter(|_| active).map(domain::MessageId::new);
    let standing = Standing {
        status: room.status,
        policy: room.join_policy,
        membership: status,
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
