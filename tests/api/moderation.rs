//! Timeouts, timed bans, slow mode and announcement rooms (docs/RULES.md §5, "Timeouts, slow
//! mode and announcement rooms"), on a real server with real sockets. Time passes by the
//! server's adjustable clock (`Config::clock`), never by sleeping for minutes.

use std::time::Duration;

use reqwest::{multipart, StatusCode};
use serde_json::{json, Value};

use crate::common::{
    call,
    live::{connect, next_of, open_room, send, staffed_room, Ws},
    ok, person, say, test_config, Person, Reply, TestApp, TestDb,
};
use parlor::config::Config;
use service::time::Clock;

/// A server whose clock the test moves, and which records ended timeouts quickly.
fn clocked(db: &TestDb) -> (Config, Clock) {
    let mut config = test_config(db);
    let clock = Clock::adjustable();
    config.clock = clock.clone();
    config.expiry_sweep_ms = 100;
    // The send rate has tests of its own; here only the room's rules refuse.
    config.send_burst = 1000;
    (config, clock)
}

const MINUTE: Duration = Duration::from_secs(60);

async fn send_http(app: &TestApp, who: &Person, room: &str, body: &str, client_id: &str) -> Reply {
    call(
        app,
        who,
        "/api/messages/send",
        json!({"room_id": room, "client_id": client_id, "body": body}),
    )
    .await
}

