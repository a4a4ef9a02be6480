//! The second hardening pass (docs/SECURITY.md): holes a review found after the first, each
//! with the test that failed before its fix. Real servers, raw connections where the hole
//! was in how a connection is held.

use std::{net::IpAddr, time::Duration};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::common::{
    call, live::open_room, ok, person, test_config, Person, TestApp, TestDb, PASSWORD,
};

const BOUNDARY: &str = "stallboundary";

/// An upload's request head and as much of its body as `body` says, then nothing more.
async fn stalled_upload(app: &TestApp, who: &Person, body: &str) -> TcpStream {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/uploads HTTP/1.1\r\nHost: x\r\nCookie: {}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
         Content-Length: 1000000\r\nConnection: close\r\n\r\n{body}",
        who.cookie
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// What the server answers before it closes the connection, if it does within `wait`.
async fn answer(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

async fn healthz_from(app: &TestApp, from: IpAddr) -> StatusCode {
    let client = reqwest::Client::builder()
        .local_address(from)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    match client.get(app.url("/healthz")).send().await {
        Ok(r) => r.status(),
        Err(e) => {
            eprintln!("/healthz from {from}: {e:?}");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

#[tokio::test]
async fn a_stalled_upload_is_cut_off_in_every_phase() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.limits.body_timeout_ms = 500;
    config.limits.upload_min_rate = 1000;
    let app = TestApp::spawn_with(config).await;
    let ana = person(&app, "ana").await;
    let room = open_room(&app, &ana, "Files", &[]).await;
    let room_part = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"room_id\"\r\n\r\n{room}\r\n"
    );
    for (phase, body) in [
        ("before a byte of the form", String::new()),
        (
            "inside the room id's headers",
            format!("--{BOUNDARY}\r\nContent-Dis"),
        ),
        ("between the room id and the file", room_part.clone()),
        (
            "inside the file's headers",
            format!("{room_part}--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"fi"),
        ),
    ] {
        let mut upload = stalled_upload(&app, &ana, &body).await;
        let said = answer(&mut upload, Duration::from_secs(5))
            .await
            .unwrap_or_else(|| panic!("an upload stalled {phase} was still held after 5 s"));
        assert!(said.starts_with("HTTP/1.1 408"), "{phase}: {said}");
        assert!(said.contains("\"too_slow\""), "{phase}: {said}");
    }
    // Nothing was stored.
    let left = std::fs::read_dir(db.data_dir.path().join("uploads"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_senders_upload_slots_are_taken_before_the_body_and_an_address_holds_few_connections() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.limits.uploads_per_user = 2;
    config.limits.max_connections_per_address = 4;
    let mut app = TestApp::spawn_with(config).await;
    // No kept-alive connection of the test's own client counts here.
    app.http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let ana = person(&app, "ana").await;

    // Two uploads that never send their room id hold ana's two slots; the third is refused
    // at once, without the server waiting for its body.
    let mut held = vec![
        stalled_upload(&app, &ana, "").await,
        stalled_upload(&app, &ana, "").await,
    ];
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut third = stalled_upload(&app, &ana, "").await;
    let said = answer(&mut third, Duration::from_secs(2))
        .await
        .expect("the third upload was held");
    assert!(said.starts_with("HTTP/1.1 429"), "{said}");
    assert!(said.contains("uploads in progress"), "{said}");

    // This address now holds 2 connections; 2 more fit, the next is closed at once.
    held.push(TcpStream::connect(app.addr).await.unwrap());
    held.push(TcpStream::connect(app.addr).await.unwrap());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fifth = TcpStream::connect(app.addr).await.unwrap();
    let _ = fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    assert_eq!(
        answer(&mut fifth, Duration::from_secs(2)).await.as_deref(),
        Some(""),
        "a fifth connection from one address was served"
    );
    // Everyone else is served all the while.
    assert_eq!(
        healthz_from(&app, [127, 0, 0, 2].into()).await,
        StatusCode::OK
    );
    // One closes: the address gets its place back.
    held.pop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        healthz_from(&app, [127, 0, 0, 1].into()).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_trusted_proxys_connections_are_not_capped_per_address() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.limits.max_connections_per_address = 2;
    config.limits.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    let app = TestApp::spawn_with(config).await;
    let _held: Vec<TcpStream> =
        futures::future::join_all((0..4).map(|_| TcpStream::connect(app.addr)))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        healthz_from(&app, [127, 0, 0, 1].into()).await,
        StatusCode::OK
    );
}

/// Streams `size` bytes as an upload, `step` bytes every `pause`.
async fn slow_upload(
    app: &TestApp,
    who: &Person,
    room: &str,
    size: usize,
    step: usize,
    pause: Duration,
) -> (StatusCode, Value) {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..size.div_ceil(step))
        .map(|_| Ok(vec![7u8; step]))
        .collect();
    let body = futures::StreamExt::then(futures::stream::iter(chunks), move |c| async move {
        tokio::time::sleep(pause).await;
        c
    });
    let form = reqwest::multipart::Form::new()
        .text("room_id", room.to_owned())
        .part(
            "file",
            reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(body))
                .file_name("part.bin"),
        );
    let res = app
        .http
        .post(app.url("/api/uploads"))
        .header("cookie", &who.cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn two_uploads_at_once_cannot_pass_the_days_bytes_together() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.send_burst = 100;
    config.limits.upload_daily_bytes = 100_000;
    config.limits.uploads_per_user = 2;
    let app = TestApp::spawn_with(config).await;
    let ana = person(&app, "ana").await;
    let room = open_room(&app, &ana, "Files", &[]).await;
    // Each alone fits today's bytes; both together do not. They stream side by side, so
    // both are admitted before either is stored.
    let step = Duration::from_millis(20);
    let (a, b) = tokio::join!(
        slow_upload(&app, &ana, &room, 60_000, 6_000, step),
        slow_upload(&app, &ana, &room, 60_000, 6_000, step),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::PAYLOAD_TOO_LARGE],
        "{} / {}",
        a.1,
        b.1
    );
    let stored: u64 = std::fs::read_dir(db.data_dir.path().join("uploads"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(stored <= 100_000, "{stored} bytes stored");
    // The refused one gave its bytes back: what is left of the day still fits.
    let (status, body) = slow_upload(&app, &ana, &room, 30_000, 30_000, Duration::ZERO).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.limits.header_read_timeout_ms = 500;
    let app = TestApp::spawn_with(config).await;
    let stream = TcpStream::connect(app.addr).await.unwrap();
    let (mut send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    let conn = tokio::spawn(conn);
    let req = hyper::Request::get(app.url("/healthz"))
        .body(http_body_util::Empty::<axum::body::Bytes>::new())
        .unwrap();
    let res = send.send_request(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.version(), hyper::Version::HTTP_2);
    drop(res);
    // Nothing more is asked: the server ends the connection once it has been idle.
    tokio::time::timeout(Duration::from_secs(5), conn)
        .await
        .expect("the idle HTTP/2 connection was still open after 5 s")
        .unwrap()
        .ok();
    assert!(
        send.ready().await.is_err(),
        "the connection still takes requests"
    );
}

/// The room's system lines, oldest first.
async fn system_lines(app: &TestApp, who: &Person, room: &str) -> Vec<String> {
    let h = ok(app, who, "/api/messages/history", json!({"room_id": room})).await;
    let mut lines: Vec<String> = h["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "system")
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect();
    lines.reverse();
    lines
}

#[tokio::test]
async fn joins_and_leaves_are_charged_per_room_and_a_run_of_them_is_one_line() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.limits.rate_join_leave = "5/10m".parse().unwrap();
    config.limits.rate_manage = "2/10m".parse().unwrap();
    let app = TestApp::spawn_with(config).await;
    let ana = person(&app, "ana").await;
    let bob = person(&app, "bob").await;
    let room = open_room(&app, &ana, "Door", &[]).await;
    let other = open_room(&app, &ana, "Other", &[]).await;
    let go = |path: &'static str, room: String| {
        let (app, bob) = (&app, &bob);
        async move { call(app, bob, path, json!({"room_id": room})).await }
    };
    // join, leave, join, leave, join: five, the budget. Bob is in; leaving still works.
    for path in ["join", "leave", "join", "leave", "join"] {
        let r = go(
            if path == "join" {
                "/api/rooms/join"
            } else {
                "/api/rooms/leave"
            },
            room.clone(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    }
    let r = go("/api/rooms/leave", room.clone()).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "a leave is never refused: {}",
        r.text
    );
    let r = go("/api/rooms/join", room.clone()).await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(r.body["retry_after_ms"].as_u64().unwrap() > 0);
    // The budget is this room's: another room lets bob in.
    let r = go("/api/rooms/join", other.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Six changes in a row read as one line, not six.
    assert_eq!(
        system_lines(&app, &ana, &room).await,
        ["ana created the room", "bob joined and left (6 changes)"]
    );
    // Something said in between ends the run: the next join is a line of its own.
    ok(
        &app,
        &ana,
        "/api/messages/send",
        json!({"room_id": other, "client_id": "c1", "body": "hello"}),
    )
    .await;
    go("/api/rooms/leave", other.clone()).await;
    let lines = system_lines(&app, &ana, &other).await;
    assert_eq!(lines, ["ana created the room", "bob joined", "bob left"]);

    // Promotions and settings are charged too.
    let r = call(
        &app,
        &ana,
        "/api/rooms/update",
        json!({"room_id": room, "topic": "one"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = call(
        &app,
        &ana,
        "/api/rooms/update",
        json!({"room_id": room, "topic": "two"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    call(
        &app,
        &ana,
        "/api/rooms/update",
        json!({"room_id": room, "topic": "three"}),
    )
    .await
    .assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

#[tokio::test]
async fn sixty_rounds_of_join_and_leave_are_stopped_by_the_default_limit() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.limits.rate_join_leave = parlor::Config::defaults().limits.rate_join_leave;
    let app = TestApp::spawn_with(config).await;
    let ana = person(&app, "ana").await;
    let bob = person(&app, "bob").await;
    let room = open_room(&app, &ana, "Door", &[]).await;
    let mut refused_at = None;
    for round in 0..60 {
        let r = call(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            refused_at = Some(round);
            break;
        }
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let r = call(&app, &bob, "/api/rooms/leave", json!({"room_id": room})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let round = refused_at.expect("60 rounds of join and leave were never limited");
    assert!(round <= 5, "refused only at round {round}");
}

#[tokio::test]
async fn password_checks_are_limited_per_account_and_each_has_a_small_share_of_the_hashers() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.limits.rate_password = "3/1h".parse().unwrap();
    let app = TestApp::spawn_with(config).await;
    let mut ana = person(&app, "ana").await;
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let passwords = [
        PASSWORD,
        "second password",
        "third password",
        "fourth password",
    ];
    for pair in passwords.windows(2) {
        let r = call(&app, &ana, "/api/auth/password", change(pair[0], pair[1])).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        // The session goes on under a new id.
        ana.cookie = r.cookie().expect("a renewed session cookie");
    }
    // The fourth, with the right password, waits: being right does not reset this count.
    let r = call(
        &app,
        &ana,
        "/api/auth/password",
        change("fourth password", "fifth password"),
    )
    .await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");

    // Many checks at once for one account: only its budget reaches the hashers (the share
    // of the hashers each account holds is proven without timing in service::accounts),
    // and everyone else still logs in meanwhile.
    let bob = person(&app, "bob").await;
    let flood = futures::future::join_all((0..8).map(|i| {
        call(
            &app,
            &bob,
            "/api/auth/password",
            change("wrong password", &format!("new {i} password")),
        )
    }));
    let login = app.post(
        "/api/auth/login",
        json!({"username": "ana", "password": "fourth password"}),
        None,
    );
    let (answers, login) = tokio::join!(flood, login);
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    let codes: Vec<_> = answers.iter().map(|r| r.code().to_owned()).collect();
    let checked = codes.iter().filter(|c| *c == "invalid_input").count();
    let limited = codes.iter().filter(|c| *c == "rate_limited").count();
    assert!(checked <= 3, "more checks than the budget: {codes:?}");
    assert!(limited >= 5, "{codes:?}");
    assert!(codes
        .iter()
        .all(|c| matches!(c.as_str(), "unavailable" | "invalid_input" | "rate_limited")));
}

#[tokio::test]
async fn password_checks_are_limited_per_address() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    let app = TestApp::spawn_with(config.clone()).await;
    let ana = person(&app, "ana").await;
    app.stop().await;
    // A small budget per address, and a large one per account.
    config.auth_rate_burst = 3;
    config.auth_rate_period_ms = 60_000;
    let app = TestApp::spawn_with(config).await;
    let wrong = json!({"current_password": "not it at all", "new_password": "whatever else"});
    for _ in 0..3 {
        call(&app, &ana, "/api/auth/password", wrong.clone())
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    }
    call(&app, &ana, "/api/auth/password", wrong.clone())
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    call(
        &app,
        &ana,
        "/api/auth/delete",
        json!({"password": PASSWORD}),
    )
    .await
    .assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

#[tokio::test]
async fn look_alike_names_are_taken_and_selectors_refused() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ana = person(&app, "ana").await;
    let lounge = open_room(&app, &ana, "Lounge", &[]).await;
    let create = |name: &str| {
        call(
            &app,
            &ana,
            "/api/rooms/create",
            json!({"name": name, "join_policy": "open"}),
        )
    };
    // Invisible selectors are refused outright.
    for bad in ["Lounge\u{FE0F}", "Lounge\u{E0041}", "Lou\u{180B}nge"] {
        let r = create(bad).await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(r.body["field"], "name", "{bad:?}");
    }
    // A Cyrillic о, or rn for m, makes a look-alike: taken.
    create("L\u{043E}unge")
        .await
        .assert_error(StatusCode::CONFLICT, "room_name_taken");
    open_room(&app, &ana, "Harbor", &[]).await;
    create("Harb\u{03BF}r")
        .await
        .assert_error(StatusCode::CONFLICT, "room_name_taken");
    // The room ends: its name, and its look-alikes, are free again.
    ok(&app, &ana, "/api/rooms/leave", json!({"room_id": lounge})).await;
    let r = create("L\u{043E}unge").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Usernames, ASCII only, have look-alikes too.
    person(&app, "mike").await;
    for twin in ["rnike", "MIKE"] {
        app.post(
            "/api/auth/signup",
            json!({"username": twin, "password": PASSWORD}),
            None,
        )
        .await
        .assert_error(StatusCode::CONFLICT, "username_taken");
    }
    // A deleted account's name is free.
    let carl = person(&app, "carl").await;
    ok(
        &app,
        &carl,
        "/api/auth/delete",
        json!({"password": PASSWORD}),
    )
    .await;
    let r = app
        .post(
            "/api/auth/signup",
            json!({"username": "cari", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn existing_look_alikes_keep_their_names_when_skeletons_come_in() {
    use sea_orm::{ConnectionTrait, Statement};
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    // The schema as it was before skeletons (five migrations), with two rooms and two
    // accounts that look alike.
    <migration::Migrator as migration::MigratorTrait>::up(&db, Some(5))
        .await
        .unwrap();
    let exec = |sql: String| {
        let db = &db;
        async move {
            db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap();
        }
    };
    for (id, name, at) in [("u1", "mike", "2026-01-01"), ("u2", "rnike", "2026-01-02")] {
        exec(format!(
            "INSERT INTO users (id, username, username_key, password_hash, created_at) \
             VALUES ('{id}', '{name}', '{name}', 'x', '{at} 00:00:00+00:00')"
        ))
        .await;
    }
    for (id, name, at) in [
        ("r1", "Lounge", "2026-01-01"),
        ("r2", "L\u{043E}unge", "2026-01-02"),
    ] {
        exec(format!(
            "INSERT INTO rooms (id, name, name_key, join_policy, status, created_by, created_at) \
             VALUES ('{id}', '{name}', '{}', 'open', 'active', 'u1', '{at} 00:00:00+00:00')",
            name.to_lowercase()
        ))
        .await;
    }
    service::db::migrate(&db).await.unwrap();
    let skeletons = |sql: &str| {
        let db = &db;
        let sql = sql.to_owned();
        async move {
            db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .iter()
                .map(|r| r.try_get::<Option<String>>("", "s").unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        skeletons("SELECT username_skeleton AS s FROM users ORDER BY id").await,
        [Some(domain::text::skeleton("mike")), None]
    );
    assert_eq!(
        skeletons("SELECT name_skeleton AS s FROM rooms ORDER BY id").await,
        [Some(domain::text::skeleton("Lounge")), None]
    );
}

#[tokio::test]
async fn logging_in_over_a_session_closes_the_sockets_that_session_opened() {
    use crate::common::live::{close_of, closed, connect};
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ana = person(&app, "ana").await;
    person(&app, "bob").await;
    let mut ws = connect(&app, &ana).await;
    // Someone logs in on the same browser as bob: ana's session, and its socket, end.
    let r = app
        .post(
            "/api/auth/login",
            json!({"username": "bob", "password": PASSWORD}),
            Some(&ana.cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_ne!(r.cookie().as_deref(), Some(ana.cookie.as_str()));
    assert_eq!(
        closed(&mut ws).await,
        close_of(domain::wire::Close::SignedOut)
    );
    // The old cookie is nobody's any more.
    app.post("/api/auth/me", json!({}), Some(&ana.cookie))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn previous_private_rooms_show_only_their_name_and_when_you_left() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ana = person(&app, "ana").await;
    let bob = person(&app, "bob").await;
    let cat = person(&app, "cat").await;
    let secret = ok(
        &app,
        &ana,
        "/api/rooms/create",
        json!({"name": "Secret", "topic": "plans", "join_policy": "invite", "max_members": 9}),
    )
    .await["room"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for who in [&bob, &cat] {
        ok(
            &app,
            &ana,
            "/api/rooms/invite",
            json!({"room_id": secret, "user": who.id}),
        )
        .await;
        ok(&app, who, "/api/invites/accept", json!({"room_id": secret})).await;
    }
    ok(
        &app,
        &ana,
        "/api/rooms/kick",
        json!({"room_id": secret, "user_id": bob.id}),
    )
    .await;
    let previous = ok(&app, &bob, "/api/rooms/previous", json!({})).await;
    let entry = &previous["rooms"][0];
    assert_eq!(entry["room"]["name"], "Secret", "{previous}");
    assert_eq!(entry["private"], true);
    assert_eq!(entry["room"]["topic"], Value::Null);
    assert_eq!(entry["room"]["member_count"], 0);
    assert_eq!(entry["room"]["max_members"], Value::Null);
    assert_eq!(entry["can_rejoin"], false);
    assert!(entry["left_at"].is_string());
    // Invited again, bob may see it whole.
    ok(
        &app,
        &ana,
        "/api/rooms/invite",
        json!({"room_id": secret, "user": bob.id}),
    )
    .await;
    let previous = ok(&app, &bob, "/api/rooms/previous", json!({})).await;
    let entry = &previous["rooms"][0];
    assert_eq!(entry["private"], false);
    assert_eq!(entry["room"]["topic"], "plans");
    assert_eq!(entry["room"]["member_count"], 2);
}

/// A plain form post of `fields` to `/api/form{path}` from the page `page`.
async fn plain_post(
    app: &TestApp,
    path: &str,
    page: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/api/form{path}")))
        .header("accept", "text/html")
        .header("referer", app.url(page))
        .form(fields)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_form_error_shows_only_to_the_browser_whose_post_made_it() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let fields = [("username", "nobody"), ("password", "not the password")];
    let res = plain_post(&app, "/login", "/login", &fields).await;
    assert!(res.status().is_redirection());
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let ticket = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("parlor_form="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("the redirect sets the form ticket");
    let page = |address: &str, cookie: &str| {
        let req = app
            .http
            .get(app.url(address))
            .header("accept", "text/html")
            .header("cookie", cookie);
        async move { req.send().await.unwrap() }
    };
    // The browser that posted sees the server's sentence...
    let own = page(&location, &ticket).await;
    assert_eq!(own.status(), StatusCode::OK);
    assert!(own
        .text()
        .await
        .unwrap()
        .contains("Invalid username or password."));
    // ...the same address in another browser (a link someone sent) is sent on without it.
    let elsewhere = page(&location, "parlor_form=other").await;
    assert!(elsewhere.status().is_redirection());
    let clean = elsewhere.headers()["location"].to_str().unwrap();
    assert!(
        !clean.contains("__err") && clean.starts_with("/login"),
        "{clean}"
    );
    // And an address made up by hand: the same.
    let forged = "/login?__path=%2Fapi%2Fform%2Flogin&__err=%7B%22code%22%3A%22invalid_credentials%22%2C%22message%22%3A%22Your+account+is+locked.+Call+0800+FRAUD%22%7D&__ticket=x&username=ann";
    let res = page(forged, "parlor_form=y").await;
    assert!(res.status().is_redirection());
    assert_eq!(res.headers()["location"], "/login?username=ann");
    let html = page("/login?username=ann", "").await.text().await.unwrap();
    assert!(!html.contains("FRAUD"), "{html}");
}

#[tokio::test]
async fn a_back_target_must_parse_as_a_path_on_this_site() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ana = person(&app, "ana").await;
    let bob = person(&app, "bob").await;
    let room = ok(
        &app,
        &ana,
        "/api/rooms/create",
        json!({"name": "Ask", "join_policy": "request"}),
    )
    .await["room"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Bob asks again after each decline: no cooldown in this room.
    ok(
        &app,
        &ana,
        "/api/rooms/update",
        json!({"room_id": room, "request_cooldown_seconds": 0}),
    )
    .await;
    for back in [
        "/\t/evil.example",
        "/\n/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        " /x",
    ] {
        ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await;
        let res = app
            .http
            .post(app.url("/api/form/rooms/deny"))
            .header("accept", "text/html")
            .header("cookie", &ana.cookie)
            .form(&[
                ("room_id", room.as_str()),
                ("user_id", bob.id.as_str()),
                ("back", back),
            ])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_redirection(), "{back:?}: {}", res.status());
        assert_eq!(res.headers()["location"], "/", "{back:?}");
    }
    // A real path on this site, with its query, is kept.
    ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await;
    let back = format!("/rooms/{room}/admin?tab=requests");
    let res = app
        .http
        .post(app.url("/api/form/rooms/deny"))
        .header("accept", "text/html")
        .header("cookie", &ana.cookie)
        .form(&[
            ("room_id", room.as_str()),
            ("user_id", bob.id.as_str()),
            ("back", back.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], back.as_str());
}
