//! `parlor backup PATH`: a consistent copy taken while Parlor runs (docs/SECURITY.md,
//! "Backups"). On SQLite, `VACUUM INTO` writes a complete, consistent database file in one
//! read transaction, writers carrying on meanwhile; on PostgreSQL the copy is `pg_dump`'s to
//! make (the line to run is printed). The uploaded files are copied either way: they never
//! change once stored, so a copy taken after the database's holds every file it names.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sea_orm::{ConnectionTrait, DbBackend};

use crate::{server::connect_and_migrate, Config};

#[derive(Debug)]
pub struct Backup {
    /// The database copy, when Parlor made one (SQLite).
    pub database: Option<PathBuf>,
    /// For PostgreSQL: the command that copies the database.
    pub pg_dump: Option<String>,
    pub files: usize,
}

/// Copies the database (SQLite) and the uploads into `dest`, a new or empty folder. A
/// restore is `--data-dir dest` (SQLite), or `pg_restore` plus these files (PostgreSQL).
pub async fn backup(config: &Config, dest: &Path) -> anyhow::Result<Backup> {
    if dest.exists()
        && std::fs::read_dir(dest)
            .with_context(|| format!("cannot read {}", dest.display()))?
            .next()
            .is_some()
    {
        bail!("{} is not empty: back up into a new folder", dest.display());
    }
    std::fs::create_dir_all(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    let db = connect_and_migrate(config).await?;
    let (database, pg_dump) = match db.get_database_backend() {
        DbBackend::Sqlite => {
            let file = dest.join("parlor.db");
            let target = file.to_string_lossy().replace('\'', "''");
            db.execute_unprepared(&format!("VACUUM INTO '{target}'"))
                .await
                .context("copying the SQLite database failed")?;
            (Some(file), None)
        }
        _ => {
            let dump = dest.join("parlor.pgdump");
            let line = format!(
                "pg_dump --format=custom --file '{}' \"$DATABASE_URL\"",
                dump.display()
            );
            (None, Some(line))
        }
    };
    db.close().await.ok();
    let files = copy_files(&config.files_dir(), &dest.join("uploads"))?;
    Ok(Backup {
        database,
        pg_dump,
        files,
    })
}

/// Copies the stored files (not `.part` leftovers of uploads in progress).
fn copy_files(from: &Path, to: &Path) -> anyhow::Result<usize> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(0);
    };
    let mut copied = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_file() || path.extension().is_some_and(|x| x == "part") {
            continue;
        }
        std::fs::copy(&path, to.join(entry.file_name()))
            .with_context(|| format!("cannot copy {}", path.display()))?;
        copied += 1;
    }
    Ok(copied)
}
