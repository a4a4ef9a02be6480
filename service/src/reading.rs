//! Where each member stopped reading (docs/RULES.md §6, "Unread"): `memberships.read_to`,
//! the newest message they have read, kept on the server so it follows them across devices
//! and tabs. It only moves forward. Unread counts are the messages past it, counted by id,
//! the sequence catch-up uses, so a count never outlives the messages it counts.

use std::collections::HashMap;

use domain::{changes, message::MessageKind, room::MembershipStatus, MessageId, RoomId, UserId};
use entity::{membership, mention, message};
use sea_orm::{
    sea_query::{Expr, Query},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use crate::{
    access,
    error::ServiceResult,
    hub::{Hub, Published},
};

/// Per room of `user`'s: (messages from others past their read position, how many of
/// those mention them), in two queries. Rooms with nothing unread are absent.
pub async fn counts<C: ConnectionTrait>(
    conn: &C,
    user: &UserId,
) -> ServiceResult<HashMap<String, (u64, u64)>> {
    // Scoped here: at module level its `max` would shadow `Ord::max` on numbers.
    use sea_orm::sea_query::ExprTrait;
    let mut out: HashMap<String, (u64, u64)> = HashMap::new();
    for (room, n) in count_past_read(conn, unread_query(user)).await? {
        out.entry(room).or_default().0 = n;
    }
    // Of those, the ones naming them, or an admin's `@room`.
    let mut mentioning = unread_query(user);
    mentioning.and_where(
        Expr::col((message::Entity, message::Column::MentionsRoom))
            .eq(true)
            .or(
                Expr::col((message::Entity, message::Column::Id)).in_subquery(
                    Query::select()
                        .column(mention::Column::MessageId)
                        .from(mention::Entity)
                        .and_where(Expr::col(mention::Column::UserId).eq(user.as_str()))
                        .to_owned(),
                ),
            ),
    );
    for (room, n) in count_past_read(conn, mentioning).await? {
        out.entry(room).or_default().1 = n;
    }
    Ok(out)
}

/// The messages that count as unread for `user`, in rooms they are a member of: past their
/// read position, from someone else, not system lines, not deleted. Grouped by room.
fn unread_query(user: &UserId) -> sea_orm::sea_query::SelectStatement {
    // Scoped here: at module level its `max` would shadow `Ord::max` on numbers.
    use sea_orm::sea_query::ExprTrait;
    let (m, ms) = (message::Entity, membership::Entity);
    Query::select()
        .column((m, message::Column::RoomId))
        .expr_as(Expr::cust("COUNT(*)"), "n")
        .from(m)
        .inner_join(
            ms,
            Expr::col((ms, membership::Column::RoomId)).equals((m, message::Column::RoomId)),
        )
        .and_where(Expr::col((ms, membership::Column::UserId)).eq(user.as_str()))
        .and_where(Expr::col((ms, membership::Column::Status)).eq(MembershipStatus::Active))
        .and_where(
            Expr::col((m, message::Column::Id)).gt(Expr::cust("COALESCE(memberships.read_to, 0)")),
        )
        .and_where(Expr::col((m, message::Column::DeletedAt)).is_null())
        .and_where(Expr::col((m, message::Column::Kind)).ne(MessageKind::System))
        .and_where(Expr::col((m, message::Column::AuthorId)).ne(user.as_str()))
        .group_by_col((m, message::Column::RoomId))
        .to_owned()
}

async fn count_past_read<C: ConnectionTrait>(
    conn: &C,
    query: sea_orm::sea_query::SelectStatement,
) -> ServiceResult<Vec<(String, u64)>> {
    conn.query_all(&query)
        .await?
        .iter()
        .map(|r| {
            let n: i64 = r.try_get("", "n")?;
            Ok((
                r.try_get::<String>("", "room_id")?,
                u64::try_from(n).unwrap_or(0),
            ))
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(Into::into)
}

/// Moves `user`'s read position in `room_id` forward to `message_id`, a message of that
/// room; true if it moved (then their sockets everywhere are told). A position already
/// past it stays: two tabs reading at once leave the further one.
pub async fn mark_read<C: ConnectionTrait>(
    conn: &C,
    hub: &dyn Hub,
    user: &UserId,
    room_id: &RoomId,
    message_id: MessageId,
) -> ServiceResult<bool> {
    access::require_member(conn, user, room_id).await?;
    let in_room = message::Entity::find_by_id(message_id.get())
        .one(conn)
        .await?
        .is_some_and(|m| m.room_id == room_id.as_str());
    if !in_room {
        return Err(changes::not_found().into());
    }
    // One statement: whichever of two racing reads commits last cannot move it back.
    let moved = membership::Entity::update_many()
        .col_expr(membership::Column::ReadTo, Expr::value(message_id.get()))
        .filter(membership::Column::RoomId.eq(room_id.as_str()))
        .filter(membership::Column::UserId.eq(user.as_str()))
        .filter(membership::Column::Status.eq(MembershipStatus::Active))
        .filter(
            sea_orm::Condition::any()
                .add(membership::Column::ReadTo.is_null())
                .add(membership::Column::ReadTo.lt(message_id.get())),
        )
        .exec(conn)
        .await?
        .rows_affected
        > 0;
    if moved {
        hub.publish(Published::Read {
            user_id: user.clone(),
            room_id: room_id.clone(),
            message_id,
        });
    }
    Ok(moved)
}
