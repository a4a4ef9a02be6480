//! Time as the service writes it: microseconds for the rules, RFC 3339 for the API.

use chrono::{DateTime, SecondsFormat, Utc};
use domain::room::Micros;

pub fn micros(t: DateTime<Utc>) -> Micros {
    t.timestamp_micros()
}

pub fn from_micros(us: Micros) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or(DateTime::UNIX_EPOCH)
}

/// The API's time format: RFC 3339, UTC, milliseconds.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}
