//! Messages (docs/RULES.md §6): validated bodies, the colour palette and the sticker
//! catalogue.

use serde::{Deserialize, Serialize};

pub use crate::vocab::MessageKind;
use crate::{ApiError, FileId, MessageId, RoomId, User};

/// A message as the API and the live channel show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: MessageId,
    pub room_id: RoomId,
    /// `None` for system lines.
    pub author: Option<User>,
    pub kind: MessageKind,
    pub body: String,
    pub color: Option<String>,
    pub sticker: Option<String>,
    pub file: Option<FileView>,
    pub created_at: String,
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

    pub fn into_string(self) -> String {
        self.0
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
}

/// The colours a sender may pick, by name (the client maps names to its theme).
pub const PALETTE: &[&str] = &[
    "default", "red", "orange", "amber", "green", "teal", "blue", "indigo", "purple", "pink",
    "gray",
];

pub fn parse_color(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    match raw.map(str::trim).filter(|c| !c.is_empty()) {
        None | Some("default") => Ok(None),
        Some(c) if PALETTE.contains(&c) => Ok(Some(c.to_owned())),
        Some(c) => Err(ApiError::invalid_field(
            "color",
            format!("\"{c}\" is not one of the colours: {}.", PALETTE.join(", ")),
        )),
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
        for bad in ["", &"c".repeat(65), "c\u{0}", "c\n1", "c\u{200B}"] {
            let err = ClientId::parse(bad).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("client_id"), "{bad:?}");
        }
    }

    #[test]
    fn colours_come_from_the_palette() {
        assert_eq!(parse_color(Some("teal")).unwrap().as_deref(), Some("teal"));
        assert_eq!(parse_color(None).unwrap(), None);
        assert_eq!(parse_color(Some("default")).unwrap(), None);
        assert!(parse_color(Some("#ff0000")).is_err());
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
