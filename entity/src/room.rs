use domain::room::{JoinPolicy, RoomStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rooms")]
pub struct Model {
    /// Random and opaque: rooms cannot be walked in sequence.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    /// Lower-cased name: unique among active rooms (a partial unique index).
    pub name_key: String,
    /// The confusable skeleton of the name (`domain::text::skeleton`): unique among active
    /// rooms, so a look-alike of a room's name is taken too. `None` only for a room that
    /// already shared one with an older room when skeletons came in.
    pub name_skeleton: Option<String>,
    pub topic: Option<String>,
    pub join_policy: JoinPolicy,
    pub max_members: Option<i32>,
    pub status: RoomStatus,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub terminated_at: Option<DateTimeUtc>,
    /// Seconds between one member's messages; 0 is off. Admins are exempt.
    pub slow_mode_seconds: i32,
    /// Only admins post.
    pub announcement: bool,
    /// After a declined request, seconds before that person may ask again.
    pub request_cooldown_seconds: i32,
}

impl Model {
    pub fn rules(&self) -> domain::moderation::RoomRules {
        domain::moderation::RoomRules {
            slow_mode_seconds: u32::try_from(self.slow_mode_seconds).unwrap_or(0),
            announcement: self.announcement,
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
