//! The reducer, fed by frames, server-function results and the person's own actions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::{
    effects::{MemberEvent, NotificationKind},
    message::{ClientId, Content, MessageBody, MessageKind, MessageView, Outgoing},
    room::{JoinPolicy, Role, RoomStatus},
    views::{MemberView, MyRoom, NotificationView, PreviousRoom, RoomView},
    vocab::LeaveReason,
    wire::{ClientFrame, ServerFrame},
    ErrorCode, MessageId, NotificationId, RoomId, User, UserId,
};

use super::{
    clock::{self, Millis},
    state::*,
    text,
};
use crate::api::overview::Overview;
use domain::views::RoomPage as RoomOpen;

const NOW: Millis = 1_700_000_000_000;

fn user(name: &str) -> User {
    User {
        id: UserId::from(format!("id-{name}")),
        username: name.to_owned(),
    }
}

fn room(id: &str, name: &str) -> RoomView {
    RoomView {
        id: id.into(),
        name: name.to_owned(),
        topic: None,
        join_policy: JoinPolicy::Request,
        max_members: None,
        member_count: 2,
        status: RoomStatus::Active,
        slow_mode_seconds: 0,
        announcement: false,
        request_cooldown_seconds: 86_400,
    }
}

fn msg(id: i64, room: &str, author: Option<&str>, body: &str) -> MessageView {
    MessageView {
        id: MessageId::new(id),
        room_id: room.into(),
        author: author.map(user),
        kind: if author.is_some() {
            MessageKind::Text
        } else {
            MessageKind::System
        },
        body: Some(body.to_owned()),
        color: None,
        sticker: None,
        file: None,
        created_at: clock::iso_from_millis(NOW),
        edited_at: None,
        deleted: None,
        seq: MessageId::new(id),
        reply_to: None,
        reactions: Vec::new(),
        formatted: None,
        mentions: Vec::new(),
        mentions_room: false,
    }
}

fn my_room(room: RoomView, my_role: Role, unread: u64, mentions: u64) -> MyRoom {
    MyRoom {
        room,
        my_role,
        unread,
        mentions,
        read_to: None,
        open_reports: 0,
    }
}

fn member(name: &str, role: Role) -> MemberView {
    MemberView {
        user: user(name),
        role,
        joined_at: clock::iso_from_millis(NOW),
        muted_until: None,
    }
}

fn notification(id: &str, kind: NotificationKind, room: &str) -> NotificationView {
    NotificationView {
        id: NotificationId::from(id),
        kind,
        room_id: Some(room.into()),
        room_name: Some("games".into()),
        actor: Some(user("ana")),
        reason: Some("spamming".into()),
        created_at: clock::iso_from_millis(NOW),
        read: false,
        message_id: None,
    }
}

/// "me" is a member of r1 (#games, with ana the owner) and r2 (#lounge), with r1 open.
fn signed_in() -> ChatState {
    let mut s = ChatState::default();
    s.apply(
        Loaded::Overview(Overview {
            user: user("me"),
            rooms: vec![
                my_room(room("r2", "lounge"), Role::Member, 0, 0),
                my_room(room("r1", "Games"), Role::Member, 0, 0),
            ],
            previous: vec![],
            notifications: vec![],
            unread: 0,
        })
        .into(),
        NOW,
    );
    s.apply(
        Loaded::Room(RoomOpen {
            room: room("r1", "Games"),
            my_role: Some(Role::Member),
            members: vec![member("ana", Role::Owner), member("me", Role::Member)],
            messages: vec![
                msg(12, "r1", Some("ana"), "b"),
                msg(10, "r1", Some("ana"), "a"),
            ],
            has_older: true,
            requested: false,
            invited: false,
            pending_requests: 0,
            read_to: None,
            muted_until: None,
            next_post_at: None,
        })
        .into(),
        NOW,
    );
    s.apply(Local::Show("r1".into()).into(), NOW);
    s
}

fn r1() -> RoomId {
    "r1".into()
}

fn bodies(s: &ChatState, room: &str) -> Vec<String> {
    s.conversation(&room.into())
        .unwrap()
        .messages
        .values()
        .map(|m| m.text().to_owned())
        .collect()
}

fn cid(id: &str) -> ClientId {
    ClientId::parse(id).unwrap()
}

/// A text send to r1, as the composer makes it.
fn outgoing(client_id: &str, body: &str) -> Outgoing {
    Outgoing {
        room_id: r1(),
        client_id: cid(client_id),
        content: Content::Text(MessageBody::parse(body).unwrap()),
        color: None,
        reply_to: None,
    }
}

/// What the composer does with a text: a blank one is not sent at all.
fn send(s: &mut ChatState, client_id: &str, body: &str, now: Millis) -> Vec<Followup> {
    if MessageBody::parse(body).is_err() {
        return Vec::new();
    }
    s.apply(Local::Send(outgoing(client_id, body)).into(), now)
}

