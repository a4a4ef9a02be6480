//! Messages (docs/RULES.md §6): send (membership, validation, rate limit, store, publish,
//! ack), history newest-first by cursor, and catch-up after a reconnect.
//!
//! Stores go through one writer task that batches whatever sends are waiting into a single
//! transaction (group commit): a durable commit costs milliseconds on a real disk, and one
//! commit for many messages is what lets a busy room keep up.

use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
    time::Duration,
};

use chrono::{DateTime, Utc};
use domain::{
    message::{Content, FileView, MessageKind, MessageView, Outgoing, ReplyView, HISTORY_PAGE},
    moderation::{Poster, RoomRules},
    room::{MembershipStatus, RoomStatus},
    ApiError, ErrorCode, FileId, MessageId, RoomId, User, UserId,
};
use entity::{file, membership, message as row, mute, room as room_row};
use sea_orm::{
    sea_query::{Expr, OnConflict, Query},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    Order, QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::{mpsc, oneshot};

use crate::{
    access,
    error::ServiceResult,
    hub::{Hub, Posted, Published},
    limits::{Action, ActionLimits, Bucket, Shared},
    mentions,
    time::{micros, Clock},
    timeline::{self, file_view, message_view},
    tx::{begin_write, lock_rooms},
    ServiceError,
};

pub(crate) mod changes;
mod search;

pub use search::{Around, SearchPage, SearchRequest};

pub const HISTORY_MAX: u64 = 100;
pub use domain::message::SINCE_MAX;

#[derive(Debug, Clone)]
pub struct SendLimits {
    /// Messages a user may send at once.
    pub burst: u32,
    /// Then one more per this long.
    pub period: Duration,
    /// The most sends one commit carries (1 turns group commit off).
    pub max_batch: usize,
}

impl Default for SendLimits {
    fn default() -> Self {
        Self {
            burst: 5,
            period: Duration::from_secs(1),
            max_batch: 256,
        }
    }
}

/// A stored message, whether this send stored it (false: a retry of a stored one), and
/// the quote of the message it answers.
struct StoredSend {
    model: row::Model,
    fresh: bool,
    reply: Option<ReplyView>,
    /// The members it mentions.
    mentioned: Vec<User>,
    /// The mention notifications it wrote, to publish once committed.
    notified: Vec<entity::notification::Model>,
}

impl StoredSend {
    fn view(&self, author: &User) -> MessageView {
        let users = HashMap::from([(author.id.clone(), author.clone())]);
        let mut view = timeline::Related::people(users)
            .with_mentions(self.model.id, &self.mentioned)
            .view(self.model.clone(), None);
        view.reply_to = self.reply.clone();
        view
    }
}

type Stored = Result<StoredSend, ServiceError>;

/// A send the writer has taken; [`Queued::stored`] waits for its transaction.
pub struct Queued {
    author: User,
    stored: oneshot::Receiver<Stored>,
}

impl Queued {
    /// The stored message (or, for a retry, the one stored before), once committed.
    pub async fn stored(self) -> ServiceResult<MessageView> {
        let stored = self
            .stored
            .await
            .map_err(|_| ServiceError::Internal("message writer dropped a send".into()))??;
        Ok(stored.view(&self.author))
    }
}

struct WriteJob {
    author: User,
    send: Outgoing,
    reply: oneshot::Sender<Stored>,
    /// When it was handed to the writer (the send-to-store latency metric).
    queued_at: std::time::Instant,
}

#[derive(Clone)]
pub struct Messages {
    db: DatabaseConnection,
    hub: Arc<dyn Hub>,
    writer: mpsc::Sender<WriteJob>,
    limiter: Arc<Bucket>,
    shared: Shared,
    limits: ActionLimits,
    /// Where uploads are stored by id: a deleted message's file goes from here too.
    files_dir: Option<std::path::PathBuf>,
    /// What timeouts and slow mode are measured by.
    clock: Clock,
}

impl Messages {
    /// Starts the writer task on the current runtime.
    pub fn new(db: DatabaseConnection, hub: Arc<dyn Hub>, limits: SendLimits) -> Self {
        Self::with_clock(db, hub, limits, Clock::default())
    }

    /// Starts the writer task, measuring timeouts and slow mode by `clock`.
    pub fn with_clock(
        db: DatabaseConnection,
        hub: Arc<dyn Hub>,
        limits: SendLimits,
        clock: Clock,
    ) -> Self {
        let (writer, jobs) = mpsc::channel(4096);
        tokio::spawn(write_loop(
            db.clone(),
            hub.clone(),
            jobs,
            limits.max_batch.max(1),
            clock.clone(),
        ));
        Self {
            db,
            hub,
            writer,
            limiter: Arc::new(Bucket::new("send", limits.burst, limits.period)),
            shared: None,
            limits: ActionLimits::default(),
            files_dir: None,
            clock,
        }
    }

    /// Counts every send in the instances' shared buckets too, so a user's sockets on
    /// several instances share one allowance.
    pub fn shared_with(mut self, shared: Shared) -> Self {
        self.shared = shared;
        self
    }

    /// Where uploads are stored, so deleting a message removes its file from the disk.
    pub fn with_files(mut self, dir: std::path::PathBuf) -> Self {
        self.files_dir = Some(dir);
        self
    }

    /// Per-user limits on catch-up (`Action::CatchUp`).
    pub fn with_limits(mut self, limits: ActionLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Takes one message from `user_id`'s allowance, or says how long to wait.
    async fn check_rate(&self, user_id: &UserId) -> ServiceResult<()> {
        self.limiter
            .take(user_id, &self.shared)
            .await
            .map_err(|wait| {
                let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
                ApiError::rate_limited(ms).into()
            })
    }

    /// Stores and publishes a message; a repeated client id gets the stored message back.
    pub async fn send(&self, author: &User, send: Outgoing) -> ServiceResult<MessageView> {
        self.queue(author, send).await?.stored().await
    }

    /// Charges a send to its author's rate and hands it to the writer, without waiting for
    /// it to be stored: a socket can then read its next frame while this one commits. Sends
    /// queued in order are stored in that order (the writer takes them one channel in turn).
    /// Whether the author may post there is decided once, by the writer, in the transaction
    /// that stores it.
    pub async fn queue(&self, author: &User, send: Outgoing) -> ServiceResult<Queued> {
        self.check_rate(&author.id).await?;
        let (reply, stored) = oneshot::channel();
        let job = WriteJob {
            author: author.clone(),
            send,
            reply,
            queued_at: std::time::Instant::now(),
        };
        self.writer
            .send(job)
            .await
            .map_err(|_| ServiceError::Internal("message writer stopped".into()))?;
        Ok(Queued {
            author: author.clone(),
            stored,
        })
    }

    /// Lets an upload begin: `user_id` is a member of `room_id`, and the file is charged to
    /// the sender's message rate now, before a byte of it is streamed to disk.
    pub async fn admit_upload(&self, user_id: &UserId, room_id: &RoomId) -> ServiceResult<()> {
        let now = self.clock.now();
        may_post_now(&self.db, user_id, room_id, now).await?;
        self.check_rate(user_id).await
    }

    /// Bytes `user_id` stored in files since `since`, and when the oldest of those files
    /// was stored (the moment the allowance starts to come back).
    pub async fn uploaded_since(
        &self,
        user_id: &UserId,
        since: DateTime<Utc>,
    ) -> ServiceResult<(u64, Option<DateTime<Utc>>)> {
        let in_window = || {
            file::Entity::find()
                .filter(file::Column::UploaderId.eq(user_id.as_str()))
                .filter(file::Column::CreatedAt.gt(since))
        };
        let total = in_window()
            .select_only()
            .expr_as(
                Expr::cust("CAST(COALESCE(SUM(size), 0) AS BIGINT)"),
                "total",
            )
            .into_tuple::<i64>()
            .one(&self.db)
            .await?
            .unwrap_or(0);
        let oldest = in_window()
            .order_by(file::Column::CreatedAt, Order::Asc)
            .one(&self.db)
            .await?
            .map(|f| f.created_at);
        Ok((u64::try_from(total).unwrap_or(0), oldest))
    }

    /// Records an uploaded file (already on disk under its id) and posts it as a `file`
    /// message. Its rate was charged when the upload was admitted ([`Self::admit_upload`]).
    pub async fn post_file(
        &self,
        author: &User,
        room_id: &RoomId,
        upload: FileView,
    ) -> ServiceResult<MessageView> {
        let now = self.clock.now();
        let txn = begin_write(&self.db).await?;
        lock_rooms(&txn, [room_id]).await?;
        // Under the lock: a kick, timeout or termination may have committed since the
        // upload began.
        may_post_now(&txn, &author.id, room_id, now).await?;
        let stored = file::ActiveModel {
            id: Set(upload.id.to_string()),
            room_id: Set(room_id.to_string()),
            uploader_id: Set(author.id.to_string()),
            name: Set(upload.name.clone()),
            content_type: Set(upload.content_type.clone()),
            size: Set(i64::try_from(upload.size).unwrap_or(i64::MAX)),
            created_at: Set(now),
        };
        file::Entity::insert(stored)
            .exec_without_returning(&txn)
            .await?;
        let saved = row::Entity::insert(row::ActiveModel {
            room_id: Set(room_id.to_string()),
            author_id: Set(Some(author.id.to_string())),
            kind: Set(MessageKind::File),
            body: Set(upload.name.clone()),
            // A file is found by its name.
            search_text: Set(domain::search::index_text(&upload.name)),
            file_id: Set(Some(upload.id.to_string())),
            created_at: Set(now),
            ..Default::default()
        })
        .exec_with_returning(&txn)
        .await?;
        txn.commit().await?;
        let users = HashMap::from([(author.id.clone(), author.clone())]);
        let mut view = message_view(saved, &users);
        view.file = Some(upload);
        self.hub.publish(Published::Messages {
            messages: vec![Posted {
                message: view.clone(),
                client_id: None,
            }],
        });
        Ok(view)
    }

    /// The file `file_id`, if `user_id` is a member of its room.
    pub async fn file_for(&self, user_id: &UserId, file_id: &FileId) -> ServiceResult<FileView> {
        let not_found = || -> ServiceError {
            ApiError::new(ErrorCode::NotFound, "There is no such file.").into()
        };
        let f = file::Entity::find_by_id(file_id.to_string())
            .one(&self.db)
            .await?
            .ok_or_else(not_found)?;
        access::require_member(&self.db, user_id, &RoomId::new(f.room_id.clone())).await?;
        Ok(file_view(&f))
    }

    /// Newest first, before the message `before` (exclusive), at most 100.
    pub async fn history(
        &self,
        user_id: &UserId,
        room_id: &RoomId,
        before: Option<MessageId>,
        limit: Option<u64>,
    ) -> ServiceResult<Vec<MessageView>> {
        access::require_member(&self.db, user_id, room_id).await?;
        let limit = limit.unwrap_or(HISTORY_PAGE).clamp(1, HISTORY_MAX);
        timeline::latest(&self.db, room_id, before, limit, user_id).await
    }

    /// One message as it is now, for a member of its room; anyone else hears that there is
    /// no such message.
    pub async fn get(&self, user_id: &UserId, message_id: MessageId) -> ServiceResult<MessageView> {
        let message = self.visible(user_id, message_id).await?;
        self.view(message, Some(user_id)).await
    }

    /// The stored message `message_id`, if `user_id` is a member of its room; to anyone
    /// else, as to a missing message, `message_not_found`.
    async fn visible(&self, user_id: &UserId, message_id: MessageId) -> ServiceResult<row::Model> {
        let Some(message) = row::Entity::find_by_id(message_id.get())
            .one(&self.db)
            .await?
        else {
            return Err(domain::changes::not_found().into());
        };
        let room_id = RoomId::new(message.room_id.clone());
        match access::require_member(&self.db, user_id, &room_id).await {
            Ok(_) => Ok(message),
            Err(e @ ServiceError::Db(_)) => Err(e),
            Err(_) => Err(domain::changes::not_found().into()),
        }
    }

    /// A stored message as the API shows it to `viewer` (`None`: to the whole room).
    async fn view(
        &self,
        message: row::Model,
        viewer: Option<&UserId>,
    ) -> ServiceResult<MessageView> {
        timeline::views_for(&self.db, vec![message], viewer)
            .await?
            .pop()
            .ok_or_else(|| ServiceError::Internal("a message lost its view".into()))
    }

    /// Moves `user_id`'s read position in `room_id` forward to `message_id`
    /// (`crate::reading::mark_read`).
    pub async fn mark_read(
        &self,
        user_id: &UserId,
        room_id: &RoomId,
        message_id: MessageId,
    ) -> ServiceResult<bool> {
        crate::reading::mark_read(&self.db, self.hub.as_ref(), user_id, room_id, message_id).await
    }

    /// What a reconnecting client missed: the messages after `after` (exclusive) and the
    /// messages changed since then, each once and in its final state, in the order of
    /// their last event (`seq`). The client's next cursor is the highest `seq` it got.
    pub async fn since(
        &self,
        user_id: &UserId,
        room_id: &RoomId,
        after: MessageId,
    ) -> ServiceResult<Vec<MessageView>> {
        self.limits.check(Action::CatchUp, user_id).await?;
        access::require_member(&self.db, user_id, room_id).await?;
        let after = after.get();
        let rows = row::Entity::find()
            .filter(row::Column::RoomId.eq(room_id.as_str()))
            .filter(
                sea_orm::Condition::any()
                    .add(row::Column::Id.gt(after))
                    .add(row::Column::Seq.gt(after)),
            )
            .order_by(Expr::cust("COALESCE(seq, id)"), Order::Asc)
            .limit(SINCE_MAX)
            .all(&self.db)
            .await?;
        timeline::views_for(&self.db, rows, Some(user_id)).await
    }
}

/// Stores batches and publishes what they stored. Publishing here, not in the caller, means
/// a stored message reaches the room even if the socket that sent it is already gone.
async fn write_loop(
    db: DatabaseConnection,
    hub: Arc<dyn Hub>,
    mut jobs: mpsc::Receiver<WriteJob>,
    max_batch: usize,
    clock: Clock,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while jobs.recv_many(&mut batch, max_batch).await > 0 {
        metrics::histogram!("parlor_commit_batch_size").record(batch.len() as f64);
        let results = write_isolated(&db, &batch, &clock).await;
        let messages: Vec<Posted> = batch
            .iter()
            .zip(&results)
            .filter_map(|(job, result)| match result {
                Ok(stored) if stored.fresh => Some(Posted {
                    message: stored.view(&job.author),
                    client_id: Some(job.send.client_id.clone()),
                }),
                _ => None,
            })
            .collect();
        metrics::counter!("parlor_messages_stored_total").increment(messages.len() as u64);
        if !messages.is_empty() {
            hub.publish(Published::Messages { messages });
        }
        for (job, result) in batch.iter().zip(&results) {
            if let Ok(stored) = result {
                publish_notifications(hub.as_ref(), &job.author, &stored.notified);
            }
        }
        for (job, result) in batch.drain(..).zip(results) {
            metrics::histogram!("parlor_send_to_store_seconds")
                .record(job.queued_at.elapsed().as_secs_f64());
            let _ = job.reply.send(result);
        }
    }
}

/// Stores a batch in one transaction; if the database refuses it, stores each send on its
/// own, so a row the database rejects fails only its own send, never its batch-mates'.
/// (The whole batch rolled back, and retries are idempotent by client id, so nothing is
/// stored twice.)
async fn write_isolated(db: &DatabaseConnection, batch: &[WriteJob], clock: &Clock) -> Vec<Stored> {
    let failed = match write_batch(db, batch, clock.now()).await {
        Ok(results) => return results,
        Err(e) => e,
    };
    // A database out of reach fails every send alike (`unavailable`): storing them one by
    // one would only keep the writer waiting on the pool once per send.
    if batch.len() == 1 || crate::db::is_unreachable(&failed) {
        tracing::error!(error = %failed, batch = batch.len(), "storing messages failed");
        return batch
            .iter()
            .map(|_| Err(ServiceError::Db(failed.clone())))
            .collect();
    }
    tracing::warn!(error = %failed, batch = batch.len(), "a batch failed; storing its sends one by one");
    let mut results = Vec::with_capacity(batch.len());
    for one in batch.chunks(1) {
        results.push(match write_batch(db, one, clock.now()).await {
            Ok(mut stored) => stored
                .pop()
                .unwrap_or_else(|| Err(ServiceError::Internal("the writer lost a send".into()))),
            Err(e) => {
                tracing::error!(error = %e, "storing a message failed");
                Err(ServiceError::Db(e))
            }
        });
    }
    results
}

/// One transaction for the whole batch. A send whose (author, client id) is already stored
/// — a retry — gets the stored row back instead of a new one; a send whose author stopped
/// being a member (or whose room terminated) since it was checked is refused, not stored.
async fn write_batch(
    db: &DatabaseConnection,
    batch: &[WriteJob],
    now: DateTime<Utc>,
) -> Result<Vec<Stored>, DbErr> {
    let txn = begin_write(db).await?;
    lock_rooms(&txn, batch.iter().map(|j| &j.send.room_id)).await?;
    let posters = posters(
        &txn,
        batch.iter().map(|j| (&j.send.room_id, &j.author.id)),
        now,
    )
    .await?;
    // Slow mode: each author's latest post per room, moved on by this batch's own sends.
    let mut last_posts: HashMap<(RoomId, UserId), Option<DateTime<Utc>>> = HashMap::new();
    let mut out = Vec::with_capacity(batch.len());
    for job in batch {
        let key = (job.send.room_id.clone(), job.author.id.clone());
        let ruling = match posters.get(&key) {
            None => None,
            Some((rules, poster)) => {
                let needs_last = rules.slow_mode_seconds > 0 && !poster.role.is_admin();
                let last = match last_posts.get(&key) {
                    Some(last) => *last,
                    None if needs_last => {
                        let last = timeline::last_post_at(&txn, &key.0, &key.1).await?;
                        last_posts.insert(key.clone(), last);
                        last
                    }
                    None => None,
                };
                let poster = domain::moderation::Poster {
                    last_post_at: last.map(micros),
                    ..*poster
                };
                Some(domain::moderation::may_act(
                    *rules,
                    poster,
                    domain::moderation::Act::Post,
                    micros(now),
                ))
            }
        };
        // Refused by the room's rules: a retry of a message stored before is still acked.
        if let Some(Err(refusal)) = ruling {
            out.push(match stored_send(&txn, job).await? {
                Some(model) => retried(&txn, model).await?,
                None => Err(refusal.into()),
            });
            continue;
        }
        let allowed = ruling.is_some();
        // A reply answers a message of the same room that is still there.
        let answered = match (allowed, job.send.reply_to) {
            (true, Some(id)) => Some(answerable(&txn, &job.send.room_id, id).await?),
            _ => None,
        };
        let resolved = match (&answered, &job.send.content) {
            (Some(Err(_)), _) => None,
            (_, Content::Text(body)) if allowed => Some(
                mentions::resolve(
                    &txn,
                    job.send.room_id.as_str(),
                    &job.author.id,
                    body.as_str(),
                )
                .await?,
            ),
            _ => None,
        };
        let inserted = match &answered {
            Some(Err(_)) => None,
            _ if allowed => {
                let room_wide = resolved.as_ref().is_some_and(|r| r.mentions.room);
                insert_message(&txn, job, room_wide, now).await?
            }
            _ => None,
        };
        if let Some(model) = inserted {
            last_posts.insert(key, Some(model.created_at));
            let reply = answered.and_then(Result::ok);
            let resolved = resolved.unwrap_or_default();
            let notified = if resolved.mentions.room || !resolved.mentions.users.is_empty() {
                mentions::store(&txn, &model, &resolved.mentions, now).await?
            } else {
                Vec::new()
            };
            out.push(Ok(StoredSend {
                model,
                fresh: true,
                reply,
                mentioned: resolved.users,
                notified,
            }));
            continue;
        }
        // Nothing inserted: a retry of a stored message (acked again, even if its author
        // has left since or what it answers is gone), or a send its author may no longer
        // make.
        out.push(match stored_send(&txn, job).await? {
            Some(model) => retried(&txn, model).await?,
            None => match (
                answered,
                access::require_member(&txn, &job.author.id, &job.send.room_id).await,
            ) {
                (_, Err(ServiceError::Db(e))) => return Err(e),
                (_, Err(refusal)) => Err(refusal),
                (Some(Err(refusal)), Ok(_)) => Err(refusal),
                (_, Ok(_)) => Err(ServiceError::Internal(
                    "a permitted message was not stored".into(),
                )),
            },
        });
    }
    txn.commit().await?;
    Ok(out)
}

/// The answer to a retry of a message stored before: the stored message, as it was.
async fn retried(txn: &DatabaseTransaction, model: row::Model) -> Result<Stored, DbErr> {
    let reply = match model.reply_to {
        Some(id) => reply_of(txn, MessageId::new(id))
            .await?
            .map(|(_, view)| view),
        None => None,
    };
    let mentioned = mentioned_users(txn, model.id).await?;
    Ok(Ok(StoredSend {
        model,
        fresh: false,
        reply,
        mentioned,
        notified: Vec::new(),
    }))
}

/// Whether `user_id` may post in `room_id` now: a member, not timed out, allowed by an
/// announcement room and by slow mode (`domain::moderation::may_act`).
async fn may_post_now<C: ConnectionTrait>(
    conn: &C,
    user_id: &UserId,
    room_id: &RoomId,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let access = access::load_at(conn, user_id, room_id, now).await?;
    let last = if access.room.slow_mode_seconds > 0 {
        timeline::last_post_at(conn, room_id, user_id).await?
    } else {
        None
    };
    access.may_act(domain::moderation::Act::Post, last, now)
}

/// A lookup's error inside the writer's transaction, which speaks `DbErr`.
fn into_db_err(e: ServiceError) -> DbErr {
    match e {
        ServiceError::Db(e) => e,
        other => DbErr::Custom(other.to_string()),
    }
}

/// The people stored message `id` mentions (a retry's answer shows them as the first did).
async fn mentioned_users(txn: &DatabaseTransaction, id: i64) -> Result<Vec<User>, DbErr> {
    let ids: Vec<UserId> = mentions::of_messages(txn, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    let users = crate::users::users_by_ids(txn, &ids)
        .await
        .map_err(into_db_err)?;
    Ok(ids.iter().filter_map(|id| users.get(id).cloned()).collect())
}

/// Tells each person `notified` names of their mention, live, once it is committed.
pub(crate) fn publish_notifications(
    hub: &dyn Hub,
    author: &User,
    notified: &[entity::notification::Model],
) {
    let users = HashMap::from([(author.id.clone(), author.clone())]);
    for n in notified {
        hub.publish(Published::Notification {
            user_id: UserId::new(n.user_id.clone()),
            notification: crate::notifications::notification_view(n.clone(), &users),
        });
    }
}

/// The message `id` and its quote, whatever room it is in.
async fn reply_of(
    txn: &DatabaseTransaction,
    id: MessageId,
) -> Result<Option<(row::Model, ReplyView)>, DbErr> {
    let Some(original) = row::Entity::find_by_id(id.get()).one(txn).await? else {
        return Ok(None);
    };
    let author = match &original.author_id {
        Some(a) => crate::users::users_by_ids(txn, &[UserId::new(a.clone())])
            .await
            .map_err(into_db_err)?
            .into_values()
            .next(),
        None => None,
    };
    let view = timeline::reply_view(&original, author);
    Ok(Some((original, view)))
}

/// The quote of the message `id` a send to `room_id` answers, or why it cannot answer it:
/// one in another room is as good as missing (`message_not_found`), and a deleted one
/// takes no replies (`message_deleted`).
async fn answerable(
    txn: &DatabaseTransaction,
    room_id: &RoomId,
    id: MessageId,
) -> Result<Result<ReplyView, ServiceError>, DbErr> {
    Ok(match reply_of(txn, id).await? {
        Some((original, _)) if original.room_id != room_id.as_str() => {
            Err(domain::changes::not_found().into())
        }
        None => Err(domain::changes::not_found().into()),
        Some((original, _)) if original.deleted_at.is_some() => {
            Err(domain::changes::deleted().into())
        }
        Some((_, view)) => Ok(view),
    })
}

/// Of `posts` (room, author), those whose author is an active member of an active room,
/// with the room's posting rules and what they need of the author (their role and any
/// timeout not yet run out at `now`), in one query for the whole batch.
async fn posters<'a>(
    txn: &DatabaseTransaction,
    posts: impl IntoIterator<Item = (&'a RoomId, &'a UserId)>,
    now: DateTime<Utc>,
) -> Result<HashMap<(RoomId, UserId), (RoomRules, Poster)>, DbErr> {
    // Scoped here: at module level its `max` would shadow `Ord::max` on numbers.
    use sea_orm::sea_query::{Alias, ExprTrait, JoinType};
    let (mut room_ids, mut user_ids) = (BTreeSet::new(), BTreeSet::new());
    for (room, user) in posts {
        room_ids.insert(room.as_str());
        user_ids.insert(user.as_str());
    }
    let t = Alias::new("t");
    let query = Query::select()
        .column((membership::Entity, membership::Column::RoomId))
        .column((membership::Entity, membership::Column::UserId))
        .column((membership::Entity, membership::Column::Role))
        .column((room_row::Entity, room_row::Column::SlowModeSeconds))
        .column((room_row::Entity, room_row::Column::Announcement))
        .expr_as(
            Expr::col((t.clone(), mute::Column::Until)),
            Alias::new("muted_until"),
        )
        .from(membership::Entity)
        .inner_join(
            room_row::Entity,
            Expr::col((room_row::Entity, room_row::Column::Id))
                .equals((membership::Entity, membership::Column::RoomId)),
        )
        .join_as(
            JoinType::LeftJoin,
            mute::Entity,
            t.clone(),
            Expr::col((t.clone(), mute::Column::RoomId))
                .equals((membership::Entity, membership::Column::RoomId))
                .and(
                    Expr::col((t.clone(), mute::Column::UserId))
                        .equals((membership::Entity, membership::Column::UserId)),
                ),
        )
        .and_where(Expr::col((membership::Entity, membership::Column::RoomId)).is_in(room_ids))
        .and_where(Expr::col((membership::Entity, membership::Column::UserId)).is_in(user_ids))
        .and_where(
            Expr::col((membership::Entity, membership::Column::Status))
                .eq(MembershipStatus::Active),
        )
        .and_where(Expr::col((room_row::Entity, room_row::Column::Status)).eq(RoomStatus::Active))
        .to_owned();
    txn.query_all(&query)
        .await?
        .iter()
        .map(|r| {
            let muted_until: Option<DateTime<Utc>> = r.try_get("", "muted_until")?;
            let rules = RoomRules {
                slow_mode_seconds: u32::try_from(r.try_get::<i32>("", "slow_mode_seconds")?)
                    .unwrap_or(0),
                announcement: r.try_get("", "announcement")?,
            };
            let poster = Poster {
                role: r.try_get("", "role")?,
                muted_until: muted_until.filter(|at| *at > now).map(micros),
                last_post_at: None,
            };
            Ok((
                (
                    RoomId::new(r.try_get::<String>("", "room_id")?),
                    UserId::new(r.try_get::<String>("", "user_id")?),
                ),
                (rules, poster),
            ))
        })
        .collect()
}

/// Inserts `job`'s message; `None` when the unique (author, client id) index says it is a
/// retry.
async fn insert_message(
    txn: &DatabaseTransaction,
    job: &WriteJob,
    mentions_room: bool,
    now: DateTime<Utc>,
) -> Result<Option<row::Model>, DbErr> {
    let send = &job.send;
    let fresh = row::ActiveModel {
        room_id: Set(send.room_id.to_string()),
        author_id: Set(Some(job.author.id.to_string())),
        kind: Set(send.content.kind()),
        body: Set(send.content.body().to_owned()),
        search_text: Set(match &send.content {
            Content::Text(body) => domain::search::index_text(body.as_str()),
            Content::Sticker(_) => None,
        }),
        color: Set(send.color),
        sticker: Set(send.content.sticker().map(|s| s.as_str().to_owned())),
        file_id: Set(None),
        client_id: Set(Some(send.client_id.to_string())),
        created_at: Set(now),
        reply_to: Set(send.reply_to.map(MessageId::get)),
        mentions_room: Set(mentions_room),
        ..Default::default()
    };
    let inserted = row::Entity::insert(fresh)
        .on_conflict(
            OnConflict::columns([row::Column::AuthorId, row::Column::ClientId])
                .do_nothing()
                .to_owned(),
        )
        .exec_with_returning(txn)
        .await;
    match inserted {
        Ok(saved) => Ok(Some(saved)),
        // Nothing inserted (SeaORM words it either way).
        Err(DbErr::RecordNotInserted | DbErr::RecordNotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The message an earlier send with the same (author, client id) stored, if any.
async fn stored_send(
    txn: &DatabaseTransaction,
    job: &WriteJob,
) -> Result<Option<row::Model>, DbErr> {
    row::Entity::find()
        .filter(row::Column::AuthorId.eq(job.author.id.as_str()))
        .filter(row::Column::ClientId.eq(job.send.client_id.as_str()))
        .one(txn)
        .await
}
