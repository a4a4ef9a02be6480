//! Personal access tokens (docs/RULES.md §1, "Access tokens"): one row per token, holding
//! the SHA-256 of its secret (never the secret), its scope and lifetime, and when it was last
//! used. A unique index on the hash finds a token by the secret a request carries; the
//! owner's index serves their list. Tokens go with their owner.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000013_access_tokens"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum AccessTokens {
    Table,
    Id,
    UserId,
    Name,
    Scope,
    SecretHash,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

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
                    .col(
                        ColumnDef::new(AccessTokens::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AccessTokens::UserId).string().not_null())
                    .col(ColumnDef::new(AccessTokens::Name).string().not_null())
                    .col(ColumnDef::new(AccessTokens::Scope).string().not_null())
                    .col(ColumnDef::new(AccessTokens::SecretHash).string().not_null())
                    .col(
                        ColumnDef::new(AccessTokens::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AccessTokens::ExpiresAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(AccessTokens::LastUsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AccessTokens::Table, AccessTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col, unique) in INDEXES {
            let mut index = Index::create();
            index.name(name).table(AccessTokens::Table).col(col);
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _, _) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(AccessTokens::Table)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(AccessTokens::Table).to_owned())
            .await
    }
}
