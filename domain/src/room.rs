//! Rooms (docs/RULES.md §2–§5): the state a decision needs, the commands people give, the
//! events decisions cause, and `decide`, which turns one into the other without touching
//! anything. The service layer loads a [`Room`], calls [`decide`], saves the events in one
//! transaction and publishes them; [`Room::apply`] evolves the state the same way the
//! database does.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{
    access::{self, banned, not_invited, not_member, room_full, Standing},
    moderation::{ends_at, wait_words, RoomRules},
    ApiError, ErrorCode,
};
pub use crate::{
    ids::{RoomId, UserId},
    vocab::{JoinPolicy, LeaveReason, MembershipStatus, Micros, Role, RoomStatus},
};

pub const INVITE_LIFETIME: Micros = 7 * 24 * 3600 * 1_000_000;

/// A current member. Join order is `(joined_at, user_id)`: the current membership's join
/// time, ties broken by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: UserId,
    pub role: Role,
    pub joined_at: Micros,
}

/// Everything a decision about one room needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub id: RoomId,
    pub status: RoomStatus,
    pub policy: JoinPolicy,
    pub max_members: Option<u32>,
    pub topic: Option<String>,
    /// The members a decision may touch. The service loads every admin, the actor, the
    /// target and the two earliest joiners (all that succession needs), never the whole
    /// room; tests and fuzzers hold every member.
    pub members: Vec<Member>,
    /// How many members the room has, whether or not `members` holds them all.
    pub member_count: usize,
    /// Of `banned`, `requests` and `invites` the service loads the actor's and the
    /// target's rows only: no decision looks at anyone else's.
    pub banned: BTreeSet<UserId>,
    pub requests: BTreeSet<UserId>,
    /// Invitee → when the invite expires.
    pub invites: BTreeMap<UserId, Micros>,
    /// Of the people timed out now, the actor and the target (as `banned`). Bans and
    /// timeouts that ran out are not loaded: for a decision they are over.
    pub muted: BTreeSet<UserId>,
    /// Slow mode and announcement-only posting.
    pub rules: RoomRules,
    /// After a declined request, how long before the same person may ask again.
    pub request_cooldown_seconds: u32,
    /// Of the people whose request was declined, the actor and the target (as `banned`),
    /// with when they may ask again; cooldowns that ran out are not loaded.
    pub cooldowns: BTreeMap<UserId, Micros>,
}

/// Why someone's role changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleCause {
    Promoted,
    Demoted,
    /// No admin was left: the earliest joiner became admin (§4 step 4).
    Succession,
    /// Ownership moved: by the owner's hand or because the owner left (§4 step 5).
    Ownership,
}

/// How someone became a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinedVia {
    Created,
    Open,
    Approved,
    Invite,
}

/// Settings an admin may change; `None` leaves a setting as it is. (Serialised for the
/// backplane between instances: a field left as it is is absent, a cleared one `null`.)
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Settings {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub topic: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<JoinPolicy>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub max_members: Option<Option<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_mode_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announcement: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_cooldown_seconds: Option<u32>,
}

/// A field that is present (`null` included) is `Some`: absent ones are `None` by `default`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Join by id: joins an open room, consumes an invite, or asks to join a request room.
    Join,
    Approve {
        user: UserId,
    },
    /// Declines a request; with `ban`, bans the requester too (with `reason`). A plain
    /// decline starts the room's request cooldown for them.
    Deny {
        user: UserId,
        ban: bool,
        reason: Option<String>,
    },
    Invite {
        user: UserId,
    },
    AcceptInvite,
    DeclineInvite,
    Leave,
    Kick {
        user: UserId,
        reason: Option<String>,
    },
    /// `user` need not be a member. `minutes`: a timed ban; `None` is permanent.
    /// `purge_minutes`: also delete their messages in the room from that far back.
    Ban {
        user: UserId,
        reason: Option<String>,
        minutes: Option<u32>,
        purge_minutes: Option<u32>,
    },
    /// A timeout: the member reads but cannot post, edit or react for `minutes`. A new
    /// timeout replaces the one they have.
    Mute {
        user: UserId,
        minutes: u32,
        reason: Option<String>,
    },
    /// Lifts a timeout early.
    Unmute {
        user: UserId,
    },
    Unban {
        user: UserId,
    },
    Promote {
        user: UserId,
    },
    Demote {
        user: UserId,
    },
    Transfer {
        user: UserId,
    },
    Update(Settings),
}

impl Command {
    /// The person the command acts on, when it is someone other than the actor.
    pub fn target(&self) -> Option<&UserId> {
        match self {
            Self::Approve { user }
            | Self::Deny { user, .. }
            | Self::Invite { user }
            | Self::Kick { user, .. }
            | Self::Ban { user, .. }
            | Self::Mute { user, .. }
            | Self::Unmute { user }
            | Self::Unban { user }
            | Self::Promote { user }
            | Self::Demote { user }
            | Self::Transfer { user } => Some(user),
            Self::Join
            | Self::AcceptInvite
            | Self::DeclineInvite
            | Self::Leave
            | Self::Update(_) => None,
        }
    }
}

/// What a decision changes. Applying the events in order to the room gives its new state;
/// the service writes the same changes to the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Joined {
        user: UserId,
        role: Role,
        via: JoinedVia,
    },
    Departed {
        user: UserId,
        reason: LeaveReason,
        by: Option<UserId>,
        note: Option<String>,
    },
    RoleChanged {
        user: UserId,
        role: Role,
        cause: RoleCause,
        by: Option<UserId>,
    },
    Requested {
        user: UserId,
    },
    RequestClosed {
        user: UserId,
        approved: bool,
        by: UserId,
    },
    /// A declined requester may ask again only after `until`.
    CooldownStarted {
        user: UserId,
        until: Micros,
    },
    Invited {
        user: UserId,
        by: UserId,
        expires_at: Micros,
    },
    InviteClosed {
        user: UserId,
        accepted: bool,
    },
    /// An invite or request that a ban made void, without a separate notification.
    Cancelled {
        user: UserId,
    },
    BanAdded {
        user: UserId,
        by: UserId,
        reason: Option<String>,
        /// When a timed ban ends; `None`: never.
        #[serde(default)]
        until: Option<Micros>,
    },
    Muted {
        user: UserId,
        by: UserId,
        until: Micros,
        reason: Option<String>,
    },
    /// A timeout lifted by an admin (`by`) or run out (`None`).
    Unmuted {
        user: UserId,
        by: Option<UserId>,
    },
    /// A timed ban ran out: the person may ask to join again.
    BanEnded {
        user: UserId,
    },
    BanLifted {
        user: UserId,
        by: UserId,
    },
    /// Ban and purge: `user`'s messages in the room sent at or after `since` become
    /// tombstones, deleted by `by` with the ban's reason.
    Purged {
        user: UserId,
        by: UserId,
        since: Micros,
        reason: Option<String>,
    },
    SettingsChanged {
        by: UserId,
        settings: Settings,
    },
    Terminated,
}

fn refuse(code: ErrorCode, message: &str) -> ApiError {
    ApiError::new(code, message)
}

pub use access::room_not_found;

fn forbidden(message: &str) -> ApiError {
    refuse(ErrorCode::Forbidden, message)
}

/// `can_rejoin` of a previous room (docs/RULES.md §8), from what a listing knows of it: an open room
/// with space, a request room the user has no pending request in, or a valid invite.
pub fn can_rejoin(
    policy: JoinPolicy,
    max_members: Option<u32>,
    member_count: usize,
    has_pending_request: bool,
    invite_expires: Option<Micros>,
    now: Micros,
) -> bool {
    match policy {
        JoinPolicy::Open => max_members.is_none_or(|max| member_count < max as usize),
        JoinPolicy::Request => !has_pending_request,
        JoinPolicy::Invite => invite_expires.is_some_and(|exp| exp > now),
    }
}

/// What a ban on someone who once belonged to a room does to their previous-rooms entry
/// (docs/RULES.md §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PastStanding {
    /// A permanent ban: the room does not exist for them (§2), so it is not listed.
    Hidden,
    /// A timed ban still runs: listed with its end, and no way back before it.
    BarredUntil(Micros),
    /// No ban holds (none, lifted, or run out): listed like any room they left.
    Free,
}

/// `ban` is the stored ban on them in that room, if any: `Some(None)` for a permanent one,
/// `Some(Some(end))` for a timed one. A timed ban past its end counts as none, whether or
/// not housekeeping has removed it yet.
pub fn past_standing(ban: Option<Option<Micros>>, now: Micros) -> PastStanding {
    match ban {
        Some(None) => PastStanding::Hidden,
        Some(Some(end)) if end > now => PastStanding::BarredUntil(end),
        Some(Some(_)) | None => PastStanding::Free,
    }
}

