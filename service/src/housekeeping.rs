//! Housekeeping (docs/RULES.md §8), hourly and by `parlor cleanup`: forget old past memberships
//! (never bans), old notifications and expired invites, and delete the files of terminated
//! rooms. `now` is a parameter so tests can move the clock instead of the data.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use domain::room::{MembershipStatus, RoomStatus};
use entity::{file, invite, membership, message, notification, room};
use sea_orm::{
    sea_query::{Expr, Query},
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter,
};

use crate::error::ServiceResult;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    pub associations: u64,
    pub notifications: u64,
    pub invites: u64,
    pub files: u64,
}

impl std::fmt::Display for Removed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "removed {} stale room associations, {} old notifications, {} expired invites, {} files of terminated rooms",
            self.associations, self.notifications, self.invites, self.files
        )
    }
}

/// `files_dir` is where uploads are stored by id.
pub async fn cleanup(
    db: &DatabaseConnection,
    files_dir: &Path,
    now: DateTime<Utc>,
) -> ServiceResult<Removed> {
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
    let files = delete_files_of_terminated_rooms(db, files_dir).await?;
    let removed = Removed {
        associations,
        notifications,
        invites,
        files,
    };
    tracing::info!(
        associations = removed.associations,
        notifications = removed.notifications,
        invites = removed.invites,
        files = removed.files,
        "housekeeping done"
    );
    Ok(removed)
}

/// Nobody can open a terminated room again, so its files only take space: each goes from
/// the disk first, then from the database (its message stays, as a line without a file).
async fn delete_files_of_terminated_rooms(
    db: &DatabaseConnection,
    dir: &Path,
) -> ServiceResult<u64> {
    let doomed = file::Entity::find()
        .filter(
            file::Column::RoomId.in_subquery(
                Query::select()
                    .column(room::Column::Id)
                    .from(room::Entity)
                    .and_where(room::Column::Status.eq(RoomStatus::Terminated))
                    .to_owned(),
            ),
        )
        .all(db)
        .await?;
    let mut removed = 0;
    for f in doomed {
        if let Err(e) = remove_stored_file(dir, &f.id) {
            tracing::warn!(error = %e, file_id = %f.id, "could not delete a file of a terminated room");
            continue;
        }
        message::Entity::update_many()
            .col_expr(message::Column::FileId, Expr::value(Option::<String>::None))
            .filter(message::Column::FileId.eq(f.id.as_str()))
            .exec(db)
            .await?;
        file::Entity::delete_by_id(f.id).exec(db).await?;
        removed += 1;
    }
    Ok(removed)
}

/// Removes the upload stored under `file_id` in `dir`; one already gone counts as removed.
/// An id that is not ours (not alphanumeric, so it could leave the folder) is refused.
pub fn remove_stored_file(dir: &Path, file_id: &str) -> std::io::Result<()> {
    if file_id.is_empty() || !file_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not an upload's id",
        ));
    }
    match std::fs::remove_file(dir.join(file_id)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}
