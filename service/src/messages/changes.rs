//! Changes to a sent message (docs/RULES.md §6, "After sending"): edit, delete and reading
//! earlier versions. Each change is decided by `domain::changes::decide` in the transaction
//! that stores it, under the room's lock, takes the next number of the message sequence
//! (so catch-up returns it), and reaches the room as one `message_updated` frame.

use chrono::{DateTime, Utc};
use domain::{
    changes::{self, Allowed, Change, Target},
    message::{MessageBody, MessageVersion, MessageView},
    reaction::{self as reaction_rules, Emoji},
    room::{parse_reason, MembershipStatus, Role},
    vocab::LogKind,
    MessageId, ReportId, RoomId, User, UserId,
};
use entity::{file, membership, message as row, message_version as version, mod_log, reaction};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::Messages;
use crate::{
    access,
    error::ServiceResult,
    hub::Published,
    limits::Action,
    settle::Settle,
    time::rfc3339,
    timeline::{next_seq, Related},
    tx::{begin_write, lock_rooms},
};

/// A message and what the rules allow its changer to do to it, inside a write transaction.
struct Loaded {
    txn: DatabaseTransaction,
    message: row::Model,
    allowed: Allowed,
}

impl Messages {
    /// Replaces the text of `actor`'s own message, keeping the text it replaces.
    pub async fn edit(
        &self,
        actor: &User,
        message_id: MessageId,
        body: &str,
    ) -> ServiceResult<MessageView> {
        let body = MessageBody::parse(body)?;
        // An edit reaches everyone in the room like a send, so it costs like one.
        self.check_rate(&actor.id).await?;
        let Loaded { txn, message, .. } = self.load(&actor.id, message_id, Change::Edit).await?;
        if message.body == body.as_str() {
            // Nothing changed: no version, no event.
            txn.commit().await?;
            return self.view(message, Some(&actor.id)).await;
        }
        let now = Utc::now();
        version::Entity::insert(version::ActiveModel {
            message_id: Set(message.id),
            body: Set(message.body.clone()),
            written_at: Set(message.edited_at.unwrap_or(message.created_at)),
            ..Default::default()
        })
        .exec_without_returning(&txn)
        .await?;
        // Mentions follow the text: whoever it names now, and a notification for anyone it
        // names for the first time.
        let resolved =
            crate::mentions::resolve(&txn, &message.room_id, &actor.id, body.as_str()).await?;
        let mut edited: row::ActiveModel = message.into();
        // The index follows the text in this transaction: only the current text is found.
        edited.search_text = Set(domain::search::index_text(body.as_str()));
        edited.body = Set(body.into_string());
        edited.edited_at = Set(Some(now));
        edited.mentions_room = Set(resolved.mentions.room);
        edited.seq = Set(Some(next_seq(&txn).await?));
        let edited = edited.update(&txn).await?;
        let notified = crate::mentions::store(&txn, &edited, &resolved.mentions, now).await?;
        txn.commit().await?;
        super::publish_notifications(self.hub.as_ref(), actor, &notified);
        self.publish_change(edited, &actor.id).await
    }

    /// Deletes a message: its author's own, or, by a room admin, someone else's (logged,
    /// with the reason). A tombstone keeps its place, id and time; its text, versions,
    /// reactions and file are removed, the file from the disk too when no other message
    /// uses it.
    pub async fn delete(
        &self,
        actor: &User,
        message_id: MessageId,
        reason: Option<&str>,
    ) -> ServiceResult<MessageView> {
        self.delete_settling(actor, message_id, reason, None).await
    }

