//! A room's timeline as the API shows it: stored rows into `MessageView`s, and the system
//! lines a room decision writes in its own transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::{
    effects,
    message::{FileView, MessageKind, MessageView},
    room::Event,
    FileId, MessageId, RoomId, User, UserId,
};
use entity::{file, message as row};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect,
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

/// Stores the system lines of `events` in the room decision's own transaction.
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
    for line in events.iter().filter_map(|e| effects::system_line(e, &name)) {
        let saved = row::Entity::insert(row::ActiveModel {
            room_id: Set(room_id.to_string()),
            author_id: Set(None),
            kind: Set(MessageKind::System),
            body: Set(line),
            created_at: Set(now),
            ..Default::default()
        })
        .exec_with_returning(txn)
        .await?;
        stored.push(saved);
    }
    Ok(stored)
}
