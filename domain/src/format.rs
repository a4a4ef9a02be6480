//! Formatting (docs/RULES.md §6, "Formatting"): a small, safe Markdown subset — bold,
//! italic, strikethrough, inline code, code blocks, links and quotes — parsed on the server
//! into an allow-listed structure that the browser renders as it is. Nothing in it is HTML:
//! raw HTML in a message stays text, a link goes only to http, https or mailto, and nesting
//! is bounded. The stored body stays what the person typed.

use serde::{Deserialize, Serialize};

/// A block of a formatted message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", content = "c", rename_all = "snake_case")]
pub enum Block {
    /// A paragraph (a list item and a heading are shown as one too).
    P(Vec<Inline>),
    /// A code block: monospace, spacing kept.
    Code(String),
    Quote(Vec<Block>),
}

/// A run of text inside a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", content = "c", rename_all = "snake_case")]
pub enum Inline {
    /// Plain text; the renderer still makes bare `http(s)://` addresses clickable.
    Text(String),
    Br,
    B(Vec<Inline>),
    I(Vec<Inline>),
    S(Vec<Inline>),
    Code(String),
    Link {
        href: String,
        text: Vec<Inline>,
    },
    /// `@name` resolved to a member when the text was stored (`user`), or `@room` (no
    /// `user`): `text` is what was typed.
    Mention {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<crate::UserId>,
        text: String,
    },
}

/// How deep emphasis, links and quotes may nest; deeper, they are kept as text.
pub const MAX_DEPTH: usize = 8;

/// Whether `href` may be a link: http, https or mailto, with nothing that could make what
/// is shown differ from where it goes (controls, spaces, direction marks, invisibles).
pub fn safe_href(href: &str) -> bool {
    let lower = href.to_ascii_lowercase();
    let scheme_ok = ["http://", "https://", "mailto:"]
        .iter()
        .any(|s| lower.starts_with(s) && lower.len() > s.len());
    scheme_ok
        && !href.chars().any(|c| {
            c.is_control()
                || c.is_whitespace()
                || crate::text::is_bidi_control(c)
                || crate::text::is_invisible(c)
        })
}

/// Whether `blocks` say anything plain text would not: one paragraph of text and line breaks
/// needs no structure on the wire.
pub fn is_plain(blocks: &[Block]) -> bool {
    match blocks {
        [] => true,
        [Block::P(inlines)] => inlines
            .iter()
            .all(|i| matches!(i, Inline::Text(_) | Inline::Br)),
        _ => false,
    }
}

/// The case-folded names of the `@name`s in `blocks`' text, in order: not in code, and not
/// in a link's text (a link says where it goes, not whom it calls).
pub fn mention_keys(blocks: &[Block]) -> Vec<String> {
    fn inlines(out: &mut Vec<String>, list: &[Inline]) {
        for i in list {
            match i {
                Inline::Text(t) => out.extend(crate::mention::tokens(t).iter().map(|t| t.key())),
                Inline::B(c) | Inline::I(c) | Inline::S(c) => inlines(out, c),
                _ => {}
            }
        }
    }
    fn blocks_of(out: &mut Vec<String>, list: &[Block]) {
        for b in list {
            match b {
                Block::P(i) => inlines(out, i),
                Block::Quote(inner) => blocks_of(out, inner),
                Block::Code(_) => {}
            }
        }
    }
    let mut out = Vec::new();
    blocks_of(&mut out, blocks);
    out
}

