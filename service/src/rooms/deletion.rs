//! A deleted account leaves its rooms by the room rules, then its traces go.

use domain::{room::Command, room::MembershipStatus, ErrorCode, RoomId, UserId};
use entity::{ban, invite, join_request, membership, mute, notification, request_cooldown};
use sea_orm::{
    sea_query::Query, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter,
};

use super::Rooms;
use crate::{error::ServiceResult, tx::begin_write, ServiceError};

impl Rooms {
    /// A deleted account leaves every room it is in, each by the room rules (so succession
    /// and termination run, docs/RULES.md §4), then its remaining traces go: past
    /// memberships, bans, invites, join requests and notifications. Safe to run again: a
    /// deletion cut short is finished by [`Rooms::finish_deletions`].
    pub async fn depart_everywhere(&self, user_id: &UserId) -> ServiceResult<()> {
        let current = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user_id.as_str()))
            .filter(membership::Column::Status.eq(MembershipStatus::Active))
            .all(&self.db)
            .await?;
        for m in current {
            match self
                .act(user_id, &RoomId::new(m.room_id), Command::Leave)
                .await
            {
                Ok(_) => {}
                // The room ended, or they were removed, meanwhile: nothing left to leave.
                Err(ServiceError::Refused(e))
                    if matches!(
                        e.code,
                        ErrorCode::RoomTerminated | ErrorCode::NotMember | ErrorCode::RoomNotFound
                    ) => {}
                Err(e) => return Err(e),
            }
        }
        let txn = begin_write(&self.db).await?;
        erase::<membership::Entity>(&txn, membership::Column::UserId, user_id).await?;
        erase::<ban::Entity>(&txn, ban::Column::UserId, user_id).await?;
        erase::<mute::Entity>(&txn, mute::Column::UserId, user_id).await?;
        erase::<request_cooldown::Entity>(&txn, request_cooldown::Column::UserId, user_id).await?;
        erase::<invite::Entity>(&txn, invite::Column::UserId, user_id).await?;
        erase::<join_request::Entity>(&txn, join_request::Column::UserId, user_id).await?;
        erase::<notification::Entity>(&txn, notification::Column::UserId, user_id).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Finishes deletions cut short (a crash between the account's deletion and its last
    /// room): every deleted account that still has a membership, request or invite departs.
    /// Run by the hourly housekeeping, first at start.
    pub async fn finish_deletions(&self) -> ServiceResult<usize> {
        let unfinished = entity::user::Entity::find()
            .filter(entity::user::Column::DeletedAt.is_not_null())
            .filter(
                Condition::any()
                    .add(
                        entity::user::Column::Id.in_subquery(
                            Query::select()
                                .column(membership::Column::UserId)
                                .from(membership::Entity)
                                .to_owned(),
                        ),
                    )
                    .add(
                        entity::user::Column::Id.in_subquery(
                            Query::select()
                                .column(join_request::Column::UserId)
                                .from(join_request::Entity)
                                .to_owned(),
                        ),
                    )
                    .add(
                        entity::user::Column::Id.in_subquery(
                            Query::select()
                                .column(invite::Column::UserId)
                                .from(invite::Entity)
                                .to_owned(),
                        ),
                    ),
            )
            .all(&self.db)
            .await?;
        for user in &unfinished {
            tracing::info!(user_id = %user.id, "finishing an account deletion");
            self.depart_everywhere(&UserId::new(user.id.clone()))
                .await?;
        }
        Ok(unfinished.len())
    }
}

/// Deletes every row of `E` whose `column` names the person.
async fn erase<E: EntityTrait>(
    txn: &DatabaseTransaction,
    column: E::Column,
    user_id: &UserId,
) -> ServiceResult<()> {
    E::delete_many()
        .filter(column.eq(user_id.as_str()))
        .exec(txn)
        .await?;
    Ok(())
}
