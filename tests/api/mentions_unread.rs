//! Mentions and unread (docs/RULES.md §6, "Mentions" and "Unread"), over HTTP, the live
//! channel and the JS-off form, on both databases.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{
    call, id,
    live::{connect, next_of, open_room, send, still_open},
    ok, person, say, test_config, Person, TestApp, TestDb,
};

/// `who`'s mention notifications, as (message id) in the order listed.
async fn mention_notes(app: &TestApp, who: &Person) -> Vec<String> {
    let r = ok(app, who, "/api/notifications/list", json!({})).await;
    r["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "mention")
        .map(|n| n["message_id"].as_str().unwrap().to_owned())
        .collect()
}

/// `who`'s (unread, mentions, read_to) in `room`, from `rooms/mine`.
async fn counts(app: &TestApp, who: &Person, room: &str) -> (u64, u64, Option<String>) {
    let r = ok(app, who, "/api/rooms/mine", json!({})).await;
    let entry = r["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == room)
        .unwrap_or_else(|| panic!("{room} in {r}"))
        .clone();
    (
        entry["unread"].as_u64().unwrap(),
        entry["mentions"].as_u64().unwrap(),
        entry["read_to"].as_str().map(str::to_owned),
    )
}

#[tokio::test]
async fn mentions_notify_members_once_and_never_the_author_or_strangers() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (ana, bob, carl, dave) = (
        person(&app, "ana").await,
        person(&app, "bob").await,
        person(&app, "carl").await,
        person(&app, "dave").await,
    );
    let room = open_room(&app, &ana, "Lounge", &[&bob, &carl]).await;
    let mut bobs = connect(&app, &bob).await;

    // Bob twice and in another case, a stranger, the author, a lookalike, an address, code.
    let sent = say(
        &app,
        &ana,
        &room,
        "hi @bob and @BOB, @dave @ana @b0b mail bob@example.com `@carl`",
    )
    .await;
    let mid = id(&sent);
    assert_eq!(sent["mentions"], json!([bob.id]));
    // Marked in the formatted text where typed, by id; the stranger and the code stay text.
    let marks: Vec<(Value, Value)> = sent["formatted"][0]["c"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["t"] == "mention")
        .map(|i| (i["c"]["user"].clone(), i["c"]["text"].clone()))
        .collect();
    assert_eq!(
        marks,
        [
            (json!(bob.id), json!("@bob")),
            (json!(bob.id), json!("@BOB"))
        ]
    );
    let note = next_of(&mut bobs, &["notification"]).await;
    assert_eq!(note["notification"]["kind"], "mention");
    assert_eq!(note["notification"]["message_id"], mid.as_str());
    assert_eq!(note["notification"]["actor"]["username"], "ana");
    assert_eq!(mention_notes(&app, &bob).await, std::slice::from_ref(&mid));
    for nobody in [&ana, &carl, &dave] {
        assert!(mention_notes(&app, nobody).await.is_empty());
    }
    assert_eq!(counts(&app, &bob, &room).await.1, 1);

    // An edit that adds carl notifies carl once; bob, named before, hears nothing new.
    let edit = |body: &str| json!({"message_id": mid, "body": body});
    let r = ok(&app, &ana, "/api/messages/edit", edit("@bob and @carl")).await;
    let mut mentioned: Vec<String> =
        serde_json::from_value(r["message"]["mentions"].clone()).unwrap();
    mentioned.sort();
    let mut expected = vec![bob.id.clone(), carl.id.clone()];
    expected.sort();
    assert_eq!(mentioned, expected);
    ok(&app, &ana, "/api/messages/edit", edit("just @bob")).await;
    let r = ok(&app, &ana, "/api/messages/edit", edit("nobody now")).await;
    assert_eq!(r["message"]["mentions"], json!([]));
    ok(&app, &ana, "/api/messages/edit", edit("@carl again, @bob")).await;
    assert_eq!(mention_notes(&app, &carl).await, std::slice::from_ref(&mid));
    assert_eq!(mention_notes(&app, &bob).await, std::slice::from_ref(&mid));
    // The get shows who it names now.
    let got = ok(&app, &bob, "/api/messages/get", json!({"message_id": mid})).await;
    assert_eq!(got["message"]["mentions"].as_array().unwrap().len(), 2);

    // Deleted: its notifications and its badge go with it.
    ok(
        &app,
        &ana,
        "/api/messages/delete",
        json!({"message_id": mid}),
    )
    .await;
    assert!(mention_notes(&app, &bob).await.is_empty());
    assert!(mention_notes(&app, &carl).await.is_empty());
    assert_eq!(counts(&app, &bob, &room).await.1, 0);
    let got = ok(&app, &bob, "/api/messages/get", json!({"message_id": mid})).await;
    assert_eq!(got["message"]["mentions"], json!([]));
}

#[tokio::test]
async fn room_mentions_are_an_admins_and_reach_every_member() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (ana, bob, carl) = (
        person(&app, "ana").await,
        person(&app, "bob").await,
        person(&app, "carl").await,
    );
    let room = open_room(&app, &ana, "Hall", &[&bob, &carl]).await;
    // A member's @room is text.
    let plain = say(&app, &bob, &room, "@room lunch?").await;
    assert!(plain.get("mentions_room").is_none() || plain["mentions_room"] == false);
    assert!(mention_notes(&app, &carl).await.is_empty());
    assert_eq!(
        counts(&app, &carl, &room).await,
        (1, 0, counts(&app, &carl, &room).await.2)
    );

    let all = say(&app, &ana, &room, "@room the room moves at noon").await;
    assert_eq!(all["mentions_room"], true);
    for member in [&bob, &carl] {
        assert_eq!(mention_notes(&app, member).await, [id(&all)]);
    }
    assert!(mention_notes(&app, &ana).await.is_empty());
    assert_eq!(counts(&app, &carl, &room).await.1, 1);
}

