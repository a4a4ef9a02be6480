//! Message search's query language (docs/RULES.md, "Search"). A person's query is parsed
//! here into a `Query` of plain words and filters; the service builds each database's own
//! query from it with every word bound as a parameter, so no input can reach a backend's
//! query syntax. Whatever is typed gives a `Query` or an `invalid_query` error that says what
//! to fix.
//!
//! - `word`: all words are required; case and diacritics do not matter (`café` finds `cafe`).
//! - `"exact phrase"`: these words, in this order, next to each other.
//! - `-word`, `-"a phrase"`: leave out messages that have it.
//! - `word*`: words that begin so. `*ord` and `*ord*`: the letters anywhere in a word (at
//!   least three). Three or more characters of Chinese, Japanese or Korean are found
//!   anywhere, since those scripts do not put spaces between words.
//! - `from:username`, `in:room-name`, `has:file`, `has:link`, `mentions:me`,
//!   `before:YYYY-MM-DD` (earlier than that day) and `after:YYYY-MM-DD` (later than that day),
//!   days in UTC.
//!
//! Anything else with a colon (`time:5pm`, `https://…`) is plain text.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::error::{ApiError, ErrorCode};

/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// The most words and phrases one query may hold, included and excluded together.
pub const MAX_TERMS: usize = 16;
/// The fewest characters a search inside words may have (the trigram indexes' unit).
pub const MIN_SUBSTRING_CHARS: usize = 3;
/// The fewest characters before a `*`.
pub const MIN_PREFIX_CHARS: usize = 2;
/// The longest word the word indexes hold (PostgreSQL refuses lexemes over 2 KiB): a longer
/// word, or prefix, is searched for inside the text instead, the same on both databases.
pub const MAX_WORD_CHARS: usize = 64;

/// One thing to look for, its words already folded (`fold`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A whole word.
    Word(String),
    /// Words that begin with this.
    Prefix(String),
    /// Whole words, in this order, next to each other (a quoted phrase, or a word with
    /// punctuation inside, such as `e-mail`).
    Phrase(Vec<String>),
    /// These characters anywhere in the text (`*ord*`, or Chinese, Japanese and Korean).
    Substring(String),
}

/// A calendar day (UTC), from `before:` and `after:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Day {
    /// `YYYY-MM-DD`, a day that exists.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !(all_digits(y) && all_digits(m) && all_digits(d)) {
            return None;
        }
        let day = Self {
            year: y.parse().ok()?,
            month: m.parse().ok()?,
            day: d.parse().ok()?,
        };
        let last = match day.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if day.year % 4 == 0 && (day.year % 100 != 0 || day.year % 400 == 0) => 29,
            2 => 28,
            _ => return None,
        };
        (day.year >= 1970 && (1..=last).contains(&day.day)).then_some(day)
    }

    /// Milliseconds since the Unix epoch at this day's first instant, UTC.
    pub fn start_ms(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        days * 86_400_000
    }

    /// The next day's first instant: `after:D` means from here on.
    pub fn end_ms(self) -> i64 {
        self.start_ms() + 86_400_000
    }
}

/// A parsed query: what to find, what to leave out, and the filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub include: Vec<Term>,
    pub exclude: Vec<Term>,
    /// `from:` a username (without `@`).
    pub from: Option<String>,
    /// `in:` a room's name (without `#`).
    pub room: Option<String>,
    pub has_file: bool,
    pub has_link: bool,
    pub mentions_me: bool,
    /// Messages sent before this instant (ms), from `before:`.
    pub before_ms: Option<i64>,
    /// Messages sent at or after this instant (ms), from `after:`.
    pub after_ms: Option<i64>,
}

impl Query {
    /// True when some word, phrase or piece of one must be found, so a text index does the work.
    pub fn has_text(&self) -> bool {
        !self.include.is_empty()
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidQuery, message).for_field("query")
}

