//! How messages and lists look in a terminal. Text from others is shown as text only:
//! control characters (escape sequences among them) become visible symbols, so no message
//! can move the cursor, clear the screen or recolour anyone's terminal. Colour only when
//! standard output is a terminal and `NO_COLOR` is unset.

use std::io::IsTerminal;

use domain::{
    message::{Color, MessageKind, MessageView},
    views::NotificationView,
};

/// Whether to colour what is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    /// Colour on a terminal, unless `NO_COLOR` says otherwise (https://no-color.org).
    pub fn detect() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            color: std::io::stdout().is_terminal() && !no_color,
        }
    }

    fn paint(self, sgr: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    pub fn red(self, text: &str) -> String {
        self.paint("31", text)
    }
}

/// `text` made inert: C0 controls but newline and tab become their Unicode control
/// pictures (ESC shows as ␛), DEL as ␡, and C1 controls (which some terminals obey too) as
/// U+FFFD.
pub fn inert(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\t' => c,
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
            '\u{7f}' => '\u{2421}',
            '\u{80}'..='\u{9f}' => '\u{fffd}',
            _ => c,
        })
        .collect()
}

/// The terminal palette entry (of the 256) a message colour is shown in: the 16 basic
/// colours where there is one, so a terminal's own theme decides how they look.
pub fn palette_index(color: Color) -> u8 {
    match color {
        Color::Red => 1,
        Color::Orange => 208,
        Color::Amber => 3,
        Color::Green => 2,
        Color::Teal => 6,
        Color::Blue => 4,
        Color::Indigo => 63,
        Color::Purple => 5,
        Color::Pink => 205,
        Color::Gray => 8,
    }
}

/// The SGR foreground of a message colour.
pub fn sgr_of(color: Color) -> String {
    format!("38;5;{}", palette_index(color))
}

/// One notification as a line: what happened, where, by whom, why.
pub fn describe(n: &NotificationView) -> String {
    let kind = serde_json::to_value(n.kind).unwrap_or_default();
    let what = kind.as_str().unwrap_or_default().replace('_', " ");
    let room = n
        .room_name
        .as_deref()
        .map(|r| format!(" #{}", inert(r)))
        .unwrap_or_default();
    let by = n
        .actor
        .as_ref()
        .map(|a| format!(" by {}", inert(&a.username)))
        .unwrap_or_default();
    let why = n
        .reason
        .as_deref()
        .map(|r| format!(": {}", inert(r)))
        .unwrap_or_default();
    format!("{what}{room}{by}{why}")
}

/// "HH:MM" of an RFC 3339 time (UTC, as the server writes it).
pub fn clock(at: &str) -> &str {
    at.get(11..16).unwrap_or(at)
}

/// One message as a line (or lines, for text with newlines): time, author, what it says.
pub fn message_line(m: &MessageView, style: Style) -> String {
    let time = style.dim(clock(&m.created_at));
    let author = m
        .author
        .as_ref()
        .map_or_else(|| "*".to_owned(), |a| inert(&a.username));
    if m.deleted.is_some() {
        return format!(
            "{time} {} {}",
            style.bold(&author),
            style.dim("(message deleted)")
        );
    }
    let said = match m.kind {
        MessageKind::System => {
            return format!(
                "{time} {}",
                style.dim(&format!(
                    "* {}",
                    inert(m.body.as_deref().unwrap_or_default())
                ))
            )
        }
        MessageKind::Sticker => {
            format!("[sticker: {}]", inert(m.sticker.as_deref().unwrap_or("?")))
        }
        MessageKind::File => match &m.file {
            Some(f) => format!("[file: {} ({} bytes)]", inert(&f.name), f.size),
            None => "[file]".to_owned(),
        },
        MessageKind::Text => {
            let body = inert(m.body.as_deref().unwrap_or_default());
            match (m.color, style.color) {
                (Some(c), true) => format!("\x1b[{}m{body}\x1b[0m", sgr_of(c)),
                _ => body,
            }
        }
    };
    let edited = if m.edited_at.is_some() {
        format!(" {}", style.dim("(edited)"))
    } else {
        String::new()
    };
    format!("{time} {}: {said}{edited}", style.bold(&author))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(body: &str) -> MessageView {
        serde_json::from_value(serde_json::json!({
            "id": "7", "room_id": "r1", "author": {"id": "u1", "username": "ann"},
            "kind": "text", "body": body, "color": null, "sticker": null, "file": null,
            "created_at": "2026-12-06T21:04:05.000Z"
        }))
        .unwrap()
    }

    #[test]
    fn escape_sequences_in_a_message_render_inert() {
        let hostile = "\x1b[2J\x1b[1;1Hyou were hacked\x07\u{9b}31m\r\x7f";
        for style in [Style { color: false }, Style { color: true }] {
            let line = message_line(&text(hostile), style);
            // The message's own part holds no control character at all.
            let said = line.split_once(": ").unwrap().1;
            assert!(!said.chars().any(char::is_control), "{said:?}");
            assert!(
                said.contains("␛[2J") && said.contains("you were hacked"),
                "{said:?}"
            );
        }
        assert_eq!(inert("a\tb\nc"), "a\tb\nc");
        assert_eq!(inert("\x1b"), "␛");
        assert_eq!(inert("\u{85}"), "\u{fffd}");
    }

    #[test]
    fn plain_output_has_no_colour_codes_and_names_are_inert_too() {
        let mut m = text("hello");
        m.author = Some(domain::User {
            id: "u2".into(),
            username: "e\x1b[31mvil".into(),
        });
        let line = message_line(&m, Style { color: false });
        assert_eq!(line, "21:04 e␛[31mvil: hello");
        let coloured = message_line(&text("hi"), Style { color: true });
        assert!(coloured.contains("\x1b[1mann\x1b[0m"), "{coloured:?}");
    }
}
