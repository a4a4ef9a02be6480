//! The commands that change a room: each runs in one write transaction that locks the
//! room (row lock on PostgreSQL, `BEGIN IMMEDIATE` on SQLite), so decisions about one room
//! happen one at a time and simultaneous departures keep the rules of docs/RULES.md §4.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use domain::{
    access::room_not_found,
    effects::{self, NotificationDraft},
    room::{
        self, parse_max_members, parse_topic, Command, Event, JoinPolicy, Member, MembershipStatus,
        Micros, Role, Room, RoomName, RoomStatus, Settings,
    },
    views::RoomView,
    vocab::NotificationKind,
    ApiError, ErrorCode, ReportId, RoomId, User, UserId,
};
use entity::{
    ban, invite, join_request, membership, message, mod_log, mute, notification, request_cooldown,
    room as room_row,
};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, Iterable,
    Order, PaginatorTrait, PrimaryKeyToColumn, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};

use super::{view, NewRoom, Outcome, Rooms};
use crate::{
    access,
    error::ServiceResult,
    hub::{Posted, Published},
    ids::new_id,
    limits::Action,
    notifications::notification_view,
    settle::Settle,
    time::{from_micros, micros},
    timeline::{insert_system_lines, message_view, Related},
    tx::begin_write,
    users::{resolve_user, users_by_ids},
    ServiceError,
};

/// The per-user allowance a command draws on, if any: the ones that notify someone.
/// The allowance a command draws on: every command that changes a room has one.
fn charged_action(command: &Command, events: &[Event]) -> Charge {
    match command {
        Command::Invite { .. } => Charge::User(Action::Invite),
        Command::Kick { .. }
        | Command::Ban { .. }
        | Command::Unban { .. }
        | Command::Mute { .. }
        | Command::Unmute { .. } => Charge::User(Action::Moderate),
        Command::Join if events.iter().any(|e| matches!(e, Event::Requested { .. })) => {
            Charge::User(Action::Request)
        }
        Command::Join | Command::AcceptInvite | Command::DeclineInvite => Charge::InRoom,
        // Leaving counts toward the room's joins and leaves, but is never refused for it:
        // nobody is kept in a room. The next join waits instead.
        Command::Leave => Charge::InRoomNeverRefused,
        Command::Approve { .. }
        | Command::Deny { .. }
        | Command::Promote { .. }
        | Command::Demote { .. }
        | Command::Transfer { .. }
        | Command::Update(_) => Charge::User(Action::Manage),
    }
}

/// Which bucket a command is charged to.
enum Charge {
    User(Action),
    /// The person's joins and leaves of this room.
    InRoom,
    InRoomNeverRefused,
}

