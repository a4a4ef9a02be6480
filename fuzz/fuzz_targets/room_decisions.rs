//! `domain::room::decide` over any sequence of commands by any of six people: whatever is
//! decided and applied, the room keeps its invariants (one owner, an admin while active,
//! never one non-admin alone, a terminated room empty), and the summary of the room the
//! service decides on (`Room::summary_for`) decides exactly as the whole room.
#![no_main]
use std::collections::{BTreeMap, BTreeSet};

use domain::room::{decide, Command, JoinPolicy, Member, Role, Room, RoomStatus, Settings, UserId};
use libfuzzer_sys::fuzz_target;

const USERS: [&str; 6] = ["u0", "u1", "u2", "u3", "u4", "u5"];

fn command(target: &str, kind: u8, extra: u8) -> Command {
    let user = UserId::from(target);
    let reason = (extra % 3 == 0).then(|| "because".to_owned());
    match kind % 17 {
        0 | 1 => Command::Join,
        2 => Command::Leave,
        3 => Command::Kick { user, reason },
        4 => Command::Ban {
            user,
            reason,
            minutes: (extra % 2 == 0).then_some(u32::from(extra) + 1),
            purge_minutes: (extra % 5 == 0).then_some(u32::from(extra) + 1),
        },
        5 => Command::Unban { user },
        6 => Command::Promote { user },
        7 => Command::Demote { user },
        8 => Command::Transfer { user },
        9 => Command::Approve { user },
        10 => Command::Deny {
            user,
            ban: extra % 2 == 1,
            reason,
        },
        11 => Command::Invite { user },
        12 => Command::AcceptInvite,
        13 => Command::DeclineInvite,
        14 => Command::Mute {
            user,
            minutes: u32::from(extra) + 1,
            reason,
        },
        15 => Command::Unmute { user },
        _ => Command::Update(Settings {
            max_members: Some(match extra % 4 {
                0 => None,
                n => Some(u32::from(n) + 1),
            }),
            policy: Some(match extra % 3 {
                0 => JoinPolicy::Open,
                1 => JoinPolicy::Request,
                _ => JoinPolicy::Invite,
            }),
            topic: None,
            slow_mode_seconds: Some(u32::from(extra) * 10),
            announcement: Some(extra % 2 == 0),
            request_cooldown_seconds: Some(u32::from(extra) * 60),
        }),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, steps)) = data.split_first() else {
        return;
    };
    let mut room = Room {
        id: "r".into(),
        status: RoomStatus::Active,
        policy: [JoinPolicy::Open, JoinPolicy::Request, JoinPolicy::Invite][usize::from(first % 3)],
        max_members: Some(u32::from(first % 5) + 2),
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
    };
    for (i, step) in steps.chunks_exact(4).enumerate() {
        let now = (i as i64 + 1) * 1000 + i64::from(step[3]) * 1_000_000_000;
        let actor = &UserId::from(USERS[usize::from(step[0]) % USERS.len()]);
        let cmd = command(USERS[usize::from(step[1]) % USERS.len()], step[2], step[3]);
        let whole = decide(&room, actor, &cmd, now);
        // The service decides on a summary of the room: it must decide the same.
        let summary = room.summary_for(actor, cmd.target());
        assert_eq!(
            decide(&summary, actor, &cmd, now),
            whole,
            "the summary decided otherwise: {actor} did {cmd:?}"
        );
        if let Ok(events) = whole {
            for e in &events {
                room.apply(e, now);
            }
        }
        if let Err(broken) = room.check_invariants() {
            panic!("{broken} after {actor} did {cmd:?}");
        }
    }
});