impl Room {
    pub fn member(&self, user: &UserId) -> Option<&Member> {
        self.members.iter().find(|m| &m.user_id == user)
    }

    pub fn role_of(&self, user: &UserId) -> Option<Role> {
        self.member(user).map(|m| m.role)
    }

    pub fn is_active(&self) -> bool {
        self.status == RoomStatus::Active
    }

    fn is_full(&self) -> bool {
        self.max_members
            .is_some_and(|max| self.member_count >= max as usize)
    }

    fn has_invite(&self, user: &UserId, now: Micros) -> bool {
        self.invites.get(user).is_some_and(|&exp| exp > now)
    }

    /// What the room knows of `user`, for the access rule. It holds current members only,
    /// which is all an active room's visibility needs.
    pub fn standing(&self, user: &UserId, now: Micros) -> Standing {
        Standing {
            status: self.status,
            policy: self.policy,
            membership: self.member(user).map(|_| MembershipStatus::Active),
            banned: self.banned.contains(user),
            invited: self.has_invite(user, now),
        }
    }

    /// Whether `user` may see this room at all (see [`Standing::may_see`]).
    pub fn visible_to(&self, user: &UserId, now: Micros) -> bool {
        self.is_active() && self.standing(user, now).may_see().is_ok()
    }

    /// The owner's id (an active room has exactly one).
    pub fn owner(&self) -> Option<&UserId> {
        self.members
            .iter()
            .find(|m| m.role == Role::Owner)
            .map(|m| &m.user_id)
    }

    /// What a decision by `actor` on `target` needs of the room, and all the service loads
    /// (see [`Room::members`]): every admin, the actor and the target with their bans,
    /// requests and invites, and the two earliest joiners. Deciding on it gives the same
    /// events as deciding on the whole room (`a_summary_decides_as_the_whole_room`).
    pub fn summary_for(&self, actor: &UserId, target: Option<&UserId>) -> Room {
        let concerned = |user: &UserId| user == actor || Some(user) == target;
        let earliest: Vec<&UserId> = self
            .in_join_order()
            .into_iter()
            .take(2)
            .map(|m| &m.user_id)
            .collect();
        Room {
            members: self
                .members
                .iter()
                .filter(|m| {
                    m.role.is_admin() || concerned(&m.user_id) || earliest.contains(&&m.user_id)
                })
                .cloned()
                .collect(),
            banned: self
                .banned
                .iter()
                .filter(|u| concerned(u))
                .cloned()
                .collect(),
            muted: self
                .muted
                .iter()
                .filter(|u| concerned(u))
                .cloned()
                .collect(),
            cooldowns: self
                .cooldowns
                .iter()
                .filter(|(u, _)| concerned(u))
                .map(|(u, until)| (u.clone(), *until))
                .collect(),
            requests: self
                .requests
                .iter()
                .filter(|u| concerned(u))
                .cloned()
                .collect(),
            invites: self
                .invites
                .iter()
                .filter(|(u, _)| concerned(u))
                .map(|(u, exp)| (u.clone(), *exp))
                .collect(),
            ..self.clone()
        }
    }

    /// Members in join order: the current membership's join time, ties by id.
    pub fn in_join_order(&self) -> Vec<&Member> {
        let mut members: Vec<&Member> = self.members.iter().collect();
        members.sort_by(|a, b| (a.joined_at, &a.user_id).cmp(&(b.joined_at, &b.user_id)));
        members
    }

    /// Evolves the state by one event, exactly as the database is changed for it.
    pub fn apply(&mut self, event: &Event, now: Micros) {
        match event {
            Event::Joined { user, role, .. } => {
                self.requests.remove(user);
                self.invites.remove(user);
                self.members.push(Member {
                    user_id: user.clone(),
                    role: *role,
                    joined_at: now,
                });
                self.member_count += 1;
            }
            Event::Departed { user, .. } => {
                let before = self.members.len();
                self.members.retain(|m| &m.user_id != user);
                if self.members.len() < before {
                    self.member_count = self.member_count.saturating_sub(1);
                }
            }
            Event::RoleChanged { user, role, .. } => {
                if let Some(m) = self.members.iter_mut().find(|m| &m.user_id == user) {
                    m.role = *role;
                }
            }
            Event::Requested { user } => {
                self.requests.insert(user.clone());
            }
            Event::RequestClosed { user, .. } => {
                self.requests.remove(user);
            }
            Event::CooldownStarted { user, until } => {
                self.cooldowns.insert(user.clone(), *until);
            }
            Event::Invited {
                user, expires_at, ..
            } => {
                self.invites.insert(user.clone(), *expires_at);
            }
            Event::InviteClosed { user, .. } => {
                self.invites.remove(user);
            }
            Event::Cancelled { user } => {
                self.invites.remove(user);
                self.requests.remove(user);
            }
            Event::BanAdded { user, .. } => {
                self.banned.insert(user.clone());
            }
            Event::BanLifted { user, .. } | Event::BanEnded { user } => {
                self.banned.remove(user);
            }
            Event::Muted { user, .. } => {
                self.muted.insert(user.clone());
            }
            Event::Unmuted { user, .. } => {
                self.muted.remove(user);
            }
            // Messages are not the room's membership state.
            Event::Purged { .. } => {}
            Event::SettingsChanged { settings, .. } => {
                if let Some(topic) = &settings.topic {
                    self.topic.clone_from(topic);
                }
                if let Some(policy) = settings.policy {
                    self.policy = policy;
                }
                if let Some(max) = settings.max_members {
                    self.max_members = max;
                }
                if let Some(seconds) = settings.slow_mode_seconds {
                    self.rules.slow_mode_seconds = seconds;
                }
                if let Some(announcement) = settings.announcement {
                    self.rules.announcement = announcement;
                }
                if let Some(seconds) = settings.request_cooldown_seconds {
                    self.request_cooldown_seconds = seconds;
                }
            }
            Event::Terminated => {
                self.status = RoomStatus::Terminated;
                self.members.clear();
                self.member_count = 0;
                self.requests.clear();
                self.invites.clear();
                self.muted.clear();
            }
        }
    }

    /// The rooms' invariants (docs/RULES.md §4): an active room has at least one admin and exactly one
    /// owner, and is never left with one non-admin alone; a terminated one has no members.
    pub fn check_invariants(&self) -> Result<(), String> {
        match self.status {
            _ if self.member_count < self.members.len() => Err(format!(
                "{} members counted, {} held",
                self.member_count,
                self.members.len()
            )),
            RoomStatus::Terminated if self.member_count > 0 => {
                Err("a terminated room still has members".into())
            }
            RoomStatus::Terminated => Ok(()),
            RoomStatus::Active => {
                let owners = self
                    .members
                    .iter()
                    .filter(|m| m.role == Role::Owner)
                    .count();
                if owners != 1 {
                    return Err(format!("{owners} owners"));
                }
                if !self.members.iter().any(|m| m.role.is_admin()) {
                    return Err("no admin".into());
                }
                if self.member_count == 1 && !self.members[0].role.is_admin() {
                    return Err("one non-admin left alone".into());
                }
                Ok(())
            }
        }
    }
}

/// Decides what `actor` doing `command` to `room` at time `now` causes, or why it is
/// refused. Everything it needs is in the room (or the summary of it the service loads).
pub fn decide(
    room: &Room,
    actor: &UserId,
    command: &Command,
    now: Micros,
) -> Result<Vec<Event>, ApiError> {
    if !room.is_active() {
        return Err(access::room_terminated());
    }
    match command {
        Command::Join => join(room, actor, now),
        Command::AcceptInvite => accept_invite(room, actor, now),
        Command::DeclineInvite => decline_invite(room, actor, now),
        Command::Leave => {
            if room.member(actor).is_none() {
                return Err(not_member());
            }
            Ok(depart(room, actor, LeaveReason::Left, None, None))
        }
        Command::Approve { user } => answer_request(room, actor, user, true),
        Command::Deny { user, ban, reason } => deny(room, actor, user, *ban, reason, now),
        Command::Invite { user } => invite(room, actor, user, now),
        Command::Kick { user, reason } => kick(room, actor, user, reason),
        Command::Ban {
            user,
            reason,
            minutes,
            purge_minutes,
        } => ban(
            room,
            actor,
            user,
            reason,
            minutes.map(|m| ends_at(now, m)),
            purge_minutes.map(|m| crate::moderation::purge_since(now, m)),
        ),
        Command::Mute {
            user,
            minutes,
            reason,
        } => mute(room, actor, user, ends_at(now, *minutes), reason),
        Command::Unmute { user } => unmute(room, actor, user),
        Command::Unban { user } => unban(room, actor, user),
        Command::Promote { user } | Command::Demote { user } | Command::Transfer { user } => {
            change_role(room, actor, command, user)
        }
        Command::Update(settings) => update(room, actor, settings),
    }
}

