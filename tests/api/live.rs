//! The live channel (docs/RULES.md §6–§7) with real WebSocket clients against a real server.

use std::time::Duration;

use crate::common::{
    call,
    live::{catch_up, connect, open_room, send, Ws},
    ok, person, test_config, Person, TestApp, TestDb,
};
use domain::wire::Close;
use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

fn text(room: &str, client_id: &str, body: &str) -> Value {
    json!({"type": "send", "room_id": room, "client_id": client_id, "body": body})
}

/// The next frame of one of `types`, skipping presence and typing chatter.
async fn expect(ws: &mut Ws, types: &[&str]) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {types:?} frame within 10 s"))
            .expect("socket still open")
            .expect("frame reads");
        let Message::Text(t) = msg else { continue };
        let v: Value = serde_json::from_str(t.as_str()).unwrap();
        if types.contains(&v["type"].as_str().unwrap_or("")) {
            return v;
        }
        assert!(
            [
                "presence",
                "typing",
                "member",
                "message",
                "notification",
                "ready"
            ]
            .contains(&v["type"].as_str().unwrap_or("")),
            "unexpected frame while waiting for {types:?}: {v}"
        );
    }
}

/// Frames of `types` that arrive within `wait` (then the socket is quiet).
async fn collect(ws: &mut Ws, types: &[&str], wait: Duration) -> Vec<Value> {
    let mut out = Vec::new();
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(wait, ws.next()).await {
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if types.contains(&v["type"].as_str().unwrap_or("")) {
                out.push(v);
            }
        }
    }
    out
}

async fn user_message_count(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) AS n FROM messages WHERE kind <> 'system'")
        .await
}

#[tokio::test]
async fn a_message_reaches_every_member_once_and_the_senders_other_tab() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let room = open_room(&app, &ann, "Talk", &[&bob]).await;
    let mut a1 = connect(&app, &ann).await;
    let mut a2 = connect(&app, &ann).await;
    let mut b = connect(&app, &bob).await;
    send(&mut a1, json!({"type": "send", "room_id": room, "client_id": "c1", "body": "  hello <b>bob</b> ", "color": "teal"})).await;
    let ack = expect(&mut a1, &["ack", "error"]).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["client_id"], "c1");
    let m = &ack["message"];
    assert_eq!(
        (m["body"].as_str(), m["kind"].as_str(), m["color"].as_str()),
        (Some("hello <b>bob</b>"), Some("text"), Some("teal"))
    );
    assert_eq!(m["author"]["username"], "ann");
    let on_b = collect(&mut b, &["message"], Duration::from_millis(700)).await;
    let on_b: Vec<&Value> = on_b
        .iter()
        .filter(|f| f["message"]["kind"] == "text")
        .collect();
    assert_eq!(on_b.len(), 1, "bob gets it exactly once");
    assert_eq!(on_b[0]["message"]["id"], m["id"]);
    let on_a2 = collect(&mut a2, &["message"], Duration::from_millis(300)).await;
    assert!(
        on_a2.iter().any(|f| f["message"]["id"] == m["id"]),
        "ann's other tab gets it"
    );
    let on_a1 = collect(&mut a1, &["message"], Duration::from_millis(300)).await;
    assert!(
        !on_a1.iter().any(|f| f["message"]["id"] == m["id"]),
        "the sending tab has the ack instead"
    );
    // History has it, newest first.
    let h = ok(
        &app,
        &bob,
        "/api/messages/history",
        json!({"room_id": room}),
    )
    .await;
    assert_eq!(h["messages"][0]["id"], m["id"]);
}

