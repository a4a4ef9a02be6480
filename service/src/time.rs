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

/// The service's clock: the system time, or in tests a time they move forward, so rules
/// that end (timeouts, timed bans, slow mode) are tested without waiting for them.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Microseconds added to the system time; `None` for the plain system clock.
    offset: Option<std::sync::Arc<std::sync::atomic::AtomicI64>>,
}

impl Clock {
    /// A clock that [`Clock::advance`] moves (tests).
    pub fn adjustable() -> Self {
        Self {
            offset: Some(Default::default()),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        match &self.offset {
            Some(offset) => {
                now + chrono::Duration::microseconds(
                    offset.load(std::sync::atomic::Ordering::Relaxed),
                )
            }
            None => now,
        }
    }

    /// Moves an adjustable clock forward; the system clock is left alone (and says so).
    pub fn advance(&self, by: std::time::Duration) {
        let Some(offset) = &self.offset else {
            tracing::warn!("the system clock cannot be moved");
            return;
        };
        let us = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        offset.fetch_add(us, std::sync::atomic::Ordering::Relaxed);
    }
}