/// Marks the `@name`s of `blocks` that `resolve` knows (by case-folded name: `Some(None)`
/// for `@room`, `Some(Some(id))` for a member), where [`mention_keys`] finds them.
pub fn mark_mentions(
    blocks: &mut [Block],
    resolve: &impl Fn(&str) -> Option<Option<crate::UserId>>,
) {
    fn split(
        text: String,
        resolve: &impl Fn(&str) -> Option<Option<crate::UserId>>,
    ) -> Vec<Inline> {
        let mut out = Vec::new();
        let mut from = 0;
        for token in crate::mention::tokens(&text) {
            let Some(user) = resolve(&token.key()) else {
                continue;
            };
            if token.start > from {
                out.push(Inline::Text(text[from..token.start].to_owned()));
            }
            out.push(Inline::Mention {
                user,
                text: text[token.start..token.end].to_owned(),
            });
            from = token.end;
        }
        if from == 0 {
            return vec![Inline::Text(text)];
        }
        if from < text.len() {
            out.push(Inline::Text(text[from..].to_owned()));
        }
        out
    }
    fn inlines(list: &mut Vec<Inline>, resolve: &impl Fn(&str) -> Option<Option<crate::UserId>>) {
        let mut out = Vec::with_capacity(list.len());
        for i in list.drain(..) {
            match i {
                Inline::Text(t) => out.extend(split(t, resolve)),
                Inline::B(mut c) => {
                    inlines(&mut c, resolve);
                    out.push(Inline::B(c));
                }
                Inline::I(mut c) => {
                    inlines(&mut c, resolve);
                    out.push(Inline::I(c));
                }
                Inline::S(mut c) => {
                    inlines(&mut c, resolve);
                    out.push(Inline::S(c));
                }
                other => out.push(other),
            }
        }
        *list = out;
    }
    for b in blocks {
        match b {
            Block::P(i) => inlines(i, resolve),
            Block::Quote(inner) => mark_mentions(inner, resolve),
            Block::Code(_) => {}
        }
    }
}

#[cfg(feature = "markdown")]
pub use parse::parse;

#[cfg(feature = "markdown")]
mod parse {
    use pulldown_cmark::{Event, Options, Parser, Tag};

    use super::{safe_href, Block, Inline, MAX_DEPTH};

    /// What is open while the events stream by.
    enum Open {
        Quote(Vec<Block>),
        Para(Vec<Inline>),
        Code(String),
        Span(Span, Vec<Inline>),
        /// Nesting past `MAX_DEPTH`, or a tag shown as its text only (an image's alt text).
        Flat,
    }

    #[derive(Clone)]
    enum Span {
        B,
        I,
        S,
        Link(Option<String>),
    }

    /// Parses a message body into blocks. Linear in the body's length (pulldown-cmark's
    /// promise), whatever it holds.
    pub fn parse(body: &str) -> Vec<Block> {
        let mut stack: Vec<Open> = Vec::new();
        let mut out: Vec<Block> = Vec::new();
        for event in Parser::new_ext(body, Options::ENABLE_STRIKETHROUGH) {
            match event {
                Event::Start(tag) => start(&mut stack, &mut out, tag),
                Event::End(_) => close(&mut stack, &mut out),
                // Raw HTML is text like any other.
                Event::Text(t) | Event::Html(t) | Event::InlineHtml(t) => text(&mut stack, &t),
                Event::Code(t) => inline(&mut stack, Inline::Code(t.into_string())),
                Event::SoftBreak | Event::HardBreak => inline(&mut stack, Inline::Br),
                Event::Rule => text(&mut stack, "———"),
                Event::TaskListMarker(done) => text(&mut stack, if done { "[x] " } else { "[ ] " }),
                Event::FootnoteReference(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                    text(&mut stack, &t)
                }
            }
        }
        // Close whatever is still open (the parser balances its events; this is a guard).
        while !stack.is_empty() {
            close(&mut stack, &mut out);
        }
        out
    }

    fn start(stack: &mut Vec<Open>, out: &mut Vec<Block>, tag: Tag<'_>) {
        if stack.len() >= MAX_DEPTH {
            stack.push(Open::Flat);
            return;
        }
        let open = match tag {
            Tag::BlockQuote(_) => {
                end_para(stack, out);
                Open::Quote(Vec::new())
            }
            Tag::CodeBlock(_) => {
                end_para(stack, out);
                Open::Code(String::new())
            }
            // A paragraph inside a list item continues the item's line.
            Tag::Paragraph if matches!(stack.last(), Some(Open::Para(_))) => Open::Flat,
            Tag::Paragraph | Tag::Heading { .. } | Tag::HtmlBlock => {
                end_para(stack, out);
                Open::Para(Vec::new())
            }
            Tag::Item => {
                end_para(stack, out);
                Open::Para(vec![Inline::Text("• ".to_owned())])
            }
            Tag::Emphasis => Open::Span(Span::I, Vec::new()),
            Tag::Strong => Open::Span(Span::B, Vec::new()),
            Tag::Strikethrough => Open::Span(Span::S, Vec::new()),
            Tag::Link { dest_url, .. } => {
                let href = dest_url.trim().to_owned();
                Open::Span(Span::Link(safe_href(&href).then_some(href)), Vec::new())
            }
            // Images never load: their alt text is shown.
            _ => Open::Flat,
        };
        stack.push(open);
    }