#[test]
fn unread_and_mention_counts_come_from_the_server_and_move_live() {
    let mut s = signed_in();
    let names: Vec<_> = s.rooms.iter().map(|r| r.room.name.as_str()).collect();
    assert_eq!(names, ["Games", "lounge"], "by name, ignoring case");
    let entry = |s: &ChatState| {
        let e = s.room_entry(&"r2".into()).unwrap();
        (e.unread, e.mentions)
    };
    // The overview brings the server's counts.
    s.apply(
        Loaded::Overview(Overview {
            user: user("me"),
            rooms: vec![
                my_room(room("r2", "lounge"), Role::Member, 3, 1),
                my_room(room("r1", "Games"), Role::Member, 0, 0),
            ],
            previous: vec![],
            notifications: vec![],
            unread: 0,
        })
        .into(),
        NOW,
    );
    assert_eq!(entry(&s), (3, 1));
    // A message from someone else counts; one that names me counts as a mention too.
    s.apply(
        ServerFrame::Message {
            message: msg(20, "r2", Some("ana"), "hi"),
        }
        .into(),
        NOW,
    );
    let mut naming = msg(21, "r2", Some("ana"), "@me look");
    naming.mentions = vec![UserId::from("id-me")];
    s.apply(ServerFrame::Message { message: naming }.into(), NOW);
    let mut everyone = msg(22, "r2", Some("ana"), "@room look");
    everyone.mentions_room = true;
    s.apply(
        ServerFrame::Message {
            message: everyone.clone(),
        }
        .into(),
        NOW,
    );
    assert_eq!(entry(&s), (6, 3));
    // My own never do.
    s.apply(
        ServerFrame::Message {
            message: msg(23, "r2", Some("me"), "@room mine"),
        }
        .into(),
        NOW,
    );
    assert_eq!(entry(&s), (6, 3));
    // Showing the room does not read it by itself: reading it to the bottom does, and
    // tells the server.
    s.apply(Local::Show("r2".into()).into(), NOW);
    assert_eq!(entry(&s), (6, 3));
    s.apply(
        Loaded::Room(RoomOpen {
            room: room("r2", "lounge"),
            my_role: Some(Role::Member),
            members: vec![member("ana", Role::Owner), member("me", Role::Member)],
            messages: vec![msg(23, "r2", Some("me"), "@room mine"), everyone],
            has_older: false,
            requested: false,
            invited: false,
            pending_requests: 0,
            read_to: Some(MessageId::new(19)),
            muted_until: None,
            next_post_at: None,
        })
        .into(),
        NOW,
    );
    let c = s.conversation(&"r2".into()).unwrap();
    assert_eq!(
        c.first_unread(Some(&UserId::from("id-me"))),
        Some(MessageId::new(22))
    );
    let out = s.apply(Local::Seen("r2".into()).into(), NOW);
    assert_eq!(
        out,
        vec![Followup::Transmit(ClientFrame::Read {
            room_id: "r2".into(),
            message_id: MessageId::new(23),
        })]
    );
    assert_eq!(entry(&s), (0, 0));
    // Seen again with nothing new: nothing to tell.
    assert!(s.apply(Local::Seen("r2".into()).into(), NOW).is_empty());
}

#[test]
fn a_read_elsewhere_clears_the_badge_or_asks_the_server_for_what_is_left() {
    let mut s = signed_in();
    for id in [30, 31] {
        s.apply(
            ServerFrame::Message {
                message: msg(id, "r1", Some("ana"), "x"),
            }
            .into(),
            NOW,
        );
    }
    s.apply(
        ServerFrame::Message {
            message: msg(40, "r2", Some("ana"), "y"),
        }
        .into(),
        NOW,
    );
    // r1 is loaded: read to its newest message in another tab, it is read here too.
    let out = s.apply(
        ServerFrame::Read {
            room_id: "r1".into(),
            message_id: MessageId::new(31),
        }
        .into(),
        NOW,
    );
    assert!(out.is_empty());
    assert_eq!(s.room_entry(&"r1".into()).unwrap().unread, 0);
    // r2 is not loaded here: the server's count says what is left.
    let out = s.apply(
        ServerFrame::Read {
            room_id: "r2".into(),
            message_id: MessageId::new(35),
        }
        .into(),
        NOW,
    );
    assert_eq!(out, vec![Followup::Refresh]);
    assert_eq!(
        s.room_entry(&"r2".into()).unwrap().read_to,
        Some(MessageId::new(35))
    );
}

#[test]
fn a_deleted_unread_message_leaves_the_counts() {
    let mut s = signed_in();
    // Loaded, not shown: what comes in counts, and what it was is known here.
    s.apply(Local::Hide("r1".into()).into(), NOW);
    let mut naming = msg(30, "r1", Some("ana"), "@me hey");
    naming.mentions = vec![UserId::from("id-me")];
    s.apply(
        ServerFrame::Message {
            message: naming.clone(),
        }
        .into(),
        NOW,
    );
    let r1 = |s: &ChatState| {
        let e = s.room_entry(&"r1".into()).unwrap();
        (e.unread, e.mentions)
    };
    assert_eq!(r1(&s), (1, 1));
    let mut gone = naming;
    gone.body = None;
    gone.mentions = Vec::new();
    gone.seq = MessageId::new(31);
    gone.deleted = Some(domain::message::Deletion {
        by: Some(user("ana")),
        at: clock::iso_from_millis(NOW),
        reason: None,
    });
    s.apply(ServerFrame::MessageUpdated { message: gone }.into(), NOW);
    assert_eq!(r1(&s), (0, 0));
}

#[test]
fn messages_are_ordered_by_id_whatever_order_they_arrive_in_and_never_doubled() {
    let mut s = signed_in();
    s.apply(
        ServerFrame::Message {
            message: msg(15, "r1", Some("ana"), "d"),
        }
        .into(),
        NOW,
    );
    s.apply(
        ServerFrame::Message {
            message: msg(13, "r1", Some("ana"), "c"),
        }
        .into(),
        NOW,
    );
    // The same message again, by catch-up and by the socket.
    s.apply(
        Loaded::Since {
            room: r1(),
            messages: vec![
                msg(13, "r1", Some("ana"), "c"),
                msg(15, "r1", Some("ana"), "d"),
            ],
        }
        .into(),
        NOW,
    );
    s.apply(
        ServerFrame::Message {
            message: msg(15, "r1", Some("ana"), "d"),
        }
        .into(),
        NOW,
    );
    // An older page lands before everything.
    s.apply(
        Loaded::Older {
            room: r1(),
            messages: vec![msg(9, "r1", Some("ana"), "z"), msg(3, "r1", None, "y")],
            limit: 50,
        }
        .into(),
        NOW,
    );
    assert_eq!(bodies(&s, "r1"), ["y", "z", "a", "b", "c", "d"]);
    let c = s.conversation(&r1()).unwrap();
    assert!(!c.has_older, "a short page is the last one");
    assert_eq!(c.oldest(), Some(MessageId::new(3)));
    assert_eq!(c.newest(), Some(MessageId::new(15)));
    // Ids order as numbers, not as strings.
    s.apply(
        ServerFrame::Message {
            message: msg(100, "r1", Some("ana"), "e"),
        }
        .into(),
        NOW,
    );
    assert_eq!(bodies(&s, "r1").last().unwrap(), "e");
}

