use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Rooms {
    Table,
    Id,
    Name,
    NameKey,
    Topic,
    JoinPolicy,
    MaxMembers,
    Status,
    CreatedBy,
    CreatedAt,
    TerminatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Memberships {
    Table,
    RoomId,
    UserId,
    Role,
    Status,
    JoinedAt,
    JoinSeq,
    FirstJoinedAt,
    LeftAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum JoinRequests {
    Table,
    RoomId,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Invites {
    Table,
    RoomId,
    UserId,
    InvitedBy,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Bans {
    Table,
    RoomId,
    UserId,
    BannedBy,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    RoomId,
    RoomName,
    ActorId,
    Reason,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ModLog {
    Table,
    Id,
    RoomId,
    Kind,
    ActorId,
    TargetId,
    Reason,
    CreatedAt,
}

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn fk_room(table: impl IntoIden + Clone, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Rooms::Table, Rooms::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn fk_user(table: impl IntoIden + Clone, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// A table keyed by (room, user), the shape of memberships, requests, invites and bans.
fn room_user_table(
    table: impl IntoIden + Clone,
    room: impl IntoIden + Clone,
    user: impl IntoIden + Clone,
) -> TableCreateStatement {
    Table::create()
        .table(table.clone())
        .col(ColumnDef::new(room.clone()).string().not_null())
        .col(ColumnDef::new(user.clone()).string().not_null())
        .primary_key(Index::create().col(room.clone()).col(user.clone()))
        .foreign_key(&mut fk_room(table.clone(), room))
        .foreign_key(&mut fk_user(table, user))
        .to_owned()
}

fn index(name: &str, table: impl IntoIden, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut idx = Index::create().name(name).table(table).to_owned();
    for col in cols {
        idx.col(col);
    }
    idx
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Rooms::Table)
                    .col(ColumnDef::new(Rooms::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(Rooms::Name).string().not_null())
                    .col(ColumnDef::new(Rooms::NameKey).string().not_null())
                    .col(ColumnDef::new(Rooms::Topic).text().null())
                    .col(ColumnDef::new(Rooms::JoinPolicy).string().not_null())
                    .col(ColumnDef::new(Rooms::MaxMembers).integer().null())
                    .col(ColumnDef::new(Rooms::Status).string().not_null())
                    .col(ColumnDef::new(Rooms::CreatedBy).string().not_null())
                    .col(ts(Rooms::CreatedAt))
                    .col(
                        ColumnDef::new(Rooms::TerminatedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
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
        manager
            .create_index(index(
                "idx_rooms_status_name",
                Rooms::Table,
                vec![Rooms::Status.into_iden(), Rooms::NameKey.into_iden()],
            ))
            .await?;

        let mut memberships =
            room_user_table(Memberships::Table, Memberships::RoomId, Memberships::UserId);
        memberships
            .col(ColumnDef::new(Memberships::Role).string().not_null())
            .col(ColumnDef::new(Memberships::Status).string().not_null())
            .col(ts(Memberships::JoinedAt))
            .col(
                ColumnDef::new(Memberships::JoinSeq)
                    .big_integer()
                    .not_null(),
            )
            .col(ts(Memberships::FirstJoinedAt))
            .col(
                ColumnDef::new(Memberships::LeftAt)
                    .timestamp_with_time_zone()
                    .null(),
            );
        manager.create_table(memberships).await?;
        // A user's rooms; a room's members in join order.
        manager
            .create_index(index(
                "idx_memberships_user",
                Memberships::Table,
                vec![
                    Memberships::UserId.into_iden(),
                    Memberships::Status.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_memberships_room_order",
                Memberships::Table,
                vec![
                    Memberships::RoomId.into_iden(),
                    Memberships::Status.into_iden(),
                    Memberships::JoinSeq.into_iden(),
                ],
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
            .col(ColumnDef::new(Invites::InvitedBy).string().not_null())
            .col(ts(Invites::CreatedAt))
            .col(ts(Invites::ExpiresAt));
        manager.create_table(invites).await?;
        manager
            .create_index(index(
                "idx_invites_user",
                Invites::Table,
                vec![Invites::UserId.into_iden()],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_invites_expiry",
                Invites::Table,
                vec![Invites::ExpiresAt.into_iden()],
            ))
            .await?;

        // Bans by (room, user) are the primary key.
        let mut bans = room_user_table(Bans::Table, Bans::RoomId, Bans::UserId);
        bans.col(ColumnDef::new(Bans::BannedBy).string().not_null())
            .col(ColumnDef::new(Bans::Reason).text().null())
            .col(ts(Bans::CreatedAt));
        manager.create_table(bans).await?;
        manager
            .create_index(index(
                "idx_bans_user",
                Bans::Table,
                vec![Bans::UserId.into_iden()],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(
                        ColumnDef::new(Notifications::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Notifications::UserId).string().not_null())
                    .col(ColumnDef::new(Notifications::Kind).string().not_null())
                    .col(ColumnDef::new(Notifications::RoomId).string().null())
                    .col(ColumnDef::new(Notifications::RoomName).string().null())
                    .col(ColumnDef::new(Notifications::ActorId).string().null())
                    .col(ColumnDef::new(Notifications::Reason).text().null())
                    .col(ts(Notifications::CreatedAt))
                    .col(
                        ColumnDef::new(Notifications::ReadAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(&mut fk_user(Notifications::Table, Notifications::UserId))
                    .to_owned(),
            )
            .await?;
        // A user's unread notifications, newest first.
        manager
            .create_index(index(
                "idx_notifications_user",
                Notifications::Table,
                vec![
                    Notifications::UserId.into_iden(),
                    Notifications::ReadAt.into_iden(),
                    Notifications::CreatedAt.into_iden(),
                ],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ModLog::Table)
                    .col(
                        ColumnDef::new(ModLog::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ModLog::RoomId).string().not_null())
                    .col(ColumnDef::new(ModLog::Kind).string().not_null())
                    .col(ColumnDef::new(ModLog::ActorId).string().null())
                    .col(ColumnDef::new(ModLog::TargetId).string().null())
                    .col(ColumnDef::new(ModLog::Reason).text().null())
                    .col(ts(ModLog::CreatedAt))
                    .foreign_key(&mut fk_room(ModLog::Table, ModLog::RoomId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_mod_log_room",
                ModLog::Table,
                vec![ModLog::RoomId.into_iden(), ModLog::Id.into_iden()],
            ))
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
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
