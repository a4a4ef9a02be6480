//! Mentions (docs/RULES.md §6, "Mentions"): `@name` in a message's text names a member of
//! its room, `@room` from one of the room's admins names everyone in it. A mention is
//! resolved once, when the text is stored, to the member's id: the notification and the
//! badge follow the id, so a name that merely looks like a member's (`@b0b`) or names
//! someone outside the room mentions no one.

use crate::{user::Username, UserId};

/// The word after `@` that names the whole room.
pub const ROOM: &str = "room";

/// The most distinct names one message can mention; any past these are plain text, so one
/// message cannot notify a crowd one name at a time.
pub const MAX_NAMES: usize = 50;

/// One `@name` in a text: its byte range (the `@` included) and the name after the `@`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub start: usize,
    pub end: usize,
    pub name: &'a str,
}

impl Token<'_> {
    /// The case-folded name: usernames are unique ignoring case.
    pub fn key(&self) -> String {
        self.name.to_ascii_lowercase()
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// The `@name`s in `text`, in order. An `@` starts one at the start of the text or after a
/// character that cannot end a name (so `ann@example.com` is an address, not a mention);
/// the name runs over username characters, less a trailing `.` or `-` (the end of a
/// sentence), and must be a username's length.
pub fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut prev: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let starts = c == '@' && prev.is_none_or(|p| !is_name_char(p) && p != '@');
        prev = Some(c);
        if !starts {
            continue;
        }
        let from = at + 1;
        let mut end = from;
        while let Some(&(i, n)) = chars.peek() {
            if !is_name_char(n) {
                break;
            }
            end = i + n.len_utf8();
            prev = Some(n);
            chars.next();
        }
        let name = text[from..end].trim_end_matches(['.', '-']);
        if (Username::MIN..=Username::MAX).contains(&name.len()) {
            out.push(Token {
                start: at,
                end: from + name.len(),
                name,
            });
        }
    }
    out
}

/// Who a text mentions, resolved against its room.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentions {
    /// Members named, in the order first named; never the author.
    pub users: Vec<UserId>,
    /// `@room` from an admin.
    pub room: bool,
}

/// Resolves the names `keys` (case-folded, as [`Token::key`] gives them) of a text by
/// `author`: `member` finds an active member of the room by key. Only the first
/// [`MAX_NAMES`] distinct names count; `@room` counts only when `author_is_admin`.
pub fn resolve(
    keys: &[String],
    member: impl Fn(&str) -> Option<UserId>,
    author: &UserId,
    author_is_admin: bool,
) -> Mentions {
    let mut out = Mentions::default();
    let mut seen: Vec<&str> = Vec::new();
    for key in keys {
        if seen.contains(&key.as_str()) {
            continue;
        }
        if seen.len() == MAX_NAMES {
            break;
        }
        seen.push(key);
        if key == ROOM {
            out.room |= author_is_admin;
            continue;
        }
        if let Some(id) = member(key).filter(|id| id != author) {
            if !out.users.contains(&id) {
                out.users.push(id);
            }
        }
    }
    out
}

/// The distinct keys a text's names would be looked up by, at most [`MAX_NAMES`]:
/// what the service asks the database about.
pub fn keys(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for key in names {
        if out.len() == MAX_NAMES {
            break;
        }
        if !out.contains(&key) {
            out.push(key);
        }
    }
    out
}

/// Who gets a notification: the members named, or for `@room` every member in `members`;
/// never the author, and never anyone in `already` (notified by an earlier version).
pub fn to_notify(
    mentions: &Mentions,
    members: &[UserId],
    author: &UserId,
    already: &[UserId],
) -> Vec<UserId> {
    let named = if mentions.room {
        members
    } else {
        &mentions.users[..]
    };
    named
        .iter()
        .filter(|id| *id != author && !already.contains(id))
        .cloned()
        .collect()
}

/// The `@name` being typed just before `caret` (a byte offset into `text`): where its `@`
/// is and the part of the name typed so far, for the composer's suggestions.
pub fn typing_at(text: &str, caret: usize) -> Option<(usize, &str)> {
    let before = text.get(..caret)?;
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_name_char(*c))
        .last()
        .map_or(caret, |(i, _)| i);
    let at = start.checked_sub(1)?;
    if before.as_bytes().get(at) != Some(&b'@') {
        return None;
    }
    let prev = before[..at].chars().next_back();
    if prev.is_some_and(|p| is_name_char(p) || p == '@') {
        return None;
    }
    let prefix = &before[start..];
    (prefix.len() <= Username::MAX).then_some((at, prefix))
}

