//! Timeouts, timed bans, slow mode and announcement rooms (docs/RULES.md §5, "Timeouts,
//! slow mode and announcement rooms"). `mutes` holds one timeout per person and room with
//! its end; `bans.until` ends a timed ban (NULL: never). Both stay stored past their end
//! until housekeeping records the ending, and every check compares the end with the time.
//! `mod_log.until` keeps the end a timeout or timed ban was given. After a declined request,
//! `request_cooldowns` says when that person may ask again; `rooms.request_cooldown_seconds`
//! is how long that is (24 hours unless the room says otherwise).

use crate::idens::{Bans, ModLog, Mutes, RequestCooldowns, Rooms};
use crate::statements::{add_column, drop_column, drop_index, drop_table, index, room_user_table};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, integer, string_null, text_null, timestamp_with_time_zone as ts,
    timestamp_with_time_zone_null as ts_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            (
                Rooms::Table.into_iden(),
                integer(Rooms::SlowModeSeconds).default(0).to_owned(),
            ),
            (
                Rooms::Table.into_iden(),
                boolean(Rooms::Announcement).default(false).to_owned(),
            ),
            (
                Rooms::Table.into_iden(),
                integer(Rooms::RequestCooldownSeconds)
                    .default(86_400)
                    .to_owned(),
            ),
            (Bans::Table.into_iden(), ts_null(Bans::Until)),
            (ModLog::Table.into_iden(), ts_null(ModLog::Until)),
        ];
        for (table, column) in columns {
            add_column(manager, table, column).await?;
        }
        let mut mutes = room_user_table(Mutes::Table, Mutes::RoomId, Mutes::UserId);
        mutes
            .col(string_null(Mutes::MutedBy))
            .col(text_null(Mutes::Reason))
            .col(ts(Mutes::Until))
            .col(ts(Mutes::CreatedAt));
        manager.create_table(mutes).await?;
        let mut cooldowns = room_user_table(
            RequestCooldowns::Table,
            RequestCooldowns::RoomId,
            RequestCooldowns::UserId,
        );
        cooldowns.col(ts(RequestCooldowns::Until));
        manager.create_table(cooldowns).await?;
        // Housekeeping finds what ran out by its end time.
        manager
            .create_index(index("idx_mutes_until", Mutes::Table, [Mutes::Until]))
            .await?;
        manager
            .create_index(index("idx_bans_until", Bans::Table, [Bans::Until]))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_index(manager, Mutes::Table, "idx_mutes_until").await?;
        drop_index(manager, Bans::Table, "idx_bans_until").await?;
        drop_table(manager, Mutes::Table).await?;
        drop_table(manager, RequestCooldowns::Table).await?;
        for (table, column) in [
            (Rooms::Table.into_iden(), Rooms::SlowModeSeconds.into_iden()),
            (Rooms::Table.into_iden(), Rooms::Announcement.into_iden()),
            (
                Rooms::Table.into_iden(),
                Rooms::RequestCooldownSeconds.into_iden(),
            ),
            (Bans::Table.into_iden(), Bans::Until.into_iden()),
            (ModLog::Table.into_iden(), ModLog::Until.into_iden()),
        ] {
            drop_column(manager, table, column).await?;
        }
        Ok(())
    }
}
