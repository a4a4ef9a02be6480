//! Personal access tokens (docs/RULES.md §1, "Access tokens"): created, listed and revoked
//! by their owner from a password session, and found by the secret a request carries. Only
//! the SHA-256 of a secret is stored; the secret is shown once, when it is made. What a
//! scope allows is `domain::token`'s rule.

use chrono::{DateTime, Utc};
use domain::{
    token::{self as rules, TokenScope, TokenView},
    ApiError, ErrorCode, TokenId, User, UserId,
};
use entity::{access_token, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Order, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use sha2::{Digest, Sha256};

use crate::{
    error::ServiceResult,
    hub::{EndedSessions, Hub, Published},
    ids::new_id,
    time::{rfc3339, Clock},
    users::to_user,
};

/// How stale `last_used_at` may get before a use writes it again: a busy script costs
/// one write a minute, not one per request.
const LAST_USED_GRAIN: chrono::Duration = chrono::Duration::seconds(60);

#[derive(Clone)]
pub struct Tokens {
    db: DatabaseConnection,
    hub: std::sync::Arc<dyn Hub>,
    clock: Clock,
}

/// A request's token, once found and in force.
#[derive(Debug, Clone)]
pub struct Bearer {
    pub user: User,
    pub id: TokenId,
    pub scope: TokenScope,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The key the live channel files a token's sockets under, in the place a session's id
/// goes: a revoke closes them as a logout closes a session's.
pub fn socket_key(id: &TokenId) -> String {
    format!("token:{id}")
}

/// The token id in a socket's key, if the socket was opened by a token.
pub fn token_of_socket_key(key: &str) -> Option<TokenId> {
    key.strip_prefix("token:").map(TokenId::from)
}

fn hash(secret: &str) -> String {
    Sha256::digest(secret.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `parlor_` and 40 characters of `[0-9a-z]`: about 206 bits of randomness.
fn new_secret() -> String {
    format!("{}{}{}", rules::PREFIX, new_id(), new_id())
}

fn view(row: access_token::Model, now: DateTime<Utc>) -> TokenView {
    TokenView {
        expired: row.expires_at.is_some_and(|at| at <= now),
        id: row.id.into(),
        name: row.name,
        scope: row.scope,
        created_at: rfc3339(row.created_at),
        expires_at: row.expires_at.map(rfc3339),
        last_used_at: row.last_used_at.map(rfc3339),
    }
}

impl Tokens {
    pub fn new(db: DatabaseConnection, hub: std::sync::Arc<dyn Hub>) -> Self {
        Self {
            db,
            hub,
            clock: Clock::default(),
        }
    }

    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// `tokens/create`: a new token of `owner`'s, and its secret (the only time it is told).
    pub async fn create(
        &self,
        owner: &UserId,
        name: &str,
        scope: TokenScope,
        days: Option<u32>,
    ) -> ServiceResult<(TokenView, String)> {
        let name = rules::parse_name(name)?;
        let days = rules::parse_days(days)?;
        let held = access_token::Entity::find()
            .filter(access_token::Column::UserId.eq(owner.as_str()))
            .count(&self.db)
            .await?;
        if held >= rules::PER_USER_MAX {
            return Err(ApiError::new(
                ErrorCode::InvalidInput,
                format!(
                    "You hold {} tokens, the most an account may. Revoke one first.",
                    rules::PER_USER_MAX
                ),
            )
            .into());
        }
        let now = self.clock.now();
        let secret = new_secret();
        let row = access_token::Model {
            id: new_id(),
            user_id: owner.to_string(),
            name,
            scope,
            secret_hash: hash(&secret),
            created_at: now,
            expires_at: days.map(|d| now + chrono::Duration::days(i64::from(d))),
            last_used_at: None,
        };
        access_token::Entity::insert(access_token::ActiveModel::from(row.clone()))
            .exec_without_returning(&self.db)
            .await?;
        tracing::info!(user_id = %owner, token_id = %row.id, scope = scope.as_str(), "access token created");
        Ok((view(row, now), secret))
    }

    /// `tokens/list`: `owner`'s tokens, newest first, expired ones too (until revoked).
    pub async fn list(&self, owner: &UserId) -> ServiceResult<Vec<TokenView>> {
        let now = self.clock.now();
        Ok(access_token::Entity::find()
            .filter(access_token::Column::UserId.eq(owner.as_str()))
            .order_by(access_token::Column::CreatedAt, Order::Desc)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| view(row, now))
            .collect())
    }

    /// `tokens/revoke`: the token stops working at once, and the live channels it opened,
    /// on every instance, close.
    pub async fn revoke(&self, owner: &UserId, id: &TokenId) -> ServiceResult<()> {
        let gone = access_token::Entity::delete_many()
            .filter(access_token::Column::Id.eq(id.as_str()))
            .filter(access_token::Column::UserId.eq(owner.as_str()))
            .exec(&self.db)
            .await?
            .rows_affected;
        if gone == 0 {
            return Err(ApiError::new(ErrorCode::NotFound, "You hold no such token.").into());
        }
        tracing::info!(user_id = %owner, token_id = %id, "access token revoked");
        self.hub.publish(Published::SessionsEnded {
            user_id: owner.clone(),
            which: EndedSessions::One(socket_key(id)),
        });
        Ok(())
    }

    /// The token whose secret a request carries, if it exists, has not expired and its
    /// owner still has an account. Notes the use (at most once a minute).
    pub async fn authenticate(&self, secret: &str) -> ServiceResult<Option<Bearer>> {
        if !secret.trim().starts_with(rules::PREFIX) {
            return Ok(None);
        }
        let Some(row) = access_token::Entity::find()
            .filter(access_token::Column::SecretHash.eq(hash(secret)))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let now = self.clock.now();
        if row.expires_at.is_some_and(|at| at <= now) {
            return Ok(None);
        }
        let Some(owner) = user::Entity::find_by_id(row.user_id.clone())
            .filter(user::Column::DeletedAt.is_null())
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        if row
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USED_GRAIN)
        {
            access_token::Entity::update_many()
                .col_expr(
                    access_token::Column::LastUsedAt,
                    sea_orm::sea_query::Expr::value(now),
                )
                .filter(access_token::Column::Id.eq(&row.id))
                .exec(&self.db)
                .await?;
        }
        Ok(Some(Bearer {
            user: to_user(owner),
            id: row.id.into(),
            scope: row.scope,
            expires_at: row.expires_at,
        }))
    }

    /// When the token a socket was opened by stops working: `None` if it is gone or has
    /// expired, `Some(None)` if it lives until revoked.
    pub async fn ends(&self, id: &TokenId) -> ServiceResult<Option<Option<DateTime<Utc>>>> {
        let now = self.clock.now();
        Ok(access_token::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?
            .filter(|row| row.expires_at.is_none_or(|at| at > now))
            .map(|row| row.expires_at))
    }
}

/// Revokes every token of `user_id` (a password change, an account deletion), in the
/// caller's transaction; how many went.
pub(crate) async fn revoke_all_of<C: ConnectionTrait>(
    conn: &C,
    user_id: &UserId,
) -> ServiceResult<u64> {
    Ok(access_token::Entity::delete_many()
        .filter(access_token::Column::UserId.eq(user_id.as_str()))
        .exec(conn)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_prefixed_and_hashed_the_same_way_each_time() {
        let a = new_secret();
        assert!(a.starts_with("parlor_") && a.len() == 47, "{a}");
        assert_ne!(a, new_secret());
        assert_eq!(hash(&a), hash(&format!(" {a}\n")));
        assert_eq!(hash(&a).len(), 64);
        assert!(!hash(&a).contains(&a[7..]));
        assert_eq!(
            token_of_socket_key(&socket_key(&"t1".into())),
            Some("t1".into())
        );
        assert_eq!(token_of_socket_key("a-session-id"), None);
    }
}
