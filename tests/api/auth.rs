//! Accounts and sessions (docs/RULES.md §1) through the real HTTP API.

use crate::common::{test_config, Reply, TestApp, TestDb, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

async fn login(app: &TestApp, username: &str, password: &str, cookie: Option<&str>) -> Reply {
    app.post(
        "/api/auth/login",
        json!({"username": username, "password": password}),
        cookie,
    )
    .await
}

async fn me(app: &TestApp, cookie: &str) -> Reply {
    app.post("/api/auth/me", json!({}), Some(cookie)).await
}

#[tokio::test]
async fn signup_creates_the_user_and_signs_them_in() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (user, cookie) = app.signup("Alice").await;
    assert_eq!(user["username"], "Alice");
    let id = user["id"].as_str().unwrap();
    assert!(id.len() >= 16, "ids are long and random: {id}");
    let r = me(&app, &cookie).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["user"], user);
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn a_username_taken_in_another_case_is_refused_and_nothing_is_written() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    app.signup("alice").await;
    let r = app
        .post(
            "/api/auth/signup",
            json!({"username": "ALICE", "password": PASSWORD}),
            None,
        )
        .await;
    r.assert_error(StatusCode::CONFLICT, "username_taken");
    assert_eq!(r.body["field"], "username");
    assert!(
        r.set_cookie().is_none(),
        "a refused sign-up starts no session"
    );
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn simultaneous_signups_for_one_name_make_exactly_one_account() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let attempts = (0..6).map(|i| {
        let name = if i % 2 == 0 { "racer" } else { "RACER" };
        app.post(
            "/api/auth/signup",
            json!({"username": name, "password": PASSWORD}),
            None,
        )
    });
    let replies = futures::future::join_all(attempts).await;
    let ok = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert_eq!(ok, 1);
    for r in replies.iter().filter(|r| r.status != StatusCode::OK) {
        r.assert_error(StatusCode::CONFLICT, "username_taken");
    }
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn bad_signup_input_is_refused_with_a_sentence_and_nothing_written() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let long_name = "a".repeat(33);
    let long_password = "p".repeat(129);
    let cases = [
        (
            json!({"username": "ab", "password": PASSWORD}),
            Some("username"),
        ),
        (
            json!({"username": long_name, "password": PASSWORD}),
            Some("username"),
        ),
        (
            json!({"username": "bad name", "password": PASSWORD}),
            Some("username"),
        ),
        (
            json!({"username": "semi;colon", "password": PASSWORD}),
            Some("username"),
        ),
        (
            json!({"username": "", "password": PASSWORD}),
            Some("username"),
        ),
        (
            json!({"username": "carol", "password": "short"}),
            Some("password"),
        ),
        (
            json!({"username": "carol", "password": long_password}),
            Some("password"),
        ),
        (
            json!({"username": "carol", "password": ""}),
            Some("password"),
        ),
        (json!({"username": "carol"}), None),
        (json!({"password": PASSWORD}), None),
        (json!({}), None),
        (json!({"username": 42, "password": PASSWORD}), None),
        (json!({"username": ["carol"], "password": PASSWORD}), None),
    ];
    for (body, field) in cases {
        let r = app.post("/api/auth/signup", body.clone(), None).await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
        if let Some(field) = field {
            assert_eq!(r.body["field"], field, "{body}");
        }
        assert!(r.set_cookie().is_none());
    }
    let r = app
        .post_raw("/api/auth/signup", "application/json", "this is not json")
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    let r = app
        .post_raw("/api/auth/signup", "application/json", "")
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn a_huge_body_is_refused_before_it_is_read() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let huge = json!({"username": "x".repeat(1 << 20), "password": PASSWORD}).to_string();
    let r = app
        .post_raw("/api/auth/signup", "application/json", huge)
        .await;
    r.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn signup_can_be_closed_by_config() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.signup_open = false;
    let app = TestApp::spawn_with(config).await;
    let r = app
        .post(
            "/api/auth/signup",
            json!({"username": "dave", "password": PASSWORD}),
            None,
        )
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "signup_closed");
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn login_with_the_right_password_starts_a_session() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (user, _) = app.signup("erin").await;
    // Any case of the username logs in.
    let r = login(&app, "ERIN", PASSWORD, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["user"], user);
    let cookie = r.cookie().unwrap();
    assert_eq!(me(&app, &cookie).await.body["user"], user);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    app.signup("frank").await;
    let wrong = login(&app, "frank", "not the password", None).await;
    let unknown = login(&app, "nobody-here", PASSWORD, None).await;
    let malformed = login(&app, "x", PASSWORD, None).await;
    wrong.assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(wrong.body["message"], "Invalid username or password.");
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(wrong.body, malformed.body);
    assert!(wrong.set_cookie().is_none() && unknown.set_cookie().is_none());
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax_and_secure_only_when_configured() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let r = app
        .post(
            "/api/auth/signup",
            json!({"username": "gina", "password": PASSWORD}),
            None,
        )
        .await;
    let line = r.set_cookie().unwrap();
    assert!(line.contains("HttpOnly"), "{line}");
    assert!(line.contains("SameSite=Lax"), "{line}");
    assert!(!line.contains("Secure"), "{line}");
    app.stop().await;

    let mut config = test_config(&db);
    config.secure_cookies = true;
    let app = TestApp::spawn_with(config).await;
    let line = login(&app, "gina", PASSWORD, None)
        .await
        .set_cookie()
        .unwrap();
    assert!(
        line.contains("Secure") && line.contains("HttpOnly"),
        "{line}"
    );
}

