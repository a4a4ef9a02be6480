//! The hub's parts together, without sockets or a database.

use domain::room::{JoinedVia, LeaveReason, Role};

use std::{
    collections::{HashMap, HashSet},
    net::IpAddr,
    time::Instant,
};

use domain::{room::Event, RoomId, User};
use service::hub::{EndedSessions, Hub, Posted, Published};
use tokio::sync::mpsc;

use super::{lock, presence::SILENT_FOR, relay::Relayed, LiveHub, SocketCaps, SocketHandle};
use domain::{message::ClientId, wire::Close};

fn user(id: &str) -> User {
    User {
        id: id.into(),
        username: id.to_owned(),
    }
}

fn room_event(room: &str, event: Event) -> Published {
    Published::Room {
        room_id: room.into(),
        events: vec![event],
        users: HashMap::new(),
    }
}

fn kicked(id: &str) -> Event {
    Event::Departed {
        user: id.into(),
        reason: LeaveReason::Kicked,
        by: None,
        note: None,
    }
}

#[test]
fn sockets_are_capped_per_user_and_per_address_and_freed_on_disconnect() {
    let hub = LiveHub::new(
        16,
        SocketCaps {
            per_user: 2,
            per_addr: 3,
        },
    );
    let home: IpAddr = [192, 0, 2, 1].into();
    let office: IpAddr = [192, 0, 2, 2].into();
    let a1 = hub.connect(&user("ann"), None, Some(home)).unwrap();
    let _a2 = hub.connect(&user("ann"), None, Some(office)).unwrap();
    assert_eq!(
        hub.connect(&user("ann"), None, Some(office)).err(),
        Some(Close::TooManyForUser)
    );
    let _b1 = hub.connect(&user("bob"), None, Some(home)).unwrap();
    let _c1 = hub.connect(&user("cat"), None, Some(home)).unwrap();
    assert_eq!(
        hub.connect(&user("dan"), None, Some(home)).err(),
        Some(Close::TooManyForAddress)
    );
    // Closing one frees its place for both counts.
    hub.disconnect(a1.id);
    assert!(hub.connect(&user("ann"), None, Some(home)).is_ok());
    assert_eq!(hub.connections(), 5 - 1);
}

#[test]
fn presence_in_more_rooms_than_a_socket_queues_waits_for_the_next_flush() {
    // Someone in five rooms, with room for two frames: connecting makes all five rooms'
    // presence change at once.
    let hub = LiveHub::new(2, SocketCaps::NONE);
    let mut ann = hub.connect(&user("ann"), None, None).unwrap();
    let rooms: Vec<RoomId> = (0..5).map(|i| RoomId::from(format!("r{i}"))).collect();
    let seen = hub.membership_version(ann.id);
    assert!(hub.subscribe_if_unchanged(ann.id, &rooms, seen));
    let mut got = HashSet::new();
    for _ in 0..3 {
        hub.flush_presence();
        while let Ok(f) = ann.frames.try_recv() {
            let v: serde_json::Value = serde_json::from_str(&f.to_string()).unwrap();
            assert_eq!(v["type"], "presence");
            got.insert(v["room_id"].as_str().unwrap().to_owned());
        }
    }
    assert!(
        !ann.cancel.is_cancelled(),
        "a full queue of presence dropped the socket"
    );
    assert_eq!(got.len(), 5, "every room's presence arrived: {got:?}");
}

#[test]
fn a_renewed_session_takes_its_sockets_along() {
    let hub = LiveHub::new(16, SocketCaps::NONE);
    let laptop = hub.connect(&user("bob"), Some("s1".into()), None).unwrap();
    let phone = hub.connect(&user("bob"), Some("s2".into()), None).unwrap();
    hub.publish(Published::SessionRenewed {
        user_id: "bob".into(),
        from: "s1".into(),
        to: "s3".into(),
    });
    assert_eq!(hub.session_of(laptop.id).as_deref(), Some("s3"));
    assert_eq!(hub.session_of(phone.id).as_deref(), Some("s2"));
    // The old id ends nothing any more; the new one ends the laptop's socket.
    let ended = |id: &str| Published::SessionsEnded {
        user_id: "bob".into(),
        which: EndedSessions::One(id.into()),
    };
    hub.publish(ended("s1"));
    assert!(!laptop.signed_out.is_cancelled());
    hub.publish(ended("s3"));
    assert!(laptop.signed_out.is_cancelled());
    assert!(!phone.signed_out.is_cancelled());
}

