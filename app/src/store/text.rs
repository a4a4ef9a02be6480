//! The client's words: sentences for notifications and departures, sizes, links and
//! author colours (times are [`super::clock`]'s). Pure functions, so they read the same on the server and in the browser
//! and are tested natively.

use domain::{
    effects::{LogKind, NotificationKind},
    room::{decide, Command, Event, JoinPolicy, Member, RoleCause, Room, RoomStatus},
    views::{LogEntryView, MemberView, NotificationView},
    vocab::LeaveReason,
    UserId,
};

pub(crate) fn room_label(name: Option<&str>) -> String {
    match name {
        Some(name) => format!("#{name}"),
        None => "a room".to_owned(),
    }
}

pub(crate) fn with_reason(sentence: String, reason: Option<&str>) -> String {
    match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(reason) => format!("{sentence}: {reason}"),
        None => format!("{sentence}."),
    }
}

/// A notification as a sentence, for the bell and the corner notices.
pub fn notification(n: &NotificationView) -> String {
    let room = room_label(n.room_name.as_deref());
    let actor = n.actor.as_ref().map_or("An admin", |a| a.username.as_str());
    match n.kind {
        NotificationKind::Invited => format!("{actor} invited you to {room}."),
        NotificationKind::RequestApproved => {
            format!("{actor} approved your request: you are now a member of {room}.")
        }
        NotificationKind::RequestDenied => format!("{actor} declined your request to join {room}."),
        NotificationKind::Kicked => with_reason(
            format!("You were removed from {room} by {actor}"),
            n.reason.as_deref(),
        ),
        NotificationKind::Banned => with_reason(
            format!("You were banned from {room} by {actor}"),
            n.reason.as_deref(),
        ),
        NotificationKind::Unbanned => format!("{actor} lifted your ban from {room}."),
        NotificationKind::Promoted => format!("{actor} made you an admin of {room}."),
        NotificationKind::Demoted => format!("{actor} made you a member of {room} again."),
        NotificationKind::Succession => {
            format!("You are now an admin of {room}: no admin was left, and you joined earliest.")
        }
        NotificationKind::OwnershipReceived => format!("You are now the owner of {room}."),
        NotificationKind::RoomTerminated => terminated(n.room_name.as_deref()),
        NotificationKind::JoinRequest => format!("{actor} asks to join {room}."),
        NotificationKind::Mention => format!("{actor} mentioned you in {room}."),
        NotificationKind::Muted => with_reason(
            format!("{actor} timed you out in {room}: you can read it but not post for now"),
            n.reason.as_deref(),
        ),
        NotificationKind::Unmuted => format!("{actor} lifted your timeout in {room}."),
        NotificationKind::MuteEnded => format!("Your timeout in {room} has ended."),
        NotificationKind::BanEnded => {
            format!("Your ban from {room} has ended: you may ask to join again.")
        }
        NotificationKind::Report => match n.reason.as_deref() {
            Some(why) => format!("A message in {room} was reported ({why})."),
            None => format!("A message in {room} was reported."),
        },
    }
}

pub fn terminated(name: Option<&str>) -> String {
    format!(
        "{} was terminated: nobody is left to talk to.",
        room_label(name)
    )
}

