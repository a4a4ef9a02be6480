//! A room's admins by index: every room decision loads them (and not the other members), so
//! finding them must not scan the room's members.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000005_admins_index"
    }
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    RoomId,
    Status,
    Role,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_memberships_room_role")
                    .table(Memberships::Table)
                    .col(Memberships::RoomId)
                    .col(Memberships::Status)
                    .col(Memberships::Role)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_memberships_room_role")
                    .table(Memberships::Table)
                    .to_owned(),
            )
            .await
    }
}
