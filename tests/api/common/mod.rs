//! Test harness: a real `parlor` server on a free port with a fresh database of its own —
//! an SQLite file in a temp folder, or a new PostgreSQL database when
//! `PARLOR_TEST_DB=postgres` (dropped when the test ends, pass or fail).
#![allow(dead_code)]

pub mod live;
pub mod process;

use std::net::SocketAddr;

use parlor::{config::Config, server::Server};
use reqwest::{header, StatusCode};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{json, Value};
pub use testkit::{on_postgres, test_config, TestDb};
use tokio::sync::oneshot;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub http: reqwest::Client,
    pub db: DatabaseConnection,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn spawn(db: &TestDb) -> Self {
        Self::spawn_with(test_config(db)).await
    }

    pub async fn spawn_with(config: Config) -> Self {
        if std::env::var("TEST_LOG").is_ok() {
            parlor::telemetry::init(parlor::config::LogFormat::Human);
        }
        let server = Server::build(&config).await.expect("server builds");
        let addr = server.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        let db = service::db::connect(&config.database_url()).await.unwrap();
        Self {
            stop: Some(stop),
            handle: Some(handle),
            ..Self::handle_on(addr, db)
        }
    }

    /// A handle on the server at `addr`, with nothing to stop.
    fn handle_on(addr: SocketAddr, db: DatabaseConnection) -> Self {
        Self {
            addr,
            base: format!("http://{addr}"),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            db,
            stop: None,
            handle: None,
        }
    }

    /// A handle on a server that runs elsewhere (a `parlor` process) over `db`'s data.
    pub async fn attach(addr: SocketAddr, db: &TestDb) -> Self {
        Self::handle_on(addr, db.connect().await)
    }

    /// Stops the server gracefully and waits until it has let go of its port and database.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap().unwrap();
        }
    }

    /// True while the server task is still serving (it has neither returned nor panicked).
    pub fn is_running(&self) -> bool {
        self.handle.as_ref().is_some_and(|h| !h.is_finished())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs JSON to an API path, with the session cookie when given.
    pub async fn post(&self, path: &str, body: Value, cookie: Option<&str>) -> Reply {
        let mut req = self.http.post(self.url(path)).json(&body);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        Reply::from(req.send().await.unwrap()).await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let res = self
            .http
            .post(self.url(path))
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        Reply::from(res).await
    }

    /// Signs up and returns the user and the `name=value` session cookie.
    pub async fn signup(&self, username: &str) -> (Value, String) {
        let r = self
            .post(
                "/api/auth/signup",
                json!({"username": username, "password": PASSWORD}),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        (
            r.body["user"].clone(),
            r.cookie().expect("signup sets a session cookie"),
        )
    }

    /// Runs a `SELECT COUNT(*) AS n …` straight against the test's database.
    pub async fn count(&self, sql: &str) -> i64 {
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one_raw(Statement::from_string(backend, sql))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }

    pub async fn user_count(&self) -> i64 {
        self.count("SELECT COUNT(*) AS n FROM users").await
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub async fn from(res: reqwest::Response) -> Self {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
            text,
        }
    }

    /// The session cookie this answer sets, as `name=value`.
    pub fn cookie(&self) -> Option<String> {
        self.set_cookie()
            .map(|c| c.split(';').next().unwrap().trim().to_owned())
    }

    /// The full `Set-Cookie` line for the session cookie.
    pub fn set_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(parlor::server::SESSION_COOKIE))
            .map(str::to_owned)
    }

    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// Asserts an API error: this status, this code, and a non-empty sentence.
    pub fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_eq!(self.code(), code, "body: {}", self.text);
        let message = self.body["message"].as_str().unwrap_or("");
        assert!(
            message.len() > 10 && message.ends_with('.'),
            "no sentence: {}",
            self.text
        );
    }
}

/// A signed-in user of the test app.
#[derive(Clone)]
pub struct Person {
    pub id: String,
    pub cookie: String,
}

pub async fn person(app: &TestApp, name: &str) -> Person {
    let (user, cookie) = app.signup(name).await;
    Person {
        id: user["id"].as_str().unwrap().to_owned(),
        cookie,
    }
}

/// POSTs JSON as `who`.
pub async fn call(app: &TestApp, who: &Person, path: &str, body: Value) -> Reply {
    app.post(path, body, Some(&who.cookie)).await
}

/// POSTs JSON as `who` and insists on 200, returning the body.
pub async fn ok(app: &TestApp, who: &Person, path: &str, body: Value) -> Value {
    let r = call(app, who, path, body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{path} {body}: {}", r.text);
    r.body
}

/// Client ids for [`say`]: each send a new one.
static NEXT_SEND: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Sends `body` into `room` as `who` over HTTP (a fresh client id each time); the stored
/// message.
pub async fn say(app: &TestApp, who: &Person, room: &str, body: &str) -> Value {
    let n = NEXT_SEND.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let r = ok(
        app,
        who,
        "/api/messages/send",
        serde_json::json!({"room_id": room, "client_id": format!("say-{n}"), "body": body}),
    )
    .await;
    r["message"].clone()
}

/// A message's id, as the wire gives it.
pub fn id(message: &Value) -> String {
    message["id"].as_str().unwrap().to_owned()
}