async fn upload(app: &TestApp, who: &Person, room: &str) -> Reply {
    let form = multipart::Form::new()
        .text("room_id", room.to_owned())
        .part(
            "file",
            multipart::Part::bytes(b"hello".to_vec()).file_name("note.txt"),
        );
    let resp = app
        .http
        .post(app.url("/api/uploads"))
        .header("cookie", &who.cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    Reply::from(resp).await
}

fn retry_ms(r: &Reply) -> u64 {
    r.body["retry_after_ms"].as_u64().expect("retry_after_ms")
}

async fn mute(app: &TestApp, by: &Person, room: &str, user: &str, minutes: Value) -> Reply {
    call(
        app,
        by,
        "/api/rooms/mute",
        json!({"room_id": room, "user": user, "minutes": minutes, "reason": "flooding"}),
    )
    .await
}

/// A room with an owner, two admins and two members.
async fn staffed(app: &TestApp) -> (String, [Person; 5]) {
    staffed_room(app, ["mia", "ned"]).await
}

async fn next_error(ws: &mut Ws) -> Value {
    next_of(ws, &["error"]).await
}

async fn log_kinds(app: &TestApp, admin: &Person, room: &str) -> Vec<String> {
    ok(app, admin, "/api/rooms/log", json!({"room_id": room})).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn notification_kinds(app: &TestApp, who: &Person) -> Vec<String> {
    ok(app, who, "/api/notifications/list", json!({})).await["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn timeouts_follow_the_rank_rule_and_refuse_bad_input() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (room, [owner, admin, admin2, mia, ned]) = staffed(&app).await;
    let stranger = person(&app, "stan").await;
    mute(&app, &admin, &room, &owner.id, json!(5))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    mute(&app, &admin, &room, &admin2.id, json!(5))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    mute(&app, &mia, &room, &ned.id, json!(5))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    mute(&app, &admin, &room, &admin.id, json!(5))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    mute(&app, &admin, &room, &stranger.id, json!(5))
        .await
        .assert_error(StatusCode::FORBIDDEN, "not_member");
    // Someone else's room: it does not exist for them.
    let other = open_room(&app, &stranger, "Elsewhere", &[]).await;
    mute(&app, &admin, &other, &stranger.id, json!(5))
        .await
        .assert_error(StatusCode::FORBIDDEN, "not_member");
    for bad in [json!(0), json!(-5), json!(40_321), json!(i64::MAX)] {
        mute(&app, &admin, &room, &mia.id, bad)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    }
    for bad in [json!("ten"), json!(null), json!([5]), json!(1e12)] {
        let r = mute(&app, &admin, &room, &mia.id, bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    }
    let r = call(
        &app,
        &admin,
        "/api/rooms/mute",
        json!({"room_id": room, "user": "nobody-here", "minutes": 5}),
    )
    .await;
    r.assert_error(StatusCode::NOT_FOUND, "user_not_found");
    // The owner times out an admin; an admin a member, by username.
    ok(
        &app,
        &owner,
        "/api/rooms/mute",
        json!({"room_id": room, "user": admin2.id, "minutes": 60}),
    )
    .await;
    let body = ok(
        &app,
        &admin,
        "/api/rooms/mute",
        json!({"room_id": room, "user": "mia", "minutes": 5, "reason": "flooding"}),
    )
    .await;
    assert!(body["until"].as_str().unwrap().ends_with('Z'), "{body}");
    // Nothing refused was written: only the two timeouts are stored.
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM mutes").await, 2);
    let log = ok(&app, &owner, "/api/rooms/log", json!({"room_id": room})).await;
    let entry = &log["events"][0];
    assert_eq!(entry["kind"], "muted");
    assert_eq!(entry["reason"], "flooding");
    assert!(entry["until"].is_string(), "{entry}");
    // Lifting one: admins only, and only a timeout that is there.
    let unmute = json!({"room_id": room, "user_id": mia.id});
    call(&app, &ned, "/api/rooms/unmute", unmute.clone())
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    ok(&app, &admin, "/api/rooms/unmute", unmute.clone()).await;
    call(&app, &admin, "/api/rooms/unmute", unmute)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(notification_kinds(&app, &mia)
        .await
        .starts_with(&["unmuted".to_owned(), "muted".to_owned()]));
}

#[tokio::test]
async fn a_timeout_binds_sends_edits_reactions_and_uploads_until_it_ends() {
    let db = TestDb::new().await;
    let (config, clock) = clocked(&db);
    let app = TestApp::spawn_with(config).await;
    let (room, [_owner, admin, _admin2, mia, ned]) = staffed(&app).await;
    let before = say(&app, &mia, &room, "before the timeout").await;
    let mut mia_ws = connect(&app, &mia).await;
    let mut ned_ws = connect(&app, &ned).await;
    mute(&app, &admin, &room, "mia", json!(5)).await;
    // The room hears of it, with its end; she gets a notification.
    let frame = next_of(&mut ned_ws, &["member"]).await;
    assert_eq!(frame["event"], "muted");
    assert_eq!(frame["user"]["id"], mia.id.as_str());
    assert!(frame["until"].is_string(), "{frame}");
    let note = next_of(&mut mia_ws, &["notification"]).await;
    assert_eq!(note["notification"]["kind"], "muted");
    assert_eq!(note["notification"]["reason"], "flooding");

    let r = send_http(&app, &mia, &room, "let me talk", "m-1").await;
    r.assert_error(StatusCode::FORBIDDEN, "muted");
    assert!((290_000..=300_000).contains(&retry_ms(&r)), "{}", r.text);
    send(
        &mut mia_ws,
        json!({"type": "send", "room_id": room, "client_id": "m-2", "body": "hello?"}),
    )
    .await;
    let err = next_error(&mut mia_ws).await;
    assert_eq!(err["code"], "muted");
    assert_eq!(err["client_id"], "m-2");
    assert!(err["retry_after_ms"].as_u64().unwrap() > 290_000);
    let mid = crate::common::id(&before);
    call(
        &app,
        &mia,
        "/api/messages/edit",
        json!({"message_id": mid, "body": "edited"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "muted");
    call(
        &app,
        &mia,
        "/api/messages/react",
        json!({"message_id": mid, "emoji": "👍", "on": true}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "muted");
    upload(&app, &mia, &room)
        .await
        .assert_error(StatusCode::FORBIDDEN, "muted");
    // She still reads the room, sees her timeout, and may delete her own message.
    let history = ok(
        &app,
        &mia,
        "/api/messages/history",
        json!({"room_id": room}),
    )
    .await;
    assert!(!history["messages"].as_array().unwrap().is_empty());
    let page = ok(&app, &mia, "/api/rooms/open", json!({"room_id": room})).await;
    assert!(page["muted_until"].is_string(), "{page}");
    let members = ok(&app, &ned, "/api/rooms/members", json!({"room_id": room})).await;
    let listed = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"]["id"] == mia.id.as_str())
        .unwrap()
        .clone();
    assert!(listed["muted_until"].is_string(), "{listed}");
    // Nobody else is bound by it.
    send_http(&app, &ned, &room, "I can talk", "n-1").await;
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM messages WHERE client_id IN ('m-1', 'm-2')")
            .await,
        0
    );

    // Five minutes later it is over by itself: the send goes, the log and she hear of it.
    clock.advance(5 * MINUTE + Duration::from_secs(1));
    let r = send_http(&app, &mia, &room, "back", "m-3").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    ok(
        &app,
        &mia,
        "/api/messages/react",
        json!({"message_id": mid, "emoji": "👍", "on": true}),
    )
    .await;
    let frame = next_of(&mut ned_ws, &["member"]).await;
    assert_eq!(frame["event"], "unmuted");
    assert_eq!(frame["user"]["id"], mia.id.as_str());
    let kinds = log_kinds(&app, &admin, &room).await;
    assert_eq!(kinds.iter().filter(|k| *k == "mute_ended").count(), 1);
    assert_eq!(notification_kinds(&app, &mia).await[0], "mute_ended");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM mutes").await, 0);
}

#[tokio::test]
async fn a_timeout_holds_across_a_restart_and_ends_after_it() {
    let db = TestDb::new().await;
    let (config, clock) = clocked(&db);
    let app = TestApp::spawn_with(config.clone()).await;
    let (room, [owner, _admin, _admin2, mia, _ned]) = staffed(&app).await;
    mute(&app, &owner, &room, &mia.id, json!(60)).await;
    app.stop().await;
    let app = TestApp::spawn_with(config).await;
    send_http(&app, &mia, &room, "after restart", "r-1")
        .await
        .assert_error(StatusCode::FORBIDDEN, "muted");
    clock.advance(61 * MINUTE);
    let r = send_http(&app, &mia, &room, "after the hour", "r-2").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn slow_mode_spaces_a_members_messages_spares_admins_and_applies_at_once() {
    let db = TestDb::new().await;
    let (config, clock) = clocked(&db);
    let app = TestApp::spawn_with(config).await;
    let (room, [owner, admin, _admin2, mia, ned]) = staffed(&app).await;
    let update = |body: Value| {
        let (app, owner) = (&app, &owner);
        async move { call(app, owner, "/api/rooms/update", body).await }
    };
    for bad in [json!(-1), json!(21_601), json!("fast")] {
        let r = update(json!({"room_id": room, "slow_mode_seconds": bad})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    }
    call(
        &app,
        &mia,
        "/api/rooms/update",
        json!({"room_id": room, "slow_mode_seconds": 30}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let mut ned_ws = connect(&app, &ned).await;
    let r = update(json!({"room_id": room, "slow_mode_seconds": 30})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["room"]["slow_mode_seconds"], 30);
    // The room hears the change at once, as a setting and as a line in the timeline.
    let line = next_of(&mut ned_ws, &["message"]).await;
    let frame = next_of(&mut ned_ws, &["room_updated"]).await;
    assert_eq!(frame["room"]["slow_mode_seconds"], 30);
    assert_eq!(line["message"]["kind"], "system");
    assert!(
        line["message"]["body"]
            .as_str()
            .unwrap()
            .contains("turned slow mode on: one message every 30 s"),
        "{line}"
    );

    // Two sends back to back on one socket: one ack, one refusal with the wait.
    let mut mia_ws = connect(&app, &mia).await;
    for n in 1..=2 {
        send(
            &mut mia_ws,
            json!({"type": "send", "room_id": room, "client_id": format!("s-{n}"), "body": "hi"}),
        )
        .await;
    }
    let mut answers = Vec::new();
    while answers.len() < 2 {
        let f = next_of(&mut mia_ws, &["ack", "error"]).await;
        answers.push(f);
    }
    let acks: Vec<&Value> = answers.iter().filter(|f| f["type"] == "ack").collect();
    let errors: Vec<&Value> = answers.iter().filter(|f| f["type"] == "error").collect();
    assert_eq!((acks.len(), errors.len()), (1, 1), "{answers:?}");
    assert_eq!(errors[0]["code"], "slow_mode");
    let wait = errors[0]["retry_after_ms"].as_u64().unwrap();
    assert!((25_000..=30_000).contains(&wait), "{wait}");
    // A retry of the stored one is still acked, not refused by slow mode.
    let first = acks[0]["client_id"].as_str().unwrap().to_owned();
    let r = send_http(&app, &mia, &room, "hi", &first).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Her page counts down to the next message before she types.
    let page = ok(&app, &mia, "/api/rooms/open", json!({"room_id": room})).await;
    assert!(page["next_post_at"].is_string(), "{page}");
    // Admins are exempt; others have their own window.
    for n in 0..3 {
        send_http(&app, &admin, &room, "announcement", &format!("a-{n}")).await;
    }
    assert_eq!(
        send_http(&app, &ned, &room, "mine", "n-1").await.status,
        StatusCode::OK
    );
    clock.advance(Duration::from_secs(31));
    let r = send_http(&app, &mia, &room, "again", "s-3").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Turning it off applies at once.
    update(json!({"room_id": room, "slow_mode_seconds": 0})).await;
    for n in 4..6 {
        let r = send_http(&app, &mia, &room, "free", &format!("s-{n}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    // An upload counts as a message.
    update(json!({"room_id": room, "slow_mode_seconds": 60})).await;
    upload(&app, &mia, &room)
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "slow_mode");
}

#[tokio::test]
async fn announcement_rooms_let_members_read_and_react_only() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (room, [owner, admin, _admin2, mia, _ned]) = staffed(&app).await;
    let hers = say(&app, &mia, &room, "said before").await;
    let r = call(
        &app,
        &owner,
        "/api/rooms/update",
        json!({"room_id": room, "announcement": true}),
    )
    .await;
    assert_eq!(r.body["room"]["announcement"], true, "{}", r.text);
    send_http(&app, &mia, &room, "may I?", "x-1")
        .await
        .assert_error(StatusCode::FORBIDDEN, "announcement_only");
    call(
        &app,
        &mia,
        "/api/messages/edit",
        json!({"message_id": crate::common::id(&hers), "body": "changed"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "announcement_only");
    upload(&app, &mia, &room)
        .await
        .assert_error(StatusCode::FORBIDDEN, "announcement_only");
    let news = say(&app, &admin, &room, "news").await;
    ok(
        &app,
        &mia,
        "/api/messages/react",
        json!({"message_id": crate::common::id(&news), "emoji": "🎉", "on": true}),
    )
    .await;
    call(
        &app,
        &owner,
        "/api/rooms/update",
        json!({"room_id": room, "announcement": false}),
    )
    .await;
    assert_eq!(
        send_http(&app, &mia, &room, "thanks", "x-2").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_timed_ban_ends_by_itself_and_lets_them_ask_again() {
    let db = TestDb::new().await;
    let (config, clock) = clocked(&db);
    let app = TestApp::spawn_with(config).await;
    let owner = person(&app, "olga").await;
    let bob = person(&app, "bob").await;
    let carl = person(&app, "carl").await;
    let body = ok(
        &app,
        &owner,
        "/api/rooms/create",
        json!({"name": "Club", "join_policy": "request"}),
    )
    .await;
    let room = body["room"]["id"].as_str().unwrap().to_owned();
    for bad in [json!(0), json!(525_601), json!("long")] {
        let r = call(
            &app,
            &owner,
            "/api/rooms/ban",
            json!({"room_id": room, "user": "bob", "minutes": bad}),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    }
    ok(
        &app,
        &owner,
        "/api/rooms/ban",
        json!({"room_id": room, "user": "bob", "minutes": 60, "reason": "cool off"}),
    )
    .await;
    ok(
        &app,
        &owner,
        "/api/rooms/ban",
        json!({"room_id": room, "user": "carl"}),
    )
    .await;
    let bans = ok(&app, &owner, "/api/rooms/bans", json!({"room_id": room})).await;
    let until = |name: &str| {
        bans["bans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["user"]["username"] == name)
            .unwrap()["until"]
            .clone()
    };
    assert!(until("bob").is_string());
    let bob_ban = bans["bans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["user"]["username"] == "bob")
        .unwrap();
    assert_eq!(bob_ban["banned_by"]["username"], "olga");
    assert_eq!(bob_ban["reason"], "cool off");
    assert!(until("carl").is_null(), "a permanent ban has no end");
    let search = |who: &Person| {
        let (app, who) = (&app, who.clone());
        async move {
            ok(app, &who, "/api/rooms/search", json!({"query": "Club"})).await["rooms"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(search(&bob).await, 0);
    call(&app, &bob, "/api/rooms/join", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "banned");

    clock.advance(61 * MINUTE);
    // Over at once, whether or not housekeeping has recorded it: the room shows in search
    // again and he may ask to join (the ban does not re-admit him).
    assert_eq!(search(&bob).await, 1);
    assert_eq!(search(&carl).await, 0);
    let r = ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await;
    assert_eq!(r["status"], "requested");
    call(&app, &carl, "/api/rooms/join", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "banned");
    // Housekeeping records the end once, and tells him.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !log_kinds(&app, &owner, &room)
        .await
        .contains(&"ban_ended".to_owned())
    {
        assert!(tokio::time::Instant::now() < deadline, "no ban_ended entry");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let kinds = log_kinds(&app, &owner, &room).await;
    assert_eq!(kinds.iter().filter(|k| *k == "ban_ended").count(), 1);
    assert!(notification_kinds(&app, &bob)
        .await
        .contains(&"ban_ended".to_owned()));
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM bans").await, 1);
    // A new ban of someone whose timed ban ran out takes its place.
    ok(
        &app,
        &owner,
        "/api/rooms/ban",
        json!({"room_id": room, "user": "bob", "minutes": 5}),
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM bans").await, 2);
}

/// Previous rooms and bans (docs/RULES.md §8): a permanent ban hides the room, a timed one
/// lists it with its end and no way back until then, and a lifted or ended one lists it as
/// any room you left.
#[tokio::test]
async fn previous_rooms_carry_a_timed_bans_end_and_never_a_permanent_ban() {
    let db = TestDb::new().await;
    let (config, clock) = clocked(&db);
    let app = TestApp::spawn_with(config).await;
    let owner = person(&app, "olga").await;
    let bob = person(&app, "bob").await;
    let carl = person(&app, "carl").await;
    let dan = person(&app, "dan").await;
    let eve = person(&app, "eve").await;
    let room = open_room(&app, &owner, "Club", &[&bob, &carl, &dan, &eve]).await;
    ok(
        &app,
        &owner,
        "/api/rooms/update",
        json!({"room_id": room, "topic": "members only"}),
    )
    .await;
    let ban = |user: &str, minutes: Option<u32>| {
        let mut body = json!({"room_id": room, "user": user});
        if let Some(m) = minutes {
            body["minutes"] = json!(m);
        }
        body
    };
    ok(&app, &owner, "/api/rooms/ban", ban("bob", Some(60))).await;
    ok(&app, &owner, "/api/rooms/ban", ban("carl", None)).await;
    ok(&app, &owner, "/api/rooms/ban", ban("dan", None)).await;
    ok(
        &app,
        &owner,
        "/api/rooms/unban",
        json!({"room_id": room, "user_id": dan.id}),
    )
    .await;
    // Eve left first; a timed ban of someone who left bars her way back the same way.
    ok(&app, &eve, "/api/rooms/leave", json!({"room_id": room})).await;
    ok(&app, &owner, "/api/rooms/ban", ban("eve", Some(30))).await;

    let previous = |who: &Person| {
        let (app, who) = (&app, who.clone());
        async move {
            let body = ok(app, &who, "/api/rooms/previous", json!({})).await;
            body["rooms"].as_array().unwrap().clone()
        }
    };
    let bob_sees = previous(&bob).await;
    assert_eq!(bob_sees.len(), 1, "{bob_sees:?}");
    let entry = &bob_sees[0];
    assert_eq!(entry["room"]["name"], "Club");
    assert_eq!(entry["reason"], "banned");
    assert_eq!(entry["can_rejoin"], false);
    let until = entry["until"].as_str().expect("a timed ban's end");
    let bans = ok(&app, &owner, "/api/rooms/bans", json!({"room_id": room})).await;
    let bob_ban = bans["bans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["user"]["username"] == "bob")
        .unwrap();
    assert_eq!(bob_ban["until"], until, "the same end as the bans list");
    // While it runs the room tells him its name and when, nothing more.
    assert!(entry["room"]["topic"].is_null(), "{entry}");
    assert_eq!(entry["room"]["member_count"], 0);

    assert_eq!(
        previous(&carl).await,
        Vec::<Value>::new(),
        "a permanent ban hides it"
    );

    let dan_sees = previous(&dan).await;
    assert_eq!(dan_sees.len(), 1, "a lifted ban lists it: {dan_sees:?}");
    assert_eq!(dan_sees[0]["reason"], "banned");
    assert!(dan_sees[0]["until"].is_null());
    assert_eq!(dan_sees[0]["can_rejoin"], true);
    assert_eq!(dan_sees[0]["room"]["topic"], "members only");

    let eve_sees = previous(&eve).await;
    assert_eq!(eve_sees[0]["reason"], "left");
    assert!(eve_sees[0]["until"].is_string());
    assert_eq!(eve_sees[0]["can_rejoin"], false);

    // Once the time passes, whether or not housekeeping has recorded it, the way is open.
    clock.advance(61 * MINUTE);
    for who in [&bob, &eve] {
        let entry = previous(who).await[0].clone();
        assert!(entry["until"].is_null(), "{entry}");
        assert_eq!(entry["can_rejoin"], true, "{entry}");
        assert_eq!(entry["room"]["topic"], "members only");
    }
    assert_eq!(
        ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await["status"],
        "joined"
    );
    assert_eq!(previous(&bob).await, Vec::<Value>::new(), "a member again");
    assert_eq!(previous(&carl).await, Vec::<Value>::new());
}

#[tokio::test]
async fn a_declined_request_waits_out_the_cooldown_and_decline_and_ban_bans() {
    let db = TestDb::new().await;
    let (config, clock) = clocked(&db);
    let app = TestApp::spawn_with(config).await;
    let owner = person(&app, "olga").await;
    let member = person(&app, "mia").await;
    let pat = person(&app, "pat").await;
    let sam = person(&app, "sam").await;
    let body = ok(
        &app,
        &owner,
        "/api/rooms/create",
        json!({"name": "Club", "join_policy": "request"}),
    )
    .await;
    let room = body["room"]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["room"]["request_cooldown_seconds"], 86_400);
    for bad in [json!(-1), json!(2_592_001), json!("a day")] {
        let r = call(
            &app,
            &owner,
            "/api/rooms/update",
            json!({"room_id": room, "request_cooldown_seconds": bad}),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    }
    let ask = |who: &Person| {
        let (app, who, room) = (&app, who.clone(), room.clone());
        async move { call(app, &who, "/api/rooms/join", json!({"room_id": room})).await }
    };
    ask(&member).await;
    ok(
        &app,
        &owner,
        "/api/rooms/approve",
        json!({"room_id": room, "user_id": member.id}),
    )
    .await;
    ask(&pat).await;
    ask(&sam).await;
    // A member who is not an admin declines nothing.
    call(
        &app,
        &member,
        "/api/rooms/deny",
        json!({"room_id": room, "user_id": pat.id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    ok(
        &app,
        &owner,
        "/api/rooms/deny",
        json!({"room_id": room, "user_id": pat.id}),
    )
    .await;
    let r = ask(&pat).await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "request_cooldown");
    assert!(
        (86_000_000..=86_400_000).contains(&retry_ms(&r)),
        "{}",
        r.text
    );
    clock.advance(Duration::from_secs(86_401));
    assert_eq!(ask(&pat).await.body["status"], "requested");

    // Decline and ban: one step, with the reason, logged as both.
    ok(
        &app,
        &owner,
        "/api/rooms/deny",
        json!({"room_id": room, "user_id": sam.id, "ban": true, "reason": "spam bot"}),
    )
    .await;
    ask(&sam)
        .await
        .assert_error(StatusCode::FORBIDDEN, "banned");
    let bans = ok(&app, &owner, "/api/rooms/bans", json!({"room_id": room})).await;
    assert_eq!(bans["bans"][0]["user"]["id"], sam.id.as_str());
    assert_eq!(bans["bans"][0]["reason"], "spam bot");
    let kinds = log_kinds(&app, &owner, &room).await;
    assert_eq!(kinds[..2], ["banned".to_owned(), "denied".to_owned()]);
    // A room may set no cooldown at all.
    ok(
        &app,
        &owner,
        "/api/rooms/update",
        json!({"room_id": room, "request_cooldown_seconds": 0}),
    )
    .await;
    ok(
        &app,
        &owner,
        "/api/rooms/deny",
        json!({"room_id": room, "user_id": pat.id}),
    )
    .await;
    assert_eq!(ask(&pat).await.body["status"], "requested");
}

/// The room's messages by author id and text, oldest first: `None` for a tombstone.
async fn history(app: &TestApp, who: &Person, room: &str) -> Vec<(String, Option<String>)> {
    ok(
        app,
        who,
        "/api/messages/history",
        json!({"room_id": room, "limit": 100}),
    )
    .await["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] != "system")
        .map(|m| {
            let who = m["author"]["id"].as_str().unwrap_or("").to_owned();
            let body = m["deleted"]
                .is_null()
                .then(|| m["body"].as_str().unwrap_or("").to_owned());
            (who, body)
        })
        .rev()
        .collect()
}

#[tokio::test]
async fn ban_and_purge_deletes_exactly_that_authors_messages_in_that_room_and_window() {
    let db = TestDb::new().await;
    let (config, clock) = clocked(&db);
    let app = TestApp::spawn_with(config).await;
    let (room, [owner, admin, admin2, mia, ned]) = staffed(&app).await;
    let other = open_room(&app, &owner, "Elsewhere", &[&mia]).await;
    say(&app, &mia, &room, "mia long ago").await;
    say(&app, &admin2, &room, "abel long ago").await;
    clock.advance(120 * MINUTE);
    say(&app, &mia, &room, "spam one").await;
    say(&app, &ned, &room, "ned recent").await;
    say(&app, &mia, &room, "spam two").await;
    say(&app, &mia, &other, "mia elsewhere").await;
    say(&app, &admin2, &room, "abel recent").await;
    let mut neds = connect(&app, &ned).await;

    // Bad windows are refused before anything happens: no ban, nothing deleted.
    for bad in [json!(0), json!(10_081), json!(-60), json!("hour")] {
        let r = call(
            &app,
            &admin,
            "/api/rooms/ban",
            json!({"room_id": room, "user": mia.id, "purge_minutes": bad}),
        )
        .await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
        if bad.is_number() {
            assert_eq!(r.body["field"], "purge_minutes", "{bad}");
        }
    }
    // The rank rule of a ban holds for its purge: an admin cannot purge an admin, and a
    // member cannot purge anyone.
    call(
        &app,
        &admin,
        "/api/rooms/ban",
        json!({"room_id": room, "user": admin2.id, "purge_minutes": 60}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    call(
        &app,
        &ned,
        "/api/rooms/ban",
        json!({"room_id": room, "user": mia.id, "purge_minutes": 60}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM bans").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM messages WHERE deleted_at IS NOT NULL")
            .await,
        0
    );

    ok(
        &app,
        &admin,
        "/api/rooms/ban",
        json!({"room_id": room, "user": mia.id, "purge_minutes": 60, "reason": "spam"}),
    )
    .await;
    // Everyone in the room sees each purged message turn into a tombstone, live.
    let mut live = Vec::new();
    while live.len() < 2 {
        let frame = next_of(&mut neds, &["message_updated"]).await;
        assert!(frame["message"]["deleted"].is_object(), "{frame}");
        assert_eq!(frame["message"]["author"]["id"], mia.id.as_str());
        live.push(frame["message"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        history(&app, &owner, &room).await,
        vec![
            (mia.id.clone(), Some("mia long ago".to_owned())),
            (admin2.id.clone(), Some("abel long ago".to_owned())),
            (mia.id.clone(), None),
            (ned.id.clone(), Some("ned recent".to_owned())),
            (mia.id.clone(), None),
            (admin2.id.clone(), Some("abel recent".to_owned())),
        ]
    );
    assert_eq!(
        history(&app, &owner, &other).await,
        vec![(mia.id.clone(), Some("mia elsewhere".to_owned()))]
    );
    // The tombstones carry the ban's reason and who deleted them; the log says it once.
    let reasons = app
        .count("SELECT COUNT(*) AS n FROM messages WHERE deleted_at IS NOT NULL AND delete_reason = 'spam'")
        .await;
    assert_eq!(reasons, 2);
    let kinds = log_kinds(&app, &owner, &room).await;
    assert_eq!(kinds.iter().filter(|k| *k == "messages_purged").count(), 1);
    assert!(kinds.contains(&"banned".to_owned()));
    // The purge is a ban first: she is out of the room.
    call(&app, &mia, "/api/rooms/join", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "banned");

    // The owner may ban and purge an admin.
    ok(
        &app,
        &owner,
        "/api/rooms/ban",
        json!({"room_id": room, "user": admin2.id, "purge_minutes": 10_080}),
    )
    .await;
    let left: Vec<_> = history(&app, &owner, &room)
        .await
        .into_iter()
        .filter(|(who, body)| who == &admin2.id && body.is_some())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The log's entries as (kind, actor, target) usernames.
async fn log_rows(app: &TestApp, who: &Person, body: Value) -> Vec<(String, String, String)> {
    ok(app, who, "/api/rooms/log", body).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let name = |v: &Value| v["username"].as_str().unwrap_or("").to_owned();
            (
                e["kind"].as_str().unwrap().to_owned(),
                name(&e["actor"]),
                name(&e["target"]),
            )
        })
        .collect()
}

async fn get_csv(app: &TestApp, who: Option<&Person>, path: &str) -> (StatusCode, String, String) {
    let mut req = app.http.get(app.url(path));
    if let Some(who) = who {
        req = req.header("cookie", &who.cookie);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let kind = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, resp.text().await.unwrap())
}

#[tokio::test]
async fn the_log_filters_by_actor_and_target_and_downloads_as_csv_for_admins_only() {
    let db = TestDb::new().await;
    let (config, _clock) = clocked(&db);
    let app = TestApp::spawn_with(config).await;
    let (room, [owner, admin, _admin2, mia, ned]) = staffed(&app).await;
    mute(&app, &admin, &room, &mia.id, json!(5)).await;
    ok(
        &app,
        &owner,
        "/api/rooms/ban",
        json!({"room_id": room, "user": ned.id, "reason": "=HYPERLINK(\"evil\"), twice"}),
    )
    .await;
    ok(
        &app,
        &admin,
        "/api/rooms/unmute",
        json!({"room_id": room, "user_id": mia.id}),
    )
    .await;

    let by_admin = log_rows(&app, &owner, json!({"room_id": room, "actor": "adam"})).await;
    assert!(!by_admin.is_empty());
    assert!(
        by_admin.iter().all(|(_, actor, _)| actor == "adam"),
        "{by_admin:?}"
    );
    assert!(by_admin.iter().any(|(k, _, t)| k == "muted" && t == "mia"));
    // By id as well as by name; about one person; and with a kind.
    let about_mia = log_rows(&app, &owner, json!({"room_id": room, "target": mia.id})).await;
    assert!(about_mia.iter().all(|(_, _, target)| target == "mia"));
    assert!(about_mia.iter().any(|(k, ..)| k == "unmuted"));
    let muted_by_admin = log_rows(
        &app,
        &owner,
        json!({"room_id": room, "actor": "adam", "target": "mia", "kind": "unmuted"}),
    )
    .await;
    assert_eq!(
        muted_by_admin,
        vec![("unmuted".into(), "adam".into(), "mia".into())]
    );
    // A name nobody has, and a member who is not an admin, each get their own answer.
    call(
        &app,
        &owner,
        "/api/rooms/log",
        json!({"room_id": room, "actor": "nobody-here"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "user_not_found");
    call(
        &app,
        &mia,
        "/api/rooms/log",
        json!({"room_id": room, "actor": "adam"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");

    // The CSV holds what the filter shows, and a reason cannot become a formula.
    let path = format!("/rooms/{room}/log.csv");
    let (status, kind, body) = get_csv(&app, Some(&owner), &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(kind.starts_with("text/csv"), "{kind}");
    let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "created_at,kind,actor,target,reason,until,report_id"
    );
    let everything = log_rows(&app, &owner, json!({"room_id": room})).await;
    assert_eq!(lines.len() - 1, everything.len());
    assert!(
        body.contains(",banned,olga,ned,\"'=HYPERLINK(\"\"evil\"\"), twice\","),
        "{body}"
    );
    let (_, _, mine) = get_csv(&app, Some(&owner), &format!("{path}?actor=adam&kind=muted")).await;
    let rows: Vec<&str> = mine
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(rows.len(), 1, "{mine}");
    assert!(rows[0].contains(",muted,adam,mia,"), "{mine}");
    let (status, _, _) = get_csv(&app, Some(&owner), &format!("{path}?kind=nonsense")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, body) = get_csv(&app, Some(&mia), &path).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, _) = get_csv(&app, None, &path).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
