//! Where committed changes are announced. Services publish here after their transaction
//! commits; the live channel (the server's hub) turns them into frames for sockets. A trait,
//! so a Redis backplane can carry the same items between instances.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use domain::{
    message::{ClientId, MessageView},
    room::Event,
    views::{NotificationView, RoomView},
    RoomId, User, UserId,
};

/// Serialisable: with a Redis backplane (README, "Running several instances") each item
/// also goes to the other instances.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Published {
    /// A notification for one user, already stored.
    Notification {
        user_id: UserId,
        notification: NotificationView,
    },
    /// The events of one committed room decision, with the users they name.
    Room {
        room_id: RoomId,
        events: Vec<Event>,
        users: HashMap<UserId, User>,
    },
    /// Stored messages (system lines too), in the order stored, each for everyone in its
    /// room. One commit's messages go together, so a socket is handed all of its frames at
    /// once and writes them in one go.
    Messages { messages: Vec<Posted> },
    /// A stored message changed (edited, deleted): everyone in its room sees it as it is.
    MessageUpdated { message: Box<MessageView> },
    /// A member's read position in a room moved: their own sockets are told.
    Read {
        user_id: UserId,
        room_id: RoomId,
        message_id: domain::MessageId,
    },
    /// A room's settings changed: its members see the new topic, policy and limit.
    RoomUpdated { room: RoomView },
    /// A report was filed or resolved: one admin's count of the room's open reports.
    Reports {
        user_id: UserId,
        room_id: RoomId,
        open: u32,
    },
    /// Sessions of one user ended (logout, password change, account deletion): the live
    /// channels they opened close.
    SessionsEnded {
        user_id: UserId,
        which: EndedSessions,
    },
    /// A session stays signed in under a fresh id (a password change renews it): the live
    /// channels it opened follow it, so its expiry is looked up under the new id.
    SessionRenewed {
        user_id: UserId,
        from: String,
        to: String,
    },
}

/// A stored message, with the client id its sender gave it (not for system lines and
/// uploads): the live channel answers the socket that sent it with an `ack` instead.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Posted {
    pub message: MessageView,
    pub client_id: Option<ClientId>,
}

/// Which of a user's sessions ended, by session id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "which", content = "session", rename_all = "snake_case")]
pub enum EndedSessions {
    /// This one (a logout).
    One(String),
    /// Every one but this, which stays signed in (a password change).
    AllBut(String),
    /// Every one ("log out everywhere").
    All,
    /// Every one, because the account was deleted (the sockets say so as they close).
    AccountDeleted,
}

impl EndedSessions {
    /// Whether a socket opened by `session_id` belongs to an ended session.
    pub fn includes(&self, session_id: Option<&str>) -> bool {
        match self {
            Self::One(ended) => session_id == Some(ended.as_str()),
            Self::AllBut(kept) => session_id != Some(kept.as_str()),
            Self::All | Self::AccountDeleted => true,
        }
    }
}

pub trait Hub: Send + Sync + 'static {
    fn publish(&self, item: Published);
}

/// A hub that keeps what is published, in order: for tests of the services and for tools.
#[derive(Default, Clone)]
pub struct RecordingHub {
    items: std::sync::Arc<std::sync::Mutex<Vec<Published>>>,
}

impl RecordingHub {
    pub fn take(&self) -> Vec<Published> {
        self.items
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

impl Hub for RecordingHub {
    fn publish(&self, item: Published) {
        if let Ok(mut items) = self.items.lock() {
            items.push(item);
        }
    }
}
