//! Rooms, membership and moderation: one server function per row of API.md's table.

use domain::{
    effects::LogKind,
    room::Role,
    views::{
        BanView, InviteView, JoinStatus, LogEntryView, MemberView, MyRoom, PreviousRoom,
        ReportView, RequestView, RoomPage, RoomView,
    },
    ReportId, RoomId, UserId,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use super::auth::Empty;
#[cfg(feature = "ssr")]
use crate::ssr::caller;
use crate::AppError;
#[cfg(feature = "ssr")]
use domain::room::{Command, Settings};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomResponse {
    pub room: RoomView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomWithRole {
    pub room: RoomView,
    pub my_role: Option<Role>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResponse {
    pub rooms: Vec<RoomView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRoomsResponse {
    pub rooms: Vec<MyRoom>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousRoomsResponse {
    pub rooms: Vec<PreviousRoom>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinResponse {
    pub status: JoinStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terminated {
    pub terminated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Members {
    pub members: Vec<MemberView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requests {
    pub requests: Vec<RequestView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bans {
    pub bans: Vec<BanView>,
}

/// `rooms/mute`: when the timeout ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Muted {
    pub until: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invites {
    pub invites: Vec<InviteView>,
}

/// What a room's admin pages show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminView {
    pub room: RoomView,
    pub my_role: Role,
    pub members: Vec<MemberView>,
    pub requests: Vec<RequestView>,
    pub invites: Vec<InviteView>,
    pub bans: Vec<BanView>,
    /// A page of the moderation log, of one kind if asked.
    pub log: Log,
    /// The open reports you see, newest first (the inbox).
    #[serde(default)]
    pub reports: Vec<ReportView>,
    /// How many of the room's open reports you see (docs/RULES.md §5, "Reports").
    #[serde(default)]
    pub open_reports: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reports {
    pub reports: Vec<ReportView>,
}

/// `rooms/resolve`: the report as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    pub report: ReportView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usernames {
    pub usernames: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Log {
    pub events: Vec<LogEntryView>,
    pub next_cursor: Option<String>,
    /// The admin page's filter could not be applied (a name nobody has): why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[cfg(feature = "ssr")]
async fn act(room_id: &RoomId, command: Command) -> Result<service::rooms::Outcome, AppError> {
    let (me, ctx) = caller().await?;
    Ok(ctx.rooms.act(&me.id, room_id, command).await?)
}

#[server(endpoint = "rooms/create", input = Json, output = Json)]
pub async fn create_room(
    name: String,
    topic: Option<String>,
    join_policy: Option<String>,
    max_members: Option<i64>,
) -> Result<RoomResponse, AppError> {
    let (me, ctx) = caller().await?;
    let room = ctx
        .rooms
        .create(
            &me.id,
            service::rooms::NewRoom {
                name: &name,
                topic: topic.as_deref(),
                join_policy: join_policy.as_deref(),
                max_members,
            },
        )
        .await?;
    Ok(RoomResponse { room })
}

#[server(endpoint = "rooms/search", input = Json, output = Json)]
pub async fn search_rooms(
    query: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
) -> Result<SearchResponse, AppError> {
    let (me, ctx) = caller().await?;
    let key = format!("{query:?} {cursor:?} {limit:?}");
    crate::ssr::once_per_request(key, async {
        let (rooms, next_cursor) = ctx
            .rooms
            .search(&me.id, query.as_deref(), cursor.as_deref(), limit)
            .await?;
        Ok(SearchResponse { rooms, next_cursor })
    })
    .await
}

#[server(endpoint = "rooms/get", input = Json, output = Json)]
pub async fn get_room(room_id: RoomId) -> Result<RoomWithRole, AppError> {
    let (me, ctx) = caller().await?;
    let (room, my_role) = ctx.rooms.get(&me.id, &room_id).await?;
    Ok(RoomWithRole { room, my_role })
}

/// The room, your role, and for members the member list and the latest page of messages.
#[server(endpoint = "rooms/open", input = Json, output = Json)]
pub async fn open_room(room_id: RoomId) -> Result<RoomPage, AppError> {
    let (me, ctx) = caller().await?;
    crate::ssr::once_per_request(room_id.to_string(), async {
        Ok(ctx.rooms.open(&me.id, &room_id).await?)
    })
    .await
}

#[server(endpoint = "rooms/mine", input = Json, output = Json)]
pub async fn my_rooms() -> Result<MyRoomsResponse, AppError> {
    let (me, ctx) = caller().await?;
    Ok(MyRoomsResponse {
        rooms: ctx.rooms.mine(&me.id).await?,
    })
}

#[server(endpoint = "rooms/previous", input = Json, output = Json)]
pub async fn previous_rooms() -> Result<PreviousRoomsResponse, AppError> {
    let (me, ctx) = caller().await?;
    Ok(PreviousRoomsResponse {
        rooms: ctx.rooms.previous(&me.id).await?,
    })
}

#[server(endpoint = "rooms/join", input = Json, output = Json)]
pub async fn join_room(room_id: RoomId) -> Result<JoinResponse, AppError> {
    let outcome = act(&room_id, Command::Join).await?;
    let joined = outcome
        .events
        .iter()
        .any(|e| matches!(e, domain::room::Event::Joined { .. }));
    Ok(JoinResponse {
        status: if joined {
            JoinStatus::Joined
        } else {
            JoinStatus::Requested
        },
    })
}

#[server(endpoint = "rooms/leave", input = Json, output = Json)]
pub async fn leave_room(room_id: RoomId) -> Result<Terminated, AppError> {
    let outcome = act(&room_id, Command::Leave).await?;
    Ok(Terminated {
        terminated: outcome.terminated,
    })
}

#[server(endpoint = "rooms/members", input = Json, output = Json)]
pub async fn room_members(room_id: RoomId) -> Result<Members, AppError> {
    let (me, ctx) = caller().await?;
    Ok(Members {
        members: ctx.rooms.members(&me.id, &room_id).await?,
    })
}

#[server(endpoint = "rooms/requests", input = Json, output = Json)]
pub async fn room_requests(room_id: RoomId) -> Result<Requests, AppError> {
    let (me, ctx) = caller().await?;
    Ok(Requests {
        requests: ctx.rooms.requests(&me.id, &room_id).await?,
    })
}

/// Moves the caller's read position in a room forward to `message_id` (docs/API.md,
/// "rooms/read"); their other tabs and devices hear it as a `read` frame.
#[server(endpoint = "rooms/read", input = Json, output = Json)]
pub async fn mark_room_read(room_id: RoomId, message_id: String) -> Result<Empty, AppError> {
    let (me, ctx) = caller().await?;
    let id = domain::MessageId::parse(&message_id, "message_id")?;
    ctx.messages.mark_read(&me.id, &room_id, id).await?;
    Ok(Empty {})
}

#[server(endpoint = "rooms/approve", input = Json, output = Json)]
pub async fn approve_request(room_id: RoomId, user_id: UserId) -> Result<Empty, AppError> {
    act(&room_id, Command::Approve { user: user_id }).await?;
    Ok(Empty {})
}

/// Declines a request; `ban: true` bans the requester too, with `reason`. After a plain
/// decline the same person may ask again only after the room's request cooldown.
#[server(endpoint = "rooms/deny", input = Json, output = Json)]
pub async fn deny_request(
    room_id: RoomId,
    user_id: UserId,
    ban: Option<bool>,
    reason: Option<String>,
) -> Result<Empty, AppError> {
    let reason = domain::room::parse_reason(reason.as_deref())?;
    act(
        &room_id,
        Command::Deny {
            user: user_id,
            ban: ban.unwrap_or(false),
            reason,
        },
    )
    .await?;
    Ok(Empty {})
}

/// `user` is an id or a username.
#[server(endpoint = "rooms/invite", input = Json, output = Json)]
pub async fn invite_user(room_id: RoomId, user: String) -> Result<Empty, AppError> {
    let (me, ctx) = caller().await?;
    let target = ctx.rooms.resolve_target(&me.id, &room_id, &user).await?;
    ctx.rooms
        .act(&me.id, &room_id, Command::Invite { user: target.id })
        .await?;
    Ok(Empty {})
}

#[server(endpoint = "invites/accept", input = Json, output = Json)]
pub async fn accept_invite(room_id: RoomId) -> Result<Empty, AppError> {
    act(&room_id, Command::AcceptInvite).await?;
    Ok(Empty {})
}

#[server(endpoint = "invites/decline", input = Json, output = Json)]
pub async fn decline_invite(room_id: RoomId) -> Result<Empty, AppError> {
    act(&room_id, Command::DeclineInvite).await?;
    Ok(Empty {})
}

#[server(endpoint = "rooms/kick", input = Json, output = Json)]
pub async fn kick_member(
    room_id: RoomId,
    user_id: UserId,
    reason: Option<String>,
) -> Result<Terminated, AppError> {
    let (me, ctx) = caller().await?;
    let reason = domain::room::parse_reason(reason.as_deref())?;
    let outcome = ctx
        .rooms
        .act(
            &me.id,
            &room_id,
            Command::Kick {
                user: user_id,
                reason,
            },
        )
        .await?;
    Ok(Terminated {
        terminated: outcome.terminated,
    })
}

/// `user` is an id or a username; they need not be a member. `minutes`: a timed ban
/// (absent: permanent). `purge_minutes`: ban and purge, deleting their messages in the
/// room from that far back (docs/RULES.md §5).
#[server(endpoint = "rooms/ban", input = Json, output = Json)]
pub async fn ban_user(
    room_id: RoomId,
    user: String,
    reason: Option<String>,
    minutes: Option<i64>,
    purge_minutes: Option<i64>,
) -> Result<Terminated, AppError> {
    let (me, ctx) = caller().await?;
    let reason = domain::room::parse_reason(reason.as_deref())?;
    let minutes = domain::moderation::parse_ban_minutes(minutes)?;
    let purge_minutes = domain::moderation::parse_purge_minutes(purge_minutes)?;
    let target = ctx.rooms.resolve_target(&me.id, &room_id, &user).await?;
    let outcome = ctx
        .rooms
        .act(
            &me.id,
            &room_id,
            Command::Ban {
                user: target.id,
                reason,
                minutes,
                purge_minutes,
            },
        )
        .await?;
    Ok(Terminated {
        terminated: outcome.terminated,
    })
}

/// A timeout: `user` (an id or a username) reads the room but cannot post, edit, react or
/// upload for `minutes` (1 to 40,320, 28 days).
#[server(endpoint = "rooms/mute", input = Json, output = Json)]
pub async fn mute_member(
    room_id: RoomId,
    user: String,
    minutes: i64,
    reason: Option<String>,
) -> Result<Muted, AppError> {
    let (me, ctx) = caller().await?;
    let reason = domain::room::parse_reason(reason.as_deref())?;
    let minutes = domain::moderation::parse_mute_minutes(minutes)?;
    let target = ctx.rooms.resolve_target(&me.id, &room_id, &user).await?;
    let outcome = ctx
        .rooms
        .act(
            &me.id,
            &room_id,
            Command::Mute {
                user: target.id,
                minutes,
                reason,
            },
        )
        .await?;
    let until = outcome.events.iter().find_map(|e| match e {
        domain::room::Event::Muted { until, .. } => Some(*until),
        _ => None,
    });
    Ok(Muted {
        until: until
            .map(|us| service::time::rfc3339(service::time::from_micros(us)))
            .unwrap_or_default(),
    })
}

/// Lifts a timeout early.
#[server(endpoint = "rooms/unmute", input = Json, output = Json)]
pub async fn unmute_member(room_id: RoomId, user_id: UserId) -> Result<Empty, AppError> {
    act(&room_id, Command::Unmute { user: user_id }).await?;
    Ok(Empty {})
}

#[server(endpoint = "rooms/unban", input = Json, output = Json)]
pub async fn unban_user(room_id: RoomId, user_id: UserId) -> Result<Empty, AppError> {
    act(&room_id, Command::Unban { user: user_id }).await?;
    Ok(Empty {})
}

#[server(endpoint = "rooms/bans", input = Json, output = Json)]
pub async fn room_bans(room_id: RoomId) -> Result<Bans, AppError> {
    let (me, ctx) = caller().await?;
    Ok(Bans {
        bans: ctx.rooms.bans(&me.id, &room_id).await?,
    })
}

#[server(endpoint = "rooms/promote", input = Json, output = Json)]
pub async fn promote_member(room_id: RoomId, user_id: UserId) -> Result<Empty, AppError> {
    act(&room_id, Command::Promote { user: user_id }).await?;
    Ok(Empty {})
}

#[server(endpoint = "rooms/demote", input = Json, output = Json)]
pub async fn demote_admin(room_id: RoomId, user_id: UserId) -> Result<Empty, AppError> {
    act(&room_id, Command::Demote { user: user_id }).await?;
    Ok(Empty {})
}

#[server(endpoint = "rooms/transfer", input = Json, output = Json)]
pub async fn transfer_ownership(room_id: RoomId, user_id: UserId) -> Result<Empty, AppError> {
    act(&room_id, Command::Transfer { user: user_id }).await?;
    Ok(Empty {})
}

/// Absent fields stay as they are; `topic: ""` clears the topic, `max_members: 0` the limit,
/// `slow_mode_seconds: 0` slow mode.
#[server(endpoint = "rooms/update", input = Json, output = Json)]
pub async fn update_room(
    room_id: RoomId,
    topic: Option<String>,
    join_policy: Option<String>,
    max_members: Option<i64>,
    slow_mode_seconds: Option<i64>,
    announcement: Option<bool>,
    request_cooldown_seconds: Option<i64>,
) -> Result<RoomResponse, AppError> {
    let (me, ctx) = caller().await?;
    let settings = Settings {
        topic: topic
            .map(|t| domain::room::parse_topic(Some(&t)))
            .transpose()?,
        policy: join_policy
            .map(|p| domain::room::JoinPolicy::parse(&p))
            .transpose()?,
        max_members: max_members
            .map(|n| domain::room::parse_max_members((n != 0).then_some(n)))
            .transpose()?,
        slow_mode_seconds: slow_mode_seconds
            .map(domain::moderation::parse_slow_mode)
            .transpose()?,
        announcement,
        request_cooldown_seconds: request_cooldown_seconds
            .map(domain::moderation::parse_request_cooldown)
            .transpose()?,
    };
    ctx.rooms
        .act(&me.id, &room_id, Command::Update(settings))
        .await?;
    let (room, _) = ctx.rooms.get(&me.id, &room_id).await?;
    Ok(RoomResponse { room })
}

/// Newest first, 50 a page; `kind` keeps one kind of entry, `actor` the entries by one
/// person and `target` those about one (each an id or a username).
#[server(endpoint = "rooms/log", input = Json, output = Json)]
pub async fn room_log(
    room_id: RoomId,
    cursor: Option<String>,
    kind: Option<LogKind>,
    actor: Option<String>,
    target: Option<String>,
) -> Result<Log, AppError> {
    let (me, ctx) = caller().await?;
    let filter = service::rooms::LogFilter {
        kind,
        actor: given_name(&actor),
        target: given_name(&target),
    };
    let (events, next_cursor) = ctx
        .rooms
        .log(&me.id, &room_id, cursor.as_deref(), &filter)
        .await?;
    Ok(Log {
        events,
        next_cursor,
        error: None,
    })
}

/// A person named in a filter: blank is nobody.
#[cfg(feature = "ssr")]
pub(crate) fn given_name(name: &Option<String>) -> Option<&str> {
    name.as_deref().map(str::trim).filter(|n| !n.is_empty())
}

/// Pending invitations, newest first (admins).
#[server(endpoint = "rooms/invites", input = Json, output = Json)]
pub async fn room_invites(room_id: RoomId) -> Result<Invites, AppError> {
    let (me, ctx) = caller().await?;
    Ok(Invites {
        invites: ctx.rooms.invites(&me.id, &room_id).await?,
    })
}

/// Everything the admin pages show at first, in one call. Only admins may: a member who is
/// not one hears `forbidden`, anyone else `room_not_found`, as if the page did not exist.
#[server(endpoint = "rooms/admin", input = Json, output = Json)]
pub async fn room_admin(
    room_id: RoomId,
    log_kind: Option<LogKind>,
    log_cursor: Option<String>,
    log_actor: Option<String>,
    log_target: Option<String>,
) -> Result<AdminView, AppError> {
    let (me, ctx) = caller().await?;
    let key = format!("{room_id} {log_kind:?} {log_cursor:?} {log_actor:?} {log_target:?}");
    let query = LogQuery {
        kind: log_kind,
        cursor: log_cursor,
        actor: log_actor,
        target: log_target,
    };
    crate::ssr::once_per_request(key, admin_view(me, ctx, room_id, query)).await
}

/// The admin page's log: its filter and page, as the address gives them.
#[cfg(feature = "ssr")]
struct LogQuery {
    kind: Option<LogKind>,
    cursor: Option<String>,
    actor: Option<String>,
    target: Option<String>,
}

/// `room_admin`'s data, loaded once per request.
#[cfg(feature = "ssr")]
async fn admin_view(
    me: domain::User,
    ctx: crate::ssr::ServerCtx,
    room_id: RoomId,
    query: LogQuery,
) -> Result<AdminView, AppError> {
    let (room, my_role) = ctx.rooms.get(&me.id, &room_id).await?;
    let Some(my_role) = my_role else {
        return Err(domain::access::room_not_found().into());
    };
    if !my_role.is_admin() {
        return Err(domain::access::admins_only().into());
    }
    Ok(AdminView {
        room,
        my_role,
        members: ctx.rooms.members(&me.id, &room_id).await?,
        requests: ctx.rooms.requests(&me.id, &room_id).await?,
        invites: ctx.rooms.invites(&me.id, &room_id).await?,
        bans: ctx.rooms.bans(&me.id, &room_id).await?,
        log: {
            let filter = service::rooms::LogFilter {
                kind: query.kind,
                actor: given_name(&query.actor),
                target: given_name(&query.target),
            };
            match ctx
                .rooms
                .log(&me.id, &room_id, query.cursor.as_deref(), &filter)
                .await
            {
                Ok((events, next_cursor)) => Log {
                    events,
                    next_cursor,
                    error: None,
                },
                // A name nobody has: the page shows, and says so where the log would be.
                Err(service::ServiceError::Refused(e))
                    if e.code == domain::ErrorCode::UserNotFound =>
                {
                    Log {
                        events: Vec::new(),
                        next_cursor: None,
                        error: Some(e.message),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        },
        open_reports: ctx.reports.open_count(&me.id, &room_id).await?,
        reports: ctx.reports.list(&me.id, &room_id, true).await?,
    })
}

/// A room's reports that you see, newest first (`open_only`: those waiting). Admins only: a
/// member hears `forbidden`, anyone else `room_not_found`. The person a report is about
/// never gets `reporter`.
#[server(endpoint = "rooms/reports", input = Json, output = Json)]
pub async fn room_reports(room_id: RoomId, open_only: Option<bool>) -> Result<Reports, AppError> {
    let (me, ctx) = caller().await?;
    Ok(Reports {
        reports: ctx
            .reports
            .list(&me.id, &room_id, open_only.unwrap_or(false))
            .await?,
    })
}

/// Resolves an open report in one step: `dismiss`, `delete` the message, or `mute`
/// (`minutes` needed), `kick` or `ban` (`minutes` optional) its author, with `reason`.
#[server(endpoint = "rooms/resolve", input = Json, output = Json)]
pub async fn resolve_report(
    report_id: ReportId,
    action: String,
    minutes: Option<i64>,
    reason: Option<String>,
) -> Result<Resolved, AppError> {
    let (me, ctx) = caller().await?;
    let resolution = domain::report::Resolution::parse(&action, minutes)?;
    let reason = domain::room::parse_reason(reason.as_deref())?;
    Ok(Resolved {
        report: ctx
            .reports
            .resolve(&me, &report_id, resolution, reason)
            .await?,
    })
}

/// Usernames starting with `prefix`, for the invite form (at most 10, nothing but names).
#[server(endpoint = "users/search", input = Json, output = Json)]
pub async fn search_usernames(prefix: String) -> Result<Usernames, AppError> {
    let (_, ctx) = caller().await?;
    Ok(Usernames {
        usernames: ctx.rooms.usernames_starting(&prefix).await?,
    })
}
