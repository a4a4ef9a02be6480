//! Mentions (docs/RULES.md §6, "Mentions"): the `@name`s of a message resolved to members
//! of its room when the text is stored, kept by id in `mentions`, and a notification for
//! each person newly named, written in the transaction that stores the text. A deleted
//! message takes its mentions and their notifications with it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::{
    effects::NotificationKind,
    format,
    mention::{self, Mentions},
    room::MembershipStatus,
    User, UserId,
};
use entity::{membership, mention as row, message, notification, room as room_row, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QuerySelect,
};

use crate::ids::new_id;

/// What a stored text mentions: the members named (with their names, for its view) and
/// whether it is an admin's `@room`.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub mentions: Mentions,
    pub users: Vec<User>,
}

/// Resolves the `@name`s of `body`, written by `author` in `room_id`, against the room's
/// active members, in `txn`.
pub async fn resolve(
    txn: &DatabaseTransaction,
    room_id: &str,
    author: &UserId,
    body: &str,
) -> Result<Resolved, DbErr> {
    // Most messages name no one: no parse, no query.
    if !body.contains('@') {
        return Ok(Resolved::default());
    }
    let keys = mention::keys(format::mention_keys(&format::parse(body)));
    if keys.is_empty() {
        return Ok(Resolved::default());
    }
    let named: Vec<user::Model> = if keys.iter().all(|k| k == mention::ROOM) {
        Vec::new()
    } else {
        let named = user::Entity::find()
            .filter(user::Column::UsernameKey.is_in(keys.iter().cloned()))
            .filter(user::Column::DeletedAt.is_null())
            .all(txn)
            .await?;
        // Members only: a name of someone outside the room mentions no one.
        let members: HashSet<String> = membership::Entity::find()
            .select_only()
            .column(membership::Column::UserId)
            .filter(membership::Column::RoomId.eq(room_id))
            .filter(membership::Column::Status.eq(MembershipStatus::Active))
            .filter(membership::Column::UserId.is_in(named.iter().map(|u| u.id.clone())))
            .into_tuple::<String>()
            .all(txn)
            .await?
            .into_iter()
            .collect();
        named
            .into_iter()
            .filter(|u| members.contains(&u.id))
            .collect()
    };
    let author_is_admin = keys.iter().any(|k| k == mention::ROOM)
        && membership::Entity::find_by_id((room_id.to_owned(), author.to_string()))
            .one(txn)
            .await?
            .is_some_and(|m| m.status == MembershipStatus::Active && m.role.is_admin());
    let by_key: HashMap<&str, &user::Model> =
        named.iter().map(|u| (u.username_key.as_str(), u)).collect();
    let mentions = mention::resolve(
        &keys,
        |k| by_key.get(k).map(|u| UserId::new(u.id.clone())),
        author,
        author_is_admin,
    );
    let users = mentions
        .users
        .iter()
        .filter_map(|id| named.iter().find(|u| u.id == id.as_str()))
        .cloned()
        .map(crate::users::to_user)
        .collect();
    Ok(Resolved { mentions, users })
}

/// Stores what `message` mentions now (replacing what an earlier version mentioned) and
/// writes a notification for each person it names who has none for it yet: one per
/// message and person, whatever edits come after. The notifications written, to publish
/// once the transaction commits.
pub async fn store(
    txn: &DatabaseTransaction,
    message: &message::Model,
    mentions: &Mentions,
    now: DateTime<Utc>,
) -> Result<Vec<notification::Model>, DbErr> {
    row::Entity::delete_many()
        .filter(row::Column::MessageId.eq(message.id))
        .filter(row::Column::UserId.is_not_in(mentions.users.iter().map(UserId::as_str)))
        .exec(txn)
        .await?;
    // The room is locked: what is stored now is what this transaction sees.
    let held = of_messages(txn, &[message.id])
        .await?
        .remove(&message.id)
        .unwrap_or_default();
    let fresh: Vec<row::ActiveModel> = mentions
        .users
        .iter()
        .filter(|id| !held.contains(id))
        .map(|id| row::ActiveModel {
            message_id: sea_orm::ActiveValue::Set(message.id),
            user_id: sea_orm::ActiveValue::Set(id.to_string()),
        })
        .collect();
    if !fresh.is_empty() {
        row::Entity::insert_many(fresh)
            .exec_without_returning(txn)
            .await?;
    }
    let Some(author) = message.author_id.clone().map(UserId::new) else {
        return Ok(Vec::new());
    };
    let members: Vec<UserId> = if mentions.room {
        membership::Entity::find()
            .select_only()
            .column(membership::Column::UserId)
            .filter(membership::Column::RoomId.eq(message.room_id.as_str()))
            .filter(membership::Column::Status.eq(MembershipStatus::Active))
            .into_tuple::<String>()
            .all(txn)
            .await?
            .into_iter()
            .map(UserId::new)
            .collect()
    } else {
        Vec::new()
    };
    let already: Vec<UserId> = notification::Entity::find()
        .select_only()
        .column(notification::Column::UserId)
        .filter(notification::Column::MessageId.eq(message.id))
        .filter(notification::Column::Kind.eq(NotificationKind::Mention))
        .into_tuple::<String>()
        .all(txn)
        .await?
        .into_iter()
        .map(UserId::new)
        .collect();
    let to_notify = mention::to_notify(mentions, &members, &author, &already);
    if to_notify.is_empty() {
        return Ok(Vec::new());
    }
    let room_name = room_row::Entity::find_by_id(message.room_id.clone())
        .one(txn)
        .await?
        .map(|r| r.name);
    let rows: Vec<notification::Model> = to_notify
        .into_iter()
        .map(|user| notification::Model {
            id: new_id(),
            user_id: user.into_string(),
            kind: NotificationKind::Mention,
            room_id: Some(message.room_id.clone()),
            room_name: room_name.clone(),
            actor_id: Some(author.to_string()),
            reason: None,
            created_at: now,
            read_at: None,
            message_id: Some(message.id),
        })
        .collect();
    // In slices: a room-wide mention in a big room is many rows, and every database has a
    // bound on one statement's parameters.
    for chunk in rows.chunks(500) {
        notification::Entity::insert_many(
            chunk.iter().cloned().map(notification::ActiveModel::from),
        )
        .exec_without_returning(txn)
        .await?;
    }
    Ok(rows)
}

/// A deleted message mentions no one: its mentions and their notifications go.
pub async fn forget(txn: &DatabaseTransaction, message_id: i64) -> Result<(), DbErr> {
    row::Entity::delete_many()
        .filter(row::Column::MessageId.eq(message_id))
        .exec(txn)
        .await?;
    notification::Entity::delete_many()
        .filter(notification::Column::MessageId.eq(message_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Who the messages `ids` mention, by message, in one query.
pub async fn of_messages<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<UserId>>, DbErr> {
    let mut out: HashMap<i64, Vec<UserId>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let unique: HashSet<i64> = ids.iter().copied().collect();
    for r in row::Entity::find()
        .filter(row::Column::MessageId.is_in(unique))
        .all(conn)
        .await?
    {
        out.entry(r.message_id)
            .or_default()
            .push(UserId::new(r.user_id));
    }
    Ok(out)
}
