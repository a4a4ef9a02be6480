use domain::token::TokenScope;
use sea_orm::entity::prelude::*;

/// A personal access token (docs/RULES.md §1, "Access tokens"): its secret is never stored,
/// only the SHA-256 of it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub scope: TokenScope,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
    pub created_at: DateTimeUtc,
    /// None: until revoked.
    pub expires_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
