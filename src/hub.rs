//! The live hub: which sockets are open for whom, which rooms each carries, and the fan-out
//! of frames to them. A frame is serialised once and shared by every socket it goes to.
//! Every socket has a bounded queue; one that falls behind is cancelled (its client
//! reconnects and catches up) rather than buffered without bound.
//!
//! Membership changes update the subscriptions in the same call that delivers the change,
//! so a kicked user's sockets get the `member` frame and then nothing more of that room.

use std::{
    collections::{HashMap, HashSet},
    net::IpAddr,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, MutexGuard, OnceLock, RwLock,
    },
    time::{Duration, Instant},
};

use axum::extract::ws::Utf8Bytes;
use domain::{effects::member_event, room::Event, wire::ServerFrame, RoomId, User, UserId};
use serde::{Deserialize, Serialize};
use service::hub::{EndedSessions, Hub, Posted, Published};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A serialised `ServerFrame`.
pub type Frame = Utf8Bytes;

/// One room's frames of a batch, in order, each with the socket that must not get it.
type RoomFrames<'a> = Vec<(&'a Frame, Option<u64>)>;

/// A lock that a panic elsewhere did not leave unusable: what it guards stays consistent
/// (each change is one insert or removal).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn frame(f: &ServerFrame) -> Frame {
    // Serialising our own enum of strings and numbers cannot fail.
    Utf8Bytes::from(serde_json::to_string(f).unwrap_or_default())
}

/// What goes to the other instances over the backplane (`crate::backplane`): what the
/// services publish, and what only the live channel knows (typing, who is online here).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Relayed {
    Published {
        item: Published,
    },
    Typing {
        room_id: RoomId,
        user: User,
    },
    /// Everyone with a socket open carrying `room_id` on the sending instance.
    Presence {
        room_id: RoomId,
        online: Vec<User>,
    },
    /// "Still here", every [`HELLO_EVERY`]: an instance silent for [`SILENT_FOR`] is gone,
    /// and so is its presence.
    Hello,
}

/// How often an instance says it is still there.
pub const HELLO_EVERY: Duration = Duration::from_secs(5);
/// How long an instance may be silent before it counts as gone.
const SILENT_FOR: Duration = Duration::from_secs(20);

/// Another instance, as this one hears of it over the backplane.
struct Instance {
    heard: Instant,
    /// Who is online there, per room.
    online: HashMap<RoomId, Vec<User>>,
}

struct Conn {
    user: User,
    /// The client's address (the proxy's, unless it is trusted), for the per-address cap.
    addr: Option<IpAddr>,
    /// The session that authorised the socket; its logout closes the socket.
    session_id: Option<String>,
    tx: mpsc::Sender<Frame>,
    cancel: CancellationToken,
    signed_out: CancellationToken,
    account_deleted: Arc<AtomicBool>,
}

#[derive(Default)]
struct Registry {
    conns: HashMap<u64, Conn>,
    by_user: HashMap<UserId, HashSet<u64>>,
    by_addr: HashMap<IpAddr, u32>,
    rooms: HashMap<RoomId, HashSet<u64>>,
    conn_rooms: HashMap<u64, HashSet<RoomId>>,
    /// Counts membership changes delivered, per user with a socket open: a socket reads its
    /// rooms from the database, and subscribes to them only if its user's count did not
    /// move meanwhile (see [`LiveHub::subscribe_if_unchanged`]). A termination counts for
    /// its members only (every one of them departs in its events), so a room ending
    /// elsewhere never makes an opening socket read again.
    user_changes: HashMap<UserId, u64>,
}

/// What a socket saw of its user's membership changes before reading its rooms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MembershipVersion {
    user_changes: u64,
}

/// One open socket's end of the hub.
pub struct Connection {
    pub id: u64,
    pub frames: mpsc::Receiver<Frame>,
    /// Cancelled when the socket fell behind and must go.
    pub cancel: CancellationToken,
    /// Cancelled when the session that opened the socket logged out.
    pub signed_out: CancellationToken,
    /// Set before `signed_out` is cancelled when the reason is that the account was deleted.
    pub account_deleted: Arc<AtomicBool>,
}

