//! Opening the database: an SQLite file by default, PostgreSQL when the URL says so.

use std::{path::Path, time::Duration};

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
    ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr,
};

/// The default URL: an SQLite file inside the data directory.
pub fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("parlor.db").display())
}

/// How hard SQLite works to keep acknowledged commits through a power loss.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=NORMAL` in WAL mode: safe against corruption and against a killed
    /// process; a power loss or OS crash can lose the last commits, acknowledged ones too.
    #[default]
    Normal,
    /// `synchronous=FULL`: every commit is on disk before it is acknowledged, at the cost of
    /// an fsync per commit (docs/SECURITY.md gives the measured cost).
    Full,
}

/// Connects with [`Durability::Normal`]; see [`connect_with`].
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, Durability::Normal).await
}

/// Connects, creating the SQLite file (and its folder) when missing. SQLite runs in WAL
/// mode with the `durability` asked for and waits up to 5 s for a busy writer instead of
/// failing at once.
pub async fn connect_with(url: &str, durability: Durability) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    // Every statement is logged only when asked for (`RUST_LOG=sqlx::query=debug`): how
    // many statements a page makes is worth seeing (docs/BENCHMARKS.md, S4).
    opts.sqlx_logging(tracing::enabled!(target: "sqlx::query", tracing::Level::DEBUG))
        .sqlx_logging_level(tracing::log::LevelFilter::Debug)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        if let Some(dir) = sqlite_parent_dir(url) {
            std::fs::create_dir_all(&dir).map_err(|e| {
                DbErr::Custom(format!("cannot create the folder {}: {e}", dir.display()))
            })?;
        }
        opts.max_connections(8).map_sqlx_sqlite_opts(move |o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(match durability {
                    Durability::Normal => SqliteSynchronous::Normal,
                    Durability::Full => SqliteSynchronous::Full,
                })
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
    } else {
        opts.max_connections(16);
    }
    Database::connect(opts).await
}

/// True when `err` says the database could not be reached — no connection could be had
/// within the pool's wait, or the one in use broke (PostgreSQL stopped, restarting, or cut
/// off) — rather than that it refused a statement. Callers answer `unavailable` (503: try
/// again shortly) for these, `internal` for the rest.
pub fn is_unreachable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    if matches!(err, DbErr::ConnectionAcquire(_) | DbErr::Conn(_)) {
        return true;
    }
    match sqlx_error(err) {
        Some(
            Sqlx::Io(_)
            | Sqlx::Tls(_)
            | Sqlx::PoolTimedOut
            | Sqlx::PoolClosed
            | Sqlx::WorkerCrashed,
        ) => true,
        // PostgreSQL's class 08 (connection exception) and its shutdown and start-up
        // refusals (57P01–57P03).
        _ => database_code(err).is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_str(), "57P01" | "57P02" | "57P03")
        }),
    }
}

/// True when `err` says another writer had the database (SQLite busy or locked past the
/// busy timeout) or a PostgreSQL transaction lost a serialization or deadlock race: the same
/// work, done again, may well succeed.
pub fn is_contended(err: &DbErr) -> bool {
    // SQLITE_BUSY, SQLITE_LOCKED and their extended codes; PostgreSQL 40001, 40P01.
    database_code(err).is_some_and(|code| {
        matches!(
            code.as_str(),
            "5" | "6" | "261" | "262" | "517" | "40001" | "40P01"
        )
    })
}

/// The driver's error inside a database error, if there is one.
fn sqlx_error(err: &DbErr) -> Option<&sea_orm::sqlx::Error> {
    use sea_orm::RuntimeErr;
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e))
        | DbErr::Conn(RuntimeErr::SqlxError(e)) => Some(e.as_ref()),
        _ => None,
    }
}