fn decline_invite(room: &Room, user: &UserId, now: Micros) -> Result<Vec<Event>, ApiError> {
    if !room.has_invite(user, now) {
        return Err(not_invited());
    }
    Ok(vec![Event::InviteClosed {
        user: user.clone(),
        accepted: false,
    }])
}

fn answer_request(
    room: &Room,
    actor: &UserId,
    user: &UserId,
    approved: bool,
) -> Result<Vec<Event>, ApiError> {
    require_admin(room, actor)?;
    if !room.requests.contains(user) {
        return Err(refuse(
            ErrorCode::NotFound,
            "That person has no pending request to join this room.",
        ));
    }
    if approved && room.is_full() {
        return Err(room_full());
    }
    let mut events = vec![Event::RequestClosed {
        user: user.clone(),
        approved,
        by: actor.clone(),
    }];
    if approved {
        events.push(Event::Joined {
            user: user.clone(),
            role: Role::Member,
            via: JoinedVia::Approved,
        });
    }
    Ok(events)
}

/// A decline: with `ban`, the requester is banned too (by the rank rule of ban); without,
/// they may ask again only after the room's cooldown.
fn deny(
    room: &Room,
    actor: &UserId,
    user: &UserId,
    ban: bool,
    reason: &Option<String>,
    now: Micros,
) -> Result<Vec<Event>, ApiError> {
    let mut events = answer_request(room, actor, user, false)?;
    if ban {
        moderate(room, actor, user, "ban")?;
        if !room.banned.contains(user) {
            events.push(Event::BanAdded {
                user: user.clone(),
                by: actor.clone(),
                reason: reason.clone(),
                until: None,
            });
        }
    } else if room.request_cooldown_seconds > 0 {
        events.push(Event::CooldownStarted {
            user: user.clone(),
            until: now.saturating_add(Micros::from(room.request_cooldown_seconds) * 1_000_000),
        });
    }
    Ok(events)
}

fn invite(room: &Room, actor: &UserId, user: &UserId, now: Micros) -> Result<Vec<Event>, ApiError> {
    require_admin(room, actor)?;
    if room.member(user).is_some() {
        return Err(refuse(
            ErrorCode::AlreadyMember,
            "That person is already a member of this room.",
        ));
    }
    if room.banned.contains(user) {
        return Err(refuse(
            ErrorCode::Banned,
            "That person is banned from this room. Unban them first to invite them.",
        ));
    }
    Ok(vec![Event::Invited {
        user: user.clone(),
        by: actor.clone(),
        expires_at: now + INVITE_LIFETIME,
    }])
}

fn kick(
    room: &Room,
    actor: &UserId,
    user: &UserId,
    reason: &Option<String>,
) -> Result<Vec<Event>, ApiError> {
    if moderate(room, actor, user, "kick")?.is_none() {
        return Err(access::target_not_member());
    }
    Ok(depart(
        room,
        user,
        LeaveReason::Kicked,
        Some(actor),
        reason.clone(),
    ))
}

fn ban(
    room: &Room,
    actor: &UserId,
    user: &UserId,
    reason: &Option<String>,
    until: Option<Micros>,
    purge_since: Option<Micros>,
) -> Result<Vec<Event>, ApiError> {
    let target = moderate(room, actor, user, "ban")?;
    if room.banned.contains(user) {
        return Err(refuse(
            ErrorCode::AlreadyBanned,
            "That person is already banned from this room.",
        ));
    }
    let mut events = vec![Event::BanAdded {
        user: user.clone(),
        by: actor.clone(),
        reason: reason.clone(),
        until,
    }];
    if let Some(since) = purge_since {
        events.push(Event::Purged {
            user: user.clone(),
            by: actor.clone(),
            since,
            reason: reason.clone(),
        });
    }
    if room.requests.contains(user) || room.invites.contains_key(user) {
        events.push(Event::Cancelled { user: user.clone() });
    }
    if target.is_some() {
        events.extend(depart(
            room,
            user,
            LeaveReason::Banned,
            Some(actor),
            reason.clone(),
        ));
    }
    Ok(events)
}

/// A timeout of a member, by the rank rule of kick and ban.
fn mute(
    room: &Room,
    actor: &UserId,
    user: &UserId,
    until: Micros,
    reason: &Option<String>,
) -> Result<Vec<Event>, ApiError> {
    if moderate(room, actor, user, "time out")?.is_none() {
        return Err(access::target_not_member());
    }
    Ok(vec![Event::Muted {
        user: user.clone(),
        by: actor.clone(),
        until,
        reason: reason.clone(),
    }])
}

fn unmute(room: &Room, actor: &UserId, user: &UserId) -> Result<Vec<Event>, ApiError> {
    require_admin(room, actor)?;
    if !room.muted.contains(user) {
        return Err(refuse(
            ErrorCode::NotFound,
            "That person is not timed out in this room.",
        ));
    }
    Ok(vec![Event::Unmuted {
        user: user.clone(),
        by: Some(actor.clone()),
    }])
}

fn unban(room: &Room, actor: &UserId, user: &UserId) -> Result<Vec<Event>, ApiError> {
    require_admin(room, actor)?;
    if !room.banned.contains(user) {
        return Err(refuse(
            ErrorCode::NotFound,
            "That person is not banned from this room.",
        ));
    }
    Ok(vec![Event::BanLifted {
        user: user.clone(),
        by: actor.clone(),
    }])
}

/// Promote, demote and transfer: the owner's alone.
fn change_role(
    room: &Room,
    actor: &UserId,
    command: &Command,
    user: &UserId,
) -> Result<Vec<Event>, ApiError> {
    require_owner(room, actor)?;
    let Some(target) = room.member(user) else {
        return Err(access::target_not_member());
    };
    let by = Some(actor.clone());
    match (command, target.role) {
        (_, Role::Owner) => Err(refuse(
            ErrorCode::InvalidInput,
            "You are already the owner of this room.",
        )),
        (Command::Promote { .. }, Role::Admin) => Err(refuse(
            ErrorCode::InvalidInput,
            "That person is already an admin.",
        )),
        (Command::Promote { .. }, Role::Member) => Ok(vec![Event::RoleChanged {
            user: user.clone(),
            role: Role::Admin,
            cause: RoleCause::Promoted,
            by,
        }]),
        (Command::Demote { .. }, Role::Member) => Err(refuse(
            ErrorCode::InvalidInput,
            "That person is not an admin.",
        )),
        (Command::Demote { .. }, Role::Admin) => Ok(vec![Event::RoleChanged {
            user: user.clone(),
            role: Role::Member,
            cause: RoleCause::Demoted,
            by,
        }]),
        _ => Ok(vec![
            Event::RoleChanged {
                user: user.clone(),
                role: Role::Owner,
                cause: RoleCause::Ownership,
                by: by.clone(),
            },
            Event::RoleChanged {
                user: actor.clone(),
                role: Role::Admin,
                cause: RoleCause::Ownership,
                by,
            },
        ]),
    }
}

fn update(room: &Room, actor: &UserId, settings: &Settings) -> Result<Vec<Event>, ApiError> {
    require_admin(room, actor)?;
    if let Some(Some(max)) = settings.max_members {
        if (max as usize) < room.member_count {
            return Err(ApiError::invalid_field(
                "max_members",
                format!(
                    "The room already has {} members; the limit cannot be lower.",
                    room.member_count
                ),
            ));
        }
    }
    // A rule set to what it already is changes nothing, and says nothing to the room.
    let mut settings = settings.clone();
    if settings.slow_mode_seconds == Some(room.rules.slow_mode_seconds) {
        settings.slow_mode_seconds = None;
    }
    if settings.announcement == Some(room.rules.announcement) {
        settings.announcement = None;
    }
    Ok(vec![Event::SettingsChanged {
        by: actor.clone(),
        settings,
    }])
}

