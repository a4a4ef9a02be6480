//! Mentions and where each member stopped reading (docs/RULES.md §6, "Mentions" and
//! "Unread"). `mentions` holds the members a message names, by id; `messages.mentions_room`
//! marks an admin's `@room`. `memberships.read_to` is the newest message the member has
//! read, in the sequence message ids are drawn from; unread counts are the messages past
//! it. A mention's notification names its message (`notifications.message_id`), so a
//! delete takes the notification with it.

use crate::idens::{Memberships, Mentions, Messages, Notifications};
use crate::statements::{add_column, cascade, drop_column, drop_index, drop_table, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, boolean, string};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mentions_room = boolean(Messages::MentionsRoom).default(false).to_owned();
        add_column(manager, Messages::Table, mentions_room).await?;
        let read_to = big_integer_null(Memberships::ReadTo);
        add_column(manager, Memberships::Table, read_to).await?;
        let mentioned_in = big_integer_null(Notifications::MessageId);
        add_column(manager, Notifications::Table, mentioned_in).await?;
        // Existing members have read what is there: an upgrade starts every badge at zero.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE memberships SET read_to = \
                 (SELECT MAX(m.id) FROM messages m WHERE m.room_id = memberships.room_id)",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Mentions::Table)
                    .col(big_integer(Mentions::MessageId))
                    .col(string(Mentions::UserId))
                    // Once per person and message: one notification, one count.
                    .primary_key(
                        Index::create()
                            .col(Mentions::MessageId)
                            .col(Mentions::UserId),
                    )
                    .foreign_key(&mut cascade(
                        Mentions::Table,
                        Mentions::MessageId,
                        Messages::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        // A member's mention counts: their mentions past a read position.
        let of_user = [Mentions::UserId, Mentions::MessageId];
        manager
            .create_index(index("idx_mentions_user", Mentions::Table, of_user))
            .await?;
        let of_message = [Notifications::MessageId, Notifications::UserId];
        manager
            .create_index(index(
                "idx_notifications_message",
                Notifications::Table,
                of_message,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_index(manager, Notifications::Table, "idx_notifications_message").await?;
        drop_table(manager, Mentions::Table).await?;
        drop_column(manager, Notifications::Table, Notifications::MessageId).await?;
        drop_column(manager, Memberships::Table, Memberships::ReadTo).await?;
        drop_column(manager, Messages::Table, Messages::MentionsRoom).await
    }
}
