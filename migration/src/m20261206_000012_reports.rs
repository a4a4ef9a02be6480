//! Reports (docs/RULES.md §5, "Reports"): `reports` holds one row per report, at most one per
//! person and message (a unique index decides), with who wrote the message when it was
//! reported, why, and how it was resolved. Its indexes serve a room's queue (by status and
//! time) and the reporter's rate (their reports by time). `mod_log.report_id` ties an
//! action taken from a report to it.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000012_reports"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Reports {
    Table,
    Id,
    RoomId,
    MessageId,
    AuthorId,
    ReporterId,
    Reason,
    Text,
    Status,
    Action,
    ResolvedBy,
    ResolvedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Rooms {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Messages {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum ModLog {
    Table,
    ReportId,
}

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
                    .col(
                        ColumnDef::new(Reports::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Reports::RoomId).string().not_null())
                    .col(ColumnDef::new(Reports::MessageId).big_integer().not_null())
                    .col(ColumnDef::new(Reports::AuthorId).string().null())
                    .col(ColumnDef::new(Reports::ReporterId).string().not_null())
                    .col(ColumnDef::new(Reports::Reason).string().not_null())
                    .col(ColumnDef::new(Reports::Text).text().null())
                    .col(
                        ColumnDef::new(Reports::Status)
                            .string()
                            .not_null()
                            .default("open"),
                    )
                    .col(ColumnDef::new(Reports::Action).string().null())
                    .col(ColumnDef::new(Reports::ResolvedBy).string().null())
                    .col(
                        ColumnDef::new(Reports::ResolvedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Reports::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Reports::Table, Reports::RoomId)
                            .to(Rooms::Table, Rooms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Reports::Table, Reports::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Reports::Table, Reports::ReporterId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in INDEXES {
            let mut index = Index::create();
            index.name(name).table(Reports::Table);
            for col in cols {
                index.col(*col);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(ModLog::Table)
                    .add_column(ColumnDef::new(ModLog::ReportId).string().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ModLog::Table)
                    .drop_column(ModLog::ReportId)
                    .to_owned(),
            )
            .await?;
        for (name, _, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Reports::Table).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Reports::Table).to_owned())
            .await
    }
}
