//! Draws the full-screen client from its state: rooms with unread counts on the left,
//! messages in the middle, members on the right when the terminal is wide enough, the
//! composer and the status line at the bottom. Everything others wrote passes through
//! [`inert`] first, so a message is only ever text on the screen.

use std::time::Instant;

use domain::{
    message::{MessageKind, MessageView},
    vocab::Role,
};
use ratatui::{
    layout::{Constraint, Layout, Position, Rect},
    style::{Color, Modifier, Style},
    text::{Line, Span},
    widgets::{Block, Borders, List, ListItem, Paragraph},
    Frame,
};
use unicode_width::UnicodeWidthChar;

use super::state::{sticker_art, Link, Notice, Room, Screen};
use crate::render::{clock, describe, inert, palette_index};

/// From this width on, the members column shows.
pub const WIDE: u16 = 100;
const SIDE: u16 = 22;
/// Where a wrapped message's next lines start: under the text, past "HH:MM ".
const INDENT: usize = 6;

pub fn draw(frame: &mut Frame, app: &Screen, now: Instant) {
    let [main, composer, status] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let wide = frame.area().width >= WIDE;
    let [rooms, messages, members] = Layout::horizontal([
        Constraint::Length(SIDE),
        Constraint::Min(20),
        Constraint::Length(if wide { SIDE } else { 0 }),
    ])
    .areas(main);
    draw_rooms(frame, app, rooms);
    draw_messages(frame, app, messages);
    if wide {
        draw_members(frame, app, members);
    }
    draw_composer(frame, app, composer, now);
    draw_status(frame, app, status, now);
}

fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

fn draw_rooms(frame: &mut Frame, app: &Screen, area: Rect) {
    let inner = usize::from(area.width.saturating_sub(2));
    let items: Vec<ListItem> = app
        .rooms
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let badge = match r.unread {
                0 => String::new(),
                n if n > 99 => " 99+".into(),
                n => format!(" {n}"),
            };
            let name = fit(
                &format!("#{}", inert(&r.room.name)),
                inner.saturating_sub(badge.len()),
            );
            let pad = inner.saturating_sub(width_of(&name) + badge.len());
            let mut style = Style::new();
            if r.unread > 0 {
                style = style.add_modifier(Modifier::BOLD);
            }
            if i == app.current {
                style = style.add_modifier(Modifier::REVERSED);
            }
            ListItem::new(Line::from(vec![
                Span::styled(format!("{name}{}", " ".repeat(pad)), style),
                Span::styled(badge, style.fg(Color::Yellow)),
            ]))
        })
        .collect();
    let title = format!(" {} ", inert(&app.me.username));
    let list = if items.is_empty() {
        List::new(vec![ListItem::new(Line::styled(
            "No rooms: /join NAME",
            dim(),
        ))])
    } else {
        List::new(items)
    };
    frame.render_widget(list.block(Block::bordered().title(title)), area);
}

fn draw_messages(frame: &mut Frame, app: &Screen, area: Rect) {
    let Some(room) = app.room() else {
        let block = Block::bordered().title(" Parlor ");
        let hint = Paragraph::new(Line::styled(
            "You are in no room yet. Type /join NAME and Enter.",
            dim(),
        ))
        .block(block);
        frame.render_widget(hint, area);
        return;
    };
    let topic = room
        .room
        .topic
        .as_deref()
        .map(|t| format!(" — {}", inert(t)))
        .unwrap_or_default();
    let mut title = format!(" #{}{topic} ", inert(&room.room.name));
    if room.scroll > 0 {
        title.push_str(&format!("[{} newer below: PgDn] ", room.scroll));
    }
    let block = Block::bordered().title(fit(&title, usize::from(area.width.saturating_sub(2))));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = timeline(
        app,
        room,
        usize::from(inner.width),
        usize::from(inner.height),
    );
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The lines that fill the message pane, newest at the bottom, `room.scroll` messages up.
fn timeline(app: &Screen, room: &Room, width: usize, height: usize) -> Vec<Line<'static>> {
    let shown = room.messages.len().saturating_sub(room.scroll);
    let mut lines: Vec<Line<'static>> = Vec::new();
    if room.scroll == 0 {
        for p in app
            .pending
            .iter()
            .filter(|p| p.outgoing.room_id == room.room.id)
        {
            let said = vec![
                Span::styled("      ", dim()),
                Span::styled(
                    format!(
                        "{}: {} (sending…)",
                        inert(&app.me.username),
                        inert(p.outgoing.content.body())
                    ),
                    dim().add_modifier(Modifier::ITALIC),
                ),
            ];
            let mut wrapped = wrap(said, width);
            wrapped.reverse();
            lines.extend(wrapped);
        }
    }
    for m in room.messages[..shown].iter().rev() {
        if lines.len() >= height {
            break;
        }
        let mut wrapped = message_lines(m, width);
        wrapped.reverse();
        lines.extend(wrapped);
    }
    if lines.len() < height {
        let top = if room.loading_older {
            "Loading earlier messages…"
        } else if room.more_before && room.loaded {
            "PgUp for earlier messages"
        } else if room.loaded {
            "The beginning of the room."
        } else {
            "Loading…"
        };
        lines.push(Line::styled(top.to_owned(), dim()));
    }
    // Newest at the bottom: a short room sits at the foot of the pane, as chats do.
    lines.truncate(height);
    lines.resize(height, Line::default());
    lines.reverse();
    lines
}

