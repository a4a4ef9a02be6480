//! A real WebSocket client of the live channel, and a room to use it in.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    tungstenite::{client::IntoClientRequest, Message},
    MaybeTlsStream, WebSocketStream,
};

use super::{ok, Person, TestApp};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// An open room "Lounge" of an owner ("olga"), two admins ("adam" and "abel", promoted by
/// her) and two members with the names given, in that order.
pub async fn staffed_room(app: &TestApp, members: [&str; 2]) -> (String, [Person; 5]) {
    let owner = super::person(app, "olga").await;
    let adam = super::person(app, "adam").await;
    let abel = super::person(app, "abel").await;
    let first = super::person(app, members[0]).await;
    let second = super::person(app, members[1]).await;
    let room = open_room(app, &owner, "Lounge", &[&adam, &abel, &first, &second]).await;
    for a in [&adam, &abel] {
        ok(
            app,
            &owner,
            "/api/rooms/promote",
            json!({"room_id": room, "user_id": a.id}),
        )
        .await;
    }
    (room, [owner, adam, abel, first, second])
}

/// An open room made by `owner`, joined by `others` in order.
pub async fn open_room(app: &TestApp, owner: &Person, name: &str, others: &[&Person]) -> String {
    let body = ok(
        app,
        owner,
        "/api/rooms/create",
        json!({"name": name, "join_policy": "open"}),
    )
    .await;
    let room = body["room"]["id"].as_str().unwrap().to_owned();
    for p in others {
        ok(app, p, "/api/rooms/join", json!({"room_id": room})).await;
    }
    room
}

/// A live channel opened with a bearer token, past `ready`.
pub async fn connect_with_token(app: &TestApp, token: &str) -> Ws {
    let mut req = format!("ws://{}/ws", app.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("socket opens");
    next_of(&mut ws, &["ready"]).await;
    ws
}

/// A socket signed in as `who`, past its `ready` frame.
pub async fn connect(app: &TestApp, who: &Person) -> Ws {
    let mut req = format!("ws://{}/ws", app.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("cookie", who.cookie.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("socket opens");
    next_of(&mut ws, &["ready"]).await;
    ws
}

/// The next frame of one of `types`, skipping the others.
pub async fn next_of(ws: &mut Ws, types: &[&str]) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {types:?} frame within 10 s"))
            .expect("socket still open")
            .expect("frame reads");
        if let Message::Close(frame) = &msg {
            panic!("closed while waiting for {types:?}: {frame:?}");
        }
        let Message::Text(t) = msg else { continue };
        let v: Value = serde_json::from_str(t.as_str()).unwrap();
        if types.contains(&v["type"].as_str().unwrap_or("")) {
            return v;
        }
    }
}

/// Sends one client frame.
pub async fn send(ws: &mut Ws, frame: Value) {
    ws.send(Message::text(frame.to_string())).await.unwrap();
}

/// Waits for the server to close the socket; its close code and reason.
pub async fn closed(ws: &mut Ws) -> (u16, String) {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("the socket closes within 10 s");
        match msg {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (u16::from(frame.code), frame.reason.as_str().to_owned())
            }
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// The close code and reason a socket closed for `why` carries.
pub fn close_of(why: domain::wire::Close) -> (u16, String) {
    (why.code(), why.reason().to_owned())
}

/// True when the socket is still open: a ping is answered (within 5 s; a closed socket
/// says so at once with its close frame).
pub async fn still_open(ws: &mut Ws) -> bool {
    if ws.send(Message::Ping(Default::default())).await.is_err() {
        return false;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Pong(_)))) => return true,
            Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) => return false,
            Ok(Some(Ok(_))) => continue,
            Err(_) => return false,
        }
    }
}

/// Catch-up after `after`: the text bodies stored or changed since, in order (a deleted
/// message has none).
pub async fn catch_up(app: &TestApp, who: &Person, room: &str, after: &str) -> Vec<String> {
    let r = ok(
        app,
        who,
        "/api/messages/since",
        json!({"room_id": room, "after": after}),
    )
    .await;
    r["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "text")
        .filter_map(|m| m["body"].as_str().map(str::to_owned))
        .collect()
}
