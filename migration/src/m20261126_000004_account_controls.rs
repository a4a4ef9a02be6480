//! Account controls (docs/RULES.md §1): a session row names its user, so a password change
//! or "log out everywhere" can end that user's sessions; a deleted account keeps its row as
//! a tombstone, so the messages it wrote still have an author ("deleted user").

use crate::idens::{Sessions, Users};
use crate::statements::{add_column, drop_column, drop_index, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string_null, timestamp_with_time_zone_null};
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(manager, Sessions::Table, string_null(Sessions::UserId)).await?;
        let by_user = index("idx_sessions_user_id", Sessions::Table, [Sessions::UserId]);
        manager.create_index(by_user).await?;
        let deleted_at = timestamp_with_time_zone_null(Users::DeletedAt);
        add_column(manager, Users::Table, deleted_at).await?;
        backfill_session_users(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, Users::Table, Users::DeletedAt).await?;
        drop_index(manager, Sessions::Table, "idx_sessions_user_id").await?;
        drop_column(manager, Sessions::Table, Sessions::UserId).await
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