/// Case folded, diacritics removed, NFC: the form both the index and the query words take,
/// so `Café`, `cafe` and `CAFÉ` are one word on either database.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .nfc()
        .collect()
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// A character that belongs to a word: letters and digits of any script.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Scripts written without spaces between words: searched inside the text, not by word.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF   // Hiragana, Katakana
        | 0x3400..=0x4DBF // CJK Extension A
        | 0x4E00..=0x9FFF // CJK Unified Ideographs
        | 0xAC00..=0xD7AF // Hangul syllables
        | 0x1100..=0x11FF // Hangul Jamo
        | 0xF900..=0xFAFF // CJK compatibility ideographs
        | 0x20000..=0x2FA1F)
}

/// The words of a (folded) text, as both indexes cut it: runs of letters and digits.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parses what a person typed. Never panics, whatever the input.
pub fn parse(input: &str) -> Result<Query, ApiError> {
    if input.chars().count() > MAX_QUERY_CHARS {
        return Err(invalid(format!(
            "Shorten the search to at most {MAX_QUERY_CHARS} characters."
        )));
    }
    // Control characters (NUL among them) separate words like spaces.
    let cleaned: String = input
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut query = Query::default();
    let mut chars = cleaned.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let exclude = first == '-';
        if exclude {
            chars.next();
        }
        let term = if chars.peek() == Some(&'"') {
            chars.next();
            let mut phrase = String::new();
            let mut closed = false;
            for c in chars.by_ref() {
                if c == '"' {
                    closed = true;
                    break;
                }
                phrase.push(c);
            }
            if !closed {
                return Err(invalid(
                    "A quote is not closed: put a \" at the end of the phrase.",
                ));
            }
            phrase_term(&phrase)?
        } else {
            let mut token = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '"' {
                    break;
                }
                token.push(c);
                chars.next();
            }
            if !exclude && filter(&token, &mut query)? {
                continue;
            }
            token_term(&token)?
        };
        match (term, exclude) {
            (None, _) => {}
            (Some(term), true) => query.exclude.push(term),
            (Some(term), false) => query.include.push(term),
        }
        if query.include.len() + query.exclude.len() > MAX_TERMS {
            return Err(invalid(format!(
                "Search for at most {MAX_TERMS} words and phrases at once."
            )));
        }
    }
    let filtered = query.from.is_some()
        || query.room.is_some()
        || query.has_file
        || query.has_link
        || query.mentions_me
        || query.before_ms.is_some()
        || query.after_ms.is_some();
    if query.include.is_empty() && !filtered {
        return Err(invalid(if query.exclude.is_empty() {
            "Type a word to search for."
        } else {
            "Add a word to look for, besides the ones to leave out."
        }));
    }
    if let (Some(after), Some(before)) = (query.after_ms, query.before_ms) {
        if after >= before {
            return Err(invalid("after: must be a day earlier than before:."));
        }
    }
    Ok(query)
}

