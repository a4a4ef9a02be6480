//! Faults from outside (docs/SECURITY.md), with real parts only: PostgreSQL going away and
//! coming back behind a TCP proxy, a disk that really fills during an upload (a small tmpfs),
//! and the `parlor` binary killed with SIGKILL again and again in the middle of a storm of
//! sends.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Command,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use crate::common::{
    live::{open_room, Ws},
    ok, person,
    process::Parlor,
    test_config, Person, TestApp, TestDb,
};
use futures::{SinkExt, StreamExt};
use reqwest::{multipart, StatusCode};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
use tokio_util::sync::CancellationToken;

/// Longest a single request may take in these tests before it counts as a hang. The
/// server's pool waits up to 10 s for a connection before it gives up on the database.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(CLIENT_TIMEOUT)
        .build()
        .unwrap()
}

/// POSTs JSON to `base` + `path`; a request that gets no answer within [`CLIENT_TIMEOUT`]
/// fails the test as a hang.
async fn post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    cookie: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    let mut req = http.post(format!("{base}{path}")).json(body);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.unwrap_or_else(|e| {
        panic!(
            "POST {path}: no answer ({e}); timed out: {}",
            e.is_timeout()
        )
    });
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn readyz(http: &reqwest::Client, base: &str) -> Result<StatusCode, reqwest::Error> {
    Ok(http.get(format!("{base}/readyz")).send().await?.status())
}

/// Asks `/readyz` until it answers 200, for at most `within`.
async fn wait_ready(http: &reqwest::Client, base: &str, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Ok(StatusCode::OK) = readyz(http, base).await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz did not answer 200 within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn open_ws(addr: &str, cookie: &str) -> Ws {
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (mut ws, _) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(req),
    )
    .await
    .expect("the socket opens within 10 s")
    .expect("socket opens");
    next_within(&mut ws, &["ready"], Duration::from_secs(10)).await;
    ws
}

async fn send_frame(ws: &mut Ws, frame: &Value) {
    ws.send(Message::text(frame.to_string())).await.unwrap();
}

/// The next frame of one of `types` within `wait`, skipping the others.
async fn next_within(ws: &mut Ws, types: &[&str], wait: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {types:?} frame within {wait:?}"))
            .expect("socket still open")
            .expect("frame reads");
        let Message::Text(t) = msg else { continue };
        let v: Value = serde_json::from_str(t.as_str()).unwrap();
        if types.contains(&v["type"].as_str().unwrap_or("")) {
            return v;
        }
    }
}

// ---------------------------------------------------------------------------------------
// 1. PostgreSQL goes away mid-run.

/// A TCP proxy in front of PostgreSQL that can be cut: while cut, its port refuses
/// connections (as a stopped PostgreSQL's does) and every connection it carried is gone.
struct PgProxy {
    addr: SocketAddr,
    upstream: String,
    accepting: Option<tokio::task::JoinHandle<()>>,
    carried: CancellationToken,
}

impl PgProxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut proxy = Self {
            addr: listener.local_addr().unwrap(),
            upstream,
            accepting: None,
            carried: CancellationToken::new(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&mut self, listener: TcpListener) {
        let (upstream, carried) = (self.upstream.clone(), self.carried.clone());
        self.accepting = Some(tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let (upstream, carried) = (upstream.clone(), carried.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        () = carried.cancelled() => {}
                    }
                });
            }
        }));
    }

    /// Closes the port and drops every connection through it.
    async fn cut(&mut self) {
        if let Some(accepting) = self.accepting.take() {
            accepting.abort();
            let _ = accepting.await;
        }
        self.carried.cancel();
    }

    /// Listens again on the same port.
    async fn restore(&mut self) {
        self.carried = CancellationToken::new();
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        if let Some(accepting) = self.accepting.take() {
            accepting.abort();
        }
        self.carried.cancel();
    }
}

/// `postgres://user@host:port/db` → (`postgres://user@`, `host:port`, `/db`).
fn split_at_host(url: &str) -> (String, String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (credentials, host) = match authority.rsplit_once('@') {
        Some((c, h)) => (format!("{c}@"), h),
        None => (String::new(), authority),
    };
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    (
        format!("{scheme}://{credentials}"),
        host,
        format!("/{path}"),
    )
}

