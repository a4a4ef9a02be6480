//! One file per page.

pub mod account;
pub mod admin;
pub mod auth;
pub mod create;
pub mod directory;
pub mod home;
pub mod leave;
pub mod not_found;
pub mod notifications;
pub mod room;
