//! Look-alike names are taken names (docs/SECURITY.md, "Names"): rooms and users get the
//! confusable skeleton of their name (`domain::text::skeleton`), unique among active rooms
//! and among accounts. Existing names are given theirs here; where two existing names
//! already share one, the older keeps it and the newer stays without (it keeps its name,
//! and no new look-alike of either can be made).

use crate::idens::{Rooms, Users};
use crate::statements::{add_column, drop_column};
use sea_orm_migration::schema::string_null;
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Gives each row of `select` (id, name, in age order) its skeleton, unless an older one
/// already has it.
async fn backfill(
    manager: &SchemaManager<'_>,
    select: &str,
    table: impl IntoIden + Copy,
    id: impl IntoIden + Copy,
    column: impl IntoIden + Copy,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), select))
        .await?;
    let mut taken = std::collections::HashSet::new();
    for row in rows {
        let row_id: String = row.try_get("", "id")?;
        let name: String = row.try_get("", "name")?;
        let skeleton = domain::text::skeleton(&name);
        if !taken.insert(skeleton.clone()) {
            println!("name {name:?} ({row_id}) looks like an older one; it keeps no skeleton");
            continue;
        }
        manager
            .exec_stmt(
                Query::update()
                    .table(table)
                    .value(column, skeleton)
                    .and_where(Expr::col(id).eq(row_id))
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(manager, Rooms::Table, string_null(Rooms::NameSkeleton)).await?;
        add_column(manager, Users::Table, string_null(Users::UsernameSkeleton)).await?;
        backfill(
            manager,
            "SELECT id, name FROM rooms WHERE status = 'active' ORDER BY created_at, id",
            Rooms::Table,
            Rooms::Id,
            Rooms::NameSkeleton,
        )
        .await?;
        backfill(
            manager,
            "SELECT id, username AS name FROM users WHERE deleted_at IS NULL ORDER BY created_at, id",
            Users::Table,
            Users::Id,
            Users::UsernameSkeleton,
        )
        .await?;
        let db = manager.get_connection();
        // Like the names themselves: unique among active rooms, and among accounts.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_rooms_active_skeleton ON rooms (name_skeleton) \
             WHERE status = 'active'",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_users_skeleton ON users (username_skeleton)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX idx_rooms_active_skeleton")
            .await?;
        db.execute_unprepared("DROP INDEX idx_users_skeleton")
            .await?;
        drop_column(manager, Rooms::Table, Rooms::NameSkeleton).await?;
        drop_column(manager, Users::Table, Users::UsernameSkeleton).await
    }
}