#[tokio::test]
async fn unread_counts_follow_the_read_position_and_reads_reach_all_my_sockets() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (ana, bob, carl) = (
        person(&app, "ana").await,
        person(&app, "bob").await,
        person(&app, "carl").await,
    );
    let room = open_room(&app, &ana, "Lounge", &[&bob]).await;
    let other = open_room(&app, &carl, "Elsewhere", &[&bob]).await;
    // What was there when bob joined is read.
    assert_eq!(counts(&app, &bob, &room).await.0, 0);
    let m: Vec<String> = {
        let mut out = Vec::new();
        for body in ["one", "two", "three @bob"] {
            out.push(id(&say(&app, &ana, &room, body).await));
        }
        out
    };
    // Bob's own messages never count.
    say(&app, &bob, &room, "mine").await;
    assert_eq!(counts(&app, &bob, &room).await.0, 3);
    assert_eq!(counts(&app, &bob, &room).await.1, 1);

    let mut tab1 = connect(&app, &bob).await;
    let mut tab2 = connect(&app, &bob).await;
    let read = |mid: &str| json!({"room_id": room, "message_id": mid});
    let r = ok(&app, &bob, "/api/rooms/read", read(&m[1])).await;
    assert_eq!(r, json!({}));
    for tab in [&mut tab1, &mut tab2] {
        let f = next_of(tab, &["read"]).await;
        assert_eq!(
            f,
            json!({"type": "read", "room_id": room, "message_id": m[1]})
        );
    }
    let (unread, mentions, read_to) = counts(&app, &bob, &room).await;
    assert_eq!(
        (unread, mentions, read_to.as_deref()),
        (1, 1, Some(m[1].as_str()))
    );
    // Back to an earlier message: the position stays where it is.
    ok(&app, &bob, "/api/rooms/read", read(&m[0])).await;
    assert_eq!(
        counts(&app, &bob, &room).await.2.as_deref(),
        Some(m[1].as_str())
    );

    // Over the socket: every tab hears it, the one that sent it too.
    send(
        &mut tab1,
        json!({"type": "read", "room_id": room, "message_id": m[2]}),
    )
    .await;
    for tab in [&mut tab1, &mut tab2] {
        let f = next_of(tab, &["read"]).await;
        assert_eq!(f["message_id"], m[2].as_str());
    }
    assert_eq!(counts(&app, &bob, &room).await.0, 0);
    assert_eq!(counts(&app, &bob, &room).await.1, 0);

    // A message of another room, a stranger, a malformed id: refused, nothing moved.
    let carls = id(&say(&app, &carl, &other, "over here").await);
    call(&app, &bob, "/api/rooms/read", read(&carls))
        .await
        .assert_error(StatusCode::NOT_FOUND, "message_not_found");
    let r = call(&app, &carl, "/api/rooms/read", read(&m[2])).await;
    assert!(r.status.is_client_error(), "{:?}", r.body);
    let r = call(&app, &bob, "/api/rooms/read", read("abc")).await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(r.body["field"], "message_id");
    send(
        &mut tab1,
        json!({"type": "read", "room_id": room, "message_id": carls}),
    )
    .await;
    let f = next_of(&mut tab1, &["error"]).await;
    assert_eq!(f["code"], "message_not_found");
    assert!(still_open(&mut tab2).await);

    // A deleted unread message stops counting.
    let gone = id(&say(&app, &ana, &room, "oops @bob").await);
    assert_eq!(counts(&app, &bob, &room).await.0, 1);
    ok(
        &app,
        &ana,
        "/api/messages/delete",
        json!({"message_id": gone}),
    )
    .await;
    assert_eq!(counts(&app, &bob, &room).await.0, 0);
}

