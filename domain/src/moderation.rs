//! Timeouts, timed bans, slow mode and announcement rooms (docs/RULES.md §5, "Timeouts,
//! slow mode and announcement rooms"): the limits on what an admin may set, and
//! [`may_act`], the one rule that says whether a member may post, edit or react in a room
//! right now. The service asks it in the transaction that stores the change, with end
//! times read from the database, so no timer is ever the only source of truth.

use crate::{
    vocab::{Micros, Role},
    ApiError, ErrorCode,
};

const MINUTE: Micros = 60 * 1_000_000;

/// A timeout lasts 1 minute to 28 days.
pub const MUTE_MAX_MINUTES: u32 = 28 * 24 * 60;
/// A timed ban lasts 1 minute to a year; longer is a permanent ban.
pub const BAN_MAX_MINUTES: u32 = 365 * 24 * 60;
/// Slow mode: 0 (off) to 6 hours between one member's messages.
pub const SLOW_MODE_MAX_SECONDS: u32 = 6 * 3600;

fn minutes(field: &str, raw: i64, max: u32, what: &str) -> Result<u32, ApiError> {
    u32::try_from(raw)
        .ok()
        .filter(|m| (1..=max).contains(m))
        .ok_or_else(|| {
            ApiError::invalid_field(
                field,
                format!(
                    "{what} lasts from 1 minute to {}.",
                    wait_words(u64::from(max) * 60_000)
                ),
            )
        })
}

/// How long a timeout lasts, in minutes.
pub fn parse_mute_minutes(raw: i64) -> Result<u32, ApiError> {
    minutes("minutes", raw, MUTE_MAX_MINUTES, "A timeout")
}

/// How long a ban lasts: absent is permanent.
pub fn parse_ban_minutes(raw: Option<i64>) -> Result<Option<u32>, ApiError> {
    raw.map(|m| minutes("minutes", m, BAN_MAX_MINUTES, "A timed ban"))
        .transpose()
}

/// Ban and purge reaches back at most a week: the anti-spam action, not a history eraser.
pub const PURGE_MAX_MINUTES: u32 = 7 * 24 * 60;

/// How far back a ban's purge deletes the person's messages, in minutes; absent: none.
pub fn parse_purge_minutes(raw: Option<i64>) -> Result<Option<u32>, ApiError> {
    raw.map(|m| {
        u32::try_from(m)
            .ok()
            .filter(|m| (1..=PURGE_MAX_MINUTES).contains(m))
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "purge_minutes",
                    "A purge reaches back from 1 minute to 7 days (10080 minutes).",
                )
            })
    })
    .transpose()
}

/// The start of a purge of `minutes` back from `now`: messages sent at or after it go.
pub fn purge_since(now: Micros, minutes: u32) -> Micros {
    now.saturating_sub(Micros::from(minutes) * MINUTE)
}

/// A declined request's cooldown: up to 30 days.
pub const REQUEST_COOLDOWN_MAX_SECONDS: u32 = 30 * 86_400;

/// How long a declined requester waits to ask again, in seconds; 0: no wait.
pub fn parse_request_cooldown(raw: i64) -> Result<u32, ApiError> {
    u32::try_from(raw)
        .ok()
        .filter(|s| *s <= REQUEST_COOLDOWN_MAX_SECONDS)
        .ok_or_else(|| {
            ApiError::invalid_field(
                "request_cooldown_seconds",
                "A request cooldown is from 0 to 2592000 seconds (30 days).",
            )
        })
}

/// Slow mode's interval in seconds; 0 turns it off.
pub fn parse_slow_mode(raw: i64) -> Result<u32, ApiError> {
    u32::try_from(raw)
        .ok()
        .filter(|s| *s <= SLOW_MODE_MAX_SECONDS)
        .ok_or_else(|| {
            ApiError::invalid_field(
                "slow_mode_seconds",
                "Slow mode is from 0 (off) to 21600 seconds (6 hours).",
            )
        })
}

