//! Reports (docs/RULES.md §5, "Reports"): filing one, the admins' queue, and resolving one
//! in a single step. What may be reported and who sees a report are `domain::report`'s
//! rules. An action taken from a report goes through the very path it takes elsewhere (an
//! admin's delete, or `decide` for a timeout, kick or ban) and claims the report inside that
//! path's own transaction ([`crate::settle::Settle::claim`]), so a report is resolved once, together with
//! its action, or not at all.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::{
    report::{self as rules, ReportReason, ReportStatus, Reported, Resolution, Sight},
    room::{Command, MembershipStatus, Role},
    views::ReportView,
    vocab::{LogKind, NotificationKind},
    ApiError, ErrorCode, MessageId, ReportId, RoomId, User, UserId,
};
use entity::{membership, message, mod_log, notification, report};
use sea_orm::{
    sea_query::{Alias, Condition, Expr, ExprTrait, JoinType, Query},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect, SqlErr,
};

use crate::{
    access,
    error::ServiceResult,
    hub::{Hub, Published},
    ids::new_id,
    notifications::notification_view,
    settle::Settle,
    time::{micros, rfc3339, Clock},
    timeline,
    tx::{begin_write, lock_rooms},
    users::users_by_ids,
    Messages, Rooms, ServiceError,
};

/// The most reports one listing returns, newest first.
const LIST_MAX: u64 = 200;

#[derive(Clone)]
pub struct Reports {
    db: DatabaseConnection,
    hub: std::sync::Arc<dyn Hub>,
    clock: Clock,
    rooms: Rooms,
    messages: Messages,
}

/// A report just filed.
#[derive(Debug, Clone)]
pub struct Filed {
    pub id: ReportId,
    pub created_at: String,
}

impl Reports {
    /// Resolutions act through `rooms` and `messages`, which must share `db` and `hub`.
    pub fn new(
        db: DatabaseConnection,
        hub: std::sync::Arc<dyn Hub>,
        rooms: Rooms,
        messages: Messages,
    ) -> Self {
        Self {
            db,
            hub,
            clock: Clock::default(),
            rooms,
            messages,
        }
    }

