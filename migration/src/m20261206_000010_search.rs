//! Message search (docs/RULES.md, "Search"). `messages.search_text` holds a message's
//! folded words, one space apart (`domain::search::index_text`), or NULL for system lines,
//! stickers and tombstones; the service writes it with the text, in the same transaction.
//! Both databases index that same text, so both find the same messages:
//!
//! - SQLite: two FTS5 tables over it, kept in step by triggers: `message_words` (the
//!   `unicode61` tokenizer, `remove_diacritics 2`) for words and prefixes, and
//!   `message_trigrams` (`trigram`) for text inside words and for Chinese, Japanese and Korean.
//! - PostgreSQL: `search_vector`, a `tsvector` generated from those words with a GIN index
//!   (the words are the lexemes as they are: no parser, no stemming, one behaviour for every
//!   language; words over 64 characters are left out, as PostgreSQL refuses lexemes over
//!   2 KiB, and the query searches inside the text for them instead), and a `pg_trgm` GIN
//!   index on `search_text` for text inside words.
//!
//! Messages already stored are indexed here.

use crate::idens::Messages;
use crate::statements::{add_column, drop_column, drop_index, index};
use domain::search::index_text;
use sea_orm_migration::schema::text_null;
use sea_orm_migration::{prelude::*, sea_orm::DbBackend, sea_orm::Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Rows indexed per statement while the existing messages are indexed.
const BACKFILL_BATCH: u64 = 500;

const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE message_words USING fts5(search_text, content='messages', \
     content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE message_trigrams USING fts5(search_text, content='messages', \
     content_rowid='id', tokenize='trigram')",
    "INSERT INTO message_words(message_words) VALUES ('rebuild')",
    "INSERT INTO message_trigrams(message_trigrams) VALUES ('rebuild')",
    "CREATE TRIGGER messages_search_insert AFTER INSERT ON messages \
     WHEN new.search_text IS NOT NULL BEGIN \
       INSERT INTO message_words(rowid, search_text) VALUES (new.id, new.search_text); \
       INSERT INTO message_trigrams(rowid, search_text) VALUES (new.id, new.search_text); \
     END",
    "CREATE TRIGGER messages_search_delete AFTER DELETE ON messages \
     WHEN old.search_text IS NOT NULL BEGIN \
       INSERT INTO message_words(message_words, rowid, search_text) \
         VALUES ('delete', old.id, old.search_text); \
       INSERT INTO message_trigrams(message_trigrams, rowid, search_text) \
         VALUES ('delete', old.id, old.search_text); \
     END",
    "CREATE TRIGGER messages_search_update AFTER UPDATE OF search_text ON messages BEGIN \
       INSERT INTO message_words(message_words, rowid, search_text) \
         SELECT 'delete', old.id, old.search_text WHERE old.search_text IS NOT NULL; \
       INSERT INTO message_trigrams(message_trigrams, rowid, search_text) \
         SELECT 'delete', old.id, old.search_text WHERE old.search_text IS NOT NULL; \
       INSERT INTO message_words(rowid, search_text) \
         SELECT new.id, new.search_text WHERE new.search_text IS NOT NULL; \
       INSERT INTO message_trigrams(rowid, search_text) \
         SELECT new.id, new.search_text WHERE new.search_text IS NOT NULL; \
     END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS messages_search_insert",
    "DROP TRIGGER IF EXISTS messages_search_delete",
    "DROP TRIGGER IF EXISTS messages_search_update",
    "DROP TABLE IF EXISTS message_words",
    "DROP TABLE IF EXISTS message_trigrams",
];

const POSTGRES_UP: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE messages ADD COLUMN search_vector tsvector \
     GENERATED ALWAYS AS (array_to_tsvector(array_remove(string_to_array(\
       regexp_replace(search_text, '[^ ]{65,}', '', 'g'), ' '), ''))) STORED",
    "CREATE INDEX idx_messages_search_vector ON messages USING gin (search_vector)",
    "CREATE INDEX idx_messages_search_trigrams ON messages USING gin (search_text gin_trgm_ops)",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS idx_messages_search_trigrams",
    "DROP INDEX IF EXISTS idx_messages_search_vector",
    "ALTER TABLE messages DROP COLUMN IF EXISTS search_vector",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(manager, Messages::Table, text_null(Messages::SearchText)).await?;
        backfill(manager).await?;
        // `from:` alone: one person's messages, newest first, without reading everyone's.
        let by_author = [Messages::AuthorId, Messages::Id];
        manager
            .create_index(index("idx_messages_author_id", Messages::Table, by_author))
            .await?;
        let db = manager.get_connection();
        let statements = match manager.get_database_backend() {
            DbBackend::Sqlite => SQLITE_UP,
            _ => POSTGRES_UP,
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements = match manager.get_database_backend() {
            DbBackend::Sqlite => SQLITE_DOWN,
            _ => POSTGRES_DOWN,
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        drop_index(manager, Messages::Table, "idx_messages_author_id").await?;
        drop_column(manager, Messages::Table, Messages::SearchText).await
    }
}

/// Writes `search_text` for the text and file messages already stored, oldest first.
async fn backfill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let (select, update) = match backend {
        DbBackend::Sqlite => (
            "SELECT id, body FROM messages WHERE id > ? AND kind IN ('text', 'file') \
             AND deleted_at IS NULL ORDER BY id LIMIT ?",
            "UPDATE messages SET search_text = ? WHERE id = ?",
        ),
        _ => (
            "SELECT id, body FROM messages WHERE id > $1 AND kind IN ('text', 'file') \
             AND deleted_at IS NULL ORDER BY id LIMIT $2",
            "UPDATE messages SET search_text = $1 WHERE id = $2",
        ),
    };
    let mut after = 0_i64;
    loop {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                select,
                [after.into(), BACKFILL_BATCH.into()],
            ))
            .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.try_get::<i64>("", "id")?;
        for row in &rows {
            let id: i64 = row.try_get("", "id")?;
            let body: String = row.try_get("", "body")?;
            if let Some(text) = index_text(&body) {
                db.execute_raw(Statement::from_sql_and_values(
                    backend,
                    update,
                    [text.into(), id.into()],
                ))
                .await?;
            }
        }
    }
}
