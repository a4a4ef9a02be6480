//! After sending (docs/RULES.md §6): edit, delete and earlier versions, over HTTP, the
//! live channel and the JS-off forms, on both databases.

use reqwest::{multipart, StatusCode};
use serde_json::{json, Value};

use crate::common::{
    call, id,
    live::{catch_up, connect, next_of, open_room, send},
    ok, person, say, test_config, TestApp, TestDb,
};

#[tokio::test]
async fn only_the_author_edits_and_the_room_sees_it_live_and_in_catch_up_once() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (ana, bob, carl) = (
        person(&app, "ana").await,
        person(&app, "bob").await,
        person(&app, "carl").await,
    );
    let room = open_room(&app, &ana, "Lounge", &[&bob]).await;
    let sent = say(&app, &ana, &room, "helo").await;
    let mid = id(&sent);
    let mut bobs = connect(&app, &bob).await;

    let edited = ok(
        &app,
        &ana,
        "/api/messages/edit",
        json!({"message_id": mid, "body": "hello"}),
    )
    .await;
    assert_eq!(edited["message"]["body"], "hello");
    assert!(edited["message"]["edited_at"].is_string());
    assert_eq!(edited["message"]["id"], mid.as_str());
    let live = next_of(&mut bobs, &["message_updated"]).await;
    assert_eq!(live["message"], edited["message"]);

    // Someone else's message, a stranger, a missing or malformed id: each its own answer.
    let edit = |id: &str, body: &str| json!({"message_id": id, "body": body});
    call(&app, &bob, "/api/messages/edit", edit(&mid, "mine now"))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    call(&app, &carl, "/api/messages/edit", edit(&mid, "x"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "message_not_found");
    call(&app, &ana, "/api/messages/edit", edit("999999", "x"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "message_not_found");
    let r = call(&app, &ana, "/api/messages/edit", edit("abc", "x")).await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(r.body["field"], "message_id");
    // An edit is checked as a send is.
    for bad in ["", "   ", "a\u{0}b", &"x".repeat(4001)] {
        let r = call(&app, &ana, "/api/messages/edit", edit(&mid, bad)).await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(r.body["field"], "body", "{bad:?}");
    }

    // Catch-up from before the edit returns the message once, as it is now; from the
    // edit's place in the sequence, nothing.
    let before = (mid.parse::<i64>().unwrap() - 1).to_string();
    assert_eq!(catch_up(&app, &bob, &room, &before).await, ["hello"]);
    assert_eq!(catch_up(&app, &bob, &room, &mid).await, ["hello"]);
    let seq = edited["message"]["seq"].as_str().unwrap();
    assert!(seq.parse::<i64>().unwrap() > mid.parse::<i64>().unwrap());
    assert!(catch_up(&app, &bob, &room, seq).await.is_empty());
    // A message sent after the edit comes after it in the sequence.
    let later = say(&app, &bob, &room, "later").await;
    assert!(id(&later).parse::<i64>().unwrap() > seq.parse::<i64>().unwrap());
    assert_eq!(catch_up(&app, &bob, &room, seq).await, ["later"]);

    // The earlier text is kept for the author (and admins), oldest first.
    let v = ok(
        &app,
        &ana,
        "/api/messages/versions",
        json!({"message_id": mid}),
    )
    .await;
    let texts: Vec<&str> = v["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["body"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["helo", "hello"]);
    call(
        &app,
        &bob,
        "/api/messages/versions",
        json!({"message_id": mid}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    call(
        &app,
        &carl,
        "/api/messages/versions",
        json!({"message_id": mid}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "message_not_found");
}

#[tokio::test]
async fn edits_and_deletes_over_the_live_channel_are_checked_and_rate_limited() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.send_burst = 3;
    config.send_period_ms = 60_000;
    let app = TestApp::spawn_with(config).await;
    let (ana, bob) = (person(&app, "ana").await, person(&app, "bob").await);
    let room = open_room(&app, &ana, "Lounge", &[&bob]).await;
    let mid = id(&say(&app, &ana, &room, "one").await);
    let (mut anas, mut bobs) = (connect(&app, &ana).await, connect(&app, &bob).await);

    send(
        &mut anas,
        json!({"type": "edit", "message_id": mid, "body": "one, edited"}),
    )
    .await;
    for ws in [&mut anas, &mut bobs] {
        let f = next_of(ws, &["message_updated"]).await;
        assert_eq!(f["message"]["body"], "one, edited");
    }
    // Bob may not; he hears why, and nobody hears of it.
    send(
        &mut bobs,
        json!({"type": "edit", "message_id": mid, "body": "bob's now"}),
    )
    .await;
    let e = next_of(&mut bobs, &["error"]).await;
    assert_eq!(e["code"], "forbidden");
    send(&mut bobs, json!({"type": "delete", "message_id": mid})).await;
    let e = next_of(&mut bobs, &["error"]).await;
    assert_eq!(e["code"], "forbidden");
    // Edits share the send allowance: one send and one edit spent, one left.
    send(
        &mut anas,
        json!({"type": "edit", "message_id": mid, "body": "two"}),
    )
    .await;
    next_of(&mut anas, &["message_updated"]).await;
    send(
        &mut anas,
        json!({"type": "edit", "message_id": mid, "body": "three"}),
    )
    .await;
    let e = next_of(&mut anas, &["error"]).await;
    assert_eq!(e["code"], "rate_limited");
    assert!(e["retry_after_ms"].as_u64().unwrap() > 0);
    // A delete is never held back by the rate: taking something back must always work.
    send(&mut anas, json!({"type": "delete", "message_id": mid})).await;
    assert_eq!(
        next_of(&mut bobs, &["message_updated"]).await["message"]["body"],
        "two"
    );
    let f = next_of(&mut bobs, &["message_updated"]).await;
    assert_eq!(f["message"]["body"], Value::Null);
    assert_eq!(f["message"]["deleted"]["by"]["username"], "ana");
}

#[tokio::test]
async fn a_delete_leaves_a_tombstone_and_takes_the_text_versions_and_file_away() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (ana, bob) = (person(&app, "ana").await, person(&app, "bob").await);
    let room = open_room(&app, &ana, "Lounge", &[&bob]).await;
    let mid = id(&say(&app, &ana, &room, "a secret").await);
    ok(
        &app,
        &ana,
        "/api/messages/edit",
        json!({"message_id": mid, "body": "another secret"}),
    )
    .await;
    let mut bobs = connect(&app, &bob).await;
    let tomb = ok(
        &app,
        &ana,
        "/api/messages/delete",
        json!({"message_id": mid, "reason": "ignored for one's own"}),
    )
    .await["message"]
        .clone();
    assert_eq!(tomb["id"], mid.as_str());
    assert_eq!(tomb["body"], Value::Null);
    assert_eq!(tomb["edited_at"], Value::Null);
    assert_eq!(tomb["deleted"]["by"]["username"], "ana");
    assert_eq!(tomb["deleted"]["reason"], Value::Null);
    assert_eq!(
        next_of(&mut bobs, &["message_updated"]).await["message"],
        tomb
    );
    // Gone from the database, not hidden.
    let secrets = app
        .count("SELECT COUNT(*) AS n FROM messages WHERE body LIKE '%secret%'")
        .await
        + app
            .count("SELECT COUNT(*) AS n FROM message_versions WHERE body LIKE '%secret%'")
            .await;
    assert_eq!(secrets, 0);
    // A tombstone stays one: no edit, no second delete, no versions.
    call(
        &app,
        &ana,
        "/api/messages/edit",
        json!({"message_id": mid, "body": "back"}),
    )
    .await
    .assert_error(StatusCode::GONE, "message_deleted");
    call(
        &app,
        &ana,
        "/api/messages/delete",
        json!({"message_id": mid}),
    )
    .await
    .assert_error(StatusCode::GONE, "message_deleted");
    // History keeps its place; catch-up from before returns it once, as a tombstone.
    let h = ok(
        &app,
        &bob,
        "/api/messages/history",
        json!({"room_id": room}),
    )
    .await;
    assert!(h["messages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == mid.as_str() && m["deleted"].is_object()));

    // A file message: its file leaves the disk and cannot be fetched.
    let form = multipart::Form::new().text("room_id", room.clone()).part(
        "file",
        multipart::Part::bytes(b"plain words".to_vec()).file_name("notes.txt"),
    );
    let res = app
        .http
        .post(app.url("/api/uploads"))
        .header("cookie", &ana.cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let posted: Value = res.json().await.unwrap();
    let file_id = posted["message"]["file"]["id"].as_str().unwrap().to_owned();
    let on_disk = db.data_dir.path().join("uploads").join(&file_id);
    assert!(on_disk.exists());
    ok(
        &app,
        &ana,
        "/api/messages/delete",
        json!({"message_id": id(&posted["message"])}),
    )
    .await;
    assert!(!on_disk.exists(), "the file is still on disk");
    let res = app
        .http
        .get(app.url(&format!("/files/{file_id}")))
        .header("cookie", &bob.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admins_delete_by_rank_with_a_logged_reason_and_former_members_change_nothing() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (ana, bob, carl) = (
        person(&app, "ana").await,
        person(&app, "bob").await,
        person(&app, "carl").await,
    );
    let room = open_room(&app, &ana, "Lounge", &[&bob, &carl]).await;
    ok(
        &app,
        &ana,
        "/api/rooms/promote",
        json!({"room_id": room, "user_id": bob.id}),
    )
    .await;
    let anas = id(&say(&app, &ana, &room, "the owner speaks").await);
    let bobs = id(&say(&app, &bob, &room, "an admin speaks").await);
    let carls = id(&say(&app, &carl, &room, "spam spam").await);
    let carls_too = id(&say(&app, &carl, &room, "more of it").await);
    let delete = |id: &str| json!({"message_id": id, "reason": "spam"});

    // Members touch only their own; an admin not the owner's.
    call(&app, &carl, "/api/messages/delete", delete(&bobs))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    call(&app, &bob, "/api/messages/delete", delete(&anas))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    // An admin reads a member's earlier versions, and deletes the message with a reason.
    ok(
        &app,
        &bob,
        "/api/messages/versions",
        json!({"message_id": carls}),
    )
    .await;
    let tomb = ok(&app, &bob, "/api/messages/delete", delete(&carls)).await;
    assert_eq!(tomb["message"]["deleted"]["by"]["username"], "bob");
    assert_eq!(tomb["message"]["deleted"]["reason"], "spam");
    assert_eq!(tomb["message"]["author"]["username"], "carl");
    let log = ok(&app, &ana, "/api/rooms/log", json!({"room_id": room})).await;
    let entry = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "message_deleted")
        .expect("the deletion is in the moderation log")
        .clone();
    assert_eq!(entry["actor"]["username"], "bob");
    assert_eq!(entry["target"]["username"], "carl");
    assert_eq!(entry["reason"], "spam");
    // The owner deletes an admin's.
    ok(&app, &ana, "/api/messages/delete", delete(&bobs)).await;

    // Kicked, carl can no longer change his own: the room's messages are out of sight.
    ok(
        &app,
        &ana,
        "/api/rooms/kick",
        json!({"room_id": room, "user_id": carl.id}),
    )
    .await;
    call(
        &app,
        &carl,
        "/api/messages/edit",
        json!({"message_id": carls_too, "body": "x"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "message_not_found");
    call(&app, &carl, "/api/messages/delete", delete(&carls_too))
        .await
        .assert_error(StatusCode::NOT_FOUND, "message_not_found");
    call(
        &app,
        &carl,
        "/api/messages/get",
        json!({"message_id": carls_too}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "message_not_found");
    // His messages stay deletable by the admins.
    ok(&app, &bob, "/api/messages/delete", delete(&carls_too)).await;
}

#[tokio::test]
async fn edit_and_delete_work_as_plain_form_posts() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ana = person(&app, "ana").await;
    let room = open_room(&app, &ana, "Lounge", &[]).await;
    let mid = id(&say(&app, &ana, &room, "typo hree").await);
    let post = |path: &str, fields: Vec<(&'static str, String)>| {
        app.http
            .post(app.url(path))
            .header("accept", "text/html")
            .header("cookie", &ana.cookie)
            .form(&fields)
            .send()
    };
    let res = post(
        "/api/form/messages/edit",
        vec![
            ("room_id", room.clone()),
            ("message_id", mid.clone()),
            ("body", "typo here".into()),
        ],
    )
    .await
    .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(
        res.headers()["location"],
        format!("/rooms/{room}#m{mid}").as_str()
    );
    let now = ok(&app, &ana, "/api/messages/get", json!({"message_id": mid})).await;
    assert_eq!(now["message"]["body"], "typo here");
    // The edit page, served without JavaScript, holds the form with the text.
    let page = app
        .http
        .get(app.url(&format!("/rooms/{room}/messages/{mid}/edit")))
        .header("cookie", &ana.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("action=\"/api/form/messages/edit\""),
        "{page}"
    );
    assert!(page.contains(">typo here</textarea>"), "{page}");
    // A refused edit goes back to the edit page.
    let res = post(
        "/api/form/messages/edit",
        vec![
            ("room_id", room.clone()),
            ("message_id", mid.clone()),
            ("body", " ".into()),
        ],
    )
    .await
    .unwrap();
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        back.starts_with(&format!("/rooms/{room}/messages/{mid}/edit?")),
        "{back}"
    );
    let res = post(
        "/api/form/messages/delete",
        vec![("room_id", room.clone()), ("message_id", mid.clone())],
    )
    .await
    .unwrap();
    assert!(res.status().is_redirection());
    let now = ok(&app, &ana, "/api/messages/get", json!({"message_id": mid})).await;
    assert!(now["message"]["deleted"].is_object());
    // The room's page, without JavaScript, shows the tombstone in its place.
    let page = app
        .http
        .get(app.url(&format!("/rooms/{room}")))
        .header("cookie", &ana.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Message deleted"), "{page}");
    assert!(!page.contains("typo here"));

    // A reply and a reaction, as plain forms.
    let asked = id(&say(&app, &ana, &room, "plain question").await);
    let page = app
        .http
        .get(app.url(&format!("/rooms/{room}?reply={asked}")))
        .header("cookie", &ana.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("name=\"reply_to\" value=\"{asked}\"")),
        "the composer answers the message: {page}"
    );
    let res = post(
        "/api/form/messages/send",
        vec![
            ("room_id", room.clone()),
            ("client_id", "plain-reply".into()),
            ("body", "plain answer".into()),
            ("reply_to", asked.clone()),
        ],
    )
    .await
    .unwrap();
    assert!(res.status().is_redirection());
    let h = ok(
        &app,
        &ana,
        "/api/messages/history",
        json!({"room_id": room}),
    )
    .await;
    assert_eq!(h["messages"][0]["reply_to"]["id"], asked.as_str());
    let res = post(
        "/api/form/messages/react",
        vec![
            ("room_id", room.clone()),
            ("message_id", asked.clone()),
            ("emoji", "🎉".into()),
            ("on", "true".into()),
        ],
    )
    .await
    .unwrap();
    assert!(res.status().is_redirection());
    assert_eq!(
        res.headers()["location"],
        format!("/rooms/{room}#m{asked}").as_str()
    );
    let now = ok(
        &app,
        &ana,
        "/api/messages/get",
        json!({"message_id": asked}),
    )
    .await;
    assert_eq!(now["message"]["reactions"][0]["emoji"], "🎉");
    assert_eq!(now["message"]["reactions"][0]["me"], true);
}

#[tokio::test]
async fn an_edit_racing_a_delete_never_leaves_text_behind() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.send_burst = 100;
    let app = TestApp::spawn_with(config).await;
    let ana = person(&app, "ana").await;
    let room = open_room(&app, &ana, "Lounge", &[]).await;
    for round in 0..5 {
        let mid = id(&say(&app, &ana, &room, &format!("round {round}")).await);
        let edit = call(
            &app,
            &ana,
            "/api/messages/edit",
            json!({"message_id": mid, "body": format!("edited {round}")}),
        );
        let delete = call(
            &app,
            &ana,
            "/api/messages/delete",
            json!({"message_id": mid}),
        );
        let (edit, delete) = tokio::join!(edit, delete);
        assert_eq!(delete.status, StatusCode::OK, "{}", delete.text);
        // The edit came first (and its text went with the delete) or found a tombstone.
        assert!(
            edit.status == StatusCode::OK || edit.code() == "message_deleted",
            "{}",
            edit.text
        );
        let now = ok(&app, &ana, "/api/messages/get", json!({"message_id": mid})).await;
        assert!(now["message"]["deleted"].is_object());
        assert_eq!(now["message"]["body"], Value::Null);
    }
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM message_versions")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM messages WHERE deleted_at IS NOT NULL AND body <> ''")
            .await,
        0
    );
}

#[tokio::test]
async fn a_reply_quotes_what_it_answers_in_its_room_and_shows_the_tombstone_after() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (ana, bob) = (person(&app, "ana").await, person(&app, "bob").await);
    let room = open_room(&app, &ana, "Lounge", &[&bob]).await;
    let other = open_room(&app, &ana, "Elsewhere", &[&bob]).await;
    let long = format!("{} tail", "question ".repeat(30));
    let asked = id(&say(&app, &ana, &room, &long).await);
    let elsewhere = id(&say(&app, &ana, &other, "over there").await);
    let send = |client_id: &str, reply_to: &str| json!({"room_id": room, "client_id": client_id, "body": "an answer", "reply_to": reply_to});
    let r = ok(&app, &bob, "/api/messages/send", send("r1", &asked)).await;
    let quote = &r["message"]["reply_to"];
    assert_eq!(quote["id"], asked.as_str());
    assert_eq!(quote["author"]["username"], "ana");
    let excerpt = quote["excerpt"].as_str().unwrap();
    assert!(
        excerpt.starts_with("question question") && excerpt.ends_with('…'),
        "{excerpt}"
    );
    assert!(excerpt.chars().count() <= 101);
    // Another room's message is as good as missing; a malformed id is bad input.
    call(&app, &bob, "/api/messages/send", send("r2", &elsewhere))
        .await
        .assert_error(StatusCode::NOT_FOUND, "message_not_found");
    let r = call(&app, &bob, "/api/messages/send", send("r3", "x1")).await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(r.body["field"], "reply_to");
    // Over the live channel too.
    let mut bobs = connect(&app, &bob).await;
    send_frame(&mut bobs, "r4", &room, &asked).await;
    let ack = next_of(&mut bobs, &["ack"]).await;
    assert_eq!(ack["message"]["reply_to"]["id"], asked.as_str());

    // The question is deleted: a new reply is refused, the replies show the tombstone.
    ok(
        &app,
        &ana,
        "/api/messages/delete",
        json!({"message_id": asked}),
    )
    .await;
    call(&app, &bob, "/api/messages/send", send("r5", &asked))
        .await
        .assert_error(StatusCode::GONE, "message_deleted");
    let h = ok(
        &app,
        &bob,
        "/api/messages/history",
        json!({"room_id": room}),
    )
    .await;
    let replies: Vec<&Value> = h["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["reply_to"].is_object())
        .collect();
    assert_eq!(replies.len(), 2);
    for r in replies {
        assert_eq!(r["reply_to"]["deleted"], true);
        assert_eq!(r["reply_to"]["excerpt"], Value::Null);
    }
    // A retry of a stored reply is answered with it, though what it answers is gone.
    let again = ok(&app, &bob, "/api/messages/send", send("r1", &asked)).await;
    assert_eq!(again["message"]["reply_to"]["deleted"], true);
}

async fn send_frame(ws: &mut crate::common::live::Ws, client_id: &str, room: &str, reply_to: &str) {
    send(
        ws,
        json!({"type": "send", "room_id": room, "client_id": client_id, "body": "live answer", "reply_to": reply_to}),
    )
    .await;
}

#[tokio::test]
async fn reactions_count_once_per_person_race_safely_and_are_capped() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (ana, bob, carl) = (
        person(&app, "ana").await,
        person(&app, "bob").await,
        person(&app, "carl").await,
    );
    let room = open_room(&app, &ana, "Lounge", &[&bob]).await;
    let mid = id(&say(&app, &ana, &room, "react to me").await);
    let react = |emoji: &str, on: bool| json!({"message_id": mid, "emoji": emoji, "on": on});
    let mut anas = connect(&app, &ana).await;

    // Set twice by one person: counted once. Ana's own answer says it is hers.
    for _ in 0..2 {
        let r = ok(&app, &ana, "/api/messages/react", react("👍", true)).await;
        let reactions = r["message"]["reactions"].as_array().unwrap();
        assert_eq!(reactions.len(), 1);
        assert_eq!(reactions[0]["count"], 1);
        assert_eq!(reactions[0]["me"], true);
        assert_eq!(reactions[0]["users"][0]["username"], "ana");
    }
    // Bob's, live on ana's socket; his view says it is his, hers does not.
    let r = ok(&app, &bob, "/api/messages/react", react("👍", true)).await;
    assert_eq!(r["message"]["reactions"][0]["count"], 2);
    let f = next_of(&mut anas, &["message_updated"]).await;
    assert_eq!(
        f["message"]["reactions"][0]["count"], 1,
        "the first set, live"
    );
    let f = next_of(&mut anas, &["message_updated"]).await;
    assert_eq!(f["message"]["reactions"][0]["count"], 2);
    // Taken back: gone from the count.
    let r = ok(&app, &bob, "/api/messages/react", react("👍", false)).await;
    assert_eq!(r["message"]["reactions"][0]["count"], 1);
    assert_eq!(r["message"]["reactions"][0]["me"], false);

    // Two people racing on the same new emoji both count.
    ok(&app, &carl, "/api/rooms/join", json!({"room_id": room})).await;
    let (x, y) = tokio::join!(
        call(&app, &bob, "/api/messages/react", react("🎉", true)),
        call(&app, &carl, "/api/messages/react", react("🎉", true)),
    );
    assert_eq!((x.status, y.status), (StatusCode::OK, StatusCode::OK));
    let now = ok(&app, &ana, "/api/messages/get", json!({"message_id": mid})).await;
    let party = now["message"]["reactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["emoji"] == "🎉")
        .unwrap()
        .clone();
    assert_eq!(party["count"], 2);
    assert_eq!(party["me"], false);

    // Only emoji from the catalogue; a message holds at most 20 different ones.
    for bad in ["x", "<b>", "👍👍", ""] {
        let r = call(&app, &ana, "/api/messages/react", react(bad, true)).await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(r.body["field"], "emoji");
    }
    for emoji in &domain::reaction::CATALOGUE[..20] {
        ok(&app, &ana, "/api/messages/react", react(emoji, true)).await;
    }
    let r = call(
        &app,
        &ana,
        "/api/messages/react",
        react(domain::reaction::CATALOGUE[20], true),
    )
    .await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(DISTINCT emoji) AS n FROM reactions WHERE message_id = {mid}"
        ))
        .await,
        20
    );

    // Outside the room nothing is there; a tombstone takes none, and loses its own.
    call(&app, &carl, "/api/rooms/leave", json!({"room_id": room})).await;
    call(&app, &carl, "/api/messages/react", react("👍", true))
        .await
        .assert_error(StatusCode::NOT_FOUND, "message_not_found");
    ok(
        &app,
        &ana,
        "/api/messages/delete",
        json!({"message_id": mid}),
    )
    .await;
    call(&app, &bob, "/api/messages/react", react("👍", true))
        .await
        .assert_error(StatusCode::GONE, "message_deleted");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) AS n FROM reactions WHERE message_id = {mid}"
        ))
        .await,
        0
    );
}