#[tokio::test]
async fn sends_to_rooms_you_are_not_in_are_refused_and_nothing_is_stored() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let room = open_room(&app, &ann, "Talk", &[]).await;
    let secret = ok(
        &app,
        &ann,
        "/api/rooms/create",
        json!({"name": "Secret", "join_policy": "invite"}),
    )
    .await;
    let secret = secret["room"]["id"].as_str().unwrap().to_owned();
    let dead = open_room(&app, &ann, "Dead", &[]).await;
    ok(&app, &ann, "/api/rooms/leave", json!({"room_id": dead})).await;
    let mut b = connect(&app, &bob).await;
    for (room_id, code) in [
        (room.as_str(), "not_member"),
        ("nope", "room_not_found"),
        (secret.as_str(), "room_not_found"),
    ] {
        send(&mut b, text(room_id, "x", "hi")).await;
        let e = expect(&mut b, &["error", "ack"]).await;
        assert_eq!(
            (
                e["type"].as_str(),
                e["code"].as_str(),
                e["client_id"].as_str()
            ),
            (Some("error"), Some(code), Some("x")),
            "{e}"
        );
    }
    let mut a = connect(&app, &ann).await;
    send(&mut a, text(&dead, "y", "anyone?")).await;
    let e = expect(&mut a, &["error", "ack"]).await;
    assert_eq!(e["code"], "room_terminated");
    let r = call(
        &app,
        &bob,
        "/api/messages/send",
        json!({"room_id": room, "client_id": "z", "body": "hi"}),
    )
    .await;
    r.assert_error(StatusCode::FORBIDDEN, "not_member");
    call(
        &app,
        &bob,
        "/api/messages/history",
        json!({"room_id": room}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "not_member");
    assert_eq!(user_message_count(&app).await, 0);
}

#[tokio::test]
async fn kicked_banned_and_terminated_stop_receiving_the_room_at_once() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let cat = person(&app, "cat").await;
    let room = open_room(&app, &ann, "Mod", &[&bob, &cat]).await;
    let mut a = connect(&app, &ann).await;
    let mut b = connect(&app, &bob).await;
    let mut c = connect(&app, &cat).await;

    ok(
        &app,
        &ann,
        "/api/rooms/kick",
        json!({"room_id": room, "user_id": bob.id}),
    )
    .await;
    let f = expect(&mut b, &["member"]).await;
    assert_eq!(
        (f["event"].as_str(), f["user"]["id"].as_str()),
        (Some("kicked"), Some(bob.id.as_str()))
    );
    let n = expect(&mut b, &["notification"]).await;
    assert_eq!(n["notification"]["kind"], "kicked");
    send(&mut a, text(&room, "after-kick", "bob is gone")).await;
    expect(&mut a, &["ack"]).await;
    let later = collect(&mut b, &["message"], Duration::from_millis(700)).await;
    assert!(
        later
            .iter()
            .all(|m| m["message"]["room_id"] != room.as_str()),
        "nothing more of the room: {later:?}"
    );
    // Cat sees the system line and the message.
    let seen = collect(&mut c, &["message"], Duration::from_millis(500)).await;
    let bodies: Vec<&str> = seen
        .iter()
        .map(|m| m["message"]["body"].as_str().unwrap())
        .collect();
    assert!(
        bodies.contains(&"bob was kicked by ann") && bodies.contains(&"bob is gone"),
        "{bodies:?}"
    );

    ok(
        &app,
        &ann,
        "/api/rooms/ban",
        json!({"room_id": room, "user": cat.id}),
    )
    .await;
    let f = expect(&mut c, &["member"]).await;
    assert_eq!(f["event"], "banned");

    // Ann alone; bob comes back; ann leaves: the room terminates and bob is told.
    ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await;
    let f = expect(&mut b, &["member"]).await;
    assert_eq!(
        (f["event"].as_str(), f["user"]["id"].as_str()),
        (Some("joined"), Some(bob.id.as_str()))
    );
    ok(&app, &ann, "/api/rooms/leave", json!({"room_id": room})).await;
    let t = expect(&mut b, &["room_terminated"]).await;
    assert_eq!(t["room_id"], room.as_str());
    send(&mut b, text(&room, "too-late", "hello?")).await;
    assert_eq!(
        expect(&mut b, &["error", "ack"]).await["code"],
        "room_terminated"
    );
}

