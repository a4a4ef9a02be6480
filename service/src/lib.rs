//! Parlor's use cases. Each one loads what it needs, lets `domain` decide, saves in one
//! transaction and publishes to the hub. Server only.

pub mod access;
pub mod accounts;
pub mod db;
pub mod error;
pub mod housekeeping;
pub mod hub;
pub mod ids;
pub mod limits;
pub mod mentions;
pub mod messages;
pub mod notifications;
pub mod reading;
pub mod reports;
pub mod rooms;
pub mod session_store;
mod settle;
pub mod time;
pub mod timeline;
pub mod tokens;
pub mod tx;
pub mod users;

pub use accounts::Accounts;
pub use error::ServiceError;
pub use messages::Messages;
pub use notifications::Notifications;
pub use reports::Reports;
pub use rooms::Rooms;
pub use tokens::Tokens;