/// A moderation-log entry as a sentence: "ana banned bob: spam".
pub fn log_entry(e: &LogEntryView) -> String {
    let name = |u: &Option<domain::User>| {
        u.as_ref()
            .map_or_else(|| "someone".to_owned(), |u| u.username.clone())
    };
    let (actor, target) = (name(&e.actor), name(&e.target));
    let sentence = match e.kind {
        LogKind::Created => format!("{actor} created the room"),
        LogKind::Joined => format!("{target} joined"),
        LogKind::Left => format!("{target} left"),
        LogKind::Requested => format!("{target} asked to join"),
        LogKind::Approved => format!("{actor} approved {target}'s request"),
        LogKind::Denied => format!("{actor} denied {target}'s request"),
        LogKind::Invited => format!("{actor} invited {target}"),
        LogKind::InviteAccepted => format!("{target} accepted the invite"),
        LogKind::InviteDeclined => format!("{target} declined the invite"),
        LogKind::Kicked => format!("{actor} removed {target}"),
        LogKind::Banned => format!("{actor} banned {target}"),
        LogKind::Unbanned => format!("{actor} lifted {target}'s ban"),
        LogKind::Promoted => format!("{actor} made {target} an admin"),
        LogKind::Demoted => format!("{actor} made {target} a member again"),
        LogKind::AdminSuccession => {
            format!("{target} became admin, as the earliest member with no admin left")
        }
        LogKind::OwnershipTransfer if e.actor.is_some() => {
            format!("{actor} handed the room to {target}")
        }
        LogKind::OwnershipTransfer => format!("{target} became the owner"),
        LogKind::SettingsUpdated => format!("{actor} changed the settings"),
        LogKind::MessageDeleted => format!("{actor} deleted a message of {target}"),
        LogKind::Terminated => "The room was terminated".to_owned(),
        LogKind::Muted => format!("{actor} timed out {target}"),
        LogKind::Unmuted => format!("{actor} lifted {target}'s timeout"),
        LogKind::MuteEnded => format!("{target}'s timeout ended"),
        LogKind::BanEnded => format!("{target}'s timed ban ended"),
        LogKind::ReportDismissed => format!("{actor} dismissed a report on {target}'s message"),
        LogKind::MessagesPurged => format!("{actor} deleted {target}'s recent messages"),
    };
    // A timeout's or timed ban's end, in UTC (the log is read the same by every admin).
    let sentence = match e.until.as_deref().and_then(super::clock::parse_iso) {
        Some(until) => format!("{sentence} until {} UTC", super::clock::exact(until, 0)),
        None => sentence,
    };
    with_reason(sentence, e.reason.as_deref())
}

/// The log's kinds as a person names them, for its filter.
pub fn log_kind_label(kind: LogKind) -> &'static str {
    match kind {
        LogKind::Created => "Created",
        LogKind::Joined => "Joined",
        LogKind::Left => "Left",
        LogKind::Requested => "Asked to join",
        LogKind::Approved => "Request approved",
        LogKind::Denied => "Request denied",
        LogKind::Invited => "Invited",
        LogKind::InviteAccepted => "Invite accepted",
        LogKind::InviteDeclined => "Invite declined",
        LogKind::Kicked => "Removed",
        LogKind::Banned => "Banned",
        LogKind::Unbanned => "Unbanned",
        LogKind::Promoted => "Promoted",
        LogKind::Demoted => "Demoted",
        LogKind::AdminSuccession => "Admin by succession",
        LogKind::OwnershipTransfer => "Ownership",
        LogKind::SettingsUpdated => "Settings",
        LogKind::MessageDeleted => "Message deleted",
        LogKind::Terminated => "Terminated",
        LogKind::Muted => "Timed out",
        LogKind::Unmuted => "Timeout lifted",
        LogKind::MuteEnded => "Timeout ended",
        LogKind::BanEnded => "Timed ban ended",
        LogKind::ReportDismissed => "Report dismissed",
        LogKind::MessagesPurged => "Messages purged",
    }
}

/// A join policy's name and what it means, for the forms that choose one.
pub fn policy_label(policy: JoinPolicy) -> (&'static str, &'static str) {
    match policy {
        JoinPolicy::Open => ("Open", "Listed in search; anyone joins at once."),
        JoinPolicy::Request => (
            "By request",
            "Listed in search; people ask, and an admin approves.",
        ),
        JoinPolicy::Invite => (
            "Invite only",
            "Private: never listed; people join with an invite.",
        ),
    }
}

/// What joining a room will do, for a search result or a room you are not in.
pub fn join_action(policy: JoinPolicy) -> &'static str {
    match policy {
        JoinPolicy::Open => "Join",
        JoinPolicy::Request => "Ask to join",
        JoinPolicy::Invite => "Invite only",
    }
}

/// Why a past room is in the list.
pub fn left_because(reason: LeaveReason) -> &'static str {
    match reason {
        LeaveReason::Left => "You left",
        LeaveReason::Kicked => "You were removed",
        LeaveReason::Banned => "You were banned",
        LeaveReason::Terminated => "It was terminated",
    }
}