/// The timeline's line for a change of the posting rules, if there is one.
pub fn rules_line(by: &str, settings: &Settings) -> Option<String> {
    let mut parts = Vec::new();
    match settings.slow_mode_seconds {
        Some(0) => parts.push("turned slow mode off".to_owned()),
        Some(s) => parts.push(format!(
            "turned slow mode on: one message every {} per member",
            wait_words(u64::from(s) * 1000)
        )),
        None => {}
    }
    match settings.announcement {
        Some(true) => parts.push("made this an announcement room: only admins post".to_owned()),
        Some(false) => parts.push("opened posting to every member".to_owned()),
        None => {}
    }
    (!parts.is_empty()).then(|| format!("{by} {}", parts.join(" and ")))
}

fn require_admin(room: &Room, actor: &UserId) -> Result<Role, ApiError> {
    match room.role_of(actor) {
        Some(role) if role.is_admin() => Ok(role),
        Some(_) => Err(access::admins_only()),
        None => Err(not_member()),
    }
}

fn require_owner(room: &Room, actor: &UserId) -> Result<(), ApiError> {
    match room.role_of(actor) {
        Some(Role::Owner) => Ok(()),
        Some(_) => Err(access::owner_only()),
        None => Err(not_member()),
    }
}

/// Kick and ban check the rank rule, then hand back the target's membership, if any.
fn moderate<'a>(
    room: &'a Room,
    actor: &UserId,
    target: &UserId,
    verb: &str,
) -> Result<Option<&'a Member>, ApiError> {
    let member = room.member(target);
    rank_rule(
        room.role_of(actor),
        member.map(|m| m.role),
        actor == target,
        verb,
    )?;
    Ok(member)
}

/// The rank rule of kick and ban (docs/RULES.md §5): admins act on members, only the owner
/// on admins, nobody on the owner or on themselves. `decide` refuses with its reason;
/// pages offer only the actions it allows ([`may_moderate`]).
pub fn rank_rule(
    actor: Option<Role>,
    target: Option<Role>,
    themselves: bool,
    verb: &str,
) -> Result<(), ApiError> {
    match actor {
        Some(role) if role.is_admin() => {}
        Some(_) => return Err(access::admins_only()),
        None => return Err(not_member()),
    }
    if themselves {
        return Err(refuse(
            ErrorCode::InvalidInput,
            &format!("You cannot {verb} yourself. Leave the room instead."),
        ));
    }
    match target {
        Some(Role::Owner) => Err(forbidden(&format!("Nobody can {verb} the room's owner."))),
        Some(Role::Admin) if actor != Some(Role::Owner) => Err(forbidden(&format!(
            "Only the room's owner can {verb} an admin."
        ))),
        _ => Ok(()),
    }
}

/// Whether the rank rule lets `actor` kick or ban `target` (for pages that offer it).
pub fn may_moderate(actor: Option<Role>, target: Option<Role>, themselves: bool) -> bool {
    rank_rule(actor, target, themselves, "act on").is_ok()
}

fn join(room: &Room, user: &UserId, now: Micros) -> Result<Vec<Event>, ApiError> {
    if room.banned.contains(user) {
        return Err(banned());
    }
    if room.member(user).is_some() {
        return Err(refuse(
            ErrorCode::AlreadyMember,
            "You are already a member of this room.",
        ));
    }
    if room.has_invite(user, now) {
        return accept_invite(room, user, now);
    }
    match room.policy {
        // A private room answers a stranger exactly as a room that does not exist.
        JoinPolicy::Invite => Err(room_not_found()),
        JoinPolicy::Open if room.is_full() => Err(room_full()),
        JoinPolicy::Open => Ok(vec![Event::Joined {
            user: user.clone(),
            role: Role::Member,
            via: JoinedVia::Open,
        }]),
        JoinPolicy::Request if room.requests.contains(user) => Err(refuse(
            ErrorCode::RequestPending,
            "You have already asked to join this room. An admin will answer your request.",
        )),
        JoinPolicy::Request => match room.cooldowns.get(user).filter(|&&until| until > now) {
            Some(&until) => {
                let ms = u64::try_from((until - now) / 1000).unwrap_or(1).max(1);
                Err(refuse(
                    ErrorCode::RequestCooldown,
                    &format!(
                        "Your last request to join this room was declined. You can ask again in {}.",
                        wait_words(ms)
                    ),
                )
                .retry_after(ms))
            }
            None => Ok(vec![Event::Requested { user: user.clone() }]),
        },
    }
}

fn accept_invite(room: &Room, user: &UserId, now: Micros) -> Result<Vec<Event>, ApiError> {
    if room.banned.contains(user) {
        return Err(banned());
    }
    if room.member(user).is_some() {
        return Err(refuse(
            ErrorCode::AlreadyMember,
            "You are already a member of this room.",
        ));
    }
    if !room.has_invite(user, now) {
        return Err(not_invited());
    }
    if room.is_full() {
        return Err(room_full());
    }
    let mut events = vec![Event::InviteClosed {
        user: user.clone(),
        accepted: true,
    }];
    if room.requests.contains(user) {
        events.push(Event::Cancelled { user: user.clone() });
    }
    events.push(Event::Joined {
        user: user.clone(),
        role: Role::Member,
        via: JoinedVia::Invite,
    });
    Ok(events)
}

