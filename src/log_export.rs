//! `GET /rooms/{id}/log.csv` (docs/API.md, "Moderation log"): a room's moderation log as a
//! CSV file, for its admins, narrowed by the same filter as the log on the admin page
//! (`kind`, `actor`, `target`). A plain link, so it works without JavaScript.

use app::{
    ssr::{error_response, CurrentUser},
    AppError,
};
use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use domain::{effects::LogKind, views::LogEntryView, ApiError, RoomId, User};
use serde::Deserialize;
use service::{rooms::LogFilter, Rooms};

#[derive(Debug, Default, Deserialize)]
pub struct LogCsvQuery {
    kind: Option<String>,
    actor: Option<String>,
    target: Option<String>,
}

pub async fn download(
    State(rooms): State<Rooms>,
    caller: Result<CurrentUser, AppError>,
    Path(room_id): Path<String>,
    Query(query): Query<LogCsvQuery>,
) -> Response {
    let user = match caller {
        Ok(caller) => caller.user,
        Err(refused) => return refused.into_response(),
    };
    let kind = match query
        .kind
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        None => None,
        Some(k) => match serde_json::from_value::<LogKind>(serde_json::Value::String(k.to_owned()))
        {
            Ok(kind) => Some(kind),
            Err(_) => {
                return error_response(&ApiError::invalid_field(
                    "kind",
                    "That is not a kind of log entry.",
                ))
            }
        },
    };
    fn named(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|n| !n.is_empty())
    }
    let filter = LogFilter {
        kind,
        actor: named(&query.actor),
        target: named(&query.target),
    };
    let room_id = RoomId::from(room_id);
    let entries = match rooms.log_export(&user.id, &room_id, &filter).await {
        Ok(entries) => entries,
        Err(e) => return error_response(&ApiError::from(e)),
    };
    let mut res = log_csv(&entries).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    // Room ids are ours and alphanumeric; anything else becomes a plain name.
    let safe: String = room_id
        .as_str()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(40)
        .collect();
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"parlor-log-{safe}.csv\""))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The moderation log as CSV (RFC 4180, a header row, CRLF line ends), for an admin's
/// download: time, kind, who acted, who it was done to, the reason, the end of a timeout
/// or timed ban, and the report it resolved. People are named by username (empty when the
/// account is gone). A cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`,
/// a tab or a carriage return first) is given a leading `'`, so a reason typed by anyone
/// stays text when opened.
pub fn log_csv(entries: &[LogEntryView]) -> String {
    fn cell(raw: &str) -> String {
        let guarded = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{raw}")
        } else {
            raw.to_owned()
        };
        if guarded.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", guarded.replace('"', "\"\""))
        } else {
            guarded
        }
    }
    let name = |u: &Option<User>| u.as_ref().map(|u| u.username.clone()).unwrap_or_default();
    let mut out = String::from("created_at,kind,actor,target,reason,until,report_id\r\n");
    for e in entries {
        let kind = serde_json::to_value(e.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let row = [
            e.created_at.clone(),
            kind,
            name(&e.actor),
            name(&e.target),
            e.reason.clone().unwrap_or_default(),
            e.until.clone().unwrap_or_default(),
            e.report_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        ];
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::User;

    fn entry(reason: Option<&str>) -> LogEntryView {
        LogEntryView {
            id: "1".into(),
            kind: LogKind::Banned,
            actor: Some(User {
                id: "u1".into(),
                username: "ana".into(),
            }),
            target: None,
            reason: reason.map(str::to_owned),
            created_at: "2026-12-06T10:00:00Z".into(),
            until: None,
            report_id: None,
        }
    }

    #[test]
    fn the_log_is_csv_with_quoting_and_no_formulas() {
        let csv = log_csv(&[
            entry(Some("spam, twice \"again\"\nand again")),
            entry(Some("=HYPERLINK(\"x\")")),
            entry(None),
        ]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "created_at,kind,actor,target,reason,until,report_id"
        );
        assert_eq!(
            lines[1],
            "2026-12-06T10:00:00Z,banned,ana,,\"spam, twice \"\"again\"\"\nand again\",,"
        );
        assert_eq!(
            lines[2],
            "2026-12-06T10:00:00Z,banned,ana,,\"'=HYPERLINK(\"\"x\"\")\",,"
        );
        assert_eq!(lines[3], "2026-12-06T10:00:00Z,banned,ana,,,,");
        assert_eq!(lines[4], "");
        assert_eq!(lines.len(), 5);
    }
}