#[tokio::test]
async fn reactions_go_over_the_live_channel_and_system_lines_take_none() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (ana, bob) = (person(&app, "ana").await, person(&app, "bob").await);
    let room = open_room(&app, &ana, "Lounge", &[&bob]).await;
    let mid = id(&say(&app, &ana, &room, "hello").await);
    let (mut anas, mut bobs) = (connect(&app, &ana).await, connect(&app, &bob).await);
    send(
        &mut bobs,
        json!({"type": "react", "message_id": mid, "emoji": "❤️", "on": true}),
    )
    .await;
    for ws in [&mut anas, &mut bobs] {
        let f = next_of(ws, &["message_updated"]).await;
        assert_eq!(f["message"]["reactions"][0]["emoji"], "❤️");
        assert_eq!(f["message"]["reactions"][0]["users"][0]["username"], "bob");
    }
    // Bob's join is a system line: no reactions there.
    let h = ok(
        &app,
        &bob,
        "/api/messages/history",
        json!({"room_id": room}),
    )
    .await;
    let line = h["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "system")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    send(
        &mut bobs,
        json!({"type": "react", "message_id": line, "emoji": "❤️", "on": true}),
    )
    .await;
    assert_eq!(next_of(&mut bobs, &["error"]).await["code"], "forbidden");
}