    /// The clock the reporter's rate is measured by.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// `messages/report`: `reporter` reports a message of someone else in a room they are a
    /// member of. The admins who see it are notified in the same transaction, then their
    /// badges are told the new count.
    pub async fn file(
        &self,
        reporter: &UserId,
        message_id: MessageId,
        reason: ReportReason,
        text: Option<String>,
    ) -> ServiceResult<Filed> {
        let Some(found) = message::Entity::find_by_id(message_id.get())
            .one(&self.db)
            .await?
        else {
            return Err(domain::changes::not_found().into());
        };
        let room_id = RoomId::new(found.room_id.clone());
        let now = self.clock.now();
        let txn = begin_write(&self.db).await?;
        lock_rooms(&txn, [&room_id]).await?;
        // Read again under the lock: a delete may have just committed.
        let Some(found) = message::Entity::find_by_id(message_id.get())
            .one(&txn)
            .await?
        else {
            return Err(domain::changes::not_found().into());
        };
        let access = access::load_at(&txn, reporter, &room_id, now).await?;
        let author = found.author_id.clone().map(UserId::new);
        rules::may_report(
            reporter,
            access.standing.may_post().is_ok(),
            &Reported {
                author: author.as_ref(),
                kind: found.kind,
                deleted: found.deleted_at.is_some(),
            },
        )?;
        let mine =
            || report::Entity::find().filter(report::Column::ReporterId.eq(reporter.as_str()));
        if mine()
            .filter(report::Column::MessageId.eq(found.id))
            .one(&txn)
            .await?
            .is_some()
        {
            return Err(rules::already_reported().into());
        }
        let window_start = now - chrono::Duration::microseconds(rules::RATE_WINDOW);
        let recent: Vec<DateTime<Utc>> = mine()
            .select_only()
            .column(report::Column::CreatedAt)
            .filter(report::Column::CreatedAt.gt(window_start))
            .into_tuple()
            .all(&txn)
            .await?;
        let recent: Vec<_> = recent.into_iter().map(micros).collect();
        rules::within_rate(&recent, micros(now))?;
        let id = ReportId::new(new_id());
        let inserted = report::Entity::insert(report::ActiveModel {
            id: Set(id.to_string()),
            room_id: Set(room_id.to_string()),
            message_id: Set(found.id),
            author_id: Set(found.author_id.clone()),
            reporter_id: Set(reporter.to_string()),
            reason: Set(reason),
            text: Set(text),
            status: Set(ReportStatus::Open),
            action: Set(None),
            resolved_by: Set(None),
            resolved_at: Set(None),
            created_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await;
        if let Err(e) = inserted {
            // The same person's report of the same message, racing this one.
            return Err(match e.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => rules::already_reported().into(),
                _ => e.into(),
            });
        }
        let staff = staff(&txn, &room_id).await?;
        let author_role = role_of(&txn, &room_id, author.as_ref()).await?;
        let to: Vec<UserId> = rules::recipients(&staff, author.as_ref(), author_role)
            .into_iter()
            .cloned()
            .collect();
        let room_name = access.room.name.clone();
        let mut notes = Vec::new();
        for user in &to {
            let row = notification::Model {
                id: new_id(),
                user_id: user.to_string(),
                kind: NotificationKind::Report,
                room_id: Some(room_id.to_string()),
                room_name: Some(room_name.clone()),
                // Never the reporter: the notification says what, not who.
                actor_id: None,
                reason: Some(reason.as_str().to_owned()),
                created_at: now,
                read_at: None,
                message_id: Some(found.id),
            };
            notification::Entity::insert(notification::ActiveModel::from(row.clone()))
                .exec_without_returning(&txn)
                .await?;
            notes.push(row);
        }
        txn.commit().await?;
        tracing::info!(%room_id, report_id = %id, reason = reason.as_str(), "report filed");
        for row in notes {
            self.hub.publish(Published::Notification {
                user_id: UserId::new(row.user_id.clone()),
                notification: notification_view(row, &HashMap::new()),
            });
        }
        self.publish_counts(&room_id, &to).await?;
        Ok(Filed {
            id,
            created_at: rfc3339(now),
        })
    }

    /// `rooms/reports`: the room's reports that `viewer` sees, newest first (open ones only
    /// when asked). Its admins only: a member hears `forbidden`, anyone else
    /// `room_not_found`.
    pub async fn list(
        &self,
        viewer: &UserId,
        room_id: &RoomId,
        open_only: bool,
    ) -> ServiceResult<Vec<ReportView>> {
        let role = self.role_for_listing(viewer, room_id).await?;
        let mut find = report::Entity::find().filter(report::Column::RoomId.eq(room_id.as_str()));
        if open_only {
            find = find.filter(report::Column::Status.eq(ReportStatus::Open));
        }
        let rows = find
            .order_by(report::Column::CreatedAt, Order::Desc)
            .order_by(report::Column::Id, Order::Desc)
            .limit(LIST_MAX)
            .all(&self.db)
            .await?;
        self.views(viewer, Some(role), room_id, rows).await
    }

    /// How many open reports of the room `viewer` sees (0 unless they are one of its admins).
    pub async fn open_count(&self, viewer: &UserId, room_id: &RoomId) -> ServiceResult<u32> {
        let role = match self.role_for_listing(viewer, room_id).await {
            Ok(role) => role,
            Err(ServiceError::Refused(_)) => return Ok(0),
            Err(e) => return Err(e),
        };
        let counts = open_counts(&self.db, viewer, &[(room_id.to_string(), role)]).await?;
        Ok(counts.get(room_id.as_str()).copied().unwrap_or(0))
    }

    async fn role_for_listing(&self, viewer: &UserId, room_id: &RoomId) -> ServiceResult<Role> {
        let access = access::load_at(&self.db, viewer, room_id, self.clock.now()).await?;
        access.standing.may_see()?;
        let role = access.role.filter(|_| access.standing.is_member());
        rules::may_list(role)?;
        role.ok_or_else(|| domain::access::room_not_found().into())
    }

    /// `rooms/resolve`: an admin who sees an open report deletes the message, times out,
    /// kicks or bans its author, or dismisses it, in one step; the log entry carries the
    /// report's id. A refused action (the rank rule, most often) leaves the report open.
    pub async fn resolve(
        &self,
        actor: &User,
        report_id: &ReportId,
        resolution: Resolution,
        reason: Option<String>,
    ) -> ServiceResult<ReportView> {
        let Some(row) = report::Entity::find_by_id(report_id.as_str())
            .one(&self.db)
            .await?
        else {
            return Err(rules::report_not_found().into());
        };
        let room_id = RoomId::new(row.room_id.clone());
        let access = access::load_at(&self.db, &actor.id, &room_id, self.clock.now()).await?;
        let role = access
            .role
            .filter(|_| access.standing.is_member() && access.standing.may_see().is_ok());
        let author = row.author_id.clone().map(UserId::new);
        let author_role = role_of(&self.db, &room_id, author.as_ref()).await?;
        let sight = rules::sight(&actor.id, role, author.as_ref(), author_role);
        rules::may_resolve(role, sight, row.status)?;
        let settle = Settle {
            id: report_id.clone(),
            by: actor.id.clone(),
            resolution,
        };
        let target = || {
            author.clone().ok_or_else(|| {
                ServiceError::from(ApiError::new(
                    ErrorCode::InvalidInput,
                    "That message has no author to act on.",
                ))
            })
        };
        match resolution {
            Resolution::Dismiss => self.dismiss(&row, &settle, reason).await?,
            Resolution::Delete => {
                self.messages
                    .delete_settling(
                        actor,
                        MessageId::new(row.message_id),
                        reason.as_deref(),
                        Some(&settle),
                    )
                    .await?;
            }
            Resolution::Mute { minutes } => {
                let command = Command::Mute {
                    user: target()?,
                    minutes,
                    reason,
                };
                self.rooms
                    .act_settling(&actor.id, &room_id, command, Some(&settle))
                    .await?;
            }
            Resolution::Kick => {
                let command = Command::Kick {
                    user: target()?,
                    reason,
                };
                self.rooms
                    .act_settling(&actor.id, &room_id, command, Some(&settle))
                    .await?;
            }
            Resolution::Ban { minutes } => {
                let command = Command::Ban {
                    user: target()?,
                    reason,
                    minutes,
                    purge_minutes: None,
                };
                self.rooms
                    .act_settling(&actor.id, &room_id, command, Some(&settle))
                    .await?;
            }
        }
        tracing::info!(%room_id, %report_id, action = resolution.action().as_str(), "report resolved");
        // The badges of those who see it now (a kick or ban changed the author's role).
        let author_role = role_of(&self.db, &room_id, author.as_ref()).await?;
        let staff = staff(&self.db, &room_id).await?;
        let to: Vec<UserId> = rules::recipients(&staff, author.as_ref(), author_role)
            .into_iter()
            .cloned()
            .collect();
        self.publish_counts(&room_id, &to).await?;
        let resolved = report::Entity::find_by_id(report_id.as_str())
            .one(&self.db)
            .await?
            .ok_or_else(|| ServiceError::Internal("a resolved report went missing".into()))?;
        let role = role_of(&self.db, &room_id, Some(&actor.id)).await?;
        self.views(&actor.id, role, &room_id, vec![resolved])
            .await?
            .pop()
            .ok_or_else(|| rules::report_not_found().into())
    }

    async fn dismiss(
        &self,
        row: &report::Model,
        settle: &Settle,
        reason: Option<String>,
    ) -> ServiceResult<()> {
        let room_id = RoomId::new(row.room_id.clone());
        let now = self.clock.now();
        let txn = begin_write(&self.db).await?;
        lock_rooms(&txn, [&room_id]).await?;
        settle.claim(&txn, now).await?;
        mod_log::Entity::insert(mod_log::ActiveModel {
            room_id: Set(row.room_id.clone()),
            kind: Set(LogKind::ReportDismissed),
            actor_id: Set(Some(settle.by.to_string())),
            target_id: Set(row.author_id.clone()),
            reason: Set(reason),
            created_at: Set(now),
            report_id: Set(Some(settle.id.to_string())),
            ..Default::default()
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Tells each of `to` how many of the room's open reports they see now.
    async fn publish_counts(&self, room_id: &RoomId, to: &[UserId]) -> ServiceResult<()> {
        if to.is_empty() {
            return Ok(());
        }
        let open = open_groups(&self.db, &[room_id.to_string()]).await?;
        let open = open.get(room_id.as_str()).map_or(&[][..], Vec::as_slice);
        let staff = staff(&self.db, room_id).await?;
        for (user, role) in staff.iter().filter(|(id, _)| to.contains(id)) {
            let n = rules::open_count(user, Some(*role), open);
            self.hub.publish(Published::Reports {
                user_id: user.clone(),
                room_id: room_id.clone(),
                open: u32::try_from(n).unwrap_or(u32::MAX),
            });
        }
        Ok(())
    }

    /// Reports of one room as `viewer` (whose role there is `role`) sees them: the ones
    /// they may see, each with its message as it is now, and its reporter where they may
    /// know who filed it.
    async fn views(
        &self,
        viewer: &UserId,
        role: Option<Role>,
        room_id: &RoomId,
        rows: Vec<report::Model>,
    ) -> ServiceResult<Vec<ReportView>> {
        let authors: HashSet<String> = rows.iter().filter_map(|r| r.author_id.clone()).collect();
        let author_roles: HashMap<String, Role> = membership::Entity::find()
            .filter(membership::Column::RoomId.eq(room_id.as_str()))
            .filter(membership::Column::UserId.is_in(authors))
            .filter(membership::Column::Status.eq(MembershipStatus::Active))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| (m.user_id, m.role))
            .collect();
        let seen: Vec<(report::Model, Sight)> = rows
            .into_iter()
            .filter_map(|r| {
                let author = r.author_id.clone().map(UserId::new);
                let author_role = r
                    .author_id
                    .as_ref()
                    .and_then(|a| author_roles.get(a).copied());
                let sight = rules::sight(viewer, role, author.as_ref(), author_role);
                sight.sees().then_some((r, sight))
            })
            .collect();
        let message_rows = message::Entity::find()
            .filter(message::Column::Id.is_in(seen.iter().map(|(r, _)| r.message_id)))
            .all(&self.db)
            .await?;
        let messages: HashMap<i64, domain::message::MessageView> =
            timeline::views_for(&self.db, message_rows, Some(viewer))
                .await?
                .into_iter()
                .map(|m| (m.id.get(), m))
                .collect();
        let people: Vec<UserId> = seen
            .iter()
            .flat_map(|(r, _)| [Some(r.reporter_id.clone()), r.resolved_by.clone()])
            .flatten()
            .map(UserId::new)
            .collect();
        let users = users_by_ids(&self.db, &people).await?;
        let user = |id: &Option<String>| {
            id.as_ref()
                .and_then(|id| users.get(&UserId::new(id.clone())).cloned())
        };
        Ok(seen
            .into_iter()
            .filter_map(|(r, sight)| {
                Some(ReportView {
                    message: messages.get(&r.message_id)?.clone(),
                    reporter: (sight == Sight::Full)
                        .then(|| user(&Some(r.reporter_id.clone())))
                        .flatten(),
                    resolved_by: user(&r.resolved_by),
                    id: ReportId::new(r.id),
                    reason: r.reason,
                    text: r.text,
                    created_at: rfc3339(r.created_at),
                    status: r.status,
                    action: r.action,
                    resolved_at: r.resolved_at.map(rfc3339),
                })
            })
            .collect())
    }
}

/// The admins and owner of a room, with their roles.
async fn staff<C: ConnectionTrait>(
    conn: &C,
    room_id: &RoomId,
) -> ServiceResult<Vec<(UserId, Role)>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::RoomId.eq(room_id.as_str()))
        .filter(membership::Column::Status.eq(MembershipStatus::Active))
        .filter(membership::Column::Role.is_in([Role::Owner, Role::Admin]))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (UserId::new(m.user_id), m.role))
        .collect())
}

