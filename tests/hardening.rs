//! Abuse from outside (docs/SECURITY.md): input the database would choke on, a row the
//! database refuses, and text that impersonates, against a real server on SQLite and (with
//! PARLOR_TEST_DB=postgres) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{call, ok, person, TestApp, TestDb};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;

async fn open_room(app: &TestApp, owner: &common::Person, name: &str) -> String {
    let body = ok(
        app,
        owner,
        "/api/rooms/create",
        json!({"name": name, "join_policy": "open"}),
    )
    .await;
    body["room"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn nul_and_control_characters_are_refused_before_they_reach_the_database() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ana = person(&app, "ana").await;
    let bob = person(&app, "bob").await;
    let room = open_room(&app, &ana, "Lounge").await;
    ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await;
    let stored = app.count("SELECT COUNT(*) AS n FROM messages").await;

    let cases = [
        (
            "/api/messages/send",
            json!({"room_id": room, "client_id": "c1", "body": "hi\u{0}there"}),
            "body",
        ),
        (
            "/api/messages/send",
            json!({"room_id": room, "client_id": "c2", "body": "\u{1b}[2Jcleared"}),
            "body",
        ),
        (
            "/api/messages/send",
            json!({"room_id": room, "client_id": "c\u{0}3", "body": "hi"}),
            "client_id",
        ),
        (
            "/api/rooms/create",
            json!({"name": "Nul\u{0}room", "join_policy": "open"}),
            "name",
        ),
        (
            "/api/rooms/create",
            json!({"name": "Fine", "topic": "t\u{0}", "join_policy": "open"}),
            "topic",
        ),
        (
            "/api/rooms/kick",
            json!({"room_id": room, "user_id": bob.id, "reason": "spam\u{0}"}),
            "reason",
        ),
        (
            "/api/rooms/ban",
            json!({"room_id": room, "user": bob.id, "reason": "\u{7}"}),
            "reason",
        ),
    ];
    for (path, body, field) in cases {
        let r = call(&app, &ana, path, body.clone()).await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(r.body["field"], field, "{path} {body}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM messages").await,
        stored
    );
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM rooms").await, 1);
    // Bob was neither kicked nor banned.
    ok(
        &app,
        &bob,
        "/api/messages/send",
        json!({"room_id": room, "client_id": "b1", "body": "still here"}),
    )
    .await;
}

/// A database refusing one row (here a trigger stands in for whatever it may refuse) fails
/// that send alone: the sends committed in the same batch are stored and answered.
#[tokio::test]
async fn a_row_the_database_refuses_fails_only_its_own_send() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let poison_trigger: &[&str] = if common::on_postgres() {
        &[
            "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN \
             IF NEW.body = 'poison' THEN RAISE EXCEPTION 'poison refused'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER poison BEFORE INSERT ON messages FOR EACH ROW \
             EXECUTE FUNCTION refuse_poison()",
        ]
    } else {
        &[
            "CREATE TRIGGER poison BEFORE INSERT ON messages WHEN NEW.body = 'poison' \
           BEGIN SELECT RAISE(ABORT, 'poison refused'); END",
        ]
    };
    for sql in poison_trigger {
        app.db.execute_unprepared(sql).await.unwrap();
    }
    let owner = person(&app, "owner").await;
    let room = open_room(&app, &owner, "Lounge").await;
    let mut people = Vec::new();
    for i in 0..8 {
        let p = person(&app, &format!("person{i}")).await;
        ok(&app, &p, "/api/rooms/join", json!({"room_id": room})).await;
        people.push(p);
    }
    let before = app.count("SELECT COUNT(*) AS n FROM messages").await;

    // Hold the room's write lock so that every send below queues into one batch.
    let hold = app.db.begin().await.unwrap();
    hold.execute_unprepared(&format!(
        "UPDATE rooms SET topic = topic WHERE id = '{room}'"
    ))
    .await
    .unwrap();
    let sends = people.iter().enumerate().map(|(i, p)| {
        let body = if i == 3 {
            "poison".to_owned()
        } else {
            format!("hello {i}")
        };
        call(
            &app,
            p,
            "/api/messages/send",
            json!({"room_id": room, "client_id": format!("c{i}"), "body": body}),
        )
    });
    let replies = async {
        let all = futures::future::join_all(sends);
        tokio::pin!(all);
        // Let every send reach the writer's queue, then let the writer go.
        tokio::select! {
            r = &mut all => panic!("sends finished under the lock: {:?}", r.iter().map(|r| r.status).collect::<Vec<_>>()),
            () = tokio::time::sleep(Duration::from_millis(600)) => {}
        }
        hold.commit().await.unwrap();
        all.await
    }
    .await;

    for (i, r) in replies.iter().enumerate() {
        if i == 3 {
            r.assert_error(StatusCode::INTERNAL_SERVER_ERROR, "internal");
        } else {
            assert_eq!(r.status, StatusCode::OK, "send {i}: {}", r.text);
        }
    }
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM messages").await,
        before + 7
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM messages WHERE body = 'poison'")
            .await,
        0
    );
}

#[tokio::test]
async fn look_alike_room_names_are_taken_and_direction_tricks_refused() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ana = person(&app, "ana").await;
    open_room(&app, &ana, "Lounge").await;
    for twin in ["Lounge\u{200B}", "Ｌｏｕｎｇｅ", "LOUNGE", "\u{FEFF}Lounge"] {
        let r = call(
            &app,
            &ana,
            "/api/rooms/create",
            json!({"name": twin, "join_policy": "open"}),
        )
        .await;
        assert!(
            matches!(
                (r.status.as_u16(), r.code()),
                (409, "room_name_taken") | (400, "invalid_input")
            ),
            "{twin:?}: {}",
            r.text
        );
    }
    let r = call(
        &app,
        &ana,
        "/api/rooms/create",
        json!({"name": "x\u{202E}fdp.exe", "join_policy": "open"}),
    )
    .await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    // Search folds the same way: the full-width query finds the room.
    let found = ok(&app, &ana, "/api/rooms/search", json!({"query": "ｌｏｕ"})).await;
    assert_eq!(found["rooms"][0]["name"], "Lounge", "{found}");
}