/// Loads what a decision by `actor` on `target` needs of a room (`Room::summary_for`):
/// every admin, the two of them and the two earliest joiners, their bans, requests and
/// invites, and the member count. None of it grows with the room's size but the admins, so
/// a join costs the same in a room of 5 or 5,000. On PostgreSQL with `lock`, the room row
/// stays locked until the transaction ends, so decisions about one room happen one at a
/// time.
async fn load_room<C: ConnectionTrait>(
    conn: &C,
    room_id: &RoomId,
    lock: bool,
    actor: &UserId,
    target: Option<&UserId>,
    now: DateTime<Utc>,
) -> ServiceResult<Option<(room_row::Model, Room)>> {
    let mut find = room_row::Entity::find_by_id(room_id.to_string());
    if lock && conn.get_database_backend() == DbBackend::Postgres {
        find = find.lock_exclusive();
    }
    let Some(model) = find.one(conn).await? else {
        return Ok(None);
    };
    let concerned: Vec<&str> = [Some(actor), target]
        .into_iter()
        .flatten()
        .map(UserId::as_str)
        .collect();
    let active = || {
        membership::Entity::find()
            .filter(membership::Column::RoomId.eq(room_id.as_str()))
            .filter(membership::Column::Status.eq(MembershipStatus::Active))
    };
    let mut rows = active()
        .filter(
            Condition::any()
                .add(membership::Column::Role.is_in([Role::Owner, Role::Admin]))
                .add(membership::Column::UserId.is_in(concerned.iter().copied())),
        )
        .all(conn)
        .await?;
    // The two earliest joiners, and anyone who joined in the same microsecond as the second.
    let second = active()
        .order_by_asc(membership::Column::JoinSeq)
        .limit(2)
        .all(conn)
        .await?
        .last()
        .map(|m| m.join_seq);
    if let Some(cutoff) = second {
        rows.extend(
            active()
                .filter(membership::Column::JoinSeq.lte(cutoff))
                .all(conn)
                .await?,
        );
    }
    let mut seen = BTreeSet::new();
    let members = rows
        .into_iter()
        .filter(|m| seen.insert(m.user_id.clone()))
        .map(|m| Member {
            role: m.role,
            user_id: UserId::new(m.user_id),
            joined_at: m.join_seq,
        })
        .collect();
    let member_count = usize::try_from(active().count(conn).await?).unwrap_or(usize::MAX);
    // Bans and timeouts that have run out are over, recorded or not.
    let banned: BTreeSet<UserId> = ban::Entity::find()
        .filter(ban::Column::RoomId.eq(room_id.as_str()))
        .filter(ban::Column::UserId.is_in(concerned.iter().copied()))
        .filter(
            Condition::any()
                .add(ban::Column::Until.is_null())
                .add(ban::Column::Until.gt(now)),
        )
        .all(conn)
        .await?
        .into_iter()
        .map(|b| UserId::new(b.user_id))
        .collect();
    let requests = join_request::Entity::find()
        .filter(join_request::Column::RoomId.eq(room_id.as_str()))
        .filter(join_request::Column::UserId.is_in(concerned.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| UserId::new(r.user_id))
        .collect();
    let invites: BTreeMap<UserId, Micros> = invite::Entity::find()
        .filter(invite::Column::RoomId.eq(room_id.as_str()))
        .filter(invite::Column::UserId.is_in(concerned.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|i| (UserId::new(i.user_id), micros(i.expires_at)))
        .collect();
    let muted = mute::Entity::find()
        .filter(mute::Column::RoomId.eq(room_id.as_str()))
        .filter(mute::Column::UserId.is_in(concerned.iter().copied()))
        .filter(mute::Column::Until.gt(now))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| UserId::new(m.user_id))
        .collect();
    let cooldowns = request_cooldown::Entity::find()
        .filter(request_cooldown::Column::RoomId.eq(room_id.as_str()))
        .filter(request_cooldown::Column::UserId.is_in(concerned.iter().copied()))
        .filter(request_cooldown::Column::Until.gt(now))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (UserId::new(c.user_id), micros(c.until)))
        .collect();
    let state = Room {
        id: RoomId::new(model.id.clone()),
        status: model.status,
        policy: model.join_policy,
        max_members: model.max_members.and_then(|n| u32::try_from(n).ok()),
        topic: model.topic.clone(),
        members,
        member_count,
        banned,
        requests,
        invites,
        muted,
        rules: model.rules(),
        request_cooldown_seconds: u32::try_from(model.request_cooldown_seconds).unwrap_or(0),
        cooldowns,
    };
    Ok(Some((model, state)))
}