#[tokio::test]
async fn a_new_member_receives_from_the_moment_of_joining_and_notifications_arrive_live() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let room = open_room(&app, &ann, "Open", &[]).await;
    let mut a = connect(&app, &ann).await;
    let mut b = connect(&app, &bob).await;
    send(&mut a, text(&room, "before", "before bob")).await;
    expect(&mut a, &["ack"]).await;
    ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await;
    send(&mut a, text(&room, "after", "after bob")).await;
    expect(&mut a, &["ack"]).await;
    let got = collect(&mut b, &["message"], Duration::from_millis(700)).await;
    let bodies: Vec<&str> = got
        .iter()
        .map(|m| m["message"]["body"].as_str().unwrap())
        .collect();
    assert!(
        bodies.contains(&"after bob") && !bodies.contains(&"before bob"),
        "{bodies:?}"
    );

    let private = ok(
        &app,
        &ann,
        "/api/rooms/create",
        json!({"name": "Inner", "join_policy": "invite"}),
    )
    .await;
    let private = private["room"]["id"].as_str().unwrap().to_owned();
    ok(
        &app,
        &ann,
        "/api/rooms/invite",
        json!({"room_id": private, "user": "bob"}),
    )
    .await;
    let n = expect(&mut b, &["notification"]).await;
    assert_eq!(
        (
            n["notification"]["kind"].as_str(),
            n["notification"]["room_id"].as_str()
        ),
        (Some("invited"), Some(private.as_str()))
    );
}

#[tokio::test]
async fn a_burst_of_twenty_stores_five_and_refuses_the_rest_with_the_wait() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let room = open_room(&app, &ann, "Fast", &[]).await;
    let mut a = connect(&app, &ann).await;
    for i in 0..20 {
        send(&mut a, text(&room, &format!("b{i}"), "spam")).await;
    }
    let mut acks = 0;
    let mut limited = 0;
    for _ in 0..20 {
        let f = expect(&mut a, &["ack", "error"]).await;
        if f["type"] == "ack" {
            acks += 1;
        } else {
            assert_eq!(f["code"], "rate_limited", "{f}");
            assert!(f["retry_after_ms"].as_u64().unwrap() > 0);
            assert!(f["client_id"].as_str().unwrap().starts_with('b'));
            limited += 1;
        }
    }
    assert_eq!((acks, limited), (5, 15));
    assert_eq!(user_message_count(&app).await, 5);
}

#[tokio::test]
async fn sends_made_without_waiting_are_stored_and_answered_in_the_order_sent() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    // 150 allowed at once, the rest refused: refusals must keep their place among the acks.
    config.send_burst = 150;
    config.send_period_ms = 60_000;
    let app = TestApp::spawn_with(config).await;
    let (ann, bob) = (person(&app, "ann").await, person(&app, "bob").await);
    let room = open_room(&app, &ann, "Pipelined", &[&bob]).await;
    let mut a = connect(&app, &ann).await;
    let mut b = connect(&app, &bob).await;
    // Far more than the 32 a socket may have waiting: the reader must pause, not drop any.
    let n = 200;
    for i in 0..n {
        send(&mut a, text(&room, &format!("p{i}"), &format!("body {i}"))).await;
    }
    let mut answered = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..n {
        let f = expect(&mut a, &["ack", "error"]).await;
        answered.push(f["client_id"].as_str().unwrap().to_owned());
        if f["type"] == "ack" {
            ids.push(f["message"]["id"].as_str().unwrap().to_owned());
        } else {
            assert_eq!(f["code"], "rate_limited", "{f}");
        }
    }
    let sent: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
    assert_eq!(answered, sent, "answers come in the order of the sends");
    assert_eq!(ids.len(), 150);
    // Stored in the order sent: the room's history, oldest first, is p0…p149.
    let mut seen = Vec::new();
    for _ in 0..150 {
        let m = expect(&mut b, &["message"]).await;
        assert_eq!(m["message"]["id"].as_str().unwrap(), ids[seen.len()]);
        seen.push(m["message"]["body"].as_str().unwrap().to_owned());
    }
    let expected: Vec<String> = (0..150).map(|i| format!("body {i}")).collect();
    assert_eq!(
        seen, expected,
        "the other member sees them in the order sent"
    );
    let since = ok(
        &app,
        &bob,
        "/api/messages/history",
        json!({"room_id": room, "limit": 100}),
    )
    .await;
    let newest: Vec<&str> = since["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    let mut want: Vec<String> = (50..150).map(|i| format!("body {i}")).collect();
    want.reverse();
    assert_eq!(newest, want, "history, newest first");
    assert_eq!(user_message_count(&app).await, 150);
}