/// When something that lasts `minutes` from `now` ends.
pub fn ends_at(now: Micros, minutes: u32) -> Micros {
    now.saturating_add(Micros::from(minutes) * MINUTE)
}

/// A wait in words, rounded up to what a person reads: "45 s", "4 min 10 s", "2 h 5 min",
/// "3 days 4 h".
pub fn wait_words(ms: u64) -> String {
    let s = ms.div_ceil(1000).max(1);
    let (d, h, m, s) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, _) if s > 0 => format!("{m} min {s} s"),
        (0, 0, _) => format!("{m} min"),
        (0, _, 0) => format!("{h} h"),
        (0, _, _) => format!("{h} h {m} min"),
        (1, 0, _) => "1 day".to_owned(),
        (_, 0, _) => format!("{d} days"),
        (1, _, _) => format!("1 day {h} h"),
        _ => format!("{d} days {h} h"),
    }
}

/// What a member is about to do in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// A message, sticker or file.
    Post,
    Edit,
    React,
}

/// A room's posting rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoomRules {
    pub slow_mode_seconds: u32,
    pub announcement: bool,
}

/// What the rules need to know of the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Poster {
    pub role: Role,
    /// The end of their timeout, if they have one (it may have passed).
    pub muted_until: Option<Micros>,
    /// When their latest message in the room was stored.
    pub last_post_at: Option<Micros>,
}

fn ms_until(end: Micros, now: Micros) -> u64 {
    u64::try_from((end - now).div_euclid(1000).max(1)).unwrap_or(1)
}

