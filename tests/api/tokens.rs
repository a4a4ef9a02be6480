//! Personal access tokens (docs/RULES.md §1, "Access tokens"), on a real server with real
//! sockets: made from a password session, stored hashed, used as `Authorization: Bearer`,
//! held to their scope on HTTP and on the live channel, never reaching the account, and
//! ended by revoke, expiry and a new password.

use std::time::Duration;

use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::common::{
    call,
    live::{
        close_of, closed, connect_with_token as connect_with, next_of, open_room, send, still_open,
    },
    ok, person, test_config, Person, Reply, TestApp, TestDb, PASSWORD,
};
use service::time::Clock;

/// POSTs JSON with `Authorization: Bearer <token>` and no cookie.
async fn bearer(app: &TestApp, token: &str, path: &str, body: Value) -> Reply {
    let req = app
        .http
        .post(app.url(path))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .json(&body);
    Reply::from(req.send().await.unwrap()).await
}

async fn make_token(app: &TestApp, who: &Person, name: &str, scope: &str) -> (String, String) {
    let body = ok(
        app,
        who,
        "/api/tokens/create",
        json!({"name": name, "scope": scope}),
    )
    .await;
    (
        body["id"].as_str().unwrap().to_owned(),
        body["token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_token_is_shown_once_stored_hashed_listed_and_acts_as_its_owner() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    for (body, field) in [
        (json!({"name": "", "scope": "read"}), "name"),
        (json!({"name": "x".repeat(61), "scope": "read"}), "name"),
        (json!({"name": "bot", "scope": "admin"}), "scope"),
        (json!({"name": "bot", "scope": "read", "days": 0}), "days"),
        (json!({"name": "bot", "scope": "read", "days": 366}), "days"),
    ] {
        let r = call(&app, &ann, "/api/tokens/create", body.clone()).await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(r.body["field"], field, "{body}");
    }
    let r = call(
        &app,
        &ann,
        "/api/tokens/create",
        json!({"name": "bot", "scope": "read", "days": "ten"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    call(&app, &ann, "/api/tokens/create", json!({"name": "bot"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM access_tokens").await,
        0
    );

    let made = ok(
        &app,
        &ann,
        "/api/tokens/create",
        json!({"name": " ci bot ", "scope": "write", "days": 30}),
    )
    .await;
    let secret = made["token"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("parlor_") && secret.len() >= 40,
        "{made}"
    );
    assert_eq!(made["name"], "ci bot");
    assert!(made["expires_at"].is_string());

    // At rest: the hash, never the secret.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) AS n FROM access_tokens WHERE secret_hash = '{secret}' OR name = '{secret}'"
        ))
        .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM access_tokens WHERE LENGTH(secret_hash) = 64")
            .await,
        1
    );

    let list = ok(&app, &ann, "/api/tokens/list", json!({})).await;
    let item = &list["tokens"][0];
    assert_eq!(item["id"], made["id"]);
    assert_eq!(item["name"], "ci bot");
    assert_eq!(item["scope"], "write");
    assert!(item["last_used_at"].is_null(), "{item}");
    assert_eq!(item["expired"], false);
    assert!(item.get("token").is_none() && !list.to_string().contains(&secret));

    // It acts as ann, with no cookie.
    let me = bearer(&app, &secret, "/api/auth/me", json!({})).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.body["user"]["id"], ann.id.as_str());
    let room = bearer(
        &app,
        &secret,
        "/api/rooms/create",
        json!({"name": "Bots", "join_policy": "open"}),
    )
    .await;
    assert_eq!(room.status, StatusCode::OK, "{}", room.text);
    let list = ok(&app, &ann, "/api/tokens/list", json!({})).await;
    assert!(list["tokens"][0]["last_used_at"].is_string(), "{list}");

    // Wrong, malformed and someone else's.
    for bad in ["parlor_nope", "nope", ""] {
        bearer(&app, bad, "/api/rooms/mine", json!({}))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    let bob = person(&app, "bob").await;
    call(&app, &bob, "/api/tokens/revoke", json!({"id": made["id"]}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        bearer(&app, &secret, "/api/rooms/mine", json!({}))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_read_token_reads_and_is_refused_every_write_on_http_and_on_the_socket() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let room = open_room(&app, &ann, "Lounge", &[]).await;
    let (_, reader) = make_token(&app, &ann, "reader", "read").await;
    let messages = || app.count("SELECT COUNT(*) AS n FROM messages");
    let before = messages().await;

    for path in [
        "/api/rooms/mine",
        "/api/me/overview",
        "/api/notifications/list",
    ] {
        let r = bearer(&app, &reader, path, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    }
    let r = bearer(
        &app,
        &reader,
        "/api/messages/history",
        json!({"room_id": room}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for (path, body) in [
        (
            "/api/messages/send",
            json!({"room_id": room, "client_id": "c1", "body": "hi"}),
        ),
        ("/api/rooms/leave", json!({"room_id": room})),
        ("/api/rooms/create", json!({"name": "Mine"})),
        ("/api/notifications/read", json!({"all": true})),
    ] {
        bearer(&app, &reader, path, body)
            .await
            .assert_error(StatusCode::FORBIDDEN, "insufficient_scope");
    }
    assert_eq!(messages().await, before);

    // The live channel: it reads, and refuses the frames that act, with the send's id.
    let mut ws = connect_with(&app, &reader).await;
    send(
        &mut ws,
        json!({"type": "send", "room_id": room, "client_id": "ws-1", "body": "hello"}),
    )
    .await;
    let refused = next_of(&mut ws, &["error"]).await;
    assert_eq!(refused["code"], "insufficient_scope");
    assert_eq!(refused["client_id"], "ws-1");
    send(&mut ws, json!({"type": "typing", "room_id": room})).await;
    assert_eq!(
        next_of(&mut ws, &["error"]).await["code"],
        "insufficient_scope"
    );
    send(&mut ws, json!({"type": "ping"})).await;
    next_of(&mut ws, &["pong"]).await;
    // What others say reaches it.
    ok(
        &app,
        &ann,
        "/api/messages/send",
        json!({"room_id": room, "client_id": "c2", "body": "from the browser"}),
    )
    .await;
    let heard = next_of(&mut ws, &["message"]).await;
    assert_eq!(heard["message"]["body"], "from the browser");
    assert_eq!(messages().await, before + 1);

    // A write token may send, on both.
    let (_, writer) = make_token(&app, &ann, "writer", "write").await;
    let r = bearer(
        &app,
        &writer,
        "/api/messages/send",
        json!({"room_id": room, "client_id": "c3", "body": "from a script"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut ws = connect_with(&app, &writer).await;
    send(
        &mut ws,
        json!({"type": "send", "room_id": room, "client_id": "ws-2", "body": "live"}),
    )
    .await;
    assert_eq!(next_of(&mut ws, &["ack", "error"]).await["type"], "ack");
}

#[tokio::test]
async fn no_token_reaches_the_account_its_sessions_or_its_tokens() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let (_, writer) = make_token(&app, &ann, "writer", "write").await;
    for (path, body) in [
        (
            "/api/auth/password",
            json!({"current_password": PASSWORD, "new_password": "another long one"}),
        ),
        ("/api/auth/delete", json!({"password": PASSWORD})),
        ("/api/auth/logout", json!({})),
        ("/api/auth/logout_all", json!({})),
        (
            "/api/tokens/create",
            json!({"name": "more", "scope": "write"}),
        ),
        ("/api/tokens/list", json!({})),
        ("/api/tokens/revoke", json!({"id": "x"})),
    ] {
        bearer(&app, &writer, path, body)
            .await
            .assert_error(StatusCode::FORBIDDEN, "insufficient_scope");
    }
    // Nothing changed: the password still signs in, one token, the account is there.
    let login = app
        .post(
            "/api/auth/login",
            json!({"username": "ann", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM access_tokens").await,
        1
    );
    // The form twins are the pages' own, for password sessions only.
    let r = app
        .http
        .post(app.url("/api/form/rooms/create"))
        .header(header::AUTHORIZATION, format!("Bearer {writer}"))
        .form(&[("name", "Formed"), ("join_policy", "open")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn revoke_cuts_a_live_socket_and_a_new_password_revokes_every_token() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let (id, first) = make_token(&app, &ann, "first", "read").await;
    let (_, second) = make_token(&app, &ann, "second", "write").await;
    let mut one = connect_with(&app, &first).await;
    let mut two = connect_with(&app, &second).await;

    ok(&app, &ann, "/api/tokens/revoke", json!({"id": id})).await;
    assert_eq!(
        closed(&mut one).await,
        close_of(domain::wire::Close::SignedOut)
    );
    bearer(&app, &first, "/api/rooms/mine", json!({}))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(still_open(&mut two).await, "the other token's socket stays");
    call(&app, &ann, "/api/tokens/revoke", json!({"id": id}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");

    let changed = call(
        &app,
        &ann,
        "/api/auth/password",
        json!({"current_password": PASSWORD, "new_password": "another long one"}),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(
        closed(&mut two).await,
        close_of(domain::wire::Close::SignedOut)
    );
    bearer(&app, &second, "/api/rooms/mine", json!({}))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM access_tokens").await,
        0
    );
    // The browser that changed it stays signed in, under its renewed session.
    let renewed = Person {
        id: ann.id.clone(),
        cookie: changed.cookie().expect("a renewed session cookie"),
    };
    ok(&app, &renewed, "/api/tokens/list", json!({})).await;
}

#[tokio::test]
async fn an_expired_token_stops_working_on_http_and_the_live_channel() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    let clock = Clock::adjustable();
    config.clock = clock.clone();
    let app = TestApp::spawn_with(config).await;
    let ann = person(&app, "ann").await;
    let made = ok(
        &app,
        &ann,
        "/api/tokens/create",
        json!({"name": "week", "scope": "read", "days": 7}),
    )
    .await;
    let secret = made["token"].as_str().unwrap();
    assert_eq!(
        bearer(&app, secret, "/api/rooms/mine", json!({}))
            .await
            .status,
        StatusCode::OK
    );
    clock.advance(Duration::from_secs(7 * 24 * 3600 + 1));
    bearer(&app, secret, "/api/rooms/mine", json!({}))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    let mut req = format!("ws://{}/ws", app.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {secret}").parse().unwrap());
    let refused = tokio_tungstenite::connect_async(req).await;
    assert!(refused.is_err(), "an expired token opens no socket");
    // Still listed, so its owner sees it ended and revokes it.
    let list = ok(&app, &ann, "/api/tokens/list", json!({})).await;
    assert_eq!(list["tokens"].as_array().unwrap().len(), 1);
    assert_eq!(list["tokens"][0]["expired"], true);
}
