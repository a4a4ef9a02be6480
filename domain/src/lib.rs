//! Parlor's pure core: validated input types, the wire types shared by server and
//! browser, and the stable error codes. No async, no database, no UI framework, so every
//! rule here is tested with plain `#[test]`s and compiles to WebAssembly unchanged.
//!
//! The `sea-orm` feature (server only) adds nothing but derives: the stored enums become
//! SeaORM active enums, so the entities hold these very types, stored as their snake_case
//! names.

/// A word stored and sent as its snake_case name: the wire's serde spelling and the
/// database's (a SeaORM active enum, with the `sea-orm` feature) come from one definition,
/// so the two cannot drift apart. Extra derives and docs go inside, before the `enum`.
macro_rules! stored_word {
    ($(#[$attr:meta])* $vis:vis enum $name:ident $variants:tt) => {
        $(#[$attr])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(
            feature = "sea-orm",
            derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum)
        )]
        #[cfg_attr(
            feature = "sea-orm",
            sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")
        )]
        $vis enum $name $variants
    };
}

pub mod access;
pub mod changes;
pub mod effects;
pub mod error;
pub mod format;
pub mod ids;
pub mod mention;
pub mod message;
pub mod moderation;
pub mod reaction;
pub mod report;
pub mod room;
pub mod search;
pub mod text;
pub mod token;
pub mod user;
pub mod views;
pub mod vocab;
pub mod wire;

pub use error::{ApiError, ErrorCode};
pub use ids::{FileId, MessageId, NotificationId, ReportId, RoomId, TokenId, UserId};
pub use user::{Password, User, Username};