pub struct LiveHub {
    registry: RwLock<Registry>,
    next_id: AtomicU64,
    queue: usize,
    caps: SocketCaps,
    typing: Mutex<HashMap<(UserId, RoomId), Instant>>,
    /// Rooms whose presence changed since the last flush. Presence goes out at most every
    /// `PRESENCE_EVERY`: sending the list on every connect would cost the square of a big
    /// room's size when everyone reconnects at once.
    presence_dirty: Mutex<HashSet<RoomId>>,
    /// Rooms whose presence changed on another instance only: sent to this instance's
    /// sockets at the next flush, not relayed back.
    presence_stale: Mutex<HashSet<RoomId>>,
    /// Where items for the other instances go, when a backplane runs.
    relay: OnceLock<mpsc::Sender<Relayed>>,
    /// The other instances heard of, by id.
    elsewhere: Mutex<HashMap<String, Instance>>,
}

/// How many sockets may be open at once: each one carries all its user's rooms, so every
/// extra socket multiplies the fan-out cost of every message in them.
#[derive(Debug, Clone, Copy)]
pub struct SocketCaps {
    pub per_user: u32,
    pub per_addr: u32,
}

impl SocketCaps {
    pub const NONE: Self = Self {
        per_user: u32::MAX,
        per_addr: u32::MAX,
    };
}

/// Why a socket was not opened: the close reason it is sent (at most 123 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooMany {
    ForUser,
    ForAddress,
}

impl TooMany {
    pub fn reason(self) -> &'static str {
        match self {
            Self::ForUser => "too many live connections for this account; close another tab",
            Self::ForAddress => "too many live connections from this address",
        }
    }
}

/// What a full socket queue means for a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WhenFull {
    /// The socket fell behind and is closed (messages and events: each one counts).
    DropSocket,
    /// The frame is skipped and sent again later (presence: state, not news).
    Skip,
}

/// How often changed presence is sent.
pub const PRESENCE_EVERY: Duration = Duration::from_millis(500);
/// How many online users a presence frame names.
const PRESENCE_NAMES: usize = 100;

/// How often one user's typing in one room is passed on.
const TYPING_EVERY: Duration = Duration::from_secs(2);

impl LiveHub {
    pub fn new(queue: usize, caps: SocketCaps) -> Self {
        Self {
            registry: RwLock::default(),
            next_id: AtomicU64::new(1),
            queue: queue.max(1),
            caps,
            typing: Mutex::default(),
            presence_dirty: Mutex::default(),
            presence_stale: Mutex::default(),
            relay: OnceLock::new(),
            elsewhere: Mutex::default(),
        }
    }

    /// From now on, what is published here also goes to `relay`, for the other instances.
    pub fn relay_to(&self, relay: mpsc::Sender<Relayed>) {
        if self.relay.set(relay).is_err() {
            tracing::warn!("the hub already relays to a backplane");
        }
    }

    /// Hands an item to the backplane, if one runs. Never waits: when its queue is full
    /// (Redis is slow or gone) the item is dropped and counted; clients catch up on the
    /// resync that follows an outage.
    fn relay(&self, item: impl FnOnce() -> Relayed) {
        if let Some(relay) = self.relay.get() {
            if relay.try_send(item()).is_err() {
                metrics::counter!("parlor_backplane_dropped_total").increment(1);
            }
        }
    }

    /// An item from another instance, `from`: delivered to the sockets here, never relayed.
    pub fn receive(&self, from: &str, item: Relayed) {
        let newcomer = {
            let mut elsewhere = lock(&self.elsewhere);
            let newcomer = !elsewhere.contains_key(from);
            elsewhere
                .entry(from.to_owned())
                .or_insert_with(|| Instance {
                    heard: Instant::now(),
                    online: HashMap::new(),
                })
                .heard = Instant::now();
            newcomer
        };
        if newcomer {
            // It has not heard who is online here: say it at the next flush.
            tracing::info!(instance = from, "another instance is on the backplane");
            self.republish_presence();
        }
        match item {
            Relayed::Published { item } => self.apply(item.from_elsewhere()),
            Relayed::Typing { room_id, user } => {
                let f = frame(&ServerFrame::Typing {
                    room_id: room_id.clone(),
                    user,
                });
                self.to_room(&room_id, &f, None);
            }
            Relayed::Presence { room_id, online } => {
                if let Some(instance) = lock(&self.elsewhere).get_mut(from) {
                    if online.is_empty() {
                        instance.online.remove(&room_id);
                    } else {
                        instance.online.insert(room_id.clone(), online);
                    }
                }
                lock(&self.presence_stale).insert(room_id);
            }
            Relayed::Hello => {}
        }
    }

