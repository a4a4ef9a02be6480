//! The live channel's frames (docs/API.md, "Live channel"): one type per direction, tagged
//! by `type`, snake_case, the same on server and browser.

use serde::{Deserialize, Serialize};

use crate::{
    effects::MemberEvent,
    message::{ClientId, MessageView, Outgoing},
    room::Role,
    views::{NotificationView, RoomView},
    ErrorCode, MessageId, RoomId, User,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// A text message (`body`) or a sticker (`sticker`), with the client's own id so a retry
    /// never posts twice.
    Send(Outgoing),
    Typing {
        room_id: RoomId,
    },
    Ping,
    /// Replace the text of one's own message (docs/RULES.md §6, "After sending").
    Edit {
        message_id: MessageId,
        body: String,
    },
    /// Delete one's own message, or, as a room admin, someone else's with a reason.
    Delete {
        message_id: MessageId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Set (`on`) or take back an emoji on a message.
    React {
        message_id: MessageId,
        emoji: String,
        on: bool,
    },
    /// I have read a room up to `message_id` (docs/RULES.md §6, "Unread").
    Read {
        room_id: RoomId,
        message_id: MessageId,
    },
}

impl ClientFrame {
    /// What a frame needs of an access token's scope (docs/RULES.md §1): a ping reads;
    /// everything else acts in a room, typing included, since others see it.
    pub fn reach(&self) -> crate::token::Reach {
        use crate::token::Reach;
        match self {
            Self::Ping => Reach::Read,
            Self::Send(_)
            | Self::Typing { .. }
            | Self::Edit { .. }
            | Self::Delete { .. }
            | Self::React { .. }
            | Self::Read { .. } => Reach::Write,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Ack {
        client_id: ClientId,
        message: MessageView,
    },
    Message {
        message: MessageView,
    },
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<ClientId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    Member {
        room_id: RoomId,
        event: MemberEvent,
        user: User,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
        /// `muted`: when the timeout ends (RFC 3339).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<String>,
    },
    RoomTerminated {
        room_id: RoomId,
    },
    Notification {
        notification: NotificationView,
    },
    Typing {
        room_id: RoomId,
        user: User,
    },
    /// Who has a socket open in the room: the first 100 by name, and how many in all.
    Presence {
        room_id: RoomId,
        online: Vec<User>,
        online_count: usize,
    },
    Pong,
    /// A room's settings changed (topic, join policy, member limit): the room as it is now.
    RoomUpdated {
        room: RoomView,
    },
    /// Sent once when a socket opens, after it carries every room listed: from here on
    /// nothing is missed, so a client fetches `messages/since` for each room it shows.
    Ready {
        rooms: Vec<RoomId>,
    },
    /// A message changed (edited or deleted): the message as it is now, for everyone in
    /// its room. A client replaces the one it shows with the same id.
    MessageUpdated {
        message: MessageView,
    },
    /// My read position in a room moved (on this socket or another of mine): the room is
    /// read up to `message_id`.
    Read {
        room_id: RoomId,
        message_id: MessageId,
    },
    /// A report in a room was filed or resolved: how many of its open reports I see now
    /// (the admins' badge; docs/RULES.md §5, "Reports").
    Reports {
        room_id: RoomId,
        open: u32,
    },
}

impl ServerFrame {
    pub fn error(err: crate::ApiError, client_id: Option<ClientId>) -> Self {
        Self::Error {
            code: err.code,
            message: err.message,
            client_id,
            retry_after_ms: err.retry_after_ms,
        }
    }
}

/// Why the server closed a live socket. Each reason has its own code in the application
/// range (4000–4999), so a client tells them apart by the code, never by the reason's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// The server is shutting down: reconnect (to another instance, or when it is back).
    GoingAway,
    /// The session that opened the socket ended (logout, expiry, a new password elsewhere).
    SignedOut,
    /// The account was deleted.
    AccountDeleted,
    /// The account already has as many sockets open as it may (one per tab): nothing to
    /// retry until another tab closes.
    TooManyForUser,
    /// The client's address already has as many sockets open as it may.
    TooManyForAddress,
    /// The socket fell behind, or missed what other instances said: reconnect and catch up.
    Resync,
    /// The client did not answer pings.
    NoPong,
    /// The server could not load the socket's rooms: try again shortly.
    TryLater,
}

impl Close {
    pub const ALL: [Self; 8] = [
        Self::GoingAway,
        Self::SignedOut,
        Self::AccountDeleted,
        Self::TooManyForUser,
        Self::TooManyForAddress,
        Self::Resync,
        Self::NoPong,
        Self::TryLater,
    ];

    /// The close frame's code.
    pub fn code(self) -> u16 {
        match self {
            Self::GoingAway => 4000,
            Self::SignedOut => 4001,
            Self::AccountDeleted => 4002,
            Self::TooManyForUser => 4003,
            Self::TooManyForAddress => 4004,
            Self::Resync => 4005,
            Self::NoPong => 4006,
            Self::TryLater => 4007,
        }
    }

    /// The close frame's reason, for people reading logs (at most 123 bytes).
    pub fn reason(self) -> &'static str {
        match self {
            Self::GoingAway => "going away",
            Self::SignedOut => "signed out",
            Self::AccountDeleted => "account deleted",
            Self::TooManyForUser => "too many live connections for this account; close another tab",
            Self::TooManyForAddress => "too many live connections from this address",
            Self::Resync => "reconnect and resync",
            Self::NoPong => "no answer to pings",
            Self::TryLater => "try again later",
        }
    }

    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Whether a client should open a new socket after this close: always, with backoff,
    /// but when the session is gone (a full set of tabs may free a place).
    pub fn reconnects(self) -> bool {
        !matches!(self, Self::SignedOut | Self::AccountDeleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_read_the_api_shapes() {
        let f: ClientFrame = serde_json::from_str(
            r#"{"type":"send","room_id":"r","client_id":"c1","body":"hi","color":"teal"}"#,
        )
        .unwrap();
        let ClientFrame::Send(send) = &f else {
            panic!("{f:?}")
        };
        assert_eq!(send.room_id.as_str(), "r");
        assert_eq!(send.client_id.as_str(), "c1");
        assert_eq!(send.content.body(), "hi");
        assert_eq!(send.color, Some(crate::message::Color::Teal));
        let f: ClientFrame = serde_json::from_str(
            r#"{"type":"send","room_id":"r","client_id":"c2","sticker":"shrug"}"#,
        )
        .unwrap();
        assert!(matches!(
            f,
            ClientFrame::Send(Outgoing {
                content: crate::message::Content::Sticker(_),
                ..
            })
        ));
        assert_eq!(
            serde_json::from_str::<ClientFrame>(r#"{"type":"ping"}"#).unwrap(),
            ClientFrame::Ping
        );
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"dance"}"#).is_err());
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"send","room_id":"r"}"#).is_err());
        // An invalid send is not a frame at all.
        assert!(serde_json::from_str::<ClientFrame>(
            r#"{"type":"send","room_id":"r","client_id":"c","body":""}"#
        )
        .is_err());
        let again = serde_json::to_string(&f).unwrap();
        assert_eq!(serde_json::from_str::<ClientFrame>(&again).unwrap(), f);
    }

    #[test]
    fn server_frames_write_the_api_shapes() {
        let json = serde_json::to_value(ServerFrame::RoomTerminated {
            room_id: "r".into(),
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "room_terminated", "room_id": "r"})
        );
        let err = ServerFrame::error(
            crate::ApiError::rate_limited(800),
            Some(ClientId::parse("c").unwrap()),
        );
        let json = serde_json::to_value(err).unwrap();
        assert_eq!(json["type"], "error");
        assert_eq!(json["code"], "rate_limited");
        assert_eq!(json["retry_after_ms"], 800);
        assert_eq!(json["client_id"], "c");
        assert_eq!(
            serde_json::to_string(&ServerFrame::Pong).unwrap(),
            r#"{"type":"pong"}"#
        );
        let json = serde_json::to_value(ServerFrame::Reports {
            room_id: "r".into(),
            open: 2,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "reports", "room_id": "r", "open": 2})
        );
    }

    #[test]
    fn close_codes_are_distinct_and_in_the_application_range() {
        let codes: std::collections::HashSet<u16> = Close::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes.len(), Close::ALL.len());
        for close in Close::ALL {
            assert!((4000..5000).contains(&close.code()), "{close:?}");
            assert_eq!(Close::from_code(close.code()), Some(close));
            assert!(close.reason().len() <= 123, "{close:?}");
        }
        assert_eq!(Close::from_code(1000), None);
        // Only an ended session or a deleted account stops retrying.
        assert!(!Close::SignedOut.reconnects() && !Close::AccountDeleted.reconnects());
        assert!(Close::Resync.reconnects() && Close::TooManyForUser.reconnects());
    }
}
