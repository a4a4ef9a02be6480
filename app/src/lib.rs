#![recursion_limit = "256"]
//! Parlor's pages and server functions. Compiled twice: with `ssr` into the server, with
//! `hydrate` into the browser bundle. Server functions are thin: they find the caller and
//! the services, call one service, and shape the answer.

pub mod api;
pub mod desktop;
pub mod error;
pub mod live;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod store;
pub mod ui;

pub use error::AppError;
pub use ui::{shell, App};