/// Whether `poster` may do `act` in a room with `rules` at `now`. A timeout binds admins too
/// (only the owner can time out an admin); announcement rooms and slow mode do not.
pub fn may_act(rules: RoomRules, poster: Poster, act: Act, now: Micros) -> Result<(), ApiError> {
    if let Some(end) = poster.muted_until.filter(|&end| end > now) {
        let ms = ms_until(end, now);
        return Err(ApiError::new(
            ErrorCode::Muted,
            format!(
                "You are timed out in this room for another {}. You can still read it.",
                wait_words(ms)
            ),
        )
        .retry_after(ms));
    }
    if poster.role.is_admin() || act == Act::React {
        return Ok(());
    }
    if rules.announcement {
        return Err(ApiError::new(
            ErrorCode::AnnouncementOnly,
            "This is an announcement room: only its admins post. You can read and react.",
        ));
    }
    if act != Act::Post || rules.slow_mode_seconds == 0 {
        return Ok(());
    }
    let next = poster
        .last_post_at
        .map(|at| at.saturating_add(Micros::from(rules.slow_mode_seconds) * 1_000_000));
    match next.filter(|&next| next > now) {
        Some(next) => {
            let ms = ms_until(next, now);
            Err(ApiError::new(
                ErrorCode::SlowMode,
                format!(
                    "Slow mode is on: one message every {}. You can send again in {}.",
                    wait_words(u64::from(rules.slow_mode_seconds) * 1000),
                    wait_words(ms)
                ),
            )
            .retry_after(ms))
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Micros = 1_000_000;

    fn member(muted_until: Option<Micros>, last_post_at: Option<Micros>) -> Poster {
        Poster {
            role: Role::Member,
            muted_until,
            last_post_at,
        }
    }

    #[test]
    fn a_timeout_refuses_posts_edits_and_reactions_until_it_ends() {
        let rules = RoomRules::default();
        let muted = member(Some(100 * S), None);
        for act in [Act::Post, Act::Edit, Act::React] {
            let err = may_act(rules, muted, act, 40 * S).unwrap_err();
            assert_eq!(err.code, ErrorCode::Muted);
            assert_eq!(err.retry_after_ms, Some(60_000));
            assert!(may_act(rules, muted, act, 100 * S).is_ok());
        }
        let admin = Poster {
            role: Role::Admin,
            ..muted
        };
        assert_eq!(
            may_act(rules, admin, Act::Post, 0).unwrap_err().code,
            ErrorCode::Muted
        );
    }

    #[test]
    fn slow_mode_spaces_a_members_posts_and_spares_admins_and_edits() {
        let rules = RoomRules {
            slow_mode_seconds: 30,
            announcement: false,
        };
        let posted = member(None, Some(10 * S));
        let err = may_act(rules, posted, Act::Post, 25 * S).unwrap_err();
        assert_eq!(err.code, ErrorCode::SlowMode);
        assert_eq!(err.retry_after_ms, Some(15_000));
        assert!(may_act(rules, posted, Act::Post, 40 * S).is_ok());
        assert!(may_act(rules, posted, Act::Edit, 25 * S).is_ok());
        assert!(may_act(rules, member(None, None), Act::Post, 25 * S).is_ok());
        let owner = Poster {
            role: Role::Owner,
            ..posted
        };
        assert!(may_act(rules, owner, Act::Post, 25 * S).is_ok());
        let off = RoomRules::default();
        assert!(may_act(off, posted, Act::Post, 11 * S).is_ok());
    }

    #[test]
    fn announcement_rooms_let_members_react_only() {
        let rules = RoomRules {
            slow_mode_seconds: 0,
            announcement: true,
        };
        let m = member(None, None);
        for act in [Act::Post, Act::Edit] {
            assert_eq!(
                may_act(rules, m, act, 0).unwrap_err().code,
                ErrorCode::AnnouncementOnly
            );
        }
        assert!(may_act(rules, m, Act::React, 0).is_ok());
        let admin = Poster {
            role: Role::Admin,
            ..m
        };
        assert!(may_act(rules, admin, Act::Post, 0).is_ok());
    }

    #[test]
    fn limits_are_checked() {
        assert_eq!(parse_mute_minutes(5).unwrap(), 5);
        assert_eq!(parse_mute_minutes(40_320).unwrap(), 40_320);
        for bad in [0, -1, 40_321, i64::MAX] {
            assert!(parse_mute_minutes(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_ban_minutes(None).unwrap(), None);
        assert_eq!(parse_ban_minutes(Some(60)).unwrap(), Some(60));
        assert!(parse_ban_minutes(Some(0)).is_err());
        assert_eq!(parse_slow_mode(0).unwrap(), 0);
        assert_eq!(parse_slow_mode(21_600).unwrap(), 21_600);
        assert!(parse_slow_mode(21_601).is_err());
        assert!(parse_slow_mode(-1).is_err());
        assert_eq!(ends_at(0, 5), 300 * S);
        assert_eq!(parse_purge_minutes(None).unwrap(), None);
        assert_eq!(parse_purge_minutes(Some(60)).unwrap(), Some(60));
        assert_eq!(parse_purge_minutes(Some(10_080)).unwrap(), Some(10_080));
        for bad in [0, -5, 10_081, i64::MAX] {
            let err = parse_purge_minutes(Some(bad)).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("purge_minutes"), "{bad}");
        }
        assert_eq!(purge_since(3600 * S, 60), 0);
    }

    #[test]
    fn waits_read_as_people_say_them() {
        assert_eq!(wait_words(1), "1 s");
        assert_eq!(wait_words(45_000), "45 s");
        assert_eq!(wait_words(250_000), "4 min 10 s");
        assert_eq!(wait_words(300_000), "5 min");
        assert_eq!(wait_words(3_600_000), "1 h");
        assert_eq!(wait_words(7_500_000), "2 h 5 min");
        assert_eq!(wait_words(86_400_000), "1 day");
        assert_eq!(wait_words(28 * 86_400_000), "28 days");
        assert_eq!(wait_words(90_000_000), "1 day 1 h");
    }
}
