//! Notifications: list with the unread count; mark read by id or all.

use domain::{views::NotificationView, NotificationId};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use super::auth::Empty;
#[cfg(feature = "ssr")]
use crate::ssr::caller;
use crate::AppError;

/// `notifications/list`: my notifications, and how many are unread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationsResponse {
    pub notifications: Vec<NotificationView>,
    pub unread: u64,
}

#[server(endpoint = "notifications/list", input = Json, output = Json)]
pub async fn list_notifications(
    unread_only: Option<bool>,
) -> Result<NotificationsResponse, AppError> {
    let (me, ctx) = caller().await?;
    let (notifications, unread) = ctx
        .notifications
        .list(&me.id, unread_only.unwrap_or(false))
        .await?;
    Ok(NotificationsResponse {
        notifications,
        unread,
    })
}

/// Either `ids` or `all: true`.
#[server(endpoint = "notifications/read", input = Json, output = Json)]
pub async fn read_notifications(
    ids: Option<Vec<NotificationId>>,
    all: Option<bool>,
) -> Result<Empty, AppError> {
    let (me, ctx) = caller().await?;
    match (ids, all) {
        (_, Some(true)) => ctx.notifications.mark_read(&me.id, None).await?,
        (Some(ids), _) if ids.len() <= 1000 => {
            ctx.notifications.mark_read(&me.id, Some(&ids)).await?
        }
        _ => {
            return Err(domain::ApiError::invalid_field(
                "ids",
                "Give up to 1000 notification ids, or \"all\": true.",
            )
            .into())
        }
    };
    Ok(Empty {})
}
