//! Abuse from outside (docs/SECURITY.md): input the database would choke on, a row the
//! database refuses, and text that impersonates, against a real server on SQLite and (with
//! PARLOR_TEST_DB=postgres) PostgreSQL.

use std::time::Duration;

use crate::common::{call, live::open_room, ok, person, TestApp, TestDb};
use domain::wire::Close;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;

#[tokio::test]
async fn nul_and_control_characters_are_refused_before_they_reach_the_database() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ana = person(&app, "ana").await;
    let bob = person(&app, "bob").await;
    let room = open_room(&app, &ana, "Lounge", &[]).await;
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
    let poison_trigger: &[&str] = if crate::common::on_postgres() {
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
    let room = open_room(&app, &owner, "Lounge", &[]).await;
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
    open_room(&app, &ana, "Lounge", &[]).await;
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

/// Reads until the server closes the connection; what it said meanwhile, or `None` if it
/// kept the connection open past `wait`.
async fn read_until_closed(stream: &mut tokio::net::TcpStream, wait: Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
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

#[tokio::test]
async fn a_client_trickling_its_headers_is_cut_off() {
    use tokio::io::AsyncWriteExt;
    let db = TestDb::new().await;
    let mut config = crate::common::test_config(&db);
    config.limits.header_read_timeout_ms = 500;
    let app = TestApp::spawn_with(config).await;
    let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let trickle = async {
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if slow.write_all(b"X").await.is_err() {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(2), trickle)
        .await
        .ok();
    let said = read_until_closed(&mut slow, Duration::from_secs(3)).await;
    assert!(said.is_some(), "the slow client still holds its connection");
    // An idle keep-alive connection is closed as well; a prompt request is served.
    let ok = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let mut idle = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    assert!(read_until_closed(&mut idle, Duration::from_secs(3))
        .await
        .is_some());
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_when_the_server_stops() {
    let db = TestDb::new().await;
    let mut config = crate::common::test_config(&db);
    // Far longer than the test: only the stop can close it.
    config.limits.header_read_timeout_ms = 600_000;
    let app = TestApp::spawn_with(config).await;
    let mut silent = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    // Accepted and waiting for its first byte; a stop used to wait on it (up to 10 s) and
    // leave it open.
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.stop().await;
    assert!(
        read_until_closed(&mut silent, Duration::from_secs(5))
            .await
            .is_some(),
        "the stopped server still holds a connection that never spoke"
    );
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_at_once_and_served_again_when_one_goes() {
    use tokio::io::AsyncWriteExt;
    let db = TestDb::new().await;
    let mut config = crate::common::test_config(&db);
    config.limits.max_connections = 3;
    let app = TestApp::spawn_with(config).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(tokio::net::TcpStream::connect(app.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let _ = extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let said = read_until_closed(&mut extra, Duration::from_secs(2)).await;
    assert_eq!(
        said.as_deref(),
        Some(""),
        "the fourth connection was served"
    );
    held.pop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut next = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    next.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let said = read_until_closed(&mut next, Duration::from_secs(3))
        .await
        .unwrap();
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
}

#[tokio::test]
async fn a_request_body_that_never_finishes_gets_too_slow() {
    use tokio::io::AsyncWriteExt;
    let db = TestDb::new().await;
    let mut config = crate::common::test_config(&db);
    config.limits.request_timeout_ms = 500;
    let app = TestApp::spawn_with(config).await;
    let ana = person(&app, "ana").await;
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/rooms/search HTTP/1.1\r\nHost: x\r\nCookie: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"query\":",
        ana.cookie
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let said = read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(said.starts_with("HTTP/1.1 408"), "{said}");
    assert!(said.contains("\"too_slow\""), "{said}");
}

#[tokio::test]
async fn an_upload_below_the_minimum_rate_is_stopped_and_leaves_nothing() {
    let db = TestDb::new().await;
    let mut config = crate::common::test_config(&db);
    config.limits.upload_min_rate = 1000;
    config.limits.body_timeout_ms = 300;
    let app = TestApp::spawn_with(config).await;
    let ana = person(&app, "ana").await;
    let room = open_room(&app, &ana, "Files", &[]).await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let form = reqwest::multipart::Form::new().text("room_id", room).part(
        "file",
        reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        ))
        .file_name("slow.bin"),
    );
    tx.send(Ok(vec![1; 100])).await.unwrap();
    let res = tokio::time::timeout(
        Duration::from_secs(5),
        app.http
            .post(app.url("/api/uploads"))
            .header("cookie", &ana.cookie)
            .multipart(form)
            .send(),
    )
    .await
    .expect("the stalled upload was not stopped")
    .unwrap();
    assert_eq!(res.status(), StatusCode::REQUEST_TIMEOUT);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "too_slow");
    drop(tx);
    let left = std::fs::read_dir(db.data_dir.path().join("uploads"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(left, 0);
}

async fn open_socket(
    app: &TestApp,
    who: &crate::common::Person,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{}/ws", app.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("cookie", who.cookie.parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

/// The first frame: `ready`, or the close frame's (code, reason).
async fn first_frame(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Result<String, (u16, String)> {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    match tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap()
    {
        Some(Ok(Message::Text(t))) => Ok(t.to_string()),
        Some(Ok(Message::Close(Some(c)))) => Err((c.code.into(), c.reason.to_string())),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn live_sockets_are_capped_per_account_and_per_address_with_a_reason() {
    let db = TestDb::new().await;
    let mut config = crate::common::test_config(&db);
    config.limits.ws_per_user = 2;
    config.limits.ws_per_address = 3;
    let app = TestApp::spawn_with(config).await;
    let ana = person(&app, "ana").await;
    let bob = person(&app, "bob").await;
    let cat = person(&app, "cat").await;
    let mut a1 = open_socket(&app, &ana).await;
    assert!(first_frame(&mut a1).await.unwrap().contains("\"ready\""));
    let mut a2 = open_socket(&app, &ana).await;
    assert!(first_frame(&mut a2).await.is_ok());
    let mut a3 = open_socket(&app, &ana).await;
    let (code, reason) = first_frame(&mut a3).await.unwrap_err();
    assert_eq!(code, Close::TooManyForUser.code());
    assert!(
        reason.contains("too many live connections for this account"),
        "{reason}"
    );
    // Everyone here comes from 127.0.0.1: the third socket from it is the last.
    let mut b1 = open_socket(&app, &bob).await;
    assert!(first_frame(&mut b1).await.is_ok());
    let mut c1 = open_socket(&app, &cat).await;
    let (code, reason) = first_frame(&mut c1).await.unwrap_err();
    assert_eq!(code, Close::TooManyForAddress.code());
    assert!(reason.contains("from this address"), "{reason}");
    // Closing one frees its place.
    drop(a1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut c2 = open_socket(&app, &cat).await;
    assert!(first_frame(&mut c2).await.is_ok());
}

#[tokio::test]
async fn login_limits_follow_forwarded_for_only_from_a_trusted_proxy() {
    let db = TestDb::new().await;
    // A new username each time, so only the per-address limit can refuse.
    let n = std::sync::atomic::AtomicU32::new(0);
    let attempt = |app: &TestApp, from: &'static str| {
        let (http, url) = (app.http.clone(), app.url("/api/auth/login"));
        let username = format!(
            "nobody{}",
            n.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        async move {
            http.post(url)
                .header("x-forwarded-for", from)
                .json(&json!({"username": username, "password": "wrong password"}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // Not trusted: the header is ignored, so changing it gets no fresh bucket.
    let mut config = crate::common::test_config(&db);
    config.auth_rate_burst = 2;
    let app = TestApp::spawn_with(config.clone()).await;
    for from in ["198.51.100.1", "198.51.100.2"] {
        assert_eq!(attempt(&app, from).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        attempt(&app, "198.51.100.3").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    app.stop().await;
    // Behind a trusted proxy: each client has its own bucket; IPv6 by /64.
    config.limits.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    let app = TestApp::spawn_with(config).await;
    for from in ["198.51.100.1", "198.51.100.1"] {
        assert_eq!(attempt(&app, from).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        attempt(&app, "198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        attempt(&app, "198.51.100.2").await,
        StatusCode::UNAUTHORIZED
    );
    for from in ["2001:db8:0:1::1", "2001:db8:0:1::2"] {
        assert_eq!(attempt(&app, from).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        attempt(&app, "2001:db8:0:1::3").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn state_changes_from_other_sites_and_json_in_disguise_are_refused() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ana = person(&app, "ana").await;
    let host = app.addr.to_string();
    let create = |origin: Option<&str>, site: Option<&str>, content_type: &str| {
        let mut req = app
            .http
            .post(app.url("/api/rooms/create"))
            .header("cookie", &ana.cookie)
            .header("content-type", content_type)
            .body(r#"{"name":"Lounge","join_policy":"open"}"#);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(s) = site {
            req = req.header("sec-fetch-site", s);
        }
        async move {
            let res = req.send().await.unwrap();
            let status = res.status();
            (
                status,
                res.json::<serde_json::Value>().await.unwrap_or_default(),
            )
        }
    };
    let json = "application/json";
    let (status, body) = create(Some("https://evil.example"), None, json).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (status, _) = create(None, Some("cross-site"), json).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A cross-site form can send text/plain that happens to be JSON: refused even from here.
    let (status, body) = create(None, None, "text/plain").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_input"))
    );
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM rooms").await, 0);
    // Login through the form twin from another site (login CSRF): refused.
    let res = app
        .http
        .post(app.url("/api/form/login"))
        .header("origin", "https://evil.example")
        .header("accept", "text/html")
        .form(&[("username", "ana"), ("password", crate::common::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.headers().get("set-cookie").is_none());
    // From our own page: accepted.
    let (status, body) = create(Some(&format!("http://{host}")), Some("same-origin"), json).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM rooms").await, 1);
}

#[tokio::test]
async fn pages_and_answers_carry_the_security_headers() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let page = app.http.get(app.url("/login")).send().await.unwrap();
    let h = page.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    let html = page.text().await.unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("the page policy has a nonce");
    assert!(nonce.len() >= 16, "{csp}");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script lacks the nonce"
    );
    // Every inline script carries it.
    assert_eq!(
        html.matches("<script").count(),
        html.matches(&format!("<script type=\"module\" nonce=\"{nonce}\""))
            .count()
            + html.matches(&format!("<script nonce=\"{nonce}\"")).count(),
        "{html}"
    );
    for part in [
        "frame-ancestors 'none'",
        "object-src 'none'",
        "'wasm-unsafe-eval'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert!(h.get("strict-transport-security").is_none());
    // A second page gets a fresh nonce.
    let again = app.http.get(app.url("/login")).send().await.unwrap();
    assert_ne!(
        again.headers()["content-security-policy"].to_str().unwrap(),
        csp
    );
    // API answers get the strict policy.
    let api = app.post("/api/auth/me", json!({}), None).await;
    let api_csp = api.headers["content-security-policy"].to_str().unwrap();
    assert!(api_csp.contains("frame-ancestors 'none'") && !api_csp.contains("nonce"));
    app.stop().await;
    // Behind HTTPS (secure cookies): HSTS.
    let mut config = crate::common::test_config(&db);
    config.secure_cookies = true;
    let app = TestApp::spawn_with(config).await;
    let res = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}

#[tokio::test]
async fn actions_that_notify_or_read_much_have_per_user_limits() {
    let db = TestDb::new().await;
    let mut config = crate::common::test_config(&db);
    let two: service::limits::Rate = "2/1h".parse().unwrap();
    config.limits.rate_create_room = two;
    config.limits.rate_invite = two;
    config.limits.rate_moderate = two;
    config.limits.rate_request = "1/1h".parse().unwrap();
    config.limits.rate_search = two;
    config.limits.rate_catch_up = two;
    let app = TestApp::spawn_with(config).await;
    let ana = person(&app, "ana").await;
    let bob = person(&app, "bob").await;
    let limited = |r: crate::common::Reply| {
        r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        assert!(
            r.body["retry_after_ms"].as_u64().unwrap() > 1000,
            "{}",
            r.text
        );
    };
    let create = |name: &'static str, policy: &'static str| {
        call(
            &app,
            &ana,
            "/api/rooms/create",
            json!({"name": name, "join_policy": policy}),
        )
    };
    // Refusals cost nothing: a bad name does not use up the allowance.
    create("", "open")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    let open = ok(
        &app,
        &ana,
        "/api/rooms/create",
        json!({"name": "Open", "join_policy": "open"}),
    )
    .await;
    let open = open["room"]["id"].as_str().unwrap().to_owned();
    let asking = ok(
        &app,
        &ana,
        "/api/rooms/create",
        json!({"name": "Ask", "join_policy": "request"}),
    )
    .await;
    let asking = asking["room"]["id"].as_str().unwrap().to_owned();
    // A declined requester may ask again at once here: the per-user limit is what is tested.
    ok(
        &app,
        &ana,
        "/api/rooms/update",
        json!({"room_id": asking, "request_cooldown_seconds": 0}),
    )
    .await;
    limited(create("Third", "open").await);

    // Ban, unban, ban: the loop that notifies its victim each time stops at the third.
    let mod_call = |path: &'static str| {
        call(
            &app,
            &ana,
            path,
            json!({"room_id": open, "user": bob.id, "user_id": bob.id}),
        )
    };
    ok(
        &app,
        &ana,
        "/api/rooms/ban",
        json!({"room_id": open, "user": bob.id}),
    )
    .await;
    ok(
        &app,
        &ana,
        "/api/rooms/unban",
        json!({"room_id": open, "user_id": bob.id}),
    )
    .await;
    limited(mod_call("/api/rooms/ban").await);

    // Invites.
    let cat = person(&app, "cat").await;
    let dan = person(&app, "dan").await;
    let eve = person(&app, "eve").await;
    for p in [&cat, &dan] {
        ok(
            &app,
            &ana,
            "/api/rooms/invite",
            json!({"room_id": asking, "user": p.id}),
        )
        .await;
    }
    limited(
        call(
            &app,
            &ana,
            "/api/rooms/invite",
            json!({"room_id": asking, "user": eve.id}),
        )
        .await,
    );

    // Asking to join again after a denial: the second request waits.
    ok(&app, &eve, "/api/rooms/join", json!({"room_id": asking})).await;
    ok(
        &app,
        &ana,
        "/api/rooms/deny",
        json!({"room_id": asking, "user_id": eve.id}),
    )
    .await;
    limited(call(&app, &eve, "/api/rooms/join", json!({"room_id": asking})).await);

    // Search and catch-up.
    for _ in 0..2 {
        ok(&app, &bob, "/api/rooms/search", json!({"query": "o"})).await;
    }
    limited(call(&app, &bob, "/api/rooms/search", json!({"query": "o"})).await);
    for _ in 0..2 {
        ok(
            &app,
            &ana,
            "/api/messages/since",
            json!({"room_id": asking, "after": "0"}),
        )
        .await;
    }
    limited(
        call(
            &app,
            &ana,
            "/api/messages/since",
            json!({"room_id": asking, "after": "0"}),
        )
        .await,
    );
}

#[tokio::test]
async fn parallel_password_guesses_for_one_username_are_refused_past_the_free_ones() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    person(&app, "ana").await;
    let guesses = (0..20).map(|i| {
        app.post(
            "/api/auth/login",
            json!({"username": "ana", "password": format!("wrong guess {i}")}),
            None,
        )
    });
    let replies = futures::future::join_all(guesses).await;
    let checked = replies
        .iter()
        .filter(|r| r.code() == "invalid_credentials")
        .count();
    let refused = replies
        .iter()
        .filter(|r| r.code() == "rate_limited")
        .count();
    assert_eq!(checked + refused, 20);
    assert!(checked <= 4, "{checked} guesses were checked");
    // The right password is refused too while the door is closed, then let in.
    let r = app
        .post(
            "/api/auth/login",
            json!({"username": "ana", "password": crate::common::PASSWORD}),
            None,
        )
        .await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let wait = r.body["retry_after_ms"].as_u64().unwrap();
    tokio::time::sleep(Duration::from_millis(wait + 50)).await;
    let r = app
        .post(
            "/api/auth/login",
            json!({"username": "ana", "password": crate::common::PASSWORD}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn sessions_are_stored_hashed_and_a_request_in_flight_cannot_undo_a_logout() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ana = person(&app, "ana").await;
    let room = open_room(&app, &ana, "Files", &[]).await;
    // The cookie's id is nowhere in the database.
    let id = ana.cookie.trim_start_matches("parlor_session=").to_owned();
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM sessions").await, 1);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) AS n FROM sessions WHERE id = '{id}' OR data LIKE '%{id}%'"
        ))
        .await,
        0
    );
    // Make the next request note a new active day, so it saves the session when it ends.
    let today = chrono::Utc::now().timestamp() / 86_400;
    app.db
        .execute_unprepared(&format!(
            "UPDATE sessions SET data = REPLACE(data, '\"active_day\":{today}', '\"active_day\":1')"
        ))
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let form = reqwest::multipart::Form::new().text("room_id", room).part(
        "file",
        reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        ))
        .file_name("slow.txt"),
    );
    let upload = tokio::spawn({
        let (http, url, cookie) = (
            app.http.clone(),
            app.url("/api/uploads"),
            ana.cookie.clone(),
        );
        async move {
            http.post(url)
                .header("cookie", cookie)
                .multipart(form)
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    tx.send(Ok(b"hello ".to_vec())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Logged out while the upload is still arriving...
    ok(&app, &ana, "/api/auth/logout", json!({})).await;
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM sessions").await, 0);
    tx.send(Ok(b"world".to_vec())).await.unwrap();
    drop(tx);
    assert_eq!(upload.await.unwrap(), StatusCode::OK);
    // ...and the upload's end did not write the session back.
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM sessions").await, 0);
    let me = call(&app, &ana, "/api/auth/me", json!({})).await;
    assert!(
        me.body["user"].is_null() || me.code() == "unauthenticated",
        "{}",
        me.text
    );
}

#[tokio::test]
async fn naming_a_person_reveals_nothing_to_non_admins_and_never_guesses_between_id_and_name() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ana = person(&app, "ana").await;
    let bob = person(&app, "bob").await;
    let room = open_room(&app, &ana, "Lounge", &[]).await;
    ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await;
    let private = ok(
        &app,
        &ana,
        "/api/rooms/create",
        json!({"name": "Hidden", "join_policy": "invite"}),
    )
    .await;
    let private = private["room"]["id"].as_str().unwrap().to_owned();
    // A plain member probing usernames learns nothing: forbidden, whether or not they exist.
    for name in ["nosuchperson", "ana"] {
        for path in ["/api/rooms/invite", "/api/rooms/ban"] {
            call(&app, &bob, path, json!({"room_id": room, "user": name}))
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
    }
    // A stranger to a private room: not found, as if it did not exist.
    call(
        &app,
        &bob,
        "/api/rooms/invite",
        json!({"room_id": private, "user": "nosuchperson"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "room_not_found");
    // The admin: user_not_found for a name nobody has.
    call(
        &app,
        &ana,
        "/api/rooms/invite",
        json!({"room_id": private, "user": "nosuchperson"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "user_not_found");

    // Someone takes bob's id as their username: "invite <that>" is refused, not guessed...
    let mallory = person(&app, &bob.id).await;
    let r = call(
        &app,
        &ana,
        "/api/rooms/invite",
        json!({"room_id": private, "user": bob.id}),
    )
    .await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    assert!(
        r.body["message"].as_str().unwrap().contains('@'),
        "{}",
        r.text
    );
    // ...and "@<that>" means the username.
    ok(
        &app,
        &ana,
        "/api/rooms/invite",
        json!({"room_id": private, "user": format!("@{}", bob.id)}),
    )
    .await;
    let invites = ok(
        &app,
        &ana,
        "/api/rooms/invites",
        json!({"room_id": private}),
    )
    .await;
    assert_eq!(
        invites["invites"][0]["user"]["id"],
        mallory.id.as_str(),
        "{invites}"
    );
    assert_eq!(invites["invites"][0]["invited_by"]["id"], ana.id.as_str());

    // Banning a stranger from the private room does not tell them its name; banning
    // from the open one does.
    let cat = person(&app, "cat").await;
    ok(
        &app,
        &ana,
        "/api/rooms/ban",
        json!({"room_id": private, "user": "cat"}),
    )
    .await;
    ok(
        &app,
        &ana,
        "/api/rooms/ban",
        json!({"room_id": room, "user": "cat"}),
    )
    .await;
    let list = ok(&app, &cat, "/api/notifications/list", json!({})).await;
    let names: Vec<&serde_json::Value> = list["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["room_name"])
        .collect();
    assert_eq!(names.len(), 2, "{list}");
    assert!(names.contains(&&serde_json::Value::Null), "{list}");
    assert!(names.contains(&&json!("Lounge")), "{list}");
    assert!(!list.to_string().contains("Hidden"), "{list}");
}

#[tokio::test]
async fn a_live_socket_closes_when_its_session_expires() {
    use futures::StreamExt;
    use sea_orm::{sea_query::Expr, EntityTrait};
    use tokio_tungstenite::tungstenite::Message;
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ana = person(&app, "ana").await;
    let bob = person(&app, "bob").await;
    // A first signed-in request notes today's activity, so opening a socket later saves
    // nothing (a save would move the expiry on).
    ok(&app, &ana, "/api/auth/me", json!({})).await;
    // Ana's session ends two seconds from now (as 30 idle days would); Bob's does not.
    entity::session::Entity::update_many()
        .col_expr(
            entity::session::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() + chrono::Duration::seconds(2)),
        )
        .exec(&app.db)
        .await
        .unwrap();
    // Every session so far; then Bob logs in afresh, with a long one.
    let bob_again = app
        .post(
            "/api/auth/login",
            json!({"username": "bob", "password": crate::common::PASSWORD}),
            None,
        )
        .await;
    let bob = crate::common::Person {
        id: bob.id,
        cookie: bob_again.cookie().unwrap(),
    };
    let mut a = open_socket(&app, &ana).await;
    let mut b = open_socket(&app, &bob).await;
    assert!(first_frame(&mut a).await.unwrap().contains("\"ready\""));
    assert!(first_frame(&mut b).await.unwrap().contains("\"ready\""));
    let closed = tokio::time::timeout(Duration::from_secs(8), async {
        loop {
            match a.next().await {
                Some(Ok(Message::Close(c))) => return c.map(|c| u16::from(c.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the socket outlived its session");
    assert_eq!(closed, Some(Close::SignedOut.code()));
    // Bob's socket is still open: a ping is answered.
    use futures::SinkExt;
    b.send(Message::Ping(vec![1].into())).await.unwrap();
    let pong = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            if let Some(Ok(Message::Pong(_))) = b.next().await {
                return true;
            }
        }
    })
    .await;
    assert!(pong.unwrap_or(false));
}