    /// [`Self::delete`], resolving a report in the same transaction when `settle` names
    /// one: the log entry carries the report's id, and a refusal leaves the report open.
    pub(crate) async fn delete_settling(
        &self,
        actor: &User,
        message_id: MessageId,
        reason: Option<&str>,
        settle: Option<&Settle>,
    ) -> ServiceResult<MessageView> {
        let reason = parse_reason(reason)?;
        let Loaded {
            txn,
            message,
            allowed,
        } = self.load(&actor.id, message_id, Change::Delete).await?;
        let now = Utc::now();
        let (room_id, author_id) = (message.room_id.clone(), message.author_id.clone());
        // The author's own delete needs no reason: it is theirs to take back.
        let kept_reason = reason.clone().filter(|_| allowed == Allowed::ByAdmin);
        let (tomb, unused) = tombstone(&txn, message, &actor.id, kept_reason, now).await?;
        if let Some(settle) = settle {
            settle.claim(&txn, now).await?;
        }
        // A delete from a report is logged even when it is the owner's own message.
        if allowed == Allowed::ByAdmin || settle.is_some() {
            let entry = Deletion {
                room_id: &room_id,
                actor: &actor.id,
                author: author_id,
                reason,
                report_id: settle.map(|s| &s.id),
            };
            log_deletion(&txn, entry, now).await?;
        }
        txn.commit().await?;
        if let (Some(id), Some(dir)) = (unused, &self.files_dir) {
            // Nobody can fetch it any more (its row is gone); bytes left behind are only space.
            if let Err(e) = crate::housekeeping::remove_stored_file(dir, &id) {
                tracing::warn!(error = %e, file_id = %id, "could not remove a deleted message's file");
            }
        }
        self.publish_change(tomb, &actor.id).await
    }

    /// Sets (`on`) or takes back `actor`'s `emoji` on a message. Setting one already set,
    /// or taking back one not set, changes nothing and tells no one.
    pub async fn react(
        &self,
        actor: &User,
        message_id: MessageId,
        emoji: &str,
        on: bool,
    ) -> ServiceResult<MessageView> {
        let emoji = Emoji::parse(emoji)?;
        self.limits.check(Action::React, &actor.id).await?;
        let Loaded { txn, message, .. } = self.load(&actor.id, message_id, Change::React).await?;
        let key = (message.id, actor.id.to_string(), emoji.as_str().to_owned());
        let held = reaction::Entity::find_by_id(key.clone())
            .one(&txn)
            .await?
            .is_some();
        if held == on {
            txn.commit().await?;
            return self.view(message, Some(&actor.id)).await;
        }
        if on {
            let distinct: Vec<String> = reaction::Entity::find()
                .select_only()
                .column(reaction::Column::Emoji)
                .distinct()
                .filter(reaction::Column::MessageId.eq(message.id))
                .into_tuple()
                .all(&txn)
                .await?;
            reaction_rules::may_add(&distinct, &emoji)?;
            reaction::Entity::insert(reaction::ActiveModel {
                message_id: Set(message.id),
                user_id: Set(actor.id.to_string()),
                emoji: Set(emoji.as_str().to_owned()),
                created_at: Set(Utc::now()),
            })
            .exec_without_returning(&txn)
            .await?;
        } else {
            reaction::Entity::delete_by_id(key).exec(&txn).await?;
        }
        let mut changed: row::ActiveModel = message.into();
        changed.seq = Set(Some(next_seq(&txn).await?));
        let changed = changed.update(&txn).await?;
        txn.commit().await?;
        self.publish_change(changed, &actor.id).await
    }

    /// A message's texts, oldest first, the current one last: for its author and the room's
    /// admins. A tombstone has none left.
    pub async fn versions(
        &self,
        actor: &UserId,
        message_id: MessageId,
    ) -> ServiceResult<Vec<MessageVersion>> {
        let (message, _) = self
            .decide(&self.db, actor, message_id, Change::Versions)
            .await?;
        let earlier = version::Entity::find()
            .filter(version::Column::MessageId.eq(message.id))
            .order_by(version::Column::Id, Order::Asc)
            .all(&self.db)
            .await?;
        let current = MessageVersion {
            at: rfc3339(message.edited_at.unwrap_or(message.created_at)),
            body: message.body,
        };
        Ok(earlier
            .into_iter()
            .map(|v| MessageVersion {
                body: v.body,
                at: rfc3339(v.written_at),
            })
            .chain([current])
            .collect())
    }

