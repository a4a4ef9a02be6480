//! Messages (docs/RULES.md §6): validated bodies, the colour palette and the sticker
//! catalogue.

use serde::{Deserialize, Serialize};

pub use crate::vocab::MessageKind;
use crate::{ApiError, FileId, MessageId, RoomId, User, UserId};

/// A message as the API and the live channel show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: MessageId,
    pub room_id: RoomId,
    /// `None` for system lines.
    pub author: Option<User>,
    pub kind: MessageKind,
    /// `None` once the message is deleted (a tombstone keeps its place, id and time).
    pub body: Option<String>,
    pub color: Option<Color>,
    pub sticker: Option<String>,
    pub file: Option<FileView>,
    pub created_at: String,
    /// When its text was last changed by an edit.
    #[serde(default)]
    pub edited_at: Option<String>,
    /// Who deleted it, when and why.
    #[serde(default)]
    pub deleted: Option<Deletion>,
    /// Where the message stands in its room's sequence of events: its id until it is
    /// changed (edited, deleted), then the sequence number of its last change. Catch-up
    /// (`messages/since`) returns what is past a client's highest `seq`, so a change made
    /// while a client was away comes back once, in its final state.
    #[serde(default)]
    pub seq: MessageId,
    /// The message this one answers, quoted in one line.
    #[serde(default)]
    pub reply_to: Option<ReplyView>,
    /// Emoji people set on it, most used first.
    #[serde(default)]
    pub reactions: Vec<crate::reaction::ReactionView>,
    /// Its text as formatted (`domain::format`), when it uses any formatting; absent for
    /// plain text, which is shown as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<Vec<crate::format::Block>>,
    /// The members it mentions (`@name`), by id (docs/RULES.md §6, "Mentions").
    #[serde(default)]
    pub mentions: Vec<UserId>,
    /// An admin's `@room`: it mentions everyone in the room.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mentions_room: bool,
}

/// A reply's quote of the message it answers: who wrote it and how it starts, or that it
/// was deleted since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyView {
    pub id: MessageId,
    pub author: Option<User>,
    /// The start of its text on one line (`None` once it is deleted).
    pub excerpt: Option<String>,
    #[serde(default)]
    pub deleted: bool,
}

impl ReplyView {
    /// The quote of a message; `body` is `None` once it is deleted.
    pub fn of(
        id: MessageId,
        author: Option<User>,
        kind: MessageKind,
        body: Option<&str>,
        sticker: Option<&str>,
    ) -> Self {
        Self {
            id,
            author,
            excerpt: body.map(|body| excerpt(kind, body, sticker)),
            deleted: body.is_none(),
        }
    }
}

/// How long a reply's quote of the message it answers may be, in characters.
pub const EXCERPT_MAX: usize = 100;

/// The start of a message on one line, for a reply's quote: a text's first characters (line
/// breaks as spaces, cut at a word with "…"), a sticker's or file's name.
pub fn excerpt(kind: MessageKind, body: &str, sticker: Option<&str>) -> String {
    match kind {
        MessageKind::Sticker => format!("Sticker: {}", sticker.unwrap_or(body)),
        MessageKind::File => format!("File: {body}"),
        _ => {
            // One line of words: Markdown's marks (`**`, `~~`, backticks, a quote's `>`) say
            // how the text looks, not what it says, and a quote has no room for them.
            let flat: String = body
                .lines()
                .map(|line| line.trim_start().trim_start_matches('>'))
                .flat_map(str::split_whitespace)
                .map(|word| word.trim_matches(|c| matches!(c, '*' | '~' | '`')))
                .filter(|word| !word.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            if flat.chars().count() <= EXCERPT_MAX {
                return flat;
            }
            let cut: String = flat.chars().take(EXCERPT_MAX).collect();
            let at_word = cut
                .rfind(' ')
                .filter(|&i| i > EXCERPT_MAX / 2)
                .unwrap_or(cut.len());
            format!("{}…", cut[..at_word].trim_end())
        }
    }
}

/// One text an edited message has had (`messages/versions`), with when it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageVersion {
    pub body: String,
    pub at: String,
}

/// A deleted message's tombstone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    /// Who deleted it: its author, or a room admin (absent if that account is gone).
    pub by: Option<User>,
    pub at: String,
    /// The admin's reason, when one was given.
    pub reason: Option<String>,
}

