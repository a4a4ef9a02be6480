//! Parlor's pure core: validated input types, the wire types shared by server and
//! browser, and the stable error codes. No async, no database, no UI framework, so every
//! rule here is tested with plain `#[test]`s and compiles to WebAssembly unchanged.

pub mod effects;
pub mod error;
pub mod message;
pub mod room;
pub mod user;
pub mod views;
pub mod wire;

pub use error::{ApiError, ErrorCode};
pub use user::{Password, User, Username};
