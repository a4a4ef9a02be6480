//! Schema migrations, the same for SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod idens;
mod statements;

mod m20261125_000001_accounts;
mod m20261125_000002_rooms;
mod m20261125_000003_messages;
mod m20261126_000004_account_controls;
mod m20261126_000005_admins_index;
mod m20261204_000006_name_skeletons;
mod m20261204_000007_system_line_subjects;
mod m20261205_000008_message_changes;
mod m20261205_000009_mentions_and_reading;
mod m20261206_000010_search;
mod m20261206_000011_moderation_tools;
mod m20261206_000012_reports;
mod m20261207_000013_access_tokens;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_accounts::Migration),
            Box::new(m20261125_000002_rooms::Migration),
            Box::new(m20261125_000003_messages::Migration),
            Box::new(m20261126_000004_account_controls::Migration),
            Box::new(m20261126_000005_admins_index::Migration),
            Box::new(m20261204_000006_name_skeletons::Migration),
            Box::new(m20261204_000007_system_line_subjects::Migration),
            Box::new(m20261205_000008_message_changes::Migration),
            Box::new(m20261205_000009_mentions_and_reading::Migration),
            Box::new(m20261206_000010_search::Migration),
            Box::new(m20261206_000011_moderation_tools::Migration),
            Box::new(m20261206_000012_reports::Migration),
            Box::new(m20261207_000013_access_tokens::Migration),
        ]
    }
}