    /// Every room with a socket here has its presence relayed at the next flush.
    pub fn republish_presence(&self) {
        let rooms: Vec<RoomId> = self.read().rooms.keys().cloned().collect();
        lock(&self.presence_dirty).extend(rooms);
    }

    /// Forgets the instances not heard from for [`SILENT_FOR`]: who was online there is
    /// no longer known to be.
    fn forget_silent_instances(&self) {
        let mut gone_rooms = Vec::new();
        lock(&self.elsewhere).retain(|id, instance| {
            let alive = instance.heard.elapsed() < SILENT_FOR;
            if !alive {
                tracing::info!(instance = %id, "another instance went silent; forgetting its presence");
                gone_rooms.extend(instance.online.keys().cloned());
            }
            alive
        });
        lock(&self.presence_stale).extend(gone_rooms);
    }

    /// Closes every socket with "reconnect and resync". After the backplane was lost, what
    /// the other instances published meanwhile never came here; each client catches up
    /// (`messages/since`) when it reconnects.
    pub fn resync_all(&self) {
        let rooms = {
            let mut reg = self.write();
            let ids: Vec<u64> = reg.conns.keys().copied().collect();
            if !ids.is_empty() {
                tracing::info!(
                    sockets = ids.len(),
                    "closing every socket so its client catches up"
                );
            }
            let mut rooms = HashSet::new();
            for id in ids {
                rooms.extend(Self::remove_conn(&mut reg, id));
            }
            rooms
        };
        for room in rooms {
            self.send_presence(&room);
        }
    }

    /// Who has a socket open carrying `room`, here and on the other instances.
    fn online_everywhere(&self, room: &RoomId) -> Vec<User> {
        let mut online = self.online(room);
        let elsewhere = lock(&self.elsewhere);
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
        let here: HashSet<RoomId> = lock(&self.presence_dirty).drain().collect();
        let mut rooms: Vec<RoomId> = here.iter().cloned().collect();
        rooms.extend(
            lock(&self.presence_stale)
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
            let (gone, skipped) = {
                let reg = self.read();
                let Some(conns) = reg.rooms.get(&room) else {
                    continue;
                };
                self.deliver(conns.iter(), &reg, &f, WhenFull::Skip)
            };
            self.drop_laggards(gone);
            if skipped {
                again.push(room);
            }
        }
        if !again.is_empty() {
            // Sent again to the sockets here; the other instances already have it.
            lock(&self.presence_stale).extend(again);
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.registry.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a new socket, unless its user or its address already has as many open as
    /// the caps allow (checked and counted under one lock, so parallel opens cannot slip
    /// past).
    pub fn connect(
        &self,
        user: &User,
        session_id: Option<String>,
        addr: Option<IpAddr>,
    ) -> Result<Connection, TooMany> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, frames) = mpsc::channel(self.queue);
        let cancel = CancellationToken::new();
        let signed_out = CancellationToken::new();
        let account_deleted = Arc::new(AtomicBool::new(false));
        let mut reg = self.write();
        let mine = reg.by_user.get(&user.id).map_or(0, HashSet::len);
        if u32::try_from(mine).unwrap_or(u32::MAX) >= self.caps.per_user {
            return Err(TooMany::ForUser);
        }
        if let Some(addr) = addr {
            if reg.by_addr.get(&addr).copied().unwrap_or(0) >= self.caps.per_addr {
                return Err(TooMany::ForAddress);
            }
            *reg.by_addr.entry(addr).or_default() += 1;
        }
        reg.conns.insert(
            id,
            Conn {
                user: user.clone(),
                addr,
                session_id,
                tx,
                cancel: cancel.clone(),
                signed_out: signed_out.clone(),
                account_deleted: account_deleted.clone(),
            },
        );
        reg.by_user.entry(user.id.clone()).or_default().insert(id);
        metrics::gauge!("parlor_sockets_open").increment(1.0);
        Ok(Connection {
            id,
            frames,
            cancel,
            signed_out,
            account_deleted,
        })
    }

    /// Closes the sockets of `user_id` that the ended sessions opened.
    fn end_sessions(&self, user_id: &str, which: &EndedSessions) {
        let reg = self.read();
        for conn in reg.by_user.get(user_id).into_iter().flatten() {
            if let Some(c) = reg.conns.get(conn) {
                if which.includes(c.session_id.as_deref()) {
                    if *which == EndedSessions::AccountDeleted {
                        c.account_deleted.store(true, Ordering::Relaxed);
                    }
                    c.signed_out.cancel();
                }
            }
        }
    }

