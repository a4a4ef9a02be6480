use sea_orm::entity::prelude::*;

/// An uploaded file: stored under the data directory by its random id, never by its name.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub room_id: String,
    pub uploader_id: String,
    /// The sanitised original name, for display and `Content-Disposition`.
    pub name: String,
    /// Sniffed from the content, not taken from the client.
    pub content_type: String,
    pub size: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
