//! Who may see a room, and who may read and post in it (docs/RULES.md §2 and §6): one pure
//! rule over what is stored about one person and one room, used wherever the server checks
//! membership. The refusal sentences of the room rules live here too, so every path that
//! refuses for the same reason says the same thing.

use crate::{
    vocab::{JoinPolicy, MembershipStatus, RoomStatus},
    ApiError, ErrorCode,
};

/// What is stored about one person and one room: all a visibility or membership check needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub status: RoomStatus,
    pub policy: JoinPolicy,
    /// Their membership row: current, or how it ended; `None` if they never were a member
    /// (or housekeeping has forgotten it).
    pub membership: Option<MembershipStatus>,
    pub banned: bool,
    /// They hold an invite that has not expired.
    pub invited: bool,
}

impl Standing {
    pub fn is_member(&self) -> bool {
        self.membership == Some(MembershipStatus::Active) && self.status == RoomStatus::Active
    }

    /// Whether the room exists for them at all. A ban hides a room everywhere; a private
    /// room is seen only by its members and invitees. A terminated room says so to whoever
    /// could see it while it was active (anyone, for a listed room; its past members, for a
    /// private one) and stays hidden from everyone else, the banned included.
    pub fn may_see(&self) -> Result<(), ApiError> {
        if self.banned {
            return Err(room_not_found());
        }
        match self.status {
            RoomStatus::Terminated if self.policy.is_listed() || self.membership.is_some() => {
                Err(room_terminated())
            }
            RoomStatus::Terminated => Err(room_not_found()),
            RoomStatus::Active
                if self.policy.is_listed()
                    || self.membership == Some(MembershipStatus::Active)
                    || self.invited =>
            {
                Ok(())
            }
            RoomStatus::Active => Err(room_not_found()),
        }
    }

    /// Whether they may read and post: its messages, members and files are for current
    /// members of an active room only.
    pub fn may_post(&self) -> Result<(), ApiError> {
        self.may_see()?;
        if self.is_member() {
            Ok(())
        } else {
            Err(not_member())
        }
    }
}

pub fn room_not_found() -> ApiError {
    ApiError::new(
        ErrorCode::RoomNotFound,
        "There is no such room. Check the id, or ask an admin of the room for an invite.",
    )
}

pub fn room_terminated() -> ApiError {
    ApiError::new(
        ErrorCode::RoomTerminated,
        "This room has been terminated. Nothing more can happen in it.",
    )
}

pub fn not_member() -> ApiError {
    ApiError::new(
        ErrorCode::NotMember,
        "You are not a member of this room. Join it first.",
    )
}

pub fn target_not_member() -> ApiError {
    ApiError::new(
        ErrorCode::NotMember,
        "That person is not a member of this room.",
    )
}

pub fn not_invited() -> ApiError {
    ApiError::new(
        ErrorCode::NotInvited,
        "You have no valid invite to this room. Invites expire after 7 days; ask an admin for a new one.",
    )
}

pub fn room_full() -> ApiError {
    ApiError::new(
        ErrorCode::RoomFull,
        "This room is full. Try again when someone leaves.",
    )
}

pub fn banned() -> ApiError {
    ApiError::new(ErrorCode::Banned, "You are banned from this room.")
}

pub fn admins_only() -> ApiError {
    ApiError::new(ErrorCode::Forbidden, "Only the room's admins can do that.")
}

pub fn owner_only() -> ApiError {
    ApiError::new(ErrorCode::Forbidden, "Only the room's owner can do that.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use JoinPolicy::{Invite, Open, Request};
    use MembershipStatus::{Active, Kicked, Left};

    fn standing(status: RoomStatus, policy: JoinPolicy) -> Standing {
        Standing {
            status,
            policy,
            membership: None,
            banned: false,
            invited: false,
        }
    }

    fn code(r: Result<(), ApiError>) -> Option<ErrorCode> {
        r.err().map(|e| e.code)
    }

    #[test]
    fn listed_rooms_are_seen_by_anyone_but_read_by_members_only() {
        for policy in [Open, Request] {
            let s = standing(RoomStatus::Active, policy);
            assert_eq!(code(s.may_see()), None);
            assert_eq!(code(s.may_post()), Some(ErrorCode::NotMember));
            let member = Standing {
                membership: Some(Active),
                ..s
            };
            assert_eq!(code(member.may_post()), None);
            let kicked = Standing {
                membership: Some(Kicked),
                ..s
            };
            assert_eq!(code(kicked.may_post()), Some(ErrorCode::NotMember));
        }
    }

    #[test]
    fn a_private_room_exists_only_for_its_members_and_invitees() {
        let s = standing(RoomStatus::Active, Invite);
        assert_eq!(code(s.may_see()), Some(ErrorCode::RoomNotFound));
        let past = Standing {
            membership: Some(Left),
            ..s
        };
        assert_eq!(code(past.may_see()), Some(ErrorCode::RoomNotFound));
        let invited = Standing { invited: true, ..s };
        assert_eq!(code(invited.may_see()), None);
        assert_eq!(code(invited.may_post()), Some(ErrorCode::NotMember));
        let member = Standing {
            membership: Some(Active),
            ..s
        };
        assert_eq!(code(member.may_post()), None);
    }

    #[test]
    fn a_ban_hides_the_room_even_from_a_member_row_or_an_invite() {
        for policy in JoinPolicy::ALL {
            for status in [RoomStatus::Active, RoomStatus::Terminated] {
                let s = Standing {
                    banned: true,
                    invited: true,
                    membership: Some(Active),
                    ..standing(status, policy)
                };
                assert_eq!(code(s.may_see()), Some(ErrorCode::RoomNotFound));
                assert_eq!(code(s.may_post()), Some(ErrorCode::RoomNotFound));
            }
        }
    }

    #[test]
    fn a_terminated_room_says_so_only_to_those_who_could_see_it() {
        let listed = standing(RoomStatus::Terminated, Request);
        assert_eq!(code(listed.may_see()), Some(ErrorCode::RoomTerminated));
        assert_eq!(code(listed.may_post()), Some(ErrorCode::RoomTerminated));
        let private = standing(RoomStatus::Terminated, Invite);
        assert_eq!(code(private.may_see()), Some(ErrorCode::RoomNotFound));
        let past_member = Standing {
            membership: Some(MembershipStatus::Terminated),
            ..private
        };
        assert_eq!(code(past_member.may_see()), Some(ErrorCode::RoomTerminated));
    }
}
