//! The rooms each socket carries, and the delivery of frames to them.
//!
//! Membership changes update the subscriptions in the same call that delivers them, so a
//! kicked user's sockets get the `member` frame and then nothing more of that room.

use std::collections::{HashMap, HashSet};

use domain::{
    effects::member_event, message::ClientId, room::Event, wire::ServerFrame, RoomId, User, UserId,
};
use service::hub::Posted;
use tokio::sync::mpsc;

use super::{frame, lock, registry::Registry, Frame, LiveHub, SocketId};

/// One room's frames of a batch, in order, each with the socket that must not get it.
type RoomFrames<'a> = Vec<(&'a Frame, Option<SocketId>)>;

/// What a socket saw of its user's membership changes before reading its rooms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MembershipVersion {
    user_changes: u64,
}

/// What a full socket queue means for a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WhenFull {
    /// The socket fell behind and is closed (messages and events: each one counts).
    DropSocket,
    /// The frame is skipped and sent again later (presence: state, not news).
    Skip,
}

/// Frames handed to sockets, and what came of it: the sockets that must go (closed, or
/// full when a full queue means falling behind) and whether a full one skipped a frame.
#[derive(Default)]
pub(super) struct Handed {
    delivered: u64,
    gone: Vec<SocketId>,
    pub skipped: bool,
}

impl Handed {
    /// Queues `frames` on socket `id`, in order; stops at the first that does not fit.
    /// Socket by socket: a socket is handed all of its frames before the next one's, so it
    /// wakes and writes once for the lot, not once per frame.
    pub fn to<'a>(
        &mut self,
        reg: &Registry,
        id: SocketId,
        frames: impl IntoIterator<Item = &'a Frame>,
        when_full: WhenFull,
    ) {
        let Some(conn) = reg.conns.get(&id) else {
            return;
        };
        for f in frames {
            match conn.tx.try_send(f.clone()) {
                Ok(()) => self.delivered += 1,
                Err(mpsc::error::TrySendError::Full(_)) if when_full == WhenFull::Skip => {
                    self.skipped = true;
                    return;
                }
                Err(_) => {
                    self.gone.push(id);
                    return;
                }
            }
        }
    }
}

impl LiveHub {
    /// Counts what was delivered and closes the sockets that fell behind.
    pub(super) fn finish(&self, handed: Handed) -> bool {
        metrics::counter!("parlor_frames_delivered_total").increment(handed.delivered);
        if !handed.gone.is_empty() {
            metrics::counter!("parlor_sockets_dropped_slow_total")
                .increment(handed.gone.len() as u64);
            let mut rooms = HashSet::new();
            {
                let mut reg = self.write();
                for id in handed.gone {
                    tracing::warn!(conn = %id, "socket fell behind; closing it");
                    rooms.extend(Self::remove_conn(&mut reg, id));
                }
            }
            for room in rooms {
                self.presence_changed(&room);
            }
        }
        handed.skipped
    }

    /// A socket is about to send `client_id` for `user`: it gets the `ack`, not the message.
    pub fn await_ack(&self, user: &UserId, client_id: &ClientId, conn: SocketId) {
        lock(&self.awaiting_ack).insert((user.clone(), client_id.clone()), conn);
    }

    /// The send's answer went out (or it never reached the database).
    pub fn acked(&self, user: &UserId, client_id: &ClientId) {
        lock(&self.awaiting_ack).remove(&(user.clone(), client_id.clone()));
    }

    pub(super) fn forget_acks_of(&self, conn: SocketId) {
        lock(&self.awaiting_ack).retain(|_, c| *c != conn);
    }

    /// Stored messages, each to its room's sockets but the one that sent it.
    pub(super) fn messages(&self, messages: Vec<Posted>) {
        let frames: Vec<_> = {
            let awaiting = lock(&self.awaiting_ack);
            messages
                .into_iter()
                .map(|Posted { message, client_id }| {
                    let sender = message
                        .author
                        .as_ref()
                        .zip(client_id)
                        .and_then(|(a, c)| awaiting.get(&(a.id.clone(), c)).copied());
                    let room = message.room_id.clone();
                    (room, frame(&ServerFrame::Message { message }), sender)
                })
                .collect()
        };
        self.to_rooms(&frames);
    }

    /// Where `conn`'s user's membership changes stand; read it before reading their rooms.
    pub fn membership_version(&self, conn: SocketId) -> MembershipVersion {
        Self::version(&self.read(), conn)
    }

    fn version(reg: &Registry, conn: SocketId) -> MembershipVersion {
        let user_changes = reg
            .conns
            .get(&conn)
            .and_then(|c| reg.user_changes.get(&c.user.id))
            .copied()
            .unwrap_or(0);
        MembershipVersion { user_changes }
    }

    fn add_subscription(reg: &mut Registry, conn: SocketId, room: &RoomId) {
        if !reg.conns.contains_key(&conn) {
            return;
        }
        reg.rooms.entry(room.clone()).or_default().insert(conn);
        reg.conn_rooms.entry(conn).or_default().insert(room.clone());
    }