#[tokio::test]
async fn the_same_client_id_three_times_is_stored_once_and_acked_three_times() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let room = open_room(&app, &ann, "Retry", &[]).await;
    let mut a = connect(&app, &ann).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        send(&mut a, text(&room, "same", "once only")).await;
        let ack = expect(&mut a, &["ack"]).await;
        ids.push(ack["message"]["id"].clone());
    }
    assert!(ids.iter().all(|id| id == &ids[0]), "{ids:?}");
    // The HTTP send recognises it too.
    let r = ok(
        &app,
        &ann,
        "/api/messages/send",
        json!({"room_id": room, "client_id": "same", "body": "once only"}),
    )
    .await;
    assert_eq!(r["message"]["id"], ids[0]);
    assert_eq!(user_message_count(&app).await, 1);
}

#[tokio::test]
async fn bad_frames_get_an_error_or_a_clean_close_and_the_server_keeps_serving() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let room = open_room(&app, &ann, "Bad", &[]).await;
    let mut a = connect(&app, &ann).await;
    let long = "x".repeat(4001);
    let cases = [
        "not json".to_owned(),
        json!({"type": "dance"}).to_string(),
        json!({"type": "send", "room_id": room}).to_string(),
        text(&room, "long", &long).to_string(),
        text(&room, "empty", "   ").to_string(),
        json!({"type": "send", "room_id": room, "client_id": "", "body": "hi"}).to_string(),
        json!({"type": "send", "room_id": room, "client_id": "c", "body": "hi", "color": "#f00"})
            .to_string(),
        json!({"type": "send", "room_id": room, "client_id": "s", "sticker": "nope"}).to_string(),
    ];
    for case in cases {
        a.send(Message::text(case.clone())).await.unwrap();
        let e = expect(&mut a, &["error", "ack"]).await;
        assert_eq!(
            (e["type"].as_str(), e["code"].as_str()),
            (Some("error"), Some("invalid_input")),
            "{case}: {e}"
        );
        assert!(e["message"].as_str().unwrap().len() > 10);
    }
    a.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    assert_eq!(expect(&mut a, &["error"]).await["code"], "invalid_input");
    send(&mut a, json!({"type": "ping"})).await;
    expect(&mut a, &["pong"]).await;
    // A sticker by name is fine.
    send(
        &mut a,
        json!({"type": "send", "room_id": room, "client_id": "st", "sticker": "shrug"}),
    )
    .await;
    let ack = expect(&mut a, &["ack"]).await;
    assert_eq!(
        (
            ack["message"]["kind"].as_str(),
            ack["message"]["sticker"].as_str()
        ),
        (Some("sticker"), Some("shrug"))
    );
    // A frame over the size limit closes this socket…
    a.send(Message::text("y".repeat(64 * 1024))).await.ok();
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match a.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break true,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .unwrap();
    assert!(closed);
    // …and the server goes on serving.
    let mut again = connect(&app, &ann).await;
    send(&mut again, text(&room, "still", "still here")).await;
    expect(&mut again, &["ack"]).await;
    assert_eq!(user_message_count(&app).await, 2);
}

