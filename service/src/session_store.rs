//! tower-sessions' store on our own SeaORM connection, so sessions live in the same SQLite
//! or PostgreSQL database as everything else (one pool, one sqlx) and survive restarts.
//!
//! A row is keyed by the SHA-256 of the session id, never the id itself: someone who reads
//! the database (a backup, a leaked dump) cannot sign in with what they find there.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use entity::session;
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    SqlErr,
};
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: DatabaseConnection,
    cache: SessionCache,
}

/// Sessions read lately, kept in memory so a request does not wait on the database to learn
/// who sent it (docs/BENCHMARKS.md, S4). Writes go through to the table. Every ended session
/// is forgotten at once: by this store when it deletes one, and by the live hub for the
/// `SessionsEnded` and `SessionRenewed` it hears, from this instance or, over the backplane,
/// from the others. An entry lives at most [`SessionCache::MAX_AGE`], which bounds how long
/// a notice lost between instances could leave an ended session usable on one of them.
#[derive(Debug, Clone, Default)]
pub struct SessionCache(std::sync::Arc<std::sync::Mutex<CacheInner>>);

#[derive(Debug, Default)]
struct CacheInner {
    by_key: std::collections::HashMap<String, Cached>,
    /// Moves on every forgetting: a load that read the table before one must not put what
    /// it read into the cache after it.
    epoch: u64,
}

#[derive(Debug, Clone)]
struct Cached {
    record: Record,
    user_id: Option<String>,
    cached_at: std::time::Instant,
}

impl SessionCache {
    pub const MAX_AGE: std::time::Duration = std::time::Duration::from_secs(60);
    /// Past this many entries the cache starts over (far more than the sessions active in
    /// a minute on one instance).
    const MAX_ENTRIES: usize = 100_000;

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, key: &str, now: time::OffsetDateTime) -> Option<Record> {
        let mut inner = self.lock();
        let cached = inner.by_key.get(key)?;
        if cached.cached_at.elapsed() < Self::MAX_AGE && cached.record.expiry_date > now {
            return Some(cached.record.clone());
        }
        inner.by_key.remove(key);
        None
    }

    fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// Keeps `record`, unless something was forgotten since `epoch` was read.
    fn put(&self, record: &Record, epoch: Option<u64>) {
        let mut inner = self.lock();
        if epoch.is_some_and(|e| e != inner.epoch) {
            return;
        }
        if inner.by_key.len() >= Self::MAX_ENTRIES {
            inner.by_key.clear();
        }
        inner.by_key.insert(
            key_of(&record.id),
            Cached {
                record: record.clone(),
                user_id: user_of(record),
                cached_at: std::time::Instant::now(),
            },
        );
    }

    fn forget_key(&self, key: &str) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.by_key.remove(key);
    }

    /// Forgets the sessions of `user_id` that `which` ended.
    pub fn forget(&self, user_id: &str, which: &crate::hub::EndedSessions) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.by_key.retain(|_, cached| {
            cached.user_id.as_deref() != Some(user_id)
                || !which.includes(Some(&cached.record.id.to_string()))
        });
    }
}

/// How a failure that is the database being out of reach begins (see [`is_unreachable`]).
const UNREACHABLE: &str = "database unreachable: ";

fn backend(err: sea_orm::DbErr) -> session_store::Error {
    if crate::db::is_unreachable(&err) {
        session_store::Error::Backend(format!("{UNREACHABLE}{err}"))
    } else {
        session_store::Error::Backend(err.to_string())
    }
}

/// True when a store failure is the database being out of reach (to be answered
/// `unavailable`, not `internal`): tower-sessions carries store errors as text only, so the
/// store marks these.
pub fn is_unreachable(err: &session_store::Error) -> bool {
    matches!(err, session_store::Error::Backend(why) if why.starts_with(UNREACHABLE))
}

