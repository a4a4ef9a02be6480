use sea_orm::entity::prelude::*;

/// An earlier text of an edited message, kept for its author and the room's admins, and
/// removed with the message when it is deleted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "message_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub message_id: i64,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// When this text was written (sent, or the edit that brought it).
    pub written_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
