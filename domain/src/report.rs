//! Reports (docs/RULES.md §5, "Reports"): a member flags someone else's message to the
//! room's admins, who delete it, mute, kick or ban its author, or dismiss the report. The
//! pure rules: what may be reported, who sees a report (and who filed it), what a
//! resolution is, and the reporter's rate. The service loads the facts and asks these in
//! the transaction that stores the report or its resolution.

use crate::{
    access,
    message::MessageKind,
    moderation::{parse_ban_minutes, parse_mute_minutes, wait_words},
    room::{Micros, Role},
    ApiError, ErrorCode, UserId,
};

stored_word! {
    /// Why a message is reported: a short list, and text for the rest.
    pub enum ReportReason {
        Spam,
        Harassment,
        Other,
    }
}

impl ReportReason {
    pub const ALL: [Self; 3] = [Self::Spam, Self::Harassment, Self::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spam => "spam",
            Self::Harassment => "harassment",
            Self::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == raw.trim())
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "reason",
                    "A report's reason is \"spam\", \"harassment\" or \"other\".",
                )
            })
    }
}

stored_word! {
    /// Where a report stands.
    pub enum ReportStatus {
        /// Waiting for an admin.
        Open,
        /// An admin looked and did nothing to the message or its author.
        Dismissed,
        /// An admin acted on it (`action` says how).
        Actioned,
    }
}

stored_word! {
    /// What an admin did with a report.
    pub enum ReportAction {
        Dismiss,
        Delete,
        Mute,
        Kick,
        Ban,
    }
}

impl ReportAction {
    pub const ALL: [Self; 5] = [
        Self::Dismiss,
        Self::Delete,
        Self::Mute,
        Self::Kick,
        Self::Ban,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dismiss => "dismiss",
            Self::Delete => "delete",
            Self::Mute => "mute",
            Self::Kick => "kick",
            Self::Ban => "ban",
        }
    }
}

/// One resolution of a report, checked: an action with the duration it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Dismiss,
    /// Delete the message (a tombstone, as an admin's delete).
    Delete,
    /// Time the author out for `minutes`.
    Mute {
        minutes: u32,
    },
    Kick,
    /// Ban the author; `None`: for good.
    Ban {
        minutes: Option<u32>,
    },
}

impl Resolution {
    /// `action` with its `minutes`: a timeout needs them, a ban may have them, nothing else
    /// takes them.
    pub fn parse(action: &str, minutes: Option<i64>) -> Result<Self, ApiError> {
        let action = ReportAction::ALL
            .into_iter()
            .find(|a| a.as_str() == action.trim())
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "action",
                    "A report is resolved by \"dismiss\", \"delete\", \"mute\", \"kick\" or \"ban\".",
                )
            })?;
        match (action, minutes) {
            (ReportAction::Mute, Some(m)) => Ok(Self::Mute {
                minutes: parse_mute_minutes(m)?,
            }),
            (ReportAction::Mute, None) => Err(ApiError::invalid_field(
                "minutes",
                "Say how long the timeout lasts.",
            )),
            (ReportAction::Ban, m) => Ok(Self::Ban {
                minutes: parse_ban_minutes(m)?,
            }),
            (_, Some(_)) => Err(ApiError::invalid_field(
                "minutes",
                "Only a timeout or a ban lasts for a time.",
            )),
            (ReportAction::Dismiss, None) => Ok(Self::Dismiss),
            (ReportAction::Delete, None) => Ok(Self::Delete),
            (ReportAction::Kick, None) => Ok(Self::Kick),
        }
    }

    pub fn action(self) -> ReportAction {
        match self {
            Self::Dismiss => ReportAction::Dismiss,
            Self::Delete => ReportAction::Delete,
            Self::Mute { .. } => ReportAction::Mute,
            Self::Kick => ReportAction::Kick,
            Self::Ban { .. } => ReportAction::Ban,
        }
    }

    /// The report's status once resolved this way.
    pub fn status(self) -> ReportStatus {
        match self {
            Self::Dismiss => ReportStatus::Dismissed,
            _ => ReportStatus::Actioned,
        }
    }
}

