//! Parlor's integration tests: one binary (the server is linked once), a module per area.
//! Each test starts a real server on a free port with a fresh database of its own: an
//! SQLite file, or a PostgreSQL database when `PARLOR_TEST_DB=postgres`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod accounts;
mod assets;
mod auth;
mod authz;
mod backup;
mod big_room;
mod faults;
mod hardening;
mod instances;
mod live;
mod mentions_unread;
mod message_changes;
mod moderation;
mod reports;
mod rooms;
mod search;
mod second_pass;
mod tokens;
mod uploads;
