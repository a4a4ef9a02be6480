//! Messages change after they are sent (docs/RULES.md §6, "After sending"): an edit keeps
//! the earlier text in `message_versions`; a delete leaves a tombstone (who, when, why) and
//! removes the text, its versions and its file. `seq` places a message's last change in its
//! room's sequence of events, drawn from the same sequence as message ids, so catch-up
//! returns changes as it returns messages. A reply names the message it answers
//! (`reply_to`); `reactions` holds each person's emoji on a message, once each.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000008_message_changes"
    }
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    RoomId,
    Seq,
    EditedAt,
    DeletedAt,
    DeletedBy,
    DeleteReason,
    ReplyTo,
}

#[derive(DeriveIden)]
enum Reactions {
    Table,
    MessageId,
    UserId,
    Emoji,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MessageVersions {
    Table,
    Id,
    MessageId,
    Body,
    WrittenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        let columns = [
            ColumnDef::new(Messages::Seq)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(Messages::EditedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Messages::DeletedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Messages::DeletedBy)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(Messages::DeleteReason)
                .text()
                .null()
                .to_owned(),
            ColumnDef::new(Messages::ReplyTo)
                .big_integer()
                .null()
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Messages::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // Catch-up: a room's messages changed past a cursor.
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_room_seq")
                    .table(Messages::Table)
                    .col(Messages::RoomId)
                    .col(Messages::Seq)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MessageVersions::Table)
                    .col(
                        ColumnDef::new(MessageVersions::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(MessageVersions::MessageId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MessageVersions::Body).text().not_null())
                    .col(
                        ColumnDef::new(MessageVersions::WrittenAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MessageVersions::Table, MessageVersions::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_message_versions_message")
                    .table(MessageVersions::Table)
                    .col(MessageVersions::MessageId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Reactions::Table)
                    .col(
                        ColumnDef::new(Reactions::MessageId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Reactions::UserId).string().not_null())
                    .col(ColumnDef::new(Reactions::Emoji).string().not_null())
                    .col(
                        ColumnDef::new(Reactions::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    // Once per person and emoji: setting it twice counts once.
                    .primary_key(
                        Index::create()
                            .col(Reactions::MessageId)
                            .col(Reactions::UserId)
                            .col(Reactions::Emoji),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Reactions::Table, Reactions::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Reactions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(MessageVersions::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_messages_room_seq")
                    .table(Messages::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            Messages::ReplyTo,
            Messages::DeleteReason,
            Messages::DeletedBy,
            Messages::DeletedAt,
            Messages::EditedAt,
            Messages::Seq,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Messages::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
