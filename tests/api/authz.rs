//! The authorization matrix (docs/SECURITY.md, "Who may do what"): every room endpoint and
//! live-channel frame, tried by each kind of caller against a room of their own, with the
//! answer each must get. Every cell runs against a fresh room, so no cell depends on another.
//! The table rendered from `MATRIX` must stand in docs/SECURITY.md word for word; run with
//! `PRINT_MATRIX=1 -- --nocapture` to print what the server answered.

use std::time::Duration;

use crate::common::{
    live::{connect, next_of, send, Ws},
    ok, person, test_config, Person, TestApp, TestDb,
};
use futures::StreamExt;
use reqwest::{multipart, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// Who calls, in the columns' order.
const CALLERS: [&str; 10] = [
    "anonymous",
    "stranger",
    "requester",
    "invitee",
    "kicked",
    "banned",
    "member",
    "admin",
    "owner",
    "other room",
];

/// What each caller gets. `ok` is a 200 (`ack` on the live channel); anything else is the
/// error code. `typing` is `relayed` when a member sees it, `dropped` when nobody does.
/// The room is a `request` room with an owner, an admin, two members (the caller `member` and
/// the target of kicks and bans), a pending request, an invite, someone kicked and someone
/// banned; "other room" is a member of a different room only.
const MATRIX: &[(&str, [&str; 10])] = &[
    (
        "rooms/get",
        [
            "unauthenticated",
            "ok",
            "ok",
            "ok",
            "ok",
            "room_not_found",
            "ok",
            "ok",
            "ok",
            "ok",
        ],
    ),
    (
        "rooms/open",
        [
            "unauthenticated",
            "ok",
            "ok",
            "ok",
            "ok",
            "room_not_found",
            "ok",
            "ok",
            "ok",
            "ok",
        ],
    ),
    (
        "rooms/join",
        [
            "unauthenticated",
            "ok",
            "request_pending",
            "ok",
            "ok",
            "banned",
            "already_member",
            "already_member",
            "already_member",
            "ok",
        ],
    ),
    (
        "rooms/leave",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "ok",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "rooms/members",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "ok",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "messages/history",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "ok",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "messages/since",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "ok",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "messages/send",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "ok",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "uploads",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "ok",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "GET /files/{id}",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "ok",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "invites/accept",
        [
            "unauthenticated",
            "not_invited",
            "not_invited",
            "ok",
            "not_invited",
            "banned",
            "already_member",
            "already_member",
            "already_member",
            "not_invited",
        ],
    ),
    (
        "invites/decline",
        [
            "unauthenticated",
            "not_invited",
            "not_invited",
            "ok",
            "not_invited",
            "room_not_found",
            "not_invited",
            "not_invited",
            "not_invited",
            "not_invited",
        ],
    ),
    (
        "rooms/requests",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "forbidden",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "rooms/approve",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "forbidden",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "rooms/deny",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "forbidden",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "rooms/invite",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "forbidden",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "rooms/invites",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "forbidden",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "rooms/kick",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "forbidden",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "rooms/ban",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "forbidden",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "rooms/unban",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "forbidden",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "rooms/bans",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "forbidden",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "rooms/log",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "forbidden",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "rooms/update",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "forbidden",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "rooms/admin",
        [
            "unauthenticated",
            "room_not_found",
            "room_not_found",
            "room_not_found",
            "room_not_found",
            "room_not_found",
            "forbidden",
            "ok",
            "ok",
            "room_not_found",
        ],
    ),
    (
        "rooms/reports",
        [
            "unauthenticated",
            "room_not_found",
            "room_not_found",
            "room_not_found",
            "room_not_found",
            "room_not_found",
            "forbidden",
            "ok",
            "ok",
            "room_not_found",
        ],
    ),
    (
        "rooms/promote",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "forbidden",
            "forbidden",
            "ok",
            "not_member",
        ],
    ),
    (
        "rooms/demote",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "forbidden",
            "forbidden",
            "ok",
            "not_member",
        ],
    ),
    (
        "rooms/transfer",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "forbidden",
            "forbidden",
            "ok",
            "not_member",
        ],
    ),
    (
        "live: send",
        [
            "unauthenticated",
            "not_member",
            "not_member",
            "not_member",
            "not_member",
            "room_not_found",
            "ok",
            "ok",
            "ok",
            "not_member",
        ],
    ),
    (
        "live: typing",
        [
            "unauthenticated",
            "dropped",
            "dropped",
            "dropped",
            "dropped",
            "dropped",
            "relayed",
            "relayed",
            "relayed",
            "dropped",
        ],
    ),
];

