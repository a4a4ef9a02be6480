//! Notifications (docs/RULES.md §8): listed newest first with the unread count, marked read one by
//! one or all at once. They are written by the room use cases, in the same transaction as
//! the change they tell of.

use std::collections::HashMap;

use chrono::Utc;
use domain::{views::NotificationView, NotificationId, User, UserId};
use entity::notification;
use sea_orm::{
    sea_query::Expr, ColumnTrait, DatabaseConnection, EntityTrait, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::{error::ServiceResult, time::rfc3339, users::users_by_ids};

/// The newest notifications a listing returns.
const LIST_LIMIT: u64 = 100;

pub(crate) fn notification_view(
    row: notification::Model,
    users: &HashMap<UserId, User>,
) -> NotificationView {
    NotificationView {
        actor: row
            .actor_id
            .and_then(|id| users.get(&UserId::new(id)).cloned()),
        id: row.id.into(),
        kind: row.kind,
        room_id: row.room_id.map(Into::into),
        room_name: row.room_name,
        reason: row.reason,
        created_at: rfc3339(row.created_at),
        read: row.read_at.is_some(),
        message_id: row.message_id.map(domain::MessageId::new),
    }
}

#[derive(Clone)]
pub struct Notifications {
    db: DatabaseConnection,
}

impl Notifications {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The newest notifications (only unread ones when asked) and how many are unread.
    pub async fn list(
        &self,
        user_id: &UserId,
        unread_only: bool,
    ) -> ServiceResult<(Vec<NotificationView>, u64)> {
        let mut find =
            notification::Entity::find().filter(notification::Column::UserId.eq(user_id.as_str()));
        if unread_only {
            find = find.filter(notification::Column::ReadAt.is_null());
        }
        let rows = find
            .order_by(notification::Column::CreatedAt, Order::Desc)
            .order_by(notification::Column::Id, Order::Desc)
            .limit(LIST_LIMIT)
            .all(&self.db)
            .await?;
        let unread = notification::Entity::find()
            .filter(notification::Column::UserId.eq(user_id.as_str()))
            .filter(notification::Column::ReadAt.is_null())
            .count(&self.db)
            .await?;
        let actors: Vec<UserId> = rows
            .iter()
            .filter_map(|r| r.actor_id.clone().map(UserId::from))
            .collect();
        let users = users_by_ids(&self.db, &actors).await?;
        Ok((
            rows.into_iter()
                .map(|r| notification_view(r, &users))
                .collect(),
            unread,
        ))
    }

    /// Marks the given notifications (or all) of `user_id` read. Ids that are not theirs
    /// are not theirs to touch and change nothing.
    pub async fn mark_read(
        &self,
        user_id: &UserId,
        ids: Option<&[NotificationId]>,
    ) -> ServiceResult<u64> {
        let mut update = notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(Some(Utc::now())))
            .filter(notification::Column::UserId.eq(user_id.as_str()))
            .filter(notification::Column::ReadAt.is_null());
        if let Some(ids) = ids {
            update = update
                .filter(notification::Column::Id.is_in(ids.iter().map(NotificationId::as_str)));
        }
        Ok(update.exec(&self.db).await?.rows_affected)
    }
}