#[tokio::test]
async fn postgres_going_away_answers_unavailable_and_everything_comes_back() {
    if !crate::common::on_postgres() {
        eprintln!("skipped: this test cuts the connection to PostgreSQL (PARLOR_TEST_DB=postgres)");
        return;
    }
    let db = TestDb::new().await;
    let (head, upstream, tail) = split_at_host(&db.url);
    let mut proxy = PgProxy::start(upstream).await;
    let mut config = test_config(&db);
    config.database_url = Some(format!("{head}{}{tail}", proxy.addr));
    config.send_burst = 1000;
    let app = TestApp::spawn_with(config).await;
    // The test's own look at the database goes around the proxy.
    let direct = db.connect().await;
    let http = client();
    let base = app.base.clone();

    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let room = open_room(&app, &ann, "Steady", &[&bob]).await;
    for i in 0..5 {
        ok(
            &app,
            &ann,
            "/api/messages/send",
            json!({"room_id": room, "client_id": format!("before{i}"), "body": format!("before {i}")}),
        )
        .await;
    }
    let mut bob_ws = open_ws(&app.addr.to_string(), &bob.cookie).await;
    let stored_before = history_bodies(&http, &base, &ann, &room).await;
    assert_eq!(stored_before.len(), 5, "{stored_before:?}");

    proxy.cut().await;
    let cut_at = tokio::time::Instant::now();

    // Every kind of call answers 503 `unavailable`, at once or after the pool gives up —
    // never 500, never a hang. They run side by side: each may wait for the pool.
    let calls = [
        (
            Some(&ann),
            "/api/messages/send",
            json!({"room_id": room, "client_id": "during", "body": "during"}),
        ),
        (
            Some(&ann),
            "/api/messages/history",
            json!({"room_id": room}),
        ),
        (
            Some(&bob),
            "/api/messages/since",
            json!({"room_id": room, "after": "0"}),
        ),
        (Some(&bob), "/api/rooms/mine", json!({})),
        (
            None,
            "/api/auth/signup",
            json!({"username": "cat", "password": crate::common::PASSWORD}),
        ),
        (
            None,
            "/api/auth/login",
            json!({"username": "ann", "password": crate::common::PASSWORD}),
        ),
    ];
    let answers = futures::future::join_all(calls.iter().map(|(who, path, body)| {
        post(
            &http,
            &base,
            path,
            who.map(|p: &Person| p.cookie.as_str()),
            body,
        )
    }));
    let ready = readyz(&http, &base);
    // Pages say so with the 503 page that retries by itself.
    let page = http
        .get(format!("{base}/"))
        .header("accept", "text/html")
        .header("cookie", &ann.cookie)
        .send();
    // And the live channel answers a send with an `unavailable` error frame.
    let live = async {
        send_frame(
            &mut bob_ws,
            &json!({"type": "send", "room_id": room, "client_id": "live-during", "body": "live during"}),
        )
        .await;
        next_within(&mut bob_ws, &["ack", "error"], CLIENT_TIMEOUT).await
    };
    let (answers, ready, page, live) = tokio::join!(answers, ready, page, live);
    eprintln!(
        "database cut: every answer in within {:.1?} (the pool waits up to 10 s)",
        cut_at.elapsed()
    );
    let wrong: Vec<String> = calls
        .iter()
        .zip(&answers)
        .filter(|(_, (status, body))| {
            (*status, body["code"].as_str())
                != (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable"))
        })
        .map(|((_, path, _), (status, body))| format!("{path}: {status} {body}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "while the database is away, not 503 unavailable:\n{}\nlive channel: {live}",
        wrong.join("\n")
    );
    assert_ne!(
        ready.unwrap(),
        StatusCode::OK,
        "/readyz while the database is away"
    );
    assert_eq!(
        (
            live["type"].as_str(),
            live["code"].as_str(),
            live["client_id"].as_str()
        ),
        (Some("error"), Some("unavailable"), Some("live-during")),
        "{live}"
    );
    assert_eq!(page.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        app.is_running(),
        "the server task ended while the database was away"
    );

    proxy.restore().await;
    let restored_at = tokio::time::Instant::now();
    wait_ready(&http, &base, Duration::from_secs(30)).await;
    eprintln!(
        "database back: /readyz 200 after {:.1?}",
        restored_at.elapsed()
    );
    // The sends that were refused go through when retried with the same client ids, once.
    ok(
        &app,
        &ann,
        "/api/messages/send",
        json!({"room_id": room, "client_id": "during", "body": "during"}),
    )
    .await;
    send_frame(
        &mut bob_ws,
        &json!({"type": "send", "room_id": room, "client_id": "live-during", "body": "live during"}),
    )
    .await;
    let ack = next_within(&mut bob_ws, &["ack", "error"], CLIENT_TIMEOUT).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    ok(
        &app,
        &ann,
        "/api/messages/send",
        json!({"room_id": room, "client_id": "after", "body": "after"}),
    )
    .await;
    // The sign-up refused during the outage works now, and so does a login.
    let (status, body) = post(
        &http,
        &base,
        "/api/auth/signup",
        None,
        &json!({"username": "cat", "password": crate::common::PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post(
        &http,
        &base,
        "/api/auth/login",
        None,
        &json!({"username": "ann", "password": crate::common::PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Nothing stored before was lost, and nothing was stored twice.
    let mut expected = stored_before.clone();
    expected.extend(["during", "live during", "after"].map(str::to_owned));
    assert_eq!(history_bodies(&http, &base, &bob, &room).await, expected);
    let row = direct
        .query_one_raw(Statement::from_string(
            direct.get_database_backend(),
            "SELECT COUNT(*) AS n FROM messages WHERE kind = 'text'",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 8);
    assert!(app.is_running());
    drop(bob_ws);
    app.stop().await;
}

/// The text bodies of a room's history, oldest first.
async fn history_bodies(
    http: &reqwest::Client,
    base: &str,
    who: &Person,
    room: &str,
) -> Vec<String> {
    let (status, body) = post(
        http,
        base,
        "/api/messages/history",
        Some(&who.cookie),
        &json!({"room_id": room, "limit": 100}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut bodies: Vec<String> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "text")
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect();
    bodies.reverse();
    bodies
}

// ---------------------------------------------------------------------------------------
// 2. The disk fills during an upload.

/// A tmpfs of `size` mounted on a fresh temporary folder, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` when this process may not mount (not root, no tmpfs).
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(out) if out.status.success() => Some(Self { dir }),
            Ok(out) => {
                eprintln!(
                    "cannot mount a tmpfs: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("cannot run mount: {e}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazily: a file the server still holds open must not keep the mount alive.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn upload(app: &TestApp, who: &Person, room: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let form = multipart::Form::new()
        .text("room_id", room.to_owned())
        .part("file", multipart::Part::bytes(bytes).file_name("data.bin"));
    let res = client()
        .post(app.url("/api/uploads"))
        .header("cookie", &who.cookie)
        .multipart(form)
        .send()
        .await
        .expect("the upload gets an answer");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Fills the file system holding `path` with one file, until it is full.
fn fill(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0xAB_u8; 16 * 1024];
    loop {
        if let Err(e) = f.write_all(&chunk).and_then(|()| f.flush()) {
            assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "{e}");
            return;
        }
    }
}

#[tokio::test]
async fn an_upload_that_fills_the_disk_answers_storage_full_and_leaves_nothing() {
    let Some(disk) = Tmpfs::mount("1m") else {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    // Only the files live on the small disk; the database stays where TestDb put it.
    config.data_dir = disk.path().to_path_buf();
    config.upload_limit = 8 * 1024 * 1024;
    config.limits.upload_min_free_bytes = 0;
    config.send_burst = 100;
    let app = TestApp::spawn_with(config).await;
    let files = disk.path().join("uploads");
    let ann = person(&app, "ann").await;
    let room = open_room(&app, &ann, "Full", &[]).await;
    let file_messages = || async {
        app.count("SELECT COUNT(*) AS n FROM messages WHERE kind = 'file'")
            .await
    };

    // 3 MiB onto a 1 MiB disk: the write itself fails with ENOSPC.
    let big: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let (status, body) = upload(&app, &ann, &room, big).await;
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (507, Some("storage_full")),
        "{body}"
    );
    assert!(files_in(&files).is_empty(), "{:?}", files_in(&files));
    assert_eq!(file_messages().await, 0);
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM files").await, 0);

    // Full to the last byte by someone else: even a small file is refused, and leaves nothing.
    let filler = disk.path().join("filler");
    fill(&filler);
    let (status, body) = upload(&app, &ann, &room, vec![7; 64 * 1024]).await;
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (507, Some("storage_full")),
        "{body}"
    );
    assert!(files_in(&files).is_empty(), "{:?}", files_in(&files));
    assert_eq!(file_messages().await, 0);

    // Once there is space again, a small upload is stored and posted.
    std::fs::remove_file(&filler).unwrap();
    let small: Vec<u8> = (0..100 * 1024u32).map(|i| (i % 13) as u8).collect();
    let (status, body) = upload(&app, &ann, &room, small.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["message"]["file"]["id"].as_str().unwrap().to_owned();
    assert_eq!(files_in(&files), std::slice::from_ref(&id));
    assert_eq!(std::fs::read(files.join(&id)).unwrap(), small);
    assert_eq!(file_messages().await, 1);
    app.stop().await;
    drop(disk);
}

// ---------------------------------------------------------------------------------------
// 3. SIGKILL soak.

/// SplitMix64: a tiny generator, so a seed replays the same kill points anywhere.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low)
    }
}

/// `parlor serve` over `db`, with nothing in the way of the storm of sends.
async fn start_parlor(db: &TestDb, log: PathBuf) -> Parlor {
    Parlor::start(
        db,
        log,
        &[
            // The storm is the point: no limit may refuse it.
            "--send-burst",
            "1000000",
            "--send-period-ms",
            "1",
            "--auth-rate-burst",
            "1000",
            "--rate-catch-up",
            "100000/1m",
            "--socket-queue",
            "100000",
        ],
    )
    .await
}

/// What one sender has sent and what was acknowledged, across every restart.
#[derive(Default)]
struct Sender {
    /// The next new sequence number.
    next: u64,
    /// Sequence number → the id of the message its ack carried.
    acked: BTreeMap<u64, i64>,
    /// Sent, not (yet) acknowledged: sent again after a restart, with the same client id.
    unacked: BTreeSet<u64>,
    /// Error frames: there should be none.
    errors: Vec<Value>,
    /// Sends stored before a kill whose ack was lost with it: their retry was answered
    /// with the stored message.
    stored_unacked: usize,
}

const SENDERS: usize = 4;
/// Sends in flight per socket.
const WINDOW: usize = 16;

fn client_id(sender: usize, seq: u64) -> String {
    format!("s{sender}-{seq}")
}

/// `s{sender}-{seq}` back to its parts.
fn parse_client_id(id: &str) -> (usize, u64) {
    let (s, q) = id.trim_start_matches('s').split_once('-').unwrap();
    (s.parse().unwrap(), q.parse().unwrap())
}

/// Sends from one socket, WINDOW at a time: first what was never acknowledged, in order,
/// then new messages (until `new_up_to`, or without end when `None`). Returns when all are
/// acknowledged, or when the socket dies. `stored_before` is the newest message stored
/// before this server started.
async fn storm(
    mut ws: Ws,
    room: String,
    sender: usize,
    state: Arc<Mutex<Sender>>,
    acks: Arc<AtomicUsize>,
    new_up_to: Option<u64>,
    stored_before: i64,
) {
    let mut queue: std::collections::VecDeque<u64> =
        state.lock().unwrap().unacked.iter().copied().collect();
    let retried: BTreeSet<u64> = queue.iter().copied().collect();
    let mut in_flight = 0usize;
    loop {
        while in_flight < WINDOW {
            let seq = match queue.pop_front() {
                Some(seq) => seq,
                None => {
                    let mut s = state.lock().unwrap();
                    if new_up_to.is_some_and(|last| s.next >= last) {
                        break;
                    }
                    s.next += 1;
                    s.next - 1
                }
            };
            state.lock().unwrap().unacked.insert(seq);
            let frame = json!({"type": "send", "room_id": room,
                "client_id": client_id(sender, seq), "body": client_id(sender, seq)});
            if ws.send(Message::text(frame.to_string())).await.is_err() {
                return;
            }
            in_flight += 1;
        }
        if in_flight == 0 {
            return;
        }
        let frame = match tokio::time::timeout(Duration::from_secs(20), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => serde_json::from_str::<Value>(t.as_str()).unwrap(),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_)) | None) => return,
            Err(_) => panic!("sender {sender}: no frame for 20 s with {in_flight} in flight"),
        };
        match frame["type"].as_str() {
            Some("ack") => {
                let (from, seq) = parse_client_id(frame["client_id"].as_str().unwrap());
                assert_eq!(from, sender);
                let id = frame["message"]["id"].as_str().unwrap().parse().unwrap();
                let mut s = state.lock().unwrap();
                s.unacked.remove(&seq);
                if retried.contains(&seq) && id <= stored_before {
                    s.stored_unacked += 1;
                }
                if let Some(earlier) = s.acked.insert(seq, id) {
                    assert_eq!(
                        earlier,
                        id,
                        "{} acked as two messages",
                        client_id(sender, seq)
                    );
                }
                in_flight -= 1;
                acks.fetch_add(1, Ordering::Relaxed);
            }
            Some("error") => {
                state.lock().unwrap().errors.push(frame);
                in_flight -= 1;
            }
            _ => {}
        }
    }
}

/// A stored message as the tests compare them: its id, and `kind:body`.
type Seen = (i64, String);

fn seen_of(m: &Value) -> Seen {
    (
        m["id"].as_str().unwrap().parse().unwrap(),
        format!(
            "{}:{}",
            m["kind"].as_str().unwrap_or(""),
            m["body"].as_str().unwrap_or("")
        ),
    )
}

/// Everything in `room` after message `after`, through `messages/since`, page by page;
/// asserts that the pages hold no message twice and nothing at or before `after`.
async fn since_all(
    http: &reqwest::Client,
    base: &str,
    who: &str,
    room: &str,
    after: i64,
) -> Vec<Seen> {
    let mut out: Vec<Seen> = Vec::new();
    let mut cursor = after;
    loop {
        let (status, body) = post(
            http,
            base,
            "/api/messages/since",
            Some(who),
            &json!({"room_id": room, "after": cursor.to_string()}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = body["messages"].as_array().unwrap();
        for m in page {
            let (id, text) = seen_of(m);
            assert!(
                id > cursor,
                "since {cursor} gave message {id}, which is not after it"
            );
            cursor = id;
            out.push((id, text));
        }
        if page.len() < 1000 {
            return out;
        }
    }
}

async fn signup(http: &reqwest::Client, base: &str, name: &str) -> String {
    let res = http
        .post(format!("{base}/api/auth/signup"))
        .json(&json!({"username": name, "password": crate::common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(parlor::server::SESSION_COOKIE))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_storm_loses_no_acknowledged_message_and_stores_none_twice() {
    const ROUNDS: usize = 5;
    let seed = std::env::var("PARLOR_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_F00D_u64);
    let mut rng = SplitMix(seed);
    let db = TestDb::new().await;
    let logs = tempfile::tempdir().unwrap();
    let http = client();
    let mut parlor = start_parlor(&db, logs.path().join("parlor-0.log")).await;

    let mut cookies = Vec::new();
    for i in 0..SENDERS {
        cookies.push(signup(&http, &parlor.base(), &format!("sender{i}")).await);
    }
    let watcher = signup(&http, &parlor.base(), "watcher").await;
    let (status, body) = post(
        &http,
        &parlor.base(),
        "/api/rooms/create",
        Some(&cookies[0]),
        &json!({"name": "Storm", "join_policy": "open"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let room = body["room"]["id"].as_str().unwrap().to_owned();
    for cookie in cookies.iter().skip(1).chain([&watcher]) {
        let (status, body) = post(
            &http,
            &parlor.base(),
            "/api/rooms/join",
            Some(cookie),
            &json!({"room_id": room}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let senders: Vec<Arc<Mutex<Sender>>> = (0..SENDERS).map(|_| Arc::default()).collect();
    // What the watcher has seen, by message id, live or through catch-up.
    let seen: Arc<Mutex<BTreeMap<i64, String>>> = Arc::default();
    for round in 0..=ROUNDS {
        let last = round == ROUNDS;
        // The watcher resyncs as the browser does: socket open (`ready`), then catch-up
        // from the newest message it has.
        let mut watch = open_ws(&parlor.addr, &watcher).await;
        let after = seen
            .lock()
            .unwrap()
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0);
        let caught_up = since_all(&http, &parlor.base(), &watcher, &room, after).await;
        let stored_before = {
            let mut seen = seen.lock().unwrap();
            for (id, body) in caught_up {
                if let Some(live) = seen.insert(id, body.clone()) {
                    assert_eq!(live, body, "message {id} changed");
                }
            }
            seen.keys().next_back().copied().unwrap_or(0)
        };
        let watching = tokio::spawn({
            let seen = seen.clone();
            async move {
                while let Some(Ok(msg)) = watch.next().await {
                    let Message::Text(t) = msg else { continue };
                    let v: Value = serde_json::from_str(t.as_str()).unwrap();
                    if v["type"] == "message" {
                        let (id, text) = seen_of(&v["message"]);
                        seen.lock().unwrap().insert(id, text);
                    }
                }
            }
        });

        let acks = Arc::new(AtomicUsize::new(0));
        let mut storms = Vec::new();
        for (i, state) in senders.iter().enumerate() {
            let ws = open_ws(&parlor.addr, &cookies[i]).await;
            let new_up_to = if last {
                Some(state.lock().unwrap().next + 50)
            } else {
                None
            };
            storms.push(tokio::spawn(storm(
                ws,
                room.clone(),
                i,
                state.clone(),
                acks.clone(),
                new_up_to,
                stored_before,
            )));
        }
        if last {
            for s in storms {
                s.await.unwrap();
            }
            // Let the watcher's socket take the last frames, then let it go.
            tokio::time::sleep(Duration::from_millis(500)).await;
            watching.abort();
            break;
        }
        let kill_after = usize::try_from(rng.between(40, 800)).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while acks.load(Ordering::Relaxed) < kill_after {
            assert!(
                tokio::time::Instant::now() < deadline,
                "round {round}: only {} of {kill_after} acks in 20 s",
                acks.load(Ordering::Relaxed)
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        parlor.kill();
        let in_flight: usize = senders
            .iter()
            .map(|s| s.lock().unwrap().unacked.len())
            .sum();
        eprintln!(
            "seed {seed:#x}, round {round}: SIGKILL after {} acks (aimed at {kill_after}), {in_flight} sends unacknowledged",
            acks.load(Ordering::Relaxed)
        );
        for s in storms {
            s.await.unwrap();
        }
        let _ = watching.await;
        parlor = start_parlor(&db, logs.path().join(format!("parlor-{}.log", round + 1))).await;
    }

    // History as a fresh client sees it from the start.
    let history = since_all(&http, &parlor.base(), &watcher, &room, 0).await;
    let mut by_sender: HashMap<usize, Vec<(u64, i64)>> = HashMap::new();
    let mut stored_ids = BTreeSet::new();
    for (id, text) in &history {
        stored_ids.insert(*id);
        if let Some(body) = text.strip_prefix("text:") {
            let (sender, seq) = parse_client_id(body);
            by_sender.entry(sender).or_default().push((seq, *id));
        }
    }
    for (i, state) in senders.iter().enumerate() {
        let s = state.lock().unwrap();
        assert!(
            s.errors.is_empty(),
            "sender {i} got error frames: {:?}",
            s.errors
        );
        assert!(
            s.unacked.is_empty(),
            "sender {i}: {:?} never acknowledged",
            s.unacked
        );
        let stored = by_sender.remove(&i).unwrap_or_default();
        let mut copies: BTreeMap<u64, usize> = BTreeMap::new();
        for (seq, _) in &stored {
            *copies.entry(*seq).or_default() += 1;
        }
        let lost: Vec<&u64> = s.acked.keys().filter(|q| !copies.contains_key(q)).collect();
        assert!(
            lost.is_empty(),
            "sender {i}: acknowledged, then lost: {lost:?}"
        );
        let twice: Vec<(&u64, &usize)> = copies.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            twice.is_empty(),
            "sender {i}: stored more than once (seq, copies): {twice:?}"
        );
        // Every one of 0..next, and in the order sent (one socket's sends are handled in turn).
        let seqs: Vec<u64> = stored.iter().map(|(seq, _)| *seq).collect();
        assert!(
            seqs.iter().copied().eq(0..s.next),
            "sender {i}: stored {} of {} messages, or out of order",
            seqs.len(),
            s.next
        );
        for (seq, id) in &stored {
            assert_eq!(
                s.acked.get(seq),
                Some(id),
                "sender {i}, message {seq}: the ack named another message than history has"
            );
        }
        eprintln!(
            "sender {i}: {} messages, each stored once; {} stored by a killed server without their ack, answered on retry",
            s.next, s.stored_unacked
        );
    }
    assert!(
        by_sender.is_empty(),
        "messages from no known sender: {by_sender:?}"
    );
    // The watcher, resyncing through `since` after every restart, has exactly what is stored.
    let seen: BTreeSet<i64> = seen.lock().unwrap().keys().copied().collect();
    assert_eq!(
        seen.difference(&stored_ids).collect::<Vec<_>>(),
        Vec::<&i64>::new(),
        "the watcher saw messages history does not have"
    );
    assert_eq!(
        stored_ids.difference(&seen).collect::<Vec<_>>(),
        Vec::<&i64>::new(),
        "the watcher never saw these, live or by catching up"
    );
    parlor.kill();
}
