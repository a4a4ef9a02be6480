//! What the app shell needs at once: who you are, your rooms, the rooms you left, and your
//! notifications. One call, so a page load or a reconnect costs one round trip.

use domain::{
    views::{MyRoom, NotificationView, PreviousRoom},
    User,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

#[cfg(feature = "ssr")]
use crate::ssr::caller;
use crate::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub user: User,
    pub rooms: Vec<MyRoom>,
    pub previous: Vec<PreviousRoom>,
    /// The newest notifications, newest first.
    pub notifications: Vec<NotificationView>,
    pub unread: u64,
}

#[server(endpoint = "me/overview", input = Json, output = Json)]
pub async fn get_overview() -> Result<Overview, AppError> {
    let (user, ctx) = caller().await?;
    let rooms = ctx.rooms.mine(&user.id).await?;
    let previous = ctx.rooms.previous(&user.id).await?;
    let (notifications, unread) = ctx.notifications.list(&user.id, false).await?;
    Ok(Overview {
        user,
        rooms,
        previous,
        notifications,
        unread,
    })
}