#[test]
fn unread_counts_only_others_messages_in_rooms_not_shown() {
    let mut s = signed_in();
    s.apply(
        ServerFrame::Message {
            message: msg(20, "r1", Some("ana"), "shown"),
        }
        .into(),
        NOW,
    );
    s.apply(
        ServerFrame::Message {
            message: msg(21, "r2", Some("me"), "mine"),
        }
        .into(),
        NOW,
    );
    s.apply(
        ServerFrame::Message {
            message: msg(22, "r2", None, "ana joined"),
        }
        .into(),
        NOW,
    );
    assert_eq!(s.room_entry(&r1()).unwrap().unread, 0);
    assert_eq!(s.room_entry(&"r2".into()).unwrap().unread, 0);
    s.apply(
        ServerFrame::Message {
            message: msg(23, "r2", Some("ana"), "x"),
        }
        .into(),
        NOW,
    );
    assert_eq!(s.room_entry(&"r2".into()).unwrap().unread, 1);
}

#[test]
fn a_send_is_pending_until_its_ack_and_the_ack_replaces_it_once() {
    let mut s = signed_in();
    s.apply(
        Local::Draft {
            room: r1(),
            text: "hello".into(),
        }
        .into(),
        NOW,
    );
    let out = send(&mut s, "c1", "  hello  ", NOW);
    assert_eq!(
        out,
        vec![Followup::Transmit(ClientFrame::Send(outgoing(
            "c1", "hello"
        )))]
    );
    let c = s.conversation(&r1()).unwrap();
    assert_eq!(c.pending.len(), 1);
    assert_eq!(c.draft, "", "the composer empties");
    // The same client id twice is one send.
    assert!(send(&mut s, "c1", "hello", NOW).is_empty());
    // Blank sends do nothing.
    assert!(send(&mut s, "c2", "   ", NOW).is_empty());
    s.apply(
        ServerFrame::Ack {
            client_id: cid("c1"),
            message: msg(13, "r1", Some("me"), "hello"),
        }
        .into(),
        NOW,
    );
    let c = s.conversation(&r1()).unwrap();
    assert!(c.pending.is_empty());
    assert_eq!(bodies(&s, "r1"), ["a", "b", "hello"]);
    // A repeated ack (a retried send) changes nothing.
    s.apply(
        ServerFrame::Ack {
            client_id: cid("c1"),
            message: msg(13, "r1", Some("me"), "hello"),
        }
        .into(),
        NOW,
    );
    assert_eq!(bodies(&s, "r1"), ["a", "b", "hello"]);
}

#[test]
fn a_timeout_of_mine_holds_the_composer_until_it_ends_and_keeps_refused_text() {
    let mut s = signed_in();
    send(&mut s, "c1", "first", NOW);
    s.apply(
        ServerFrame::Error {
            code: ErrorCode::Muted,
            message: "You are timed out".into(),
            client_id: Some(cid("c1")),
            retry_after_ms: Some(60_000),
        }
        .into(),
        NOW,
    );
    let c = s.conversation(&r1()).unwrap();
    assert_eq!(c.draft, "first", "the refused text goes back");
    assert_eq!(c.hold(NOW + 1_000), Some(Hold::Muted(59_000)));
    assert!(send(&mut s, "c2", "again", NOW + 1_000).is_empty());
    assert_eq!(s.conversation(&r1()).unwrap().hold(NOW + 60_000), None);
    // Lifted early: the member frame about me ends the hold at once.
    s.apply(
        ServerFrame::Member {
            room_id: r1(),
            event: MemberEvent::Muted,
            user: user("me"),
            role: None,
            until: Some(clock::iso_from_millis(NOW + 300_000)),
        }
        .into(),
        NOW,
    );
    assert_eq!(
        s.conversation(&r1()).unwrap().hold(NOW),
        Some(Hold::Muted(300_000))
    );
    s.apply(
        ServerFrame::Member {
            room_id: r1(),
            event: MemberEvent::Unmuted,
            user: user("me"),
            role: None,
            until: None,
        }
        .into(),
        NOW,
    );
    assert_eq!(s.conversation(&r1()).unwrap().hold(NOW), None);
    assert!(!send(&mut s, "c3", "free", NOW).is_empty());
}

#[test]
fn slow_mode_counts_from_my_last_ack_and_spares_admins() {
    let mut s = signed_in();
    let mut slow = room("r1", "Games");
    slow.slow_mode_seconds = 30;
    s.apply(ServerFrame::RoomUpdated { room: slow.clone() }.into(), NOW);
    send(&mut s, "c1", "hello", NOW);
    s.apply(
        ServerFrame::Ack {
            client_id: cid("c1"),
            message: msg(13, "r1", Some("me"), "hello"),
        }
        .into(),
        NOW,
    );
    let c = s.conversation(&r1()).unwrap();
    assert_eq!(c.hold(NOW + 10_000), Some(Hold::SlowMode(20_000)));
    assert_eq!(c.hold(NOW + 30_000), None);
    // An announcement room holds members, not admins.
    slow.announcement = true;
    s.apply(ServerFrame::RoomUpdated { room: slow }.into(), NOW);
    assert_eq!(
        s.conversation(&r1()).unwrap().hold(NOW + 60_000),
        Some(Hold::Announcement)
    );
    s.apply(
        ServerFrame::Member {
            room_id: r1(),
            event: MemberEvent::Promoted,
            user: user("me"),
            role: Some(Role::Admin),
            until: None,
        }
        .into(),
        NOW,
    );
    assert_eq!(s.conversation(&r1()).unwrap().hold(NOW), None);
}

