//! What may be done to a message once it is sent (docs/RULES.md §6, "After sending"): edit,
//! delete, react and reading earlier versions. Pure: the service loads the message and the two
//! people's standing in its room, and stores whatever [`decide`] allows, in one transaction.

use crate::{
    message::MessageKind,
    room::{rank_rule, Role},
    ApiError, ErrorCode, UserId,
};

/// What someone wants to do to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Edit,
    Delete,
    /// Read the message's earlier versions.
    Versions,
    /// Set or take back an emoji on it.
    React,
}

/// The message as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'a> {
    /// `None` for system lines.
    pub author: Option<&'a UserId>,
    pub kind: MessageKind,
    pub deleted: bool,
    /// The author's role in the room now; `None` when they are no longer a member.
    pub author_role: Option<Role>,
}

/// Who may do it, and how it is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// The author, on their own message.
    ByAuthor,
    /// A room admin, on someone else's message: a delete goes to the moderation log.
    ByAdmin,
    /// Any member, on someone else's message (a reaction).
    ByMember,
}

/// The same answer as for a message that does not exist: someone who cannot see the room
/// learns nothing about what is in it.
pub fn not_found() -> ApiError {
    ApiError::new(ErrorCode::MessageNotFound, "There is no such message.")
}

pub fn deleted() -> ApiError {
    ApiError::new(ErrorCode::MessageDeleted, "That message was deleted.")
}

/// Decides whether `actor`, whose role in the message's room is `actor_role` (`None`: not
/// an active member), may make `change` to `target`.
pub fn decide(
    actor: &UserId,
    actor_role: Option<Role>,
    target: &Target<'_>,
    change: Change,
) -> Result<Allowed, ApiError> {
    // Only members see a room's messages: anyone else, a kicked or banned author included,
    // gets the answer a missing message gets.
    let Some(role) = actor_role else {
        return Err(not_found());
    };
    if target.deleted {
        return Err(deleted());
    }
    let own = target.author == Some(actor);
    match change {
        // Any member reacts to any message but a system line.
        Change::React if target.author.is_none() => Err(ApiError::new(
            ErrorCode::Forbidden,
            "A room's system lines take no reactions.",
        )),
        Change::React if own => Ok(Allowed::ByAuthor),
        Change::React => Ok(Allowed::ByMember),
        Change::Edit if !own => Err(ApiError::new(
            ErrorCode::Forbidden,
            "Only its author can edit a message.",
        )),
        Change::Edit if target.kind != MessageKind::Text => Err(ApiError::invalid_field(
            "message_id",
            "Only text messages can be edited; delete a sticker or a file instead.",
        )),
        Change::Edit => Ok(Allowed::ByAuthor),
        Change::Delete | Change::Versions if own => Ok(Allowed::ByAuthor),
        _ if target.author.is_none() => Err(ApiError::new(
            ErrorCode::Forbidden,
            "A room's system lines cannot be changed.",
        )),
        Change::Versions if role.is_admin() => Ok(Allowed::ByAdmin),
        Change::Versions => Err(ApiError::new(
            ErrorCode::Forbidden,
            "Only the author and the room's admins can read earlier versions.",
        )),
        // The rank rule of kick and ban: admins delete members' messages, only the owner
        // an admin's, nobody the owner's. A former member's messages rank as a member's.
        Change::Delete => rank_rule(Some(role), target.author_role, false, "delete a message of")
            .map(|()| Allowed::ByAdmin),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(author: Option<&UserId>, author_role: Option<Role>) -> Target<'_> {
        Target {
            author,
            kind: MessageKind::Text,
            deleted: false,
            author_role,
        }
    }

    #[test]
    fn only_the_author_edits_and_only_text() {
        let (ann, bob) = (UserId::from("ann"), UserId::from("bob"));
        let mine = target(Some(&ann), Some(Role::Member));
        assert_eq!(
            decide(&ann, Some(Role::Member), &mine, Change::Edit),
            Ok(Allowed::ByAuthor)
        );
        for role in [Role::Member, Role::Admin, Role::Owner] {
            let e = decide(&bob, Some(role), &mine, Change::Edit).unwrap_err();
            assert_eq!(e.code, ErrorCode::Forbidden, "{role:?}");
        }
        let sticker = Target {
            kind: MessageKind::Sticker,
            ..mine.clone()
        };
        let e = decide(&ann, Some(Role::Member), &sticker, Change::Edit).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
    }

    #[test]
    fn non_members_get_not_found_and_tombstones_stay_tombstones() {
        let ann = UserId::from("ann");
        let mine = target(Some(&ann), None);
        for change in [
            Change::Edit,
            Change::Delete,
            Change::Versions,
            Change::React,
        ] {
            // Kicked or banned: the author too.
            assert_eq!(
                decide(&ann, None, &mine, change).unwrap_err().code,
                ErrorCode::MessageNotFound
            );
            let gone = Target {
                deleted: true,
                ..mine.clone()
            };
            assert_eq!(
                decide(&ann, Some(Role::Owner), &gone, change)
                    .unwrap_err()
                    .code,
                ErrorCode::MessageDeleted
            );
        }
    }

    #[test]
    fn admins_delete_by_rank_and_read_versions() {
        let (ann, bob, own) = (
            UserId::from("ann"),
            UserId::from("bob"),
            UserId::from("own"),
        );
        let members = target(Some(&bob), Some(Role::Member));
        let admins = target(Some(&bob), Some(Role::Admin));
        let owners = target(Some(&own), Some(Role::Owner));
        let former = target(Some(&bob), None);
        let del = |role, t: &Target<'_>| decide(&ann, Some(role), t, Change::Delete);
        assert_eq!(del(Role::Admin, &members), Ok(Allowed::ByAdmin));
        assert_eq!(del(Role::Admin, &former), Ok(Allowed::ByAdmin));
        assert_eq!(del(Role::Owner, &admins), Ok(Allowed::ByAdmin));
        assert_eq!(
            del(Role::Admin, &admins).unwrap_err().code,
            ErrorCode::Forbidden
        );
        assert_eq!(
            del(Role::Admin, &owners).unwrap_err().code,
            ErrorCode::Forbidden
        );
        assert_eq!(
            del(Role::Member, &members).unwrap_err().code,
            ErrorCode::Forbidden
        );
        // Their own, whatever their role.
        let mine = target(Some(&ann), Some(Role::Member));
        assert_eq!(del(Role::Member, &mine), Ok(Allowed::ByAuthor));
        // System lines are nobody's to delete.
        let system = target(None, None);
        assert_eq!(
            del(Role::Owner, &system).unwrap_err().code,
            ErrorCode::Forbidden
        );
        // Reactions: any member, on anything but a system line.
        let r = |role, t: &Target<'_>| decide(&ann, Some(role), t, Change::React);
        assert_eq!(r(Role::Member, &owners), Ok(Allowed::ByMember));
        assert_eq!(r(Role::Member, &mine), Ok(Allowed::ByAuthor));
        assert_eq!(
            r(Role::Owner, &system).unwrap_err().code,
            ErrorCode::Forbidden
        );
        // Versions: the author and admins.
        let v = |role, t: &Target<'_>| decide(&ann, Some(role), t, Change::Versions);
        assert_eq!(v(Role::Member, &mine), Ok(Allowed::ByAuthor));
        assert_eq!(v(Role::Admin, &owners), Ok(Allowed::ByAdmin));
        assert_eq!(
            v(Role::Member, &members).unwrap_err().code,
            ErrorCode::Forbidden
        );
    }
}