/// What leaving will do, decided by the room rules themselves (`domain::room::decide`) on
/// the member list as this page knows it, so the warning and the outcome cannot disagree.
pub fn leave_consequence(members: &[MemberView], me: &UserId) -> String {
    // The list is in join order already; positions stand in for join times.
    let room = Room {
        id: "room".into(),
        status: RoomStatus::Active,
        policy: JoinPolicy::Request,
        max_members: None,
        topic: None,
        members: members
            .iter()
            .enumerate()
            .map(|(i, m)| Member {
                user_id: m.user.id.clone(),
                role: m.role,
                joined_at: i as i64,
            })
            .collect(),
        member_count: members.len(),
        banned: Default::default(),
        requests: Default::default(),
        invites: Default::default(),
        muted: Default::default(),
        rules: Default::default(),
        request_cooldown_seconds: 0,
        cooldowns: Default::default(),
    };
    let name = |id: &UserId| {
        members
            .iter()
            .find(|m| &m.user.id == id)
            .map_or_else(|| "someone".to_owned(), |m| m.user.username.clone())
    };
    let Ok(events) = decide(&room, me, &Command::Leave, 0) else {
        return "You will leave this room.".to_owned();
    };
    let mut out = Vec::new();
    let alone = members.len() == 1;
    for e in &events {
        match e {
            Event::Terminated if alone => {
                out.push("You are the last member: the room will be terminated.".to_owned());
            }
            Event::Terminated => {}
            Event::Departed {
                user,
                reason: LeaveReason::Terminated,
                ..
            } => out.push(format!(
                "You are the only admin and {} is the only other member: the room will be terminated.",
                name(user)
            )),
            Event::RoleChanged {
                user,
                cause: RoleCause::Succession,
                ..
            } => out.push(format!(
                "You are the only admin: {} becomes admin, as the earliest member.",
                name(user)
            )),
            Event::RoleChanged {
                user,
                cause: RoleCause::Ownership,
                ..
            } => out.push(format!("{} becomes the owner.", name(user))),
            _ => {}
        }
    }
    if out.is_empty() {
        out.push("The room goes on without you; you can ask to come back later.".to_owned());
    }
    format!("You will leave this room. {}", out.join(" "))
}

/// `1.2 MB`, `340 KB`, `12 bytes` (whole-number arithmetic: no float formatting in the
/// browser bundle).
pub fn file_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    match bytes {
        0..KB => format!("{bytes} bytes"),
        KB..1_048_576 => format!("{} KB", (bytes + KB / 2) / KB),
        _ => {
            let tenths = (bytes * 10 + 524_288) / 1_048_576;
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    }
}

/// How many author colours the theme has.
pub const AUTHOR_HUES: u32 = 8;

/// A stable colour for a person: the same everywhere, from their id.
pub fn author_hue(id: &UserId) -> u32 {
    // FNV-1a: tiny, stable across builds and platforms.
    let mut h: u32 = 0x811c_9dc5;
    for b in id.as_str().bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % AUTHOR_HUES
}

/// A piece of a message's text: plain, or a link to make clickable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Link(String),
}

/// Splits text into plain runs and `http(s)://` links. Nothing else is ever interpreted. A
/// link is shown as exactly where it goes (rendered isolated, left to right: text-direction
/// controls around it cannot reorder it).
pub fn linkify(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = find_link_start(rest) {
        let tail = &rest[start..];
        let mut end = tail
            .find(|c: char| {
                c.is_whitespace()
                    || matches!(c, '<' | '>' | '"')
                    // A direction control or an invisible character is never part of an
                    // address: it would make the text shown differ from where it goes.
                    || domain::text::is_bidi_control(c)
                    || domain::text::is_invisible(c)
            })
            .unwrap_or(tail.len());
        // Trailing punctuation belongs to the sentence, not the address.
        while end > 0 && tail[..end].ends_with(['.', ',', ')', '!', '?', ';', ':', '\'']) {
            end -= 1;
        }
        let link = &tail[..end];
        if link.len() <= "https://".len() {
            push_text(&mut out, &rest[..start + end.max(1)]);
            rest = &rest[start + end.max(1)..];
            continue;
        }
        push_text(&mut out, &rest[..start]);
        out.push(Segment::Link(link.to_owned()));
        rest = &tail[end..];
    }
    push_text(&mut out, rest);
    out
}

fn find_link_start(s: &str) -> Option<usize> {
    let lower = s.to_ascii_lowercase();
    match (lower.find("http://"), lower.find("https://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn push_text(out: &mut Vec<Segment>, s: &str) {
    if s.is_empty() {
        return;
    }
    if let Some(Segment::Text(last)) = out.last_mut() {
        last.push_str(s);
    } else {
        out.push(Segment::Text(s.to_owned()));
    }
}