/// A `key:value` filter, stored in `query`; false when `token` is not one.
fn filter(token: &str, query: &mut Query) -> Result<bool, ApiError> {
    let Some((key, value)) = token.split_once(':') else {
        return Ok(false);
    };
    match key.to_lowercase().as_str() {
        "from" => {
            let name = value.trim_start_matches('@');
            if name.is_empty() {
                return Err(invalid("Put a username after from:, like from:ann."));
            }
            query.from = Some(name.to_owned());
        }
        "in" => {
            let name = value.trim_start_matches('#');
            if name.is_empty() {
                return Err(invalid("Put a room's name after in:, like in:general."));
            }
            query.room = Some(name.to_owned());
        }
        "has" => match value.to_lowercase().as_str() {
            "file" => query.has_file = true,
            "link" => query.has_link = true,
            _ => return Err(invalid("has: takes file or link, like has:file.")),
        },
        "mentions" => match value.to_lowercase().as_str() {
            "me" => query.mentions_me = true,
            _ => return Err(invalid("mentions: takes me, like mentions:me.")),
        },
        "before" | "after" => {
            let Some(day) = Day::parse(value) else {
                return Err(invalid(format!(
                    "Write {key}: with a date like {key}:2026-12-31."
                )));
            };
            if key.eq_ignore_ascii_case("before") {
                query.before_ms = Some(day.start_ms());
            } else {
                query.after_ms = Some(day.end_ms());
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// A quoted phrase: its words in order (one word is just a word).
fn phrase_term(text: &str) -> Result<Option<Term>, ApiError> {
    let folded = fold(text);
    if folded.chars().any(is_cjk) {
        return substring_term(&folded).map(Some);
    }
    let mut words = words(&folded);
    Ok(match words.len() {
        0 => None,
        1 => words.pop().map(word_term),
        _ => Some(Term::Phrase(words)),
    })
}

/// An unquoted token: a word, `word*`, `*ord`, `*ord*`, or punctuation-joined words.
fn token_term(token: &str) -> Result<Option<Term>, ApiError> {
    let folded = fold(token);
    let leading = folded.starts_with('*');
    let trailing = folded.ends_with('*');
    let core = folded.trim_matches('*');
    if core.contains('*') {
        return Err(invalid(
            "A * goes at the start or the end of a word, like cat* or *cat.",
        ));
    }
    if core.chars().any(is_cjk) {
        return substring_term(core).map(Some);
    }
    let mut parts = words(core);
    if leading {
        return match parts.as_slice() {
            [] => Err(invalid("A * needs letters beside it, like cat* or *cat.")),
            [word] => substring_term(word).map(Some),
            _ => Err(invalid("A * goes with a single word, like *cat.")),
        };
    }
    if trailing {
        return match parts.as_slice() {
            [] => Err(invalid("A * needs letters beside it, like cat* or *cat.")),
            [word] if word.chars().count() < MIN_PREFIX_CHARS => Err(invalid(format!(
                "Put at least {MIN_PREFIX_CHARS} letters before a *."
            ))),
            [word] if word.chars().count() > MAX_WORD_CHARS => substring_term(word).map(Some),
            [word] => Ok(Some(Term::Prefix(word.clone()))),
            _ => Err(invalid("A * goes with a single word, like cat*.")),
        };
    }
    Ok(match parts.len() {
        0 => None,
        1 => parts.pop().map(word_term),
        _ => Some(Term::Phrase(parts)),
    })
}

/// A whole word, or, past [`MAX_WORD_CHARS`], the same letters anywhere.
fn word_term(word: String) -> Term {
    if word.chars().count() > MAX_WORD_CHARS {
        Term::Substring(word)
    } else {
        Term::Word(word)
    }
}

fn substring_term(text: &str) -> Result<Term, ApiError> {
    let text: String = text.chars().filter(|c| is_word_char(*c)).collect();
    if text.chars().count() < MIN_SUBSTRING_CHARS {
        return Err(invalid(format!(
            "Search inside words with at least {MIN_SUBSTRING_CHARS} characters."
        )));
    }
    Ok(Term::Substring(text))
}

/// How results are ordered: newest first (the default), or best match first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchOrder {
    #[default]
    Newest,
    Best,
}

/// The room a hit is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HitRoom {
    pub id: crate::RoomId,
    pub name: String,
}

/// One message found, with its room and a snippet of its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub message: crate::message::MessageView,
    pub room: HitRoom,
    pub snippet: Vec<SnippetPart>,
}

/// The most hits one page holds, and how many when a client does not say.
pub const PAGE_MAX: u64 = 50;
pub const PAGE_DEFAULT: u64 = 20;
/// `messages/around`: how many messages each way, when a client does not say, and at most.
pub const AROUND_DEFAULT: u64 = 25;
pub const AROUND_MAX: u64 = 50;

/// What the index holds for a message's text: its folded words, one space between each, or
/// `None` when it has no words. Both databases index this same text, so they find the same.
pub fn index_text(body: &str) -> Option<String> {
    let joined = words(&fold(body)).join(" ");
    (!joined.is_empty()).then_some(joined)
}

/// `has:link`: the text holds a web address.
pub fn has_link(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    lower.contains("http://") || lower.contains("https://")
}

/// How many characters of text a snippet shows around its first match.
pub const SNIPPET_CHARS: usize = 160;

/// One piece of a result's snippet: plain text, marked when it matched the query. The
/// client shows `text` as text and marks `hit` pieces; no HTML ever travels in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetPart {
    pub text: String,
    pub hit: bool,
}