/// A report's own text: optional, trimmed (empty is none), at most 1,000 characters.
pub const TEXT_MAX: usize = 1000;

pub fn parse_text(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > TEXT_MAX {
        return Err(ApiError::invalid_field(
            "text",
            format!("A report's text is at most {TEXT_MAX} characters."),
        ));
    }
    crate::text::label("text", "A report's text", text)?;
    Ok(Some(text.to_owned()))
}

/// The reported message, as the filing rule needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reported<'a> {
    /// `None` for system lines.
    pub author: Option<&'a UserId>,
    pub kind: MessageKind,
    pub deleted: bool,
}

/// Whether `reporter` may report `message`: a member of its room (anyone else hears what a
/// missing message gets), on a message that is still there, someone else's and not a
/// system line.
pub fn may_report(
    reporter: &UserId,
    is_member: bool,
    message: &Reported<'_>,
) -> Result<(), ApiError> {
    if !is_member {
        return Err(crate::changes::not_found());
    }
    if message.deleted {
        return Err(crate::changes::deleted());
    }
    match message.author {
        None => Err(ApiError::new(
            ErrorCode::Forbidden,
            "A room's system lines cannot be reported.",
        )),
        _ if message.kind == MessageKind::System => Err(ApiError::new(
            ErrorCode::Forbidden,
            "A room's system lines cannot be reported.",
        )),
        Some(author) if author == reporter => Err(ApiError::new(
            ErrorCode::Forbidden,
            "You cannot report your own message. Delete it instead.",
        )),
        Some(_) => Ok(()),
    }
}

pub fn already_reported() -> ApiError {
    ApiError::new(
        ErrorCode::AlreadyReported,
        "You have already reported this message. The room's admins will look at it.",
    )
}

/// What one person may see of one report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sight {
    /// Nothing: not theirs to see.
    Hidden,
    /// The report, but not who filed it: the owner, on a report of their own message.
    Anonymous,
    /// The report and who filed it.
    Full,
}

impl Sight {
    pub fn sees(self) -> bool {
        self != Self::Hidden
    }
}

/// Who sees a report, judged by the roles as they are now: the room's admins and owner,
/// except that a report on an admin's or the owner's message goes to the owner alone. The
/// reported person never learns who filed it, so the owner sees a report of their own
/// message without its reporter.
pub fn sight(
    viewer: &UserId,
    viewer_role: Option<Role>,
    author: Option<&UserId>,
    author_role: Option<Role>,
) -> Sight {
    let Some(role) = viewer_role.filter(|r| r.is_admin()) else {
        return Sight::Hidden;
    };
    if author_role.is_some_and(Role::is_admin) && role != Role::Owner {
        return Sight::Hidden;
    }
    if author == Some(viewer) {
        Sight::Anonymous
    } else {
        Sight::Full
    }
}

/// Of a room's admins (`staff`, with their roles), the ones a report on `author`'s message
/// goes to.
pub fn recipients<'a>(
    staff: &'a [(UserId, Role)],
    author: Option<&UserId>,
    author_role: Option<Role>,
) -> Vec<&'a UserId> {
    staff
        .iter()
        .filter(|(id, role)| sight(id, Some(*role), author, author_role).sees())
        .map(|(id, _)| id)
        .collect()
}

/// How many of a room's open reports `viewer` sees, from the open reports counted by their
/// message's author and that author's role now.
pub fn open_count(
    viewer: &UserId,
    viewer_role: Option<Role>,
    open: &[(Option<UserId>, Option<Role>, u64)],
) -> u64 {
    open.iter()
        .filter(|(author, role, _)| sight(viewer, viewer_role, author.as_ref(), *role).sees())
        .map(|(_, _, n)| n)
        .sum()
}

