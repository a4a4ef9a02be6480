//! What a member or an admin does in a room, one API call each (with the lookup of a person
//! by name where the endpoint takes an id): shared by the scriptable commands and the
//! full-screen client's slash commands, so both say the same thing to the server.

use domain::RoomId;
use serde_json::{json, Value};

use crate::{client::Client, error::CliError, user_in};

/// How a join went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joined {
    Member,
    /// A request room: an admin will answer.
    Asked,
}

pub async fn join(client: &Client, room: &RoomId) -> Result<Joined, CliError> {
    let joined: Value = client.call("rooms/join", json!({"room_id": room})).await?;
    Ok(match joined["status"].as_str() {
        Some("requested") => Joined::Asked,
        _ => Joined::Member,
    })
}

pub async fn leave(client: &Client, room: &RoomId) -> Result<(), CliError> {
    call(client, "rooms/leave", json!({"room_id": room})).await
}

pub async fn invite(client: &Client, room: &RoomId, user: &str) -> Result<(), CliError> {
    call(
        client,
        "rooms/invite",
        json!({"room_id": room, "user": user}),
    )
    .await
}

pub async fn kick(
    client: &Client,
    room: &RoomId,
    user: &str,
    reason: Option<&str>,
) -> Result<(), CliError> {
    let who = user_in(client, "rooms/members", "members", room, user).await?;
    let body = json!({"room_id": room, "user_id": who, "reason": reason});
    call(client, "rooms/kick", body).await
}

pub async fn ban(
    client: &Client,
    room: &RoomId,
    user: &str,
    reason: Option<&str>,
    minutes: Option<u32>,
) -> Result<(), CliError> {
    let body = json!({"room_id": room, "user": user, "reason": reason, "minutes": minutes});
    call(client, "rooms/ban", body).await
}

pub async fn unban(client: &Client, room: &RoomId, user: &str) -> Result<(), CliError> {
    let who = user_in(client, "rooms/bans", "bans", room, user).await?;
    call(
        client,
        "rooms/unban",
        json!({"room_id": room, "user_id": who}),
    )
    .await
}

pub async fn approve(client: &Client, room: &RoomId, user: &str) -> Result<(), CliError> {
    let who = user_in(client, "rooms/requests", "requests", room, user).await?;
    call(
        client,
        "rooms/approve",
        json!({"room_id": room, "user_id": who}),
    )
    .await
}

/// A call whose answer says nothing past "done".
async fn call(client: &Client, path: &str, body: Value) -> Result<(), CliError> {
    client.call::<Value>(path, body).await.map(drop)
}
