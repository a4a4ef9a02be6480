//! The report an action resolves (docs/RULES.md §5, "Reports"): the delete, timeout, kick or
//! ban that resolves a report claims it in the action's own transaction. It is its own
//! module because both the actions (`messages::changes`, `rooms::commands`) and `reports`,
//! which calls them, use it.

use chrono::{DateTime, Utc};
use domain::{
    report::{self as rules, ReportStatus, Resolution},
    ReportId, UserId,
};
use entity::report;
use sea_orm::{sea_query::Expr, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use crate::error::ServiceResult;

/// The report an action resolves: claimed (from open to resolved) in the action's own
/// transaction, so the action and the resolution commit together or not at all.
pub(crate) struct Settle {
    pub id: ReportId,
    pub by: UserId,
    pub resolution: Resolution,
}

impl Settle {
    /// Marks the report resolved, if it is still open; `report_resolved` if another admin
    /// got there first (the action's transaction is then dropped, undone).
    pub(crate) async fn claim(
        &self,
        txn: &DatabaseTransaction,
        now: DateTime<Utc>,
    ) -> ServiceResult<()> {
        let claimed = report::Entity::update_many()
            .col_expr(
                report::Column::Status,
                Expr::value(self.resolution.status()),
            )
            .col_expr(
                report::Column::Action,
                Expr::value(self.resolution.action()),
            )
            .col_expr(report::Column::ResolvedBy, Expr::value(self.by.as_str()))
            .col_expr(report::Column::ResolvedAt, Expr::value(now))
            .filter(report::Column::Id.eq(self.id.as_str()))
            .filter(report::Column::Status.eq(ReportStatus::Open))
            .exec(txn)
            .await?
            .rows_affected;
        if claimed == 0 {
            return Err(rules::report_resolved().into());
        }
        Ok(())
    }
}
