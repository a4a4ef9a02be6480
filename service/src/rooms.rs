//! Rooms (docs/RULES.md §2–§5, §8): every use case loads the room inside a write transaction
//! (row lock on PostgreSQL, `BEGIN IMMEDIATE` on SQLite), lets `domain::room::decide` rule,
//! writes the events, their notifications and log entries, commits, then publishes.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::Arc,
};

use chrono::{DateTime, Utc};
use domain::{
    access::room_not_found,
    effects::{self, LogKind, NotificationDraft},
    room::{
        self, parse_max_members, parse_topic, Command, Event, JoinPolicy, Member, MembershipStatus,
        Micros, Role, Room, RoomName, RoomStatus,
    },
    views::{
        BanView, InviteView, LogEntryView, MemberView, MyRoom, PreviousRoom, RequestView, RoomView,
    },
    vocab::NotificationKind,
    ApiError, ErrorCode, RoomId, User, UserId,
};
use entity::{ban, invite, join_request, membership, mod_log, notification, room as room_row};
use sea_orm::{
    sea_query::{Expr, ExprTrait, LikeExpr, OnConflict, Query},
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    EntityTrait, FromQueryResult, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    SqlErr,
};

use crate::{
    access,
    error::ServiceResult,
    hub::{Hub, Posted, Published},
    ids::new_id,
    limits::{Action, ActionLimits},
    notifications::notification_view,
    time::{from_micros, micros, rfc3339},
    timeline::{insert_system_lines, message_view},
    tx::begin_write,
    users::{resolve_user, users_by_ids},
    ServiceError,
};

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
}

/// The per-user allowance a command draws on, if any: the ones that notify someone.
fn charged_action(command: &Command, events: &[Event]) -> Option<Action> {
    match command {
        Command::Invite { .. } => Some(Action::Invite),
        Command::Kick { .. } | Command::Ban { .. } | Command::Unban { .. } => {
            Some(Action::Moderate)
        }
        Command::Join if events.iter().any(|e| matches!(e, Event::Requested { .. })) => {
            Some(Action::Request)
        }
        _ => None,
    }
}

pub struct NewRoom<'a> {
    pub name: &'a str,
    pub topic: Option<&'a str>,
    pub join_policy: Option<&'a str>,
    pub max_members: Option<i64>,
}

fn view(model: &room_row::Model, member_count: usize) -> RoomView {
    RoomView {
        id: RoomId::from(model.id.clone()),
        name: model.name.clone(),
        topic: model.topic.clone(),
        join_policy: model.join_policy,
        max_members: model.max_members.and_then(|n| u32::try_from(n).ok()),
        member_count: u32::try_from(member_count).unwrap_or(u32::MAX),
        status: model.status,
    }
}

