//! Personal access tokens (docs/RULES.md §1, "Access tokens"): a script or the terminal
//! client acts as its owner with `Authorization: Bearer <token>`, within the token's scope.
//! The pure rules: what a scope allows, which requests need which reach, and what a new
//! token may be called and how long it may live.

use serde::{Deserialize, Serialize};

use crate::{ApiError, ErrorCode};

stored_word! {
    /// What a token may do. Never account changes: no scope reaches those.
    pub enum TokenScope {
        /// Reads: rooms, messages, members, notifications, the live channel's frames.
        Read,
        /// Reads, and everything a member or admin does in rooms: send, join, moderate.
        Write,
    }
}

impl TokenScope {
    pub const ALL: [Self; 2] = [Self::Read, Self::Write];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw.trim())
            .ok_or_else(|| {
                ApiError::invalid_field("scope", "A token's scope is \"read\" or \"write\".")
            })
    }

    /// Whether a request that needs `reach` may go ahead on this scope.
    pub fn permits(self, reach: Reach) -> Result<(), ApiError> {
        match (self, reach) {
            (_, Reach::Read) | (Self::Write, Reach::Write) => Ok(()),
            (Self::Read, Reach::Write) => Err(insufficient_scope(
                "This token may only read. Create one with the write scope to do this.",
            )),
            (_, Reach::Account) => Err(insufficient_scope(
                "Access tokens cannot change the account, its sessions or its tokens. Sign in \
                 with your password to do this.",
            )),
        }
    }
}

fn insufficient_scope(message: &str) -> ApiError {
    ApiError::new(ErrorCode::InsufficientScope, message)
}

/// What a request needs of the credential that makes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// It changes nothing.
    Read,
    /// It changes rooms, messages or the caller's place in them.
    Write,
    /// It changes the account itself (password, sessions, tokens, deletion): a password
    /// session only.
    Account,
}

/// The API endpoints (past `/api/`) that change nothing.
pub const READS: &[&str] = &[
    "auth/me",
    "me/overview",
    "messages/around",
    "messages/colors",
    "messages/get",
    "messages/history",
    "messages/search",
    "messages/since",
    "messages/versions",
    "notifications/list",
    "rooms/admin",
    "rooms/bans",
    "rooms/get",
    "rooms/invites",
    "rooms/log",
    "rooms/members",
    "rooms/mine",
    "rooms/open",
    "rooms/previous",
    "rooms/reports",
    "rooms/requests",
    "rooms/search",
    "stickers/list",
    "users/search",
];

/// The API endpoints (past `/api/`) that act in rooms: what the write scope adds.
pub const WRITES: &[&str] = &[
    "invites/accept",
    "invites/decline",
    "messages/delete",
    "messages/edit",
    "messages/react",
    "messages/report",
    "messages/send",
    "notifications/read",
    "rooms/approve",
    "rooms/ban",
    "rooms/create",
    "rooms/demote",
    "rooms/deny",
    "rooms/invite",
    "rooms/join",
    "rooms/kick",
    "rooms/leave",
    "rooms/mute",
    "rooms/promote",
    "rooms/read",
    "rooms/resolve",
    "rooms/transfer",
    "rooms/unban",
    "rooms/unmute",
    "rooms/update",
    "uploads",
];

/// The reach a request needs, by its method and path. An API endpoint is a read or a write
/// only when it is listed as one: anything else there (the account's endpoints, the pages'
/// form twins, one added later and not yet weighed) needs a password session. Outside the
/// API, a GET reads (pages, files, the live channel, whose frames are weighed one by one)
/// and anything else writes.
pub fn reach_of(method: &str, path: &str) -> Reach {
    match path.strip_prefix("/api/") {
        Some(endpoint) if READS.contains(&endpoint) => Reach::Read,
        Some(endpoint) if WRITES.contains(&endpoint) => Reach::Write,
        Some(_) => Reach::Account,
        None if method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD") => {
            Reach::Read
        }
        None => Reach::Write,
    }
}

/// The longest token name, in characters.
pub const NAME_MAX: usize = 60;
/// The longest a token may live, in days (`days` absent: until revoked).
pub const DAYS_MAX: u32 = 365;
/// How many tokens one account may hold at once.
pub const PER_USER_MAX: u64 = 50;