#[test]
fn rate_limited_puts_the_text_back_and_holds_the_composer_for_the_wait() {
    let mut s = signed_in();
    send(&mut s, "c1", "first", NOW);
    send(&mut s, "c2", "second", NOW);
    s.apply(
        Local::Draft {
            room: r1(),
            text: "typing more".into(),
        }
        .into(),
        NOW,
    );
    let limited = |id: &str| ServerFrame::Error {
        code: ErrorCode::RateLimited,
        message: "Too many".into(),
        client_id: Some(cid(id)),
        retry_after_ms: Some(2_500),
    };
    s.apply(limited("c1").into(), NOW);
    s.apply(limited("c2").into(), NOW);
    let c = s.conversation(&r1()).unwrap();
    assert!(c.pending.is_empty());
    assert_eq!(
        c.draft, "first\nsecond\ntyping more",
        "nothing is lost, and the refused texts keep the order they were sent in"
    );
    assert_eq!(s.send_wait_until, NOW + 2_500);
    // While waiting, sends are held back and the draft stays.
    assert!(send(&mut s, "c3", "again", NOW + 1_000).is_empty());
    assert_eq!(
        s.conversation(&r1()).unwrap().draft,
        "first\nsecond\ntyping more"
    );
    assert_eq!(send(&mut s, "c4", "again", NOW + 2_500).len(), 1);
}

#[test]
fn other_refusals_mark_the_send_failed_and_retry_uses_the_same_client_id() {
    let mut s = signed_in();
    send(&mut s, "c1", "x".repeat(10).as_str(), NOW);
    s.apply(
        ServerFrame::Error {
            code: ErrorCode::InvalidInput,
            message: "Too long".into(),
            client_id: Some(cid("c1")),
            retry_after_ms: None,
        }
        .into(),
        NOW,
    );
    let p = &s.conversation(&r1()).unwrap().pending[0];
    assert_eq!(p.failed.as_deref(), Some("Too long"));
    let out = s.apply(
        Local::Retry {
            room: r1(),
            client_id: cid("c1"),
        }
        .into(),
        NOW,
    );
    assert!(
        matches!(&out[..], [Followup::Transmit(ClientFrame::Send(o))] if o.client_id.as_str() == "c1")
    );
    assert!(s.conversation(&r1()).unwrap().pending[0].failed.is_none());
    s.apply(
        Local::Discard {
            room: r1(),
            client_id: cid("c1"),
        }
        .into(),
        NOW,
    );
    assert!(s.conversation(&r1()).unwrap().pending.is_empty());
    // An error with no client id becomes a notice.
    s.apply(
        ServerFrame::Error {
            code: ErrorCode::InvalidInput,
            message: "That frame is not valid.".into(),
            client_id: None,
            retry_after_ms: None,
        }
        .into(),
        NOW,
    );
    assert_eq!(s.notices.last().unwrap().text, "That frame is not valid.");
}

#[test]
fn ready_catches_up_every_loaded_room_resends_what_was_not_acked_and_refreshes() {
    let mut s = signed_in();
    s.apply(
        Local::Connection(Connection::Offline {
            retry_at: NOW,
            attempt: 1,
            refused: None,
        })
        .into(),
        NOW,
    );
    send(&mut s, "c1", "while offline", NOW);
    send(&mut s, "c2", "refused", NOW);
    s.apply(
        ServerFrame::Error {
            code: ErrorCode::InvalidInput,
            message: "no".into(),
            client_id: Some(cid("c2")),
            retry_after_ms: None,
        }
        .into(),
        NOW,
    );
    let out = s.apply(
        ServerFrame::Ready {
            rooms: vec![r1(), "r2".into()],
        }
        .into(),
        NOW,
    );
    assert_eq!(s.connection, Connection::Online);
    assert_eq!(
        out,
        vec![
            Followup::Refresh,
            Followup::CatchUp {
                room: r1(),
                after: MessageId::new(12)
            },
            Followup::Transmit(ClientFrame::Send(outgoing("c1", "while offline"))),
        ],
        "r2 was never opened, and a failed send waits for the person"
    );
    // A full page of catch-up asks for the rest.
    let page: Vec<_> = (13..13 + SINCE_PAGE as i64)
        .map(|i| msg(i, "r1", Some("ana"), "m"))
        .collect();
    let out = s.apply(
        Loaded::Since {
            room: r1(),
            messages: page,
        }
        .into(),
        NOW,
    );
    assert_eq!(
        out,
        vec![Followup::CatchUp {
            room: r1(),
            after: MessageId::new(12 + SINCE_PAGE as i64)
        }]
    );
}

