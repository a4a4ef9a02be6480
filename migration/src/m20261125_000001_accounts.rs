use crate::idens::{Sessions, Users};
use crate::statements::{drop_table, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, text, timestamp_with_time_zone};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(string(Users::Id).primary_key())
                    .col(string(Users::Username))
                    .col(string(Users::UsernameKey).unique_key())
                    .col(string(Users::PasswordHash))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(string(Sessions::Id).primary_key())
                    .col(text(Sessions::Data))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        // The expiry sweep scans by expiry time.
        let by_expiry = index(
            "idx_sessions_expires_at",
            Sessions::Table,
            [Sessions::ExpiresAt],
        );
        manager.create_index(by_expiry).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_table(manager, Sessions::Table).await?;
        drop_table(manager, Users::Table).await
    }
}