/// Writes one event's change to the database: the twin of `Room::apply`.
async fn persist(
    txn: &DatabaseTransaction,
    room_id: &RoomId,
    event: &Event,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let key = |user: &UserId| (room_id.to_string(), user.to_string());
    match event {
        Event::Joined { user, role, .. } => persist_join(txn, room_id, user, *role, now).await?,
        Event::Departed { user, reason, .. } => {
            membership::Entity::update_many()
                .col_expr(
                    membership::Column::Status,
                    Expr::value(MembershipStatus::from(*reason)),
                )
                .col_expr(membership::Column::LeftAt, Expr::value(now))
                .filter(membership::Column::RoomId.eq(room_id.as_str()))
                .filter(membership::Column::UserId.eq(user.as_str()))
                .exec(txn)
                .await?;
        }
        Event::RoleChanged { user, role, .. } => {
            membership::Entity::update_many()
                .col_expr(membership::Column::Role, Expr::value(*role))
                .filter(membership::Column::RoomId.eq(room_id.as_str()))
                .filter(membership::Column::UserId.eq(user.as_str()))
                .exec(txn)
                .await?;
        }
        Event::Requested { user } => {
            join_request::Entity::insert(join_request::ActiveModel {
                room_id: Set(room_id.to_string()),
                user_id: Set(user.to_string()),
                created_at: Set(now),
            })
            .exec_without_returning(txn)
            .await?;
        }
        Event::RequestClosed { user, .. } => {
            join_request::Entity::delete_by_id(key(user))
                .exec(txn)
                .await?;
        }
        Event::Invited {
            user,
            by,
            expires_at,
        } => persist_invite(txn, room_id, user, by, *expires_at, now).await?,
        Event::InviteClosed { user, .. } => {
            invite::Entity::delete_by_id(key(user)).exec(txn).await?;
        }
        Event::Cancelled { user } => {
            invite::Entity::delete_by_id(key(user)).exec(txn).await?;
            join_request::Entity::delete_by_id(key(user))
                .exec(txn)
                .await?;
        }
        Event::BanAdded {
            user,
            by,
            reason,
            until,
        } => {
            // A timed ban that ran out may still be stored: the new one takes its place.
            upsert(
                txn,
                ban::ActiveModel {
                    room_id: Set(room_id.to_string()),
                    user_id: Set(user.to_string()),
                    banned_by: Set(by.to_string()),
                    reason: Set(reason.clone()),
                    created_at: Set(now),
                    until: Set(until.map(from_micros)),
                },
                [
                    ban::Column::BannedBy,
                    ban::Column::Reason,
                    ban::Column::CreatedAt,
                    ban::Column::Until,
                ],
            )
            .await?;
        }
        Event::BanLifted { user, .. } | Event::BanEnded { user } => {
            ban::Entity::delete_by_id(key(user)).exec(txn).await?;
        }
        Event::Muted {
            user,
            by,
            until,
            reason,
        } => {
            upsert(
                txn,
                mute::ActiveModel {
                    room_id: Set(room_id.to_string()),
                    user_id: Set(user.to_string()),
                    muted_by: Set(Some(by.to_string())),
                    reason: Set(reason.clone()),
                    until: Set(from_micros(*until)),
                    created_at: Set(now),
                },
                [
                    mute::Column::MutedBy,
                    mute::Column::Reason,
                    mute::Column::Until,
                    mute::Column::CreatedAt,
                ],
            )
            .await?;
        }
        Event::Unmuted { user, .. } => {
            mute::Entity::delete_by_id(key(user)).exec(txn).await?;
        }
        Event::CooldownStarted { user, until } => {
            upsert(
                txn,
                request_cooldown::ActiveModel {
                    room_id: Set(room_id.to_string()),
                    user_id: Set(user.to_string()),
                    until: Set(from_micros(*until)),
                },
                [request_cooldown::Column::Until],
            )
            .await?;
        }
        Event::SettingsChanged { settings, .. } => {
            persist_settings(txn, room_id, settings).await?;
        }
        Event::Terminated => persist_termination(txn, room_id, now).await?,
        // Its tombstones are written in `commit`, which publishes them.
        Event::Purged { .. } => {}
    }
    Ok(())
}

/// A (re)join: the membership row is made or brought back, and any request or invite that
/// led to it is done with.
async fn persist_join(
    txn: &DatabaseTransaction,
    room_id: &RoomId,
    user: &UserId,
    role: Role,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    // What is there when they join counts as read: unread starts with what comes after.
    let newest: Option<i64> = message::Entity::find()
        .select_only()
        .column(message::Column::Id)
        .filter(message::Column::RoomId.eq(room_id.as_str()))
        .order_by(message::Column::Id, Order::Desc)
        .into_tuple()
        .one(txn)
        .await?;
    let row = membership::ActiveModel {
        room_id: Set(room_id.to_string()),
        user_id: Set(user.to_string()),
        role: Set(role),
        status: Set(MembershipStatus::Active),
        joined_at: Set(now),
        join_seq: Set(micros(now)),
        first_joined_at: Set(now),
        left_at: Set(None),
        read_to: Set(newest),
    };
    upsert(
        txn,
        row,
        [
            membership::Column::Role,
            membership::Column::Status,
            membership::Column::JoinedAt,
            membership::Column::JoinSeq,
            membership::Column::LeftAt,
            membership::Column::ReadTo,
        ],
    )
    .await?;
    let key = (room_id.to_string(), user.to_string());
    join_request::Entity::delete_by_id(key.clone())
        .exec(txn)
        .await?;
    invite::Entity::delete_by_id(key).exec(txn).await?;
    Ok(())
}

