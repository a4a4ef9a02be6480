//! Housekeeping (docs/RULES.md §8), hourly and by `parlor cleanup`: forget old past memberships
//! (never bans), old notifications and expired invites. `now` is a parameter so tests can
//! move the clock instead of the data.

use chrono::{DateTime, Duration, Utc};
use domain::room::MembershipStatus;
use entity::{invite, membership, notification};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};

use crate::error::ServiceResult;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    pub associations: u64,
    pub notifications: u64,
    pub invites: u64,
}

impl std::fmt::Display for Removed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "removed {} stale room associations, {} old notifications, {} expired invites",
            self.associations, self.notifications, self.invites
        )
    }
}

pub async fn cleanup(db: &DatabaseConnection, now: DateTime<Utc>) -> ServiceResult<Removed> {
    // Past memberships (left, kicked, or ended by termination) whose last join is over 30
    // days old. Current memberships are the room itself and are never touched; a ban keeps
    // its own row in `bans` and its membership row in status `banned`.
    let associations = membership::Entity::delete_many()
        .filter(membership::Column::Status.is_in([
            MembershipStatus::Left,
            MembershipStatus::Kicked,
            MembershipStatus::Terminated,
        ]))
        .filter(membership::Column::JoinedAt.lt(now - Duration::days(30)))
        .exec(db)
        .await?
        .rows_affected;
    let notifications = notification::Entity::delete_many()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(notification::Column::ReadAt.is_not_null())
                        .add(notification::Column::CreatedAt.lt(now - Duration::days(7))),
                )
                .add(notification::Column::CreatedAt.lt(now - Duration::days(30))),
        )
        .exec(db)
        .await?
        .rows_affected;
    let invites = invite::Entity::delete_many()
        .filter(invite::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?
        .rows_affected;
    let removed = Removed {
        associations,
        notifications,
        invites,
    };
    tracing::info!(
        associations = removed.associations,
        notifications = removed.notifications,
        invites = removed.invites,
        "housekeeping done"
    );
    Ok(removed)
}
