//! The message search's query parser (docs/RULES.md, "Search"): any string parses or is
//! refused with `invalid_query` and a sentence, never a panic; what parses hands a backend
//! only letters and digits, and the snippet of any text against it never panics.
#![no_main]
use domain::{
    search::{self, Term},
    ErrorCode,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    // The first line is the query, the rest a message's text.
    let (input, body) = s.split_once('\n').unwrap_or((s, s));
    match search::parse(input) {
        Ok(query) => {
            for term in query.include.iter().chain(&query.exclude) {
                let words = match term {
                    Term::Word(w) | Term::Prefix(w) | Term::Substring(w) => vec![w.clone()],
                    Term::Phrase(ws) => ws.clone(),
                };
                assert!(!words.is_empty());
                for w in words {
                    assert!(!w.is_empty() && w.chars().all(search::is_word_char), "{term:?}");
                }
            }
            let parts = search::snippet(body, &query);
            assert!(parts.iter().all(|p| !p.text.is_empty()));
        }
        Err(e) => {
            assert_eq!(e.code, ErrorCode::InvalidQuery);
            assert!(e.message.ends_with('.'));
        }
    }
    // What the index stores is folded words, one space apart.
    if let Some(text) = search::index_text(body) {
        assert!(!text.starts_with(' ') && !text.ends_with(' ') && !text.contains("  "));
        assert_eq!(search::index_text(&text).as_deref(), Some(text.as_str()));
    }
});