    /// Sockets opened by session `from` now belong to `to`, its renewed id.
    fn renew_session(&self, user_id: &str, from: &str, to: String) {
        let mut reg = self.write();
        let Registry { by_user, conns, .. } = &mut *reg;
        for conn in by_user.get(user_id).into_iter().flatten() {
            if let Some(c) = conns.get_mut(conn) {
                if c.session_id.as_deref() == Some(from) {
                    c.session_id = Some(to.clone());
                }
            }
        }
    }

    /// The session a socket belongs to now (`None` once it closed, or if it had none).
    pub fn session_of(&self, conn: u64) -> Option<String> {
        self.read().conns.get(&conn)?.session_id.clone()
    }

    pub fn disconnect(&self, conn: u64) {
        let rooms = {
            let mut reg = self.write();
            Self::remove_conn(&mut reg, conn)
        };
        for room in rooms {
            self.send_presence(&room);
        }
    }

    fn remove_conn(reg: &mut Registry, conn: u64) -> HashSet<RoomId> {
        let Some(c) = reg.conns.remove(&conn) else {
            return HashSet::new();
        };
        metrics::gauge!("parlor_sockets_open").decrement(1.0);
        c.cancel.cancel();
        if let Some(addr) = c.addr {
            if let Some(n) = reg.by_addr.get_mut(&addr) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    reg.by_addr.remove(&addr);
                }
            }
        }
        if let Some(set) = reg.by_user.get_mut(c.user.id.as_str()) {
            set.remove(&conn);
            if set.is_empty() {
                reg.by_user.remove(c.user.id.as_str());
                reg.user_changes.remove(c.user.id.as_str());
            }
        }
        let rooms = reg.conn_rooms.remove(&conn).unwrap_or_default();
        for room in &rooms {
            if let Some(set) = reg.rooms.get_mut(room) {
                set.remove(&conn);
                if set.is_empty() {
                    reg.rooms.remove(room);
                }
            }
        }
        rooms
    }

    fn add_subscription(reg: &mut Registry, conn: u64, room: &RoomId) {
        if !reg.conns.contains_key(&conn) {
            return;
        }
        reg.rooms.entry(room.clone()).or_default().insert(conn);
        reg.conn_rooms.entry(conn).or_default().insert(room.clone());
    }

    /// Where `conn`'s user's membership changes stand; read it before reading their rooms.
    pub fn membership_version(&self, conn: u64) -> MembershipVersion {
        Self::version(&self.read(), conn)
    }

    fn version(reg: &Registry, conn: u64) -> MembershipVersion {
        let user_changes = reg
            .conns
            .get(&conn)
            .and_then(|c| reg.user_changes.get(c.user.id.as_str()))
            .copied()
            .unwrap_or(0);
        MembershipVersion { user_changes }
    }

    /// Starts carrying `rooms` (just read from the database) on a new socket, unless a
    /// membership change of its user (a termination of their room too) was delivered since `seen`: the read
    /// may then be stale (a kick delivered before the socket carried the room would not
    /// have removed it), and the caller reads again. Returns whether it subscribed.
    pub fn subscribe_if_unchanged(
        &self,
        conn: u64,
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
            self.send_presence(room);
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
            let conns: Vec<u64> = reg
                .by_user
                .get(user_id)
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default();
            Self::note_membership_change(&mut reg, user_id);
            for conn in conns {
                Self::add_subscription(&mut reg, conn, room);
            }
        }
        self.send_presence(room);
    }

    fn unsubscribe_user(&self, user_id: &UserId, room: &RoomId) {
        {
            let mut reg = self.write();
            Self::note_membership_change(&mut reg, user_id);
            let conns: Vec<u64> = reg
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
        self.send_presence(room);
    }

    fn drop_room(&self, room: &str) {
        let mut reg = self.write();
        if let Some(conns) = reg.rooms.remove(room) {
            for conn in conns {
                if let Some(set) = reg.conn_rooms.get_mut(&conn) {
                    set.remove(room);
                }
            }
        }
    }

    pub fn is_subscribed(&self, conn: u64, room: &str) -> bool {
        self.read()
            .rooms
            .get(room)
            .is_some_and(|s| s.contains(&conn))
    }

    /// Queues `frame` on each socket. Returns the sockets that must go (closed, or full
    /// when a full queue means falling behind) and whether any full one skipped the frame.
    fn deliver<'a>(
        &self,
        targets: impl IntoIterator<Item = &'a u64>,
        reg: &Registry,
        frame: &Frame,
        when_full: WhenFull,
    ) -> (Vec<u64>, bool) {
        let mut gone = Vec::new();
        let mut skipped = false;
        let mut delivered = 0u64;
        for id in targets {
            let Some(conn) = reg.conns.get(id) else {
                continue;
            };
            match conn.tx.try_send(frame.clone()) {
                Ok(()) => delivered += 1,
                Err(mpsc::error::TrySendError::Full(_)) if when_full == WhenFull::Skip => {
                    skipped = true;
                }
                Err(_) => gone.push(*id),
            }
        }
        metrics::counter!("parlor_frames_delivered_total").increment(delivered);
        (gone, skipped)
    }

    fn drop_laggards(&self, gone: Vec<u64>) {
        if gone.is_empty() {
            return;
        }
        metrics::counter!("parlor_sockets_dropped_slow_total").increment(gone.len() as u64);
        let mut rooms = HashSet::new();
        {
            let mut reg = self.write();
            for id in gone {
                tracing::warn!(conn = id, "socket fell behind; closing it");
                rooms.extend(Self::remove_conn(&mut reg, id));
            }
        }
        for room in rooms {
            self.send_presence(&room);
        }
    }

    pub fn to_room(&self, room: &str, frame: &Frame, skip: Option<u64>) {
        self.to_rooms(&[(RoomId::from(room), frame.clone(), skip)]);
    }

    /// Queues each `(room, frame, skip)` on the room's sockets but `skip`, in order within
    /// each room. Socket by socket: a socket is handed all of its frames before the next
    /// one's, so it wakes and writes once for the lot, not once per frame.
    pub fn to_rooms(&self, frames: &[(RoomId, Frame, Option<u64>)]) {
        let mut by_room: Vec<(&RoomId, RoomFrames)> = Vec::new();
        for (room, frame, skip) in frames {
            match by_room.iter_mut().find(|(r, _)| *r == room) {
                Some((_, list)) => list.push((frame, *skip)),
                None => by_room.push((room, vec![(frame, *skip)])),
            }
        }
        let mut gone = Vec::new();
        let mut delivered = 0u64;
        {
            let reg = self.read();
            for (room, list) in &by_room {
                let Some(conns) = reg.rooms.get(room.as_str()) else {
                    continue;
                };
                for id in conns {
                    let Some(conn) = reg.conns.get(id) else {
                        continue;
                    };
                    for (frame, skip) in list {
                        if *skip == Some(*id) {
                            continue;
                        }
                        if conn.tx.try_send((*frame).clone()).is_err() {
                            // Closed, or full: fallen behind.
                            gone.push(*id);
                            break;
                        }
                        delivered += 1;
                    }
                }
            }
        }
        metrics::counter!("parlor_frames_delivered_total").increment(delivered);
        self.drop_laggards(gone);
    }

    pub fn to_user(&self, user_id: &str, frame: &Frame) {
        let gone = {
            let reg = self.read();
            let Some(conns) = reg.by_user.get(user_id) else {
                return;
            };
            self.deliver(conns.iter(), &reg, frame, WhenFull::DropSocket)
                .0
        };
        self.drop_laggards(gone);
    }

    pub fn to_conn(&self, conn: u64, frame: &Frame) {
        let gone = {
            let reg = self.read();
            self.deliver([conn].iter(), &reg, frame, WhenFull::DropSocket)
                .0
        };
        self.drop_laggards(gone);
    }

    /// Who has a socket open carrying `room`.
    pub fn online(&self, room: &str) -> Vec<User> {
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

    fn send_presence(&self, room: &RoomId) {
        lock(&self.presence_dirty).insert(room.clone());
    }

    /// Passes on that `user` is typing in `room`, at most once every 2 s.
    pub fn typing(&self, conn: u64, user: &User, room: &RoomId) {
        if !self.is_subscribed(conn, room) {
            return;
        }
        {
            let mut last = self.typing.lock().unwrap_or_else(|e| e.into_inner());
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

    /// Sockets open now (for tests and metrics).
    pub fn connections(&self) -> usize {
        self.read().conns.len()
    }

    fn room_events(&self, room_id: &RoomId, events: &[Event], users: &HashMap<UserId, User>) {
        for event in events {
            if let Some((id, what, role)) = member_event(event) {
                let user = users.get(id).cloned().unwrap_or_else(|| User {
                    id: id.clone(),
                    username: String::new(),
                });
                let f = frame(&ServerFrame::Member {
                    room_id: room_id.clone(),
                    event: what,
                    user,
                    role,
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

impl Hub for LiveHub {
    /// Delivers `item` to the sockets here, and relays it to the other instances.
    fn publish(&self, item: Published) {
        if self.relay.get().is_some() {
            self.relay(|| Relayed::Published { item: item.clone() });
        }
        self.apply(item);
    }
}

impl LiveHub {
    /// Delivers a published item to the sockets here.
    fn apply(&self, item: Published) {
        match item {
            Published::Messages { messages } => {
                let frames: Vec<_> = messages
                    .into_iter()
                    .map(|Posted { message, origin }| {
                        let room = message.room_id.clone();
                        (room, frame(&ServerFrame::Message { message }), origin)
                    })
                    .collect();
                self.to_rooms(&frames);
            }
            Published::Notification {
                user_id,
                notification,
            } => {
                self.to_user(
                    &user_id,
                    &frame(&ServerFrame::Notification { notification }),
                );
            }
            Published::Room {
                room_id,
                events,
                users,
            } => self.room_events(&room_id, &events, &users),
            Published::SessionsEnded { user_id, which } => self.end_sessions(&user_id, &which),
            Published::SessionRenewed { user_id, from, to } => {
                self.renew_session(&user_id, &from, to);
            }
            Published::RoomUpdated { room } => {
                let id = room.id.clone();
                self.to_room(&id, &frame(&ServerFrame::RoomUpdated { room }), None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::room::{JoinedVia, LeaveReason, Role};

    use super::*;

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
            Some(TooMany::ForUser)
        );
        let _b1 = hub.connect(&user("bob"), None, Some(home)).unwrap();
        let _c1 = hub.connect(&user("cat"), None, Some(home)).unwrap();
        assert_eq!(
            hub.connect(&user("dan"), None, Some(home)).err(),
            Some(TooMany::ForAddress)
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
        assert!(hub.is_subscribed(bob.id, "r1"));

        // Bob is kicked from r2 after a second socket read its rooms (r2 among them).
        let tab = hub.connect(&user("bob"), None, None).unwrap();
        let seen = hub.membership_version(tab.id);
        hub.publish(room_event("r2", kicked("bob")));
        let stale = vec![RoomId::from("r1"), RoomId::from("r2")];
        assert!(!hub.subscribe_if_unchanged(tab.id, &stale, seen));
        assert!(
            !hub.is_subscribed(tab.id, "r2"),
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
        assert!(hub.is_subscribed(tab.id, "r3"));
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

    fn posted(room: &str, body: &str, origin: Option<u64>) -> Posted {
        Posted {
            message: domain::message::MessageView {
                id: domain::MessageId::new(1),
                room_id: room.into(),
                author: None,
                kind: domain::vocab::MessageKind::Text,
                body: body.to_owned(),
                color: None,
                sticker: None,
                file: None,
                created_at: String::new(),
            },
            origin,
        }
    }

    fn bodies(conn: &mut Connection) -> Vec<String> {
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
        hub.publish(Published::Messages {
            messages: vec![
                posted("r1", "a1", Some(ann.id)),
                posted("r2", "b1", Some(bob.id)),
                posted("r1", "a2", Some(ann.id)),
                posted("r1", "c1", Some(cat.id)),
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
        assert!(!hub.is_subscribed(ann.id, "r1"));
    }

    /// A hub that relays, with one socket of `name` carrying `r1`.
    fn relaying(name: &str) -> (LiveHub, mpsc::Receiver<Relayed>, Connection) {
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
        // Another instance's socket ids mean nothing here: one equal to bob's socket id
        // does not keep the message from him.
        hub.receive(
            "other",
            Relayed::Published {
                item: Published::Messages {
                    messages: vec![posted("r1", "from there", Some(bob.id))],
                },
            },
        );
        assert_eq!(bodies(&mut bob), ["from there"]);
        assert!(relayed.try_recv().is_err(), "relayed back to the others");
    }

    #[test]
    fn presence_counts_other_instances_until_they_fall_silent() {
        let (hub, mut relayed, mut bob) = relaying("bob");
        let online = |conn: &mut Connection| -> Vec<String> {
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
        if let Some(other) = lock(&hub.elsewhere).get_mut("other") {
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
}