    /// Opens a write transaction, locks the message's room and decides the change there.
    async fn load(
        &self,
        actor: &UserId,
        message_id: MessageId,
        change: Change,
    ) -> ServiceResult<Loaded> {
        let Some(room_id) = row::Entity::find_by_id(message_id.get())
            .one(&self.db)
            .await?
            .map(|m| RoomId::new(m.room_id))
        else {
            return Err(changes::not_found().into());
        };
        let txn = begin_write(&self.db).await?;
        lock_rooms(&txn, [&room_id]).await?;
        let (message, allowed) = self.decide(&txn, actor, message_id, change).await?;
        Ok(Loaded {
            txn,
            message,
            allowed,
        })
    }

    /// The message as it is in `conn`, and whether `actor` may make `change` to it.
    async fn decide<C: sea_orm::ConnectionTrait>(
        &self,
        conn: &C,
        actor: &UserId,
        message_id: MessageId,
        change: Change,
    ) -> ServiceResult<(row::Model, Allowed)> {
        let Some(message) = row::Entity::find_by_id(message_id.get()).one(conn).await? else {
            return Err(changes::not_found().into());
        };
        let room_id = RoomId::new(message.room_id.clone());
        let now = self.clock.now();
        let access = access::load_at(conn, actor, &room_id, now).await?;
        // A member of an active room; anyone else sees no message at all.
        let actor_role = access.role.filter(|_| access.standing.may_post().is_ok());
        let author = message.author_id.clone().map(UserId::new);
        let author_role = match &author {
            Some(author) => role_of(conn, author, &room_id).await?,
            None => None,
        };
        let target = Target {
            author: author.as_ref(),
            kind: message.kind,
            deleted: message.deleted_at.is_some(),
            author_role,
        };
        let allowed = changes::decide(actor, actor_role, &target, change)?;
        // A timeout or an announcement room binds edits and reactions as it binds sends.
        let act = match change {
            Change::Edit => Some(domain::moderation::Act::Edit),
            Change::React => Some(domain::moderation::Act::React),
            Change::Delete | Change::Versions => None,
        };
        if let Some(act) = act {
            access.may_act(act, None, now)?;
        }
        Ok((message, allowed))
    }

    /// The changed message as it is now, to everyone in its room; as `actor` sees it, for
    /// their answer (`me` on reactions).
    async fn publish_change(
        &self,
        message: row::Model,
        actor: &UserId,
    ) -> ServiceResult<MessageView> {
        let related = Related::load(&self.db, std::slice::from_ref(&message)).await?;
        self.hub.publish(Published::MessageUpdated {
            message: Box::new(related.view(message.clone(), None)),
        });
        Ok(related.view(message, Some(actor)))
    }
}

/// `user_id`'s role in `room_id`, while an active member.
pub(crate) async fn role_of<C: sea_orm::ConnectionTrait>(
    conn: &C,
    user_id: &UserId,
    room_id: &RoomId,
) -> ServiceResult<Option<Role>> {
    Ok(
        membership::Entity::find_by_id((room_id.to_string(), user_id.to_string()))
            .one(conn)
            .await?
            .filter(|m| m.status == MembershipStatus::Active)
            .map(|m| m.role),
    )
}