    /// Closes the innermost open tag, handing what it made to the one around it.
    fn close(stack: &mut Vec<Open>, out: &mut Vec<Block>) {
        let Some(open) = stack.pop() else { return };
        match open {
            Open::Flat => {}
            Open::Para(inlines) => {
                if !inlines.is_empty() {
                    block(stack, out, Block::P(inlines));
                }
            }
            Open::Code(code) => {
                let code = code.strip_suffix('\n').unwrap_or(&code).to_owned();
                block(stack, out, Block::Code(code));
            }
            Open::Quote(blocks) => block(stack, out, Block::Quote(blocks)),
            Open::Span(span, inlines) => {
                let made = match span {
                    Span::B => Inline::B(inlines),
                    Span::I => Inline::I(inlines),
                    Span::S => Inline::S(inlines),
                    Span::Link(Some(href)) => Inline::Link {
                        href,
                        text: inlines,
                    },
                    // Not a link we make: its text stays, without the address.
                    Span::Link(None) => {
                        for i in inlines {
                            inline(stack, i);
                        }
                        return;
                    }
                };
                inline(stack, made);
            }
        }
    }

    /// Ends an open paragraph before a block starts beside it.
    fn end_para(stack: &mut Vec<Open>, out: &mut Vec<Block>) {
        if matches!(stack.last(), Some(Open::Para(_))) {
            close(stack, out);
        }
    }

    fn block(stack: &mut [Open], out: &mut Vec<Block>, b: Block) {
        match stack.iter_mut().rev().find(|o| matches!(o, Open::Quote(_))) {
            Some(Open::Quote(blocks)) => blocks.push(b),
            _ => out.push(b),
        }
    }

    fn inline(stack: &mut Vec<Open>, i: Inline) {
        for open in stack.iter_mut().rev() {
            match open {
                Open::Span(_, inlines) | Open::Para(inlines) => {
                    inlines.push(i);
                    return;
                }
                Open::Code(code) => {
                    if let Inline::Text(t) | Inline::Code(t) = &i {
                        code.push_str(t);
                    }
                    return;
                }
                Open::Flat => continue,
                Open::Quote(_) => break,
            }
        }
        // Text outside any paragraph (inside a quote, or loose): a paragraph of its own.
        stack.push(Open::Para(vec![i]));
    }

    fn text(stack: &mut Vec<Open>, t: &str) {
        // Next to text just added, text joins it.
        for open in stack.iter_mut().rev() {
            match open {
                Open::Span(_, inlines) | Open::Para(inlines) => {
                    if let Some(Inline::Text(prev)) = inlines.last_mut() {
                        prev.push_str(t);
                        return;
                    }
                    break;
                }
                Open::Flat => continue,
                _ => break,
            }
        }
        inline(stack, Inline::Text(t.to_owned()));
    }
}

#[cfg(all(test, feature = "markdown"))]
mod tests {
    use super::*;

    fn p(inlines: Vec<Inline>) -> Vec<Block> {
        vec![Block::P(inlines)]
    }

    fn t(s: &str) -> Inline {
        Inline::Text(s.to_owned())
    }

    #[test]
    fn the_subset_is_parsed() {
        assert_eq!(
            parse("**bold** *it* ~~gone~~ `code`"),
            p(vec![
                Inline::B(vec![t("bold")]),
                t(" "),
                Inline::I(vec![t("it")]),
                t(" "),
                Inline::S(vec![t("gone")]),
                t(" "),
                Inline::Code("code".into()),
            ])
        );
        assert_eq!(
            parse("```\nfn  main() {}\n  x\n```"),
            vec![Block::Code("fn  main() {}\n  x".into())]
        );
        assert_eq!(
            parse("> quoted\n\nafter"),
            vec![
                Block::Quote(p(vec![t("quoted")])),
                Block::P(vec![t("after")])
            ]
        );
        assert_eq!(
            parse("[site](https://example.com) <https://a.example>"),
            p(vec![
                Inline::Link {
                    href: "https://example.com".into(),
                    text: vec![t("site")]
                },
                t(" "),
                Inline::Link {
                    href: "https://a.example".into(),
                    text: vec![t("https://a.example")]
                },
            ])
        );
        assert_eq!(parse("one\ntwo"), p(vec![t("one"), Inline::Br, t("two")]));
        assert!(is_plain(&parse("just words\nand a line")));
        assert!(!is_plain(&parse("**not** plain")));
        assert_eq!(
            parse("- a\n- b"),
            vec![Block::P(vec![t("• a")]), Block::P(vec![t("• b")])]
        );
    }

