//! Who is online in a room (here and on the other instances) and who is typing.
//!
//! Presence goes out at most every [`PRESENCE_EVERY`]: sending the list on every connect
//! would cost the square of a big room's size when everyone reconnects at once.

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
    time::{Duration, Instant},
};

use domain::{wire::ServerFrame, RoomId, User, UserId};

use super::{
    fanout::{Handed, WhenFull},
    frame, lock,
    relay::Relayed,
    LiveHub, SocketId,
};

/// How often changed presence is sent.
pub const PRESENCE_EVERY: Duration = Duration::from_millis(500);
/// How many online users a presence frame names.
const PRESENCE_NAMES: usize = 100;
/// How often one user's typing in one room is passed on.
const TYPING_EVERY: Duration = Duration::from_secs(2);
/// How long an instance may be silent before it counts as gone.
pub(super) const SILENT_FOR: Duration = Duration::from_secs(20);

/// Another instance, as this one hears of it over the backplane.
pub(super) struct Instance {
    pub heard: Instant,
    /// Who is online there, per room.
    pub online: HashMap<RoomId, Vec<User>>,
}

#[derive(Default)]
pub(super) struct Presence {
    typing: Mutex<HashMap<(UserId, RoomId), Instant>>,
    /// Rooms whose presence changed here since the last flush.
    dirty: Mutex<HashSet<RoomId>>,
    /// Rooms whose presence changed on another instance only: sent to this instance's
    /// sockets at the next flush, not relayed back.
    stale: Mutex<HashSet<RoomId>>,
    /// The other instances heard of, by id.
    pub elsewhere: Mutex<HashMap<String, Instance>>,
}

impl LiveHub {
    /// Someone came or went in `room`: its presence goes out at the next flush.
    pub(super) fn presence_changed(&self, room: &RoomId) {
        lock(&self.presence.dirty).insert(room.clone());
    }

    /// Notes that instance `from` spoke; true the first time it is heard of.
    pub(super) fn heard_from(&self, from: &str) -> bool {
        let mut elsewhere = lock(&self.presence.elsewhere);
        let newcomer = !elsewhere.contains_key(from);
        elsewhere
            .entry(from.to_owned())
            .or_insert_with(|| Instance {
                heard: Instant::now(),
                online: HashMap::new(),
            })
            .heard = Instant::now();
        newcomer
    }

    /// Who is online in `room` on instance `from`, as it says.
    pub(super) fn online_elsewhere(&self, from: &str, room_id: RoomId, online: Vec<User>) {
        if let Some(instance) = lock(&self.presence.elsewhere).get_mut(from) {
            if online.is_empty() {
                instance.online.remove(&room_id);
            } else {
                instance.online.insert(room_id.clone(), online);
            }
        }
        lock(&self.presence.stale).insert(room_id);
    }

    /// Every room with a socket here has its presence relayed at the next flush.
    pub fn republish_presence(&self) {
        let rooms: Vec<RoomId> = self.read().rooms.keys().cloned().collect();
        lock(&self.presence.dirty).extend(rooms);
    }

    /// Forgets the instances not heard from for [`SILENT_FOR`]: who was online there is
    /// no longer known to be.
    fn forget_silent_instances(&self) {
        let mut gone_rooms = Vec::new();
        lock(&self.presence.elsewhere).retain(|id, instance| {
            let alive = instance.heard.elapsed() < SILENT_FOR;
            if !alive {
                tracing::info!(instance = %id, "another instance went silent; forgetting its presence");
                gone_rooms.extend(instance.online.keys().cloned());
            }
            alive
        });
        lock(&self.presence.stale).extend(gone_rooms);
    }

    /// Who has a socket open carrying `room` here.
    pub fn online(&self, room: &RoomId) -> Vec<User> {
        let reg = self.read();
        let mut seen = HashSet::new();
        let mut users: Vec<User> = reg
            .rooms
            .get(room)
            .into_iter()
            .flatten()
            .filter_map(|c| reg.conns.get(c))
            .filter(|c| seen.insert(c.user.id.clone()))
            .map(|c| c.user.clone())
            .collect();
        users.sort_by(|a, b| a.username.cmp(&b.username));
        users
    }

    /// Who has a socket open carrying `room`, here and on the other instances.
    fn online_everywhere(&self, room: &RoomId) -> Vec<User> {
        let mut online = self.online(room);
        let elsewhere = lock(&self.presence.elsewhere);
        let there: Vec<&User> = elsewhere
            .values()
            .filter_map(|i| i.online.get(room))
            .flatten()
            .collect();
        if there.is_empty() {
            return online;
        }
        let mut seen: HashSet<UserId> = online.iter().map(|u| u.id.clone()).collect();
        online.extend(
            there
                .into_iter()
                .filter(|u| seen.insert(u.id.clone()))
                .cloned(),
        );
        online.sort_by(|a, b| a.username.cmp(&b.username));
        online
    }

    /// Sends the presence of every room whose presence changed since the last call (and
    /// relays the rooms that changed here to the other instances).
    pub fn flush_presence(&self) {
        self.forget_silent_instances();
        let here: HashSet<RoomId> = lock(&self.presence.dirty).drain().collect();
        let mut rooms: Vec<RoomId> = here.iter().cloned().collect();
        rooms.extend(
            lock(&self.presence.stale)
                .drain()
                .filter(|r| !here.contains(r)),
        );
        if self.relay.get().is_some() {
            for room in &here {
                self.relay(|| Relayed::Presence {
                    room_id: room.clone(),
                    online: self.online(room),
                });
            }
        }
        let mut again = Vec::new();
        for room in rooms {
            let online = self.online_everywhere(&room);
            let online_count = online.len();
            let f = frame(&ServerFrame::Presence {
                room_id: room.clone(),
                online: online.into_iter().take(PRESENCE_NAMES).collect(),
                online_count,
            });
            // Presence is state, sent again when it changes: a socket with no room for it
            // now (someone in hundreds of rooms gets a frame per room at once when they
            // connect) skips it and gets it at the next flush, rather than being dropped.
            let mut handed = Handed::default();
            {
                let reg = self.read();
                for &id in reg.rooms.get(&room).into_iter().flatten() {
                    handed.to(&reg, id, [&f], WhenFull::Skip);
                }
            }
            if self.finish(handed) {
                again.push(room);
            }
        }
        if !again.is_empty() {
            // Sent again to the sockets here; the other instances already have it.
            lock(&self.presence.stale).extend(again);
        }
    }

    /// Passes on that `user` is typing in `room`, at most once every 2 s.
    pub fn typing(&self, conn: SocketId, user: &User, room: &RoomId) {
        if !self.is_subscribed(conn, room) {
            return;
        }
        {
            let mut last = lock(&self.presence.typing);
            let key = (user.id.clone(), room.clone());
            if last.get(&key).is_some_and(|t| t.elapsed() < TYPING_EVERY) {
                return;
            }
            if last.len() > 100_000 {
                last.retain(|_, t| t.elapsed() < TYPING_EVERY);
            }
            last.insert(key, Instant::now());
        }
        let f = frame(&ServerFrame::Typing {
            room_id: room.clone(),
            user: user.clone(),
        });
        self.to_room(room, &f, Some(conn));
        self.relay(|| Relayed::Typing {
            room_id: room.clone(),
            user: user.clone(),
        });
    }
}
