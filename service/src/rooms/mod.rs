//! Rooms (docs/RULES.md §2–§5, §8), by job: [`commands`] change a room (each loads it
//! inside a write transaction, lets `domain::room::decide` rule, writes the events, their
//! notifications and log entries, commits, then publishes); [`queries`] read what the pages
//! and the API show; [`deletion`] takes a deleted account out of every room.

mod commands;
mod cursor;
mod deletion;
mod queries;

pub use queries::{LogFilter, LOG_EXPORT_MAX};

use std::{collections::HashMap, sync::Arc};

use domain::{room::Event, room::MembershipStatus, views::RoomView, RoomId};
use entity::{membership, room as room_row};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect,
};

use crate::{error::ServiceResult, hub::Hub, limits::ActionLimits, time::Clock};

/// What a command did: its events, and whether the room terminated.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub events: Vec<Event>,
    pub terminated: bool,
}

#[derive(Clone)]
pub struct Rooms {
    db: DatabaseConnection,
    hub: Arc<dyn Hub>,
    limits: ActionLimits,
    clock: Clock,
    /// Where uploads are stored, so a ban's purge removes the files no message uses.
    files_dir: Option<std::path::PathBuf>,
}

pub struct NewRoom<'a> {
    pub name: &'a str,
    pub topic: Option<&'a str>,
    pub join_policy: Option<&'a str>,
    pub max_members: Option<i64>,
}

impl Rooms {
    /// With no per-user limits: see [`Self::with_limits`].
    pub fn new(db: DatabaseConnection, hub: Arc<dyn Hub>) -> Self {
        Self {
            db,
            hub,
            limits: ActionLimits::default(),
            clock: Clock::default(),
            files_dir: None,
        }
    }

    /// Where uploads are stored; without it a purge drops the file rows and leaves the
    /// bytes on disk.
    pub fn with_files(mut self, dir: std::path::PathBuf) -> Self {
        self.files_dir = Some(dir);
        self
    }

    pub fn with_limits(mut self, limits: ActionLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The clock that timeouts, timed bans and slow mode are measured by.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }
}

fn view(model: &room_row::Model, member_count: usize) -> RoomView {
    RoomView {
        id: RoomId::new(model.id.clone()),
        name: model.name.clone(),
        topic: model.topic.clone(),
        join_policy: model.join_policy,
        max_members: model.max_members.and_then(|n| u32::try_from(n).ok()),
        member_count: u32::try_from(member_count).unwrap_or(u32::MAX),
        status: model.status,
        slow_mode_seconds: model.rules().slow_mode_seconds,
        announcement: model.announcement,
        request_cooldown_seconds: u32::try_from(model.request_cooldown_seconds).unwrap_or(0),
    }
}

#[derive(FromQueryResult)]
struct RoomCount {
    room_id: String,
    n: i64,
}

/// How many members each of `room_ids` has, in one query.
async fn member_counts<C: ConnectionTrait>(
    conn: &C,
    room_ids: &[String],
) -> ServiceResult<HashMap<String, usize>> {
    if room_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = membership::Entity::find()
        .select_only()
        .column(membership::Column::RoomId)
        .column_as(membership::Column::UserId.count(), "n")
        .filter(membership::Column::RoomId.is_in(room_ids.iter().cloned()))
        .filter(membership::Column::Status.eq(MembershipStatus::Active))
        .group_by(membership::Column::RoomId)
        .into_model::<RoomCount>()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.room_id, usize::try_from(r.n).unwrap_or(0)))
        .collect())
}
