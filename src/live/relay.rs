//! What crosses to the other instances ([`super::backplane`] carries it over Redis): what
//! the services publish, and what only the live channel knows (typing, who is online here).

use std::time::Duration;

use domain::{wire::ServerFrame, RoomId, User};
use serde::{Deserialize, Serialize};
use service::hub::Published;
use tokio::sync::mpsc;

use super::{frame, LiveHub};

/// How often an instance says it is still there.
pub const HELLO_EVERY: Duration = Duration::from_secs(5);

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
    /// "Still here", every [`HELLO_EVERY`]: an instance silent for a while is gone, and so
    /// is its presence.
    Hello,
}

impl LiveHub {
    /// From now on, what is published here also goes to `relay`, for the other instances.
    pub fn relay_to(&self, relay: mpsc::Sender<Relayed>) {
        if self.relay.set(relay).is_err() {
            tracing::warn!("the hub already relays to a backplane");
        }
    }

    /// Hands an item to the backplane, if one runs. Never waits: when its queue is full
    /// (Redis is slow or gone) the item is dropped and counted; clients catch up on the
    /// resync that follows an outage.
    pub(super) fn relay(&self, item: impl FnOnce() -> Relayed) {
        if let Some(relay) = self.relay.get() {
            if relay.try_send(item()).is_err() {
                metrics::counter!("parlor_backplane_dropped_total").increment(1);
            }
        }
    }

    /// An item from another instance, `from`: delivered to the sockets here, never relayed.
    /// Socket ids there mean nothing here; a message is kept from a socket here only when
    /// that socket itself waits for its `ack`.
    pub fn receive(&self, from: &str, item: Relayed) {
        if self.heard_from(from) {
            // It has not heard who is online here: say it at the next flush.
            tracing::info!(instance = from, "another instance is on the backplane");
            self.republish_presence();
        }
        match item {
            Relayed::Published { item } => self.apply(item),
            Relayed::Typing { room_id, user } => {
                let f = frame(&ServerFrame::Typing {
                    room_id: room_id.clone(),
                    user,
                });
                self.to_room(&room_id, &f, None);
            }
            Relayed::Presence { room_id, online } => self.online_elsewhere(from, room_id, online),
            Relayed::Hello => {}
        }
    }
}
