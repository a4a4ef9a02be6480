//! A room's timeline as the API shows it: stored rows into `MessageView`s, and the system
//! lines a room decision writes in its own transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::{
    effects::{self, LogKind},
    format, mention,
    message::{Deletion, FileView, MessageKind, MessageView, ReplyView},
    reaction::{self as reaction_rules, ReactionView},
    room::Event,
    FileId, MessageId, RoomId, User, UserId,
};
use entity::{file, message as row, mod_log, reaction};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    DbBackend, DbErr, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Statement,
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

/// What a message's view needs besides its row, loaded for a set of rows at once: people
/// (authors, deleters, reactors), files, the messages replies answer, and reactions.
#[derive(Default)]
pub struct Related {
    pub users: HashMap<UserId, User>,
    files: HashMap<String, file::Model>,
    originals: HashMap<i64, row::Model>,
    /// By message: (emoji, who set it) in the order set.
    reactions: HashMap<i64, Vec<(String, UserId)>>,
    /// By message: the members it mentions.
    mentions: HashMap<i64, Vec<UserId>>,
}

impl Related {
    /// Only people: for fresh messages, which hold no file view, reply or reaction yet.
    pub fn people(users: HashMap<UserId, User>) -> Self {
        Self {
            users,
            ..Self::default()
        }
    }

    /// A fresh message's mentions, with the people they name.
    pub fn with_mentions(mut self, message: i64, users: &[User]) -> Self {
        for u in users {
            self.users.insert(u.id.clone(), u.clone());
        }
        self.mentions
            .insert(message, users.iter().map(|u| u.id.clone()).collect());
        self
    }