impl MessageView {
    /// The text shown, empty for a tombstone.
    pub fn text(&self) -> &str {
        self.body.as_deref().unwrap_or("")
    }

    /// Whether it mentions `user` (by name, or by `@room`), who did not write it.
    pub fn mentions(&self, user: &UserId) -> bool {
        self.deleted.is_none()
            && self.author.as_ref().is_none_or(|a| &a.id != user)
            && (self.mentions_room || self.mentions.contains(user))
    }

    /// The highest point in its room's sequence this message tells of.
    pub fn position(&self) -> MessageId {
        self.id.max(self.seq)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileView {
    pub id: FileId,
    pub name: String,
    pub size: u64,
    pub content_type: String,
}

pub const BODY_MAX: usize = 4000;
pub const CLIENT_ID_MAX: usize = 64;

/// The sender's own id for a send, 1–64 visible characters on one line; a repeat of it is
/// a retry, answered with the stored message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let id = raw.trim();
        if id.is_empty() || id.chars().count() > CLIENT_ID_MAX {
            return Err(ApiError::invalid_field(
                "client_id",
                format!("A client id is 1 to {CLIENT_ID_MAX} characters."),
            ));
        }
        crate::text::name("client_id", "A client id", id)?;
        Ok(Self(id.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl TryFrom<String> for ClientId {
    type Error = ApiError;
    fn try_from(raw: String) -> Result<Self, ApiError> {
        Self::parse(&raw)
    }
}

impl From<ClientId> for String {
    fn from(id: ClientId) -> Self {
        id.0
    }
}

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Messages in one page of history, as the client asks for them.
pub const HISTORY_PAGE: u64 = 50;
/// The most one catch-up (`messages/since`) returns; a client with more to fetch asks again.
pub const SINCE_MAX: u64 = 1000;

/// 1–4000 characters after trimming. Stored and shown as text, never as HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let body = raw.trim();
        if body.is_empty() {
            return Err(ApiError::invalid_field(
                "body",
                "Write something before sending.",
            ));
        }
        let len = body.chars().count();
        if len > BODY_MAX {
            return Err(ApiError::invalid_field(
                "body",
                format!(
                    "A message is at most {BODY_MAX} characters; this one has {len}. Split it up."
                ),
            ));
        }
        crate::text::prose("body", "A message", body)?;
        Ok(Self(body.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

stored_word! {
    /// The colours a sender may pick (the client maps each to its theme). No colour is the
    /// theme's own text colour, which the wire spells as absent or `"default"`.
    pub enum Color {
        Red,
        Orange,
        Amber,
        Green,
        Teal,
        Blue,
        Indigo,
        Purple,
        Pink,
        Gray,
    }
}

impl Color {
    pub const ALL: [Self; 10] = [
        Self::Red,
        Self::Orange,
        Self::Amber,
        Self::Green,
        Self::Teal,
        Self::Blue,
        Self::Indigo,
        Self::Purple,
        Self::Pink,
        Self::Gray,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Red => "red",
            Self::Orange => "orange",
            Self::Amber => "amber",
            Self::Green => "green",
            Self::Teal => "teal",
            Self::Blue => "blue",
            Self::Indigo => "indigo",
            Self::Purple => "purple",
            Self::Pink => "pink",
            Self::Gray => "gray",
        }
    }

    /// A colour by name; `None` for no colour (absent, empty or `"default"`).
    pub fn parse(raw: Option<&str>) -> Result<Option<Self>, ApiError> {
        match raw.map(str::trim).filter(|c| !c.is_empty()) {
            None | Some(DEFAULT_COLOR) => Ok(None),
            Some(c) => Self::ALL
                .into_iter()
                .find(|color| color.as_str() == c)
                .map(Some)
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "color",
                        format!("\"{c}\" is not one of the colours: {}.", PALETTE.join(", ")),
                    )
                }),
        }
    }
}

/// How the wire names "no colour".
pub const DEFAULT_COLOR: &str = "default";

/// Every colour name a sender may give, "no colour" first (the `messages/colors` list).
pub const PALETTE: &[&str] = &[
    DEFAULT_COLOR,
    "red",
    "orange",
    "amber",
    "green",
    "teal",
    "blue",
    "indigo",
    "purple",
    "pink",
    "gray",
];

/// A sticker of the catalogue, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StickerName(&'static Sticker);

impl StickerName {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        sticker(raw).map(Self)
    }

    /// Every sticker, in the catalogue's order.
    pub fn catalogue() -> impl Iterator<Item = Self> {
        STICKERS.iter().map(Self)
    }

    pub fn as_str(self) -> &'static str {
        self.0.name
    }

