//! Messages over plain HTTP: history, catch-up, a send for clients without a socket, and the
//! catalogues of stickers and colours.

#[cfg(feature = "ssr")]
use domain::message::{Outgoing, OutgoingFields};
use domain::{
    message::{MessageVersion, MessageView},
    search::{SearchHit, SearchOrder},
    RoomId,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

#[cfg(feature = "ssr")]
use crate::ssr::caller;
use crate::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagesResponse {
    pub messages: Vec<MessageView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentResponse {
    pub message: MessageView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageResponse {
    pub message: MessageView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionsResponse {
    pub versions: Vec<MessageVersion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickerView {
    pub name: String,
    pub art: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickersResponse {
    pub stickers: Vec<StickerView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColorsResponse {
    pub colors: Vec<String>,
}

/// The most messages one page of history holds.
pub const HISTORY_PAGE_MAX: u64 = 100;

/// Newest first; `before` is a message id from an earlier page; `limit` ≤ 100 (default 50).
#[server(endpoint = "messages/history", input = Json, output = Json)]
pub async fn message_history(
    room_id: RoomId,
    before: Option<String>,
    limit: Option<u64>,
) -> Result<MessagesResponse, AppError> {
    let (me, ctx) = caller().await?;
    let before = before
        .map(|b| domain::MessageId::parse(&b, "before"))
        .transpose()?;
    let messages = ctx
        .messages
        .history(&me.id, &room_id, before, limit)
        .await?;
    Ok(MessagesResponse { messages })
}

/// Oldest first, everything after the message `after` (up to 1000 at a time).
#[server(endpoint = "messages/since", input = Json, output = Json)]
pub async fn messages_since(room_id: RoomId, after: String) -> Result<MessagesResponse, AppError> {
    let (me, ctx) = caller().await?;
    let after = domain::MessageId::parse(&after, "after")?;
    let messages = ctx.messages.since(&me.id, &room_id, after).await?;
    Ok(MessagesResponse { messages })
}

/// The same as the live channel's `send` frame, for clients without a socket. Its fields
/// are checked once the caller is known, so a stranger hears `unauthenticated` first.
#[server(endpoint = "messages/send", input = Json, output = Json)]
pub async fn send_message(
    room_id: RoomId,
    client_id: String,
    body: Option<String>,
    color: Option<String>,
    sticker: Option<String>,
    reply_to: Option<String>,
) -> Result<SentResponse, AppError> {
    let (me, ctx) = caller().await?;
    let reply_to = reply_to
        .filter(|r| !r.trim().is_empty())
        .map(|r| domain::MessageId::parse(&r, "reply_to"))
        .transpose()?;
    let send = Outgoing::try_from(OutgoingFields {
        room_id,
        client_id,
        body,
        color,
        sticker,
        reply_to,
    })?;
    let message = ctx.messages.send(&me, send).await?;
    Ok(SentResponse { message })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResponse {
    pub hits: Vec<SearchHit>,
    /// Give it back as `cursor` for the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// Messages in the caller's rooms that match `query` (docs/RULES.md, "Search"), newest
/// first unless `order` is `best`; `limit` 1–50 (default 20).
#[server(endpoint = "messages/search", input = Json, output = Json)]
pub async fn search_messages(
    query: String,
    room_id: Option<RoomId>,
    cursor: Option<String>,
    limit: Option<u64>,
    order: Option<SearchOrder>,
) -> Result<SearchResponse, AppError> {
    let (me, ctx) = caller().await?;
    let page = ctx
        .messages
        .search(
            &me,
            service::messages::SearchRequest {
                query: &query,
                room_id: room_id.as_ref(),
                cursor: cursor.as_deref(),
                limit,
                order: order.unwrap_or_default(),
            },
        )
        .await?;
    Ok(SearchResponse {
        hits: page.hits,
        next_cursor: page.next_cursor,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AroundResponse {
    /// Oldest first, the message asked for among them.
    pub messages: Vec<MessageView>,
    pub has_older: bool,
    pub has_newer: bool,
}

/// A message with up to `count` (default 25, at most 50) messages each way around it.
#[server(endpoint = "messages/around", input = Json, output = Json)]
pub async fn messages_around(
    message_id: String,
    count: Option<u64>,
) -> Result<AroundResponse, AppError> {
    let (me, ctx) = caller().await?;
    let id = domain::MessageId::parse(&message_id, "message_id")?;
    let around = ctx.messages.around(&me.id, id, count).await?;
    Ok(AroundResponse {
        messages: around.messages,
        has_older: around.has_older,
        has_newer: around.has_newer,
    })
}

/// One message as it is now (for members of its room).
#[server(endpoint = "messages/get", input = Json, output = Json)]
pub async fn get_message(message_id: String) -> Result<MessageResponse, AppError> {
    let (me, ctx) = caller().await?;
    let id = domain::MessageId::parse(&message_id, "message_id")?;
    let message = ctx.messages.get(&me.id, id).await?;
    Ok(MessageResponse { message })
}

/// Replaces the text of the caller's own message (the `edit` frame over HTTP).
#[server(endpoint = "messages/edit", input = Json, output = Json)]
pub async fn edit_message(message_id: String, body: String) -> Result<MessageResponse, AppError> {
    let (me, ctx) = caller().await?;
    let id = domain::MessageId::parse(&message_id, "message_id")?;
    let message = ctx.messages.edit(&me, id, &body).await?;
    Ok(MessageResponse { message })
}

/// Deletes a message (the `delete` frame over HTTP); answers with its tombstone.
#[server(endpoint = "messages/delete", input = Json, output = Json)]
pub async fn delete_message(
    message_id: String,
    reason: Option<String>,
) -> Result<MessageResponse, AppError> {
    let (me, ctx) = caller().await?;
    let id = domain::MessageId::parse(&message_id, "message_id")?;
    let message = ctx.messages.delete(&me, id, reason.as_deref()).await?;
    Ok(MessageResponse { message })
}

/// Sets (`on`) or takes back an emoji on a message (the `react` frame over HTTP).
#[server(endpoint = "messages/react", input = Json, output = Json)]
pub async fn react_to_message(
    message_id: String,
    emoji: String,
    on: bool,
) -> Result<MessageResponse, AppError> {
    let (me, ctx) = caller().await?;
    let id = domain::MessageId::parse(&message_id, "message_id")?;
    let message = ctx.messages.react(&me, id, &emoji, on).await?;
    Ok(MessageResponse { message })
}

/// A message's texts, oldest first and the current one last (its author and admins).
#[server(endpoint = "messages/versions", input = Json, output = Json)]
pub async fn message_versions(message_id: String) -> Result<VersionsResponse, AppError> {
    let (me, ctx) = caller().await?;
    let id = domain::MessageId::parse(&message_id, "message_id")?;
    let versions = ctx.messages.versions(&me.id, id).await?;
    Ok(VersionsResponse { versions })
}

/// `messages/report`: the report just filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFiled {
    pub report_id: domain::ReportId,
    pub created_at: String,
}

/// Reports someone else's message to its room's admins (docs/RULES.md §5, "Reports"):
/// `reason` is `spam`, `harassment` or `other`; `text` (≤1000) is optional.
#[server(endpoint = "messages/report", input = Json, output = Json)]
pub async fn report_message(
    message_id: String,
    reason: String,
    text: Option<String>,
) -> Result<ReportFiled, AppError> {
    let (me, ctx) = caller().await?;
    let id = domain::MessageId::parse(&message_id, "message_id")?;
    let reason = domain::report::ReportReason::parse(&reason)?;
    let text = domain::report::parse_text(text.as_deref())?;
    let filed = ctx.reports.file(&me.id, id, reason, text).await?;
    Ok(ReportFiled {
        report_id: filed.id,
        created_at: filed.created_at,
    })
}

#[server(endpoint = "stickers/list", input = Json, output = Json)]
pub async fn list_stickers() -> Result<StickersResponse, AppError> {
    let stickers = domain::message::STICKERS
        .iter()
        .map(|s| StickerView {
            name: s.name.to_owned(),
            art: s.art.to_owned(),
        })
        .collect();
    Ok(StickersResponse { stickers })
}

#[server(endpoint = "messages/colors", input = Json, output = Json)]
pub async fn list_colors() -> Result<ColorsResponse, AppError> {
    Ok(ColorsResponse {
        colors: domain::message::PALETTE
            .iter()
            .map(|c| (*c).to_owned())
            .collect(),
    })
}
