//! Message search and a message in its context (docs/RULES.md, "Search"). A query is parsed
//! by `domain::search` into words and filters, and built here into each database's own SQL
//! with every word bound as a parameter: SQLite's FTS5 tables, PostgreSQL's `tsvector` and
//! `pg_trgm` indexes (migration m20261206_000010_search). Only rooms the searcher belongs to
//! now are searched, so a kick, a ban, a departure or a termination takes a room out of the
//! results at the next search.

use std::collections::HashMap;

use domain::{
    message::MessageView,
    room::{MembershipStatus, RoomStatus},
    search::{
        self, HitRoom, Query, SearchHit, SearchOrder, Term, AROUND_DEFAULT, AROUND_MAX,
        MAX_WORD_CHARS, PAGE_DEFAULT, PAGE_MAX,
    },
    ApiError, MessageId, RoomId, User, UserId,
};
use entity::{message as row, room as room_row};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, Order, QueryFilter,
    QueryOrder, QuerySelect, Statement, Value,
};

use super::Messages;
use crate::{access, error::ServiceResult, limits::Action, timeline, ServiceError};

/// One page of results, and the cursor of the next when there is one.
#[derive(Debug, Clone)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    pub next_cursor: Option<String>,
}

/// A message with the messages around it, oldest first.
#[derive(Debug, Clone)]
pub struct Around {
    pub messages: Vec<MessageView>,
    pub has_older: bool,
    pub has_newer: bool,
}

/// What one search asks for, as the API takes it.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest<'a> {
    pub query: &'a str,
    pub room_id: Option<&'a RoomId>,
    pub cursor: Option<&'a str>,
    pub limit: Option<u64>,
    pub order: SearchOrder,
}

/// Where the next page starts: past the last message shown, by id (newest first) or by
/// score and id (best match). A message's score depends on its own text only, so messages
/// that arrive during a walk never shift its pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    Before(i64),
    Ranked { score: i64, id: i64 },
}

impl Cursor {
    fn encode(self) -> String {
        match self {
            Self::Before(id) => format!("n{id}"),
            Self::Ranked { score, id } => format!("b{score}.{id}"),
        }
    }

    fn decode(text: &str, order: SearchOrder) -> ServiceResult<Self> {
        let bad = || -> ServiceError {
            ApiError::invalid_field("cursor", "That cursor is not one this server gave out.").into()
        };
        let number = |s: &str| s.parse::<i64>().ok().filter(|n| *n >= 0);
        match (order, text.split_at_checked(1)) {
            (SearchOrder::Newest, Some(("n", id))) => number(id).map(Self::Before).ok_or_else(bad),
            (SearchOrder::Best, Some(("b", rest))) => {
                let (score, id) = rest.split_once('.').ok_or_else(bad)?;
                Ok(Self::Ranked {
                    score: number(score).ok_or_else(bad)?,
                    id: number(id).ok_or_else(bad)?,
                })
            }
            _ => Err(bad()),
        }
    }
}

impl Messages {
    /// Messages in `user`'s rooms that match `request.query`, newest (or best) first.
    pub async fn search(
        &self,
        user: &User,
        request: SearchRequest<'_>,
    ) -> ServiceResult<SearchPage> {
        let query = search::parse(request.query)?;
        let cursor = request
            .cursor
            .map(|c| Cursor::decode(c, request.order))
            .transpose()?;
        // Charged only for a query that reaches the database.
        self.limits.check(Action::SearchMessages, &user.id).await?;
        // A room picked in the client must be one's own: asking about another says so.
        if let Some(room_id) = request.room_id {
            access::require_member(&self.db, &user.id, room_id).await?;
        }
        let limit = request.limit.unwrap_or(PAGE_DEFAULT).clamp(1, PAGE_MAX);
        let backend = self.db.get_database_backend();
        let statement = build(
            backend,
            &query,
            &user.id,
            request.room_id,
            request.order,
            cursor,
            limit + 1,
        );
        let mut found: Vec<(i64, i64)> = self
            .db
            .query_all_raw(statement)
            .await?
            .iter()
            .map(|r| Ok((r.try_get_by_index::<i64>(0)?, r.try_get_by_index::<i64>(1)?)))
            .collect::<Result<_, sea_orm::DbErr>>()?;
        let more = found.len() as u64 > limit;
        found.truncate(limit as usize);
        let next_cursor = match (more, request.order, found.last()) {
            (true, SearchOrder::Newest, Some(&(id, _))) => Some(Cursor::Before(id)),
            (true, SearchOrder::Best, Some(&(id, score))) => Some(Cursor::Ranked { score, id }),
            _ => None,
        }
        .map(Cursor::encode);
        let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
        let hits = self.hits(&ids, &query, &user.id).await?;
        Ok(SearchPage { hits, next_cursor })
    }