    pub fn art(self) -> &'static str {
        self.0.art
    }
}

/// What a send carries: a text or a sticker, never both and never neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Text(MessageBody),
    Sticker(StickerName),
}

impl Content {
    pub fn kind(&self) -> MessageKind {
        match self {
            Self::Text(_) => MessageKind::Text,
            Self::Sticker(_) => MessageKind::Sticker,
        }
    }

    /// The text a message of it shows: the body, or the sticker's art.
    pub fn body(&self) -> &str {
        match self {
            Self::Text(body) => body.as_str(),
            Self::Sticker(s) => s.art(),
        }
    }

    pub fn sticker(&self) -> Option<StickerName> {
        match self {
            Self::Text(_) => None,
            Self::Sticker(s) => Some(*s),
        }
    }
}

/// One send, as the `send` frame and `messages/send` carry it (docs/API.md). Checked as it
/// is read, so an invalid send cannot be built: every layer past the wire holds a valid one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OutgoingFields", into = "OutgoingFields")]
pub struct Outgoing {
    pub room_id: RoomId,
    pub client_id: ClientId,
    pub content: Content,
    pub color: Option<Color>,
    /// The message this one answers (in the same room).
    pub reply_to: Option<MessageId>,
}

/// The wire shape of a send: `body` or `sticker`, with an optional `color` name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingFields {
    pub room_id: RoomId,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<MessageId>,
}

impl TryFrom<OutgoingFields> for Outgoing {
    type Error = ApiError;

    fn try_from(f: OutgoingFields) -> Result<Self, ApiError> {
        let client_id = ClientId::parse(&f.client_id)?;
        let color = Color::parse(f.color.as_deref())?;
        let content = match (f.body, f.sticker) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_field(
                    "sticker",
                    "Send a text or a sticker, not both at once.",
                ))
            }
            (_, Some(name)) => Content::Sticker(StickerName::parse(&name)?),
            (body, None) => Content::Text(MessageBody::parse(body.as_deref().unwrap_or(""))?),
        };
        Ok(Self {
            room_id: f.room_id,
            client_id,
            content,
            color,
            reply_to: f.reply_to,
        })
    }
}