/// Turns `message` into a tombstone deleted by `by` (with `reason`, an admin's): it keeps
/// its place, id and time; its text, versions, reactions, mentions and file go, and it takes
/// the next sequence number so catch-up returns it. Also the file's id when no message uses
/// it any more, to remove from the disk once the transaction commits.
pub(crate) async fn tombstone(
    txn: &DatabaseTransaction,
    message: row::Model,
    by: &UserId,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> ServiceResult<(row::Model, Option<String>)> {
    version::Entity::delete_many()
        .filter(version::Column::MessageId.eq(message.id))
        .exec(txn)
        .await?;
    reaction::Entity::delete_many()
        .filter(reaction::Column::MessageId.eq(message.id))
        .exec(txn)
        .await?;
    crate::mentions::forget(txn, message.id).await?;
    let file_id = message.file_id.clone();
    let mut tomb: row::ActiveModel = message.into();
    tomb.body = Set(String::new());
    tomb.search_text = Set(None);
    tomb.color = Set(None);
    tomb.sticker = Set(None);
    tomb.file_id = Set(None);
    tomb.edited_at = Set(None);
    tomb.mentions_room = Set(false);
    tomb.deleted_at = Set(Some(now));
    tomb.deleted_by = Set(Some(by.to_string()));
    tomb.delete_reason = Set(reason);
    tomb.seq = Set(Some(next_seq(txn).await?));
    let tomb = tomb.update(txn).await?;
    let unused = match file_id {
        Some(id) => drop_unused_file(txn, &id).await?,
        None => None,
    };
    Ok((tomb, unused))
}

/// Ban and purge (docs/RULES.md §5): `author`'s messages in `room_id` sent at or after
/// `since`, not yet deleted, become tombstones deleted by `by` with the ban's reason, in
/// the ban's transaction. System lines are not theirs and stay. The tombstones, and the
/// files no message uses any more.
pub(crate) async fn purge(
    txn: &DatabaseTransaction,
    room_id: &RoomId,
    author: &UserId,
    since: DateTime<Utc>,
    by: &UserId,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> ServiceResult<(Vec<row::Model>, Vec<String>)> {
    let doomed = row::Entity::find()
        .filter(row::Column::RoomId.eq(room_id.as_str()))
        .filter(row::Column::AuthorId.eq(author.as_str()))
        .filter(row::Column::Kind.ne(domain::message::MessageKind::System))
        .filter(row::Column::DeletedAt.is_null())
        .filter(row::Column::CreatedAt.gte(since))
        .order_by(row::Column::Id, Order::Asc)
        .all(txn)
        .await?;
    let (mut tombs, mut unused) = (Vec::with_capacity(doomed.len()), Vec::new());
    for message in doomed {
        let (tomb, file) = tombstone(txn, message, by, reason.clone(), now).await?;
        tombs.push(tomb);
        unused.extend(file);
    }
    Ok((tombs, unused))
}

/// Removes the file row when no message uses it any more; its id, to remove from the disk
/// once the transaction commits.
async fn drop_unused_file(
    txn: &DatabaseTransaction,
    file_id: &str,
) -> ServiceResult<Option<String>> {
    let still_used = row::Entity::find()
        .filter(row::Column::FileId.eq(file_id))
        .one(txn)
        .await?
        .is_some();
    if still_used {
        return Ok(None);
    }
    file::Entity::delete_by_id(file_id.to_owned())
        .exec(txn)
        .await?;
    Ok(Some(file_id.to_owned()))
}

/// An admin's delete, as the moderation log keeps it.
struct Deletion<'a> {
    room_id: &'a str,
    actor: &'a UserId,
    author: Option<String>,
    reason: Option<String>,
    /// The report it resolved, if it came from one.
    report_id: Option<&'a ReportId>,
}

async fn log_deletion(
    txn: &DatabaseTransaction,
    entry: Deletion<'_>,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    mod_log::Entity::insert(mod_log::ActiveModel {
        room_id: Set(entry.room_id.to_owned()),
        kind: Set(LogKind::MessageDeleted),
        actor_id: Set(Some(entry.actor.to_string())),
        target_id: Set(entry.author),
        reason: Set(entry.reason),
        created_at: Set(now),
        report_id: Set(entry.report_id.map(ReportId::to_string)),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}