/// Whether someone whose role in the room is `role` may list its reports: its admins only.
/// A member hears it is for admins; anyone else that there is no such room.
pub fn may_list(role: Option<Role>) -> Result<(), ApiError> {
    match role {
        Some(r) if r.is_admin() => Ok(()),
        Some(_) => Err(access::admins_only()),
        None => Err(access::room_not_found()),
    }
}

pub fn report_not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "There is no such report.")
}

/// Whether someone with `role` in the report's room, who has `sight` of it, may resolve a
/// report that is `status`. Someone who may not see it hears there is no such report (a
/// member that it is for admins); a report already resolved stays as it was.
pub fn may_resolve(role: Option<Role>, sight: Sight, status: ReportStatus) -> Result<(), ApiError> {
    match role {
        None => return Err(report_not_found()),
        Some(r) if !r.is_admin() => return Err(access::admins_only()),
        Some(_) => {}
    }
    if !sight.sees() {
        return Err(report_not_found());
    }
    if status != ReportStatus::Open {
        return Err(report_resolved());
    }
    Ok(())
}

pub fn report_resolved() -> ApiError {
    ApiError::new(
        ErrorCode::ReportResolved,
        "That report was already resolved; it stays as it was.",
    )
}

/// A reporter files at most this many reports…
pub const RATE_COUNT: usize = 10;
/// …in this long, across every room.
pub const RATE_WINDOW: Micros = 10 * 60 * 1_000_000;