/// docs/RULES.md §4: `user` departs; then, with `n` members remaining, in this order: terminate on 0;
/// stay with one admin; terminate on one non-admin (removing them); with two or more and no
/// admin, the earliest joiner becomes admin; if the owner left, ownership passes to the
/// earliest-joined remaining admin.
fn depart(
    room: &Room,
    user: &UserId,
    reason: LeaveReason,
    by: Option<&UserId>,
    note: Option<String>,
) -> Vec<Event> {
    let mut events = vec![Event::Departed {
        user: user.clone(),
        reason,
        by: by.cloned(),
        note,
    }];
    let departed_owner = room.role_of(user) == Some(Role::Owner);
    // `remaining` is every remaining admin and the earliest joiners (what the room holds);
    // how many remain in all comes from the count.
    let remaining: Vec<&Member> = room
        .in_join_order()
        .into_iter()
        .filter(|m| &m.user_id != user)
        .collect();
    match (room.member_count.saturating_sub(1), remaining.as_slice()) {
        (0, _) => {
            events.push(Event::Terminated);
            return events;
        }
        (1, [last, ..]) if !last.role.is_admin() => {
            events.push(Event::Departed {
                user: last.user_id.clone(),
                reason: LeaveReason::Terminated,
                by: None,
                note: None,
            });
            events.push(Event::Terminated);
            return events;
        }
        _ => {}
    }
    let mut admins: Vec<&UserId> = remaining
        .iter()
        .filter(|m| m.role.is_admin())
        .map(|m| &m.user_id)
        .collect();
    if admins.is_empty() {
        if let Some(earliest) = remaining.first() {
            events.push(Event::RoleChanged {
                user: earliest.user_id.clone(),
                role: Role::Admin,
                cause: RoleCause::Succession,
                by: None,
            });
            admins.push(&earliest.user_id);
        }
    }
    if let (true, Some(heir)) = (departed_owner, admins.first()) {
        events.push(Event::RoleChanged {
            user: (*heir).clone(),
            role: Role::Owner,
            cause: RoleCause::Ownership,
            by: None,
        });
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Micros = 1_000_000_000;

    /// Events cross between instances as JSON: each comes back as it went, and a setting
    /// cleared (`Some(None)`) stays apart from one left as it is (`None`).
    #[test]
    fn events_cross_the_backplane_as_they_were() {
        let events = vec![
            Event::SettingsChanged {
                by: "u1".into(),
                settings: Settings {
                    topic: Some(None),
                    policy: Some(JoinPolicy::Invite),
                    max_members: None,
                    ..Default::default()
                },
            },
            Event::SettingsChanged {
                by: "u1".into(),
                settings: Settings {
                    topic: Some(Some("news".into())),
                    policy: None,
                    max_members: Some(Some(5)),
                    ..Default::default()
                },
            },
            Event::Departed {
                user: "u2".into(),
                reason: LeaveReason::Kicked,
                by: Some("u1".into()),
                note: None,
            },
            Event::Terminated,
        ];
        let json = serde_json::to_string(&events).expect("events serialise");
        let back: Vec<Event> = serde_json::from_str(&json).expect("events read back");
        assert_eq!(back, events);
    }

    /// A room whose members joined in the order given, one second apart.
    fn room(members: &[(&str, Role)]) -> Room {
        Room {
            id: "r1".into(),
            status: RoomStatus::Active,
            policy: JoinPolicy::Request,
            max_members: None,
            topic: None,
            members: members
                .iter()
                .enumerate()
                .map(|(i, (id, role))| Member {
                    user_id: (*id).into(),
                    role: *role,
                    joined_at: i as i64 * 1_000_000,
                })
                .collect(),
            member_count: members.len(),
            banned: BTreeSet::new(),
            requests: BTreeSet::new(),
            invites: BTreeMap::new(),
            muted: BTreeSet::new(),
            rules: Default::default(),
            request_cooldown_seconds: 0,
            cooldowns: BTreeMap::new(),
        }
    }

    /// Decides and applies; panics on a refusal.
    fn run(room: &mut Room, actor: &str, command: Command) -> Vec<Event> {
        let events = decide(room, &actor.into(), &command, NOW).unwrap_or_else(|e| panic!("{e:?}"));
        for e in &events {
            room.apply(e, NOW);
        }
        room.check_invariants().unwrap();
        events
    }

    fn refusal(room: &Room, actor: &str, command: Command) -> ErrorCode {
        decide(room, &actor.into(), &command, NOW)
            .expect_err("refused")
            .code
    }

    fn kick(user: &str) -> Command {
        Command::Kick {
            user: user.into(),
            reason: None,
        }
    }

    fn ban(user: &str) -> Command {
        Command::Ban {
            user: user.into(),
            reason: Some("spam".into()),
            minutes: None,
            purge_minutes: None,
        }
    }

    use Role::{Admin, Member as M, Owner};

    // --- §4: departures ---

    #[test]
    fn may_moderate_agrees_with_decide_on_every_pair_of_roles() {
        let roles = [None, Some(M), Some(Admin), Some(Owner)];
        for actor in roles {
            for target in roles {
                let mut members = Vec::new();
                // An owner is always there; the actor and target are added as given.
                if actor != Some(Owner) && target != Some(Owner) {
                    members.push(("boss", Owner));
                }
                if let Some(r) = actor {
                    members.push(("actor", r));
                }
                if let Some(r) = target {
                    members.push(("target", r));
                }
                let r = room(&members);
                let decided = decide(&r, &"actor".into(), &kick("target"), NOW).is_ok()
                    || (target.is_none()
                        && decide(&r, &"actor".into(), &ban("target"), NOW).is_ok());
                assert_eq!(
                    may_moderate(actor, target, false),
                    decided,
                    "{actor:?} on {target:?}"
                );
            }
            assert!(!may_moderate(actor, actor, true), "never oneself");
        }
    }

    #[test]
    fn a_past_room_is_hidden_by_a_permanent_ban_and_barred_until_a_timed_one_ends() {
        let now = 1_000;
        assert_eq!(past_standing(None, now), PastStanding::Free);
        assert_eq!(past_standing(Some(None), now), PastStanding::Hidden);
        assert_eq!(
            past_standing(Some(Some(now + 1)), now),
            PastStanding::BarredUntil(now + 1)
        );
        assert_eq!(past_standing(Some(Some(now)), now), PastStanding::Free);
        assert_eq!(past_standing(Some(Some(now - 1)), now), PastStanding::Free);
    }

    #[test]
    fn can_rejoin_follows_the_join_policy() {
        let now = 1_000;
        // Open: while there is space.
        assert!(can_rejoin(JoinPolicy::Open, None, 9, false, None, now));
        assert!(can_rejoin(JoinPolicy::Open, Some(3), 2, false, None, now));
        assert!(!can_rejoin(JoinPolicy::Open, Some(3), 3, false, None, now));
        // Request: unless a request is already pending.
        assert!(can_rejoin(JoinPolicy::Request, None, 2, false, None, now));
        assert!(!can_rejoin(JoinPolicy::Request, None, 2, true, None, now));
        // Invite: only with an invite that has not expired.
        assert!(!can_rejoin(JoinPolicy::Invite, None, 2, false, None, now));
        assert!(!can_rejoin(
            JoinPolicy::Invite,
            None,
            2,
            false,
            Some(now),
            now
        ));
        assert!(can_rejoin(
            JoinPolicy::Invite,
            None,
            2,
            false,
            Some(now + 1),
            now
        ));
    }

    #[test]
    fn the_creator_alone_leaves_and_the_room_terminates() {
        let mut r = room(&[("a", Owner)]);
        let events = run(&mut r, "a", Command::Leave);
        assert_eq!(events.last(), Some(&Event::Terminated));
        assert_eq!(r.status, RoomStatus::Terminated);
    }

    #[test]
    fn admin_and_member_admin_leaves_terminates_and_removes_the_member() {
        let mut r = room(&[("a", Owner), ("b", M)]);
        let events = run(&mut r, "a", Command::Leave);
        assert!(events.contains(&Event::Departed {
            user: "b".into(),
            reason: LeaveReason::Terminated,
            by: None,
            note: None
        }));
        assert_eq!(events.last(), Some(&Event::Terminated));
        assert!(r.members.is_empty());
    }

    #[test]
    fn admin_and_two_members_admin_leaves_the_earliest_joiner_becomes_admin_and_owner() {
        let mut r = room(&[("a", Owner), ("b", M), ("c", M)]);
        let events = run(&mut r, "a", Command::Leave);
        assert!(events.contains(&Event::RoleChanged {
            user: "b".into(),
            role: Admin,
            cause: RoleCause::Succession,
            by: None
        }));
        assert_eq!(r.role_of(&"b".into()), Some(Owner));
        assert_eq!(r.role_of(&"c".into()), Some(M));
        assert!(r.is_active());
    }

    #[test]
    fn succession_follows_the_current_join_time_not_the_list_order() {
        let mut r = room(&[("a", Owner), ("late", M), ("early", M)]);
        r.members[2].joined_at = -5;
        run(&mut r, "a", Command::Leave);
        assert_eq!(r.role_of(&"early".into()), Some(Owner));
    }

    #[test]
    fn succession_ties_on_join_time_go_to_the_smaller_id() {
        let mut r = room(&[("a", Owner), ("zed", M), ("bob", M)]);
        r.members[1].joined_at = 7;
        r.members[2].joined_at = 7;
        run(&mut r, "a", Command::Leave);
        assert_eq!(r.role_of(&"bob".into()), Some(Owner));
    }

    #[test]
    fn a_member_leaving_an_admin_alone_keeps_the_room() {
        let mut r = room(&[("a", Owner), ("b", M)]);
        let events = run(&mut r, "b", Command::Leave);
        assert_eq!(events.len(), 1);
        assert!(r.is_active());
        assert_eq!(r.role_of(&"a".into()), Some(Owner));
    }

    #[test]
    fn the_owner_leaving_with_another_admin_makes_that_admin_owner() {
        let mut r = room(&[("a", Owner), ("b", M), ("c", Admin)]);
        let events = run(&mut r, "a", Command::Leave);
        assert!(!events.iter().any(|e| matches!(
            e,
            Event::RoleChanged {
                cause: RoleCause::Succession,
                ..
            }
        )));
        assert_eq!(r.role_of(&"c".into()), Some(Owner));
        assert_eq!(r.role_of(&"b".into()), Some(M));
    }

    #[test]
    fn the_owner_leaving_one_admin_alone_makes_them_owner_and_the_room_stays() {
        let mut r = room(&[("a", Owner), ("b", Admin)]);
        run(&mut r, "a", Command::Leave);
        assert!(r.is_active());
        assert_eq!(r.role_of(&"b".into()), Some(Owner));
    }

    #[test]
    fn an_admin_leaving_two_members_with_the_owner_there_needs_no_succession() {
        let mut r = room(&[("a", Owner), ("b", Admin), ("c", M)]);
        let events = run(&mut r, "b", Command::Leave);
        assert_eq!(events.len(), 1);
        assert_eq!(r.role_of(&"a".into()), Some(Owner));
    }

    #[test]
    fn leaving_a_room_you_are_not_in_is_refused() {
        let r = room(&[("a", Owner)]);
        assert_eq!(refusal(&r, "x", Command::Leave), ErrorCode::NotMember);
    }

    #[test]
    fn nothing_happens_in_a_terminated_room() {
        let mut r = room(&[("a", Owner)]);
        run(&mut r, "a", Command::Leave);
        assert_eq!(refusal(&r, "a", Command::Join), ErrorCode::RoomTerminated);
        assert_eq!(refusal(&r, "b", Command::Join), ErrorCode::RoomTerminated);
    }

    // --- §5: kick and ban rank rules ---

    #[test]
    fn a_non_admin_cannot_kick_or_ban() {
        let r = room(&[("a", Owner), ("b", M), ("c", M)]);
        assert_eq!(refusal(&r, "b", kick("c")), ErrorCode::Forbidden);
        assert_eq!(refusal(&r, "b", ban("c")), ErrorCode::Forbidden);
        assert_eq!(refusal(&r, "outsider", kick("c")), ErrorCode::NotMember);
    }

    #[test]
    fn an_admin_cannot_kick_or_ban_another_admin_but_the_owner_can() {
        let mut r = room(&[("a", Owner), ("b", Admin), ("c", Admin), ("d", M)]);
        assert_eq!(refusal(&r, "b", kick("c")), ErrorCode::Forbidden);
        assert_eq!(refusal(&r, "b", ban("c")), ErrorCode::Forbidden);
        run(&mut r, "a", kick("c"));
        assert_eq!(r.role_of(&"c".into()), None);
    }

    fn mute(user: &str, minutes: u32) -> Command {
        Command::Mute {
            user: user.into(),
            minutes,
            reason: Some("flooding".into()),
        }
    }

    #[test]
    fn timeouts_follow_the_rank_rule_and_need_a_member() {
        let mut r = room(&[("a", Owner), ("b", Admin), ("c", Admin), ("d", M)]);
        assert_eq!(refusal(&r, "d", mute("c", 5)), ErrorCode::Forbidden);
        assert_eq!(refusal(&r, "b", mute("c", 5)), ErrorCode::Forbidden);
        assert_eq!(refusal(&r, "b", mute("a", 5)), ErrorCode::Forbidden);
        assert_eq!(refusal(&r, "b", mute("b", 5)), ErrorCode::InvalidInput);
        assert_eq!(refusal(&r, "b", mute("stranger", 5)), ErrorCode::NotMember);
        assert_eq!(refusal(&r, "outsider", mute("d", 5)), ErrorCode::NotMember);
        let events = run(&mut r, "b", mute("d", 60));
        assert_eq!(
            events,
            vec![Event::Muted {
                user: "d".into(),
                by: "b".into(),
                until: NOW + 3_600_000_000,
                reason: Some("flooding".into()),
            }]
        );
        assert!(r.muted.contains(&"d".into()));
        // The owner times out an admin; a new timeout replaces the old one.
        run(&mut r, "a", mute("c", 5));
        run(&mut r, "a", mute("c", 10));
        let unmute = |user: &str| Command::Unmute { user: user.into() };
        assert_eq!(refusal(&r, "d", unmute("c")), ErrorCode::Forbidden);
        run(&mut r, "b", unmute("d"));
        assert_eq!(refusal(&r, "b", unmute("d")), ErrorCode::NotFound);
    }

    #[test]
    fn a_timed_ban_carries_its_end() {
        let mut r = room(&[("a", Owner), ("b", M), ("c", M)]);
        let events = run(
            &mut r,
            "a",
            Command::Ban {
                user: "c".into(),
                reason: None,
                minutes: Some(2),
                purge_minutes: None,
            },
        );
        assert!(events.contains(&Event::BanAdded {
            user: "c".into(),
            by: "a".into(),
            reason: None,
            until: Some(NOW + 120_000_000),
        }));
        r.apply(&Event::BanEnded { user: "c".into() }, NOW);
        assert!(!r.banned.contains(&"c".into()));
    }

    #[test]
    fn a_ban_with_a_purge_deletes_back_from_now_and_only_when_the_ban_is_allowed() {
        let mut r = room(&[
            ("a", Owner),
            ("b", Role::Admin),
            ("c", M),
            ("d", Role::Admin),
        ]);
        let purge = |user: &str| Command::Ban {
            user: user.into(),
            reason: Some("spam".into()),
            minutes: None,
            purge_minutes: Some(60),
        };
        // The rank rule of a ban holds for its purge: an admin cannot purge an admin.
        assert_eq!(refusal(&r, "b", purge("d")), ErrorCode::Forbidden);
        assert_eq!(refusal(&r, "c", purge("b")), ErrorCode::Forbidden);
        let events = run(&mut r, "b", purge("c"));
        assert_eq!(
            events[1],
            Event::Purged {
                user: "c".into(),
                by: "b".into(),
                since: NOW - 3_600_000_000,
                reason: Some("spam".into()),
            }
        );
        assert!(matches!(events[0], Event::BanAdded { .. }));
        // Without `purge_minutes`, nothing is deleted.
        let events = run(
            &mut r,
            "a",
            Command::Ban {
                user: "d".into(),
                reason: None,
                minutes: None,
                purge_minutes: None,
            },
        );
        assert!(!events.iter().any(|e| matches!(e, Event::Purged { .. })));
    }

    #[test]
    fn posting_rules_change_only_when_they_differ_and_say_so() {
        let mut r = room(&[("a", Owner), ("b", M)]);
        let slow = Settings {
            slow_mode_seconds: Some(30),
            announcement: Some(false),
            ..Default::default()
        };
        let events = run(&mut r, "a", Command::Update(slow.clone()));
        let Event::SettingsChanged { settings, .. } = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(settings.announcement, None, "unchanged rules are left out");
        assert_eq!(r.rules.slow_mode_seconds, 30);
        assert_eq!(
            rules_line("ann", settings).as_deref(),
            Some("ann turned slow mode on: one message every 30 s per member")
        );
        assert_eq!(
            refusal(&r, "b", Command::Update(slow)),
            ErrorCode::Forbidden
        );
        let both = Settings {
            slow_mode_seconds: Some(0),
            announcement: Some(true),
            ..Default::default()
        };
        let events = run(&mut r, "a", Command::Update(both));
        let Event::SettingsChanged { settings, .. } = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(
            rules_line("ann", settings).as_deref(),
            Some("ann turned slow mode off and made this an announcement room: only admins post")
        );
        assert!(r.rules.announcement);
        assert_eq!(rules_line("ann", &Settings::default()), None);
    }

    #[test]
    fn a_decline_starts_the_cooldown_and_decline_and_ban_bans() {
        let mut r = room(&[("a", Owner), ("b", M)]);
        r.policy = JoinPolicy::Request;
        r.request_cooldown_seconds = 3600;
        run(&mut r, "x", Command::Join);
        let deny = |ban| Command::Deny {
            user: "x".into(),
            ban,
            reason: Some("spam".into()),
        };
        assert_eq!(refusal(&r, "b", deny(false)), ErrorCode::Forbidden);
        let events = run(&mut r, "a", deny(false));
        assert!(events.contains(&Event::CooldownStarted {
            user: "x".into(),
            until: NOW + 3_600_000_000,
        }));
        let err = decide(&r, &"x".into(), &Command::Join, NOW + 1_000_000).unwrap_err();
        assert_eq!(err.code, ErrorCode::RequestCooldown);
        assert_eq!(err.retry_after_ms, Some(3_599_000));
        assert!(decide(&r, &"x".into(), &Command::Join, NOW + 3_600_000_000).is_ok());
        // Decline and ban: the request closes and the ban holds; no cooldown is needed.
        run(&mut r, "y", Command::Join);
        let events = run(
            &mut r,
            "a",
            Command::Deny {
                user: "y".into(),
                ban: true,
                reason: Some("spam".into()),
            },
        );
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(r.banned.contains(&"y".into()));
        assert_eq!(
            decide(&r, &"y".into(), &Command::Join, NOW)
                .unwrap_err()
                .code,
            ErrorCode::Banned
        );
    }

    #[test]
    fn nobody_kicks_or_bans_the_owner() {
        let r = room(&[("a", Owner), ("b", Admin), ("c", M)]);
        assert_eq!(refusal(&r, "b", kick("a")), ErrorCode::Forbidden);
        assert_eq!(refusal(&r, "b", ban("a")), ErrorCode::Forbidden);
        assert_eq!(refusal(&r, "a", kick("a")), ErrorCode::InvalidInput);
    }

    #[test]
    fn an_admin_kicks_a_member_with_a_reason() {
        let mut r = room(&[("a", Owner), ("b", Admin), ("c", M)]);
        let events = run(
            &mut r,
            "b",
            Command::Kick {
                user: "c".into(),
                reason: Some("rude".into()),
            },
        );
        assert_eq!(
            events[0],
            Event::Departed {
                user: "c".into(),
                reason: LeaveReason::Kicked,
                by: Some("b".into()),
                note: Some("rude".into())
            }
        );
        assert_eq!(refusal(&r, "b", kick("c")), ErrorCode::NotMember);
    }

    #[test]
    fn a_kick_is_a_departure_and_can_terminate_the_room() {
        let mut r = room(&[("a", Owner), ("b", M)]);
        // Owner kicks the only other member: the owner, an admin, stays alone.
        run(&mut r, "a", kick("b"));
        assert!(r.is_active());
        let mut r = room(&[("a", Owner), ("b", Admin), ("c", M)]);
        run(&mut r, "a", kick("b"));
        assert!(r.is_active());
    }

    #[test]
    fn a_ban_removes_a_member_cancels_and_blocks_every_way_back() {
        let mut r = room(&[("a", Owner), ("b", M), ("c", M)]);
        r.policy = JoinPolicy::Open;
        let events = run(&mut r, "a", ban("b"));
        assert!(matches!(events[0], Event::BanAdded { .. }));
        assert!(events.iter().any(|e| matches!(
            e,
            Event::Departed {
                reason: LeaveReason::Banned,
                ..
            }
        )));
        assert_eq!(refusal(&r, "b", Command::Join), ErrorCode::Banned);
        assert_eq!(refusal(&r, "b", Command::AcceptInvite), ErrorCode::Banned);
        assert_eq!(
            refusal(&r, "a", Command::Invite { user: "b".into() }),
            ErrorCode::Banned
        );
        assert!(!r.visible_to(&"b".into(), NOW));
        assert_eq!(refusal(&r, "a", ban("b")), ErrorCode::AlreadyBanned);
        run(&mut r, "a", Command::Unban { user: "b".into() });
        run(&mut r, "b", Command::Join);
        assert_eq!(r.role_of(&"b".into()), Some(M));
    }

    #[test]
    fn banning_a_non_member_cancels_their_request_and_invite() {
        let mut r = room(&[("a", Owner)]);
        r.requests.insert("x".into());
        r.invites.insert("x".into(), NOW + 10);
        let events = run(&mut r, "a", ban("x"));
        assert!(events.contains(&Event::Cancelled { user: "x".into() }));
        assert!(r.requests.is_empty() && r.invites.is_empty());
        assert!(r.banned.contains(&UserId::from("x")));
    }

    #[test]
    fn unbanning_someone_not_banned_is_refused() {
        let r = room(&[("a", Owner)]);
        assert_eq!(
            refusal(&r, "a", Command::Unban { user: "x".into() }),
            ErrorCode::NotFound
        );
    }

    // --- §3: joining ---

    #[test]
    fn an_open_room_admits_at_once_until_full() {
        let mut r = room(&[("a", Owner)]);
        r.policy = JoinPolicy::Open;
        r.max_members = Some(2);
        let events = run(&mut r, "b", Command::Join);
        assert_eq!(
            events,
            vec![Event::Joined {
                user: "b".into(),
                role: M,
                via: JoinedVia::Open
            }]
        );
        assert_eq!(refusal(&r, "c", Command::Join), ErrorCode::RoomFull);
        assert_eq!(refusal(&r, "b", Command::Join), ErrorCode::AlreadyMember);
    }

    #[test]
    fn a_request_room_takes_one_pending_request_which_an_admin_approves_or_denies() {
        let mut r = room(&[("a", Owner), ("b", M)]);
        run(&mut r, "x", Command::Join);
        assert!(r.requests.contains(&UserId::from("x")));
        assert_eq!(refusal(&r, "x", Command::Join), ErrorCode::RequestPending);
        assert_eq!(
            refusal(&r, "b", Command::Approve { user: "x".into() }),
            ErrorCode::Forbidden
        );
        run(&mut r, "a", Command::Approve { user: "x".into() });
        assert_eq!(r.role_of(&"x".into()), Some(M));
        run(&mut r, "y", Command::Join);
        run(
            &mut r,
            "a",
            Command::Deny {
                user: "y".into(),
                ban: false,
                reason: None,
            },
        );
        assert!(r.member(&"y".into()).is_none() && r.requests.is_empty());
        assert_eq!(
            refusal(&r, "a", Command::Approve { user: "y".into() }),
            ErrorCode::NotFound
        );
    }

    #[test]
    fn approving_into_a_full_room_is_refused() {
        let mut r = room(&[("a", Owner), ("b", M)]);
        r.max_members = Some(2);
        r.requests.insert("x".into());
        assert_eq!(
            refusal(&r, "a", Command::Approve { user: "x".into() }),
            ErrorCode::RoomFull
        );
    }

    #[test]
    fn a_private_room_answers_strangers_as_if_it_did_not_exist() {
        let mut r = room(&[("a", Owner)]);
        r.policy = JoinPolicy::Invite;
        assert_eq!(refusal(&r, "x", Command::Join), ErrorCode::RoomNotFound);
        assert!(!r.visible_to(&"x".into(), NOW));
        run(&mut r, "a", Command::Invite { user: "x".into() });
        assert!(r.visible_to(&"x".into(), NOW));
        // Join by id with an invite works like accepting it.
        run(&mut r, "x", Command::Join);
        assert_eq!(r.role_of(&"x".into()), Some(M));
    }

    #[test]
    fn invites_are_accepted_or_declined_and_expire_after_seven_days() {
        let mut r = room(&[("a", Owner)]);
        r.policy = JoinPolicy::Invite;
        let events = run(&mut r, "a", Command::Invite { user: "x".into() });
        assert_eq!(
            events,
            vec![Event::Invited {
                user: "x".into(),
                by: "a".into(),
                expires_at: NOW + INVITE_LIFETIME
            }]
        );
        run(&mut r, "a", Command::Invite { user: "y".into() });
        run(&mut r, "y", Command::DeclineInvite);
        assert_eq!(
            refusal(&r, "y", Command::AcceptInvite),
            ErrorCode::NotInvited
        );
        let later = NOW + INVITE_LIFETIME + 1;
        assert_eq!(
            decide(&r, &"x".into(), &Command::AcceptInvite, later)
                .unwrap_err()
                .code,
            ErrorCode::NotInvited
        );
        run(&mut r, "x", Command::AcceptInvite);
        assert_eq!(r.role_of(&"x".into()), Some(M));
        assert_eq!(
            refusal(&r, "a", Command::Invite { user: "x".into() }),
            ErrorCode::AlreadyMember
        );
        assert_eq!(
            refusal(&r, "x", Command::Invite { user: "z".into() }),
            ErrorCode::Forbidden
        );
    }

    // --- roles and settings ---

    #[test]
    fn only_the_owner_promotes_demotes_and_transfers() {
        let mut r = room(&[("a", Owner), ("b", Admin), ("c", M)]);
        assert_eq!(
            refusal(&r, "b", Command::Promote { user: "c".into() }),
            ErrorCode::Forbidden
        );
        assert_eq!(
            refusal(&r, "c", Command::Demote { user: "b".into() }),
            ErrorCode::Forbidden
        );
        assert_eq!(
            refusal(&r, "b", Command::Transfer { user: "c".into() }),
            ErrorCode::Forbidden
        );
        run(&mut r, "a", Command::Promote { user: "c".into() });
        assert_eq!(r.role_of(&"c".into()), Some(Admin));
        assert_eq!(
            refusal(&r, "a", Command::Promote { user: "c".into() }),
            ErrorCode::InvalidInput
        );
        run(&mut r, "a", Command::Demote { user: "b".into() });
        assert_eq!(r.role_of(&"b".into()), Some(M));
        run(&mut r, "a", Command::Transfer { user: "b".into() });
        assert_eq!(r.role_of(&"b".into()), Some(Owner));
        assert_eq!(r.role_of(&"a".into()), Some(Admin));
        assert_eq!(
            refusal(&r, "b", Command::Demote { user: "b".into() }),
            ErrorCode::InvalidInput
        );
    }

    #[test]
    fn settings_are_for_admins_and_the_limit_cannot_drop_below_the_members() {
        let mut r = room(&[("a", Owner), ("b", M), ("c", M)]);
        let lower = Settings {
            max_members: Some(Some(2)),
            ..Settings::default()
        };
        assert_eq!(
            refusal(&r, "b", Command::Update(lower.clone())),
            ErrorCode::Forbidden
        );
        assert_eq!(
            refusal(&r, "a", Command::Update(lower)),
            ErrorCode::InvalidInput
        );
        let open = Settings {
            policy: Some(JoinPolicy::Open),
            topic: Some(Some("news".into())),
            max_members: Some(None),
            ..Default::default()
        };
        run(&mut r, "a", Command::Update(open));
        assert_eq!(
            (r.policy, r.topic.as_deref()),
            (JoinPolicy::Open, Some("news"))
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    const USERS: [&str; 12] = [
        "u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "u10", "u11",
    ];

    fn command() -> impl Strategy<Value = (usize, usize, u8)> {
        (0..USERS.len(), 0..USERS.len(), 0..15u8)
    }

    fn to_command(target: &str, kind: u8) -> Command {
        let user = UserId::from(target);
        match kind {
            0 | 1 => Command::Join,
            2 => Command::Leave,
            3 => Command::Kick { user, reason: None },
            4 => Command::Ban {
                user,
                reason: None,
                minutes: None,
                purge_minutes: None,
            },
            5 => Command::Unban { user },
            6 => Command::Promote { user },
            7 => Command::Demote { user },
            8 => Command::Transfer { user },
            9 => Command::Approve { user },
            10 => Command::Invite { user },
            13 => Command::Deny {
                user,
                ban: target.ends_with(['1', '3', '5']),
                reason: None,
            },
            11 => Command::Mute {
                user,
                minutes: 5,
                reason: None,
            },
            12 => Command::Unmute { user },
            _ => Command::AcceptInvite,
        }
    }

    /// A room just created by `u0`, holding at most `max_members`.
    fn founded(policy: JoinPolicy, max_members: u32) -> Room {
        Room {
            id: "r".into(),
            status: RoomStatus::Active,
            policy,
            max_members: Some(max_members),
            topic: None,
            members: vec![Member {
                user_id: "u0".into(),
                role: Role::Owner,
                joined_at: 0,
            }],
            member_count: 1,
            banned: BTreeSet::new(),
            requests: BTreeSet::new(),
            invites: BTreeMap::new(),
            muted: BTreeSet::new(),
            rules: Default::default(),
            request_cooldown_seconds: 0,
            cooldowns: BTreeMap::new(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Whatever people do, in whatever order: an active room keeps at least one admin and
        /// exactly one owner and is never one non-admin alone; a terminated one stays empty.
        #[test]
        fn any_sequence_keeps_the_invariants(
            policy in prop_oneof![Just(JoinPolicy::Open), Just(JoinPolicy::Request), Just(JoinPolicy::Invite)],
            steps in proptest::collection::vec(command(), 1..60),
        ) {
            let mut room = founded(policy, 5);
            for (i, (actor, target, kind)) in steps.into_iter().enumerate() {
                let now = (i as i64 + 1) * 1000;
                let cmd = to_command(USERS[target], kind);
                if let Ok(events) = decide(&room, &UserId::from(USERS[actor]), &cmd, now) {
                    for e in &events {
                        room.apply(e, now);
                    }
                }
                prop_assert!(room.check_invariants().is_ok(), "{:?} after {:?}", room.check_invariants(), cmd);
                if let Some(max) = room.max_members {
                    prop_assert!(room.members.len() <= max as usize);
                }
            }
        }

        /// The service decides on a summary of the room (`Room::summary_for`), never the
        /// whole of it: at every step of any sequence, the summary decides exactly as the
        /// whole room does.
        #[test]
        fn a_summary_decides_as_the_whole_room(
            policy in prop_oneof![Just(JoinPolicy::Open), Just(JoinPolicy::Request), Just(JoinPolicy::Invite)],
            steps in proptest::collection::vec(command(), 1..80),
        ) {
            let mut room = founded(policy, 10);
            for (i, (actor, target, kind)) in steps.into_iter().enumerate() {
                let now = (i as i64 + 1) * 1000;
                let cmd = to_command(USERS[target], kind);
                let summary = room.summary_for(&UserId::from(USERS[actor]), cmd.target());
                let whole = decide(&room, &UserId::from(USERS[actor]), &cmd, now);
                prop_assert_eq!(&decide(&summary, &UserId::from(USERS[actor]), &cmd, now), &whole, "{:?} by {}", cmd, USERS[actor]);
                if let Ok(events) = whole {
                    for e in &events {
                        room.apply(e, now);
                    }
                }
            }
        }
    }
}

/// 1–64 characters after trimming, no control characters; unique among active rooms
/// ignoring case ([`RoomName::key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomName(String);

impl RoomName {
    pub const MAX: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(ApiError::invalid_field("name", "Give the room a name."));
        }
        let len = name.chars().count();
        if len > Self::MAX {
            return Err(ApiError::invalid_field(
                "name",
                format!(
                    "A room name is at most {} characters; this one has {len}.",
                    Self::MAX
                ),
            ));
        }
        crate::text::name("name", "A room name", name)?;
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compatibility-folded (NFKC) and lower-cased: `Ｌｏｕｎｇｅ` and `LOUNGE` are
    /// taken when `Lounge` is.
    pub fn key(&self) -> String {
        fold(&self.0)
    }
}

pub use crate::text::fold;

pub const TOPIC_MAX: usize = 300;
pub const MEMBER_LIMIT_RANGE: std::ops::RangeInclusive<i64> = 2..=100_000;

/// An optional topic: trimmed, empty means none, at most 300 characters.
pub fn parse_topic(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(topic) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if topic.chars().count() > TOPIC_MAX {
        return Err(ApiError::invalid_field(
            "topic",
            format!("A topic is at most {TOPIC_MAX} characters."),
        ));
    }
    crate::text::label("topic", "A topic", topic)?;
    Ok(Some(topic.to_owned()))
}

/// An optional member limit between 2 and 100,000.
pub fn parse_max_members(raw: Option<i64>) -> Result<Option<u32>, ApiError> {
    match raw {
        None => Ok(None),
        Some(n) if MEMBER_LIMIT_RANGE.contains(&n) => Ok(u32::try_from(n).ok()),
        Some(_) => Err(ApiError::invalid_field(
            "max_members",
            format!(
                "A member limit is between {} and {}, or none.",
                MEMBER_LIMIT_RANGE.start(),
                MEMBER_LIMIT_RANGE.end()
            ),
        )),
    }
}

#[cfg(test)]
mod input_tests {
    use super::*;

    #[test]
    fn room_names_are_trimmed_bounded_and_case_folded() {
        assert_eq!(RoomName::parse("  Lounge ").unwrap().as_str(), "Lounge");
        assert_eq!(
            RoomName::parse("Lounge").unwrap().key(),
            RoomName::parse("LOUNGE").unwrap().key()
        );
        assert!(RoomName::parse(&"é".repeat(64)).is_ok());
        // Found by the `text_inputs` fuzzer: lower-casing `İ` gives `i` and a combining dot
        // above, which must come after a combining mark of lower class; folding once more
        // changed the key, so one name could have two keys.
        let tricky = "\u{130}\u{6ED}\u{6E3}ا";
        assert_eq!(fold(&fold(tricky)), fold(tricky));
        // Width and compatibility forms fold together (NFKC).
        assert_eq!(
            RoomName::parse("Ｌｏｕｎｇｅ").unwrap().key(),
            RoomName::parse("lounge").unwrap().key()
        );
        for bad in [
            "",
            "   ",
            &"x".repeat(65),
            "a\u{0}b",
            "Lounge\u{200B}",
            "x\u{202E}fdp",
        ] {
            let err = RoomName::parse(bad).unwrap_err();
            assert_eq!(
                (err.code, err.field.as_deref()),
                (ErrorCode::InvalidInput, Some("name"))
            );
        }
    }

    #[test]
    fn topics_and_limits_have_bounds() {
        assert_eq!(parse_topic(Some("  ")).unwrap(), None);
        assert_eq!(parse_topic(Some(" hi ")).unwrap().as_deref(), Some("hi"));
        assert!(parse_topic(Some(&"t".repeat(301))).is_err());
        assert!(parse_topic(Some("a\u{0}b")).is_err());
        assert!(parse_topic(Some("read \u{202E}txet")).is_err());
        assert!(parse_reason(Some("spam\u{0}")).is_err());
        assert!(parse_reason(Some("\u{2067}spam")).is_err());
        assert_eq!(
            parse_reason(Some("line\nline")).unwrap().as_deref(),
            Some("line\nline")
        );
        assert_eq!(parse_max_members(Some(2)).unwrap(), Some(2));
        assert!(parse_max_members(Some(1)).is_err());
        assert!(parse_max_members(Some(-5)).is_err());
        assert!(parse_max_members(Some(100_001)).is_err());
    }
}

pub const REASON_MAX: usize = 500;

/// An optional kick or ban reason: trimmed, empty means none, at most 500 characters.
pub fn parse_reason(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(reason) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if reason.chars().count() > REASON_MAX {
        return Err(ApiError::invalid_field(
            "reason",
            format!("A reason is at most {REASON_MAX} characters."),
        ));
    }
    crate::text::label("reason", "A reason", reason)?;
    Ok(Some(reason.to_owned()))
}