/// The stored key of session `id`.
pub fn key_of(id: &Id) -> String {
    Sha256::digest(id.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The signed-in user a session's data names (the key `app::ssr::SESSION_USER_KEY` writes).
fn user_of(record: &Record) -> Option<String> {
    record
        .data
        .get("user_id")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

fn to_chrono(t: time::OffsetDateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(t.unix_timestamp(), t.nanosecond()).unwrap_or(DateTime::UNIX_EPOCH)
}

fn to_time(t: DateTime<Utc>) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(
        i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos()),
    )
    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

impl DbSessionStore {
    /// A store whose reads are cached in `cache`; whoever hears of ended sessions (the
    /// live hub) must hold the same cache and forget them in it.
    pub fn new(db: DatabaseConnection, cache: SessionCache) -> Self {
        Self { db, cache }
    }

    fn active_model(record: &Record) -> session_store::Result<session::ActiveModel> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        Ok(session::ActiveModel {
            id: Set(key_of(&record.id)),
            data: Set(data),
            expires_at: Set(to_chrono(record.expiry_date)),
            user_id: Set(user_of(record)),
        })
    }

    /// Removes every expired session; returns how many went.
    pub async fn delete_expired(&self) -> Result<u64, sea_orm::DbErr> {
        let res = session::Entity::delete_many()
            .filter(session::Column::ExpiresAt.lt(Utc::now()))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh id collides with an existing one about never; when it does, draw again.
        loop {
            let model = Self::active_model(record)?;
            match session::Entity::insert(model).exec(&self.db).await {
                Ok(_) => return Ok(()),
                Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                    record.id = Id::default();
                }
                Err(e) => return Err(backend(e)),
            }
        }
    }

    /// Updates an existing session only. A request still in flight when its session logged
    /// out would otherwise write the deleted session back, signed in again.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        session::Entity::update_many()
            .col_expr(session::Column::Data, Expr::value(data))
            .col_expr(
                session::Column::ExpiresAt,
                Expr::value(to_chrono(record.expiry_date)),
            )
            .col_expr(session::Column::UserId, Expr::value(user_of(record)))
            .filter(session::Column::Id.eq(key_of(&record.id)))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        // Forgotten, not rewritten: the next read takes what the table now holds (the
        // update touches nothing when the session was deleted meanwhile).
        self.cache.forget_key(&key_of(&record.id));
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let key = key_of(id);
        if let Some(record) = self.cache.get(&key, time::OffsetDateTime::now_utc()) {
            return Ok(Some(record));
        }
        let epoch = self.cache.epoch();
        let Some(row) = session::Entity::find_by_id(key.clone())
            .filter(session::Column::ExpiresAt.gt(Utc::now()))
            .one(&self.db)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let record = Record {
            id: *id,
            data,
            expiry_date: to_time(row.expires_at),
        };
        self.cache.put(&record, Some(epoch));
        Ok(Some(record))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        session::Entity::delete_by_id(key_of(id))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        // After the delete: a read that raced it cannot keep it, its epoch is gone.
        self.cache.forget_key(&key_of(id));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::EndedSessions;

    fn record(user: &str) -> Record {
        let mut data = std::collections::HashMap::new();
        data.insert("user_id".to_owned(), serde_json::json!(user));
        Record {
            id: Id::default(),
            data,
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        }
    }

    fn now() -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
    }

    #[test]
    fn a_cached_session_is_found_until_it_expires() {
        let cache = SessionCache::default();
        let fresh = record("ann");
        cache.put(&fresh, None);
        assert!(cache.get(&key_of(&fresh.id), now()).is_some());
        assert!(cache
            .get(
                &key_of(&fresh.id),
                fresh.expiry_date + time::Duration::seconds(1)
            )
            .is_none());
        // Once expired it is gone, not only hidden.
        assert!(cache.get(&key_of(&fresh.id), now()).is_none());
    }

    #[test]
    fn ended_sessions_are_forgotten_and_only_those() {
        let cache = SessionCache::default();
        let (laptop, phone, other) = (record("ann"), record("ann"), record("bob"));
        for r in [&laptop, &phone, &other] {
            cache.put(r, None);
        }
        cache.forget("ann", &EndedSessions::AllBut(phone.id.to_string()));
        assert!(cache.get(&key_of(&laptop.id), now()).is_none());
        assert!(cache.get(&key_of(&phone.id), now()).is_some());
        assert!(cache.get(&key_of(&other.id), now()).is_some());
        cache.forget("ann", &EndedSessions::One(phone.id.to_string()));
        assert!(cache.get(&key_of(&phone.id), now()).is_none());
        cache.forget("bob", &EndedSessions::AccountDeleted);
        assert!(cache.get(&key_of(&other.id), now()).is_none());
    }

    #[test]
    fn a_read_that_raced_a_forgetting_is_not_kept() {
        let cache = SessionCache::default();
        let session = record("ann");
        // A load reads the epoch, then the table; meanwhile the session ends.
        let epoch = cache.epoch();
        cache.forget("ann", &EndedSessions::All);
        cache.put(&session, Some(epoch));
        assert!(cache.get(&key_of(&session.id), now()).is_none());
        cache.put(&session, Some(cache.epoch()));
        assert!(cache.get(&key_of(&session.id), now()).is_some());
    }
}
