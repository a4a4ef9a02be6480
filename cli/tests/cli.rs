//! The real `parlor-cli` binary against a real Parlor server (in this process, on a free
//! port) over a fresh database: SQLite, or PostgreSQL when `PARLOR_TEST_DB=postgres`. Each
//! person gets a config directory of their own, as separate users of a machine would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{process::Stdio, time::Duration};

use serde_json::{json, Value};
use testkit::{start, Running, TestDb};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, ChildStderr, ChildStdout, Command},
};

const PASSWORD: &str = "a terminal password";

/// One person at a terminal: their own config directory, talking to `server`.
struct Terminal {
    server: String,
    home: tempfile::TempDir,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Terminal {
    fn new(server: &str) -> Self {
        Self {
            server: server.to_owned(),
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_parlor-cli"));
        cmd.args(args)
            .env("PARLOR_SERVER", &self.server)
            .env("XDG_CONFIG_HOME", self.home.path())
            .env("HOME", self.home.path())
            .env_remove("PARLOR_TOKEN")
            .kill_on_drop(true);
        cmd
    }

    /// Runs a command to its end with `stdin` as its input.
    async fn run(&self, args: &[&str], stdin: &str) -> Out {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).await.unwrap();
        drop(input);
        let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
            .await
            .expect("the command ends")
            .unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs a command that must work; its output.
    async fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin).await;
        assert_eq!(out.code, 0, "{args:?}: {}{}", out.stdout, out.stderr);
        out.stdout
    }

    /// A long-running command (`tail`), its stdout and stderr read line by line.
    fn spawn(&self, args: &[&str]) -> (Child, Lines<ChildStdout>, Lines<ChildStderr>) {
        let mut child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap()).lines();
        let err = BufReader::new(child.stderr.take().unwrap()).lines();
        (child, out, err)
    }
}

type Lines<R> = tokio::io::Lines<BufReader<R>>;

async fn next_line<R: tokio::io::AsyncRead + Unpin>(lines: &mut Lines<R>) -> String {
    tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("a line within 20 s")
        .unwrap()
        .expect("the command still runs")
}

/// Reads `lines` until one contains `text`.
async fn wait_for<R: tokio::io::AsyncRead + Unpin>(lines: &mut Lines<R>, text: &str) {
    while !next_line(lines).await.contains(text) {}
}

/// Someone else, on another client: a browser's session over plain HTTP.
async fn other_client(server: &str, username: &str) -> reqwest::Client {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = http
        .post(format!("{server}/api/auth/signup"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    http
}

async fn post(http: &reqwest::Client, server: &str, path: &str, body: Value) -> Value {
    let r = http
        .post(format!("{server}/api/{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}");
    r.json().await.unwrap()
}

/// A server, and ann at her terminal, signed up, with the open room "Lounge" she made.
async fn ann_in_lounge(db: &TestDb) -> (Running, Terminal, String) {
    let server = start(db, "127.0.0.1:0".parse().unwrap()).await;
    let ann = Terminal::new(&server.url());
    ann.ok(&["signup", "ann"], &format!("{PASSWORD}\n")).await;
    let room = ann
        .ok(&["create", "Lounge", "--policy", "open"], "")
        .await
        .trim()
        .to_owned();
    (server, ann, room)
}

#[tokio::test]
async fn sign_up_create_send_from_stdin_read_history_and_fail_with_meaningful_codes() {
    let db = TestDb::new().await;
    let server = start(&db, "127.0.0.1:0".parse().unwrap()).await;
    let ann = Terminal::new(&server.url());

    // Not signed in yet: an auth failure (3).
    let out = ann.run(&["whoami"], "").await;
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("(unauthenticated)"), "{}", out.stderr);

    let said = ann.ok(&["signup", "ann"], &format!("{PASSWORD}\n")).await;
    assert!(said.contains("Signed in as ann"), "{said}");
    // The session is kept for ann alone.
    let stored = ann.home.path().join("parlor").join("credentials.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&stored).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    assert!(std::fs::read_to_string(&stored)
        .unwrap()
        .contains("parlor_session="));
    assert!(ann.ok(&["whoami"], "").await.starts_with("ann ("));

    let room = ann
        .ok(&["create", "Lounge", "--policy", "open"], "")
        .await
        .trim()
        .to_owned();
    assert!(!room.is_empty());
    ann.ok(&["send", "lounge"], "hello from stdin\n").await;
    ann.ok(
        &["send", &room, "and from an argument", "--color", "teal"],
        "",
    )
    .await;
    let history = ann.ok(&["history", "Lounge"], "").await;
    let lines: Vec<&str> = history.lines().collect();
    assert!(
        lines.iter().any(|l| l.ends_with("ann: hello from stdin")),
        "{history}"
    );
    assert!(
        lines.last().unwrap().ends_with("ann: and from an argument"),
        "oldest first, and no colour codes when piped: {history}"
    );
    let listed = ann.ok(&["rooms"], "").await;
    assert!(
        listed.contains(&room) && listed.contains("Lounge"),
        "{listed}"
    );

    // Each kind of failure has its code: not found (4), bad input (1), unreachable (7), a
    // wrong password (3).
    let out = ann.run(&["send", "No such room", "hi"], "").await;
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("(room_not_found)"), "{}", out.stderr);
    let out = ann.run(&["send", "Lounge"], "").await;
    assert_eq!(out.code, 1, "an empty message: {}", out.stderr);
    assert!(out.stderr.contains("(invalid_input)"), "{}", out.stderr);
    let out = ann
        .run(&["--server", "http://127.0.0.1:9", "rooms"], "")
        .await;
    assert_eq!(out.code, 7, "{}", out.stderr);
    let bob = Terminal::new(&server.url());
    let out = bob.run(&["login", "ann"], "not the password\n").await;
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("(invalid_credentials)"),
        "{}",
        out.stderr
    );
    // Usage mistakes are clap's: 2.
    assert_eq!(ann.run(&["send"], "").await.code, 2);

    ann.ok(&["logout"], "").await;
    assert!(!stored.exists());
    assert_eq!(ann.run(&["rooms"], "").await.code, 3);
    server.stop().await;
}