#[tokio::test]
async fn login_renews_the_session_id_and_the_old_one_stops_working() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (user, before) = app.signup("hank").await;
    let r = login(&app, "hank", PASSWORD, Some(&before)).await;
    let after = r.cookie().expect("login sets a cookie");
    assert_ne!(before, after, "the session id changes at login");
    assert_eq!(me(&app, &after).await.body["user"], user);
    me(&app, &before)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn a_session_in_use_is_saved_again_once_a_day_so_its_expiry_moves_on() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (_, cookie) = app.signup("ines").await;
    let noted = "SELECT COUNT(*) AS n FROM sessions WHERE data LIKE '%active_day%'";
    assert_eq!(app.count(noted).await, 0);
    // The first use of the day writes the session, and with it a fresh expiry.
    assert_eq!(me(&app, &cookie).await.status, StatusCode::OK);
    assert_eq!(app.count(noted).await, 1);
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (_, cookie) = app.signup("iris").await;
    let r = app.post("/api/auth/logout", json!({}), Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body, json!({}));
    // Replaying the old cookie, as a thief who copied it would, gets nowhere.
    me(&app, &cookie)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn me_without_a_session_is_unauthenticated() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let r = app.post("/api/auth/me", json!({}), None).await;
    r.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    let r = me(&app, "parlor_session=forged-or-stale").await;
    r.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn rapid_logins_from_one_address_are_rate_limited() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.auth_rate_burst = 4;
    config.auth_rate_period_ms = 60_000;
    let app = TestApp::spawn_with(config).await;
    for _ in 0..4 {
        let r = login(&app, "nobody", PASSWORD, None).await;
        r.assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let r = login(&app, "nobody", PASSWORD, None).await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let wait = r.body["retry_after_ms"].as_u64().expect("retry_after_ms");
    assert!(wait > 0 && wait <= 61_000, "{wait}");
    assert!(r.headers.contains_key("retry-after"));
    // Sign-up has a budget of its own: still open.
    let r = app
        .post(
            "/api/auth/signup",
            json!({"username": "jack", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn a_session_survives_a_server_restart() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (user, cookie) = app.signup("kate").await;
    app.stop().await;
    let app = TestApp::spawn(&db).await;
    let r = me(&app, &cookie).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["user"], user);
}

/// Posts `fields` to the form on `page` as a browser without JavaScript does: asking for
/// HTML, naming the page it came from.
async fn post_form(app: &TestApp, page: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/api/form{page}")))
        .header("accept", "text/html")
        .header("referer", app.url(page))
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// Where a form post sent the browser, and the HTML of the page found there, fetched as
/// that browser would: with the cookies the post's answer set.
async fn follow(res: reqwest::Response) -> (String, String) {
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let url = format!("{}{location}", res.url().origin().ascii_serialization());
    let cookies: Vec<&str> = res
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .collect();
    let html = reqwest::Client::new()
        .get(url)
        .header(reqwest::header::COOKIE, cookies.join("; "))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (location, html)
}

#[tokio::test]
async fn a_plain_form_post_comes_back_to_the_form_with_the_error_and_the_username() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let fields = [("username", "x y"), ("password", PASSWORD)];
    let res = post_form(&app, "/signup", &fields).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    // The page it lands on shows the message next to the field and keeps the username.
    let (location, html) = follow(res).await;
    assert!(location.starts_with("/signup?"), "{location}");
    assert!(location.contains("username=x+y"), "{location}");
    assert!(location.contains("__err="), "{location}");
    assert!(html.contains("may use letters, digits"), "{html}");
    assert!(html.contains(r#"value="x y""#), "{html}");

    // A good one signs in and lands on the home page.
    let fields = [("username", "liam"), ("password", PASSWORD)];
    let res = post_form(&app, "/signup", &fields).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()["location"], "/");
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn a_rate_limited_plain_form_post_comes_back_to_the_form_with_the_error() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.auth_rate_burst = 2;
    config.auth_rate_period_ms = 60_000;
    let app = TestApp::spawn_with(config).await;
    let fields = [("username", "mona"), ("password", "wrong-password")];
    for _ in 0..2 {
        let res = post_form(&app, "/login", &fields).await;
        assert_eq!(res.status(), StatusCode::FOUND);
    }
    let res = post_form(&app, "/login", &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (location, html) = follow(res).await;
    assert!(location.starts_with("/login?"), "{location}");
    assert!(location.contains("username=mona"), "{location}");
    assert!(html.contains("Too many attempts"), "{html}");
    assert!(html.contains(r#"value="mona""#), "{html}");
    // A client asking for JSON still gets the API's error body.
    let res = app
        .http
        .post(app.url("/api/form/login"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn probes_and_unknown_api_paths() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let r = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.post("/api/no/such/thing", json!({}), None).await;
    r.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn with_no_database_the_server_listens_and_answers_503_until_it_can() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    // Nothing listens on port 1: the database cannot be reached.
    config.database_url = Some("postgres://postgres@127.0.0.1:1/none".into());
    let server = parlor::server::Server::build(&config).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let get = |path: &str, accept: &str| {
        http.get(format!("{base}{path}"))
            .header(reqwest::header::ACCEPT, accept)
            .send()
    };
    assert_eq!(get("/healthz", "*/*").await.unwrap().status(), 200);
    assert_eq!(get("/readyz", "*/*").await.unwrap().status(), 503);
    let page = get("/login", "text/html").await.unwrap();
    assert_eq!(page.status(), 503);
    assert!(page.headers().contains_key(reqwest::header::RETRY_AFTER));
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("Parlor is not ready yet"));
    let api = http
        .post(format!("{base}/api/auth/me"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 503);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["code"], "unavailable");
    // The offline page and the service worker are served even so.
    assert_eq!(
        get("/offline.html", "text/html").await.unwrap().status(),
        200
    );
    let sw = get("/sw.js", "*/*").await.unwrap();
    assert_eq!(sw.status(), 200);
    assert!(!sw.text().await.unwrap().contains("__PARLOR_VERSION__"));
    let _ = stop.send(());
    running.await.unwrap().unwrap();
}
