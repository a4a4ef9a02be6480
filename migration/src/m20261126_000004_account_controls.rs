//! Account controls (docs/RULES.md §1): a session row names its user, so a password change
//! or "log out everywhere" can end that user's sessions; a deleted account keeps its row as
//! a tombstone, so the messages it wrote still have an author ("deleted user").

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000004_account_controls"
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    Data,
    UserId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    DeletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(ColumnDef::new(Sessions::UserId).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user_id")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(Users::DeletedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        backfill_session_users(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::DeletedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_sessions_user_id")
                    .table(Sessions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::UserId)
                    .to_owned(),
            )
            .await
    }
}

/// Sessions started before this migration name their user only inside their JSON data: copy
/// it out, so ending "every session of this user" finds them too.
async fn backfill_session_users(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let select = Query::select()
        .columns([Sessions::Id, Sessions::Data])
        .from(Sessions::Table)
        .to_owned();
    let rows = db.query_all(&select).await?;
    for row in rows {
        let id: String = row.try_get("", "id")?;
        let data: String = row.try_get("", "data")?;
        let Some(user_id) = serde_json::from_str::<serde_json::Value>(&data)
            .ok()
            .and_then(|v| v.get("user_id")?.as_str().map(str::to_owned))
        else {
            continue;
        };
        let update = Query::update()
            .table(Sessions::Table)
            .value(Sessions::UserId, user_id)
            .and_where(Expr::col(Sessions::Id).eq(id))
            .to_owned();
        manager.exec_stmt(update).await?;
    }
    Ok(())
}