#[test]
fn member_frames_keep_the_member_list_count_and_my_role() {
    let mut s = signed_in();
    s.apply(
        ServerFrame::Member {
            room_id: r1(),
            event: MemberEvent::Joined,
            user: user("bob"),
            role: Some(Role::Member),
            until: None,
        }
        .into(),
        NOW,
    );
    let c = s.conversation(&r1()).unwrap();
    assert_eq!(c.members.len(), 3);
    assert_eq!(c.room.as_ref().unwrap().member_count, 3);
    assert_eq!(s.room_entry(&r1()).unwrap().room.member_count, 3);
    // Twice is once.
    s.apply(
        ServerFrame::Member {
            room_id: r1(),
            event: MemberEvent::Joined,
            user: user("bob"),
            role: Some(Role::Member),
            until: None,
        }
        .into(),
        NOW,
    );
    assert_eq!(s.conversation(&r1()).unwrap().members.len(), 3);
    // Promoted: the admin entry points follow my role, without a reload.
    s.apply(
        ServerFrame::Member {
            room_id: r1(),
            event: MemberEvent::Promoted,
            user: user("me"),
            role: Some(Role::Admin),
            until: None,
        }
        .into(),
        NOW,
    );
    assert_eq!(s.room_entry(&r1()).unwrap().role, Role::Admin);
    assert_eq!(s.conversation(&r1()).unwrap().my_role, Some(Role::Admin));
    s.apply(
        ServerFrame::Member {
            room_id: r1(),
            event: MemberEvent::Left,
            user: user("bob"),
            role: None,
            until: None,
        }
        .into(),
        NOW,
    );
    let c = s.conversation(&r1()).unwrap();
    assert_eq!(
        c.members
            .iter()
            .map(|m| m.user.username.as_str())
            .collect::<Vec<_>>(),
        ["ana", "me"]
    );
    assert_eq!(c.room.as_ref().unwrap().member_count, 2);
}

#[test]
fn admins_count_requests_live_and_recount_when_someone_is_let_in() {
    let mut s = signed_in();
    s.apply(
        ServerFrame::Member {
            room_id: r1(),
            event: MemberEvent::Promoted,
            user: user("me"),
            role: Some(Role::Admin),
            until: None,
        }
        .into(),
        NOW,
    );
    s.apply(
        ServerFrame::Notification {
            notification: notification("n9", NotificationKind::JoinRequest, "r1"),
        }
        .into(),
        NOW,
    );
    assert_eq!(s.conversation(&r1()).unwrap().requests, 1);
    let out = s.apply(
        ServerFrame::Member {
            room_id: r1(),
            event: MemberEvent::Joined,
            user: user("ana2"),
            role: Some(Role::Member),
            until: None,
        }
        .into(),
        NOW,
    );
    assert_eq!(out, vec![Followup::Reload { room: r1() }]);
}

#[test]
fn joining_a_room_i_do_not_know_refreshes_the_overview() {
    let mut s = signed_in();
    let out = s.apply(
        ServerFrame::Member {
            room_id: "r9".into(),
            event: MemberEvent::Joined,
            user: user("me"),
            role: Some(Role::Member),
            until: None,
        }
        .into(),
        NOW,
    );
    assert_eq!(out, vec![Followup::Refresh]);
    let out = s.apply(
        ServerFrame::Member {
            room_id: r1(),
            event: MemberEvent::Joined,
            user: user("me"),
            role: Some(Role::Member),
            until: None,
        }
        .into(),
        NOW,
    );
    assert!(out.is_empty(), "a room I have needs nothing");
}

#[test]
fn a_kick_tells_me_who_and_why_and_the_room_leaves_my_sidebar() {
    let mut s = signed_in();
    send(&mut s, "c1", "unsent", NOW);
    // The member frame comes first, then the notification with who and why.
    let out = s.apply(
        ServerFrame::Member {
            room_id: r1(),
            event: MemberEvent::Kicked,
            user: user("me"),
            role: None,
            until: None,
        }
        .into(),
        NOW,
    );
    assert_eq!(out, vec![Followup::Refresh]);
    assert!(s.room_entry(&r1()).is_none());
    let c = s.conversation(&r1()).unwrap();
    assert!(!c.is_member());
    assert!(c.pending.is_empty());
    s.apply(
        ServerFrame::Notification {
            notification: notification("n1", NotificationKind::Kicked, "r1"),
        }
        .into(),
        NOW,
    );
    let c = s.conversation(&r1()).unwrap();
    assert_eq!(
        c.ended.as_ref().unwrap().sentence(Some("games")),
        "You were removed from #games by ana: spamming"
    );
    let notice = s.notices.last().unwrap();
    assert_eq!(notice.text, "You were removed from #games by ana: spamming");
    assert!(notice.alert);
    assert_eq!(s.unread_notifications, 1);
    // The refreshed overview lists it under previous rooms.
    s.apply(
        Loaded::Overview(Overview {
            user: user("me"),
            rooms: vec![my_room(room("r2", "lounge"), Role::Member, 0, 0)],
            previous: vec![PreviousRoom {
                room: room("r1", "Games"),
                left_at: clock::iso_from_millis(NOW),
                reason: LeaveReason::Kicked,
                can_rejoin: true,
                until: None,
                private: false,
            }],
            notifications: vec![],
            unread: 1,
        })
        .into(),
        NOW,
    );
    assert_eq!(s.previous.len(), 1);
    // Sends to it are not made.
    assert!(send(&mut s, "c2", "still here?", NOW).is_empty());
    // Asking again: the room's page, loaded anew, says where I stand now.
    s.apply(
        Loaded::Room(RoomOpen {
            room: room("r1", "Games"),
            my_role: None,
            members: vec![],
            messages: vec![],
            has_older: false,
            requested: true,
            invited: false,
            pending_requests: 0,
            read_to: None,
            muted_until: None,
            next_post_at: None,
        })
        .into(),
        NOW,
    );
    let c = s.conversation(&r1()).unwrap();
    assert!(c.ended.is_none() && c.requested && !c.is_member());
}

