//! Account controls (docs/RULES.md §1): changing the password, logging out everywhere and
//! deleting the account, through the real HTTP API and live channel, on both databases.

use std::sync::Arc;

use crate::common::{
    call,
    live::{close_of, closed, connect, open_room, still_open},
    ok, person, Person, TestApp, TestDb, PASSWORD,
};
use domain::wire::Close;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

/// A second session of `who` (another browser).
async fn sign_in_again(app: &TestApp, who: &str, id: &str, password: &str) -> Person {
    let r = app
        .post(
            "/api/auth/login",
            json!({"username": who, "password": password}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    Person {
        id: id.to_owned(),
        cookie: r.cookie().expect("login sets a session cookie"),
    }
}

async fn login_status(app: &TestApp, username: &str, password: &str) -> StatusCode {
    app.post(
        "/api/auth/login",
        json!({"username": username, "password": password}),
        None,
    )
    .await
    .status
}

async fn me_status(app: &TestApp, who: &Person) -> StatusCode {
    call(app, who, "/api/auth/me", json!({})).await.status
}

#[tokio::test]
async fn a_new_password_signs_out_every_other_session_and_keeps_this_one() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let room = open_room(&app, &ann, "Lobby", &[&bob]).await;
    let phone = sign_in_again(&app, "bob", &bob.id, PASSWORD).await;
    let mut laptop_ws = connect(&app, &bob).await;
    let mut phone_ws = connect(&app, &phone).await;

    // Refusals change nothing: the wrong current password, a new one too short.
    let r = call(
        &app,
        &bob,
        "/api/auth/password",
        json!({"current_password": "not my password", "new_password": "a new long password"}),
    )
    .await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(r.body["field"], "current_password");
    let r = call(
        &app,
        &bob,
        "/api/auth/password",
        json!({"current_password": PASSWORD, "new_password": "short"}),
    )
    .await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(r.body["field"], "new_password");
    assert_eq!(me_status(&app, &phone).await, StatusCode::OK);
    assert_eq!(login_status(&app, "bob", PASSWORD).await, StatusCode::OK);

    let r = call(
        &app,
        &bob,
        "/api/auth/password",
        json!({"current_password": PASSWORD, "new_password": "a new long password"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // This browser stays signed in, under a fresh session id.
    let renewed = Person {
        id: bob.id.clone(),
        cookie: r.cookie().expect("a password change renews the session id"),
    };
    assert_ne!(renewed.cookie, bob.cookie);
    assert_eq!(me_status(&app, &renewed).await, StatusCode::OK);
    assert_eq!(me_status(&app, &bob).await, StatusCode::UNAUTHORIZED);
    // The phone is signed out, and its socket closes; the laptop's socket stays.
    assert_eq!(me_status(&app, &phone).await, StatusCode::UNAUTHORIZED);
    assert_eq!(closed(&mut phone_ws).await, close_of(Close::SignedOut));
    assert!(still_open(&mut laptop_ws).await);
    // Only the new password works now.
    assert_eq!(
        login_status(&app, "bob", PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_status(&app, "bob", "a new long password").await,
        StatusCode::OK
    );
    ok(
        &app,
        &renewed,
        "/api/rooms/members",
        json!({"room_id": room}),
    )
    .await;
    // The laptop's socket moved to the renewed session with it: that session's logout
    // closes it.
    ok(&app, &renewed, "/api/auth/logout", json!({})).await;
    assert_eq!(closed(&mut laptop_ws).await, close_of(Close::SignedOut));
}

#[tokio::test]
async fn guessing_the_current_password_is_limited_like_logins() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let bob = person(&app, "bob").await;
    let mut codes = Vec::new();
    for i in 0..6 {
        let r = call(
            &app,
            &bob,
            "/api/auth/password",
            json!({"current_password": format!("guess number {i}"), "new_password": "whatever it is"}),
        )
        .await;
        codes.push(r.code().to_owned());
    }
    assert!(
        codes.iter().any(|c| c == "rate_limited"),
        "six quick guesses were all checked: {codes:?}"
    );
}

#[tokio::test]
async fn logging_out_everywhere_ends_every_session_and_socket() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    open_room(&app, &bob, "Lobby", &[&ann]).await;
    let phone = sign_in_again(&app, "bob", &bob.id, PASSWORD).await;
    let mut laptop_ws = connect(&app, &bob).await;
    let mut phone_ws = connect(&app, &phone).await;
    let mut ann_ws = connect(&app, &ann).await;
    // Both sessions were just read, so the session cache holds them: they must end anyway.
    assert_eq!(me_status(&app, &phone).await, StatusCode::OK);

    let r = call(&app, &bob, "/api/auth/logout_all", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.set_cookie().is_some_and(|c| c.contains("Max-Age=0")),
        "the browser is told to forget its cookie: {:?}",
        r.set_cookie()
    );
    assert_eq!(me_status(&app, &bob).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me_status(&app, &phone).await, StatusCode::UNAUTHORIZED);
    assert_eq!(closed(&mut laptop_ws).await, close_of(Close::SignedOut));
    assert_eq!(closed(&mut phone_ws).await, close_of(Close::SignedOut));
    // Someone else's sessions are untouched.
    assert_eq!(me_status(&app, &ann).await, StatusCode::OK);
    assert!(still_open(&mut ann_ws).await);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM sessions").await,
        1,
        "only ann's session is left"
    );
    // Signing in again works as ever.
    sign_in_again(&app, "bob", &bob.id, PASSWORD).await;
}

async fn history(app: &TestApp, who: &Person, room: &str) -> Vec<Value> {
    ok(app, who, "/api/messages/history", json!({"room_id": room})).await["messages"]
        .as_array()
        .unwrap()
        .clone()
}

async fn roles(app: &TestApp, who: &Person, room: &str) -> Vec<(String, String)> {
    ok(app, who, "/api/rooms/members", json!({"room_id": room})).await["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user"]["username"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_deleted_account_leaves_by_the_room_rules_and_its_messages_stay_as_deleted_user() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let cat = person(&app, "cat").await;
    let dan = person(&app, "dan").await;
    // Ann owns two rooms: in one, two others stay; in the other, one non-admin would be left.
    let big = open_room(&app, &ann, "Big", &[&bob, &cat]).await;
    let pair = open_room(&app, &ann, "Pair", &[&dan]).await;
    ok(
        &app,
        &ann,
        "/api/messages/send",
        json!({"room_id": big, "client_id": "c1", "body": "hello from ann"}),
    )
    .await;
    // Ann also asked to join a request room and holds an invite to a private one.
    let asks = ok(
        &app,
        &dan,
        "/api/rooms/create",
        json!({"name": "Asks", "join_policy": "request"}),
    )
    .await["room"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(&app, &ann, "/api/rooms/join", json!({"room_id": asks})).await;
    let private = ok(
        &app,
        &cat,
        "/api/rooms/create",
        json!({"name": "Hush", "join_policy": "invite"}),
    )
    .await["room"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        &app,
        &cat,
        "/api/rooms/invite",
        json!({"room_id": private, "user": ann.id}),
    )
    .await;
    let phone = sign_in_again(&app, "ann", &ann.id, PASSWORD).await;
    let mut phone_ws = connect(&app, &phone).await;

    // The wrong password deletes nothing.
    let r = call(
        &app,
        &ann,
        "/api/auth/delete",
        json!({"password": "not hers at all"}),
    )
    .await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(r.body["field"], "password");
    assert_eq!(me_status(&app, &ann).await, StatusCode::OK);

    let r = call(
        &app,
        &ann,
        "/api/auth/delete",
        json!({"password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Every session is gone and the sockets closed; the account cannot sign in.
    assert_eq!(me_status(&app, &ann).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me_status(&app, &phone).await, StatusCode::UNAUTHORIZED);
    assert_eq!(closed(&mut phone_ws).await, close_of(Close::AccountDeleted));
    assert_eq!(
        login_status(&app, "ann", PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    // Succession: the earliest joiner of the room with two left became its owner.
    assert_eq!(
        roles(&app, &bob, &big).await,
        vec![
            ("bob".to_owned(), "owner".to_owned()),
            ("cat".to_owned(), "member".to_owned())
        ]
    );
    // Termination: the room that had one non-admin left ended.
    call(&app, &dan, "/api/rooms/get", json!({"room_id": pair}))
        .await
        .assert_error(StatusCode::GONE, "room_terminated");
    // Her message stays, from "deleted user", with her id.
    let said = history(&app, &bob, &big).await;
    let hers = said
        .iter()
        .find(|m| m["body"] == "hello from ann")
        .expect("her message is kept");
    assert_eq!(hers["author"]["username"], "deleted user");
    assert_eq!(hers["author"]["id"], ann.id.as_str());
    // Her request and invite are gone; no one can invite her or find her name.
    let pending = ok(&app, &dan, "/api/rooms/requests", json!({"room_id": asks})).await;
    assert_eq!(pending["requests"], json!([]));
    let invites = ok(
        &app,
        &cat,
        "/api/rooms/invites",
        json!({"room_id": private}),
    )
    .await;
    assert_eq!(invites["invites"], json!([]));
    for reference in [ann.id.as_str(), "ann", "@ann"] {
        call(
            &app,
            &cat,
            "/api/rooms/invite",
            json!({"room_id": private, "user": reference}),
        )
        .await
        .assert_error(StatusCode::NOT_FOUND, "user_not_found");
    }
    let found = ok(&app, &bob, "/api/users/search", json!({"prefix": "an"})).await;
    assert!(!found.to_string().contains("ann"), "{found}");
    for table in [
        "memberships",
        "join_requests",
        "invites",
        "notifications",
        "sessions",
    ] {
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) AS n FROM {table} WHERE user_id = '{}'",
                ann.id
            ))
            .await,
            0,
            "{table} still names her"
        );
    }
    // Her username is free again, for a new person with a new id.
    let (again, _) = app.signup("ann").await;
    assert_ne!(again["id"], ann.id.as_str());
    let said = history(&app, &bob, &big).await;
    assert!(said
        .iter()
        .filter(|m| m["author"]["id"] == ann.id.as_str())
        .all(|m| m["author"]["username"] == "deleted user"));
}

#[tokio::test]
async fn a_deletion_cut_short_is_finished_by_housekeeping() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let cat = person(&app, "cat").await;
    let room = open_room(&app, &ann, "Lobby", &[&bob, &cat]).await;
    // The account was deleted, then the server stopped before it left its rooms.
    app.db
        .execute_unprepared(&format!(
            "UPDATE users SET deleted_at = created_at, username = 'deleted user', \
             username_key = '~deleted~{0}' WHERE id = '{0}'",
            ann.id
        ))
        .await
        .unwrap();
    let rooms = service::Rooms::new(
        app.db.clone(),
        Arc::new(service::hub::RecordingHub::default()),
    );
    assert_eq!(rooms.finish_deletions().await.unwrap(), 1);
    assert_eq!(
        roles(&app, &bob, &room).await,
        vec![
            ("bob".to_owned(), "owner".to_owned()),
            ("cat".to_owned(), "member".to_owned())
        ]
    );
    assert_eq!(
        rooms.finish_deletions().await.unwrap(),
        0,
        "nothing is left to do"
    );
}

#[tokio::test]
async fn account_controls_need_a_session() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    for (path, body) in [
        (
            "/api/auth/password",
            json!({"current_password": PASSWORD, "new_password": "another password"}),
        ),
        ("/api/auth/logout_all", json!({})),
        ("/api/auth/delete", json!({"password": PASSWORD})),
    ] {
        app.post(path, body, None)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
}
