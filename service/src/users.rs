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

/// Finds a user by id or by username (any case); `@name` means the username only. A
/// reference that is one person's id and another person's username is refused rather than
/// guessed: a username chosen to look like an id must not stand in for that id's owner.
pub async fn resolve_user<C: ConnectionTrait>(conn: &C, reference: &str) -> ServiceResult<User> {
    let reference = reference.trim();
    let by_name = |name: &str| {
        user::Entity::find()
            .filter(user::Column::UsernameKey.eq(name.to_ascii_lowercase()))
            .filter(user::Column::DeletedAt.is_null())
            .one(conn)
    };
    let found = if let Some(name) = reference.strip_prefix('@') {
        by_name(name).await?
    } else {
        let by_id = user::Entity::find_by_id(reference.to_owned())
            .filter(user::Column::DeletedAt.is_null())
            .one(conn)
            .await?;
        let named = by_name(reference).await?;
        match (by_id, named) {
            (Some(a), Some(b)) if a.id != b.id => {
                return Err(ApiError::invalid_field(
                    "user",
                    format!(
                        "\"{reference}\" is one person's id and another person's username. \
                         Write @{reference} for the username."
                    ),
                )
                .into())
            }
            (Some(u), _) | (None, Some(u)) => Some(u),
            (None, None) => None,
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
        .filter(user::Column::DeletedAt.is_null())
        .order_by_asc(user::Column::UsernameKey)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(|u| u.username)
        .collect())
}