#[test]
fn a_terminated_room_disappears_everywhere_and_says_so() {
    let mut s = signed_in();
    s.previous.push(PreviousRoom {
        room: room("r1", "Games"),
        left_at: clock::iso_from_millis(NOW),
        reason: LeaveReason::Left,
        can_rejoin: true,
        until: None,
        private: false,
    });
    s.apply(ServerFrame::RoomTerminated { room_id: r1() }.into(), NOW);
    assert!(s.room_entry(&r1()).is_none());
    assert!(s.previous.is_empty());
    let c = s.conversation(&r1()).unwrap();
    assert_eq!(c.ended, Some(Ending::Terminated));
    assert_eq!(c.room.as_ref().unwrap().status, RoomStatus::Terminated);
    assert_eq!(
        s.notices.last().unwrap().text,
        "#Games was terminated: nobody is left to talk to."
    );
}

#[test]
fn a_ban_that_ends_or_is_lifted_refreshes_previous_rooms() {
    let mut s = signed_in();
    for (id, kind, refresh) in [
        ("n1", NotificationKind::BanEnded, true),
        ("n2", NotificationKind::Unbanned, true),
        ("n3", NotificationKind::Invited, false),
    ] {
        let out = s.apply(
            ServerFrame::Notification {
                notification: notification(id, kind, "r7"),
            }
            .into(),
            NOW,
        );
        assert_eq!(out.contains(&Followup::Refresh), refresh, "{kind:?}");
    }
}

#[test]
fn notifications_arrive_once_and_are_marked_read_one_or_all() {
    let mut s = signed_in();
    let n1 = notification("n1", NotificationKind::Invited, "r7");
    s.apply(
        ServerFrame::Notification {
            notification: n1.clone(),
        }
        .into(),
        NOW,
    );
    s.apply(ServerFrame::Notification { notification: n1 }.into(), NOW);
    s.apply(
        ServerFrame::Notification {
            notification: notification("n2", NotificationKind::JoinRequest, "r1"),
        }
        .into(),
        NOW,
    );
    assert_eq!(s.notifications.len(), 2);
    assert_eq!(
        s.notifications[0].id,
        NotificationId::from("n2"),
        "newest first"
    );
    assert_eq!(s.unread_notifications, 2);
    let out = s.apply(Local::MarkRead(Some(vec!["n1".into()])).into(), NOW);
    assert_eq!(out, vec![Followup::MarkRead(Some(vec!["n1".into()]))]);
    assert_eq!(s.unread_notifications, 1);
    s.apply(Local::MarkRead(None).into(), NOW);
    assert_eq!(s.unread_notifications, 0);
    assert!(s.notifications.iter().all(|n| n.read));
}

#[test]
fn typing_shows_others_for_five_seconds_and_ends_with_their_message() {
    let mut s = signed_in();
    s.apply(
        ServerFrame::Typing {
            room_id: r1(),
            user: user("ana"),
        }
        .into(),
        NOW,
    );
    s.apply(
        ServerFrame::Typing {
            room_id: r1(),
            user: user("me"),
        }
        .into(),
        NOW,
    );
    let c = s.conversation(&r1()).unwrap();
    assert_eq!(c.typing_now(NOW + 1).len(), 1, "never myself");
    assert!(c.typing_now(NOW + TYPING_SHOWN_MS).is_empty());
    s.apply(
        ServerFrame::Message {
            message: msg(30, "r1", Some("ana"), "done"),
        }
        .into(),
        NOW,
    );
    assert!(s
        .conversation(&r1())
        .unwrap()
        .typing_now(NOW + 1)
        .is_empty());
}

#[test]
fn a_reports_frame_sets_the_rooms_badge() {
    let mut s = signed_in();
    assert_eq!(s.room_entry(&r1()).unwrap().open_reports, 0);
    s.apply(
        ServerFrame::Reports {
            room_id: r1(),
            open: 3,
        }
        .into(),
        NOW,
    );
    assert_eq!(s.room_entry(&r1()).unwrap().open_reports, 3);
    // A room not in the sidebar changes nothing.
    s.apply(
        ServerFrame::Reports {
            room_id: "elsewhere".into(),
            open: 1,
        }
        .into(),
        NOW,
    );
    assert_eq!(s.room_entry(&r1()).unwrap().open_reports, 3);
    let mut note = notification("n1", NotificationKind::Report, "r1");
    note.actor = None;
    note.reason = Some("spam".into());
    assert_eq!(
        text::notification(&note),
        "A message in #games was reported (spam)."
    );
}

#[test]
fn new_settings_reach_the_header_and_the_sidebar() {
    let mut s = signed_in();
    let mut changed = room("r1", "Games");
    changed.topic = Some("Chess on Sundays".into());
    changed.join_policy = JoinPolicy::Open;
    s.apply(ServerFrame::RoomUpdated { room: changed }.into(), NOW);
    let c = s.conversation(&r1()).unwrap();
    assert_eq!(
        c.room.as_ref().unwrap().topic.as_deref(),
        Some("Chess on Sundays")
    );
    assert_eq!(
        s.room_entry(&r1()).unwrap().room.join_policy,
        JoinPolicy::Open
    );
}

#[test]
fn presence_and_pong_frames() {
    let mut s = signed_in();
    s.apply(
        ServerFrame::Presence {
            room_id: r1(),
            online: vec![user("ana")],
            online_count: 1,
        }
        .into(),
        NOW,
    );
    let c = s.conversation(&r1()).unwrap();
    assert_eq!((c.online.len(), c.online_count), (1, 1));
    let before = s.clone();
    s.apply(ServerFrame::Pong.into(), NOW);
    assert_eq!(s, before);
    // While the channel is down, nobody is known to be online.
    s.apply(
        Local::Connection(Connection::Offline {
            retry_at: NOW,
            attempt: 1,
            refused: None,
        })
        .into(),
        NOW,
    );
    assert_eq!(s.conversation(&r1()).unwrap().online_count, 0);
}

