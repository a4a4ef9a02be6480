//! The open sockets: who each belongs to, where from, and the caps on how many one person
//! or one address may hold.

use std::{
    collections::{HashMap, HashSet},
    fmt,
    net::IpAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use domain::{wire::Close, RoomId, User, UserId};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Frame, LiveHub};

/// One open socket on this instance. Its number means nothing on another instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(u64);

impl fmt::Display for SocketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

pub(super) struct Conn {
    pub user: User,
    /// The client's address (the proxy's, unless it is trusted), for the per-address cap.
    pub addr: Option<IpAddr>,
    /// The session that authorised the socket; its logout closes the socket.
    pub session_id: Option<String>,
    pub tx: mpsc::Sender<Frame>,
    pub cancel: CancellationToken,
    pub signed_out: CancellationToken,
    pub account_deleted: Arc<AtomicBool>,
}

#[derive(Default)]
pub(super) struct Registry {
    pub conns: HashMap<SocketId, Conn>,
    pub by_user: HashMap<UserId, HashSet<SocketId>>,
    pub by_addr: HashMap<IpAddr, u32>,
    pub rooms: HashMap<RoomId, HashSet<SocketId>>,
    pub conn_rooms: HashMap<SocketId, HashSet<RoomId>>,
    /// Counts membership changes delivered, per user with a socket open (see
    /// [`LiveHub::subscribe_if_unchanged`]).
    pub user_changes: HashMap<UserId, u64>,
}

/// One open socket's end of the hub.
pub struct SocketHandle {
    pub id: SocketId,
    pub frames: mpsc::Receiver<Frame>,
    /// Cancelled when the socket fell behind and must go.
    pub cancel: CancellationToken,
    /// Cancelled when the session that opened the socket logged out.
    pub signed_out: CancellationToken,
    /// Set before `signed_out` is cancelled when the reason is that the account was deleted.
    pub account_deleted: Arc<AtomicBool>,
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

impl LiveHub {
    /// Registers a new socket, unless its user or its address already has as many open as
    /// the caps allow (checked and counted under one lock, so parallel opens cannot slip
    /// past); the refusal is the socket's close.
    pub fn connect(
        &self,
        user: &User,
        session_id: Option<String>,
        addr: Option<IpAddr>,
    ) -> Result<SocketHandle, Close> {
        let id = SocketId(self.next_id.fetch_add(1, Ordering::Relaxed));
        let (tx, frames) = mpsc::channel(self.queue);
        let cancel = CancellationToken::new();
        let signed_out = CancellationToken::new();
        let account_deleted = Arc::new(AtomicBool::new(false));
        let mut reg = self.write();
        let mine = reg.by_user.get(&user.id).map_or(0, HashSet::len);
        if u32::try_from(mine).unwrap_or(u32::MAX) >= self.caps.per_user {
            return Err(Close::TooManyForUser);
        }
        if let Some(addr) = addr {
            if reg.by_addr.get(&addr).copied().unwrap_or(0) >= self.caps.per_addr {
                return Err(Close::TooManyForAddress);
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
        Ok(SocketHandle {
            id,
            frames,
            cancel,
            signed_out,
            account_deleted,
        })
    }

    pub fn disconnect(&self, conn: SocketId) {
        let rooms = {
            let mut reg = self.write();
            Self::remove_conn(&mut reg, conn)
        };
        self.forget_acks_of(conn);
        for room in rooms {
            self.presence_changed(&room);
        }
    }

    /// Takes a socket out of every index; returns the rooms it carried.
    pub(super) fn remove_conn(reg: &mut Registry, conn: SocketId) -> HashSet<RoomId> {
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
        if let Some(set) = reg.by_user.get_mut(&c.user.id) {
            set.remove(&conn);
            if set.is_empty() {
                reg.by_user.remove(&c.user.id);
                reg.user_changes.remove(&c.user.id);
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

    /// Closes every socket with "reconnect and resync". After the backplane was lost, what
    /// the other instances published meanwhile never came here; each client catches up
    /// (`messages/since`) when it reconnects.
    pub fn resync_all(&self) {
        let rooms = {
            let mut reg = self.write();
            let ids: Vec<SocketId> = reg.conns.keys().copied().collect();
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
            self.presence_changed(&room);
        }
    }

    /// Sockets open now (for tests and metrics).
    pub fn connections(&self) -> usize {
        self.read().conns.len()
    }
}
