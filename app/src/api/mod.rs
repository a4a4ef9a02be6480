//! Server functions, one per API verb. The JSON ones are the contract of API.md; the
//! `*_form` twins take the url-encoded bodies of pages' forms (so they work with
//! JavaScript off) and call the same code.

pub mod auth;
pub mod forms;
pub mod messages;
pub mod notifications;
pub mod overview;
pub mod rooms;
pub mod tokens;