/// A message as screen lines: time, author, what it says; a sticker as a block of art.
fn message_lines(m: &MessageView, width: usize) -> Vec<Line<'static>> {
    let time = Span::styled(format!("{} ", clock(&m.created_at)), dim());
    let author = m
        .author
        .as_ref()
        .map_or_else(|| "*".to_owned(), |a| inert(&a.username));
    let name = Span::styled(author, Style::new().add_modifier(Modifier::BOLD));
    if m.deleted.is_some() {
        return wrap(
            vec![time, name, Span::styled(" (message deleted)", dim())],
            width,
        );
    }
    let body = inert(m.body.as_deref().unwrap_or_default()).replace('\t', "    ");
    match m.kind {
        MessageKind::System => wrap(vec![time, Span::styled(format!("* {body}"), dim())], width),
        MessageKind::Sticker => {
            let art = m
                .sticker
                .as_deref()
                .and_then(sticker_art)
                .map_or(body, str::to_owned);
            let mut lines = wrap(vec![time, name, Span::raw(":")], width);
            let block = Style::new().fg(Color::Cyan);
            for row in art.lines() {
                lines.push(Line::from(vec![
                    Span::raw(" ".repeat(INDENT)),
                    Span::styled("│ ", dim()),
                    Span::styled(fit(row, width.saturating_sub(INDENT + 2)), block),
                ]));
            }
            lines
        }
        MessageKind::File => {
            let said = match &m.file {
                Some(f) => format!("[file: {} ({} bytes)]", inert(&f.name), f.size),
                None => "[file]".to_owned(),
            };
            wrap(
                vec![time, name, Span::raw(": "), Span::styled(said, dim())],
                width,
            )
        }
        MessageKind::Text => {
            let style = m.color.map_or_else(Style::new, |c| {
                Style::new().fg(Color::Indexed(palette_index(c)))
            });
            let mut lines = Vec::new();
            for (i, part) in body.split('\n').enumerate() {
                let spans = if i == 0 {
                    vec![
                        time.clone(),
                        name.clone(),
                        Span::raw(": "),
                        Span::styled(part.to_owned(), style),
                    ]
                } else {
                    vec![
                        Span::raw(" ".repeat(INDENT)),
                        Span::styled(part.to_owned(), style),
                    ]
                };
                lines.extend(wrap(spans, width));
            }
            if m.edited_at.is_some() {
                if let Some(last) = lines.last_mut() {
                    last.spans.push(Span::styled(" (edited)", dim()));
                }
            }
            lines
        }
    }
}

/// Spans laid out in lines of at most `width` columns, broken after a space where there is
/// one (else mid-word), the later lines indented under the text.
fn wrap(spans: Vec<Span<'static>>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(INDENT + 4);
    let cells: Vec<(char, Style)> = spans
        .iter()
        .flat_map(|span| span.content.chars().map(move |c| (c, span.style)))
        .collect();
    let mut lines = Vec::new();
    let mut line: Vec<(char, Style)> = Vec::new();
    let mut used = 0;
    // Where the current line may break: just after its last space past the indent.
    let mut space_at: Option<usize> = None;
    let indent = || vec![(' ', Style::new()); INDENT];
    for (c, style) in cells {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            let rest = match space_at {
                Some(at) => line.split_off(at),
                None => Vec::new(),
            };
            lines.push(spans_of(std::mem::take(&mut line)));
            line = indent();
            line.extend(rest);
            used = line.iter().map(|(c, _)| c.width().unwrap_or(0)).sum();
            space_at = None;
        }
        line.push((c, style));
        used += w;
        if c == ' ' && line.len() > INDENT + 1 {
            space_at = Some(line.len());
        }
    }
    lines.push(spans_of(line));
    lines
}

/// Styled chars as a line, one span per run of a style.
fn spans_of(cells: Vec<(char, Style)>) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut current: Option<Style> = None;
    for (c, style) in cells {
        if current.is_some_and(|s| s != style) {
            spans.push(Span::styled(
                std::mem::take(&mut text),
                current.unwrap_or_default(),
            ));
        }
        current = Some(style);
        text.push(c);
    }
    spans.push(Span::styled(text, current.unwrap_or_default()));
    Line::from(spans)
}