    /// Everything `rows` refer to, in one query per kind.
    pub async fn load<C: ConnectionTrait>(conn: &C, rows: &[row::Model]) -> ServiceResult<Self> {
        let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
        let reply_ids: Vec<i64> = rows.iter().filter_map(|m| m.reply_to).collect();
        let originals: HashMap<i64, row::Model> = if reply_ids.is_empty() {
            HashMap::new()
        } else {
            row::Entity::find()
                .filter(row::Column::Id.is_in(reply_ids))
                .all(conn)
                .await?
                .into_iter()
                .map(|m| (m.id, m))
                .collect()
        };
        let mut reactions: HashMap<i64, Vec<(String, UserId)>> = HashMap::new();
        if !ids.is_empty() {
            let rows = reaction::Entity::find()
                .filter(reaction::Column::MessageId.is_in(ids.clone()))
                .order_by(reaction::Column::CreatedAt, Order::Asc)
                .all(conn)
                .await?;
            for r in rows {
                reactions
                    .entry(r.message_id)
                    .or_default()
                    .push((r.emoji, UserId::new(r.user_id)));
            }
        }
        let mentions = crate::mentions::of_messages(conn, &ids).await?;
        let people: Vec<UserId> = rows
            .iter()
            .chain(originals.values())
            .flat_map(|m| [m.author_id.clone(), m.deleted_by.clone()])
            .flatten()
            .map(UserId::new)
            .chain(reactions.values().flatten().map(|(_, u)| u.clone()))
            .chain(mentions.values().flatten().cloned())
            .collect();
        let users = users_by_ids(conn, &people).await?;
        let file_ids: Vec<String> = rows.iter().filter_map(|m| m.file_id.clone()).collect();
        let files = if file_ids.is_empty() {
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
        Ok(Self {
            users,
            files,
            originals,
            reactions,
            mentions,
        })
    }

    fn user(&self, id: Option<&String>) -> Option<User> {
        id.and_then(|id| self.users.get(&UserId::new(id.clone())).cloned())
    }

    /// The quote of the message `id` answers.
    fn reply(&self, id: i64) -> ReplyView {
        match self.originals.get(&id) {
            Some(m) => reply_view(m, self.user(m.author_id.as_ref())),
            // Gone with its room's files? Messages are never removed; this is a fault.
            None => ReplyView {
                id: MessageId::new(id),
                author: None,
                excerpt: None,
                deleted: true,
            },
        }
    }

    /// A message's reactions: one entry an emoji, most people first (then first set);
    /// `me` when `viewer` is among them.
    fn reactions(&self, id: i64, viewer: Option<&UserId>) -> Vec<ReactionView> {
        let mut out: Vec<ReactionView> = Vec::new();
        for (emoji, who) in self.reactions.get(&id).into_iter().flatten() {
            let at = match out.iter().position(|r| &r.emoji == emoji) {
                Some(at) => at,
                None => {
                    out.push(ReactionView {
                        emoji: emoji.clone(),
                        count: 0,
                        me: false,
                        users: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            let r = &mut out[at];
            r.count += 1;
            r.me |= viewer == Some(who);
            if r.users.len() < reaction_rules::NAMED_MAX {
                if let Some(u) = self.users.get(who) {
                    r.users.push(u.clone());
                }
            }
        }
        // Stable: equal counts keep the order they were first set in.
        out.sort_by_key(|r| std::cmp::Reverse(r.count));
        out
    }

    /// A stored message as the API shows it to `viewer` (`None`: a frame for the whole
    /// room). A tombstone shows no text, colour, sticker, file or reactions, whatever a row
    /// might still hold.
    pub fn view(&self, m: row::Model, viewer: Option<&UserId>) -> MessageView {
        let deleted = m.deleted_at.map(|at| Deletion {
            by: self.user(m.deleted_by.as_ref()),
            at: rfc3339(at),
            reason: m.delete_reason.clone(),
        });
        let live = deleted.is_none();
        let mentions = self
            .mentions
            .get(&m.id)
            .filter(|_| live)
            .cloned()
            .unwrap_or_default();
        let mentions_room = live && m.mentions_room;
        let formatted = (live && m.kind == MessageKind::Text)
            .then(|| {
                let mut blocks = format::parse(&m.body);
                if mentions_room || !mentions.is_empty() {
                    format::mark_mentions(&mut blocks, &|key: &str| {
                        if key == mention::ROOM {
                            return mentions_room.then_some(None);
                        }
                        mentions
                            .iter()
                            .find(|id| {
                                self.users
                                    .get(*id)
                                    .is_some_and(|u| u.username.eq_ignore_ascii_case(key))
                            })
                            .map(|id| Some(id.clone()))
                    });
                }
                blocks
            })
            .filter(|blocks| !format::is_plain(blocks));
        MessageView {
            formatted,
            file: m
                .file_id
                .as_ref()
                .filter(|_| live)
                .and_then(|id| self.files.get(id))
                .map(file_view),
            id: MessageId::new(m.id),
            seq: MessageId::new(m.seq.unwrap_or(m.id)),
            author: self.user(m.author_id.as_ref()),
            room_id: m.room_id.into(),
            kind: m.kind,
            reply_to: m.reply_to.map(|id| self.reply(id)),
            reactions: if live {
                self.reactions(m.id, viewer)
            } else {
                Vec::new()
            },
            body: live.then_some(m.body),
            color: m.color.filter(|_| live),
            sticker: m.sticker.filter(|_| live),
            created_at: rfc3339(m.created_at),
            edited_at: m.edited_at.map(rfc3339),
            deleted,
            mentions,
            mentions_room,
        }
    }
}

/// The quote of `original`, by `author`.
pub fn reply_view(original: &row::Model, author: Option<User>) -> ReplyView {
    let body = original
        .deleted_at
        .is_none()
        .then_some(original.body.as_str());
    ReplyView::of(
        MessageId::new(original.id),
        author,
        original.kind,
        body,
        original.sticker.as_deref(),
    )
}

/// Stored messages as views for `viewer`, with what they refer to in one query each.
pub async fn views_for<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<row::Model>,
    viewer: Option<&UserId>,
) -> ServiceResult<Vec<MessageView>> {
    let related = Related::load(conn, &rows).await?;
    Ok(rows.into_iter().map(|m| related.view(m, viewer)).collect())
}

/// Stored messages as views for the whole room (no `me` on reactions): what frames carry.
pub async fn views<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<row::Model>,
) -> ServiceResult<Vec<MessageView>> {
    views_for(conn, rows, None).await
}

/// A room's newest messages before `before` (exclusive; from the end when `None`), newest
/// first, at most `limit`, as `viewer` sees them.
pub async fn latest<C: ConnectionTrait>(
    conn: &C,
    room_id: &RoomId,
    before: Option<MessageId>,
    limit: u64,
    viewer: &UserId,
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
    views_for(conn, rows, Some(viewer)).await
}

/// A fresh message: its author is all it refers to.
pub fn message_view(m: row::Model, users: &HashMap<UserId, User>) -> MessageView {
    Related::people(users.clone()).view(m, None)
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
    // A changed line is a new event in the room: catch-up returns it again.
    line.seq = Set(Some(next_seq(txn).await?));
    Ok(Some(line.update(txn).await?))
}

/// The next number of the sequence message ids are drawn from, for a change to a stored
/// message: greater than every id and change before it, so a client whose cursor is past
/// neither gets the change in catch-up. Called in the write transaction that makes it.
pub async fn next_seq(txn: &DatabaseTransaction) -> Result<i64, DbErr> {
    let backend = txn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS seq",
        // `messages.id` is AUTOINCREMENT: SQLite never hands out an id at or below this.
        // A message exists (the one being changed), so its row in sqlite_sequence does.
        _ => "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'messages' RETURNING seq",
    };
    let row = txn
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| DbErr::Custom("the message sequence is missing".into()))?;
    row.try_get::<i64>("", "seq")
}

/// When `user_id`'s latest message in `room_id` was stored (deleted ones count: deleting
/// does not buy a way around slow mode). Read by its `(author_id, id)` index.
pub async fn last_post_at<C: ConnectionTrait>(
    conn: &C,
    room_id: &RoomId,
    user_id: &UserId,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    row::Entity::find()
        .select_only()
        .column(row::Column::CreatedAt)
        .filter(row::Column::AuthorId.eq(user_id.as_str()))
        .filter(row::Column::RoomId.eq(room_id.as_str()))
        .filter(row::Column::Kind.ne(MessageKind::System))
        .order_by(row::Column::Id, Order::Desc)
        .into_tuple()
        .one(conn)
        .await
}
