//! Messages change after they are sent (docs/RULES.md §6, "After sending"): an edit keeps
//! the earlier text in `message_versions`; a delete leaves a tombstone (who, when, why) and
//! removes the text, its versions and its file. `seq` places a message's last change in its
//! room's sequence of events, drawn from the same sequence as message ids, so catch-up
//! returns changes as it returns messages. A reply names the message it answers
//! (`reply_to`); `reactions` holds each person's emoji on a message, once each.

use crate::idens::{MessageVersions, Messages, Reactions};
use crate::statements::{add_column, cascade, drop_column, drop_index, drop_table, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, string, string_null, text, text_null,
    timestamp_with_time_zone as ts, timestamp_with_time_zone_null as ts_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            big_integer_null(Messages::Seq),
            ts_null(Messages::EditedAt),
            ts_null(Messages::DeletedAt),
            string_null(Messages::DeletedBy),
            text_null(Messages::DeleteReason),
            big_integer_null(Messages::ReplyTo),
        ] {
            add_column(manager, Messages::Table, column).await?;
        }
        // Catch-up: a room's messages changed past a cursor.
        let changes = [Messages::RoomId, Messages::Seq];
        manager
            .create_index(index("idx_messages_room_seq", Messages::Table, changes))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MessageVersions::Table)
                    .col(big_pk_auto(MessageVersions::Id))
                    .col(big_integer(MessageVersions::MessageId))
                    .col(text(MessageVersions::Body))
                    .col(ts(MessageVersions::WrittenAt))
                    .foreign_key(&mut cascade(
                        MessageVersions::Table,
                        MessageVersions::MessageId,
                        Messages::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        let by_message = [MessageVersions::MessageId];
        manager
            .create_index(index(
                "idx_message_versions_message",
                MessageVersions::Table,
                by_message,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Reactions::Table)
                    .col(big_integer(Reactions::MessageId))
                    .col(string(Reactions::UserId))
                    .col(string(Reactions::Emoji))
                    .col(ts(Reactions::CreatedAt))
                    // Once per person and emoji: setting it twice counts once.
                    .primary_key(
                        Index::create()
                            .col(Reactions::MessageId)
                            .col(Reactions::UserId)
                            .col(Reactions::Emoji),
                    )
                    .foreign_key(&mut cascade(
                        Reactions::Table,
                        Reactions::MessageId,
                        Messages::Table,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_table(manager, Reactions::Table).await?;
        drop_table(manager, MessageVersions::Table).await?;
        drop_index(manager, Messages::Table, "idx_messages_room_seq").await?;
        for column in [
            Messages::ReplyTo,
            Messages::DeleteReason,
            Messages::DeletedBy,
            Messages::DeletedAt,
            Messages::EditedAt,
            Messages::Seq,
        ] {
            drop_column(manager, Messages::Table, column).await?;
        }
        Ok(())
    }
}
