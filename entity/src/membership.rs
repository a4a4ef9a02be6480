use domain::room::{MembershipStatus, Role};
use sea_orm::entity::prelude::*;

/// One row per user and room, kept after they leave: the previous-rooms log reads it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "memberships")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub room_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    pub role: Role,
    /// `Active` while a member; else how they left.
    pub status: MembershipStatus,
    /// When the current (or last) membership began: join order and housekeeping use it.
    pub joined_at: DateTimeUtc,
    /// Microseconds of `joined_at`, the exact key of join order on every database.
    pub join_seq: i64,
    pub first_joined_at: DateTimeUtc,
    pub left_at: Option<DateTimeUtc>,
    /// The newest message they have read (an id of the room's sequence); unread counts
    /// are what is past it. Set to the room's newest message when they join.
    pub read_to: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