/// A new token's name: 1 to 60 characters, no control characters; trimmed.
pub fn parse_name(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    let length = name.chars().count();
    if length == 0 || length > NAME_MAX || name.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            "name",
            format!(
                "Give the token a name of 1 to {NAME_MAX} characters, so you know it in the list."
            ),
        ));
    }
    Ok(name.to_owned())
}

/// A new token's lifetime in days: 1 to 365, or none (until revoked).
pub fn parse_days(days: Option<u32>) -> Result<Option<u32>, ApiError> {
    match days {
        Some(d) if d == 0 || d > DAYS_MAX => Err(ApiError::invalid_field(
            "days",
            format!("A token lives 1 to {DAYS_MAX} days, or until revoked (leave days out)."),
        )),
        other => Ok(other),
    }
}

/// The prefix every token starts with, so a leaked one is recognisable (and a secret
/// scanner can find it).
pub const PREFIX: &str = "parlor_";

/// A token as its owner sees it in the list: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: crate::TokenId,
    pub name: String,
    pub scope: TokenScope,
    pub created_at: String,
    /// Null: until revoked.
    pub expires_at: Option<String>,
    /// Null: never used.
    pub last_used_at: Option<String>,
    /// Past its `expires_at`: it no longer works, and stays listed until revoked.
    #[serde(default)]
    pub expired: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_token_reads_a_write_token_acts_and_neither_touches_the_account() {
        use Reach::*;
        use TokenScope as S;
        assert!(S::Read.permits(Read).is_ok());
        assert!(S::Write.permits(Read).is_ok());
        assert!(S::Write.permits(Write).is_ok());
        for (scope, reach) in [(S::Read, Write), (S::Read, Account), (S::Write, Account)] {
            let err = scope.permits(reach).unwrap_err();
            assert_eq!(
                err.code,
                ErrorCode::InsufficientScope,
                "{scope:?} {reach:?}"
            );
        }
    }

    #[test]
    fn requests_are_weighed_by_endpoint_and_an_unlisted_endpoint_needs_a_password() {
        assert_eq!(reach_of("POST", "/api/rooms/mine"), Reach::Read);
        assert_eq!(reach_of("POST", "/api/messages/send"), Reach::Write);
        assert_eq!(reach_of("POST", "/api/uploads"), Reach::Write);
        for account in [
            "/api/auth/password",
            "/api/auth/delete",
            "/api/auth/logout",
            "/api/auth/logout_all",
            "/api/auth/login",
            "/api/tokens/create",
            "/api/tokens/list",
            "/api/tokens/revoke",
            "/api/form/messages/send",
            "/api/form/password",
            "/api/something/new",
        ] {
            assert_eq!(reach_of("POST", account), Reach::Account, "{account}");
        }
        assert_eq!(reach_of("GET", "/ws"), Reach::Read);
        assert_eq!(reach_of("GET", "/files/abc"), Reach::Read);
        assert_eq!(reach_of("GET", "/rooms/r1/log.csv"), Reach::Read);
        assert_eq!(reach_of("POST", "/rooms/r1"), Reach::Write);
        // No endpoint is both.
        assert!(READS.iter().all(|r| !WRITES.contains(r)));
    }

    #[test]
    fn names_and_lifetimes_are_bounded() {
        assert_eq!(parse_name("  ci bot ").unwrap(), "ci bot");
        for bad in ["", "   ", "tab\tname", &"x".repeat(NAME_MAX + 1)] {
            assert!(parse_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_name(&"é".repeat(NAME_MAX)).unwrap().chars().count(),
            NAME_MAX
        );
        assert_eq!(parse_days(None).unwrap(), None);
        assert_eq!(parse_days(Some(30)).unwrap(), Some(30));
        assert!(parse_days(Some(0)).is_err());
        assert!(parse_days(Some(DAYS_MAX + 1)).is_err());
        assert_eq!(TokenScope::parse("write").unwrap(), TokenScope::Write);
        assert!(TokenScope::parse("admin").is_err());
    }
}
