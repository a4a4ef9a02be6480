use crate::idens::{Files, Messages, Rooms};
use crate::statements::{cascade, drop_table, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_pk_auto, string, string_null, text, timestamp_with_time_zone,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Files::Table)
                    .col(string(Files::Id).primary_key())
                    .col(string(Files::RoomId))
                    .col(string(Files::UploaderId))
                    .col(string(Files::Name))
                    .col(string(Files::ContentType))
                    .col(big_integer(Files::Size))
                    .col(timestamp_with_time_zone(Files::CreatedAt))
                    .foreign_key(&mut cascade(Files::Table, Files::RoomId, Rooms::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(big_pk_auto(Messages::Id))
                    .col(string(Messages::RoomId))
                    .col(string_null(Messages::AuthorId))
                    .col(string(Messages::Kind))
                    .col(text(Messages::Body))
                    .col(string_null(Messages::Color))
                    .col(string_null(Messages::Sticker))
                    .col(string_null(Messages::FileId))
                    .col(string_null(Messages::ClientId))
                    .col(timestamp_with_time_zone(Messages::CreatedAt))
                    .foreign_key(&mut cascade(
                        Messages::Table,
                        Messages::RoomId,
                        Rooms::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        // History (newest first, before a cursor) and catch-up (after a cursor) of one room.
        let by_room = [Messages::RoomId, Messages::Id];
        manager
            .create_index(index("idx_messages_room_id", Messages::Table, by_room))
            .await?;
        // Idempotent sends: one message per (author, client id).
        let by_sender = [Messages::AuthorId, Messages::ClientId];
        manager
            .create_index(
                index("idx_messages_author_client", Messages::Table, by_sender)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_table(manager, Messages::Table).await?;
        drop_table(manager, Files::Table).await
    }
}
