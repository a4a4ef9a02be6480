use crate::idens::{Bans, Invites, JoinRequests, Memberships, ModLog, Notifications, Rooms, Users};
use crate::statements::{cascade, drop_table, index, room_user_table};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_pk_auto, integer_null, string, string_null, text_null,
    timestamp_with_time_zone as ts, timestamp_with_time_zone_null as ts_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Rooms::Table)
                    .col(string(Rooms::Id).primary_key())
                    .col(string(Rooms::Name))
                    .col(string(Rooms::NameKey))
                    .col(text_null(Rooms::Topic))
                    .col(string(Rooms::JoinPolicy))
                    .col(integer_null(Rooms::MaxMembers))
                    .col(string(Rooms::Status))
                    .col(string(Rooms::CreatedBy))
                    .col(ts(Rooms::CreatedAt))
                    .col(ts_null(Rooms::TerminatedAt))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // Names are unique among active rooms only, ignoring case: a terminated room frees
        // its name. Enforced by the database (a partial index; SQLite and PostgreSQL agree).
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_rooms_active_name ON rooms (name_key) WHERE status = 'active'",
        )
        .await?;
        // Search: active listed rooms by name.
        let by_name = [Rooms::Status, Rooms::NameKey];
        manager
            .create_index(index("idx_rooms_status_name", Rooms::Table, by_name))
            .await?;

        let mut memberships =
            room_user_table(Memberships::Table, Memberships::RoomId, Memberships::UserId);
        memberships
            .col(string(Memberships::Role))
            .col(string(Memberships::Status))
            .col(ts(Memberships::JoinedAt))
            .col(big_integer(Memberships::JoinSeq))
            .col(ts(Memberships::FirstJoinedAt))
            .col(ts_null(Memberships::LeftAt));
        manager.create_table(memberships).await?;
        // A user's rooms; a room's members in join order.
        let rooms_of_user = [Memberships::UserId, Memberships::Status];
        let members_in_order = [
            Memberships::RoomId,
            Memberships::Status,
            Memberships::JoinSeq,
        ];
        manager
            .create_index(index(
                "idx_memberships_user",
                Memberships::Table,
                rooms_of_user,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_memberships_room_order",
                Memberships::Table,
                members_in_order,
            ))
            .await?;

        let mut requests = room_user_table(
            JoinRequests::Table,
            JoinRequests::RoomId,
            JoinRequests::UserId,
        );
        requests.col(ts(JoinRequests::CreatedAt));
        manager.create_table(requests).await?;

        let mut invites = room_user_table(Invites::Table, Invites::RoomId, Invites::UserId);
        invites
            .col(string(Invites::InvitedBy))
            .col(ts(Invites::CreatedAt))
            .col(ts(Invites::ExpiresAt));
        manager.create_table(invites).await?;
        for (name, column) in [
            ("idx_invites_user", Invites::UserId),
            ("idx_invites_expiry", Invites::ExpiresAt),
        ] {
            manager
                .create_index(index(name, Invites::Table, [column]))
                .await?;
        }

        // Bans by (room, user) are the primary key.
        let mut bans = room_user_table(Bans::Table, Bans::RoomId, Bans::UserId);
        bans.col(string(Bans::BannedBy))
            .col(text_null(Bans::Reason))
            .col(ts(Bans::CreatedAt));
        manager.create_table(bans).await?;
        manager
            .create_index(index("idx_bans_user", Bans::Table, [Bans::UserId]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(string(Notifications::Id).primary_key())
                    .col(string(Notifications::UserId))
                    .col(string(Notifications::Kind))
                    .col(string_null(Notifications::RoomId))
                    .col(string_null(Notifications::RoomName))
                    .col(string_null(Notifications::ActorId))
                    .col(text_null(Notifications::Reason))
                    .col(ts(Notifications::CreatedAt))
                    .col(ts_null(Notifications::ReadAt))
                    .foreign_key(&mut cascade(
                        Notifications::Table,
                        Notifications::UserId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        // A user's unread notifications, newest first.
        let unread_of_user = [
            Notifications::UserId,
            Notifications::ReadAt,
            Notifications::CreatedAt,
        ];
        manager
            .create_index(index(
                "idx_notifications_user",
                Notifications::Table,
                unread_of_user,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ModLog::Table)
                    .col(big_pk_auto(ModLog::Id))
                    .col(string(ModLog::RoomId))
                    .col(string(ModLog::Kind))
                    .col(string_null(ModLog::ActorId))
                    .col(string_null(ModLog::TargetId))
                    .col(text_null(ModLog::Reason))
                    .col(ts(ModLog::CreatedAt))
                    .foreign_key(&mut cascade(ModLog::Table, ModLog::RoomId, Rooms::Table))
                    .to_owned(),
            )
            .await?;
        let by_room = [ModLog::RoomId, ModLog::Id];
        manager
            .create_index(index("idx_mod_log_room", ModLog::Table, by_room))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ModLog::Table.into_iden(),
            Notifications::Table.into_iden(),
            Bans::Table.into_iden(),
            Invites::Table.into_iden(),
            JoinRequests::Table.into_iden(),
            Memberships::Table.into_iden(),
            Rooms::Table.into_iden(),
        ] {
            drop_table(manager, table).await?;
        }
        Ok(())
    }
}
