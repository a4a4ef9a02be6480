//! A room's timeline as the API shows it: stored rows into `MessageView`s, and the system
//! lines a room decision writes in its own transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::{
    effects::{self, LogKind},
    message::{FileView, MessageKind, MessageView},
    room::Event,
    FileId, MessageId, RoomId, User, UserId,
};
use entity::{file, message as row, mod_log};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
};

use crate::{error::ServiceResult, time::rfc3339, users::users_by_ids};

pub fn file_view(f: &file::Model) -> FileView {
    FileView {
        id: FileId::from(f.id.clone()),
        name: f.name.clone(),
        size: u64::try_from(f.size).unwrap_or(0),
        content_type: f.content_type.clone(),
    }
}

/// A stored message with its author (from `users`) and file (from `files`).
pub fn message_view_with(
    m: row::Model,
    users: &HashMap<UserId, User>,
    files: &HashMap<String, file::Model>,
) -> MessageView {
    MessageView {
        file: m
            .file_id
            .as_ref()
            .and_then(|id| files.get(id))
            .map(file_view),
        id: MessageId::new(m.id),
        author: m
            .author_id
            .and_then(|id| users.get(&UserId::new(id)).cloned()),
        room_id: m.room_id.into(),
        kind: m.kind,
        body: m.body,
        color: m.color,
        sticker: m.sticker,
        created_at: rfc3339(m.created_at),
    }
}

/// Stored messages as views, with their authors and files in one query each.
pub async fn views<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<row::Model>,
) -> ServiceResult<Vec<MessageView>> {
    let ids: Vec<UserId> = rows
        .iter()
        .filter_map(|m| m.author_id.clone().map(UserId::new))
        .collect();
    let users = users_by_ids(conn, &ids).await?;
    let file_ids: Vec<String> = rows.iter().filter_map(|m| m.file_id.clone()).collect();
    let files: HashMap<String, file::Model> = if file_ids.is_empty() {
        HashMap::new()
    } else {
        file::Entity::find()
            .filter(file::Column::Id.is_in(file_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|f| (f.id.clone(), f))
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|m| message_view_with(m, &users, &files))
        .collect())
}

/// A room's newest messages before `before` (exclusive; from the end when `None`), newest
/// first, at most `limit`.
pub async fn latest<C: ConnectionTrait>(
    conn: &C,
    room_id: &RoomId,
    before: Option<MessageId>,
    limit: u64,
) -> ServiceResult<Vec<MessageView>> {
    let mut find = row::Entity::find().filter(row::Column::RoomId.eq(room_id.as_str()));
    if let Some(before) = before {
        find = find.filter(row::Column::Id.lt(before.get()));
    }
    let rows = find
        .order_by(row::Column::Id, Order::Desc)
        .limit(limit)
        .all(conn)
        .await?;
    views(conn, rows).await
}

/// A stored message without a file.
pub fn message_view(m: row::Model, users: &HashMap<UserId, User>) -> MessageView {
    message_view_with(m, users, &HashMap::new())
}

/// Stores the system lines of `events` in the room decision's own transaction. Someone
/// joining or leaving again soon after their last join or leave, with nothing said in the
/// room since, changes that line ("ann joined and left") instead of adding one: a person
/// coming and going cannot fill the timeline. A changed line keeps its id, so clients
/// replace it. The moderation log keeps every entry.
pub async fn insert_system_lines(
    txn: &DatabaseTransaction,
    room_id: &RoomId,
    events: &[Event],
    users: &HashMap<UserId, User>,
    now: DateTime<Utc>,
) -> ServiceResult<Vec<row::Model>> {
    let name = |id: &UserId| {
        users
            .get(id)
            .map_or_else(|| "someone".to_owned(), |u| u.username.clone())
    };
    let mut stored = Vec::new();
    for event in events {
        let Some(line) = effects::system_line(event, &name) else {
            continue;
        };
        let subject = effects::coming_or_going(event);
        if let Some((user, came)) = subject {
            if let Some(folded) = fold_into_last(txn, room_id, user, came, &name(user), now).await?
            {
                stored.push(folded);
                continue;
            }
        }
        let saved = row::Entity::insert(row::ActiveModel {
            room_id: Set(room_id.to_string()),
            author_id: Set(None),
            kind: Set(MessageKind::System),
            body: Set(line),
            subject_id: Set(subject.map(|(user, _)| user.to_string())),
            created_at: Set(now),
            ..Default::default()
        })
        .exec_with_returning(txn)
        .await?;
        stored.push(saved);
    }
    Ok(stored)
}

/// Folds `user`'s join (`came`) or leave into the room's newest message, if that is their
/// own join or leave line from the last [`effects::FOLD_WINDOW_SECS`]; the line as it is now.
async fn fold_into_last(
    txn: &DatabaseTransaction,
    room_id: &RoomId,
    user: &UserId,
    came: bool,
    name: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Option<row::Model>> {
    let Some(newest) = row::Entity::find()
        .filter(row::Column::RoomId.eq(room_id.as_str()))
        .order_by(row::Column::Id, Order::Desc)
        .one(txn)
        .await?
    else {
        return Ok(None);
    };
    let recent = now - newest.created_at < chrono::Duration::seconds(effects::FOLD_WINDOW_SECS);
    if newest.subject_id.as_deref() != Some(user.as_str()) || !recent {
        return Ok(None);
    }
    // The run since that line, as the log has it (this event's entry included).
    let run = mod_log::Entity::find()
        .filter(mod_log::Column::RoomId.eq(room_id.as_str()))
        .filter(mod_log::Column::TargetId.eq(user.as_str()))
        .filter(mod_log::Column::Kind.is_in([LogKind::Joined, LogKind::Left]))
        .filter(mod_log::Column::CreatedAt.gte(newest.created_at))
        .order_by(mod_log::Column::Id, Order::Asc)
        .all(txn)
        .await?;
    let first_came = run.first().is_none_or(|e| e.kind == LogKind::Joined);
    let body = effects::folded_line(name, first_came, came, run.len().max(2));
    let mut line: row::ActiveModel = newest.into();
    line.body = Set(body);
    Ok(Some(line.update(txn).await?))
}