#[tokio::test]
async fn the_socket_needs_a_session_and_a_matching_origin() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let req = format!("ws://{}/ws", app.addr)
        .into_client_request()
        .unwrap();
    let err = tokio_tungstenite::connect_async(req).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    let mut req = format!("ws://{}/ws", app.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("cookie", ann.cookie.parse().unwrap());
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let err = tokio_tungstenite::connect_async(req).await.unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
    let mut req = format!("ws://{}/ws", app.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("cookie", ann.cookie.parse().unwrap());
    req.headers_mut()
        .insert("origin", format!("http://{}", app.addr).parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_ok());
}

#[tokio::test]
async fn after_a_reconnect_catch_up_returns_every_missed_message_in_order_even_across_a_restart() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.send_burst = 1000;
    let app = TestApp::spawn_with(config.clone()).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let room = open_room(&app, &ann, "Catch", &[&bob]).await;
    let mut a = connect(&app, &ann).await;
    let mut b = connect(&app, &bob).await;
    send(&mut a, text(&room, "seen", "seen by bob")).await;
    expect(&mut a, &["ack"]).await;
    let last_seen = expect(&mut b, &["message"]).await;
    let last_seen = loop {
        if last_seen["message"]["body"] == "seen by bob" {
            break last_seen["message"]["id"].as_str().unwrap().to_owned();
        }
        let m = expect(&mut b, &["message"]).await;
        if m["message"]["body"] == "seen by bob" {
            break m["message"]["id"].as_str().unwrap().to_owned();
        }
    };
    drop(b);
    for i in 0..50 {
        send(
            &mut a,
            text(&room, &format!("m{i}"), &format!("missed {i}")),
        )
        .await;
        expect(&mut a, &["ack"]).await;
    }
    let expected: Vec<String> = (0..50).map(|i| format!("missed {i}")).collect();
    let _b = connect(&app, &bob).await;
    assert_eq!(catch_up(&app, &bob, &room, &last_seen).await, expected);

    // The same after the server restarts.
    drop(a);
    app.stop().await;
    let app = TestApp::spawn_with(config).await;
    assert_eq!(catch_up(&app, &bob, &room, &last_seen).await, expected);
    // And history pages backwards by cursor without overlap.
    let first = ok(
        &app,
        &bob,
        "/api/messages/history",
        json!({"room_id": room, "limit": 20}),
    )
    .await;
    let cursor = first["messages"][19]["id"].clone();
    let second = ok(
        &app,
        &bob,
        "/api/messages/history",
        json!({"room_id": room, "limit": 20, "before": cursor}),
    )
    .await;
    let a_ids: Vec<i64> = first["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().parse().unwrap())
        .collect();
    let b_ids: Vec<i64> = second["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(a_ids.windows(2).all(|w| w[0] > w[1]) && b_ids.windows(2).all(|w| w[0] > w[1]));
    assert!(a_ids.last().unwrap() > b_ids.first().unwrap());
}

#[tokio::test]
async fn a_reader_that_never_reads_is_dropped_while_the_others_keep_receiving() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.send_burst = 100_000;
    config.socket_queue = 16;
    let app = TestApp::spawn_with(config).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let sid = person(&app, "sid").await;
    let room = open_room(&app, &ann, "Flood", &[&bob, &sid]).await;
    let mut slow = connect(&app, &sid).await;
    let mut b = connect(&app, &bob).await;
    let mut a = connect(&app, &ann).await;
    let reader = tokio::spawn(async move {
        let mut n = 0;
        while n < 2000 {
            let f = expect(&mut b, &["message"]).await;
            if f["message"]["kind"] == "text" {
                n += 1;
            }
        }
        n
    });
    let big = "z".repeat(3900);
    for i in 0..2000 {
        send(&mut a, text(&room, &format!("f{i}"), &big)).await;
        expect(&mut a, &["ack"]).await;
    }
    assert_eq!(
        reader.await.unwrap(),
        2000,
        "the reading member got every message"
    );
    // The slow socket was closed: reading it now ends, after whatever was buffered.
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match slow.next().await {
                None | Some(Err(_)) => break "dropped".to_owned(),
                Some(Ok(Message::Close(frame))) => {
                    break format!("close {}", frame.map(|f| u16::from(f.code)).unwrap_or(0))
                }
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .expect("the slow socket ends");
    let resync = format!("close {}", Close::Resync.code());
    assert!(ended == resync || ended == "dropped", "{ended}");
}

#[tokio::test]
async fn graceful_shutdown_says_going_away() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let mut a = connect(&app, &ann).await;
    let stopping = tokio::spawn(app.stop());
    let code = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match a.next().await {
                Some(Ok(Message::Close(Some(frame)))) => break u16::from(frame.code),
                None | Some(Err(_)) | Some(Ok(Message::Close(None))) => break 0,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(code, Close::GoingAway.code());
    stopping.await.unwrap();
}

#[tokio::test]
async fn typing_reaches_the_others_and_presence_lists_who_is_online() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let cat = person(&app, "cat").await;
    let room = open_room(&app, &ann, "Chatty", &[&bob]).await;
    let mut a = connect(&app, &ann).await;
    let mut b = connect(&app, &bob).await;
    // Ann sees bob come online.
    let online = loop {
        let p = expect(&mut a, &["presence"]).await;
        let names: Vec<String> = p["online"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_owned())
            .collect();
        if names.len() == 2 {
            assert_eq!(p["online_count"], 2);
            break names;
        }
    };
    assert_eq!(online, ["ann", "bob"]);
    send(&mut a, json!({"type": "typing", "room_id": room})).await;
    let t = expect(&mut b, &["typing"]).await;
    assert_eq!(
        (t["room_id"].as_str(), t["user"]["username"].as_str()),
        (Some(room.as_str()), Some("ann"))
    );
    assert!(
        collect(&mut a, &["typing"], Duration::from_millis(300))
            .await
            .is_empty(),
        "no echo to the typist"
    );
    // Typing in a room you are not in goes nowhere.
    let mut c = connect(&app, &cat).await;
    send(&mut c, json!({"type": "typing", "room_id": room})).await;
    assert!(collect(&mut b, &["typing"], Duration::from_millis(300))
        .await
        .is_empty());
    // Bob leaves the socket: ann sees him go offline.
    drop(b);
    let online = loop {
        let p = expect(&mut a, &["presence"]).await;
        if p["online"].as_array().unwrap().len() == 1 {
            break p["online"][0]["username"].clone();
        }
    };
    assert_eq!(online, "ann");
}

#[tokio::test]
async fn heartbeats_close_a_silent_socket_and_keep_a_live_one() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.ws_ping_ms = 200;
    let app = TestApp::spawn_with(config).await;
    let ann = person(&app, "ann").await;
    let mut silent = connect(&app, &ann).await;
    let mut live = connect(&app, &ann).await;
    // The live client reads (and so answers pings) for 1.5 s; the silent one does not read.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1500);
    let mut pings = 0;
    while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, live.next()).await {
        match msg.expect("the live socket stays open") {
            Message::Ping(_) => pings += 1,
            Message::Close(frame) => panic!("a live socket was closed: {frame:?}"),
            _ => {}
        }
    }
    assert!(pings >= 3, "pinged every 200 ms: {pings}");
    send(&mut live, json!({"type": "ping"})).await;
    expect(&mut live, &["pong"]).await;
    // The silent one was closed after two unanswered pings.
    let reason = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match silent.next().await {
                Some(Ok(Message::Close(Some(frame)))) => break frame.reason.to_string(),
                None | Some(Err(_)) | Some(Ok(Message::Close(None))) => break String::new(),
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .unwrap();
    // The close frame itself may be lost: the silent client's auto-pong meets a closed
    // connection first. Either way the server hung up on it, and only on it.
    assert!(
        reason == "no answer to pings" || reason.is_empty(),
        "{reason}"
    );
}