/// The code the database itself gave (SQLite's result code, PostgreSQL's SQLSTATE).
fn database_code(err: &DbErr) -> Option<String> {
    match sqlx_error(err)? {
        sea_orm::sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// How long to wait before trying contended work again: growing with each attempt, with
/// jitter so that the writers who met do not meet again.
pub fn contention_pause(attempt: u32) -> std::time::Duration {
    let base = 20u64 << attempt.min(6);
    let jitter = rand::random::<u64>() % base.max(1);
    std::time::Duration::from_millis(base + jitter)
}

/// The connection pool's size and how many of its connections are idle (for metrics).
pub fn pool_use(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    }
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// The folder of an `sqlite://path?…` file URL, if it names one.
fn sqlite_parent_dir(url: &str) -> Option<std::path::PathBuf> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_folder_of_an_sqlite_file_url() {
        assert_eq!(
            sqlite_parent_dir("sqlite://./data/parlor.db?mode=rwc"),
            Some("./data".into())
        );
        assert_eq!(sqlite_parent_dir("sqlite::memory:"), None);
        assert_eq!(sqlite_parent_dir("sqlite://parlor.db"), None);
    }

    #[tokio::test]
    async fn connect_creates_a_missing_folder_and_file_in_wal_mode() {
        use sea_orm::{ConnectionTrait, Statement};
        let dir = tempfile::tempdir().unwrap();
        let url = default_sqlite_url(&dir.path().join("nested"));
        let db = connect(&url).await.unwrap();
        migrate(&db).await.unwrap();
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "PRAGMA journal_mode",
            ))
            .await
            .unwrap()
            .unwrap();
        let mode: String = row.try_get_by_index(0).unwrap();
        assert_eq!(mode, "wal");
        assert!(dir.path().join("nested/parlor.db").exists());
    }

    #[tokio::test]
    async fn a_writer_kept_out_by_another_is_contended_and_nothing_else_is() {
        use sea_orm::ConnectionTrait;
        let dir = tempfile::tempdir().unwrap();
        let url = default_sqlite_url(dir.path());
        let holder = connect(&url).await.unwrap();
        holder
            .execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        // A second writer that does not wait at all meets the first one's write lock.
        let mut opts = ConnectOptions::new(url.clone());
        opts.map_sqlx_sqlite_opts(|o| o.busy_timeout(Duration::ZERO));
        let impatient = Database::connect(opts).await.unwrap();
        let held = crate::tx::begin_write(&holder).await.unwrap();
        held.execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        let busy = crate::tx::begin_write(&impatient).await.unwrap_err();
        assert!(is_contended(&busy), "{busy:?}");
        assert!(!is_unreachable(&busy), "{busy:?}");
        held.commit().await.unwrap();
        let refused = impatient
            .execute_unprepared("SELECT * FROM no_such_table")
            .await
            .unwrap_err();
        assert!(!is_contended(&refused), "{refused:?}");
        assert!(contention_pause(1) < contention_pause(6));
    }

    #[tokio::test]
    async fn only_a_database_out_of_reach_counts_as_unreachable() {
        use sea_orm::{sqlx, ConnAcquireErr, ConnectionTrait, RuntimeErr};
        use std::{io, sync::Arc};
        let broken = |e: sqlx::Error| DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)));
        assert!(is_unreachable(&DbErr::ConnectionAcquire(
            ConnAcquireErr::Timeout
        )));
        assert!(is_unreachable(&broken(sqlx::Error::Io(io::Error::from(
            io::ErrorKind::ConnectionReset
        )))));
        assert!(is_unreachable(&broken(sqlx::Error::PoolTimedOut)));
        // A statement the database refuses is not that.
        let dir = tempfile::tempdir().unwrap();
        let db = connect(&default_sqlite_url(dir.path())).await.unwrap();
        let refused = db
            .execute_unprepared("SELECT * FROM no_such_table")
            .await
            .unwrap_err();
        assert!(!is_unreachable(&refused), "{refused:?}");
        assert!(!is_unreachable(&DbErr::RecordNotInserted));
    }

    #[tokio::test]
    async fn durability_sets_sqlites_synchronous_mode() {
        use sea_orm::{ConnectionTrait, Statement};
        let dir = tempfile::tempdir().unwrap();
        for (durability, expected) in [(Durability::Normal, 1i64), (Durability::Full, 2)] {
            let db = connect_with(&default_sqlite_url(dir.path()), durability)
                .await
                .unwrap();
            let row = db
                .query_one_raw(Statement::from_string(
                    db.get_database_backend(),
                    "PRAGMA synchronous",
                ))
                .await
                .unwrap()
                .unwrap();
            let mode: i64 = row.try_get_by_index(0).unwrap();
            assert_eq!(mode, expected, "{durability:?}");
            db.close().await.unwrap();
        }
    }
}
