//! The live channel on the server (docs/ARCHITECTURE.md, "The live layer"): which sockets
//! are open for whom, which rooms each carries, and the fan-out of frames to them. A frame
//! is serialised once and shared by every socket it goes to; every socket has a bounded
//! queue, and one that falls behind is closed (its client reconnects and catches up) rather
//! than buffered without bound.
//!
//! [`LiveHub`] is the facade the services publish to (`service::hub::Hub`); its parts are
//! one module each:
//! - [`registry`]: the open sockets and the caps on them;
//! - [`sessions`]: which session each socket belongs to, and the end of it;
//! - [`fanout`]: the rooms each socket carries, and delivering frames to them;
//! - [`presence`]: who is online in a room, and who is typing;
//! - [`relay`] and [`backplane`]: what crosses to the other instances, over Redis;
//! - [`socket`]: `GET /ws`, one task per socket.
//!
//! The hub only routes: whether someone may post is decided by the services, in the
//! transaction that stores the post. Which socket sent a message stays here.

pub mod backplane;
mod fanout;
mod presence;
mod registry;
pub mod relay;
mod sessions;
pub mod socket;

use std::{
    collections::HashMap,
    sync::{atomic::AtomicU64, Mutex, MutexGuard, OnceLock, RwLock},
};

use axum::extract::ws::Utf8Bytes;
use domain::{message::ClientId, wire::ServerFrame, UserId};
use service::hub::{Hub, Published};
use tokio::sync::mpsc;

pub use fanout::MembershipVersion;
pub use presence::PRESENCE_EVERY;
pub use registry::{SocketCaps, SocketHandle, SocketId};
pub use socket::{upgrade, LiveChannel};

/// A serialised `ServerFrame`.
pub type Frame = Utf8Bytes;

pub fn frame(f: &ServerFrame) -> Frame {
    // Serialising our own enum of strings and numbers cannot fail.
    Utf8Bytes::from(serde_json::to_string(f).unwrap_or_default())
}

/// A lock that a panic elsewhere did not leave unusable: what it guards stays consistent
/// (each change is one insert or removal).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct LiveHub {
    registry: RwLock<registry::Registry>,
    next_id: AtomicU64,
    queue: usize,
    caps: SocketCaps,
    /// Sends on their way to the database, by author and client id: the socket that sent
    /// each gets an `ack` when it is stored, not the `message` frame everyone else gets.
    awaiting_ack: Mutex<HashMap<(UserId, ClientId), SocketId>>,
    presence: presence::Presence,
    /// Where items for the other instances go, when a backplane runs.
    relay: OnceLock<mpsc::Sender<relay::Relayed>>,
    /// The session store's cache: ended sessions heard of here are forgotten in it.
    pub sessions: service::session_store::SessionCache,
}

impl LiveHub {
    pub fn new(queue: usize, caps: SocketCaps) -> Self {
        Self {
            registry: RwLock::default(),
            next_id: AtomicU64::new(1),
            queue: queue.max(1),
            caps,
            awaiting_ack: Mutex::default(),
            presence: presence::Presence::default(),
            relay: OnceLock::new(),
            sessions: service::session_store::SessionCache::default(),
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, registry::Registry> {
        self.registry.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, registry::Registry> {
        self.registry.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Delivers a published item to the sockets here.
    fn apply(&self, item: Published) {
        match item {
            Published::Messages { messages } => self.messages(messages),
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
            Published::SessionsEnded { user_id, which } => {
                self.sessions.forget(user_id.as_str(), &which);
                self.end_sessions(&user_id, &which);
            }
            Published::SessionRenewed { user_id, from, to } => {
                self.sessions.forget(
                    user_id.as_str(),
                    &service::hub::EndedSessions::One(from.clone()),
                );
                self.renew_session(&user_id, &from, to);
            }
            Published::MessageUpdated { message } => {
                let id = message.room_id.clone();
                let frame = frame(&ServerFrame::MessageUpdated { message: *message });
                self.to_room(&id, &frame, None);
            }
            Published::Read {
                user_id,
                room_id,
                message_id,
            } => self.to_user(
                &user_id,
                &frame(&ServerFrame::Read {
                    room_id,
                    message_id,
                }),
            ),
            Published::RoomUpdated { room } => {
                let id = room.id.clone();
                self.to_room(&id, &frame(&ServerFrame::RoomUpdated { room }), None);
            }
            Published::Reports {
                user_id,
                room_id,
                open,
            } => self.to_user(&user_id, &frame(&ServerFrame::Reports { room_id, open })),
        }
    }
}

impl Hub for LiveHub {
    /// Delivers `item` to the sockets here, and relays it to the other instances.
    fn publish(&self, item: Published) {
        if self.relay.get().is_some() {
            self.relay(|| relay::Relayed::Published { item: item.clone() });
        }
        self.apply(item);
    }
}

#[cfg(test)]
mod tests;