#[tokio::test]
async fn tail_json_prints_what_another_client_sends_and_a_read_token_cannot_send() {
    let db = TestDb::new().await;
    let (server, ann, room) = ann_in_lounge(&db).await;
    let url = server.url();
    let bob = other_client(&url, "bob").await;
    post(&bob, &url, "rooms/join", json!({"room_id": room})).await;

    let (mut tail, mut lines, mut errors) = ann.spawn(&["tail", "Lounge", "--json"]);
    wait_for(&mut errors, "Following").await;
    post(
        &bob,
        &url,
        "messages/send",
        json!({"room_id": room, "client_id": "b1", "body": "hi from the browser"}),
    )
    .await;
    let line = next_line(&mut lines).await;
    let message: Value = serde_json::from_str(&line).expect("one JSON object per line");
    assert_eq!(message["body"], "hi from the browser");
    assert_eq!(message["author"]["username"], "bob");
    tail.kill().await.unwrap();

    // A token that may only read: it reads, and a send is refused as forbidden (5).
    let token = ann
        .ok(&["token", "create", "reader", "--scope", "read"], "")
        .await
        .trim()
        .to_owned();
    assert!(token.starts_with("parlor_"), "{token}");
    let script = Terminal::new(&url);
    let out = script.run(&["--token", &token, "history", &room], "").await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("bob: hi from the browser"),
        "{}",
        out.stdout
    );
    let out = script
        .run(&["--token", &token, "send", &room, "hi"], "")
        .await;
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(
        out.stderr.contains("(insufficient_scope)"),
        "{}",
        out.stderr
    );
    // Nor may a token make tokens.
    let out = script
        .run(&["--token", &token, "token", "create", "more"], "")
        .await;
    assert_eq!(out.code, 5, "{}", out.stderr);
    let listed = ann.ok(&["token", "list"], "").await;
    assert!(
        listed.contains("reader") && listed.contains("read"),
        "{listed}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_tail_outlives_a_server_restart_and_prints_every_message_once_in_order() {
    let db = TestDb::new().await;
    let (server, ann, room) = ann_in_lounge(&db).await;
    let (addr, url) = (server.addr, server.url());
    // A token, so the tail's credential outlives the restart however sessions are cached.
    let token = ann
        .ok(
            &["token", "create", "tail", "--scope", "read", "--save"],
            "",
        )
        .await
        .trim()
        .to_owned();
    assert!(token.starts_with("parlor_"));
    let bob = other_client(&url, "bob").await;
    post(&bob, &url, "rooms/join", json!({"room_id": room})).await;

    let (mut tail, mut lines, mut errors) = ann.spawn(&["tail", &room]);
    wait_for(&mut errors, "Following").await;
    let say = |n: u32| {
        let (bob, url, room) = (bob.clone(), url.clone(), room.clone());
        async move {
            post(
                &bob,
                &url,
                "messages/send",
                json!({"room_id": room, "client_id": format!("m{n}"), "body": format!("message {n}")}),
            )
            .await;
        }
    };
    say(1).await;
    assert!(next_line(&mut lines).await.ends_with("bob: message 1"));

    // The server goes away and comes back on the same address; what is said before the tail
    // is back is caught up, what is said after arrives live.
    server.stop().await;
    let server = start(&db, addr).await;
    for n in 2..=4 {
        say(n).await;
    }
    let mut seen = Vec::new();
    for _ in 2..=4 {
        seen.push(next_line(&mut lines).await);
    }
    say(5).await;
    seen.push(next_line(&mut lines).await);
    let bodies: Vec<String> = seen
        .iter()
        .map(|l| l.split_once(": ").unwrap().1.to_owned())
        .collect();
    assert_eq!(bodies, ["message 2", "message 3", "message 4", "message 5"]);
    // And nothing twice.
    let more = tokio::time::timeout(Duration::from_millis(1500), lines.next_line()).await;
    assert!(more.is_err(), "an extra line: {more:?}");
    // It said what happened: gone, then back.
    wait_for(&mut errors, "Can't reach the server").await;
    wait_for(&mut errors, "Back online.").await;
    tail.kill().await.unwrap();
    server.stop().await;
}