/// `text` with the `@name` typed at `at`..`caret` completed to `@{name} `, and the caret
/// after it.
pub fn complete(text: &str, at: usize, caret: usize, name: &str) -> (String, usize) {
    let (head, tail) = (&text[..at], &text[caret..]);
    let tail = tail.strip_prefix(' ').unwrap_or(tail);
    let inserted = format!("@{name} ");
    (format!("{head}{inserted}{tail}"), at + inserted.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_being_typed_is_found_and_completed() {
        assert_eq!(typing_at("hi @an", 6), Some((3, "an")));
        assert_eq!(typing_at("@", 1), Some((0, "")));
        assert_eq!(typing_at("hi @an there", 6), Some((3, "an")));
        assert_eq!(typing_at("mail ann@ex", 11), None);
        assert_eq!(typing_at("hi @an there", 12), None);
        assert_eq!(typing_at("no at", 5), None);
        assert_eq!(typing_at("e@a", 3), None, "after a letter it is an address");
        assert_eq!(typing_at("(@a", 3), Some((1, "a")));
        assert_eq!(
            complete("hi @an there", 3, 6, "ann"),
            ("hi @ann there".to_owned(), 8)
        );
        assert_eq!(complete("@a", 0, 2, "ann"), ("@ann ".to_owned(), 5));
    }

    fn names(text: &str) -> Vec<&str> {
        tokens(text).into_iter().map(|t| t.name).collect()
    }

    #[test]
    fn tokens_are_names_after_an_at_sign_at_a_word_start() {
        assert_eq!(names("@ann hi"), ["ann"]);
        assert_eq!(names("hi @ann, and @Bob."), ["ann", "Bob"]);
        assert_eq!(names("(@ann) @b.o-b_1!"), ["ann", "b.o-b_1"]);
        // An address, a doubled sign, too short, too long: none.
        assert!(names("ann@example.com").is_empty());
        assert!(names("@@ann").is_empty());
        assert!(names("@an @ x").is_empty());
        assert!(names(&format!("@{}", "a".repeat(33))).is_empty());
        assert_eq!(names(&format!("@{}", "a".repeat(32))).len(), 1);
        // The range covers the `@` and the name, not the full stop.
        let t = tokens("see @ann.")[0];
        assert_eq!((t.start, t.end), (4, 8));
        // Multibyte text around names is fine.
        assert_eq!(names("héllo @zoë @ann—"), ["ann"]);
        assert_eq!(names("@room"), ["room"]);
    }

    #[test]
    fn resolve_keeps_members_only_never_the_author_and_room_only_from_admins() {
        let (ann, bob) = (UserId::from("u-ann"), UserId::from("u-bob"));
        let member = |k: &str| match k {
            "ann" => Some(UserId::from("u-ann")),
            "bob" => Some(UserId::from("u-bob")),
            _ => None,
        };
        let keys: Vec<String> = ["bob", "ann", "bob", "b0b", "room"]
            .map(String::from)
            .to_vec();
        let m = resolve(&keys, member, &ann, false);
        assert_eq!(m.users, std::slice::from_ref(&bob));
        assert!(!m.room, "a member's @room names no one");
        let m = resolve(&keys, member, &ann, true);
        assert!(m.room);
        let everyone = [ann.clone(), bob.clone(), UserId::from("u-cy")];
        assert_eq!(
            to_notify(&m, &everyone, &ann, &[]),
            [bob.clone(), UserId::from("u-cy")]
        );
        assert_eq!(
            to_notify(&m, &everyone, &ann, std::slice::from_ref(&bob)),
            [UserId::from("u-cy")]
        );
    }

    #[test]
    fn only_the_first_names_count() {
        let keys: Vec<String> = (0..MAX_NAMES + 10).map(|i| format!("user{i}")).collect();
        let m = resolve(&keys, |k| Some(UserId::from(k)), &UserId::from("x"), false);
        assert_eq!(m.users.len(), MAX_NAMES);
        assert_eq!(super::keys(keys.clone()).len(), MAX_NAMES);
    }
}