impl From<Outgoing> for OutgoingFields {
    fn from(o: Outgoing) -> Self {
        let (body, sticker) = match o.content {
            Content::Text(body) => (Some(body.into_string()), None),
            Content::Sticker(s) => (None, Some(s.as_str().to_owned())),
        };
        Self {
            room_id: o.room_id,
            client_id: o.client_id.into_string(),
            body,
            color: o.color.map(|c| c.as_str().to_owned()),
            sticker,
            reply_to: o.reply_to,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sticker {
    pub name: &'static str,
    pub art: &'static str,
}

/// The built-in ASCII stickers, sent by name and shown in a monospace block.
pub const STICKERS: &[Sticker] = &[
    Sticker { name: "shrug", art: r"¯\_(ツ)_/¯" },
    Sticker { name: "tableflip", art: r"(╯°□°)╯︵ ┻━┻" },
    Sticker { name: "unflip", art: r"┬─┬ノ( º _ ºノ)" },
    Sticker { name: "lenny", art: r"( ͡° ͜ʖ ͡°)" },
    Sticker { name: "disapproval", art: r"ಠ_ಠ" },
    Sticker { name: "happy", art: r"(◕‿◕)" },
    Sticker { name: "bear", art: r"ʕ•ᴥ•ʔ" },
    Sticker { name: "fight", art: r"(ง'̀-'́)ง" },
    Sticker { name: "cat", art: " /\\_/\\\n( o.o )\n > ^ <" },
    Sticker { name: "owl", art: " ,_,\n(O,O)\n(   )\n-\"-\"-" },
    Sticker { name: "coffee", art: "   ( (\n    ) )\n  ........\n  |      |]\n  \\      /\n   `----'" },
    Sticker { name: "rocket", art: "    /\\\n   /  \\\n  |    |\n  | () |\n /|    |\\\n/_|____|_\\\n   /\\/\\" },
    Sticker { name: "heart", art: " .:::.   .:::.\n:::::::.:::::::\n:::::::::::::::\n':::::::::::::'\n  ':::::::::'\n    ':::::'\n      ':'" },
    Sticker { name: "fish", art: "><(((('>" },
];

pub fn sticker(name: &str) -> Result<&'static Sticker, ApiError> {
    STICKERS.iter().find(|s| s.name == name).ok_or_else(|| {
        ApiError::invalid_field("sticker", format!("There is no sticker called \"{name}\"."))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn bodies_are_trimmed_and_bounded() {
        assert_eq!(MessageBody::parse("  hi  ").unwrap().as_str(), "hi");
        assert!(MessageBody::parse(&"x".repeat(4000)).is_ok());
        for bad in ["", "   \n\t", &"x".repeat(4001), "a\u{0}b", "\u{1b}[2J"] {
            let err = MessageBody::parse(bad).unwrap_err();
            assert_eq!(
                (err.code, err.field.as_deref()),
                (ErrorCode::InvalidInput, Some("body"))
            );
        }
        // Markup is kept as typed: it is text, rendering escapes it.
        assert_eq!(
            MessageBody::parse("<b>hi</b>").unwrap().as_str(),
            "<b>hi</b>"
        );
    }

    #[test]
    fn client_ids_are_one_visible_line() {
        assert_eq!(ClientId::parse(" c-1 ").unwrap().into_string(), "c-1");
        assert!(serde_json::from_str::<ClientId>(r#""c\u0000""#).is_err());
        for bad in ["", &"c".repeat(65), "c\u{0}", "c\n1", "c\u{200B}"] {
            let err = ClientId::parse(bad).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("client_id"), "{bad:?}");
        }
    }

    #[test]
    fn colours_come_from_the_palette() {
        assert_eq!(Color::parse(Some("teal")).unwrap(), Some(Color::Teal));
        assert_eq!(Color::parse(None).unwrap(), None);
        assert_eq!(Color::parse(Some("default")).unwrap(), None);
        assert!(Color::parse(Some("#ff0000")).is_err());
        // The palette the client offers is every colour, and "no colour" first.
        let names: Vec<&str> = Color::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(PALETTE[1..], names[..]);
        assert_eq!(serde_json::to_string(&Color::Teal).unwrap(), "\"teal\"");
    }

    #[test]
    fn a_send_is_checked_as_it_is_read() {
        let read = |json: &str| serde_json::from_str::<Outgoing>(json);
        let text =
            read(r#"{"room_id":"r","client_id":" c1 ","body":" hi ","color":"teal"}"#).unwrap();
        assert_eq!(text.client_id.as_str(), "c1");
        assert_eq!(
            text.content,
            Content::Text(MessageBody::parse("hi").unwrap())
        );
        assert_eq!(text.color, Some(Color::Teal));
        let sticker = read(r#"{"room_id":"r","client_id":"c2","sticker":"shrug"}"#).unwrap();
        assert_eq!(sticker.content.kind(), MessageKind::Sticker);
        assert_eq!(sticker.content.body(), r"¯\_(ツ)_/¯");
        // Neither, both, an empty body, a bad colour, a bad client id: refused as read.
        for bad in [
            r#"{"room_id":"r","client_id":"c"}"#,
            r#"{"room_id":"r","client_id":"c","body":"hi","sticker":"shrug"}"#,
            r#"{"room_id":"r","client_id":"c","body":"   "}"#,
            r##"{"room_id":"r","client_id":"c","body":"hi","color":"#f00"}"##,
            r#"{"room_id":"r","client_id":"","body":"hi"}"#,
            r#"{"room_id":"r","client_id":"c","sticker":"nope"}"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
        // The field that is to blame is kept for the answer.
        let fields: OutgoingFields =
            serde_json::from_str(r#"{"room_id":"r","client_id":"c","body":""}"#).unwrap();
        let err = Outgoing::try_from(fields).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("body"));
        // Written back, it reads the same.
        let json = serde_json::to_string(&text).unwrap();
        assert_eq!(read(&json).unwrap(), text);
    }

    #[test]
    fn the_catalogue_has_a_dozen_unique_stickers_with_multi_line_art() {
        assert!(STICKERS.len() >= 12);
        let names: std::collections::HashSet<_> = STICKERS.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), STICKERS.len());
        assert!(STICKERS.iter().filter(|s| s.art.contains('\n')).count() >= 4);
        assert!(STICKERS.iter().all(|s| !s.art.trim().is_empty()));
        assert_eq!(sticker("shrug").unwrap().art, r"¯\_(ツ)_/¯");
        assert!(sticker("nope").is_err());
    }
}

/// A file name fit to show and to put in a header: the last path component, without
/// control, text-direction or invisible characters or quotes, at most 200 characters; `file` when nothing is left.
pub fn sanitize_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|&c| {
            !c.is_control()
                && !crate::text::is_bidi_control(c)
                && !crate::text::is_invisible(c)
                && !matches!(c, '"' | '\'' | ';' | '<' | '>' | '`')
        })
        .take(200)
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() {
        "file".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// The content type told by a file's first bytes; what a client claims is never trusted.
pub fn sniff_content_type(head: &[u8]) -> &'static str {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
        (b"PK\x03\x04", "application/zip"),
    ];
    if let Some((_, ct)) = SIGNATURES.iter().find(|(sig, _)| head.starts_with(sig)) {
        return ct;
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return "image/webp";
    }
    if std::str::from_utf8(head).is_ok() || head.iter().all(|b| b.is_ascii()) {
        return "text/plain; charset=utf-8";
    }
    "application/octet-stream"
}

/// Images preview inline; everything else downloads as an attachment.
pub fn is_inline_image(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    )
}

#[cfg(test)]
mod file_tests {
    use super::*;

    #[test]
    fn file_names_lose_their_paths_and_dangerous_characters() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(
            sanitize_file_name("C:\\Users\\me\\report.pdf"),
            "report.pdf"
        );
        assert_eq!(sanitize_file_name("a\"b;c\r\n.txt"), "abc.txt");
        assert_eq!(sanitize_file_name(".."), "file");
        // A right-to-left override would show `x\u{202E}fdp.exe` as `xexe.pdf`.
        assert_eq!(sanitize_file_name("x\u{202E}fdp.exe"), "xfdp.exe");
        assert_eq!(sanitize_file_name("re\u{200B}port\u{0}.pdf"), "report.pdf");
        assert_eq!(sanitize_file_name(".hidden"), "hidden");
        assert_eq!(sanitize_file_name(""), "file");
        assert_eq!(sanitize_file_name(&"x".repeat(500)).len(), 200);
    }

    #[test]
    fn content_types_come_from_the_bytes() {
        assert_eq!(sniff_content_type(b"\x89PNG\r\n\x1a\nrest"), "image/png");
        assert_eq!(sniff_content_type(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(
            sniff_content_type(b"<html><script>"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            sniff_content_type(&[0xff, 0x00, 0xfe, 0x01]),
            "application/octet-stream"
        );
        assert!(is_inline_image("image/gif") && !is_inline_image("text/plain; charset=utf-8"));
    }
}

#[cfg(test)]
mod excerpt_tests {
    use super::*;

    #[test]
    fn an_excerpt_is_one_short_line() {
        assert_eq!(excerpt(MessageKind::Text, "hi\n  there", None), "hi there");
        // Markdown's marks stay out of a one-line quote.
        assert_eq!(
            excerpt(
                MessageKind::Text,
                "> **bold** and `code`\n~~gone~~ *it*",
                None
            ),
            "bold and code gone it"
        );
        let long = "word ".repeat(40);
        let e = excerpt(MessageKind::Text, &long, None);
        assert!(e.ends_with("word…"), "{e}");
        assert!(e.chars().count() <= EXCERPT_MAX + 1);
        // No space to cut at: cut where the bound falls, on a character boundary.
        let e = excerpt(MessageKind::Text, &"é".repeat(300), None);
        assert_eq!(e.chars().count(), EXCERPT_MAX + 1);
        assert_eq!(
            excerpt(MessageKind::Sticker, "art", Some("shrug")),
            "Sticker: shrug"
        );
        assert_eq!(excerpt(MessageKind::File, "a.pdf", None), "File: a.pdf");
    }
}