#[test]
fn a_socket_subscribes_to_what_it_read_only_if_no_membership_change_came_meanwhile() {
    let hub = LiveHub::new(16, SocketCaps::NONE);
    let bob = hub.connect(&user("bob"), None, None).unwrap();
    let rooms = vec![RoomId::from("r1")];

    // Nothing happened between the read and the subscription: it takes.
    let seen = hub.membership_version(bob.id);
    assert!(hub.subscribe_if_unchanged(bob.id, &rooms, seen));
    assert!(hub.is_subscribed(bob.id, &"r1".into()));

    // Bob is kicked from r2 after a second socket read its rooms (r2 among them).
    let tab = hub.connect(&user("bob"), None, None).unwrap();
    let seen = hub.membership_version(tab.id);
    hub.publish(room_event("r2", kicked("bob")));
    let stale = vec![RoomId::from("r1"), RoomId::from("r2")];
    assert!(!hub.subscribe_if_unchanged(tab.id, &stale, seen));
    assert!(
        !hub.is_subscribed(tab.id, &"r2".into()),
        "the stale read is refused"
    );

    // A join delivered meanwhile also makes the read stale (the socket got it anyway).
    let seen = hub.membership_version(tab.id);
    hub.publish(room_event(
        "r3",
        Event::Joined {
            user: "bob".into(),
            role: Role::Member,
            via: JoinedVia::Open,
        },
    ));
    assert!(hub.is_subscribed(tab.id, &"r3".into()));
    assert!(!hub.subscribe_if_unchanged(tab.id, &rooms, seen));

    // Someone else's change does not, nor does a room ending elsewhere...
    let seen = hub.membership_version(tab.id);
    hub.publish(room_event("r1", kicked("cat")));
    assert!(hub.subscribe_if_unchanged(tab.id, &rooms, seen));
    let seen = hub.membership_version(tab.id);
    hub.publish(room_event("r9", Event::Terminated));
    assert!(hub.subscribe_if_unchanged(tab.id, &rooms, seen));
    // ...but the end of one of bob's rooms does: its events depart him.
    let seen = hub.membership_version(tab.id);
    hub.publish(room_event("r3", kicked("bob")));
    hub.publish(room_event("r3", Event::Terminated));
    assert!(!hub.subscribe_if_unchanged(tab.id, &rooms, seen));
}

/// A message in `room`; sent `from` a socket of a user (client id `body`), or by nobody.
fn posted(room: &str, body: &str, from: Option<&str>) -> Posted {
    Posted {
        message: domain::message::MessageView {
            id: domain::MessageId::new(1),
            room_id: room.into(),
            author: from.map(user),
            kind: domain::vocab::MessageKind::Text,
            body: Some(body.to_owned()),
            color: None,
            sticker: None,
            file: None,
            created_at: String::new(),
            edited_at: None,
            deleted: None,
            seq: domain::MessageId::new(1),
            reply_to: None,
            reactions: Vec::new(),
            formatted: None,
            mentions: Vec::new(),
            mentions_room: false,
        },
        client_id: from.map(|_| ClientId::parse(body).unwrap()),
    }
}

fn bodies(conn: &mut SocketHandle) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(f) = conn.frames.try_recv() {
        let v: serde_json::Value = serde_json::from_str(&f.to_string()).unwrap();
        out.push(v["message"]["body"].as_str().unwrap().to_owned());
    }
    out
}

#[test]
fn a_commits_messages_reach_each_socket_in_order_but_never_their_sender() {
    let hub = LiveHub::new(3, SocketCaps::NONE);
    let mut ann = hub.connect(&user("ann"), None, None).unwrap();
    let mut bob = hub.connect(&user("bob"), None, None).unwrap();
    let mut cat = hub.connect(&user("cat"), None, None).unwrap();
    let both = [RoomId::from("r1"), RoomId::from("r2")];
    for (c, rooms) in [(&ann, &both[..]), (&bob, &both[..1]), (&cat, &both[..])] {
        assert!(hub.subscribe_if_unchanged(c.id, rooms, hub.membership_version(c.id)));
    }
    // Each sender's socket waits for its own sends' acks.
    for (who, conn, sent) in [
        ("ann", &ann, &["a1", "a2"][..]),
        ("bob", &bob, &["b1"][..]),
        ("cat", &cat, &["c1"][..]),
    ] {
        for id in sent {
            hub.await_ack(&user(who).id, &ClientId::parse(id).unwrap(), conn.id);
        }
    }
    hub.publish(Published::Messages {
        messages: vec![
            posted("r1", "a1", Some("ann")),
            posted("r2", "b1", Some("bob")),
            posted("r1", "a2", Some("ann")),
            posted("r1", "c1", Some("cat")),
        ],
    });
    assert_eq!(bodies(&mut ann), ["c1", "b1"]);
    assert_eq!(bodies(&mut bob), ["a1", "a2", "c1"]);
    // Cat's queue holds 3 frames and was handed 3: full, not fallen behind.
    assert_eq!(bodies(&mut cat), ["a1", "a2", "b1"]);
    assert!(!cat.cancel.is_cancelled());
    // One frame more than a queue holds drops the socket.
    hub.publish(Published::Messages {
        messages: (0..4)
            .map(|i| posted("r1", &format!("x{i}"), None))
            .collect(),
    });
    assert!(
        ann.cancel.is_cancelled(),
        "a queue past full means falling behind"
    );
    assert!(!hub.is_subscribed(ann.id, &"r1".into()));
}

