//! Where committed changes are announced. Services publish here after their transaction
//! commits; the live channel subscribes. A trait, so a Redis backplane can feed it later.

use std::sync::Arc;

use domain::{room::Event, views::NotificationView};
use tokio::sync::broadcast;

#[derive(Debug, Clone)]
pub enum Published {
    /// A notification for one user, already stored.
    Notification {
        user_id: String,
        notification: NotificationView,
    },
    /// The events of one committed room decision.
    Room { room_id: String, events: Vec<Event> },
}

pub trait Hub: Send + Sync + 'static {
    fn publish(&self, item: Published);
}

/// The in-process hub: a broadcast channel. Slow subscribers lose the oldest items and learn
/// it from `RecvError::Lagged`; publishing never waits.
#[derive(Clone)]
pub struct LocalHub {
    tx: broadcast::Sender<Arc<Published>>,
}

impl Default for LocalHub {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(1024).0,
        }
    }
}

impl LocalHub {
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.tx.subscribe()
    }
}

impl Hub for LocalHub {
    fn publish(&self, item: Published) {
        // No subscriber is not an error: nobody is listening yet.
        let _ = self.tx.send(Arc::new(item));
    }
}
