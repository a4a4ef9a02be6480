//! Loads what the access rule (`domain::access`) needs about one person and one room, in a
//! few point lookups whatever the room's size, and applies it.

use chrono::Utc;
use domain::{
    access::{room_not_found, Standing},
    room::{MembershipStatus, Role},
    ApiError, RoomId, UserId,
};
use entity::{ban, invite, membership, mute, room as room_row};
use sea_orm::{
    sea_query::{Alias, Condition, Expr, ExprTrait, JoinType, Query},
    ConnectionTrait, FromQueryResult, Iterable,
};

use crate::{error::ServiceResult, time::micros};
use domain::moderation::{Act, Poster};

/// One person's standing with one room, and the room's row.
pub struct Access {
    pub room: room_row::Model,
    pub standing: Standing,
    /// Their role, while they are a member.
    pub role: Option<Role>,
    /// Their read position, while they are a member.
    pub read_to: Option<domain::MessageId>,
    /// The end of a timeout in this room that has not run out.
    pub muted_until: Option<chrono::DateTime<Utc>>,
}

impl Access {
    /// What the posting rules (`domain::moderation::may_act`) need of a member.
    pub fn poster(&self, last_post_at: Option<chrono::DateTime<Utc>>) -> Option<Poster> {
        Some(Poster {
            role: self.role.filter(|_| self.standing.is_member())?,
            muted_until: self.muted_until.map(micros),
            last_post_at: last_post_at.map(micros),
        })
    }

    /// Whether `act` is allowed to this member now (`domain::moderation::may_act`); a
    /// non-member hears why they cannot post at all.
    pub fn may_act(
        &self,
        act: Act,
        last_post_at: Option<chrono::DateTime<Utc>>,
        now: chrono::DateTime<Utc>,
    ) -> ServiceResult<()> {
        self.standing.may_post()?;
        if let Some(poster) = self.poster(last_post_at) {
            domain::moderation::may_act(self.room.rules(), poster, act, micros(now))?;
        }
        Ok(())
    }
}

/// [`load_at`] on the system clock, for lookups no end time decides.
pub async fn load<C: ConnectionTrait>(
    conn: &C,
    user_id: &UserId,
    room_id: &RoomId,
) -> ServiceResult<Access> {
    load_at(conn, user_id, room_id, Utc::now()).await
}

/// What is stored about `user_id` and `room_id` at `now` (a ban or timeout that has run out
/// is over); `room_not_found` if there is no such room.
pub async fn load_at<C: ConnectionTrait>(
    conn: &C,
    user_id: &UserId,
    room_id: &RoomId,
    now: chrono::DateTime<Utc>,
) -> ServiceResult<Access> {
    // One statement, not four: every page and action of a room starts here, and each
    // statement is a hop to the database's thread and back (docs/BENCHMARKS.md, S4).
    let (m, b, i, t) = (
        Alias::new("m"),
        Alias::new("b"),
        Alias::new("i"),
        Alias::new("t"),
    );
    // Memberships, bans, invites and timeouts are each keyed by (room_id, user_id).
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
            Expr::col((b.clone(), ban::Column::Until)),
            Alias::new("b_until"),
        )
        .expr_as(
            Expr::col((i.clone(), invite::Column::ExpiresAt)),
            Alias::new("i_expires"),
        )
        .expr_as(
            Expr::col((t.clone(), mute::Column::Until)),
            Alias::new("t_until"),
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
        .join_as(JoinType::LeftJoin, mute::Entity, t.clone(), theirs(&t))
        .and_where(Expr::col((room_row::Entity, room_row::Column::Id)).eq(room_id.as_str()));
    let Some(row) = conn.query_one(&query).await? else {
        return Err(room_not_found().into());
    };
    let room = room_row::Model::from_query_result(&row, "")?;
    let status: Option<MembershipStatus> = row.try_get("", "m_status")?;
    let role: Option<Role> = row.try_get("", "m_role")?;
    let read_to: Option<i64> = row.try_get("", "m_read_to")?;
    // A timed ban that has run out no longer counts, whether or not housekeeping has
    // recorded its end yet.
    let ban_until: Option<chrono::DateTime<Utc>> = row.try_get("", "b_until")?;
    let banned = row.try_get::<Option<String>>("", "b_user")?.is_some()
        && ban_until.is_none_or(|until| until > now);
    let invite_expires: Option<chrono::DateTime<Utc>> = row.try_get("", "i_expires")?;
    let invited = invite_expires.is_some_and(|at| at > now);
    let muted_until: Option<chrono::DateTime<Utc>> = row.try_get("", "t_until")?;
    let muted_until = muted_until.filter(|until| *until > now);
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
        muted_until,
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