#[test]
fn a_sender_gets_the_messages_of_its_other_sends_once_they_are_acked() {
    let hub = LiveHub::new(16, SocketCaps::NONE);
    let mut ann = hub.connect(&user("ann"), None, None).unwrap();
    let mut tab = hub.connect(&user("ann"), None, None).unwrap();
    for c in [&ann, &tab] {
        assert!(hub.subscribe_if_unchanged(c.id, &["r1".into()], hub.membership_version(c.id)));
    }
    let id = ClientId::parse("a1").unwrap();
    hub.await_ack(&user("ann").id, &id, ann.id);
    hub.publish(Published::Messages {
        messages: vec![posted("r1", "a1", Some("ann"))],
    });
    // Her other tab sees it; the sending one waits for the ack.
    assert_eq!(bodies(&mut tab), ["a1"]);
    assert!(bodies(&mut ann).is_empty());
    // Answered, the same client id no longer holds anything back, nor does a socket gone.
    hub.acked(&user("ann").id, &id);
    hub.publish(Published::Messages {
        messages: vec![posted("r1", "a1", Some("ann"))],
    });
    assert_eq!(bodies(&mut ann), ["a1"]);
    hub.await_ack(&user("ann").id, &id, tab.id);
    hub.disconnect(tab.id);
    hub.publish(Published::Messages {
        messages: vec![posted("r1", "a1", Some("ann"))],
    });
    assert_eq!(bodies(&mut ann), ["a1"]);
}

/// A hub that relays, with one socket of `name` carrying `r1`.
fn relaying(name: &str) -> (LiveHub, mpsc::Receiver<Relayed>, SocketHandle) {
    let hub = LiveHub::new(16, SocketCaps::NONE);
    let (relay, relayed) = mpsc::channel(16);
    hub.relay_to(relay);
    let tab = hub.connect(&user(name), None, None).unwrap();
    let seen = hub.membership_version(tab.id);
    assert!(hub.subscribe_if_unchanged(tab.id, &["r1".into()], seen));
    (hub, relayed, tab)
}

#[test]
fn what_is_published_here_is_relayed_and_what_comes_from_elsewhere_is_not() {
    let (hub, mut relayed, mut bob) = relaying("bob");
    hub.publish(Published::Messages {
        messages: vec![posted("r1", "from here", None)],
    });
    assert!(matches!(
        relayed.try_recv(),
        Ok(Relayed::Published {
            item: Published::Messages { .. }
        })
    ));
    assert_eq!(bodies(&mut bob), ["from here"]);
    // Bob's message sent from another instance reaches his socket here: it is not the
    // one waiting for its ack.
    hub.receive(
        "other",
        Relayed::Published {
            item: Published::Messages {
                messages: vec![posted("r1", "from there", Some("bob"))],
            },
        },
    );
    assert_eq!(bodies(&mut bob), ["from there"]);
    assert!(relayed.try_recv().is_err(), "relayed back to the others");
}

#[test]
fn presence_counts_other_instances_until_they_fall_silent() {
    let (hub, mut relayed, mut bob) = relaying("bob");
    let online = |conn: &mut SocketHandle| -> Vec<String> {
        let mut last = Vec::new();
        while let Ok(f) = conn.frames.try_recv() {
            let v: serde_json::Value = serde_json::from_str(&f.to_string()).unwrap();
            if v["type"] == "presence" {
                assert_eq!(v["online_count"], v["online"].as_array().unwrap().len());
                last = v["online"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|u| u["username"].as_str().unwrap().to_owned())
                    .collect();
            }
        }
        last
    };
    hub.receive(
        "other",
        Relayed::Presence {
            room_id: "r1".into(),
            online: vec![user("ann"), user("bob")],
        },
    );
    hub.flush_presence();
    // Bob is online on both: counted once.
    assert_eq!(online(&mut bob), ["ann", "bob"]);
    // What changed here went to the others; what came from them did not go back.
    let mut sent = Vec::new();
    while let Ok(item) = relayed.try_recv() {
        sent.push(item);
    }
    assert!(
        matches!(&sent[..], [Relayed::Presence { room_id, online }]
            if room_id.as_str() == "r1" && online == &[user("bob")]),
        "{sent:?}"
    );
    // Silent past `SILENT_FOR`, the other instance is gone, and so is ann.
    if let Some(other) = lock(&hub.presence.elsewhere).get_mut("other") {
        other.heard = Instant::now()
            .checked_sub(SILENT_FOR * 2)
            .unwrap_or_else(Instant::now);
    }
    hub.flush_presence();
    assert_eq!(online(&mut bob), ["bob"]);
}

#[test]
fn relayed_items_read_back_as_they_were_sent() {
    let items = vec![
        Relayed::Published {
            item: room_event("r1", kicked("bob")),
        },
        Relayed::Published {
            item: Published::SessionsEnded {
                user_id: "bob".into(),
                which: EndedSessions::AllBut("s1".into()),
            },
        },
        Relayed::Typing {
            room_id: "r1".into(),
            user: user("ann"),
        },
        Relayed::Hello,
    ];
    let json = serde_json::to_string(&items).unwrap();
    let back: Vec<Relayed> = serde_json::from_str(&json).unwrap();
    assert_eq!(format!("{back:?}"), format!("{items:?}"));
}