fn width_of(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `text` cut to `width` columns, with "…" where it was cut.
fn fit(text: &str, width: usize) -> String {
    if width_of(text) <= width {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

fn draw_members(frame: &mut Frame, app: &Screen, area: Rect) {
    let Some(room) = app.room() else {
        frame.render_widget(Block::bordered().title(" Members "), area);
        return;
    };
    let inner = usize::from(area.width.saturating_sub(2));
    let mut members: Vec<_> = room.members.iter().collect();
    // Admins first, then by name.
    members.sort_by_key(|m| (m.role == Role::Member, m.user.username.to_lowercase()));
    let items: Vec<ListItem> = members
        .iter()
        .map(|m| {
            let online = room.online.contains(&m.user.id);
            let dot = if online {
                Span::styled("● ", Style::new().fg(Color::Green))
            } else {
                Span::styled("○ ", dim())
            };
            let mark = match m.role {
                Role::Owner => " owner",
                Role::Admin => " admin",
                Role::Member if m.muted_until.is_some() => " muted",
                Role::Member => "",
            };
            let name = fit(
                &inert(&m.user.username),
                inner.saturating_sub(2 + mark.len()),
            );
            ListItem::new(Line::from(vec![
                dot,
                Span::raw(name),
                Span::styled(mark, dim()),
            ]))
        })
        .collect();
    // The list as loaded and kept live by member frames; the room's count until then.
    let count = if room.members.is_empty() {
        room.room.member_count as usize
    } else {
        room.members.len()
    };
    let title = format!(" Members {count} ");
    frame.render_widget(List::new(items).block(Block::bordered().title(title)), area);
}

fn draw_composer(frame: &mut Frame, app: &Screen, area: Rect, now: Instant) {
    let name = app
        .room()
        .map_or_else(String::new, |r| format!(" #{}", inert(&r.room.name)));
    let color = app
        .color
        .map(|c| format!(" · {}", c.as_str()))
        .unwrap_or_default();
    let mut block = Block::new()
        .borders(Borders::ALL)
        .title(format!(" Message{name}{color} "));
    if let Some(room) = app.room() {
        let typing: Vec<_> = room
            .typing
            .iter()
            .filter(|(_, until)| *until > now)
            .map(|(u, _)| inert(&u.username))
            .collect();
        if !typing.is_empty() {
            let who = match typing.len() {
                1 => format!(" {} is typing… ", typing[0]),
                _ => format!(" {} are typing… ", typing.join(", ")),
            };
            block = block.title_bottom(Line::styled(who, dim()));
        }
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // The draft scrolls sideways so the cursor stays in sight.
    let width = usize::from(inner.width.saturating_sub(1)).max(1);
    let before: String = app.draft.chars().take(app.cursor).collect();
    let skip = width_of(&before).saturating_sub(width);
    let mut shown = String::new();
    let mut at = 0;
    for c in app.draft.chars() {
        let w = c.width().unwrap_or(0);
        if at >= skip {
            shown.push(c);
        }
        at += w;
    }
    let line = if app.draft.is_empty() {
        Line::styled("Type a message, or /help", dim())
    } else {
        Line::raw(inert(&shown))
    };
    frame.render_widget(Paragraph::new(line), inner);
    let x = inner.x + u16::try_from(width_of(&before) - skip).unwrap_or(0);
    frame.set_cursor_position(Position::new(
        x.min(inner.right().saturating_sub(1)),
        inner.y,
    ));
}

fn draw_status(frame: &mut Frame, app: &Screen, area: Rect, now: Instant) {
    let alert = Style::new().fg(Color::White).bg(Color::Red);
    let (text, style) = match (&app.link, app.wait_left(now), &app.notice) {
        (Link::Offline { why, retry_at }, _, _) => {
            let left = retry_at.saturating_duration_since(now).as_secs_f32().ceil();
            (
                format!(
                    "Can't reach {} ({}). Trying again in {left:.0} s; your draft is kept.",
                    inert(&app.server),
                    inert(why)
                ),
                alert,
            )
        }
        (Link::Connecting, _, _) => (format!("Connecting to {}…", app.server), dim()),
        (_, Some(left), _) => (
            format!("Slow down: you can send again in {left} s."),
            Style::new().fg(Color::Black).bg(Color::Yellow),
        ),
        (_, None, Some(Notice::Error(e))) => (inert(e), Style::new().fg(Color::Red)),
        (_, None, Some(Notice::Info(i))) => (inert(i), Style::new()),
        (_, None, None) => match &app.last_notification {
            Some(n) => (format!("• {}", describe(n)), Style::new().fg(Color::Yellow)),
            None => (
                "Tab: next room · PgUp/PgDn: scroll · Enter: send · /help · Esc: quit".into(),
                dim(),
            ),
        },
    };
    frame.render_widget(
        Paragraph::new(Line::styled(fit(&text, usize::from(area.width)), style)),
        area,
    );
}