    #[test]
    fn hostile_input_stays_inert() {
        let cases: &[(&str, Vec<Block>)] = &[
            (
                "<script>alert(1)</script>",
                p(vec![t("<script>alert(1)</script>")]),
            ),
            ("<b>x</b>", p(vec![t("<b>x</b>")])),
            ("[x](javascript:alert(1))", p(vec![t("x")])),
            ("[x](JaVaScRiPt:alert(1))", p(vec![t("x")])),
            ("[x](data:text/html,<script>)", p(vec![t("x")])),
            ("[x](vbscript:msgbox)", p(vec![t("x")])),
            ("[x](//evil.example)", p(vec![t("x")])),
            ("[x](https://a.example/\u{202E}gpj.exe)", p(vec![t("x")])),
            ("![img](https://evil.example/track.png)", p(vec![t("img")])),
        ];
        for (input, want) in cases {
            assert_eq!(&parse(input), want, "{input:?}");
        }
        assert!(safe_href("mailto:a@b.example"));
        assert!(!safe_href("https://"));
        assert!(!safe_href("https://a b"));
    }

    #[test]
    fn mentions_are_found_in_text_and_marked_but_never_in_code_or_links() {
        let blocks = parse("hi @Ann and **@bob**, `@cy` [@dee](https://x.example) @room");
        assert_eq!(mention_keys(&blocks), ["ann", "bob", "room"]);
        let mut marked = blocks.clone();
        let ann = crate::UserId::from("u-ann");
        mark_mentions(&mut marked, &|k: &str| match k {
            "ann" => Some(Some(ann.clone())),
            "room" => Some(None),
            _ => None,
        });
        let Block::P(inlines) = &marked[0] else {
            panic!("{marked:?}")
        };
        assert_eq!(inlines[0], t("hi "));
        assert_eq!(
            inlines[1],
            Inline::Mention {
                user: Some(ann.clone()),
                text: "@Ann".into()
            }
        );
        assert_eq!(inlines[2], t(" and "));
        // Unknown to the resolver: text as it was.
        assert_eq!(inlines[3], Inline::B(vec![t("@bob")]));
        assert_eq!(
            inlines.last(),
            Some(&Inline::Mention {
                user: None,
                text: "@room".into()
            })
        );
        assert!(!is_plain(&marked));
    }

    fn depth_of(blocks: &[Block]) -> usize {
        fn inline(i: &Inline) -> usize {
            match i {
                Inline::B(c) | Inline::I(c) | Inline::S(c) | Inline::Link { text: c, .. } => {
                    1 + c.iter().map(inline).max().unwrap_or(0)
                }
                _ => 1,
            }
        }
        blocks
            .iter()
            .map(|b| match b {
                Block::P(c) => 1 + c.iter().map(inline).max().unwrap_or(0),
                Block::Code(_) => 1,
                Block::Quote(c) => 1 + depth_of(c),
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn nesting_is_bounded_and_huge_inputs_finish() {
        // Emphasis, quotes and links nested far past the bound are flattened.
        let bomb = format!("{}x{}", "*_".repeat(2000), "_*".repeat(2000));
        assert!(depth_of(&parse(&bomb)) <= MAX_DEPTH + 2);
        let quotes = format!("{}deep", "> ".repeat(500));
        assert!(depth_of(&parse(&quotes)) <= MAX_DEPTH + 2);
        let links = format!(
            "{}x{}",
            "[".repeat(3000),
            "](https://a.example)".repeat(3000)
        );
        assert!(depth_of(&parse(&links)) <= MAX_DEPTH + 2);
        // 10,000 backticks in a line are text; at the start of one, an empty code block.
        let ticks = format!("x {}", "`".repeat(10_000));
        assert_eq!(parse(&ticks), p(vec![t(&ticks)]));
        assert_eq!(parse(&"`".repeat(10_000)), vec![Block::Code(String::new())]);
        // Unclosed runs of every marker stay bounded.
        for marker in ["*", "_", "~~", "[", "> ", "```"] {
            let long = marker.repeat(4000);
            let blocks = parse(&long);
            assert!(depth_of(&blocks) <= MAX_DEPTH + 2, "{marker}");
        }
    }
}