/// An invite, or a fresh one in place of the last.
async fn persist_invite(
    txn: &DatabaseTransaction,
    room_id: &RoomId,
    user: &UserId,
    by: &UserId,
    expires_at: Micros,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    upsert(
        txn,
        invite::ActiveModel {
            room_id: Set(room_id.to_string()),
            user_id: Set(user.to_string()),
            invited_by: Set(by.to_string()),
            created_at: Set(now),
            expires_at: Set(from_micros(expires_at)),
        },
        [
            invite::Column::InvitedBy,
            invite::Column::CreatedAt,
            invite::Column::ExpiresAt,
        ],
    )
    .await?;
    Ok(())
}

async fn persist_settings(
    txn: &DatabaseTransaction,
    room_id: &RoomId,
    settings: &Settings,
) -> ServiceResult<()> {
    let mut update =
        room_row::Entity::update_many().filter(room_row::Column::Id.eq(room_id.as_str()));
    if let Some(topic) = &settings.topic {
        update = update.col_expr(room_row::Column::Topic, Expr::value(topic.clone()));
    }
    if let Some(policy) = settings.policy {
        update = update.col_expr(room_row::Column::JoinPolicy, Expr::value(policy));
    }
    if let Some(max) = settings.max_members {
        update = update.col_expr(
            room_row::Column::MaxMembers,
            Expr::value(max.map(|n| n as i32)),
        );
    }
    if let Some(seconds) = settings.slow_mode_seconds {
        update = update.col_expr(
            room_row::Column::SlowModeSeconds,
            Expr::value(i32::try_from(seconds).unwrap_or(i32::MAX)),
        );
    }
    if let Some(announcement) = settings.announcement {
        update = update.col_expr(room_row::Column::Announcement, Expr::value(announcement));
    }
    if let Some(seconds) = settings.request_cooldown_seconds {
        update = update.col_expr(
            room_row::Column::RequestCooldownSeconds,
            Expr::value(i32::try_from(seconds).unwrap_or(i32::MAX)),
        );
    }
    update.exec(txn).await?;
    Ok(())
}

/// The room ends: nobody can ask to join it or take an invite to it any more.
async fn persist_termination(
    txn: &DatabaseTransaction,
    room_id: &RoomId,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    room_row::Entity::update_many()
        .col_expr(
            room_row::Column::Status,
            Expr::value(RoomStatus::Terminated),
        )
        .col_expr(room_row::Column::TerminatedAt, Expr::value(Some(now)))
        .filter(room_row::Column::Id.eq(room_id.as_str()))
        .exec(txn)
        .await?;
    join_request::Entity::delete_many()
        .filter(join_request::Column::RoomId.eq(room_id.as_str()))
        .exec(txn)
        .await?;
    invite::Entity::delete_many()
        .filter(invite::Column::RoomId.eq(room_id.as_str()))
        .exec(txn)
        .await?;
    Ok(())
}