    /// The found messages as hits, in the order found.
    async fn hits(
        &self,
        ids: &[i64],
        query: &Query,
        viewer: &UserId,
    ) -> ServiceResult<Vec<SearchHit>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows = row::Entity::find()
            .filter(row::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?;
        let rank: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        rows.sort_by_key(|r| rank.get(&r.id).copied().unwrap_or(usize::MAX));
        let snippets: Vec<_> = rows
            .iter()
            .map(|r| search::snippet(&r.body, query))
            .collect();
        let room_ids: Vec<String> = rows.iter().map(|r| r.room_id.clone()).collect();
        let names: HashMap<String, String> = room_row::Entity::find()
            .filter(room_row::Column::Id.is_in(room_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect();
        let views = timeline::views_for(&self.db, rows, Some(viewer)).await?;
        Ok(views
            .into_iter()
            .zip(snippets)
            .map(|(message, snippet)| SearchHit {
                room: HitRoom {
                    name: names
                        .get(message.room_id.as_str())
                        .cloned()
                        .unwrap_or_default(),
                    id: message.room_id.clone(),
                },
                message,
                snippet,
            })
            .collect())
    }

    /// The message `message_id` with up to `count` messages before and after it, for a
    /// member of its room; anyone else hears that there is no such message.
    pub async fn around(
        &self,
        user_id: &UserId,
        message_id: MessageId,
        count: Option<u64>,
    ) -> ServiceResult<Around> {
        let count = count.unwrap_or(AROUND_DEFAULT).clamp(1, AROUND_MAX);
        let target = self.visible(user_id, message_id).await?;
        let room_id = RoomId::new(target.room_id.clone());
        let mut older = row::Entity::find()
            .filter(row::Column::RoomId.eq(room_id.as_str()))
            .filter(row::Column::Id.lt(target.id))
            .order_by(row::Column::Id, Order::Desc)
            .limit(count + 1)
            .all(&self.db)
            .await?;
        let mut newer = row::Entity::find()
            .filter(row::Column::RoomId.eq(room_id.as_str()))
            .filter(row::Column::Id.gt(target.id))
            .order_by(row::Column::Id, Order::Asc)
            .limit(count + 1)
            .all(&self.db)
            .await?;
        let has_older = older.len() as u64 > count;
        let has_newer = newer.len() as u64 > count;
        older.truncate(count as usize);
        newer.truncate(count as usize);
        older.reverse();
        let rows: Vec<row::Model> = older
            .into_iter()
            .chain(std::iter::once(target))
            .chain(newer)
            .collect();
        let messages = timeline::views_for(&self.db, rows, Some(user_id)).await?;
        Ok(Around {
            messages,
            has_older,
            has_newer,
        })
    }
}

/// SQL text with its bound values, placeholders written as the backend wants them.
struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        let placeholder = self.param(value);
        self.text.push_str(&placeholder);
        self
    }

    /// Adds a value and gives its placeholder, to be written where it goes (PostgreSQL's
    /// `$n` may be written twice).
    fn param(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }

    fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// The words of a phrase the word index holds (a longer one is checked by the phrase's
/// `LIKE` alone); `None` when it holds none of them.
fn indexed_words(words: &[String]) -> Option<Vec<&String>> {
    let kept: Vec<&String> = words
        .iter()
        .filter(|w| w.chars().count() <= MAX_WORD_CHARS)
        .collect();
    (!kept.is_empty()).then_some(kept)
}

/// A whole word, or a prefix, as an FTS5 string (`"word"`, `"pre" *`). Terms hold only
/// letters and digits (`domain::search`), so no quote can end the string early.
fn fts5_term(term: &Term) -> Option<String> {
    match term {
        Term::Word(w) => Some(format!("\"{w}\"")),
        Term::Prefix(p) => Some(format!("\"{p}\" *")),
        Term::Phrase(words) => Some(
            indexed_words(words)?
                .iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(" AND "),
        ),
        Term::Substring(_) => None,
    }
}

/// The same as a `tsquery` lexeme: `'word'`, `'pre':*`.
fn tsquery_term(term: &Term) -> Option<String> {
    match term {
        Term::Word(w) => Some(format!("'{w}'")),
        Term::Prefix(p) => Some(format!("'{p}':*")),
        Term::Phrase(words) => Some(
            indexed_words(words)?
                .iter()
                .map(|w| format!("'{w}'"))
                .collect::<Vec<_>>()
                .join(" & "),
        ),
        Term::Substring(_) => None,
    }
}

fn like_phrase(words: &[String]) -> String {
    format!("% {} %", words.join(" "))
}

fn like_substring(text: &str) -> String {
    format!("%{text}%")
}

/// The statement that finds the ids of one page (`limit` rows, the caller asks one more
/// to know whether there is a next page).
fn build(
    backend: DbBackend,
    query: &Query,
    user_id: &UserId,
    room_id: Option<&RoomId>,
    order: SearchOrder,
    cursor: Option<Cursor>,
    limit: u64,
) -> Statement {
    let sqlite = backend == DbBackend::Sqlite;
    let words: Vec<String> = query
        .include
        .iter()
        .filter_map(if sqlite { fts5_term } else { tsquery_term })
        .collect();
    let substrings: Vec<&String> = query
        .include
        .iter()
        .filter_map(|t| match t {
            Term::Substring(s) => Some(s),
            _ => None,
        })
        .collect();
    let mut sql = Sql::new(backend);
    // On SQLite the FTS table drives (newest first by its rowid, or by bm25), so a common
    // word stops after one page of matches; CROSS JOIN keeps that loop order.
    let best = order == SearchOrder::Best;
    let score = |sql: &mut Sql| {
        if best {
            score_expr(sql, &query.include)
        } else {
            "CAST(0 AS BIGINT)".to_owned()
        }
    };
    let head = |sql: &mut Sql, rest: &str| {
        let score = score(sql);
        sql.push(&format!("SELECT m.id, {score} FROM {rest}"));
    };
    let id = if sqlite && !words.is_empty() {
        head(
            &mut sql,
            "message_words f CROSS JOIN messages m ON m.id = f.rowid",
        );
        sql.push(" WHERE f.message_words MATCH ")
            .bind(words.join(" AND "));
        "f.rowid"
    } else if sqlite && !substrings.is_empty() {
        let matched = substrings
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(" AND ");
        head(
            &mut sql,
            "message_trigrams f CROSS JOIN messages m ON m.id = f.rowid",
        );
        sql.push(" WHERE f.message_trigrams MATCH ").bind(matched);
        "f.rowid"
    } else if !sqlite && !words.is_empty() {
        head(&mut sql, "messages m");
        sql.push(" WHERE m.search_vector @@ CAST(")
            .bind(words.join(" & "))
            .push(" AS tsquery)");
        "m.id"
    } else {
        head(&mut sql, "messages m");
        sql.push(" WHERE TRUE");
        "m.id"
    };
    // Only rooms the searcher is a member of now, and only living messages with text.
    sql.push(" AND m.room_id IN (SELECT ms.room_id FROM memberships ms JOIN rooms r ON r.id = ms.room_id WHERE ms.user_id = ")
        .bind(user_id.as_str())
        .push(" AND ms.status = ")
        .bind(MembershipStatus::Active.to_value())
        .push(" AND r.status = ")
        .bind(RoomStatus::Active.to_value())
        .push(")")
        .push(" AND m.deleted_at IS NULL AND m.kind IN ('text', 'file')");
    // Unless the trigram table drove the query, each piece is looked for inside the text.
    if !(sqlite && words.is_empty()) {
        for s in &substrings {
            sql.push(" AND m.search_text LIKE ").bind(like_substring(s));
        }
    }
    for term in &query.include {
        if let Term::Phrase(words) = term {
            sql.push(" AND (' ' || m.search_text || ' ') LIKE ")
                .bind(like_phrase(words));
        }
    }
    for term in &query.exclude {
        match term {
            Term::Phrase(words) => {
                sql.push(" AND (' ' || COALESCE(m.search_text, '') || ' ') NOT LIKE ")
                    .bind(like_phrase(words));
            }
            Term::Substring(s) => {
                sql.push(" AND COALESCE(m.search_text, '') NOT LIKE ")
                    .bind(like_substring(s));
            }
            word if sqlite => {
                sql.push(
                    " AND m.id NOT IN (SELECT rowid FROM message_words WHERE message_words MATCH ",
                )
                .bind(fts5_term(word).unwrap_or_default())
                .push(")");
            }
            word => {
                sql.push(" AND NOT (COALESCE(m.search_vector, ''::tsvector) @@ CAST(")
                    .bind(tsquery_term(word).unwrap_or_default())
                    .push(" AS tsquery))");
            }
        }
    }
    if let Some(room_id) = room_id {
        sql.push(" AND m.room_id = ").bind(room_id.as_str());
    }
    if let Some(name) = &query.room {
        sql.push(" AND m.room_id IN (SELECT id FROM rooms WHERE name_key = ")
            .bind(domain::room::fold(name.trim()))
            .push(")");
    }
    if let Some(name) = &query.from {
        sql.push(" AND m.author_id IN (SELECT id FROM users WHERE username_key = ")
            .bind(name.to_ascii_lowercase())
            .push(")");
    }
    if query.has_file {
        sql.push(" AND m.file_id IS NOT NULL");
    }
    if query.has_link {
        sql.push(" AND (LOWER(m.body) LIKE '%http://%' OR LOWER(m.body) LIKE '%https://%')");
    }
    if query.mentions_me {
        sql.push(" AND (m.mentions_room = ")
            .bind(true)
            .push(" OR m.id IN (SELECT message_id FROM mentions WHERE user_id = ")
            .bind(user_id.as_str())
            .push("))");
    }
    if let Some(ms) = query.after_ms {
        sql.push(" AND m.created_at >= ").bind(instant(ms));
    }
    if let Some(ms) = query.before_ms {
        sql.push(" AND m.created_at < ").bind(instant(ms));
    }
    match cursor {
        Some(Cursor::Before(before)) => {
            sql.push(&format!(" AND {id} < ")).bind(before);
        }
        Some(Cursor::Ranked {
            score: last,
            id: last_id,
        }) => {
            let first = score(&mut sql);
            sql.push(&format!(" AND ({first} < ")).bind(last);
            let again = score(&mut sql);
            sql.push(&format!(" OR ({again} = "))
                .bind(last)
                .push(&format!(" AND {id} < "))
                .bind(last_id)
                .push("))");
        }
        None => {}
    }
    if best {
        let score = score(&mut sql);
        sql.push(&format!(" ORDER BY {score} DESC, {id} DESC"));
    } else {
        sql.push(&format!(" ORDER BY {id} DESC"));
    }
    sql.push(" LIMIT ").bind(limit as i64);
    sql.statement()
}

/// Best match's score, the same on both databases: how much of the message is what was
/// looked for (each word's, prefix's, phrase's or piece's occurrences, per million words of
/// the message), in integers so that it pages exactly. It reads the message's own text
/// only. The text's words are spaced twice over so that neighbouring occurrences each count.
fn score_expr(sql: &mut Sql, include: &[Term]) -> String {
    let spaced = "REPLACE(' ' || m.search_text || ' ', ' ', '  ')";
    let words = "(LENGTH(m.search_text) - LENGTH(REPLACE(m.search_text, ' ', '')) + 1)";
    let counts: Vec<String> = include
        .iter()
        .map(|term| {
            let pattern = match term {
                Term::Word(w) => format!(" {w} "),
                Term::Prefix(p) => format!(" {p}"),
                Term::Phrase(ws) => format!(" {} ", ws.join("  ")),
                Term::Substring(s) => s.clone(),
            };
            let length = pattern.chars().count().max(1);
            let bound = sql.param(pattern);
            format!("((LENGTH({spaced}) - LENGTH(REPLACE({spaced}, {bound}, ''))) / {length})")
        })
        .collect();
    if counts.is_empty() {
        return "CAST(0 AS BIGINT)".to_owned();
    }
    format!(
        "((CAST(1000000 AS BIGINT) * ({})) / {words})",
        counts.join(" + ")
    )
}

fn instant(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_others_are_refused() {
        for (c, order) in [
            (Cursor::Before(42), SearchOrder::Newest),
            (Cursor::Ranked { score: 9, id: 40 }, SearchOrder::Best),
        ] {
            assert_eq!(Cursor::decode(&c.encode(), order).unwrap(), c);
        }
        for bad in ["", "n", "n-1", "b1", "b1.x", "x12", "nabc", "b.5", "é"] {
            assert!(Cursor::decode(bad, SearchOrder::Newest).is_err(), "{bad}");
            assert!(Cursor::decode(bad, SearchOrder::Best).is_err(), "{bad}");
        }
        // A cursor of one order does not page the other.
        assert!(Cursor::decode("n5", SearchOrder::Best).is_err());
    }
}
