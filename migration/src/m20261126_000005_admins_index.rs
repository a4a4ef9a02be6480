//! A room's admins by index: every room decision loads them (and not the other members), so
//! finding them must not scan the room's members.

use crate::idens::Memberships;
use crate::statements::{drop_index, index};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_memberships_room_role";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let admins = [Memberships::RoomId, Memberships::Status, Memberships::Role];
        manager
            .create_index(index(NAME, Memberships::Table, admins))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_index(manager, Memberships::Table, NAME).await
    }
}