/// A config whose send limit never gets in the way of a test that sends a lot.
fn unlimited_sends(db: &TestDb) -> parlor::config::Config {
    let mut config = test_config(db);
    config.send_burst = 10_000;
    config.send_period_ms = 1;
    config
}

#[tokio::test]
async fn a_socket_opening_during_a_kick_never_carries_the_room() {
    let db = TestDb::new().await;
    let app = TestApp::spawn_with(unlimited_sends(&db)).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let room = open_room(&app, &ann, "Race", &[&bob]).await;
    // Bob's own room: an ack from it fences off everything published before.
    let side = open_room(&app, &bob, "Side", &[]).await;
    let mut a = connect(&app, &ann).await;
    let kick = json!({"room_id": room, "user_id": bob.id});
    for round in 0..25 {
        // Bob's socket opens while he is being kicked.
        let (mut b, _) = tokio::join!(
            connect(&app, &bob),
            ok(&app, &ann, "/api/rooms/kick", kick.clone())
        );
        send(&mut a, text(&room, &format!("after-{round}"), "bob is out")).await;
        expect(&mut a, &["ack"]).await;
        // Everything ann's message was published to is queued before bob's ack.
        send(&mut b, text(&side, &format!("fence-{round}"), "fence")).await;
        loop {
            let f = expect(&mut b, &["message", "ack"]).await;
            if f["type"] == "ack" {
                break;
            }
            assert_ne!(
                f["message"]["room_id"],
                room.as_str(),
                "round {round}: a kicked user's socket carried the room: {f}"
            );
        }
        ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await;
        b.close(None).await.ok();
    }
}