/// A piece of `body` around the query's first match, with every match in it marked. Words
/// are matched as the index matches them (folded), so `cafe` marks `Café`.
pub fn snippet(body: &str, query: &Query) -> Vec<SnippetPart> {
    let chars: Vec<char> = body.chars().collect();
    // The folded text, and for each of its chars the original char it came from.
    let mut folded = Vec::new();
    let mut origin = Vec::new();
    for (i, c) in chars.iter().enumerate() {
        for f in fold(&c.to_string()).chars() {
            folded.push(f);
            origin.push(i);
        }
    }
    let mut marked = vec![false; chars.len()];
    let mut mark = |from: usize, to: usize| {
        for &i in &origin[from..to] {
            marked[i] = true;
        }
    };
    // Words of the folded text, as (start, end) in `folded`.
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in folded.iter().enumerate() {
        match (is_word_char(*c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, folded.len()));
    }
    let word_at = |(s, e): (usize, usize)| folded[s..e].iter().collect::<String>();
    for term in &query.include {
        match term {
            Term::Word(w) => spans
                .iter()
                .filter(|span| word_at(**span) == *w)
                .for_each(|&(s, e)| mark(s, e)),
            Term::Prefix(p) => spans
                .iter()
                .filter(|span| word_at(**span).starts_with(p.as_str()))
                .for_each(|&(s, e)| mark(s, e)),
            Term::Phrase(phrase) if phrase.is_empty() => {}
            Term::Phrase(phrase) => {
                for run in spans.windows(phrase.len()) {
                    if run.iter().zip(phrase).all(|(span, w)| word_at(*span) == *w) {
                        mark(run[0].0, run[run.len() - 1].1);
                    }
                }
            }
            Term::Substring(sub) => {
                let needle: Vec<char> = sub.chars().collect();
                if needle.is_empty() || needle.len() > folded.len() {
                    continue;
                }
                for at in 0..=folded.len() - needle.len() {
                    if folded[at..at + needle.len()] == needle[..] {
                        mark(at, at + needle.len());
                    }
                }
            }
        }
    }
    // A window around the first match, widened to whole words where it can be.
    let first = marked.iter().position(|m| *m).unwrap_or(0);
    let mut from = first.saturating_sub(SNIPPET_CHARS / 3);
    while from > 0 && first - from < SNIPPET_CHARS / 2 && !chars[from - 1].is_whitespace() {
        from -= 1;
    }
    let mut to = (from + SNIPPET_CHARS).min(chars.len());
    while to < chars.len() && to - from < SNIPPET_CHARS + 20 && !chars[to].is_whitespace() {
        to += 1;
    }
    let mut parts: Vec<SnippetPart> = Vec::new();
    let mut push = |text: String, hit: bool| match parts.last_mut() {
        Some(last) if last.hit == hit => last.text.push_str(&text),
        _ => parts.push(SnippetPart { text, hit }),
    };
    if from > 0 {
        push("…".into(), false);
    }
    for i in from..to {
        // Line breaks show as spaces: a snippet is one line.
        let c = if chars[i].is_control() { ' ' } else { chars[i] };
        push(c.to_string(), marked[i]);
    }
    if to < chars.len() {
        push("…".into(), false);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> Query {
        parse(input).unwrap_or_else(|e| panic!("{input:?}: {e:?}"))
    }

    fn refused(input: &str) -> String {
        let e = parse(input).expect_err(input);
        assert_eq!(e.code, ErrorCode::InvalidQuery, "{input:?}");
        assert!(e.message.ends_with('.'), "a sentence: {:?}", e.message);
        e.message
    }

    fn word(w: &str) -> Term {
        Term::Word(w.into())
    }

    #[test]
    fn words_are_all_required_and_folded() {
        let q = ok("  Café   ÜBER naïve ");
        assert_eq!(q.include, vec![word("cafe"), word("uber"), word("naive")]);
        assert!(q.exclude.is_empty() && q.has_text());
    }

    #[test]
    fn phrases_exclusions_and_prefixes() {
        let q = ok(r#""Exact  phrase" -spam -"buy now" deploy* e-mail"#);
        assert_eq!(
            q.include,
            vec![
                Term::Phrase(vec!["exact".into(), "phrase".into()]),
                Term::Prefix("deploy".into()),
                Term::Phrase(vec!["e".into(), "mail".into()]),
            ]
        );
        assert_eq!(
            q.exclude,
            vec![word("spam"), Term::Phrase(vec!["buy".into(), "now".into()])]
        );
    }

    #[test]
    fn inside_words_and_chinese_japanese_korean_are_substrings() {
        assert_eq!(ok("*quant*").include, vec![Term::Substring("quant".into())]);
        assert_eq!(ok("*ness").include, vec![Term::Substring("ness".into())]);
        assert_eq!(ok("東京都").include, vec![Term::Substring("東京都".into())]);
        assert_eq!(
            ok("\"こんにちは\"").include,
            vec![Term::Substring("こんにちは".into())]
        );
        assert!(refused("東京").contains("at least 3"));
        assert!(refused("*ab*").contains("at least 3"));
    }

    #[test]
    fn filters() {
        let q = ok("from:@Ann in:#general has:file has:LINK mentions:me before:2026-12-31 after:2026-01-01 report");
        assert_eq!(q.from.as_deref(), Some("Ann"));
        assert_eq!(q.room.as_deref(), Some("general"));
        assert!(q.has_file && q.has_link && q.mentions_me);
        assert_eq!(
            q.before_ms,
            Some(Day::parse("2026-12-31").unwrap().start_ms())
        );
        assert_eq!(
            q.after_ms,
            Some(Day::parse("2026-01-02").unwrap().start_ms())
        );
        assert_eq!(q.include, vec![word("report")]);
        // Filters alone are a search; other colons are text.
        assert!(!ok("from:ann").has_text());
        assert_eq!(
            ok("time:5pm").include,
            vec![Term::Phrase(vec!["time".into(), "5pm".into()])]
        );
        assert_eq!(
            ok("https://example.com").include,
            vec![Term::Phrase(vec![
                "https".into(),
                "example".into(),
                "com".into()
            ])]
        );
    }

    #[test]
    fn days_are_real_days_in_utc() {
        assert_eq!(Day::parse("1970-01-01").unwrap().start_ms(), 0);
        assert_eq!(
            Day::parse("2000-03-01").unwrap().start_ms(),
            951_868_800_000
        );
        assert_eq!(
            Day::parse("2024-02-29").unwrap().end_ms(),
            1_709_251_200_000
        );
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-01-01",
            "2026-01-32",
            "1969-12-31",
            "２０２６-01-01",
            "",
        ] {
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
        assert!(refused("before:yesterday").contains("before:2026-12-31"));
        assert!(refused("after:2026-12-31 before:2026-12-31").contains("earlier"));
    }

    #[test]
    fn what_cannot_be_searched_says_what_to_fix() {
        assert!(refused("").contains("Type a word"));
        assert!(refused("   \t ").contains("Type a word"));
        assert!(refused("-spam").contains("besides"));
        assert!(refused("\"unclosed phrase").contains("quote"));
        assert!(refused("*").contains("letters beside"));
        assert!(refused("a*").contains("at least 2"));
        assert!(refused("ca*t").contains("start or the end"));
        assert!(refused("from:").contains("from:ann"));
        assert!(refused("has:cheese").contains("file or link"));
        assert!(refused("mentions:you").contains("mentions:me"));
        assert!(refused(&"x".repeat(MAX_QUERY_CHARS + 1)).contains("500"));
        assert!(refused(&"w ".repeat(MAX_TERMS + 1)).contains("16"));
    }

    #[test]
    fn hostile_input_is_text_or_a_clear_refusal() {
        // Backend syntax is only text here: it becomes words, never operators.
        assert_eq!(
            ok("NEAR(a b) OR x AND y").include,
            vec![
                Term::Phrase(vec!["near".into(), "a".into()]),
                word("b"),
                word("or"),
                word("x"),
                word("and"),
                word("y"),
            ]
        );
        assert_eq!(
            ok("'; DROP TABLE messages; --").include,
            vec![word("drop"), word("table"), word("messages")]
        );
        assert_eq!(ok("nul\0byte").include, vec![word("nul"), word("byte")]);
        // Nothing searchable left: a refusal, not an empty search.
        assert!(refused(":").contains("Type a word"));
        assert!(refused("🎉🎉 ::: ---").contains("Type a word"));
        assert_eq!(ok("party 🎉").include, vec![word("party")]);
    }

    #[test]
    fn folding_matches_what_the_index_stores() {
        assert_eq!(fold("Ångström CAFÉ naïve"), "angstrom cafe naive");
        // Decomposed input folds the same as composed.
        assert_eq!(fold("cafe\u{301}"), fold("café"));
        assert_eq!(
            words(&fold("Hello, wörld! x2")),
            vec!["hello", "world", "x2"]
        );
    }

    #[test]
    fn a_word_too_long_for_the_word_index_is_searched_inside_the_text() {
        let long = "x".repeat(MAX_WORD_CHARS + 1);
        assert_eq!(ok(&long).include, vec![Term::Substring(long.clone())]);
        assert_eq!(
            ok(&format!("{long}*")).include,
            vec![Term::Substring(long.clone())]
        );
        let fits = "x".repeat(MAX_WORD_CHARS);
        assert_eq!(ok(&fits).include, vec![word(&fits)]);
    }

    #[test]
    fn the_index_holds_folded_words_and_nothing_for_wordless_text() {
        assert_eq!(
            index_text("Ça va? Très BIEN, e-mail 🎉").as_deref(),
            Some("ca va tres bien e mail")
        );
        assert_eq!(index_text("🎉 !!! ..."), None);
        assert!(has_link("see HTTPS://example.com") && !has_link("http:/ no"));
    }

    fn hits(parts: &[SnippetPart]) -> Vec<&str> {
        parts
            .iter()
            .filter(|p| p.hit)
            .map(|p| p.text.as_str())
            .collect()
    }

    #[test]
    fn snippets_mark_what_matched_and_keep_text_as_text() {
        let q = ok(r#"cafe "new menu" deplo* 京都に"#);
        let parts = snippet(
            "<b>Café</b> has a New  Menu; deploying to 東京都に today",
            &q,
        );
        assert_eq!(
            hits(&parts),
            vec!["Café", "New  Menu", "deploying", "京都に"]
        );
        // The text is the body's, markup and all, for the client to show as text.
        let all: String = parts.iter().map(|p| p.text.as_str()).collect();
        assert!(all.starts_with("<b>Café</b>"));
    }

    #[test]
    fn a_long_text_is_cut_around_its_first_match() {
        let body = format!("{} needle {}", "lorem ".repeat(200), "ipsum ".repeat(200));
        let parts = snippet(&body, &ok("needle"));
        let all: String = parts.iter().map(|p| p.text.as_str()).collect();
        assert!(all.starts_with('…') && all.ends_with('…'), "{all}");
        assert!(
            all.chars().count() <= SNIPPET_CHARS + 24,
            "{}",
            all.chars().count()
        );
        assert_eq!(hits(&parts), vec!["needle"]);
        // A filter-only query marks nothing and shows the start.
        let parts = snippet("short text", &ok("has:link"));
        assert_eq!(
            parts,
            vec![SnippetPart {
                text: "short text".into(),
                hit: false
            }]
        );
    }

    proptest::proptest! {
        /// Any input parses or is refused, and what reaches a backend is letters and digits.
        #[test]
        fn any_input_gives_plain_words_or_a_refusal(input in "\\PC{0,80}|[-\"*:a-z0-9 ()]{0,40}") {
            if let Ok(q) = parse(&input) {
                for term in q.include.iter().chain(&q.exclude) {
                    let words = match term {
                        Term::Word(w) | Term::Prefix(w) | Term::Substring(w) => vec![w.clone()],
                        Term::Phrase(ws) => ws.clone(),
                    };
                    for w in words {
                        proptest::prop_assert!(!w.is_empty() && w.chars().all(is_word_char), "{term:?}");
                    }
                }
            }
        }
    }
}