    /// Starts carrying `rooms` (just read from the database) on a new socket, unless a
    /// membership change of its user (a termination of their room too) was delivered since
    /// `seen`: the read may then be stale (a kick delivered before the socket carried the
    /// room would not have removed it), and the caller reads again. Returns whether it
    /// subscribed.
    pub fn subscribe_if_unchanged(
        &self,
        conn: SocketId,
        rooms: &[RoomId],
        seen: MembershipVersion,
    ) -> bool {
        {
            let mut reg = self.write();
            if Self::version(&reg, conn) != seen {
                return false;
            }
            for room in rooms {
                Self::add_subscription(&mut reg, conn, room);
            }
        }
        for room in rooms {
            self.presence_changed(room);
        }
        true
    }

    /// Counts a membership change of `user_id`, if they have a socket open to notice it.
    fn note_membership_change(reg: &mut Registry, user_id: &UserId) {
        if reg.by_user.contains_key(user_id) {
            *reg.user_changes.entry(user_id.clone()).or_default() += 1;
        }
    }

    fn subscribe_user(&self, user_id: &UserId, room: &RoomId) {
        {
            let mut reg = self.write();
            let conns: Vec<SocketId> = reg
                .by_user
                .get(user_id)
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default();
            Self::note_membership_change(&mut reg, user_id);
            for conn in conns {
                Self::add_subscription(&mut reg, conn, room);
            }
        }
        self.presence_changed(room);
    }

    fn unsubscribe_user(&self, user_id: &UserId, room: &RoomId) {
        {
            let mut reg = self.write();
            Self::note_membership_change(&mut reg, user_id);
            let conns: Vec<SocketId> = reg
                .by_user
                .get(user_id)
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default();
            for conn in conns {
                if let Some(set) = reg.rooms.get_mut(room) {
                    set.remove(&conn);
                }
                if let Some(set) = reg.conn_rooms.get_mut(&conn) {
                    set.remove(room);
                }
            }
        }
        self.presence_changed(room);
    }

    fn drop_room(&self, room: &RoomId) {
        let mut reg = self.write();
        if let Some(conns) = reg.rooms.remove(room) {
            for conn in conns {
                if let Some(set) = reg.conn_rooms.get_mut(&conn) {
                    set.remove(room);
                }
            }
        }
    }

    pub fn is_subscribed(&self, conn: SocketId, room: &RoomId) -> bool {
        self.read()
            .rooms
            .get(room)
            .is_some_and(|s| s.contains(&conn))
    }

    pub fn to_room(&self, room: &RoomId, frame: &Frame, skip: Option<SocketId>) {
        self.to_rooms(&[(room.clone(), frame.clone(), skip)]);
    }

    /// Queues each `(room, frame, skip)` on the room's sockets but `skip`, in order within
    /// each room.
    pub fn to_rooms(&self, frames: &[(RoomId, Frame, Option<SocketId>)]) {
        let mut by_room: Vec<(&RoomId, RoomFrames)> = Vec::new();
        for (room, frame, skip) in frames {
            match by_room.iter_mut().find(|(r, _)| *r == room) {
                Some((_, list)) => list.push((frame, *skip)),
                None => by_room.push((room, vec![(frame, *skip)])),
            }
        }
        let mut handed = Handed::default();
        {
            let reg = self.read();
            for (room, list) in &by_room {
                for &id in reg.rooms.get(*room).into_iter().flatten() {
                    let mine = list
                        .iter()
                        .filter(|(_, skip)| *skip != Some(id))
                        .map(|(f, _)| *f);
                    handed.to(&reg, id, mine, WhenFull::DropSocket);
                }
            }
        }
        self.finish(handed);
    }

    pub fn to_user(&self, user_id: &UserId, frame: &Frame) {
        let mut handed = Handed::default();
        {
            let reg = self.read();
            for &id in reg.by_user.get(user_id).into_iter().flatten() {
                handed.to(&reg, id, [frame], WhenFull::DropSocket);
            }
        }
        self.finish(handed);
    }

    pub fn to_conn(&self, conn: SocketId, frame: &Frame) {
        let mut handed = Handed::default();
        handed.to(&self.read(), conn, [frame], WhenFull::DropSocket);
        self.finish(handed);
    }

    /// A room decision's events: `member` frames (with the subscriptions they change) and
    /// the room's end.
    pub(super) fn room_events(
        &self,
        room_id: &RoomId,
        events: &[Event],
        users: &HashMap<UserId, User>,
    ) {
        for event in events {
            if let Some(change) = member_event(event) {
                let id = change.user;
                let user = users.get(id).cloned().unwrap_or_else(|| User {
                    id: id.clone(),
                    username: String::new(),
                });
                let f = frame(&ServerFrame::Member {
                    room_id: room_id.clone(),
                    event: change.event,
                    user,
                    role: change.role,
                    until: change
                        .until
                        .map(|us| service::time::rfc3339(service::time::from_micros(us))),
                });
                match event {
                    // Subscribed first, so the joiner's sockets hear of it too.
                    Event::Joined { .. } => {
                        self.subscribe_user(id, room_id);
                        self.to_room(room_id, &f, None);
                    }
                    // Told first, then nothing more of the room reaches them.
                    Event::Departed { .. } => {
                        self.to_room(room_id, &f, None);
                        self.unsubscribe_user(id, room_id);
                    }
                    _ => self.to_room(room_id, &f, None),
                }
            }
            if let Event::Terminated = event {
                let f = frame(&ServerFrame::RoomTerminated {
                    room_id: room_id.clone(),
                });
                self.to_room(room_id, &f, None);
                self.drop_room(room_id);
            }
        }
    }
}