/// `user`'s role in the room now, while a member.
async fn role_of<C: ConnectionTrait>(
    conn: &C,
    room_id: &RoomId,
    user: Option<&UserId>,
) -> ServiceResult<Option<Role>> {
    match user {
        Some(user) => crate::messages::changes::role_of(conn, user, room_id).await,
        None => Ok(None),
    }
}

/// Open reports of each room, counted by their message's author and that author's role
/// now: what `domain::report::open_count` needs, in one query for many rooms.
type OpenGroups = HashMap<String, Vec<(Option<UserId>, Option<Role>, u64)>>;

async fn open_groups<C: ConnectionTrait>(
    conn: &C,
    room_ids: &[String],
) -> ServiceResult<OpenGroups> {
    if room_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let (r, m) = (Alias::new("r"), Alias::new("m"));
    let mut query = Query::select();
    query
        .expr_as(
            Expr::col((r.clone(), report::Column::RoomId)),
            Alias::new("room_id"),
        )
        .expr_as(
            Expr::col((r.clone(), report::Column::AuthorId)),
            Alias::new("author_id"),
        )
        .expr_as(
            Expr::col((m.clone(), membership::Column::Role)),
            Alias::new("author_role"),
        )
        .expr_as(
            Expr::col((r.clone(), report::Column::Id)).count(),
            Alias::new("n"),
        )
        .from_as(report::Entity, r.clone())
        .join_as(
            JoinType::LeftJoin,
            membership::Entity,
            m.clone(),
            Condition::all()
                .add(
                    Expr::col((m.clone(), membership::Column::RoomId))
                        .equals((r.clone(), report::Column::RoomId)),
                )
                .add(
                    Expr::col((m.clone(), membership::Column::UserId))
                        .equals((r.clone(), report::Column::AuthorId)),
                )
                .add(
                    Expr::col((m.clone(), membership::Column::Status)).eq(MembershipStatus::Active),
                ),
        )
        .and_where(Expr::col((r.clone(), report::Column::RoomId)).is_in(room_ids.iter().cloned()))
        .and_where(Expr::col((r.clone(), report::Column::Status)).eq(ReportStatus::Open))
        .group_by_col((r.clone(), report::Column::RoomId))
        .group_by_col((r.clone(), report::Column::AuthorId))
        .group_by_col((m.clone(), membership::Column::Role));
    let mut out: OpenGroups = HashMap::new();
    for row in conn.query_all(&query).await? {
        let room: String = row.try_get("", "room_id")?;
        let author: Option<String> = row.try_get("", "author_id")?;
        let role: Option<Role> = row.try_get("", "author_role")?;
        let n: i64 = row.try_get("", "n")?;
        out.entry(room).or_default().push((
            author.map(UserId::new),
            role,
            u64::try_from(n).unwrap_or(0),
        ));
    }
    Ok(out)
}

/// For each of `rooms` where `viewer` is an admin (by the role given), how many open
/// reports they see: the badges of `rooms/mine`.
pub(crate) async fn open_counts<C: ConnectionTrait>(
    conn: &C,
    viewer: &UserId,
    rooms: &[(String, Role)],
) -> ServiceResult<HashMap<String, u32>> {
    let staffed: Vec<String> = rooms
        .iter()
        .filter(|(_, role)| role.is_admin())
        .map(|(id, _)| id.clone())
        .collect();
    let open = open_groups(conn, &staffed).await?;
    Ok(rooms
        .iter()
        .filter_map(|(id, role)| {
            let groups = open.get(id)?;
            let n = rules::open_count(viewer, Some(*role), groups);
            Some((id.clone(), u32::try_from(n).unwrap_or(u32::MAX)))
        })
        .collect())
}