/// The same people in every room; each cell gets a room of its own.
struct World {
    app: TestApp,
    owner: Person,
    admin: Person,
    member: Person,
    /// The member kicked, banned or promoted by the moderation cells.
    target: Person,
    requester: Person,
    invitee: Person,
    kicked: Person,
    banned: Person,
    stranger: Person,
    other_room: Person,
    /// Someone with no tie to anything, invited by the `rooms/invite` cells.
    outsider: Person,
    rooms: std::sync::atomic::AtomicU32,
}

/// A room as the matrix needs it: its id, its first message and a file posted in it.
struct Room {
    id: String,
    first_message: String,
    file: String,
}

impl World {
    async fn new(db: &TestDb) -> Self {
        let mut config = test_config(db);
        // Cells open sockets one after another faster than closed ones are let go.
        config.limits.ws_per_address = 1000;
        config.limits.ws_per_user = 1000;
        config.send_burst = 10_000;
        let app = TestApp::spawn_with(config).await;
        let other_room = person(&app, "other_room").await;
        let elsewhere = ok(
            &app,
            &other_room,
            "/api/rooms/create",
            json!({"name": "Elsewhere", "join_policy": "open"}),
        )
        .await;
        assert!(elsewhere["room"]["id"].is_string());
        Self {
            owner: person(&app, "owner").await,
            admin: person(&app, "admin").await,
            member: person(&app, "member").await,
            target: person(&app, "target").await,
            requester: person(&app, "requester").await,
            invitee: person(&app, "invitee").await,
            kicked: person(&app, "kicked").await,
            banned: person(&app, "banned").await,
            stranger: person(&app, "stranger").await,
            outsider: person(&app, "outsider").await,
            other_room,
            app,
            rooms: Default::default(),
        }
    }

    fn caller(&self, name: &str) -> Option<&Person> {
        Some(match name {
            "anonymous" => return None,
            "stranger" => &self.stranger,
            "requester" => &self.requester,
            "invitee" => &self.invitee,
            "kicked" => &self.kicked,
            "banned" => &self.banned,
            "member" => &self.member,
            "admin" => &self.admin,
            "owner" => &self.owner,
            "other room" => &self.other_room,
            _ => unreachable!("{name}"),
        })
    }

    /// A fresh room with the whole cast in place.
    async fn room(&self) -> Room {
        let n = self
            .rooms
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let app = &self.app;
        let created = ok(
            app,
            &self.owner,
            "/api/rooms/create",
            json!({"name": format!("Matrix {n}"), "join_policy": "open"}),
        )
        .await;
        let id = created["room"]["id"].as_str().unwrap().to_owned();
        let room = json!({"room_id": id});
        for p in [&self.admin, &self.member, &self.target, &self.kicked] {
            ok(app, p, "/api/rooms/join", room.clone()).await;
        }
        let with = |user: &Person| json!({"room_id": id, "user_id": user.id});
        ok(app, &self.owner, "/api/rooms/promote", with(&self.admin)).await;
        ok(app, &self.owner, "/api/rooms/kick", with(&self.kicked)).await;
        ok(
            app,
            &self.owner,
            "/api/rooms/ban",
            json!({"room_id": id, "user": self.banned.id}),
        )
        .await;
        ok(
            app,
            &self.owner,
            "/api/rooms/update",
            json!({"room_id": id, "join_policy": "request"}),
        )
        .await;
        ok(app, &self.requester, "/api/rooms/join", room.clone()).await;
        ok(
            app,
            &self.owner,
            "/api/rooms/invite",
            json!({"room_id": id, "user": self.invitee.id}),
        )
        .await;
        let said = ok(
            app,
            &self.owner,
            "/api/messages/send",
            json!({"room_id": id, "client_id": "first", "body": "first"}),
        )
        .await;
        let (status, posted) = upload(app, Some(&self.owner), &id).await;
        assert_eq!(status, StatusCode::OK, "{posted}");
        Room {
            first_message: said["message"]["id"].as_str().unwrap().to_owned(),
            file: posted["message"]["file"]["id"].as_str().unwrap().to_owned(),
            id,
        }
    }

