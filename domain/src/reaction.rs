//! Reactions (docs/RULES.md §6, "After sending"): a fixed catalogue of emoji, each set at
//! most once per person on a message, and a bound on how many different ones a message
//! holds.

use serde::{Deserialize, Serialize};

use crate::{ApiError, User};

/// The quick row, offered on every message.
pub const QUICK: [&str; 8] = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀"];

/// Everything the picker offers: the quick row first. A reaction is one of these, so a
/// reaction cannot carry text, markup or a lookalike of a name.
pub const CATALOGUE: &[&str] = &[
    "👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀", "👎", "🔥", "✅", "❌", "💯", "🚀", "🤔", "😍",
    "😅", "🙌", "👏", "🤝", "💡", "⭐", "🍕", "☕", "🐛", "📌", "😴", "🤯", "🥳", "😬", "🙈", "👋",
];

/// The most different emoji one message holds.
pub const MAX_DISTINCT: usize = 20;

/// How many of the people behind one emoji a message names (the count is always whole).
pub const NAMED_MAX: usize = 50;

/// An emoji from the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Emoji(&'static str);

impl Emoji {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        CATALOGUE
            .iter()
            .find(|e| **e == raw.trim())
            .map(|e| Self(e))
            .ok_or_else(|| {
                ApiError::invalid_field("emoji", "That is not one of the reactions on offer.")
            })
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl TryFrom<String> for Emoji {
    type Error = ApiError;
    fn try_from(raw: String) -> Result<Self, ApiError> {
        Self::parse(&raw)
    }
}

impl From<Emoji> for String {
    fn from(e: Emoji) -> Self {
        e.0.to_owned()
    }
}

/// One emoji on a message: how many set it and who (the first [`NAMED_MAX`] by time). `me`
/// says whether the person asking is among them; a frame sent to a whole room leaves it
/// false, and a client reads it from `users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionView {
    pub emoji: String,
    pub count: u32,
    #[serde(default)]
    pub me: bool,
    #[serde(default)]
    pub users: Vec<User>,
}

/// Whether adding `emoji` keeps a message within [`MAX_DISTINCT`] different emoji, given the
/// ones it holds.
pub fn may_add(held: &[String], emoji: &Emoji) -> Result<(), ApiError> {
    if held.len() >= MAX_DISTINCT && !held.iter().any(|h| h == emoji.as_str()) {
        return Err(ApiError::invalid_field(
            "emoji",
            format!(
                "A message holds at most {MAX_DISTINCT} different reactions; add to one of them."
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_catalogue_emoji_are_reactions() {
        assert_eq!(Emoji::parse("👍").unwrap().as_str(), "👍");
        assert_eq!(Emoji::parse(" 🎉 ").unwrap().as_str(), "🎉");
        for bad in ["", "x", "<b>", "👍👍", "❤", "👍\u{200D}"] {
            let e = Emoji::parse(bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("emoji"), "{bad:?}");
        }
        assert!(QUICK.iter().all(|q| CATALOGUE.contains(q)));
        let unique: std::collections::HashSet<_> = CATALOGUE.iter().collect();
        assert_eq!(unique.len(), CATALOGUE.len());
        assert!(CATALOGUE.len() > MAX_DISTINCT);
    }

    #[test]
    fn a_message_holds_a_bounded_number_of_different_emoji() {
        let held: Vec<String> = CATALOGUE[..MAX_DISTINCT]
            .iter()
            .map(|e| (*e).to_owned())
            .collect();
        let new = Emoji::parse(CATALOGUE[MAX_DISTINCT]).unwrap();
        assert!(may_add(&held, &new).is_err());
        // One already there can always be added to.
        assert!(may_add(&held, &Emoji::parse(CATALOGUE[0]).unwrap()).is_ok());
        assert!(may_add(&held[..MAX_DISTINCT - 1], &new).is_ok());
    }
}
