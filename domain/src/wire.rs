//! The live channel's frames (docs/API.md, "Live channel"): one type per direction, tagged
//! by `type`, snake_case, the same on server and browser.

use serde::{Deserialize, Serialize};

use crate::{
    effects::MemberEvent,
    message::MessageView,
    room::Role,
    views::{NotificationView, RoomView},
    ErrorCode, RoomId, User,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// A text message (`body`) or a sticker (`sticker`), with the client's own id so a retry
    /// never posts twice.
    Send {
        room_id: RoomId,
        client_id: String,
        #[serde(default)]
        body: Option<String>,
        #[serde(default)]
        color: Option<String>,
        #[serde(default)]
        sticker: Option<String>,
    },
    Typing {
        room_id: RoomId,
    },
    Ping,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Ack {
        client_id: String,
        message: MessageView,
    },
    Message {
        message: MessageView,
    },
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    Member {
        room_id: RoomId,
        event: MemberEvent,
        user: User,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
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
}

impl ServerFrame {
    pub fn error(err: crate::ApiError, client_id: Option<String>) -> Self {
        Self::Error {
            code: err.code,
            message: err.message,
            client_id,
            retry_after_ms: err.retry_after_ms,
        }
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
        assert_eq!(
            f,
            ClientFrame::Send {
                room_id: "r".into(),
                client_id: "c1".into(),
                body: Some("hi".into()),
                color: Some("teal".into()),
                sticker: None
            }
        );
        let f: ClientFrame = serde_json::from_str(
            r#"{"type":"send","room_id":"r","client_id":"c2","sticker":"shrug"}"#,
        )
        .unwrap();
        assert!(matches!(
            f,
            ClientFrame::Send {
                sticker: Some(_),
                body: None,
                ..
            }
        ));
        assert_eq!(
            serde_json::from_str::<ClientFrame>(r#"{"type":"ping"}"#).unwrap(),
            ClientFrame::Ping
        );
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"dance"}"#).is_err());
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"send","room_id":"r"}"#).is_err());
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
        let err = ServerFrame::error(crate::ApiError::rate_limited(800), Some("c".into()));
        let json = serde_json::to_value(err).unwrap();
        assert_eq!(json["type"], "error");
        assert_eq!(json["code"], "rate_limited");
        assert_eq!(json["retry_after_ms"], 800);
        assert_eq!(json["client_id"], "c");
        assert_eq!(
            serde_json::to_string(&ServerFrame::Pong).unwrap(),
            r#"{"type":"pong"}"#
        );
    }
}
