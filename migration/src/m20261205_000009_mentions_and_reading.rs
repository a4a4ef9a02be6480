//! Mentions and where each member stopped reading (docs/RULES.md §6, "Mentions" and
//! "Unread"). `mentions` holds the members a message names, by id; `messages.mentions_room`
//! marks an admin's `@room`. `memberships.read_to` is the newest message the member has
//! read, in the sequence message ids are drawn from; unread counts are the messages past
//! it. A mention's notification names its message (`notifications.message_id`), so a
//! delete takes the notification with it.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000009_mentions_and_reading"
    }
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    MentionsRoom,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    ReadTo,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    UserId,
    MessageId,
}

#[derive(DeriveIden)]
enum Mentions {
    Table,
    MessageId,
    UserId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        let columns = [
            (
                Messages::Table.into_iden(),
                ColumnDef::new(Messages::MentionsRoom)
                    .boolean()
                    .not_null()
                    .default(false)
                    .to_owned(),
            ),
            (
                Memberships::Table.into_iden(),
                ColumnDef::new(Memberships::ReadTo)
                    .big_integer()
                    .null()
                    .to_owned(),
            ),
            (
                Notifications::Table.into_iden(),
                ColumnDef::new(Notifications::MessageId)
                    .big_integer()
                    .null()
                    .to_owned(),
            ),
        ];
        for (table, mut column) in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
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
                    .col(ColumnDef::new(Mentions::MessageId).big_integer().not_null())
                    .col(ColumnDef::new(Mentions::UserId).string().not_null())
                    // Once per person and message: one notification, one count.
                    .primary_key(
                        Index::create()
                            .col(Mentions::MessageId)
                            .col(Mentions::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Mentions::Table, Mentions::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A member's mention counts: their mentions past a read position.
        manager
            .create_index(
                Index::create()
                    .name("idx_mentions_user")
                    .table(Mentions::Table)
                    .col(Mentions::UserId)
                    .col(Mentions::MessageId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_message")
                    .table(Notifications::Table)
                    .col(Notifications::MessageId)
                    .col(Notifications::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_notifications_message")
                    .table(Notifications::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Mentions::Table).to_owned())
            .await?;
        let columns = [
            (
                Notifications::Table.into_iden(),
                Notifications::MessageId.into_iden(),
            ),
            (
                Memberships::Table.into_iden(),
                Memberships::ReadTo.into_iden(),
            ),
            (
                Messages::Table.into_iden(),
                Messages::MentionsRoom.into_iden(),
            ),
        ];
        for (table, column) in columns {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
