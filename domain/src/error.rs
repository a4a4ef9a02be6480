//! The error contract of API.md: a stable snake_case `code` and a sentence for a person.

use serde::{Deserialize, Serialize};

/// Every refusal Parlor can answer with. The serialized names are part of the public API:
/// add variants freely, never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    InvalidInput,
    UsernameTaken,
    InvalidCredentials,
    SignupClosed,
    RoomNotFound,
    RoomNameTaken,
    RoomTerminated,
    RoomFull,
    NotMember,
    AlreadyMember,
    Banned,
    AlreadyBanned,
    UserNotFound,
    NotInvited,
    RequestPending,
    RateLimited,
    FileTooLarge,
    PayloadTooLarge,
    NotFound,
    /// Only ever made by a client that could not reach the server.
    ServerUnreachable,
    /// The server is starting, or cannot reach its database: try again shortly.
    Unavailable,
    /// The server's disk is (nearly) full: uploads are refused until space is freed.
    StorageFull,
    /// The request (an upload, most likely) arrived too slowly and was cut off.
    TooSlow,
    /// No such message, or one in a room you cannot see (the same answer for both).
    MessageNotFound,
    /// The message was deleted: a tombstone cannot be edited or reacted to.
    MessageDeleted,
    /// A search that cannot be run as typed; the message says what to fix.
    InvalidQuery,
    /// A room admin timed you out: you read the room but cannot post, edit, react or
    /// upload until `retry_after_ms` has passed.
    Muted,
    /// The room's slow mode: your next message may go in `retry_after_ms`.
    SlowMode,
    /// An announcement room: only its admins post.
    AnnouncementOnly,
    /// Your request to join was declined lately: ask again after `retry_after_ms`.
    RequestCooldown,
    /// You reported this message before: one report per person per message.
    AlreadyReported,
    /// The report was already resolved (dismissed or acted on).
    ReportResolved,
    /// An access token asked for more than its scope allows (docs/RULES.md §1).
    InsufficientScope,
    Internal,
}

impl ErrorCode {
    /// The HTTP status that carries this code (a plain number: the domain knows no HTTP crate).
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidInput | InvalidQuery => 400,
            Unauthenticated | InvalidCredentials => 401,
            Forbidden | SignupClosed | NotMember | Banned | NotInvited | Muted
            | AnnouncementOnly | InsufficientScope => 403,
            RoomNotFound | NotFound | UserNotFound | MessageNotFound => 404,
            UsernameTaken | RoomNameTaken | RoomFull | AlreadyMember | AlreadyBanned
            | RequestPending | AlreadyReported | ReportResolved => 409,
            RoomTerminated | MessageDeleted => 410,
            FileTooLarge | PayloadTooLarge => 413,
            RateLimited | SlowMode | RequestCooldown => 429,
            ServerUnreachable | Unavailable => 503,
            StorageFull => 507,
            TooSlow => 408,
            Internal => 500,
        }
    }

    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            Unauthenticated => "unauthenticated",
            Forbidden => "forbidden",
            InvalidInput => "invalid_input",
            UsernameTaken => "username_taken",
            InvalidCredentials => "invalid_credentials",
            SignupClosed => "signup_closed",
            RoomNotFound => "room_not_found",
            RoomNameTaken => "room_name_taken",
            RoomTerminated => "room_terminated",
            RoomFull => "room_full",
            NotMember => "not_member",
            AlreadyMember => "already_member",
            Banned => "banned",
            AlreadyBanned => "already_banned",
            UserNotFound => "user_not_found",
            NotInvited => "not_invited",
            RequestPending => "request_pending",
            RateLimited => "rate_limited",
            FileTooLarge => "file_too_large",
            PayloadTooLarge => "payload_too_large",
            NotFound => "not_found",
            ServerUnreachable => "server_unreachable",
            Unavailable => "unavailable",
            StorageFull => "storage_full",
            TooSlow => "too_slow",
            MessageNotFound => "message_not_found",
            MessageDeleted => "message_deleted",
            InvalidQuery => "invalid_query",
            Muted => "muted",
            SlowMode => "slow_mode",
            AnnouncementOnly => "announcement_only",
            RequestCooldown => "request_cooldown",
            AlreadyReported => "already_reported",
            ReportResolved => "report_resolved",
            InsufficientScope => "insufficient_scope",
            Internal => "internal",
        }
    }
}

/// The JSON error body: `{"code", "message"}`, plus `field` when one input is to blame and
/// `retry_after_ms` on `rate_limited`, `muted` and `slow_mode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// The form field the message belongs next to (`username`, `password`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            retry_after_ms: None,
        }
    }

    /// An `invalid_input` error that belongs next to one form field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message).for_field(field)
    }

    pub fn for_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    /// The same refusal in other words (its code, field and wait are kept).
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    pub fn rate_limited(retry_after_ms: u64) -> Self {
        let seconds = retry_after_ms.div_ceil(1000).max(1);
        let mut err = Self::new(
            ErrorCode::RateLimited,
            format!("Too many attempts. Wait {seconds} s and try again."),
        );
        err.retry_after_ms = Some(retry_after_ms);
        err
    }

    /// The same refusal with how long until it no longer applies.
    pub fn retry_after(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms.max(1));
        self
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorCode::Unauthenticated,
            "You are not signed in. Log in and try again.",
        )
    }

    pub fn invalid_credentials() -> Self {
        Self::new(
            ErrorCode::InvalidCredentials,
            "Invalid username or password.",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            ErrorCode::Unavailable,
            "Parlor is starting, or cannot reach its database. Try again in a moment.",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            ErrorCode::Internal,
            "Something went wrong on our side. Try again in a moment.",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_stable_names() {
        for code in [
            ErrorCode::Unauthenticated,
            ErrorCode::InvalidInput,
            ErrorCode::UsernameTaken,
            ErrorCode::RoomNotFound,
            ErrorCode::RateLimited,
            ErrorCode::FileTooLarge,
            ErrorCode::Muted,
            ErrorCode::SlowMode,
            ErrorCode::AnnouncementOnly,
            ErrorCode::RequestCooldown,
            ErrorCode::AlreadyReported,
            ErrorCode::ReportResolved,
            ErrorCode::InsufficientScope,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).unwrap();
            assert_eq!(back, code);
        }
    }

    #[test]
    fn error_body_has_code_and_message_and_omits_empty_extras() {
        let body = serde_json::to_value(ApiError::invalid_credentials()).unwrap();
        assert_eq!(body["code"], "invalid_credentials");
        assert_eq!(body["message"], "Invalid username or password.");
        assert!(body.get("field").is_none());
        assert!(body.get("retry_after_ms").is_none());
    }

    #[test]
    fn client_errors_are_4xx_and_only_internal_is_5xx() {
        assert_eq!(ErrorCode::InvalidInput.http_status(), 400);
        assert_eq!(ErrorCode::Unauthenticated.http_status(), 401);
        assert_eq!(ErrorCode::RateLimited.http_status(), 429);
        assert_eq!(ErrorCode::Internal.http_status(), 500);
    }

    #[test]
    fn rate_limited_rounds_the_wait_up_to_whole_seconds_in_the_sentence() {
        let err = ApiError::rate_limited(1500);
        assert_eq!(err.retry_after_ms, Some(1500));
        assert!(err.message.contains("2 s"), "{}", err.message);
    }
}
