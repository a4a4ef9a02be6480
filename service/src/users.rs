//! Looking people up: many ids at once for views, or one by id or username.

use std::collections::HashMap;

use domain::{ApiError, ErrorCode, User, UserId};
use entity::user;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::error::ServiceResult;

pub fn to_user(row: user::Model) -> User {
    User {
        id: row.id.into(),
        username: row.username,
    }
}

/// The users of `ids` that exist, by id, in one query.
pub async fn users_by_ids<C: ConnectionTrait>(
    conn: &C,
    ids: &[UserId],
) -> ServiceResult<HashMap<UserId, User>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids.iter().map(UserId::as_str)))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| {
            let user = to_user(u);
            (user.id.clone(), user)
        })
        .collect())
}

/// Finds a user by id or, failing that, by username (any case).
pub async fn resolve_user<C: ConnectionTrait>(conn: &C, reference: &str) -> ServiceResult<User> {
    let reference = reference.trim();
    let found = match user::Entity::find_by_id(reference.to_owned())
        .one(conn)
        .await?
    {
        Some(u) => Some(u),
        None => {
            user::Entity::find()
                .filter(user::Column::UsernameKey.eq(reference.to_ascii_lowercase()))
                .one(conn)
                .await?
        }
    };
    found.map(to_user).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UserNotFound,
            "There is no user with that id or username.",
        )
        .for_field("user")
        .into()
    })
}

/// Usernames that start with `prefix` (any case), by name, at most `limit`: the invite
/// form's autocomplete. It tells nothing but usernames, which are public anyway.
pub async fn usernames_starting<C: ConnectionTrait>(
    conn: &C,
    prefix: &str,
    limit: u64,
) -> ServiceResult<Vec<String>> {
    use sea_orm::{
        sea_query::{Expr, ExprTrait, LikeExpr},
        QueryOrder, QuerySelect,
    };
    let key = prefix.trim().to_ascii_lowercase();
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    {
        return Ok(Vec::new());
    }
    // `_` is a wildcard in LIKE: escape it (and the escape itself).
    let pattern = format!("{}%", key.replace('\\', "\\\\").replace('_', "\\_"));
    Ok(user::Entity::find()
        .filter(Expr::col(user::Column::UsernameKey).like(LikeExpr::new(pattern).escape('\\')))
        .order_by_asc(user::Column::UsernameKey)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(|u| u.username)
        .collect())
}
