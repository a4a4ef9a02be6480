//! Personal access tokens (docs/RULES.md §1, "Access tokens"): one row per token, holding
//! the SHA-256 of its secret (never the secret), its scope and lifetime, and when it was last
//! used. A unique index on the hash finds a token by the secret a request carries; the
//! owner's index serves their list. Tokens go with their owner.

use crate::idens::{AccessTokens, Users};
use crate::statements::{cascade, drop_index, drop_table, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    string, timestamp_with_time_zone as ts, timestamp_with_time_zone_null as ts_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, AccessTokens, bool); 2] = [
    ("idx_access_tokens_secret", AccessTokens::SecretHash, true),
    ("idx_access_tokens_user", AccessTokens::UserId, false),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccessTokens::Table)
                    .col(string(AccessTokens::Id).primary_key())
                    .col(string(AccessTokens::UserId))
                    .col(string(AccessTokens::Name))
                    .col(string(AccessTokens::Scope))
                    .col(string(AccessTokens::SecretHash))
                    .col(ts(AccessTokens::CreatedAt))
                    .col(ts_null(AccessTokens::ExpiresAt))
                    .col(ts_null(AccessTokens::LastUsedAt))
                    .foreign_key(&mut cascade(
                        AccessTokens::Table,
                        AccessTokens::UserId,
                        Users::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, column, unique) in INDEXES {
            let mut index = index(name, AccessTokens::Table, [column]);
            if unique {
                index.unique();
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _, _) in INDEXES {
            drop_index(manager, AccessTokens::Table, name).await?;
        }
        drop_table(manager, AccessTokens::Table).await
    }
}