/// Stores the notifications and log entries of `events` (tied to the report they resolve,
/// if any); returns the stored notifications.
async fn record_effects(
    txn: &DatabaseTransaction,
    room: &room_row::Model,
    before: &Room,
    events: &[Event],
    now: DateTime<Utc>,
    report_id: Option<&ReportId>,
) -> ServiceResult<Vec<notification::Model>> {
    let mut stored = Vec::new();
    for NotificationDraft {
        user,
        kind,
        actor,
        reason,
    } in effects::notifications(before, events)
    {
        // A ban or unban reaches strangers too; they learn no private room's name from it.
        let strangers_may_get = matches!(
            kind,
            NotificationKind::Banned | NotificationKind::Unbanned | NotificationKind::BanEnded
        );
        let room_name = (!strangers_may_get || effects::may_name_room(before, &user))
            .then(|| room.name.clone());
        let row = notification::Model {
            id: new_id(),
            user_id: user.into_string(),
            kind,
            room_id: Some(room.id.clone()),
            room_name,
            actor_id: actor.map(UserId::into_string),
            reason,
            created_at: now,
            read_at: None,
            message_id: None,
        };
        notification::Entity::insert(notification::ActiveModel::from(row.clone()))
            .exec_without_returning(txn)
            .await?;
        stored.push(row);
    }
    for event in events {
        let Some(entry) = effects::log_entry(event) else {
            continue;
        };
        tracing::info!(
            room_id = %room.id,
            event = ?entry.kind,
            actor_id = entry.actor.as_ref().map_or("-", UserId::as_str),
            target_id = entry.target.as_ref().map_or("-", UserId::as_str),
            reason = entry.reason.as_deref().unwrap_or(""),
            "membership event"
        );
        mod_log::Entity::insert(mod_log::ActiveModel {
            room_id: Set(room.id.clone()),
            kind: Set(entry.kind),
            actor_id: Set(entry.actor.map(UserId::into_string)),
            target_id: Set(entry.target.map(UserId::into_string)),
            reason: Set(entry.reason),
            created_at: Set(now),
            until: Set(entry.until.map(from_micros)),
            report_id: Set(report_id.map(ReportId::to_string)),
            ..Default::default()
        })
        .exec_without_returning(txn)
        .await?;
    }
    Ok(stored)
}

struct Committed {
    events: Vec<Event>,
}

/// The users an event names: they appear in frames and timeline lines.
fn event_users(event: &Event) -> Vec<UserId> {
    match event {
        Event::Joined { user, .. }
        | Event::Requested { user }
        | Event::InviteClosed { user, .. }
        | Event::BanEnded { user }
        | Event::CooldownStarted { user, .. }
        | Event::Cancelled { user } => vec![user.clone()],
        Event::Unmuted { user, by } => std::iter::once(user.clone()).chain(by.clone()).collect(),
        Event::Departed { user, by, .. } | Event::RoleChanged { user, by, .. } => {
            std::iter::once(user.clone()).chain(by.clone()).collect()
        }
        Event::RequestClosed { user, by, .. }
        | Event::Invited { user, by, .. }
        | Event::BanAdded { user, by, .. }
        | Event::Muted { user, by, .. }
        | Event::Purged { user, by, .. }
        | Event::BanLifted { user, by } => vec![user.clone(), by.clone()],
        Event::SettingsChanged { by, .. } => vec![by.clone()],
        Event::Terminated => Vec::new(),
    }
}

impl Rooms {
    /// The user an admin of `room_id` names (by id or username) for an invite or a ban.
    /// Whether the actor may act on the room is settled first, so nobody else learns from
    /// `user_not_found` which usernames exist.
    pub async fn resolve_target(
        &self,
        actor: &UserId,
        room_id: &RoomId,
        reference: &str,
    ) -> ServiceResult<User> {
        // The same answers as every other admin action: `not_member` to someone who sees
        // the room from outside, `forbidden` to a member who is not an admin.
        match self.get(actor, room_id).await? {
            (_, Some(role)) if role.is_admin() => resolve_user(&self.db, reference).await,
            (_, Some(_)) => Err(ApiError::new(
                ErrorCode::Forbidden,
                "Only the room's admins can do that.",
            )
            .into()),
            (_, None) => Err(domain::access::not_member().into()),
        }
    }

