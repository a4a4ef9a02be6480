use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Messages {
    Table,
    Id,
    RoomId,
    AuthorId,
    Kind,
    Body,
    Color,
    Sticker,
    FileId,
    ClientId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Rooms {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
    RoomId,
    UploaderId,
    Name,
    ContentType,
    Size,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Files::Table)
                    .col(ColumnDef::new(Files::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(Files::RoomId).string().not_null())
                    .col(ColumnDef::new(Files::UploaderId).string().not_null())
                    .col(ColumnDef::new(Files::Name).string().not_null())
                    .col(ColumnDef::new(Files::ContentType).string().not_null())
                    .col(ColumnDef::new(Files::Size).big_integer().not_null())
                    .col(
                        ColumnDef::new(Files::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Files::Table, Files::RoomId)
                            .to(Rooms::Table, Rooms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(
                        ColumnDef::new(Messages::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Messages::RoomId).string().not_null())
                    .col(ColumnDef::new(Messages::AuthorId).string().null())
                    .col(ColumnDef::new(Messages::Kind).string().not_null())
                    .col(ColumnDef::new(Messages::Body).text().not_null())
                    .col(ColumnDef::new(Messages::Color).string().null())
                    .col(ColumnDef::new(Messages::Sticker).string().null())
                    .col(ColumnDef::new(Messages::FileId).string().null())
                    .col(ColumnDef::new(Messages::ClientId).string().null())
                    .col(
                        ColumnDef::new(Messages::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Messages::Table, Messages::RoomId)
                            .to(Rooms::Table, Rooms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // History (newest first, before a cursor) and catch-up (after a cursor) of one room.
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_room_id")
                    .table(Messages::Table)
                    .col(Messages::RoomId)
                    .col(Messages::Id)
                    .to_owned(),
            )
            .await?;
        // Idempotent sends: one message per (author, client id).
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_author_client")
                    .table(Messages::Table)
                    .col(Messages::AuthorId)
                    .col(Messages::ClientId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Messages::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Files::Table).to_owned())
            .await
    }
}
