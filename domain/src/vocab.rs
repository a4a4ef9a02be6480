//! The words the whole product shares, from the database to the browser: room statuses,
//! join policies, roles, membership statuses, why people left, and the kinds of messages,
//! notifications, log entries and `member` frames. Each is stored and sent as its snake_case
//! name, and both the server and the client match on them exhaustively. `Micros` is the
//! domain's clock.

use serde::{Deserialize, Serialize};

use crate::ApiError;

/// Microseconds since the Unix epoch: the domain's clock, as plain numbers.
pub type Micros = i64;

stored_word! {
    #[derive(Default)]
    pub enum JoinPolicy {
        /// Listed; anyone not banned joins at once.
        Open,
        /// Listed; people ask and an admin approves or denies.
        #[default]
        Request,
        /// Private: never listed; joining needs an invite.
        Invite,
    }
}

impl JoinPolicy {
    pub const ALL: [Self; 3] = [Self::Open, Self::Request, Self::Invite];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Request => "request",
            Self::Invite => "invite",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        match raw {
            "open" => Ok(Self::Open),
            "request" => Ok(Self::Request),
            "invite" => Ok(Self::Invite),
            other => Err(ApiError::invalid_field(
                "join_policy",
                format!("A join policy is \"open\", \"request\" or \"invite\", not \"{other}\"."),
            )),
        }
    }

    pub fn is_listed(self) -> bool {
        !matches!(self, Self::Invite)
    }
}

stored_word! {
    #[derive(PartialOrd, Ord)]
    pub enum Role {
        Member,
        Admin,
        Owner,
    }
}

impl Role {
    /// Owners and admins are "admins" in the rules.
    pub fn is_admin(self) -> bool {
        matches!(self, Self::Admin | Self::Owner)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }
}

stored_word! {
    pub enum RoomStatus {
        Active,
        Terminated,
    }
}

stored_word! {
    /// Where one person stands with one room, as stored: a member, or how they stopped being one.
    pub enum MembershipStatus {
        Active,
        Left,
        Kicked,
        Banned,
        /// Removed because the room terminated around them.
        Terminated,
    }
}

impl From<LeaveReason> for MembershipStatus {
    fn from(reason: LeaveReason) -> Self {
        match reason {
            LeaveReason::Left => Self::Left,
            LeaveReason::Kicked => Self::Kicked,
            LeaveReason::Banned => Self::Banned,
            LeaveReason::Terminated => Self::Terminated,
        }
    }
}

impl MembershipStatus {
    /// How a past membership ended; `None` for a current one.
    pub fn leave_reason(self) -> Option<LeaveReason> {
        match self {
            Self::Active => None,
            Self::Left => Some(LeaveReason::Left),
            Self::Kicked => Some(LeaveReason::Kicked),
            Self::Banned => Some(LeaveReason::Banned),
            Self::Terminated => Some(LeaveReason::Terminated),
        }
    }
}

/// How a member came to leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    Left,
    Kicked,
    Banned,
    /// Removed because the room terminated around them.
    Terminated,
}

impl LeaveReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Left => "left",
            Self::Kicked => "kicked",
            Self::Banned => "banned",
            Self::Terminated => "terminated",
        }
    }
}

stored_word! {
    pub enum NotificationKind {
        Invited,
        RequestApproved,
        RequestDenied,
        Kicked,
        Banned,
        Unbanned,
        Promoted,
        Demoted,
        /// Made admin because no admin was left.
        Succession,
        OwnershipReceived,
        RoomTerminated,
        /// To every admin: someone asks to join.
        JoinRequest,
        /// A message mentions you (`message_id` says which).
        Mention,
        /// An admin timed you out in a room (`reason`, if they gave one).
        Muted,
        /// An admin lifted your timeout early.
        Unmuted,
        /// Your timeout ended by itself.
        MuteEnded,
        /// Your timed ban ended: you may ask to join again.
        BanEnded,
        /// To the admins who see it: a member reported a message (`message_id`; the reason in
        /// `reason`). It never names the reporter.
        Report,
    }
}

stored_word! {
    /// The kinds of the moderation log (docs/RULES.md §5).
    pub enum LogKind {
        Created,
        Joined,
        Left,
        Requested,
        Approved,
        Denied,
        Invited,
        InviteAccepted,
        InviteDeclined,
        Kicked,
        Banned,
        Unbanned,
        Promoted,
        Demoted,
        AdminSuccession,
        OwnershipTransfer,
        SettingsUpdated,
        /// An admin deleted someone else's message (the reason, if any, is kept).
        MessageDeleted,
        Terminated,
        /// A timeout: the reason is kept, and the end time in `until`.
        Muted,
        Unmuted,
        /// A timeout that ran out.
        MuteEnded,
        /// A timed ban that ran out.
        BanEnded,
        /// An admin dismissed a report (`report_id`) on the target's message.
        ReportDismissed,
        /// Ban and purge: the target's recent messages in the room were deleted (the ban's
        /// reason is kept).
        MessagesPurged,
    }
}

/// What a `member` frame says happened to someone in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberEvent {
    Joined,
    Left,
    Kicked,
    Banned,
    Promoted,
    Demoted,
    /// Made admin because no admin was left.
    Succession,
    /// Became the owner.
    Owner,
    /// Timed out until the frame's `until`.
    Muted,
    /// The timeout is over (lifted or ended).
    Unmuted,
}

stored_word! {
    pub enum MessageKind {
        Text,
        Sticker,
        File,
        /// A line the room itself writes: joins, departures, succession, termination.
        System,
    }
}
