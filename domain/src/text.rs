//! Which characters a stored text may hold (docs/RULES.md §8, docs/SECURITY.md).
//!
//! Three strictness levels, one per kind of text:
//! - [`prose`] (message bodies): no control characters except `\n` and `\t`. NUL in
//!   particular never reaches the database (PostgreSQL refuses it in text).
//! - [`label`] (topics, reasons): prose, and no bidirectional controls, which could make a
//!   sentence around it read backwards.
//! - [`name`] (room names, client ids): one line, no bidirectional controls and no
//!   invisible characters, so `Lounge\u{200B}` cannot pass for a second "Lounge".

use crate::ApiError;

/// Bidirectional embeddings, overrides, isolates and marks: `x\u{202E}fdp.exe` shows as
/// `xexe.pdf`.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Characters that take no space or look like nothing: zero-width spaces and joiners,
/// word joiners, invisible operators, the byte-order mark, soft hyphens, the Hangul
/// fillers, and the selectors that change how the character before them looks without
/// being seen themselves (variation selectors, the Mongolian free variation selectors, and
/// tag characters), so `Lounge\u{FE0F}` cannot pass for a second "Lounge".
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2064}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

/// Message bodies: any character but controls other than newline and tab.
pub fn prose(field: &str, what: &str, text: &str) -> Result<(), ApiError> {
    match text
        .chars()
        .find(|&c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        None => Ok(()),
        Some(c) => Err(refusal(field, what, c, "control characters")),
    }
}

/// Topics and reasons: prose without bidirectional controls.
pub fn label(field: &str, what: &str, text: &str) -> Result<(), ApiError> {
    prose(field, what, text)?;
    match text.chars().find(|&c| is_bidi_control(c)) {
        None => Ok(()),
        Some(c) => Err(refusal(field, what, c, "text-direction controls")),
    }
}

/// Names: one line of visible characters.
pub fn name(field: &str, what: &str, text: &str) -> Result<(), ApiError> {
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(refusal(field, what, c, "control characters"));
    }
    if let Some(c) = text.chars().find(|&c| is_bidi_control(c)) {
        return Err(refusal(field, what, c, "text-direction controls"));
    }
    match text.chars().find(|&c| is_invisible(c)) {
        None => Ok(()),
        Some(c) => Err(refusal(field, what, c, "invisible characters")),
    }
}

/// The form in which room names are compared, searched and kept unique: NFKC, lower case,
/// then NFKC again, because lower-casing can leave text unnormalised (`İ` lowers to `i` and a
/// combining dot, which must then be ordered among other combining marks). Folding a folded
/// text changes nothing, which the fuzzer checks.
pub fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfkc()
        .collect::<String>()
        .to_lowercase()
        .nfkc()
        .collect()
}

/// The form in which two names count as the same name: folded for case and compatibility
/// (names are unique ignoring case), then the Unicode confusable skeleton of that (UTS #39).
/// `Lounge` with a Cyrillic `о`, `LOUNGE` and `Ｌｏｕｎｇｅ` all have the skeleton of
/// `lounge`; so do `rnike` and `mike`.
#[cfg(feature = "confusables")]
pub fn skeleton(name: &str) -> String {
    unicode_security::confusable_detection::skeleton(&fold(name)).collect()
}

fn refusal(field: &str, what: &str, c: char, kind: &str) -> ApiError {
    ApiError::invalid_field(
        field,
        format!(
            "{what} cannot contain {kind} (U+{:04X} is one).",
            u32::from(c)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn refused(r: Result<(), ApiError>) -> bool {
        r.is_err_and(|e| e.code == ErrorCode::InvalidInput && e.field.as_deref() == Some("f"))
    }

    #[test]
    fn prose_keeps_lines_and_tabs_but_no_other_controls() {
        assert!(prose("f", "A text", "two\nlines\tand a tab, عربي, 👨‍👩‍👧").is_ok());
        for bad in [
            "nul\u{0}",
            "bell\u{7}",
            "esc\u{1b}[31m",
            "cr\r",
            "del\u{7f}",
            "\u{85}",
        ] {
            assert!(refused(prose("f", "A text", bad)), "{bad:?}");
        }
    }

    #[test]
    fn labels_refuse_direction_overrides() {
        assert!(label("f", "A topic", "plain topic\nsecond line").is_ok());
        for bad in ["x\u{202E}fdp.exe", "a\u{2066}b", "\u{200F}", "nul\u{0}"] {
            assert!(refused(label("f", "A topic", bad)), "{bad:?}");
        }
    }

    #[test]
    fn names_refuse_controls_direction_and_invisible_characters() {
        assert!(name("f", "A name", "Café ☕ 日本").is_ok());
        for bad in [
            "Lounge\u{200B}",
            "Lo\u{200D}unge",
            "\u{FEFF}Lounge",
            "Lou\u{00AD}nge",
            "Lounge\u{FE0F}",
            "Lounge\u{E0041}",
            "Lou\u{180B}nge",
            "x\u{202E}fdp.exe",
            "two\nlines",
            "tab\there",
            "nul\u{0}",
        ] {
            assert!(refused(name("f", "A name", bad)), "{bad:?}");
        }
        let err = name("f", "A room name", "a\u{200B}").unwrap_err();
        assert_eq!(
            err.message,
            "A room name cannot contain invisible characters (U+200B is one)."
        );
    }

    #[cfg(feature = "confusables")]
    #[test]
    fn look_alike_names_share_a_skeleton_and_others_do_not() {
        let lounge = skeleton("Lounge");
        for same in [
            "L\u{043E}unge",
            "LOUNGE",
            "\u{FF2C}\u{FF4F}\u{FF55}\u{FF4E}\u{FF47}\u{FF45}",
            "lounge",
        ] {
            assert_eq!(skeleton(same), lounge, "{same:?}");
        }
        for other in ["Lounges", "Longue", "Salon"] {
            assert_ne!(skeleton(other), lounge, "{other:?}");
        }
        // Usernames are ASCII, where some letters and digits look alike.
        assert_eq!(skeleton("bill"), skeleton("BILL"));
        assert_eq!(skeleton("rnike"), skeleton("mike"));
        assert_ne!(skeleton("bill"), skeleton("bell"));
    }
}