    /// What `caller` gets from `action` in a fresh room.
    async fn try_cell(&self, action: &str, caller: Option<&Person>) -> String {
        let room = self.room().await;
        let id = room.id.as_str();
        let user = |p: &Person| json!({"room_id": id, "user_id": p.id});
        let body = match action {
            "GET /files/{id}" => return download(&self.app, caller, &room.file).await,
            "uploads" => {
                let (status, body) = upload(&self.app, caller, id).await;
                return outcome(status, &body);
            }
            "live: send" => return self.live_send(caller, id).await,
            "live: typing" => return self.live_typing(caller, id).await,
            "messages/since" => json!({"room_id": id, "after": room.first_message}),
            "messages/send" => json!({"room_id": id, "client_id": "cell", "body": "hello"}),
            "rooms/approve" | "rooms/deny" => user(&self.requester),
            "rooms/invite" => json!({"room_id": id, "user": self.outsider.id}),
            "rooms/kick" | "rooms/promote" | "rooms/transfer" => user(&self.target),
            "rooms/ban" => json!({"room_id": id, "user": self.target.id}),
            "rooms/unban" => user(&self.banned),
            "rooms/demote" => user(&self.admin),
            "rooms/update" => json!({"room_id": id, "topic": "changed"}),
            _ => json!({"room_id": id}),
        };
        let r = self
            .app
            .post(
                &format!("/api/{action}"),
                body,
                caller.map(|p| p.cookie.as_str()),
            )
            .await;
        outcome(r.status, &r.body)
    }

    async fn socket(&self, who: &Person) -> Ws {
        connect(&self.app, who).await
    }

    async fn live_send(&self, caller: Option<&Person>, room: &str) -> String {
        let Some(caller) = caller else {
            return self.anonymous_socket().await;
        };
        let mut ws = self.socket(caller).await;
        send(
            &mut ws,
            json!({"type": "send", "room_id": room, "client_id": "live", "body": "hello"}),
        )
        .await;
        let answer = next_of(&mut ws, &["ack", "error"]).await;
        let _ = ws.close(None).await;
        if answer["type"] == "ack" {
            "ok".to_owned()
        } else {
            answer["code"].as_str().unwrap().to_owned()
        }
    }

    /// Whether a member (the target, watching) sees the caller's typing in the room.
    async fn live_typing(&self, caller: Option<&Person>, room: &str) -> String {
        let Some(caller) = caller else {
            return self.anonymous_socket().await;
        };
        let mut watcher = self.socket(&self.target).await;
        let mut ws = self.socket(caller).await;
        send(&mut ws, json!({"type": "typing", "room_id": room})).await;
        // A ping after it: its pong proves the typing frame was handled before.
        send(&mut ws, json!({"type": "ping"})).await;
        next_of(&mut ws, &["pong"]).await;
        let mut seen = "dropped";
        let until = tokio::time::Instant::now() + Duration::from_millis(300);
        while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(until, watcher.next()).await {
            if let Message::Text(t) = msg {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                if v["type"] == "typing" && v["room_id"] == room && v["user"]["id"] == caller.id {
                    seen = "relayed";
                }
            }
        }
        let _ = ws.close(None).await;
        let _ = watcher.close(None).await;
        seen.to_owned()
    }

