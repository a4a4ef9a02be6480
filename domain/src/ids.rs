//! Ids as types of their own, so a room id can never be passed where a user id belongs: past
//! the edges every function takes `&UserId`, `&RoomId` or `MessageId`, and an id turns into
//! text only where it is stored or sent. On the wire every id is an opaque string
//! (docs/API.md, "Conventions").

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ApiError;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(raw: impl Into<String>) -> Self {
                Self(raw.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(raw: String) -> Self {
                Self(raw)
            }
        }

        impl From<&str> for $name {
            fn from(raw: &str) -> Self {
                Self(raw.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

    };
}

string_id!(
    /// A person's stable public id: others invite and ban by it.
    UserId
);
string_id!(
    /// A room's id: random, so rooms cannot be walked in sequence.
    RoomId
);
string_id!(
    /// An uploaded file's id, also its name on disk.
    FileId
);
string_id!(NotificationId);
string_id!(
    /// A report's id: random, so reports cannot be walked in sequence.
    ReportId
);
string_id!(
    /// An access token's id: how its owner names it to revoke it. Not its secret.
    TokenId
);

/// A stored message's id. Ids increase within a room in commit order, so they order a
/// room's timeline and serve as the `before`/`after` cursors of history and catch-up. On the
/// wire it is a string like every id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(i64);

impl MessageId {
    pub fn new(raw: i64) -> Self {
        Self(raw)
    }

    pub fn get(self) -> i64 {
        self.0
    }

    /// Reads a cursor a client sent back; `field` names it in the refusal.
    pub fn parse(raw: &str, field: &str) -> Result<Self, ApiError> {
        raw.trim().parse::<i64>().map(Self).map_err(|_| {
            ApiError::invalid_field(field, "That is not a message id this server gave out.")
        })
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for MessageId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for MessageId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse::<i64>()
            .map(Self)
            .map_err(|_| serde::de::Error::custom("a message id is a string of digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_ids_are_plain_strings_on_the_wire() {
        let id = RoomId::from("abc");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"abc\"");
        assert_eq!(serde_json::from_str::<RoomId>("\"abc\"").unwrap(), id);
    }

    #[test]
    fn message_ids_are_strings_on_the_wire_and_order_as_numbers() {
        let id = MessageId::new(42);
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"42\"");
        assert_eq!(serde_json::from_str::<MessageId>("\"42\"").unwrap(), id);
        assert!(serde_json::from_str::<MessageId>("\"4x\"").is_err());
        assert!(MessageId::new(9) < MessageId::new(10), "not string order");
        let err = MessageId::parse("nope", "before").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("before"));
        assert_eq!(MessageId::parse(" 7 ", "after").unwrap(), MessageId::new(7));
    }
}
