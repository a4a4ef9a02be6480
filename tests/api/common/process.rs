//! Real processes: the `parlor` binary, and a `redis-server` of a test's own (so a test can
//! stop and restart it without touching anyone else's Redis).

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use reqwest::StatusCode;

use super::{TestApp, TestDb};

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `parlor` binary as a child process, killed (SIGKILL) when dropped.
pub struct Parlor {
    child: Child,
    pub addr: String,
    log: PathBuf,
}

impl Parlor {
    /// Starts `parlor serve` on a free port over `db`'s data, with `args` added, logging to
    /// `log`, and waits until `/readyz` answers 200.
    pub async fn start(db: &TestDb, log: PathBuf, args: &[&str]) -> Self {
        let addr = format!("127.0.0.1:{}", free_port());
        let output = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_parlor"))
            .arg("serve")
            .args(["--addr", &addr, "--database-url", &db.url])
            .arg("--data-dir")
            .arg(db.data_dir.path())
            .args(["--site-root", "target/site"])
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("REDIS_URL")
            .stdout(Stdio::from(output.try_clone().unwrap()))
            .stderr(Stdio::from(output))
            .spawn()
            .expect("parlor starts");
        let mut parlor = Self { child, addr, log };
        let http = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(exit) = parlor.child.try_wait().unwrap() {
                panic!("parlor exited at start: {exit}\n{}", parlor.log_tail());
            }
            let ready = http.get(format!("{}/readyz", parlor.base())).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                return parlor;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "parlor not ready within 30 s\n{}",
                parlor.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A handle to call this process's API with the harness's helpers.
    pub async fn app(&self, db: &TestDb) -> TestApp {
        TestApp::attach(self.addr.parse().unwrap(), db).await
    }

    /// SIGKILL, and wait until it is gone.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Parlor {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "parlor {}'s last log lines:\n{}",
                self.addr,
                self.log_tail()
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `redis-server` on a port of its own that keeps nothing on disk; killed when dropped.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
}

impl RedisServer {
    pub async fn start() -> Self {
        let mut redis = Self {
            child: None,
            port: free_port(),
        };
        redis.run().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn run(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (Debian's redis-server package)");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "redis-server did not listen within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills it (SIGKILL): every connection to it drops at once.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub async fn restart(&mut self) {
        self.stop();
        self.run().await;
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