#[tokio::test]
async fn mark_read_works_as_a_plain_form_post() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (ana, bob) = (person(&app, "ana").await, person(&app, "bob").await);
    let room = open_room(&app, &ana, "Lounge", &[&bob]).await;
    let mid = id(&say(&app, &ana, &room, "hello").await);
    assert_eq!(counts(&app, &bob, &room).await.0, 1);
    // The room page shows the divider and its form.
    let page = app
        .http
        .get(app.url(&format!("/rooms/{room}")))
        .header("cookie", &bob.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("New messages"), "the divider is on the page");
    assert!(page.contains("action=\"/api/form/rooms/read\""));
    let res = app
        .http
        .post(app.url("/api/form/rooms/read"))
        .header("accept", "text/html")
        .header("cookie", &bob.cookie)
        .form(&[("room_id", room.as_str()), ("message_id", mid.as_str())])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(
        res.headers()["location"],
        format!("/rooms/{room}#latest").as_str()
    );
    assert_eq!(counts(&app, &bob, &room).await, (0, 0, Some(mid)));
}

/// Sends `n` messages as fast as answers come.
async fn writer(app: &TestApp, who: &Person, room: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(id(&say(app, who, room, &format!("m{i}")).await));
    }
    ids
}

/// Two people send while the reader marks read as they go: whatever the interleaving, the
/// count is exactly the others' messages past the final read position, and the position is
/// the furthest one marked.
#[tokio::test]
async fn unread_counts_stay_right_under_concurrent_sends_and_reads() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.send_burst = 1000;
    let app = TestApp::spawn_with(config).await;
    let (ana, bob, carl) = (
        person(&app, "ana").await,
        person(&app, "bob").await,
        person(&app, "carl").await,
    );
    let room = open_room(&app, &ana, "Busy", &[&bob, &carl]).await;
    let first = id(&say(&app, &ana, &room, "start").await);
    let reader = async {
        let mut marked = vec![first.clone()];
        for _ in 0..15 {
            let page = ok(
                &app,
                &bob,
                "/api/messages/history",
                json!({"room_id": room, "limit": 1}),
            )
            .await;
            let newest = id(&page["messages"][0]);
            ok(
                &app,
                &bob,
                "/api/rooms/read",
                json!({"room_id": room, "message_id": newest}),
            )
            .await;
            marked.push(newest);
        }
        marked
    };
    let (from_ana, from_carl, marked) = tokio::join!(
        writer(&app, &ana, &room, 20),
        writer(&app, &carl, &room, 20),
        reader
    );
    let num = |s: &String| s.parse::<i64>().unwrap();
    let furthest = marked.iter().map(num).max().unwrap();
    let (unread, mentions, read_to) = counts(&app, &bob, &room).await;
    assert_eq!(
        read_to.as_deref().map(|r| r.parse::<i64>().unwrap()),
        Some(furthest)
    );
    let past = from_ana
        .iter()
        .chain(&from_carl)
        .chain([&first])
        .filter(|m| num(m) > furthest)
        .count() as u64;
    assert_eq!(unread, past, "read to {furthest}");
    assert_eq!(mentions, 0);
}