    pub async fn create(&self, actor: &UserId, input: NewRoom<'_>) -> ServiceResult<RoomView> {
        let name = RoomName::parse(input.name)?;
        self.limits.check(Action::CreateRoom, actor).await?;
        let topic = parse_topic(input.topic)?;
        let policy = match input.join_policy {
            Some(p) => JoinPolicy::parse(p)?,
            None => JoinPolicy::default(),
        };
        let max_members = parse_max_members(input.max_members)?;
        let now = self.clock.now();
        let model = room_row::Model {
            id: new_id(),
            name: name.as_str().to_owned(),
            name_key: name.key(),
            name_skeleton: Some(domain::text::skeleton(name.as_str())),
            topic,
            join_policy: policy,
            max_members: max_members.map(|n| n as i32),
            status: RoomStatus::Active,
            created_by: actor.to_string(),
            created_at: now,
            terminated_at: None,
            slow_mode_seconds: 0,
            announcement: false,
            request_cooldown_seconds: 86_400,
        };
        let txn = begin_write(&self.db).await?;
        // The partial unique index decides; two creators racing for one name meet here.
        if let Err(e) = room_row::Entity::insert(room_row::ActiveModel::from(model.clone()))
            .exec_without_returning(&txn)
            .await
        {
            return Err(match e.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::new(
                    ErrorCode::RoomNameTaken,
                    "An active room already has that name, or one that looks the same. Pick \
                     another one.",
                )
                .for_field("name")
                .into(),
                _ => e.into(),
            });
        }
        let before = Room {
            id: RoomId::new(model.id.clone()),
            status: RoomStatus::Active,
            policy,
            max_members,
            topic: model.topic.clone(),
            members: Vec::new(),
            member_count: 0,
            banned: BTreeSet::new(),
            requests: BTreeSet::new(),
            invites: BTreeMap::new(),
            muted: BTreeSet::new(),
            rules: Default::default(),
            request_cooldown_seconds: 0,
            cooldowns: BTreeMap::new(),
        };
        let events = vec![Event::Joined {
            user: actor.clone(),
            role: Role::Owner,
            via: room::JoinedVia::Created,
        }];
        self.commit(txn, &model, &before, events, now, None).await?;
        Ok(view(&model, 1))
    }

    /// Runs one command against one room, atomically.
    /// Contention is waited out, never an error: when another writer kept the database
    /// past its wait (SQLite busy, under many joins at once) the decision is taken again
    /// from the start, a few times, after a short random pause.
    pub async fn act(
        &self,
        actor: &UserId,
        room_id: &RoomId,
        command: Command,
    ) -> ServiceResult<Outcome> {
        self.act_settling(actor, room_id, command, None).await
    }

    /// [`Self::act`], resolving a report in the same transaction when `settle` names one:
    /// its log entries carry the report's id, and a refusal leaves the report open.
    pub(crate) async fn act_settling(
        &self,
        actor: &UserId,
        room_id: &RoomId,
        command: Command,
        settle: Option<&Settle>,
    ) -> ServiceResult<Outcome> {
        let mut attempt = 0;
        loop {
            match self.act_once(actor, room_id, command.clone(), settle).await {
                Err(ServiceError::Db(e)) if crate::db::is_contended(&e) && attempt < 5 => {
                    attempt += 1;
                    tracing::info!(
                        %room_id,
                        attempt,
                        "a room decision met a busy database; trying again"
                    );
                    tokio::time::sleep(crate::db::contention_pause(attempt)).await;
                }
                other => return other,
            }
        }
    }

    async fn act_once(
        &self,
        actor: &UserId,
        room_id: &RoomId,
        command: Command,
        settle: Option<&Settle>,
    ) -> ServiceResult<Outcome> {
        let now = self.clock.now();
        let txn = begin_write(&self.db).await?;
        let target = command.target();
        let Some((model, before)) = load_room(&txn, room_id, true, actor, target, now).await?
        else {
            return Err(room_not_found().into());
        };
        if !before.is_active() {
            // Whether it says "terminated" depends on their past, which the room no longer
            // holds: ask the access rule with what is stored.
            access::load_at(&txn, actor, room_id, now)
                .await?
                .standing
                .may_see()?;
        }
        // A room that banned the actor, or a private one they may not see, does not exist
        // for them — except to hear `banned` when they try to get back in.
        let trying_to_enter = matches!(command, Command::Join | Command::AcceptInvite);
        let standing = before.standing(actor, micros(now));
        if let Err(hidden) = standing.may_see() {
            if !(trying_to_enter && standing.banned) {
                return Err(hidden.into());
            }
        }
        let events = room::decide(&before, actor, &command, micros(now))?;
        // Charged only for what the rules allowed: a refusal costs nobody anything.
        match charged_action(&command, &events) {
            Charge::User(action) => self.limits.check(action, actor).await?,
            Charge::InRoom => {
                self.limits
                    .check_in_room(Action::JoinLeave, actor, room_id)
                    .await?;
            }
            Charge::InRoomNeverRefused => {
                let _ = self
                    .limits
                    .check_in_room(Action::JoinLeave, actor, room_id)
                    .await;
            }
        }
        if let Some(settle) = settle {
            settle.claim(&txn, now).await?;
        }
        let report_id = settle.map(|s| &s.id);
        let committed = self
            .commit(txn, &model, &before, events, now, report_id)
            .await?;
        let terminated = committed.events.contains(&Event::Terminated);
        Ok(Outcome {
            events: committed.events,
            terminated,
        })
    }

    /// Writes `events` with their notifications, log entries and timeline lines, commits,
    /// then publishes all of it.
    async fn commit(
        &self,
        txn: DatabaseTransaction,
        model: &room_row::Model,
        before: &Room,
        events: Vec<Event>,
        now: DateTime<Utc>,
        report_id: Option<&ReportId>,
    ) -> ServiceResult<Committed> {
        let room_id = RoomId::new(model.id.clone());
        for e in &events {
            persist(&txn, &room_id, e, now).await?;
        }
        let notifications = record_effects(&txn, model, before, &events, now, report_id).await?;
        let mut purged = Vec::new();
        let mut unused_files = Vec::new();
        for event in &events {
            if let Event::Purged {
                user,
                by,
                since,
                reason,
            } = event
            {
                let (tombs, files) = crate::messages::changes::purge(
                    &txn,
                    &room_id,
                    user,
                    from_micros(*since),
                    by,
                    reason.clone(),
                    now,
                )
                .await?;
                purged.extend(tombs);
                unused_files.extend(files);
            }
        }
        let mut ids: Vec<UserId> = events.iter().flat_map(event_users).collect();
        ids.extend(
            notifications
                .iter()
                .filter_map(|n| n.actor_id.clone().map(UserId::new)),
        );
        let users = users_by_ids(&txn, &ids).await?;
        let lines = insert_system_lines(&txn, &room_id, &events, &users, now).await?;
        txn.commit().await?;
        if let Some(dir) = &self.files_dir {
            for id in &unused_files {
                // Nobody can fetch it any more (its row is gone); bytes left are only space.
                if let Err(e) = crate::housekeeping::remove_stored_file(dir, id) {
                    tracing::warn!(error = %e, file_id = %id, "could not remove a purged message's file");
                }
            }
        }

        self.hub.publish(Published::Room {
            room_id,
            events: events.clone(),
            users: users.clone(),
        });
        if !lines.is_empty() {
            self.hub.publish(Published::Messages {
                messages: lines
                    .into_iter()
                    .map(|line| Posted {
                        message: message_view(line, &users),
                        client_id: None,
                    })
                    .collect(),
            });
        }
        if let Some(settings) = events.iter().find_map(|e| match e {
            Event::SettingsChanged { settings, .. } => Some(settings),
            _ => None,
        }) {
            let mut changed = model.clone();
            if let Some(topic) = &settings.topic {
                changed.topic.clone_from(topic);
            }
            if let Some(policy) = settings.policy {
                changed.join_policy = policy;
            }
            if let Some(max) = settings.max_members {
                changed.max_members = max.map(|n| n as i32);
            }
            if let Some(seconds) = settings.slow_mode_seconds {
                changed.slow_mode_seconds = i32::try_from(seconds).unwrap_or(i32::MAX);
            }
            if let Some(announcement) = settings.announcement {
                changed.announcement = announcement;
            }
            if let Some(seconds) = settings.request_cooldown_seconds {
                changed.request_cooldown_seconds = i32::try_from(seconds).unwrap_or(i32::MAX);
            }
            self.hub.publish(Published::RoomUpdated {
                room: view(&changed, before.member_count),
            });
        }
        if !purged.is_empty() {
            tracing::info!(room_id = %model.id, purged = purged.len(), "messages purged");
            let related = Related::load(&self.db, &purged).await?;
            for tomb in purged {
                self.hub.publish(Published::MessageUpdated {
                    message: Box::new(related.view(tomb, None)),
                });
            }
        }
        for row in notifications {
            let user_id = UserId::new(row.user_id.clone());
            self.hub.publish(Published::Notification {
                user_id,
                notification: notification_view(row, &users),
            });
        }
        Ok(Committed { events })
    }
}

