//! One file per page; the admin page, the longest, is a folder with a file per section.

pub mod account;
pub mod admin;
pub mod auth;
pub mod create;
pub mod directory;
pub mod home;
pub mod leave;
pub mod message_delete;
pub mod message_edit;
pub mod message_react;
pub mod message_versions;
pub mod not_found;
pub mod notifications;
pub mod room;
