use sea_orm::entity::prelude::*;

/// tower-sessions records, kept in our own database so sessions survive restarts.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The session's data as JSON.
    #[sea_orm(column_type = "Text")]
    pub data: String,
    pub expires_at: DateTimeUtc,
    /// The signed-in user, copied out of `data`: a password change or "log out everywhere"
    /// ends a user's sessions by it. None before sign-in.
    pub user_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
