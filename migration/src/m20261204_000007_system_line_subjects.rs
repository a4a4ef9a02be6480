//! The person a join or leave line is about, so that the next join or leave of theirs soon
//! after folds into that line (docs/RULES.md §6) instead of adding one more.

use crate::idens::Messages;
use crate::statements::{add_column, drop_column};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(manager, Messages::Table, string_null(Messages::SubjectId)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, Messages::Table, Messages::SubjectId).await
    }
}
