//! Parlor's use cases. Each one loads what it needs, lets `domain` decide, saves in one
//! transaction and (later) publishes to the hub. Server only.

pub mod accounts;
pub mod db;
pub mod error;
pub mod ids;
pub mod session_store;

pub use accounts::Accounts;
pub use error::ServiceError;
