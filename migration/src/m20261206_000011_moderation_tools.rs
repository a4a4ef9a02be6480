//! Timeouts, timed bans, slow mode and announcement rooms (docs/RULES.md §5, "Timeouts,
//! slow mode and announcement rooms"). `mutes` holds one timeout per person and room with
//! its end; `bans.until` ends a timed ban (NULL: never). Both stay stored past their end
//! until housekeeping records the ending, and every check compares the end with the time.
//! `mod_log.until` keeps the end a timeout or timed ban was given. After a declined request,
//! `request_cooldowns` says when that person may ask again; `rooms.request_cooldown_seconds`
//! is how long that is (24 hours unless the room says otherwise).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000011_moderation_tools"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Rooms {
    Table,
    Id,
    SlowModeSeconds,
    Announcement,
    RequestCooldownSeconds,
}

#[derive(DeriveIden, Clone, Copy)]
enum RequestCooldowns {
    Table,
    RoomId,
    UserId,
    Until,
}

#[derive(DeriveIden, Clone, Copy)]
enum Bans {
    Table,
    Until,
}

#[derive(DeriveIden, Clone, Copy)]
enum ModLog {
    Table,
    Until,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Mutes {
    Table,
    RoomId,
    UserId,
    MutedBy,
    Reason,
    Until,
    CreatedAt,
}

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        let columns = [
            (
                Rooms::Table.into_iden(),
                ColumnDef::new(Rooms::SlowModeSeconds)
                    .integer()
                    .not_null()
                    .default(0)
                    .to_owned(),
            ),
            (
                Rooms::Table.into_iden(),
                ColumnDef::new(Rooms::Announcement)
                    .boolean()
                    .not_null()
                    .default(false)
                    .to_owned(),
            ),
            (
                Rooms::Table.into_iden(),
                ColumnDef::new(Rooms::RequestCooldownSeconds)
                    .integer()
                    .not_null()
                    .default(86_400)
                    .to_owned(),
            ),
            (
                Bans::Table.into_iden(),
                ColumnDef::new(Bans::Until)
                    .timestamp_with_time_zone()
                    .null()
                    .to_owned(),
            ),
            (
                ModLog::Table.into_iden(),
                ColumnDef::new(ModLog::Until)
                    .timestamp_with_time_zone()
                    .null()
                    .to_owned(),
            ),
        ];
        for (table, mut column) in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Mutes::Table)
                    .col(ColumnDef::new(Mutes::RoomId).string().not_null())
                    .col(ColumnDef::new(Mutes::UserId).string().not_null())
                    .col(ColumnDef::new(Mutes::MutedBy).string().null())
                    .col(ColumnDef::new(Mutes::Reason).text().null())
                    .col(ts(Mutes::Until))
                    .col(ts(Mutes::CreatedAt))
                    .primary_key(Index::create().col(Mutes::RoomId).col(Mutes::UserId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Mutes::Table, Mutes::RoomId)
                            .to(Rooms::Table, Rooms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Mutes::Table, Mutes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RequestCooldowns::Table)
                    .col(ColumnDef::new(RequestCooldowns::RoomId).string().not_null())
                    .col(ColumnDef::new(RequestCooldowns::UserId).string().not_null())
                    .col(ts(RequestCooldowns::Until))
                    .primary_key(
                        Index::create()
                            .col(RequestCooldowns::RoomId)
                            .col(RequestCooldowns::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RequestCooldowns::Table, RequestCooldowns::RoomId)
                            .to(Rooms::Table, Rooms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RequestCooldowns::Table, RequestCooldowns::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Housekeeping finds what ran out by its end time.
        for (name, table, col) in [
            (
                "idx_mutes_until",
                Mutes::Table.into_iden(),
                Mutes::Until.into_iden(),
            ),
            (
                "idx_bans_until",
                Bans::Table.into_iden(),
                Bans::Until.into_iden(),
            ),
        ] {
            manager
                .create_index(Index::create().name(name).table(table).col(col).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("idx_mutes_until", Mutes::Table.into_iden()),
            ("idx_bans_until", Bans::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Mutes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RequestCooldowns::Table).to_owned())
            .await?;
        for (table, col) in [
            (Rooms::Table.into_iden(), Rooms::SlowModeSeconds.into_iden()),
            (Rooms::Table.into_iden(), Rooms::Announcement.into_iden()),
            (
                Rooms::Table.into_iden(),
                Rooms::RequestCooldownSeconds.into_iden(),
            ),
            (Bans::Table.into_iden(), Bans::Until.into_iden()),
            (ModLog::Table.into_iden(), ModLog::Until.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
