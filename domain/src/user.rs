//! Accounts (docs/RULES.md §1): validated usernames and passwords, and the public `user` object.

use serde::{Deserialize, Serialize};

use crate::{ApiError, UserId};

/// The public face of an account: `{id, username}`. `id` is stable and opaque; others use it
/// (or the username) to invite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
}

/// The name a deleted account shows wherever it wrote. It has a space, so it is never a
/// username anyone holds or can take.
pub const DELETED_USERNAME: &str = "deleted user";

/// 3–32 characters of ASCII letters, digits, `_`, `.`, `-`. Unique ignoring case: [`key`]
/// is the form the database keeps unique.
///
/// [`key`]: Username::key
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MIN: usize = 3;
    pub const MAX: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let name = raw.trim();
        let len = name.chars().count();
        if len == 0 {
            return Err(ApiError::invalid_field("username", "Enter a username."));
        }
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(ApiError::invalid_field(
                "username",
                format!(
                    "A username is {} to {} characters long; this one has {len}.",
                    Self::MIN,
                    Self::MAX
                ),
            ));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        {
            return Err(ApiError::invalid_field(
                "username",
                format!(
                    "A username may use letters, digits, '_', '.' and '-' only; '{bad}' is not allowed."
                ),
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-folded form that must be unique.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// 8–128 characters. Never trimmed: spaces are part of a password. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let len = raw.chars().count();
        if len == 0 {
            return Err(ApiError::invalid_field("password", "Enter a password."));
        }
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(ApiError::invalid_field(
                "password",
                format!(
                    "A password is {} to {} characters long.",
                    Self::MIN,
                    Self::MAX
                ),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn username_error(raw: &str) -> ApiError {
        Username::parse(raw).expect_err(raw)
    }

    #[test]
    fn accepts_the_allowed_alphabet_at_both_length_limits() {
        assert_eq!(Username::parse("abc").unwrap().as_str(), "abc");
        let longest = "a".repeat(32);
        assert_eq!(Username::parse(&longest).unwrap().as_str(), longest);
        assert_eq!(Username::parse("Ann_B.c-9").unwrap().as_str(), "Ann_B.c-9");
    }

    #[test]
    fn the_deleted_accounts_name_is_no_ones_username() {
        assert!(Username::parse(DELETED_USERNAME).is_err());
    }

    #[test]
    fn trims_surrounding_spaces() {
        assert_eq!(Username::parse("  bob  ").unwrap().as_str(), "bob");
    }

    #[test]
    fn refuses_empty_short_long_and_bad_characters_with_a_field_error() {
        for raw in [
            "",
            "   ",
            "ab",
            &"a".repeat(33),
            "bad name",
            "ünï",
            "a/b",
            "<script>",
        ] {
            let err = username_error(raw);
            assert_eq!(err.code, ErrorCode::InvalidInput, "{raw:?}");
            assert_eq!(err.field.as_deref(), Some("username"), "{raw:?}");
            assert!(!err.message.is_empty());
        }
    }

    #[test]
    fn key_folds_case_so_uniqueness_ignores_it() {
        assert_eq!(
            Username::parse("Alice").unwrap().key(),
            Username::parse("aLICE").unwrap().key()
        );
    }

    #[test]
    fn password_length_limits_count_characters_not_bytes() {
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"é".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        let err = Password::parse("1234567").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("password"));
        assert_eq!(
            Password::parse("").unwrap_err().code,
            ErrorCode::InvalidInput
        );
    }

    #[test]
    fn password_debug_never_shows_the_secret() {
        let p = Password::parse("hunter2hunter2").unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
