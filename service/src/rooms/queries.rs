//! What the pages and the API read about rooms: one room and where the caller stands, the
//! room page in one go, the directory, the caller's rooms past and present, and the admins'
//! listings (members, requests, bans, invites, the moderation log).

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use domain::{
    access::Standing,
    message::HISTORY_PAGE,
    room::{self, JoinPolicy, MembershipStatus, Micros, PastStanding, Role, RoomStatus},
    views::{
        BanView, InviteView, LogEntryView, MemberView, MyRoom, PreviousRoom, RequestView, RoomPage,
        RoomView,
    },
    vocab::LogKind,
    ApiError, RoomId, User, UserId,
};
use entity::{ban, invite, join_request, membership, mod_log, mute, room as room_row};
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, LikeExpr, Query},
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, Iterable, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::{
    cursor::{decode_cursor, encode_cursor},
    member_counts, view, Rooms,
};
use crate::{
    access,
    error::ServiceResult,
    limits::Action,
    time::{from_micros, micros, rfc3339},
    timeline,
    users::{resolve_user, users_by_ids},
};

impl Rooms {
    /// Up to 10 usernames starting with `prefix`, for an invite form's suggestions.
    pub async fn usernames_starting(&self, prefix: &str) -> ServiceResult<Vec<String>> {
        crate::users::usernames_starting(&self.db, prefix, 10).await
    }

    /// `rooms/open`, the room page: the room and where the caller stands, and for members
    /// the member list, the latest page of messages and (for admins) how many requests
    /// wait. Access is looked up once, on one connection.
    pub async fn open(&self, actor: &UserId, room_id: &RoomId) -> ServiceResult<RoomPage> {
        let now = self.clock.now();
        let access = access::load_at(&self.db, actor, room_id, now).await?;
        access.standing.may_see()?;
        let count = member_counts(&self.db, &[room_id.to_string()]).await?;
        let room = view(
            &access.room,
            count.get(room_id.as_str()).copied().unwrap_or(0),
        );
        let Some(role) = access.role.filter(|_| access.standing.is_member()) else {
            let requested =
                join_request::Entity::find_by_id((room_id.to_string(), actor.to_string()))
                    .one(&self.db)
                    .await?
                    .is_some();
            return Ok(RoomPage {
                room,
                my_role: None,
                members: Vec::new(),
                messages: Vec::new(),
                has_older: false,
                requested,
                invited: access.standing.invited,
                pending_requests: 0,
                read_to: None,
                muted_until: None,
                next_post_at: None,
            });
        };
        let members = self.member_list(room_id).await?;
        // Slow mode: the composer counts down to the next message before anyone types.
        let rules = access.room.rules();
        let next_post_at = if rules.slow_mode_seconds > 0 && !role.is_admin() {
            timeline::last_post_at(&self.db, room_id, actor)
                .await?
                .map(|at| at + chrono::Duration::seconds(i64::from(rules.slow_mode_seconds)))
                .filter(|next| *next > now)
                .map(rfc3339)
        } else {
            None
        };
        let mut messages =
            timeline::latest(&self.db, room_id, None, HISTORY_PAGE + 1, actor).await?;
        let has_older = messages.len() as u64 > HISTORY_PAGE;
        messages.truncate(HISTORY_PAGE as usize);
        let pending_requests = if role.is_admin() {
            join_request::Entity::find()
                .filter(join_request::Column::RoomId.eq(room_id.as_str()))
                .count(&self.db)
                .await?
        } else {
            0
        };
        Ok(RoomPage {
            room,
            my_role: Some(role),
            members,
            messages,
            has_older,
            requested: false,
            invited: false,
            pending_requests: u32::try_from(pending_requests).unwrap_or(u32::MAX),
            read_to: access.read_to,
            muted_until: access.muted_until.map(rfc3339),
            next_post_at,
        })
    }