#[tokio::test]
async fn a_send_racing_a_termination_is_stored_before_it_or_refused() {
    let db = TestDb::new().await;
    let app = TestApp::spawn_with(unlimited_sends(&db)).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let mut b = connect(&app, &bob).await;
    let (mut acked, mut refused) = (0, 0);
    for round in 0..25 {
        let room = open_room(&app, &ann, &format!("Doomed {round}"), &[&bob]).await;
        expect(&mut b, &["member"]).await;
        // Bob posts while ann's leaving terminates the room (admin + one member).
        let (_, left) = tokio::join!(
            send(&mut b, text(&room, &format!("race-{round}"), "last words")),
            ok(&app, &ann, "/api/rooms/leave", json!({"room_id": room})),
        );
        assert_eq!(left["terminated"], true);
        // Bob hears of the termination and gets an answer to his send, in either order.
        let mut answer = expect(&mut b, &["ack", "error", "room_terminated"]).await;
        if answer["type"] == "room_terminated" {
            answer = expect(&mut b, &["ack", "error"]).await;
        } else {
            expect(&mut b, &["room_terminated"]).await;
        }
        match answer["type"].as_str() {
            Some("ack") => acked += 1,
            _ => {
                assert!(
                    ["room_terminated", "not_member"].contains(&answer["code"].as_str().unwrap()),
                    "{answer}"
                );
                refused += 1;
            }
        }
        // Nothing posted after the room's last system line (its termination).
        let after_end = app
            .count(&format!(
                "SELECT COUNT(*) AS n FROM messages WHERE room_id = '{room}' AND kind <> 'system' \
                 AND id > (SELECT MAX(id) FROM messages WHERE room_id = '{room}' AND kind = 'system')"
            ))
            .await;
        assert_eq!(
            after_end, 0,
            "round {round}: a message stored after the termination"
        );
    }
    assert_eq!(acked + refused, 25);
}

#[tokio::test]
async fn logging_out_closes_that_sessions_sockets_and_no_others() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    // Bob signs in a second time, on another device.
    let r = app
        .post(
            "/api/auth/login",
            json!({"username": "bob", "password": crate::common::PASSWORD}),
            None,
        )
        .await;
    let phone = Person {
        id: bob.id.clone(),
        cookie: r.cookie().expect("login sets a session cookie"),
    };
    let room = open_room(&app, &ann, "Lobby", &[&bob]).await;
    let mut laptop_ws = connect(&app, &bob).await;
    let mut phone_ws = connect(&app, &phone).await;

    ok(&app, &bob, "/api/auth/logout", json!({})).await;
    // The laptop's socket is closed as signed out, and reads nothing more.
    let closed = loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), laptop_ws.next())
            .await
            .expect("the socket closes within 10 s");
        match msg {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    let frame = closed.expect("a close code");
    assert_eq!(
        (u16::from(frame.code), frame.reason.as_str()),
        (Close::SignedOut.code(), Close::SignedOut.reason())
    );
    // The phone's session is another one: its socket still carries the room.
    let mut a = connect(&app, &ann).await;
    send(&mut a, text(&room, "after-logout", "still there?")).await;
    let m = expect(&mut phone_ws, &["message"]).await;
    assert_eq!(m["message"]["body"], "still there?");
}

#[tokio::test]
async fn new_settings_reach_the_members_live() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let room = open_room(&app, &ann, "Settled", &[&bob]).await;
    let mut b = connect(&app, &bob).await;
    ok(
        &app,
        &ann,
        "/api/rooms/update",
        json!({"room_id": room, "topic": "Chess on Sundays", "join_policy": "invite", "max_members": 9}),
    )
    .await;
    let f = expect(&mut b, &["room_updated"]).await;
    assert_eq!(f["room"]["id"], room.as_str());
    assert_eq!(f["room"]["topic"], "Chess on Sundays");
    assert_eq!(f["room"]["join_policy"], "invite");
    assert_eq!(f["room"]["max_members"], 9);
    assert_eq!(f["room"]["member_count"], 2);
}
