use domain::message::{Color, MessageKind};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    /// Increasing within the database: history and catch-up page by it.
    #[sea_orm(primary_key)]
    pub id: i64,
    pub room_id: String,
    /// `None` for system lines.
    pub author_id: Option<String>,
    pub kind: MessageKind,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub color: Option<Color>,
    pub sticker: Option<String>,
    pub file_id: Option<String>,
    /// The sender's id for this message: (author_id, client_id) is unique, so a retried
    /// send is recognised and acked with the stored message.
    pub client_id: Option<String>,
    /// For a join or leave line: who came or went (their next join or leave soon after folds
    /// into this line).
    pub subject_id: Option<String>,
    pub created_at: DateTimeUtc,
    /// The sequence number of its last change (edit, delete, a folded line), drawn from the
    /// sequence message ids come from; `None` until it changes.
    pub seq: Option<i64>,
    pub edited_at: Option<DateTimeUtc>,
    /// Set on a tombstone: the text, file and earlier versions are gone.
    pub deleted_at: Option<DateTimeUtc>,
    pub deleted_by: Option<String>,
    pub delete_reason: Option<String>,
    /// The message this one answers.
    pub reply_to: Option<i64>,
    /// An admin's `@room`: everyone in the room is mentioned.
    pub mentions_room: bool,
    /// Its folded words for search (`domain::search::index_text`); `None` for system lines,
    /// stickers and tombstones. The search indexes follow it (migration
    /// m20261206_000010_search).
    #[sea_orm(column_type = "Text", nullable)]
    pub search_text: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
