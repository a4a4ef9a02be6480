use domain::effects::LogKind;
use sea_orm::entity::prelude::*;

/// The moderation log: every membership event of a room, read by its admins.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mod_log")]
pub struct Model {
    /// Increasing: the log's cursor.
    #[sea_orm(primary_key)]
    pub id: i64,
    pub room_id: String,
    pub kind: LogKind,
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    pub reason: Option<String>,
    pub created_at: DateTimeUtc,
    /// The end a timeout or timed ban was given.
    pub until: Option<DateTimeUtc>,
    /// The report the action resolved, if it came from one.
    pub report_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