/// A timeout or timed ban whose end has passed.
enum Ending {
    Mute,
    Ban,
}

impl Rooms {
    /// Records the timeouts and timed bans that have run out: each leaves the database,
    /// the moderation log says it ended, the person is notified ("your timeout in X has
    /// ended") and the room hears of a timeout's end. Rules never wait for this: every check
    /// compares the end with the time. Several instances may run it at once; the row's
    /// delete decides which one records an ending, so each is recorded once.
    pub async fn end_expired(&self) -> ServiceResult<usize> {
        let now = self.clock.now();
        let mutes = mute::Entity::find()
            .filter(mute::Column::Until.lte(now))
            .limit(500)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| (m.room_id, m.user_id, Ending::Mute));
        let bans = ban::Entity::find()
            .filter(ban::Column::Until.lte(now))
            .limit(500)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|b| (b.room_id, b.user_id, Ending::Ban));
        // Cooldowns that ran out go quietly: nobody is told a wait is over.
        request_cooldown::Entity::delete_many()
            .filter(request_cooldown::Column::Until.lte(now))
            .exec(&self.db)
            .await?;
        let mut ended = 0;
        for (room_id, user_id, ending) in mutes.chain(bans).collect::<Vec<_>>() {
            let (room_id, user_id) = (RoomId::new(room_id), UserId::new(user_id));
            if self.end_one(&room_id, &user_id, ending, now).await? {
                ended += 1;
            }
        }
        Ok(ended)
    }

    async fn end_one(
        &self,
        room_id: &RoomId,
        user_id: &UserId,
        ending: Ending,
        now: DateTime<Utc>,
    ) -> ServiceResult<bool> {
        let txn = begin_write(&self.db).await?;
        let Some((model, before)) = load_room(&txn, room_id, true, user_id, None, now).await?
        else {
            return Ok(false);
        };
        let key = (room_id.to_string(), user_id.to_string());
        // Only a row still past its end: a new timeout or ban may have replaced it.
        let (deleted, event) = match ending {
            Ending::Mute => (
                mute::Entity::delete_many()
                    .filter(mute::Column::RoomId.eq(key.0))
                    .filter(mute::Column::UserId.eq(key.1))
                    .filter(mute::Column::Until.lte(now))
                    .exec(&txn)
                    .await?
                    .rows_affected,
                Event::Unmuted {
                    user: user_id.clone(),
                    by: None,
                },
            ),
            Ending::Ban => (
                ban::Entity::delete_many()
                    .filter(ban::Column::RoomId.eq(key.0))
                    .filter(ban::Column::UserId.eq(key.1))
                    .filter(ban::Column::Until.lte(now))
                    .exec(&txn)
                    .await?
                    .rows_affected,
                Event::BanEnded {
                    user: user_id.clone(),
                },
            ),
        };
        if deleted == 0 {
            return Ok(false);
        }
        // A terminated room keeps no moderation going: the row goes quietly.
        if !before.is_active() {
            txn.commit().await?;
            return Ok(true);
        }
        self.commit(txn, &model, &before, vec![event], now, None)
            .await?;
        Ok(true)
    }
}

/// Stores a row, or where one with its key is stored already, overwrites `replace` in it.
async fn upsert<A: ActiveModelTrait>(
    txn: &DatabaseTransaction,
    row: A,
    replace: impl IntoIterator<Item = <A::Entity as EntityTrait>::Column>,
) -> ServiceResult<()> {
    let key = <A::Entity as EntityTrait>::PrimaryKey::iter().map(|k| k.into_column());
    <A::Entity as EntityTrait>::insert(row)
        .on_conflict(OnConflict::columns(key).update_columns(replace).to_owned())
        .exec_without_returning(txn)
        .await?;
    Ok(())
}
