//! What every suite that runs a real Parlor needs: a fresh database of its own (an SQLite
//! file in a temp folder, or a new PostgreSQL database when `PARLOR_TEST_DB=postgres`,
//! dropped when the test ends, pass or fail) and a server configuration for tests. Shared by
//! the server's integration tests (`tests/api`) and the terminal client's (`cli/tests`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{net::SocketAddr, path::PathBuf};

use parlor::{config::Config, server::Server};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use tokio::{sync::oneshot, task::JoinHandle};

/// Where a test's data lives; outlives server restarts within the test.
pub struct TestDb {
    pub url: String,
    pub data_dir: tempfile::TempDir,
    pg_name: Option<String>,
}

fn pg_admin_url() -> String {
    std::env::var("PARLOR_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub fn on_postgres() -> bool {
    std::env::var("PARLOR_TEST_DB").is_ok_and(|v| v == "postgres")
}

impl TestDb {
    /// SQLite, or PostgreSQL when `PARLOR_TEST_DB=postgres`.
    pub async fn new() -> Self {
        if on_postgres() {
            Self::postgres().await
        } else {
            let data_dir = tempfile::tempdir().unwrap();
            let url = service::db::default_sqlite_url(data_dir.path());
            Self {
                url,
                data_dir,
                pg_name: None,
            }
        }
    }

    /// A new PostgreSQL database, whatever the suite runs on (several instances share one).
    pub async fn postgres() -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let name = format!("parlor_test_{}", service::ids::new_id());
        let admin = Database::connect(pg_admin_url()).await.unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap();
        admin.close().await.unwrap();
        let base = pg_admin_url();
        let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
        Self {
            url,
            data_dir,
            pg_name: Some(name),
        }
    }

    pub async fn connect(&self) -> DatabaseConnection {
        service::db::connect(&self.url).await.unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs outside async; a thread of its own gets a runtime of its own.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(admin) = Database::connect(pg_admin_url()).await {
                    let _ = admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join()
        .ok();
    }
}

pub fn test_config(db: &TestDb) -> Config {
    let mut config = Config::defaults();
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.database_url = Some(db.url.clone());
    config.data_dir = db.data_dir.path().to_path_buf();
    config.site_root = PathBuf::from("target/site");
    // Tests make many sign-ups from one address, and many rooms, searches and invites
    // quickly; the limits have tests of their own.
    config.auth_rate_burst = 1000;
    let plenty: service::limits::Rate = "10000/1m".parse().unwrap();
    config.limits.rate_create_room = plenty;
    config.limits.rate_invite = plenty;
    config.limits.rate_moderate = plenty;
    config.limits.rate_request = plenty;
    config.limits.rate_join_leave = plenty;
    config.limits.rate_manage = plenty;
    config.limits.rate_password = plenty;
    config.limits.rate_react = plenty;
    config.limits.rate_search = plenty;
    config.limits.rate_message_search = plenty;
    config.limits.rate_catch_up = plenty;
    config
}

/// A server running in this process until [`Running::stop`].
pub struct Running {
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    handle: JoinHandle<anyhow::Result<()>>,
}

/// A server for `db` on `addr` (port 0 for a free one), running until stopped.
pub async fn start(db: &TestDb, addr: SocketAddr) -> Running {
    let mut config = test_config(db);
    config.addr = addr;
    let server = Server::build(&config).await.expect("server builds");
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    Running { addr, stop, handle }
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops it and waits until it has (its address is free again).
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.handle.await.unwrap().unwrap();
    }
}
