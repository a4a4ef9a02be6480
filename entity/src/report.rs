use domain::report::{ReportAction, ReportReason, ReportStatus};
use sea_orm::entity::prelude::*;

/// A report on a message (docs/RULES.md §5, "Reports"): one per person and message.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub room_id: String,
    pub message_id: i64,
    /// Who wrote the message: the person reported.
    pub author_id: Option<String>,
    pub reporter_id: String,
    pub reason: ReportReason,
    #[sea_orm(column_type = "Text", nullable)]
    pub text: Option<String>,
    pub status: ReportStatus,
    pub action: Option<ReportAction>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
