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
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
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
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(row) = session::Entity::find_by_id(key_of(id))
            .filter(session::Column::ExpiresAt.gt(Utc::now()))
            .one(&self.db)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: to_time(row.expires_at),
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        session::Entity::delete_by_id(key_of(id))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