#[test]
fn messages_of_rooms_never_opened_only_count() {
    let mut s = signed_in();
    s.apply(
        ServerFrame::Message {
            message: msg(40, "r2", Some("ana"), "x"),
        }
        .into(),
        NOW,
    );
    assert!(s
        .conversation(&"r2".into())
        .is_none_or(|c| c.messages.is_empty()));
    assert_eq!(s.room_entry(&"r2".into()).unwrap().unread, 1);
}

#[test]
fn leaving_asks_the_room_rules_what_will_happen() {
    let me = UserId::from("id-me");
    let said = |members: &[MemberView]| text::leave_consequence(members, &me);
    assert!(said(&[member("me", Role::Owner)]).contains("the room will be terminated"));
    assert!(
        said(&[member("me", Role::Owner), member("bob", Role::Member)])
            .contains("bob is the only other member: the room will be terminated")
    );
    let three = [
        member("me", Role::Owner),
        member("ana", Role::Member),
        member("bob", Role::Member),
    ];
    let s = said(&three);
    assert!(s.contains("ana becomes admin"), "{s}");
    assert!(s.contains("ana becomes the owner"), "{s}");
    let s = said(&[
        member("ana", Role::Owner),
        member("me", Role::Member),
        member("bob", Role::Member),
    ]);
    assert!(s.contains("goes on without you"), "{s}");
}

#[test]
fn times_read_and_write_the_api_format() {
    let t = clock::parse_iso("2026-11-26T13:53:08.123Z").unwrap();
    assert_eq!(clock::iso_from_millis(t), "2026-11-26T13:53:08.123Z");
    assert_eq!(clock::parse_iso("1970-01-01T00:00:01Z"), Some(1000));
    assert_eq!(clock::clock(t, 0), "13:53");
    assert_eq!(clock::clock(t, -60), "14:53", "UTC+1");
    assert_eq!(clock::exact(t, 0), "2026-11-26 13:53:08");
    assert_eq!(clock::relative(t, t + 10_000, 0), "just now");
    assert_eq!(clock::relative(t, t + 5 * 60_000, 0), "5 min ago");
    assert_eq!(clock::relative(t, t + 3 * 3_600_000, 0), "3 h ago");
    assert_eq!(clock::relative(t, t + 30 * 3_600_000, 0), "yesterday");
    assert_eq!(clock::relative(t, t + 30 * 86_400_000, 0), "2026-11-26");
    assert!(clock::parse_iso("garbage").is_none());
    assert_eq!(
        clock::relative(t + 6 * 86_400_000 + 1000, t, 0),
        "in 6 days"
    );
    assert_eq!(clock::relative(t + 3 * 3_600_000 + 1000, t, 0), "in 3 h");
}

#[test]
fn only_http_links_are_made_clickable_and_markup_stays_text() {
    use text::Segment::{Link, Text};
    assert_eq!(
        text::linkify("see https://example.org/a?b=1, then <b>x</b>"),
        vec![
            Text("see ".into()),
            Link("https://example.org/a?b=1".into()),
            Text(", then <b>x</b>".into()),
        ]
    );
    assert_eq!(
        text::linkify("javascript:alert(1)"),
        vec![Text("javascript:alert(1)".into())]
    );
    assert_eq!(
        text::linkify("http:// nothing"),
        vec![Text("http:// nothing".into())]
    );
    assert_eq!(text::linkify(""), vec![]);
    // A right-to-left override cannot hide inside an address.
    assert_eq!(
        text::linkify("https://bank.example/\u{202E}gpj.exe and more"),
        vec![
            Link("https://bank.example/".into()),
            Text("\u{202E}gpj.exe and more".into()),
        ]
    );
}

#[test]
fn moderation_log_entries_read_as_sentences() {
    use domain::{effects::LogKind, views::LogEntryView};
    let entry = |kind, reason: Option<&str>| LogEntryView {
        id: "1".into(),
        kind,
        actor: Some(user("ana")),
        target: Some(user("bob")),
        reason: reason.map(Into::into),
        created_at: clock::iso_from_millis(NOW),
        until: None,
        report_id: None,
    };
    assert_eq!(
        text::log_entry(&entry(LogKind::Banned, Some("spam"))),
        "ana banned bob: spam"
    );
    assert_eq!(
        text::log_entry(&entry(LogKind::ReportDismissed, None)),
        "ana dismissed a report on bob's message."
    );
    assert_eq!(
        text::log_entry(&entry(LogKind::Promoted, None)),
        "ana made bob an admin."
    );
    assert_eq!(
        text::log_entry(&entry(LogKind::Approved, None)),
        "ana approved bob's request."
    );
}

#[test]
fn file_sizes_read_like_a_person_would_say_them() {
    assert_eq!(text::file_size(12), "12 bytes");
    assert_eq!(text::file_size(340 * 1024 + 100), "340 KB");
    assert_eq!(text::file_size(1_258_291), "1.2 MB");
    assert_eq!(text::file_size(10 * 1_048_576), "10.0 MB");
}

#[test]
fn author_colours_are_stable_and_spread() {
    let a = text::author_hue(&"abc".into());
    assert_eq!(a, text::author_hue(&"abc".into()));
    let hues: std::collections::HashSet<_> = (0..50)
        .map(|i| text::author_hue(&format!("user{i}").as_str().into()))
        .collect();
    assert!(hues.len() >= 6, "{hues:?}");
}

