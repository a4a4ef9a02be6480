//! SeaORM entities: one module per table. Server only; the browser never compiles this.

pub mod access_token;
pub mod ban;
pub mod file;
pub mod invite;
pub mod join_request;
pub mod membership;
pub mod mention;
pub mod message;
pub mod message_version;
pub mod mod_log;
pub mod mute;
pub mod notification;
pub mod reaction;
pub mod report;
pub mod request_cooldown;
pub mod room;
pub mod session;
pub mod user;