    /// The upgrade without a session: refused before any frame.
    async fn anonymous_socket(&self) -> String {
        use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Error};
        let req = format!("ws://{}/ws", self.app.addr)
            .into_client_request()
            .unwrap();
        match tokio_tungstenite::connect_async(req).await {
            Err(Error::Http(res)) if res.status() == StatusCode::UNAUTHORIZED => {
                "unauthenticated".to_owned()
            }
            other => format!("unexpected: {:?}", other.map(|_| "opened")),
        }
    }
}

fn outcome(status: StatusCode, body: &Value) -> String {
    if status == StatusCode::OK {
        "ok".to_owned()
    } else {
        body["code"]
            .as_str()
            .map_or_else(|| format!("HTTP {status}"), str::to_owned)
    }
}

async fn upload(app: &TestApp, who: Option<&Person>, room: &str) -> (StatusCode, Value) {
    let form = multipart::Form::new()
        .text("room_id", room.to_owned())
        .part(
            "file",
            multipart::Part::bytes(b"hello".to_vec()).file_name("hello.txt"),
        );
    let mut req = app.http.post(app.url("/api/uploads")).multipart(form);
    if let Some(who) = who {
        req = req.header("cookie", &who.cookie);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn download(app: &TestApp, who: Option<&Person>, file: &str) -> String {
    let mut req = app.http.get(app.url(&format!("/files/{file}")));
    if let Some(who) = who {
        req = req.header("cookie", &who.cookie);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    outcome(status, &res.json().await.unwrap_or(Value::Null))
}

/// The matrix as a Markdown table, as docs/SECURITY.md holds it.
fn render(rows: &[(String, Vec<String>)]) -> String {
    let mut out = format!(
        "| | {} |\n|---|{}\n",
        CALLERS.join(" | "),
        "---|".repeat(10)
    );
    for (action, cells) in rows {
        out += &format!("| `{action}` | {} |\n", cells.join(" | "));
    }
    out
}

#[tokio::test]
async fn every_caller_gets_exactly_its_answer_from_every_room_endpoint_and_frame() {
    let db = TestDb::new().await;
    let world = World::new(&db).await;
    let mut actual = Vec::new();
    let mut wrong = Vec::new();
    for (action, expected) in MATRIX {
        let mut row = Vec::new();
        for (caller, want) in CALLERS.iter().zip(expected) {
            let got = world.try_cell(action, world.caller(caller)).await;
            if got != *want {
                wrong.push(format!("{action} as {caller}: expected {want}, got {got}"));
            }
            row.push(got);
        }
        actual.push(((*action).to_owned(), row));
    }
    if std::env::var("PRINT_MATRIX").is_ok() {
        println!("{}", render(&actual));
    }
    assert!(
        wrong.is_empty(),
        "{} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );

    let expected: Vec<(String, Vec<String>)> = MATRIX
        .iter()
        .map(|(a, cells)| {
            (
                (*a).to_owned(),
                cells.iter().map(|c| (*c).to_owned()).collect(),
            )
        })
        .collect();
    let doc = std::fs::read_to_string("docs/SECURITY.md").unwrap();
    assert!(
        doc.contains(&render(&expected)),
        "docs/SECURITY.md must hold the matrix as rendered here:\n{}",
        render(&expected)
    );
}

#[tokio::test]
async fn signed_in_endpoints_without_a_room_need_only_a_session() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let someone = person(&app, "someone").await;
    for (path, body) in [
        ("auth/me", json!({})),
        ("me/overview", json!({})),
        ("rooms/mine", json!({})),
        ("rooms/previous", json!({})),
        ("rooms/search", json!({"query": ""})),
        (
            "rooms/create",
            json!({"name": "Mine", "join_policy": "open"}),
        ),
        ("users/search", json!({"prefix": "so"})),
        ("notifications/list", json!({})),
        ("notifications/read", json!({"all": true})),
        ("auth/logout_all", json!({})),
    ] {
        let path = format!("/api/{path}");
        app.post(&path, body.clone(), None)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
        let r = app.post(&path, body, Some(&someone.cookie)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    }
}