#[test]
fn a_changed_message_replaces_its_older_state_and_moves_the_catch_up_cursor() {
    let mut s = signed_in();
    for id in [20, 21] {
        s.apply(
            ServerFrame::Message {
                message: msg(id, "r1", Some("bob"), "first"),
            }
            .into(),
            NOW,
        );
    }
    let mut edited = msg(20, "r1", Some("bob"), "second");
    edited.seq = MessageId::new(22);
    edited.edited_at = Some(clock::iso_from_millis(NOW));
    s.apply(ServerFrame::MessageUpdated { message: edited }.into(), NOW);
    assert_eq!(bodies(&s, "r1")[2..], ["second", "first"]);
    let c = s.conversation(&r1()).unwrap();
    assert_eq!(c.newest(), Some(MessageId::new(21)));
    assert_eq!(c.cursor(), Some(MessageId::new(22)), "past the edit");
    // A history page that still holds the old text does not bring it back.
    s.apply(
        Loaded::Older {
            room: r1(),
            messages: vec![msg(20, "r1", Some("bob"), "first")],
            limit: 50,
        }
        .into(),
        NOW,
    );
    assert_eq!(bodies(&s, "r1")[2..], ["second", "first"]);
    // A delete: the tombstone takes its place; a change is no unread message.
    let mut tomb = msg(20, "r1", Some("bob"), "");
    tomb.body = None;
    tomb.seq = MessageId::new(23);
    tomb.deleted = Some(domain::message::Deletion {
        by: Some(user("bob")),
        at: clock::iso_from_millis(NOW),
        reason: None,
    });
    let unread = |s: &ChatState| s.room_entry(&r1()).map(|r| r.unread);
    let before = unread(&s);
    s.apply(ServerFrame::MessageUpdated { message: tomb }.into(), NOW);
    assert_eq!(bodies(&s, "r1")[2..], ["", "first"]);
    assert_eq!(unread(&s), before);
    let out = s.apply(ServerFrame::Ready { rooms: vec![r1()] }.into(), NOW);
    assert!(out.contains(&Followup::CatchUp {
        room: r1(),
        after: MessageId::new(23),
    }));
}

#[test]
fn up_edits_my_newest_text_that_is_still_there() {
    let mut s = signed_in();
    let me = UserId::from("id-me");
    assert_eq!(s.conversation(&r1()).unwrap().last_editable(&me), None);
    for (id, body) in [(20, "older"), (21, "newer")] {
        s.apply(
            ServerFrame::Message {
                message: msg(id, "r1", Some("me"), body),
            }
            .into(),
            NOW,
        );
    }
    s.apply(
        ServerFrame::Message {
            message: msg(22, "r1", Some("ana"), "not mine"),
        }
        .into(),
        NOW,
    );
    let c = s.conversation(&r1()).unwrap();
    assert_eq!(c.last_editable(&me), Some(MessageId::new(21)));
    let mut tomb = msg(21, "r1", Some("me"), "");
    tomb.seq = MessageId::new(23);
    tomb.deleted = Some(domain::message::Deletion {
        by: Some(user("me")),
        at: clock::iso_from_millis(NOW),
        reason: None,
    });
    s.apply(ServerFrame::MessageUpdated { message: tomb }.into(), NOW);
    let c = s.conversation(&r1()).unwrap();
    assert_eq!(c.last_editable(&me), Some(MessageId::new(20)));
}

fn lines(ids: std::ops::RangeInclusive<i64>) -> Vec<MessageView> {
    ids.map(|i| msg(i, "r2", Some("ana"), &format!("m{i}")))
        .collect()
}

#[test]
fn a_search_hit_opens_a_window_with_a_gap_that_fills_as_the_reader_scrolls_down() {
    let mut s = signed_in();
    // The latest messages: 100–110.
    s.apply(
        Loaded::Since {
            room: "r2".into(),
            messages: lines(100..=110),
        }
        .into(),
        NOW,
    );
    s.apply(
        Loaded::Around {
            room: "r2".into(),
            focus: MessageId::new(20),
            messages: lines(18..=22),
            has_older: true,
            has_newer: true,
        }
        .into(),
        NOW,
    );
    let c = s.conversation(&"r2".into()).unwrap();
    assert_eq!(c.gap, Some((MessageId::new(22), MessageId::new(100))));
    assert_eq!(c.focus, Some(MessageId::new(20)));
    assert!(c.has_older);
    assert_eq!(c.messages.len(), 16);
    // Scrolling down loads past the gap's lower edge; the gap shrinks, then closes.
    s.apply(
        Loaded::Newer {
            room: "r2".into(),
            messages: lines(23..=60),
            has_newer: true,
        }
        .into(),
        NOW,
    );
    let c = s.conversation(&"r2".into()).unwrap();
    assert_eq!(c.gap, Some((MessageId::new(60), MessageId::new(100))));
    s.apply(
        Loaded::Newer {
            room: "r2".into(),
            messages: lines(61..=102),
            has_newer: true,
        }
        .into(),
        NOW,
    );
    let c = s.conversation(&"r2".into()).unwrap();
    assert_eq!(c.gap, None);
    assert_eq!(c.messages.len(), 110 - 18 + 1);
    // A hit further back leaves a gap again, below the loaded messages (18–110).
    s.apply(
        Loaded::Around {
            room: "r2".into(),
            focus: MessageId::new(5),
            messages: lines(3..=7),
            has_older: false,
            has_newer: true,
        }
        .into(),
        NOW,
    );
    let c = s.conversation(&"r2".into()).unwrap();
    assert_eq!(c.gap, Some((MessageId::new(7), MessageId::new(18))));
    assert!(!c.has_older, "the room's first messages");
    // The next hit replaces that window (one gap at most); one that reaches the loaded
    // messages joins them.
    s.apply(
        Loaded::Around {
            room: "r2".into(),
            focus: MessageId::new(50),
            messages: lines(48..=52),
            has_older: true,
            has_newer: true,
        }
        .into(),
        NOW,
    );
    let c = s.conversation(&"r2".into()).unwrap();
    assert_eq!((c.gap, c.focus), (None, Some(MessageId::new(50))));
    assert_eq!(c.oldest(), Some(MessageId::new(18)));
    assert!(c.has_older);
}
