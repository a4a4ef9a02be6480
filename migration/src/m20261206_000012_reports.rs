//! Reports (docs/RULES.md §5, "Reports"): `reports` holds one row per report, at most one per
//! person and message (a unique index decides), with who wrote the message when it was
//! reported, why, and how it was resolved. Its indexes serve a room's queue (by status and
//! time) and the reporter's rate (their reports by time). `mod_log.report_id` ties an
//! action taken from a report to it.

use crate::idens::{Messages, ModLog, Reports, Rooms, Users};
use crate::statements::{add_column, cascade, drop_column, drop_index, drop_table, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, string, string_null, text_null, timestamp_with_time_zone as ts,
    timestamp_with_time_zone_null as ts_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &[Reports], bool); 3] = [
    (
        "idx_reports_message_reporter",
        &[Reports::MessageId, Reports::ReporterId],
        true,
    ),
    (
        "idx_reports_room_queue",
        &[Reports::RoomId, Reports::Status, Reports::CreatedAt],
        false,
    ),
    (
        "idx_reports_reporter_time",
        &[Reports::ReporterId, Reports::CreatedAt],
        false,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Reports::Table)
                    .col(string(Reports::Id).primary_key())
                    .col(string(Reports::RoomId))
                    .col(big_integer(Reports::MessageId))
                    .col(string_null(Reports::AuthorId))
                    .col(string(Reports::ReporterId))
                    .col(string(Reports::Reason))
                    .col(text_null(Reports::Text))
                    .col(string(Reports::Status).default("open"))
                    .col(string_null(Reports::Action))
                    .col(string_null(Reports::ResolvedBy))
                    .col(ts_null(Reports::ResolvedAt))
                    .col(ts(Reports::CreatedAt))
                    .foreign_key(&mut cascade(Reports::Table, Reports::RoomId, Rooms::Table))
                    .foreign_key(&mut cascade(
                        Reports::Table,
                        Reports::MessageId,
                        Messages::Table,
                    ))
                    .foreign_key(&mut cascade(
                        Reports::Table,
                        Reports::ReporterId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, columns, unique) in INDEXES {
            let mut index = index(name, Reports::Table, columns.iter().copied());
            if unique {
                index.unique();
            }
            manager.create_index(index).await?;
        }
        add_column(manager, ModLog::Table, string_null(ModLog::ReportId)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, ModLog::Table, ModLog::ReportId).await?;
        for (name, _, _) in INDEXES {
            drop_index(manager, Reports::Table, name).await?;
        }
        drop_table(manager, Reports::Table).await
    }
}