    /// `rooms/get`: the room and the caller's role, if the caller may see it.
    pub async fn get(
        &self,
        actor: &UserId,
        room_id: &RoomId,
    ) -> ServiceResult<(RoomView, Option<Role>)> {
        let access = access::load_at(&self.db, actor, room_id, self.clock.now()).await?;
        access.standing.may_see()?;
        let count = member_counts(&self.db, &[room_id.to_string()]).await?;
        let members = count.get(room_id.as_str()).copied().unwrap_or(0);
        Ok((view(&access.room, members), access.role))
    }

    async fn views(&self, models: &[room_row::Model]) -> ServiceResult<Vec<RoomView>> {
        let ids: Vec<String> = models.iter().map(|m| m.id.clone()).collect();
        let counts = member_counts(&self.db, &ids).await?;
        Ok(models
            .iter()
            .map(|m| view(m, counts.get(&m.id).copied().unwrap_or(0)))
            .collect())
    }

    /// `rooms/search`: active listed rooms whose name contains `query` (any case), by name,
    /// never a room that banned the caller.
    pub async fn search(
        &self,
        actor: &UserId,
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
                        .and_where(ban::Column::UserId.eq(actor.as_str()))
                        // A timed ban that has run out hides the room no longer.
                        .cond_where(
                            Condition::any()
                                .add(ban::Column::Until.is_null())
                                .add(ban::Column::Until.gt(self.clock.now())),
                        )
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
    pub async fn mine(&self, actor: &UserId) -> ServiceResult<Vec<MyRoom>> {
        // Rooms, roles, read positions and member counts in one statement (docs/BENCHMARKS.md,
        // S4: every page's sidebar reads this).
        let m = Alias::new("m");
        let everyone = Alias::new("everyone");
        let mut count = Query::select();
        count
            .expr(Expr::col((everyone.clone(), membership::Column::UserId)).count())
            .from_as(membership::Entity, everyone.clone())
            .and_where(
                Expr::col((everyone.clone(), membership::Column::RoomId))
                    .equals((room_row::Entity, room_row::Column::Id)),
            )
            .and_where(
                Expr::col((everyone.clone(), membership::Column::Status))
                    .eq(MembershipStatus::Active),
            );
        let mut query = Query::select();
        query
            .columns(room_row::Column::iter().map(|c| (room_row::Entity, c)))
            .expr_as(
                Expr::col((m.clone(), membership::Column::Role)),
                Alias::new("my_role"),
            )
            .expr_as(
                Expr::col((m.clone(), membership::Column::ReadTo)),
                Alias::new("my_read_to"),
            )
            .expr_as(count, Alias::new("members"))
            .from_as(membership::Entity, m.clone())
            .inner_join(
                room_row::Entity,
                Expr::col((room_row::Entity, room_row::Column::Id))
                    .equals((m.clone(), membership::Column::RoomId)),
            )
            .and_where(Expr::col((m.clone(), membership::Column::UserId)).eq(actor.as_str()))
            .and_where(
                Expr::col((m.clone(), membership::Column::Status)).eq(MembershipStatus::Active),
            )
            .and_where(
                Expr::col((room_row::Entity, room_row::Column::Status)).eq(RoomStatus::Active),
            )
            .order_by((room_row::Entity, room_row::Column::NameKey), Order::Asc);
        let rows = self.db.query_all(&query).await?;
        let counts = crate::reading::counts(&self.db, actor).await?;
        let mine = rows
            .iter()
            .map(|row| {
                let model = room_row::Model::from_query_result(row, "")?;
                let role: Role = row.try_get("", "my_role")?;
                let read_to: Option<i64> = row.try_get("", "my_read_to")?;
                let members: i64 = row.try_get("", "members")?;
                let room = view(&model, usize::try_from(members).unwrap_or(0));
                let (unread, mentions) = counts.get(room.id.as_str()).copied().unwrap_or_default();
                Ok(MyRoom {
                    my_role: role,
                    unread,
                    mentions,
                    read_to: read_to.map(domain::MessageId::new),
                    room,
                    open_reports: 0,
                })
            })
            .collect::<ServiceResult<Vec<MyRoom>>>()?;
        // The admins' badge: open reports they see, in one query for all their rooms.
        let roles: Vec<(String, Role)> = mine
            .iter()
            .map(|r| (r.room.id.to_string(), r.my_role))
            .collect();
        let open = crate::reports::open_counts(&self.db, actor, &roles).await?;
        Ok(mine
            .into_iter()
            .map(|mut r| {
                r.open_reports = open.get(r.room.id.as_str()).copied().unwrap_or(0);
                r
            })
            .collect())
    }

    /// `rooms/previous`: active rooms the caller left or was removed from, latest first;
    /// never a room that terminated or that banned them for good, and a room whose timed ban
    /// still runs with its end and nothing else (docs/RULES.md §8).
    pub async fn previous(&self, actor: &UserId) -> ServiceResult<Vec<PreviousRoom>> {
        let past = membership::Entity::find()
            .filter(membership::Column::UserId.eq(actor.as_str()))
            .filter(membership::Column::Status.is_in([
                MembershipStatus::Left,
                MembershipStatus::Kicked,
                MembershipStatus::Banned,
            ]))
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
        let counts = member_counts(&self.db, &ids).await?;
        let bans: HashMap<String, Option<Micros>> = ban::Entity::find()
            .filter(ban::Column::UserId.eq(actor.as_str()))
            .filter(ban::Column::RoomId.is_in(ids.clone()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|b| (b.room_id, b.until.map(micros)))
            .collect();
        let requested: BTreeSet<String> = join_request::Entity::find()
            .filter(join_request::Column::UserId.eq(actor.as_str()))
            .filter(join_request::Column::RoomId.is_in(ids.clone()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| r.room_id)
            .collect();
        let invites: HashMap<String, Micros> = invite::Entity::find()
            .filter(invite::Column::UserId.eq(actor.as_str()))
            .filter(invite::Column::RoomId.is_in(ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|i| (i.room_id, micros(i.expires_at)))
            .collect();
        let now = micros(self.clock.now());
        Ok(past
            .into_iter()
            .filter_map(|m| {
                let model = rooms.get(&m.room_id)?;
                let barred_until = match room::past_standing(bans.get(&m.room_id).copied(), now) {
                    PastStanding::Hidden => return None,
                    PastStanding::BarredUntil(end) => Some(end),
                    PastStanding::Free => None,
                };
                let count = counts.get(&m.room_id).copied().unwrap_or(0);
                let invite = invites.get(&m.room_id).copied();
                let standing = Standing {
                    status: model.status,
                    policy: model.join_policy,
                    membership: Some(m.status),
                    banned: false,
                    invited: invite.is_some_and(|expires| expires > now),
                };
                // A private room is for its members and invitees only, and a room that
                // banned you is closed to you while the ban runs: to them, its name and
                // when they left, nothing more.
                let private = standing.may_see().is_err();
                let untold = private || barred_until.is_some();
                let mut room = view(model, count);
                if untold {
                    room.topic = None;
                    room.member_count = 0;
                    room.max_members = None;
                }
                let can_rejoin = !untold
                    && room::can_rejoin(
                        room.join_policy,
                        room.max_members,
                        count,
                        requested.contains(&m.room_id),
                        invite,
                        now,
                    );
                Some(PreviousRoom {
                    room,
                    left_at: rfc3339(m.left_at.unwrap_or(m.joined_at)),
                    reason: m.status.leave_reason()?,
                    can_rejoin,
                    until: barred_until.map(|end| rfc3339(from_micros(end))),
                    private,
                })
            })
            .collect())
    }

    /// `rooms/members`: in join order.
    pub async fn members(
        &self,
        actor: &UserId,
        room_id: &RoomId,
    ) -> ServiceResult<Vec<MemberView>> {
        access::require_member(&self.db, actor, room_id).await?;
        self.member_list(room_id).await
    }

    async fn member_list(&self, room_id: &RoomId) -> ServiceResult<Vec<MemberView>> {
        let rows = membership::Entity::find()
            .filter(membership::Column::RoomId.eq(room_id.as_str()))
            .filter(membership::Column::Status.eq(MembershipStatus::Active))
            .order_by(membership::Column::JoinSeq, Order::Asc)
            .order_by(membership::Column::UserId, Order::Asc)
            .all(&self.db)
            .await?;
        let muted: HashMap<String, chrono::DateTime<chrono::Utc>> = mute::Entity::find()
            .filter(mute::Column::RoomId.eq(room_id.as_str()))
            .filter(mute::Column::Until.gt(self.clock.now()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| (m.user_id, m.until))
            .collect();
        self.with_users(
            rows,
            |m| &m.user_id,
            |m, user| MemberView {
                muted_until: muted.get(&m.user_id).copied().map(rfc3339),
                user,
                role: m.role,
                joined_at: rfc3339(from_micros(m.join_seq)),
            },
        )
        .await
    }

    /// `rooms/requests`: pending requests, oldest first (admins).
    pub async fn requests(
        &self,
        actor: &UserId,
        room_id: &RoomId,
    ) -> ServiceResult<Vec<RequestView>> {
        access::require_admin(&self.db, actor, room_id).await?;
        let rows = join_request::Entity::find()
            .filter(join_request::Column::RoomId.eq(room_id.as_str()))
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
    pub async fn bans(&self, actor: &UserId, room_id: &RoomId) -> ServiceResult<Vec<BanView>> {
        access::require_admin(&self.db, actor, room_id).await?;
        let rows = ban::Entity::find()
            .filter(ban::Column::RoomId.eq(room_id.as_str()))
            .filter(
                Condition::any()
                    .add(ban::Column::Until.is_null())
                    .add(ban::Column::Until.gt(self.clock.now())),
            )
            .order_by(ban::Column::CreatedAt, Order::Desc)
            .all(&self.db)
            .await?;
        self.with_user_and_actor(
            rows,
            |r| (&r.user_id, &r.banned_by),
            |r, user, banned_by| BanView {
                user,
                banned_by,
                reason: r.reason,
                created_at: rfc3339(r.created_at),
                until: r.until.map(rfc3339),
            },
        )
        .await
    }

    /// `rooms/invites` (admins): invitations not yet answered or expired, newest first.
    pub async fn invites(
        &self,
        actor: &UserId,
        room_id: &RoomId,
    ) -> ServiceResult<Vec<InviteView>> {
        access::require_admin(&self.db, actor, room_id).await?;
        let rows = invite::Entity::find()
            .filter(invite::Column::RoomId.eq(room_id.as_str()))
            .filter(invite::Column::ExpiresAt.gt(Utc::now()))
            .order_by(invite::Column::CreatedAt, Order::Desc)
            .all(&self.db)
            .await?;
        self.with_user_and_actor(
            rows,
            |r| (&r.user_id, &r.invited_by),
            |r, user, invited_by| InviteView {
                user,
                invited_by,
                created_at: rfc3339(r.created_at),
                expires_at: rfc3339(r.expires_at),
            },
        )
        .await
    }

    /// Turns rows that name a person and who acted on them into views carrying both, in
    /// one query for all of them; a row whose person no longer exists is left out, one whose
    /// actor no longer exists keeps no actor.
    async fn with_user_and_actor<R, V>(
        &self,
        rows: Vec<R>,
        ids: impl Fn(&R) -> (&String, &String),
        to_view: impl Fn(R, User, Option<User>) -> V,
    ) -> ServiceResult<Vec<V>> {
        let wanted: Vec<UserId> = rows
            .iter()
            .flat_map(|r| {
                let (user, actor) = ids(r);
                [UserId::new(user.clone()), UserId::new(actor.clone())]
            })
            .collect();
        let users = users_by_ids(&self.db, &wanted).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let (user, actor) = ids(&r);
                let user = users.get(&UserId::new(user.clone()))?.clone();
                let actor = users.get(&UserId::new(actor.clone())).cloned();
                Some(to_view(r, user, actor))
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
        let ids: Vec<UserId> = rows
            .iter()
            .map(|r| UserId::new(user_id(r).clone()))
            .collect();
        let users = users_by_ids(&self.db, &ids).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let user = users.get(&UserId::new(user_id(&r).clone()))?.clone();
                Some(to_view(r, user))
            })
            .collect())
    }

    /// The moderation log, newest first, 50 a page after `cursor`, narrowed by `filter`.
    pub async fn log(
        &self,
        actor: &UserId,
        room_id: &RoomId,
        cursor: Option<&str>,
        filter: &LogFilter<'_>,
    ) -> ServiceResult<(Vec<LogEntryView>, Option<String>)> {
        const PAGE: u64 = 50;
        let before = cursor
            .map(|c| {
                c.parse::<i64>().map_err(|_| {
                    ApiError::invalid_field(
                        "cursor",
                        "That cursor is not one this server gave out.",
                    )
                })
            })
            .transpose()?;
        let mut entries = self
            .log_entries(actor, room_id, before, filter, PAGE + 1)
            .await?;
        let next = if entries.len() as u64 > PAGE {
            entries.truncate(PAGE as usize);
            entries.last().map(|e| e.id.clone())
        } else {
            None
        };
        Ok((entries, next))
    }

    /// The whole log as `filter` narrows it, newest first, up to [`LOG_EXPORT_MAX`]
    /// entries: what the CSV download holds.
    pub async fn log_export(
        &self,
        actor: &UserId,
        room_id: &RoomId,
        filter: &LogFilter<'_>,
    ) -> ServiceResult<Vec<LogEntryView>> {
        self.log_entries(actor, room_id, None, filter, LOG_EXPORT_MAX)
            .await
    }

    async fn log_entries(
        &self,
        actor: &UserId,
        room_id: &RoomId,
        before: Option<i64>,
        filter: &LogFilter<'_>,
        limit: u64,
    ) -> ServiceResult<Vec<LogEntryView>> {
        // Admins only, before a name is looked up: nobody else learns who exists.
        access::require_admin(&self.db, actor, room_id).await?;
        let mut find = mod_log::Entity::find().filter(mod_log::Column::RoomId.eq(room_id.as_str()));
        if let Some(kind) = filter.kind {
            find = find.filter(mod_log::Column::Kind.eq(kind));
        }
        if let Some(who) = filter.actor {
            let who = resolve_user(&self.db, who).await?;
            find = find.filter(mod_log::Column::ActorId.eq(who.id.as_str()));
        }
        if let Some(who) = filter.target {
            let who = resolve_user(&self.db, who).await?;
            find = find.filter(mod_log::Column::TargetId.eq(who.id.as_str()));
        }
        if let Some(before) = before {
            find = find.filter(mod_log::Column::Id.lt(before));
        }
        let rows = find
            .order_by(mod_log::Column::Id, Order::Desc)
            .limit(limit)
            .all(&self.db)
            .await?;
        let ids: Vec<UserId> = rows
            .iter()
            .flat_map(|r| [r.actor_id.clone(), r.target_id.clone()])
            .flatten()
            .map(UserId::new)
            .collect();
        let users = users_by_ids(&self.db, &ids).await?;
        let user = |id: &Option<String>| {
            id.clone()
                .and_then(|id| users.get(&UserId::new(id)).cloned())
        };
        Ok(rows
            .iter()
            .map(|r| LogEntryView {
                id: r.id.to_string(),
                kind: r.kind,
                actor: user(&r.actor_id),
                target: user(&r.target_id),
                reason: r.reason.clone(),
                created_at: rfc3339(r.created_at),
                until: r.until.map(rfc3339),
                report_id: r.report_id.clone().map(domain::ReportId::new),
            })
            .collect())
    }
}

/// The most entries one CSV download holds.
pub const LOG_EXPORT_MAX: u64 = 10_000;

/// Which entries of the moderation log to show: of one kind, by one person (`actor`), about
/// one person (`target`); each person an id or a username. Empty: everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogFilter<'a> {
    pub kind: Option<LogKind>,
    pub actor: Option<&'a str>,
    pub target: Option<&'a str>,
}