/// Loads what a decision by `actor` on `target` needs of a room (`Room::summary_for`):
/// every admin, the two of them and the two earliest joiners, their bans, requests and
/// invites, and the member count. None of it grows with the room's size but the admins, so
/// a join costs the same in a room of 5 or 5,000. On PostgreSQL with `lock`, the room row
/// stays locked until the transaction ends, so decisions about one room happen one at a
/// time.
async fn load_room<C: ConnectionTrait>(
    conn: &C,
    room_id: &str,
    lock: bool,
    actor: &str,
    target: Option<&str>,
) -> ServiceResult<Option<(room_row::Model, Room)>> {
    let mut find = room_row::Entity::find_by_id(room_id.to_owned());
    if lock && conn.get_database_backend() == DbBackend::Postgres {
        find = find.lock_exclusive();
    }
    let Some(model) = find.one(conn).await? else {
        return Ok(None);
    };
    let concerned: Vec<&str> = [Some(actor), target].into_iter().flatten().collect();
    let active = || {
        membership::Entity::find()
            .filter(membership::Column::RoomId.eq(room_id))
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
            user_id: m.user_id.into(),
            joined_at: m.join_seq,
        })
        .collect();
    let member_count = usize::try_from(active().count(conn).await?).unwrap_or(usize::MAX);
    let banned: BTreeSet<UserId> = ban::Entity::find()
        .filter(ban::Column::RoomId.eq(room_id))
        .filter(ban::Column::UserId.is_in(concerned.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|b| b.user_id.into())
        .collect();
    let requests = join_request::Entity::find()
        .filter(join_request::Column::RoomId.eq(room_id))
        .filter(join_request::Column::UserId.is_in(concerned.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.user_id.into())
        .collect();
    let invites: BTreeMap<UserId, Micros> = invite::Entity::find()
        .filter(invite::Column::RoomId.eq(room_id))
        .filter(invite::Column::UserId.is_in(concerned.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|i| (i.user_id.into(), micros(i.expires_at)))
        .collect();
    let state = Room {
        id: model.id.clone().into(),
        status: model.status,
        policy: model.join_policy,
        max_members: model.max_members.and_then(|n| u32::try_from(n).ok()),
        topic: model.topic.clone(),
        members,
        member_count,
        banned,
        requests,
        invites,
    };
    Ok(Some((model, state)))
}

/// Writes one event's change to the database: the twin of `Room::apply`.
async fn persist(
    txn: &DatabaseTransaction,
    room_id: &str,
    event: &Event,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let key = |user: &UserId| (room_id.to_owned(), user.to_string());
    match event {
        Event::Joined { user, role, .. } => {
            let row = membership::ActiveModel {
                room_id: Set(room_id.to_owned()),
                user_id: Set(user.to_string()),
                role: Set(*role),
                status: Set(MembershipStatus::Active),
                joined_at: Set(now),
                join_seq: Set(micros(now)),
                first_joined_at: Set(now),
                left_at: Set(None),
            };
            membership::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([membership::Column::RoomId, membership::Column::UserId])
                        .update_columns([
                            membership::Column::Role,
                            membership::Column::Status,
                            membership::Column::JoinedAt,
                            membership::Column::JoinSeq,
                            membership::Column::LeftAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
            join_request::Entity::delete_by_id(key(user))
                .exec(txn)
                .await?;
            invite::Entity::delete_by_id(key(user)).exec(txn).await?;
        }
        Event::Departed { user, reason, .. } => {
            membership::Entity::update_many()
                .col_expr(
                    membership::Column::Status,
                    Expr::value(MembershipStatus::from(*reason)),
                )
                .col_expr(membership::Column::LeftAt, Expr::value(now))
                .filter(membership::Column::RoomId.eq(room_id))
                .filter(membership::Column::UserId.eq(user.as_str()))
                .exec(txn)
                .await?;
        }
        Event::RoleChanged { user, role, .. } => {
            membership::Entity::update_many()
                .col_expr(membership::Column::Role, Expr::value(*role))
                .filter(membership::Column::RoomId.eq(room_id))
                .filter(membership::Column::UserId.eq(user.as_str()))
                .exec(txn)
                .await?;
        }
        Event::Requested { user } => {
            join_request::Entity::insert(join_request::ActiveModel {
                room_id: Set(room_id.to_owned()),
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
        } => {
            invite::Entity::insert(invite::ActiveModel {
                room_id: Set(room_id.to_owned()),
                user_id: Set(user.to_string()),
                invited_by: Set(by.to_string()),
                created_at: Set(now),
                expires_at: Set(from_micros(*expires_at)),
            })
            .on_conflict(
                OnConflict::columns([invite::Column::RoomId, invite::Column::UserId])
                    .update_columns([
                        invite::Column::InvitedBy,
                        invite::Column::CreatedAt,
                        invite::Column::ExpiresAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
        }
        Event::InviteClosed { user, .. } => {
            invite::Entity::delete_by_id(key(user)).exec(txn).await?;
        }
        Event::Cancelled { user } => {
            invite::Entity::delete_by_id(key(user)).exec(txn).await?;
            join_request::Entity::delete_by_id(key(user))
                .exec(txn)
                .await?;
        }
        Event::BanAdded { user, by, reason } => {
            ban::Entity::insert(ban::ActiveModel {
                room_id: Set(room_id.to_owned()),
                user_id: Set(user.to_string()),
                banned_by: Set(by.to_string()),
                reason: Set(reason.clone()),
                created_at: Set(now),
            })
            .exec_without_returning(txn)
            .await?;
        }
        Event::BanLifted { user, .. } => {
            ban::Entity::delete_by_id(key(user)).exec(txn).await?;
        }
        Event::SettingsChanged { settings, .. } => {
            let mut update =
                room_row::Entity::update_many().filter(room_row::Column::Id.eq(room_id));
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
            update.exec(txn).await?;
        }
        Event::Terminated => {
            room_row::Entity::update_many()
                .col_expr(
                    room_row::Column::Status,
                    Expr::value(RoomStatus::Terminated),
                )
                .col_expr(room_row::Column::TerminatedAt, Expr::value(Some(now)))
                .filter(room_row::Column::Id.eq(room_id))
                .exec(txn)
                .await?;
            join_request::Entity::delete_many()
                .filter(join_request::Column::RoomId.eq(room_id))
                .exec(txn)
                .await?;
            invite::Entity::delete_many()
                .filter(invite::Column::RoomId.eq(room_id))
                .exec(txn)
                .await?;
        }
    }
    Ok(())
}

/// Stores the notifications and log entries of `events`; returns the stored notifications.
async fn record_effects(
    txn: &DatabaseTransaction,
    room: &room_row::Model,
    before: &Room,
    events: &[Event],
    now: DateTime<Utc>,
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
        let strangers_may_get =
            matches!(kind, NotificationKind::Banned | NotificationKind::Unbanned);
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
            actor_id = entry.actor.as_deref().unwrap_or("-"),
            target_id = entry.target.as_deref().unwrap_or("-"),
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
        | Event::Cancelled { user } => vec![user.clone()],
        Event::Departed { user, by, .. } | Event::RoleChanged { user, by, .. } => {
            std::iter::once(user.clone()).chain(by.clone()).collect()
        }
        Event::RequestClosed { user, by, .. }
        | Event::Invited { user, by, .. }
        | Event::BanAdded { user, by, .. }
        | Event::BanLifted { user, by } => vec![user.clone(), by.clone()],
        Event::SettingsChanged { by, .. } => vec![by.clone()],
        Event::Terminated => Vec::new(),
    }
}

#[derive(FromQueryResult)]
struct RoomCount {
    room_id: String,
    n: i64,
}

impl Rooms {
    /// With no per-user limits: see [`Self::with_limits`].
    pub fn new(db: DatabaseConnection, hub: Arc<dyn Hub>) -> Self {
        Self {
            db,
            hub,
            limits: ActionLimits::default(),
        }
    }

    pub fn with_limits(mut self, limits: ActionLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The user an admin of `room_id` names (by id or username) for an invite or a ban.
    /// Whether the actor may act on the room is settled first, so nobody else learns from
    /// `user_not_found` which usernames exist.
    pub async fn resolve_target(
        &self,
        actor: &str,
        room_id: &str,
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

    /// Up to 10 usernames starting with `prefix`, for an invite form's suggestions.
    pub async fn usernames_starting(&self, prefix: &str) -> ServiceResult<Vec<String>> {
        crate::users::usernames_starting(&self.db, prefix, 10).await
    }

    pub async fn create(&self, actor: &str, input: NewRoom<'_>) -> ServiceResult<RoomView> {
        let name = RoomName::parse(input.name)?;
        self.limits.check(Action::CreateRoom, actor).await?;
        let topic = parse_topic(input.topic)?;
        let policy = match input.join_policy {
            Some(p) => JoinPolicy::parse(p)?,
            None => JoinPolicy::default(),
        };
        let max_members = parse_max_members(input.max_members)?;
        let now = Utc::now();
        let model = room_row::Model {
            id: new_id(),
            name: name.as_str().to_owned(),
            name_key: name.key(),
            topic,
            join_policy: policy,
            max_members: max_members.map(|n| n as i32),
            status: RoomStatus::Active,
            created_by: actor.to_owned(),
            created_at: now,
            terminated_at: None,
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
                    "An active room already has that name. Pick another one.",
                )
                .for_field("name")
                .into(),
                _ => e.into(),
            });
        }
        let before = Room {
            id: model.id.clone().into(),
            status: RoomStatus::Active,
            policy,
            max_members,
            topic: model.topic.clone(),
            members: Vec::new(),
            member_count: 0,
            banned: BTreeSet::new(),
            requests: BTreeSet::new(),
            invites: BTreeMap::new(),
        };
        let events = vec![Event::Joined {
            user: actor.into(),
            role: Role::Owner,
            via: room::JoinedVia::Created,
        }];
        self.commit(txn, &model, &before, events, now).await?;
        Ok(view(&model, 1))
    }

    /// Runs one command against one room, atomically.
    /// Contention is waited out, never an error: when another writer kept the database
    /// past its wait (SQLite busy, under many joins at once) the decision is taken again
    /// from the start, a few times, after a short random pause.
    pub async fn act(
        &self,
        actor: &str,
        room_id: &str,
        command: Command,
    ) -> ServiceResult<Outcome> {
        let mut attempt = 0;
        loop {
            match self.act_once(actor, room_id, command.clone()).await {
                Err(ServiceError::Db(e)) if crate::db::is_contended(&e) && attempt < 5 => {
                    attempt += 1;
                    tracing::info!(
                        room_id,
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
        actor: &str,
        room_id: &str,
        command: Command,
    ) -> ServiceResult<Outcome> {
        let now = Utc::now();
        let txn = begin_write(&self.db).await?;
        let target = command.target().map(UserId::as_str);
        let Some((model, before)) = load_room(&txn, room_id, true, actor, target).await? else {
            return Err(room_not_found().into());
        };
        if !before.is_active() {
            // Whether it says "terminated" depends on their past, which the room no longer
            // holds: ask the access rule with what is stored.
            access::load(&txn, actor, room_id)
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
        if let Some(action) = charged_action(&command, &events) {
            self.limits.check(action, actor).await?;
        }
        let committed = self.commit(txn, &model, &before, events, now).await?;
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
    ) -> ServiceResult<Committed> {
        for e in &events {
            persist(&txn, &model.id, e, now).await?;
        }
        let notifications = record_effects(&txn, model, before, &events, now).await?;
        let mut ids: Vec<UserId> = events.iter().flat_map(event_users).collect();
        ids.extend(
            notifications
                .iter()
                .filter_map(|n| n.actor_id.clone().map(UserId::from)),
        );
        let users = users_by_ids(&txn, &ids).await?;
        let lines = insert_system_lines(&txn, &model.id, &events, &users, now).await?;
        txn.commit().await?;

        self.hub.publish(Published::Room {
            room_id: model.id.clone().into(),
            events: events.clone(),
            users: users.clone(),
        });
        if !lines.is_empty() {
            self.hub.publish(Published::Messages {
                messages: lines
                    .into_iter()
                    .map(|line| Posted {
                        message: message_view(line, &users),
                        origin: None,
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
            self.hub.publish(Published::RoomUpdated {
                room: view(&changed, before.member_count),
            });
        }
        for row in notifications {
            let user_id = UserId::from(row.user_id.clone());
            self.hub.publish(Published::Notification {
                user_id,
                notification: notification_view(row, &users),
            });
        }
        Ok(Committed { events })
    }

    /// `rooms/get`: the room and the caller's role, if the caller may see it.
    pub async fn get(&self, actor: &str, room_id: &str) -> ServiceResult<(RoomView, Option<Role>)> {
        let access = access::load(&self.db, actor, room_id).await?;
        access.standing.may_see()?;
        let count = self.member_counts(&[room_id.to_owned()]).await?;
        let members = count.get(room_id).copied().unwrap_or(0);
        Ok((view(&access.room, members), access.role))
    }

    /// Whether `actor` has a pending request to join `room_id`, and a valid invite to it.
    pub async fn pending_for(&self, actor: &str, room_id: &str) -> ServiceResult<(bool, bool)> {
        let key = (room_id.to_owned(), actor.to_owned());
        let requested = join_request::Entity::find_by_id(key)
            .one(&self.db)
            .await?
            .is_some();
        let invited = access::load(&self.db, actor, room_id)
            .await?
            .standing
            .invited;
        Ok((requested, invited))
    }

    async fn member_counts(&self, room_ids: &[String]) -> ServiceResult<HashMap<String, usize>> {
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
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.room_id, usize::try_from(r.n).unwrap_or(0)))
            .collect())
    }

    async fn views(&self, models: &[room_row::Model]) -> ServiceResult<Vec<RoomView>> {
        let ids: Vec<String> = models.iter().map(|m| m.id.clone()).collect();
        let counts = self.member_counts(&ids).await?;
        Ok(models
            .iter()
            .map(|m| view(m, counts.get(&m.id).copied().unwrap_or(0)))
            .collect())
    }

    /// `rooms/search`: active listed rooms whose name contains `query` (any case), by name,
    /// never a room that banned the caller.
    pub async fn search(
        &self,
        actor: &str,
        query: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> ServiceResult<(Vec<RoomView>, Option<String>)> {
        self.limits.check(Action::Search, actor).await?;
        let limit = limit.unwrap_or(20).clamp(1, 100);
        let mut find = room_row::Entity::find()
            .filter(room_row::Column::Status.eq(RoomStatus::Active))
            .filter(room_row::Column::JoinPolicy.is_in([JoinPolicy::Open, JoinPolicy::Request]))
            .filter(
                room_row::Column::Id.not_in_subquery(
                    Query::select()
                        .column(ban::Column::RoomId)
                        .from(ban::Entity)
                        .and_where(ban::Column::UserId.eq(actor))
                        .to_owned(),
                ),
            );
        if let Some(q) = query.map(str::trim).filter(|q| !q.is_empty()) {
            let escaped = domain::room::fold(q)
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            find = find.filter(
                Expr::col(room_row::Column::NameKey)
                    .like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
            );
        }
        if let Some(cursor) = cursor {
            let (name_key, id) = decode_cursor(cursor)?;
            find = find.filter(
                Condition::any()
                    .add(room_row::Column::NameKey.gt(name_key.clone()))
                    .add(
                        Condition::all()
                            .add(room_row::Column::NameKey.eq(name_key))
                            .add(room_row::Column::Id.gt(id)),
                    ),
            );
        }
        let mut models = find
            .order_by(room_row::Column::NameKey, Order::Asc)
            .order_by(room_row::Column::Id, Order::Asc)
            .limit(u64::from(limit) + 1)
            .all(&self.db)
            .await?;
        let next = if models.len() > limit as usize {
            models.truncate(limit as usize);
            models.last().map(|m| encode_cursor(&m.name_key, &m.id))
        } else {
            None
        };
        Ok((self.views(&models).await?, next))
    }

    /// `rooms/mine`: the caller's current rooms with their role, by name.
    pub async fn mine(&self, actor: &str) -> ServiceResult<Vec<MyRoom>> {
        let memberships = membership::Entity::find()
            .filter(membership::Column::UserId.eq(actor))
            .filter(membership::Column::Status.eq(MembershipStatus::Active))
            .all(&self.db)
            .await?;
        let roles: HashMap<String, Role> = memberships
            .iter()
            .map(|m| (m.room_id.clone(), m.role))
            .collect();
        let models = room_row::Entity::find()
            .filter(room_row::Column::Id.is_in(roles.keys().cloned()))
            .filter(room_row::Column::Status.eq(RoomStatus::Active))
            .order_by(room_row::Column::NameKey, Order::Asc)
            .all(&self.db)
            .await?;
        Ok(self
            .views(&models)
            .await?
            .into_iter()
            .map(|room| MyRoom {
                my_role: roles.get(room.id.as_str()).copied().unwrap_or(Role::Member),
                room,
            })
            .collect())
    }

    /// `rooms/previous`: active rooms the caller left or was kicked from, latest first;
    /// never a room that banned them or one that terminated.
    pub async fn previous(&self, actor: &str) -> ServiceResult<Vec<PreviousRoom>> {
        let past = membership::Entity::find()
            .filter(membership::Column::UserId.eq(actor))
            .filter(
                membership::Column::Status
                    .is_in([MembershipStatus::Left, MembershipStatus::Kicked]),
            )
            .order_by(membership::Column::LeftAt, Order::Desc)
            .all(&self.db)
            .await?;
        if past.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = past.iter().map(|m| m.room_id.clone()).collect();
        // One query per table for the whole list, not one room load per past room.
        let rooms: HashMap<String, room_row::Model> = room_row::Entity::find()
            .filter(room_row::Column::Id.is_in(ids.clone()))
            .filter(room_row::Column::Status.eq(RoomStatus::Active))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| (m.id.clone(), m))
            .collect();
        let counts = self.member_counts(&ids).await?;
        let banned: BTreeSet<String> = ban::Entity::find()
            .filter(ban::Column::UserId.eq(actor))
            .filter(ban::Column::RoomId.is_in(ids.clone()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|b| b.room_id)
            .collect();
        let requested: BTreeSet<String> = join_request::Entity::find()
            .filter(join_request::Column::UserId.eq(actor))
            .filter(join_request::Column::RoomId.is_in(ids.clone()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| r.room_id)
            .collect();
        let invites: HashMap<String, Micros> = invite::Entity::find()
            .filter(invite::Column::UserId.eq(actor))
            .filter(invite::Column::RoomId.is_in(ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|i| (i.room_id, micros(i.expires_at)))
            .collect();
        let now = micros(Utc::now());
        Ok(past
            .into_iter()
            .filter(|m| !banned.contains(&m.room_id))
            .filter_map(|m| {
                let model = rooms.get(&m.room_id)?;
                let count = counts.get(&m.room_id).copied().unwrap_or(0);
                let room = view(model, count);
                let can_rejoin = room::can_rejoin(
                    room.join_policy,
                    room.max_members,
                    count,
                    requested.contains(&m.room_id),
                    invites.get(&m.room_id).copied(),
                    now,
                );
                Some(PreviousRoom {
                    room,
                    left_at: rfc3339(m.left_at.unwrap_or(m.joined_at)),
                    reason: m.status.leave_reason()?,
                    can_rejoin,
                })
            })
            .collect())
    }

    /// `rooms/members`: in join order.
    pub async fn members(&self, actor: &str, room_id: &str) -> ServiceResult<Vec<MemberView>> {
        access::require_member(&self.db, actor, room_id).await?;
        let rows = membership::Entity::find()
            .filter(membership::Column::RoomId.eq(room_id))
            .filter(membership::Column::Status.eq(MembershipStatus::Active))
            .order_by(membership::Column::JoinSeq, Order::Asc)
            .order_by(membership::Column::UserId, Order::Asc)
            .all(&self.db)
            .await?;
        self.with_users(
            rows,
            |m| &m.user_id,
            |m, user| MemberView {
                user,
                role: m.role,
                joined_at: rfc3339(from_micros(m.join_seq)),
            },
        )
        .await
    }

    /// `rooms/requests`: pending requests, oldest first (admins).
    pub async fn requests(&self, actor: &str, room_id: &str) -> ServiceResult<Vec<RequestView>> {
        access::require_admin(&self.db, actor, room_id).await?;
        let rows = join_request::Entity::find()
            .filter(join_request::Column::RoomId.eq(room_id))
            .order_by(join_request::Column::CreatedAt, Order::Asc)
            .all(&self.db)
            .await?;
        self.with_users(
            rows,
            |r| &r.user_id,
            |r, user| RequestView {
                user,
                created_at: rfc3339(r.created_at),
            },
        )
        .await
    }

    /// `rooms/bans` (admins), newest first.
    pub async fn bans(&self, actor: &str, room_id: &str) -> ServiceResult<Vec<BanView>> {
        access::require_admin(&self.db, actor, room_id).await?;
        let rows = ban::Entity::find()
            .filter(ban::Column::RoomId.eq(room_id))
            .order_by(ban::Column::CreatedAt, Order::Desc)
            .all(&self.db)
            .await?;
        let ids: Vec<UserId> = rows
            .iter()
            .flat_map(|r| [r.user_id.as_str().into(), r.banned_by.as_str().into()])
            .collect();
        let users = users_by_ids(&self.db, &ids).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(BanView {
                    user: users.get(r.user_id.as_str())?.clone(),
                    banned_by: users.get(r.banned_by.as_str()).cloned(),
                    reason: r.reason,
                    created_at: rfc3339(r.created_at),
                })
            })
            .collect())
    }

    /// `rooms/invites` (admins): invitations not yet answered or expired, newest first.
    pub async fn invites(&self, actor: &str, room_id: &str) -> ServiceResult<Vec<InviteView>> {
        access::require_admin(&self.db, actor, room_id).await?;
        let rows = invite::Entity::find()
            .filter(invite::Column::RoomId.eq(room_id))
            .filter(invite::Column::ExpiresAt.gt(Utc::now()))
            .order_by(invite::Column::CreatedAt, Order::Desc)
            .all(&self.db)
            .await?;
        let ids: Vec<UserId> = rows
            .iter()
            .flat_map(|r| [r.user_id.as_str().into(), r.invited_by.as_str().into()])
            .collect();
        let users = users_by_ids(&self.db, &ids).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(InviteView {
                    user: users.get(r.user_id.as_str())?.clone(),
                    invited_by: users.get(r.invited_by.as_str()).cloned(),
                    created_at: rfc3339(r.created_at),
                    expires_at: rfc3339(r.expires_at),
                })
            })
            .collect())
    }

    /// Turns rows that name a user into views carrying that user, in one query for all
    /// of them; a row whose user no longer exists is left out.
    async fn with_users<R, V>(
        &self,
        rows: Vec<R>,
        user_id: impl Fn(&R) -> &String,
        to_view: impl Fn(R, User) -> V,
    ) -> ServiceResult<Vec<V>> {
        let ids: Vec<UserId> = rows.iter().map(|r| user_id(r).as_str().into()).collect();
        let users = users_by_ids(&self.db, &ids).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let user = users.get(user_id(&r).as_str())?.clone();
                Some(to_view(r, user))
            })
            .collect())
    }

    /// `rooms/log` (admins): newest first, 50 a page, `cursor` from the previous page.
    pub async fn log(
        &self,
        actor: &str,
        room_id: &str,
        cursor: Option<&str>,
        kind: Option<LogKind>,
    ) -> ServiceResult<(Vec<LogEntryView>, Option<String>)> {
        const PAGE: u64 = 50;
        access::require_admin(&self.db, actor, room_id).await?;
        let mut find = mod_log::Entity::find().filter(mod_log::Column::RoomId.eq(room_id));
        if let Some(kind) = kind {
            find = find.filter(mod_log::Column::Kind.eq(kind));
        }
        if let Some(cursor) = cursor {
            let before: i64 = cursor.parse().map_err(|_| {
                ApiError::invalid_field("cursor", "That cursor is not one this server gave out.")
            })?;
            find = find.filter(mod_log::Column::Id.lt(before));
        }
        let mut rows = find
            .order_by(mod_log::Column::Id, Order::Desc)
            .limit(PAGE + 1)
            .all(&self.db)
            .await?;
        let next = if rows.len() as u64 > PAGE {
            rows.truncate(PAGE as usize);
            rows.last().map(|r| r.id.to_string())
        } else {
            None
        };
        let ids: Vec<UserId> = rows
            .iter()
            .flat_map(|r| [r.actor_id.clone(), r.target_id.clone()])
            .flatten()
            .map(UserId::from)
            .collect();
        let users = users_by_ids(&self.db, &ids).await?;
        let user = |id: &Option<String>| id.as_deref().and_then(|id| users.get(id).cloned());
        let entries = rows
            .iter()
            .map(|r| LogEntryView {
                id: r.id.to_string(),
                kind: r.kind,
                actor: user(&r.actor_id),
                target: user(&r.target_id),
                reason: r.reason.clone(),
                created_at: rfc3339(r.created_at),
            })
            .collect();
        Ok((entries, next))
    }

    /// A deleted account leaves every room it is in, each by the room rules (so succession
    /// and termination run, docs/RULES.md §4), then its remaining traces go: past
    /// memberships, bans, invites, join requests and notifications. Safe to run again: a
    /// deletion cut short is finished by [`Rooms::finish_deletions`].
    pub async fn depart_everywhere(&self, user_id: &str) -> ServiceResult<()> {
        let current = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user_id))
            .filter(membership::Column::Status.eq(MembershipStatus::Active))
            .all(&self.db)
            .await?;
        for m in current {
            match self.act(user_id, &m.room_id, Command::Leave).await {
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
        membership::Entity::delete_many()
            .filter(membership::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?;
        ban::Entity::delete_many()
            .filter(ban::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?;
        invite::Entity::delete_many()
            .filter(invite::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?;
        join_request::Entity::delete_many()
            .filter(join_request::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?;
        notification::Entity::delete_many()
            .filter(notification::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?;
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
            self.depart_everywhere(&user.id).await?;
        }
        Ok(unfinished.len())
    }

    /// How many rooms exist (tests and housekeeping reports).
    pub async fn count_active(&self) -> ServiceResult<u64> {
        Ok(room_row::Entity::find()
            .filter(room_row::Column::Status.eq(RoomStatus::Active))
            .count(&self.db)
            .await?)
    }
}

fn encode_cursor(name_key: &str, id: &str) -> String {
    format!("{name_key}\u{1f}{id}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_cursor(cursor: &str) -> ServiceResult<(String, String)> {
    let bad = || -> ServiceError {
        ApiError::invalid_field("cursor", "That cursor is not one this server gave out.").into()
    };
    if !cursor.len().is_multiple_of(2) || cursor.len() > 1024 {
        return Err(bad());
    }
    let bytes: Option<Vec<u8>> = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2)?, 16).ok())
        .collect();
    let text = bytes
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (name_key, id) = text.split_once('\u{1f}').ok_or_else(bad)?;
    Ok((name_key.to_owned(), id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = encode_cursor("lounge é", "abc123");
        assert_eq!(
            decode_cursor(&c).unwrap(),
            ("lounge é".to_owned(), "abc123".to_owned())
        );
        for bad in ["zz", "abc", "", "00"] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }
}