/// Whether a reporter whose reports in the window before `now` were filed at `recent`
/// (any order) may file one more; if not, `rate_limited` with the wait until they may.
pub fn within_rate(recent: &[Micros], now: Micros) -> Result<(), ApiError> {
    let mut inside: Vec<Micros> = recent
        .iter()
        .copied()
        .filter(|&at| at > now - RATE_WINDOW)
        .collect();
    if inside.len() < RATE_COUNT {
        return Ok(());
    }
    inside.sort_unstable();
    // One more may go once all but `RATE_COUNT - 1` of them have left the window.
    let frees = inside[inside.len() - RATE_COUNT] + RATE_WINDOW;
    // Rounded up: a client that waits exactly this long is let through.
    let ms = u64::try_from((frees - now + 999).div_euclid(1000))
        .unwrap_or(1)
        .max(1);
    Err(ApiError::rate_limited(ms).with_message(format!(
        "You have filed {RATE_COUNT} reports in 10 minutes. You can report again in {}.",
        wait_words(ms)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Micros = 1_000_000;

    fn id(s: &str) -> UserId {
        UserId::from(s)
    }

    fn text(author: Option<&UserId>) -> Reported<'_> {
        Reported {
            author,
            kind: MessageKind::Text,
            deleted: false,
        }
    }

    #[test]
    fn members_report_others_messages_only() {
        let (ann, bob) = (id("ann"), id("bob"));
        assert!(may_report(&ann, true, &text(Some(&bob))).is_ok());
        let code = |r: Result<(), ApiError>| r.unwrap_err().code;
        assert_eq!(
            code(may_report(&ann, false, &text(Some(&bob)))),
            ErrorCode::MessageNotFound
        );
        assert_eq!(
            code(may_report(&ann, true, &text(Some(&ann)))),
            ErrorCode::Forbidden
        );
        assert_eq!(
            code(may_report(&ann, true, &text(None))),
            ErrorCode::Forbidden
        );
        let system = Reported {
            kind: MessageKind::System,
            ..text(Some(&bob))
        };
        assert_eq!(code(may_report(&ann, true, &system)), ErrorCode::Forbidden);
        let gone = Reported {
            deleted: true,
            ..text(Some(&bob))
        };
        assert_eq!(
            code(may_report(&ann, true, &gone)),
            ErrorCode::MessageDeleted
        );
        // A stranger learns nothing, even of a deleted message.
        assert_eq!(
            code(may_report(&ann, false, &gone)),
            ErrorCode::MessageNotFound
        );
    }

    #[test]
    fn a_report_on_a_members_message_reaches_every_admin_with_its_reporter() {
        let author = id("mia");
        for role in [Role::Admin, Role::Owner] {
            assert_eq!(
                sight(&id("a"), Some(role), Some(&author), Some(Role::Member)),
                Sight::Full
            );
        }
        // A former member's message ranks as a member's.
        assert_eq!(
            sight(&id("a"), Some(Role::Admin), Some(&author), None),
            Sight::Full
        );
        assert_eq!(
            sight(
                &id("b"),
                Some(Role::Member),
                Some(&author),
                Some(Role::Member)
            ),
            Sight::Hidden
        );
        assert_eq!(
            sight(&id("c"), None, Some(&author), Some(Role::Member)),
            Sight::Hidden
        );
    }

    #[test]
    fn a_report_on_an_admins_message_reaches_the_owner_alone() {
        let (owner, adam, abel) = (id("olga"), id("adam"), id("abel"));
        let staff = vec![
            (owner.clone(), Role::Owner),
            (adam.clone(), Role::Admin),
            (abel.clone(), Role::Admin),
        ];
        assert_eq!(
            recipients(&staff, Some(&adam), Some(Role::Admin)),
            vec![&owner]
        );
        assert_eq!(
            sight(&adam, Some(Role::Admin), Some(&adam), Some(Role::Admin)),
            Sight::Hidden
        );
        // The owner's own message: they see the report, never who filed it.
        assert_eq!(
            recipients(&staff, Some(&owner), Some(Role::Owner)),
            vec![&owner]
        );
        assert_eq!(
            sight(&owner, Some(Role::Owner), Some(&owner), Some(Role::Owner)),
            Sight::Anonymous
        );
        assert_eq!(
            recipients(&staff, Some(&id("mia")), Some(Role::Member)).len(),
            3
        );
    }

    #[test]
    fn the_reported_person_never_sees_the_reporter_whatever_their_role() {
        let author = id("x");
        for role in [
            None,
            Some(Role::Member),
            Some(Role::Admin),
            Some(Role::Owner),
        ] {
            assert_ne!(
                sight(&author, role, Some(&author), role),
                Sight::Full,
                "{role:?}"
            );
        }
    }

    #[test]
    fn open_counts_follow_sight() {
        let (owner, adam, mia) = (id("olga"), id("adam"), id("mia"));
        let open = vec![
            (Some(mia.clone()), Some(Role::Member), 2),
            (Some(adam.clone()), Some(Role::Admin), 3),
            (Some(owner.clone()), Some(Role::Owner), 1),
        ];
        assert_eq!(open_count(&owner, Some(Role::Owner), &open), 6);
        assert_eq!(open_count(&adam, Some(Role::Admin), &open), 2);
        assert_eq!(open_count(&mia, Some(Role::Member), &open), 0);
    }

    #[test]
    fn listing_and_resolving_are_for_those_who_see() {
        assert!(may_list(Some(Role::Admin)).is_ok());
        assert_eq!(
            may_list(Some(Role::Member)).unwrap_err().code,
            ErrorCode::Forbidden
        );
        assert_eq!(may_list(None).unwrap_err().code, ErrorCode::RoomNotFound);
        let open = ReportStatus::Open;
        assert!(may_resolve(Some(Role::Admin), Sight::Full, open).is_ok());
        assert!(may_resolve(Some(Role::Owner), Sight::Anonymous, open).is_ok());
        let code = |r: Result<(), ApiError>| r.unwrap_err().code;
        assert_eq!(
            code(may_resolve(Some(Role::Admin), Sight::Hidden, open)),
            ErrorCode::NotFound
        );
        assert_eq!(
            code(may_resolve(Some(Role::Member), Sight::Hidden, open)),
            ErrorCode::Forbidden
        );
        assert_eq!(
            code(may_resolve(None, Sight::Hidden, open)),
            ErrorCode::NotFound
        );
        for done in [ReportStatus::Dismissed, ReportStatus::Actioned] {
            assert_eq!(
                code(may_resolve(Some(Role::Owner), Sight::Full, done)),
                ErrorCode::ReportResolved
            );
        }
    }

    #[test]
    fn resolutions_carry_the_duration_they_need() {
        assert_eq!(
            Resolution::parse("dismiss", None).unwrap(),
            Resolution::Dismiss
        );
        assert_eq!(
            Resolution::parse("delete", None).unwrap(),
            Resolution::Delete
        );
        assert_eq!(Resolution::parse("kick", None).unwrap(), Resolution::Kick);
        assert_eq!(
            Resolution::parse("mute", Some(60)).unwrap(),
            Resolution::Mute { minutes: 60 }
        );
        assert_eq!(
            Resolution::parse("ban", None).unwrap(),
            Resolution::Ban { minutes: None }
        );
        assert_eq!(
            Resolution::parse("ban", Some(1440)).unwrap(),
            Resolution::Ban {
                minutes: Some(1440)
            }
        );
        for (action, minutes, field) in [
            ("mute", None, "minutes"),
            ("mute", Some(0), "minutes"),
            ("mute", Some(40_321), "minutes"),
            ("ban", Some(-1), "minutes"),
            ("kick", Some(5), "minutes"),
            ("dismiss", Some(5), "minutes"),
            ("warn", None, "action"),
            ("", None, "action"),
        ] {
            let err = Resolution::parse(action, minutes).unwrap_err();
            assert_eq!(
                (err.code, err.field.as_deref()),
                (ErrorCode::InvalidInput, Some(field)),
                "{action} {minutes:?}"
            );
        }
        assert_eq!(Resolution::Dismiss.status(), ReportStatus::Dismissed);
        assert_eq!(
            Resolution::Mute { minutes: 5 }.status(),
            ReportStatus::Actioned
        );
        assert_eq!(Resolution::Kick.action(), ReportAction::Kick);
    }

    #[test]
    fn reasons_and_texts_are_checked() {
        assert_eq!(ReportReason::parse("spam").unwrap(), ReportReason::Spam);
        assert_eq!(
            ReportReason::parse("harassment").unwrap(),
            ReportReason::Harassment
        );
        for bad in ["", "Spam", "abuse"] {
            let err = ReportReason::parse(bad).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("reason"));
        }
        assert_eq!(parse_text(None).unwrap(), None);
        assert_eq!(parse_text(Some("  ")).unwrap(), None);
        assert_eq!(
            parse_text(Some(" he keeps\nposting links "))
                .unwrap()
                .as_deref(),
            Some("he keeps\nposting links")
        );
        assert!(parse_text(Some(&"x".repeat(TEXT_MAX))).is_ok());
        for bad in [&"x".repeat(TEXT_MAX + 1), "a\u{0}b", "\u{202E}olleh"] {
            let err = parse_text(Some(bad)).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("text"));
        }
        let json = serde_json::to_string(&ReportAction::Dismiss).unwrap();
        assert_eq!(json, "\"dismiss\"");
        let json = serde_json::to_string(&ReportStatus::Actioned).unwrap();
        assert_eq!(json, "\"actioned\"");
    }

    #[test]
    fn a_reporter_files_ten_reports_in_ten_minutes() {
        let now = 1_000 * S;
        let nine: Vec<Micros> = (0..9).map(|i| now - (9 - i) * 10 * S).collect();
        assert!(within_rate(&nine, now).is_ok());
        let mut ten = nine.clone();
        ten.push(now - S);
        let err = within_rate(&ten, now).unwrap_err();
        assert_eq!(err.code, ErrorCode::RateLimited);
        // The oldest of the ten, filed 90 s ago, leaves the window in 510 s.
        assert_eq!(err.retry_after_ms, Some(510_000));
        assert!(within_rate(&ten, now + 510 * S).is_ok());
        // Reports older than the window do not count.
        let old: Vec<Micros> = (0..20).map(|i| now - RATE_WINDOW - i * S).collect();
        assert!(within_rate(&old, now).is_ok());
    }
}
