//! What a room's events mean for people: the notifications they cause (docs/RULES.md §8),
//! the moderation-log entries they leave (§5), the `member` frames the live channel sends and
//! the timeline's system lines (§6). Pure mappings, one place each.

use crate::room::{Event, JoinedVia, LeaveReason, Micros, Role, RoleCause, Room, UserId};
pub use crate::vocab::{LogKind, MemberEvent, NotificationKind};

/// What a `member` frame says: who, what, their role afterwards where it changed, and the
/// end of a timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberChange<'a> {
    pub user: &'a UserId,
    pub event: MemberEvent,
    pub role: Option<Role>,
    pub until: Option<Micros>,
}

/// The `member` frame of one event, if the room's members hear of it.
pub fn member_event(event: &Event) -> Option<MemberChange<'_>> {
    let change = |user, event, role| MemberChange {
        user,
        event,
        role,
        until: None,
    };
    match event {
        Event::Muted { user, until, .. } => Some(MemberChange {
            until: Some(*until),
            ..change(user, MemberEvent::Muted, None)
        }),
        Event::Unmuted { user, .. } => Some(change(user, MemberEvent::Unmuted, None)),
        Event::Joined { user, role, .. } => Some(change(user, MemberEvent::Joined, Some(*role))),
        // The termination frame tells the one removed with the room.
        Event::Departed {
            reason: LeaveReason::Terminated,
            ..
        } => None,
        Event::Departed { user, reason, .. } => {
            let what = match reason {
                LeaveReason::Left => MemberEvent::Left,
                LeaveReason::Kicked => MemberEvent::Kicked,
                LeaveReason::Banned | LeaveReason::Terminated => MemberEvent::Banned,
            };
            Some(change(user, what, None))
        }
        Event::RoleChanged {
            user, role, cause, ..
        } => {
            let what = match (cause, role) {
                (RoleCause::Promoted, _) => MemberEvent::Promoted,
                (RoleCause::Demoted, _) => MemberEvent::Demoted,
                (RoleCause::Succession, _) => MemberEvent::Succession,
                (RoleCause::Ownership, Role::Owner) => MemberEvent::Owner,
                (RoleCause::Ownership, _) => MemberEvent::Demoted,
            };
            Some(change(user, what, Some(*role)))
        }
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationDraft {
    pub user: UserId,
    pub kind: NotificationKind,
    pub actor: Option<UserId>,
    pub reason: Option<String>,
}

fn note(
    user: &UserId,
    kind: NotificationKind,
    actor: Option<&UserId>,
    reason: Option<&String>,
) -> NotificationDraft {
    NotificationDraft {
        user: user.clone(),
        kind,
        actor: actor.cloned(),
        reason: reason.cloned(),
    }
}

/// The notifications `events` cause; `before` is the room as it was before them (its admins
/// hear of join requests).
/// Whether a notification to `user` may name the room: a private (invite-only) room's name
/// is for its members and invitees, not for a stranger it bans or unbans.
pub fn may_name_room(before: &Room, user: &UserId) -> bool {
    before.policy != crate::room::JoinPolicy::Invite
        || before.members.iter().any(|m| &m.user_id == user)
        || before.invites.contains_key(user)
}

pub fn notifications(before: &Room, events: &[Event]) -> Vec<NotificationDraft> {
    use NotificationKind as K;
    let mut out = Vec::new();
    for event in events {
        match event {
            Event::Invited { user, by, .. } => out.push(note(user, K::Invited, Some(by), None)),
            Event::Requested { user } => {
                for admin in before.members.iter().filter(|m| m.role.is_admin()) {
                    out.push(note(&admin.user_id, K::JoinRequest, Some(user), None));
                }
            }
            Event::RequestClosed { user, approved, by } => {
                let kind = if *approved {
                    K::RequestApproved
                } else {
                    K::RequestDenied
                };
                out.push(note(user, kind, Some(by), None));
            }
            Event::Departed {
                user,
                reason: LeaveReason::Kicked,
                by,
                note: why,
            } => {
                out.push(note(user, K::Kicked, by.as_ref(), why.as_ref()));
            }
            Event::Departed {
                user,
                reason: LeaveReason::Terminated,
                ..
            } => {
                out.push(note(user, K::RoomTerminated, None, None));
            }
            Event::BanAdded {
                user, by, reason, ..
            } => out.push(note(user, K::Banned, Some(by), reason.as_ref())),
            Event::Muted {
                user, by, reason, ..
            } => out.push(note(user, K::Muted, Some(by), reason.as_ref())),
            Event::Unmuted { user, by: Some(by) } => {
                out.push(note(user, K::Unmuted, Some(by), None))
            }
            Event::Unmuted { user, by: None } => out.push(note(user, K::MuteEnded, None, None)),
            Event::BanEnded { user } => out.push(note(user, K::BanEnded, None, None)),
            Event::BanLifted { user, by } => out.push(note(user, K::Unbanned, Some(by), None)),
            Event::RoleChanged {
                user,
                role,
                cause,
                by,
            } => {
                let kind = match (cause, role) {
                    (RoleCause::Promoted, _) => Some(K::Promoted),
                    (RoleCause::Demoted, _) => Some(K::Demoted),
                    (RoleCause::Succession, _) => Some(K::Succession),
                    (RoleCause::Ownership, Role::Owner) => Some(K::OwnershipReceived),
                    (RoleCause::Ownership, _) => None,
                };
                if let Some(kind) = kind {
                    out.push(note(user, kind, by.as_ref(), None));
                }
            }
            _ => {}
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogDraft {
    pub kind: LogKind,
    pub actor: Option<UserId>,
    pub target: Option<UserId>,
    pub reason: Option<String>,
    /// When a timeout or timed ban ends.
    pub until: Option<Micros>,
}

fn log(
    kind: LogKind,
    actor: Option<&UserId>,
    target: Option<&UserId>,
    reason: Option<&String>,
) -> Option<LogDraft> {
    Some(LogDraft {
        kind,
        actor: actor.cloned(),
        target: target.cloned(),
        reason: reason.cloned(),
        until: None,
    })
}

fn log_until(mut draft: Option<LogDraft>, until: Option<Micros>) -> Option<LogDraft> {
    if let Some(d) = draft.as_mut() {
        d.until = until;
    }
    draft
}

/// The moderation-log entry of one event, if it is a membership event.
pub fn log_entry(event: &Event) -> Option<LogDraft> {
    match event {
        Event::Joined {
            user,
            via: JoinedVia::Created,
            ..
        } => log(LogKind::Created, Some(user), None, None),
        Event::Joined { user, .. } => log(LogKind::Joined, Some(user), Some(user), None),
        Event::Departed {
            user,
            reason: LeaveReason::Left,
            ..
        } => log(LogKind::Left, Some(user), Some(user), None),
        Event::Departed {
            user,
            reason: LeaveReason::Kicked,
            by,
            note,
        } => log(LogKind::Kicked, by.as_ref(), Some(user), note.as_ref()),
        // A ban's own entry says it; a member removed by termination is in `terminated`.
        // The decline's own entry says it.
        Event::Departed { .. } | Event::Cancelled { .. } | Event::CooldownStarted { .. } => None,
        Event::Requested { user } => log(LogKind::Requested, Some(user), Some(user), None),
        Event::RequestClosed { user, approved, by } => log(
            if *approved {
                LogKind::Approved
            } else {
                LogKind::Denied
            },
            Some(by),
            Some(user),
            None,
        ),
        Event::Invited { user, by, .. } => log(LogKind::Invited, Some(by), Some(user), None),
        Event::InviteClosed { user, accepted } => log(
            if *accepted {
                LogKind::InviteAccepted
            } else {
                LogKind::InviteDeclined
            },
            Some(user),
            Some(user),
            None,
        ),
        Event::BanAdded {
            user,
            by,
            reason,
            until,
        } => log_until(
            log(LogKind::Banned, Some(by), Some(user), reason.as_ref()),
            *until,
        ),
        Event::Muted {
            user,
            by,
            until,
            reason,
        } => log_until(
            log(LogKind::Muted, Some(by), Some(user), reason.as_ref()),
            Some(*until),
        ),
        Event::Unmuted { user, by: Some(by) } => log(LogKind::Unmuted, Some(by), Some(user), None),
        Event::Unmuted { user, by: None } => log(LogKind::MuteEnded, None, Some(user), None),
        Event::BanEnded { user } => log(LogKind::BanEnded, None, Some(user), None),
        Event::BanLifted { user, by } => log(LogKind::Unbanned, Some(by), Some(user), None),
        Event::Purged {
            user, by, reason, ..
        } => log(
            LogKind::MessagesPurged,
            Some(by),
            Some(user),
            reason.as_ref(),
        ),
        Event::RoleChanged {
            user,
            role,
            cause,
            by,
        } => match (cause, role) {
            (RoleCause::Promoted, _) => log(LogKind::Promoted, by.as_ref(), Some(user), None),
            (RoleCause::Demoted, _) => log(LogKind::Demoted, by.as_ref(), Some(user), None),
            (RoleCause::Succession, _) => log(LogKind::AdminSuccession, None, Some(user), None),
            (RoleCause::Ownership, Role::Owner) => {
                log(LogKind::OwnershipTransfer, by.as_ref(), Some(user), None)
            }
            (RoleCause::Ownership, _) => None,
        },
        Event::SettingsChanged { by, .. } => log(LogKind::SettingsUpdated, Some(by), None, None),
        Event::Terminated => log(LogKind::Terminated, None, None, None),
    }
}

/// The room timeline's line for an event (docs/RULES.md §6: join, leave, kick, ban, succession,
/// ownership, termination), with `name` turning a user id into a display name.
pub fn system_line(event: &Event, name: &dyn Fn(&UserId) -> String) -> Option<String> {
    let by = |by: &Option<UserId>| {
        by.as_ref()
            .map(name)
            .unwrap_or_else(|| "an admin".to_owned())
    };
    match event {
        Event::Joined {
            user,
            via: JoinedVia::Created,
            ..
        } => Some(format!("{} created the room", name(user))),
        Event::Joined { user, .. } => Some(format!("{} joined", name(user))),
        Event::Departed {
            user,
            reason: LeaveReason::Left,
            ..
        } => Some(format!("{} left", name(user))),
        Event::Departed {
            user,
            reason: LeaveReason::Kicked,
            by: actor,
            ..
        } => Some(format!("{} was kicked by {}", name(user), by(actor))),
        Event::Departed {
            user,
            reason: LeaveReason::Banned,
            by: actor,
            ..
        } => Some(format!("{} was banned by {}", name(user), by(actor))),
        Event::RoleChanged {
            user,
            cause: RoleCause::Succession,
            ..
        } => Some(format!(
            "{} is now an admin, as the earliest member with no admin left",
            name(user)
        )),
        Event::RoleChanged {
            user,
            role: Role::Owner,
            cause: RoleCause::Ownership,
            ..
        } => Some(format!("{} is now the owner", name(user))),
        Event::Terminated => Some("The room was terminated".to_owned()),
        Event::SettingsChanged { by, settings } => crate::room::rules_line(&name(by), settings),
        _ => None,
    }
}

/// How long after a person's join or leave line the next join or leave of theirs in that
/// room folds into the same line, instead of writing another.
pub const FOLD_WINDOW_SECS: i64 = 120;

/// Whether `event` is someone coming into or going out of a room on their own (joining by
/// any way but creating it, or leaving): who, and whether they came. Kicks and bans are
/// never folded.
pub fn coming_or_going(event: &Event) -> Option<(&UserId, bool)> {
    match event {
        Event::Joined {
            via: JoinedVia::Created,
            ..
        } => None,
        Event::Joined { user, .. } => Some((user, true)),
        Event::Departed {
            user,
            reason: LeaveReason::Left,
            ..
        } => Some((user, false)),
        _ => None,
    }
}

/// One line for a run of `changes` joins and leaves by `name`, from the first (joined or
/// left) to the last: "ann joined and left", "ann left and joined again (4 changes)".
pub fn folded_line(name: &str, first_joined: bool, last_joined: bool, changes: usize) -> String {
    let (what, fewest) = match (first_joined, last_joined) {
        (true, false) => ("joined and left", 2),
        (false, true) => ("left and joined again", 2),
        (true, true) => ("joined, left and joined again", 3),
        (false, false) => ("left, joined and left again", 3),
    };
    if changes > fewest {
        format!("{name} {what} ({changes} changes)")
    } else {
        format!("{name} {what}")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::room::{decide, Command, JoinPolicy, Member, RoomStatus};

    fn room() -> Room {
        let m = |id: &str, role, t| Member {
            user_id: id.into(),
            role,
            joined_at: t,
        };
        Room {
            id: "r".into(),
            status: RoomStatus::Active,
            policy: JoinPolicy::Request,
            max_members: None,
            topic: None,
            members: vec![
                m("owner", Role::Owner, 0),
                m("admin", Role::Admin, 1),
                m("m1", Role::Member, 2),
            ],
            member_count: 3,
            banned: BTreeSet::new(),
            requests: BTreeSet::new(),
            invites: BTreeMap::new(),
            muted: BTreeSet::new(),
            rules: Default::default(),
            request_cooldown_seconds: 0,
            cooldowns: BTreeMap::new(),
        }
    }

    #[test]
    fn a_private_rooms_name_is_told_to_its_members_and_invitees_only() {
        let mut r = room();
        assert!(may_name_room(&r, &"stranger".into()));
        r.policy = JoinPolicy::Invite;
        r.invites.insert("guest".into(), 10);
        assert!(may_name_room(&r, &"m1".into()) && may_name_room(&r, &"guest".into()));
        assert!(!may_name_room(&r, &"stranger".into()));
    }

    fn kinds(before: &Room, actor: &str, cmd: Command) -> Vec<(UserId, NotificationKind)> {
        let events = decide(before, &actor.into(), &cmd, 0).unwrap();
        notifications(before, &events)
            .into_iter()
            .map(|n| (n.user, n.kind))
            .collect()
    }

    #[test]
    fn a_join_request_notifies_every_admin() {
        assert_eq!(
            kinds(&room(), "x", Command::Join),
            vec![
                ("owner".into(), NotificationKind::JoinRequest),
                ("admin".into(), NotificationKind::JoinRequest)
            ]
        );
    }

    #[test]
    fn kicks_bans_and_roles_notify_their_target() {
        let r = room();
        let kick = Command::Kick {
            user: "m1".into(),
            reason: Some("rude".into()),
        };
        assert_eq!(
            kinds(&r, "admin", kick),
            vec![("m1".into(), NotificationKind::Kicked)]
        );
        let ban = Command::Ban {
            user: "stranger".into(),
            reason: None,
            minutes: None,
            purge_minutes: None,
        };
        assert_eq!(
            kinds(&r, "admin", ban),
            vec![("stranger".into(), NotificationKind::Banned)]
        );
        assert_eq!(
            kinds(&r, "owner", Command::Promote { user: "m1".into() }),
            vec![("m1".into(), NotificationKind::Promoted)]
        );
        assert_eq!(
            kinds(&r, "owner", Command::Transfer { user: "m1".into() }),
            vec![("m1".into(), NotificationKind::OwnershipReceived)]
        );
    }

    #[test]
    fn the_member_left_alone_hears_of_the_termination() {
        let mut r = room();
        r.members.retain(|m| m.user_id.as_str() != "admin");
        r.member_count = 2;
        assert_eq!(
            kinds(&r, "owner", Command::Leave),
            vec![("m1".into(), NotificationKind::RoomTerminated)]
        );
    }

    #[test]
    fn succession_notifies_the_new_admin_and_owner() {
        let mut r = room();
        r.members.retain(|m| m.user_id.as_str() != "admin");
        r.members.push(Member {
            user_id: "m2".into(),
            role: Role::Member,
            joined_at: 3,
        });
        r.member_count = 3;
        assert_eq!(
            kinds(&r, "owner", Command::Leave),
            vec![
                ("m1".into(), NotificationKind::Succession),
                ("m1".into(), NotificationKind::OwnershipReceived)
            ]
        );
    }

    #[test]
    fn departures_succession_and_termination_make_timeline_lines() {
        let name = |id: &UserId| id.as_str().to_uppercase();
        let mut r = room();
        r.members.retain(|m| m.user_id.as_str() != "admin");
        r.members.push(Member {
            user_id: "m2".into(),
            role: Role::Member,
            joined_at: 3,
        });
        let events = decide(
            &r,
            &"owner".into(),
            &Command::Kick {
                user: "m2".into(),
                reason: None,
            },
            0,
        )
        .unwrap();
        let lines: Vec<String> = events
            .iter()
            .filter_map(|e| system_line(e, &name))
            .collect();
        assert_eq!(lines, ["M2 was kicked by OWNER"]);
        let mut r = room();
        r.members.retain(|m| m.user_id.as_str() != "admin");
        r.member_count = 2;
        let events = decide(&r, &"owner".into(), &Command::Leave, 0).unwrap();
        let lines: Vec<String> = events
            .iter()
            .filter_map(|e| system_line(e, &name))
            .collect();
        assert_eq!(lines, ["OWNER left", "The room was terminated"]);
    }

    #[test]
    fn every_membership_event_has_a_log_kind() {
        let r = room();
        let events = decide(
            &r,
            &"admin".into(),
            &Command::Kick {
                user: "m1".into(),
                reason: Some("spam".into()),
            },
            0,
        )
        .unwrap();
        let entry = log_entry(&events[0]).unwrap();
        assert_eq!(entry.kind, LogKind::Kicked);
        assert_eq!(entry.actor.as_ref().map(UserId::as_str), Some("admin"));
        assert_eq!(entry.target.as_ref().map(UserId::as_str), Some("m1"));
        assert_eq!(entry.reason.as_deref(), Some("spam"));
        assert_eq!(
            log_entry(&Event::Terminated).unwrap().kind,
            LogKind::Terminated
        );
    }

    #[test]
    fn runs_of_joins_and_leaves_read_as_one_line() {
        assert_eq!(folded_line("ann", true, false, 2), "ann joined and left");
        assert_eq!(
            folded_line("ann", false, true, 2),
            "ann left and joined again"
        );
        assert_eq!(
            folded_line("ann", true, true, 5),
            "ann joined, left and joined again (5 changes)"
        );
        assert_eq!(
            folded_line("ann", false, false, 3),
            "ann left, joined and left again"
        );
        let joined = Event::Joined {
            user: "ann".into(),
            role: Role::Member,
            via: JoinedVia::Open,
        };
        assert_eq!(coming_or_going(&joined), Some((&"ann".into(), true)));
        let created = Event::Joined {
            user: "ann".into(),
            role: Role::Owner,
            via: JoinedVia::Created,
        };
        assert_eq!(coming_or_going(&created), None);
        let kicked = Event::Departed {
            user: "ann".into(),
            reason: LeaveReason::Kicked,
            by: None,
            note: None,
        };
        assert_eq!(coming_or_going(&kicked), None);
    }
}