#[tokio::test]
async fn formatting_comes_parsed_and_inert_and_plain_text_carries_none() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ana = person(&app, "ana").await;
    let room = open_room(&app, &ana, "Lounge", &[]).await;
    let plain = say(&app, &ana, &room, "just words\nand a line").await;
    assert!(plain.get("formatted").is_none(), "{plain}");
    let rich = say(
        &app,
        &ana,
        &room,
        "**bold** <script>alert(1)</script> [x](javascript:alert(1)) [ok](https://example.com)",
    )
    .await;
    // The stored text is what was typed; the structure is allow-listed.
    assert!(rich["body"]
        .as_str()
        .unwrap()
        .starts_with("**bold** <script>"));
    let f = &rich["formatted"];
    assert_eq!(f[0]["t"], "p");
    let inlines = f[0]["c"].as_array().unwrap();
    assert_eq!(
        inlines[0],
        json!({"t": "b", "c": [{"t": "text", "c": "bold"}]})
    );
    let text: String = inlines
        .iter()
        .filter(|i| i["t"] == "text")
        .map(|i| i["c"].as_str().unwrap())
        .collect();
    assert!(text.contains("<script>alert(1)</script>"), "{text}");
    let links: Vec<&Value> = inlines.iter().filter(|i| i["t"] == "link").collect();
    assert_eq!(links.len(), 1, "only the https link: {inlines:?}");
    assert_eq!(links[0]["c"]["href"], "https://example.com");
    // An edit is formatted anew; the room page, rendered without JavaScript, shows it.
    ok(
        &app,
        &ana,
        "/api/messages/edit",
        json!({"message_id": id(&rich), "body": "now *just* this"}),
    )
    .await;
    let page = app
        .http
        .get(app.url(&format!("/rooms/{room}")))
        .header("cookie", &ana.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<em>just"), "{page}");
    assert!(!page.contains("<script>alert"));
}
