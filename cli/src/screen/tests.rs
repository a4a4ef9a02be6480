//! The full-screen client through ratatui's `TestBackend`: the reducer fed keys and frames,
//! the buffer it draws snapshotted (src/screen/snapshots), and the whole loop against a real
//! server on a free port (SQLite, or PostgreSQL when `PARLOR_TEST_DB=postgres`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use domain::{
    message::{Color, MessageView},
    views::{MemberView, MyRoom},
    wire::{ClientFrame, ServerFrame},
    ErrorCode, MessageId, RoomId, User,
};
use ratatui::{backend::TestBackend, buffer::Buffer, Terminal};
use serde_json::json;

use super::{
    slash::Slash,
    state::{Effect, Event, Link, Screen},
    view,
};
use crate::client::{Auth, Client};

fn user(id: &str) -> User {
    User {
        id: id.into(),
        username: id.into(),
    }
}

fn msg(id: i64, room: &str, author: &str, body: &str) -> MessageView {
    serde_json::from_value(json!({
        "id": id.to_string(), "seq": id.to_string(), "room_id": room,
        "author": {"id": author, "username": author},
        "kind": "text", "body": body, "color": null, "sticker": null, "file": null,
        "created_at": format!("2026-12-07T09:{:02}:00.000Z", id % 60)
    }))
    .unwrap()
}

fn my_room(id: &str, name: &str, unread: u64) -> MyRoom {
    serde_json::from_value(json!({
        "id": id, "name": name, "topic": format!("all about {name}"), "join_policy": "open",
        "max_members": null, "member_count": 3, "status": "active",
        "my_role": "admin", "unread": unread
    }))
    .unwrap()
}

fn member(id: &str, role: &str) -> MemberView {
    serde_json::from_value(json!({
        "user": {"id": id, "username": id}, "role": role, "joined_at": "2026-12-01T10:00:00Z"
    }))
    .unwrap()
}

/// The ids of the current room's messages, in the order shown.
fn shown_ids(app: &Screen) -> Vec<i64> {
    app.room()
        .unwrap()
        .messages
        .iter()
        .map(|m| m.id.get())
        .collect()
}

/// The one send among `effects`.
fn the_send(effects: &[Effect]) -> domain::message::Outgoing {
    match effects {
        [Effect::Live(ClientFrame::Send(out))] => out.clone(),
        other => panic!("not one send: {other:?}"),
    }
}

fn frame(f: ServerFrame) -> Event {
    Event::Frame(Box::new(f))
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::CONTROL))
}

/// Types `text`; what it made others see (`typing` frames) is returned.
fn typed(app: &mut Screen, text: &str, now: Instant) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| app.update(key(KeyCode::Char(c)), now))
        .collect()
}

/// ann, online, in #lounge (open, with history and members) and #garden (2 unread).
fn ann_in_lounge(now: Instant) -> Screen {
    let mut app = Screen::new(user("ann"), "http://127.0.0.1:3000");
    let opened = app.update(
        Event::Rooms(vec![my_room("r2", "lounge", 0), my_room("r1", "garden", 2)]),
        now,
    );
    // Sorted by name: garden first, and it is the one opened.
    assert_eq!(
        opened,
        vec![
            Effect::LoadHistory {
                room: "r1".into(),
                before: None
            },
            Effect::LoadMembers { room: "r1".into() }
        ]
    );
    app.update(ctrl(KeyCode::Down), now);
    app.update(frame(ServerFrame::Ready { rooms: vec![] }), now);
    let mut sticker = msg(3, "r2", "bob", "¯\\_(ツ)_/¯");
    sticker.kind = domain::message::MessageKind::Sticker;
    sticker.sticker = Some("cat".into());
    let mut teal = msg(4, "r2", "ann", "teal words from me");
    teal.color = Some(Color::Teal);
    app.update(
        Event::History {
            room: "r2".into(),
            messages: vec![
                teal,
                sticker,
                msg(2, "r2", "cy", "a long line that has to wrap around the middle pane because it is longer than the pane is wide"),
                msg(1, "r2", "bob", "hello lounge"),
            ],
        },
        now,
    );
    app.update(
        Event::Members {
            room: "r2".into(),
            members: vec![
                member("ann", "owner"),
                member("bob", "member"),
                member("cy", "admin"),
            ],
        },
        now,
    );
    app.update(
        frame(ServerFrame::Presence {
            room_id: "r2".into(),
            online: vec![user("ann"), user("bob")],
            online_count: 2,
        }),
        now,
    );
    app
}

/// ann in #lounge, its first page holding bob's "line N" for each id.
fn lounge_holding(ids: Vec<i64>, now: Instant) -> Screen {
    let mut app = Screen::new(user("ann"), "http://x");
    app.update(Event::Rooms(vec![my_room("r1", "lounge", 0)]), now);
    let page = ids
        .into_iter()
        .rev()
        .map(|i| msg(i, "r1", "bob", &format!("line {i}")))
        .collect();
    app.update(
        Event::History {
            room: "r1".into(),
            messages: page,
        },
        now,
    );
    app
}

fn draw(app: &Screen, width: u16, height: u16, now: Instant) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| view::draw(f, app, now)).unwrap();
    terminal
}

fn text_of(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in 0..area.height {
        for x in 0..area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[test]
fn a_wide_terminal_shows_rooms_messages_members_composer_and_status() {
    let now = Instant::now();
    let app = ann_in_lounge(now);
    let terminal = draw(&app, 110, 18, now);
    insta::assert_snapshot!("wide", terminal.backend());
    // Colours map to the terminal's palette: ann's teal line is palette entry 6.
    let buffer = terminal.backend().buffer();
    let text = text_of(buffer);
    let row = text.lines().position(|l| l.contains("teal words")).unwrap();
    let col = text
        .lines()
        .nth(row)
        .unwrap()
        .chars()
        .position(|c| c == 't')
        .unwrap();
    let cell = &buffer[(u16::try_from(col).unwrap(), u16::try_from(row).unwrap())];
    assert_eq!(cell.fg, ratatui::style::Color::Indexed(6));
    write_screenshot("wide", buffer);
}

#[test]
fn a_narrow_terminal_leaves_out_the_members() {
    let now = Instant::now();
    let app = ann_in_lounge(now);
    let terminal = draw(&app, 80, 16, now);
    insta::assert_snapshot!("narrow", terminal.backend());
    let text = text_of(terminal.backend().buffer());
    assert!(!text.contains("Members"), "{text}");
    assert!(text.contains("hello lounge"), "{text}");
}

#[test]
fn escape_sequences_in_a_message_render_inert() {
    let now = Instant::now();
    let mut app = ann_in_lounge(now);
    let hostile = "\x1b[2J\x1b[1;1Hgotcha\x07\u{9b}31m\r\x7fend";
    let mut evil = msg(9, "r2", "bob", hostile);
    evil.author = Some(User {
        id: "bob".into(),
        username: "b\x1b[31mob".into(),
    });
    app.update(frame(ServerFrame::Message { message: evil }), now);
    let terminal = draw(&app, 110, 18, now);
    let buffer = terminal.backend().buffer();
    for cell in buffer.content() {
        assert!(
            !cell.symbol().chars().any(char::is_control),
            "a control character reached the screen: {:?}",
            cell.symbol()
        );
    }
    let text = text_of(buffer);
    assert!(
        text.contains("b␛[31mob: ␛[2J␛[1;1Hgotcha␇�31m␍␡end"),
        "{text}"
    );
}

#[test]
fn enter_sends_one_frame_the_ack_shows_it_and_a_refusal_gives_the_text_back() {
    let now = Instant::now();
    let mut app = ann_in_lounge(now);
    // Others hear of the typing once, however fast the keys come; a command is not told.
    assert_eq!(
        typed(&mut app, "  hi there  ", now),
        vec![Effect::Live(ClientFrame::Typing {
            room_id: "r2".into()
        })]
    );
    let sent = app.update(key(KeyCode::Enter), now);
    let out = the_send(&sent);
    assert_eq!(out.room_id, RoomId::from("r2"));
    assert_eq!(out.content.body(), "hi there");
    assert_eq!(app.draft, "");
    let text = text_of(draw(&app, 110, 18, now).backend().buffer());
    assert!(text.contains("ann: hi there (sending…)"), "{text}");
    // The ack replaces the pending line with the stored message.
    app.update(
        frame(ServerFrame::Ack {
            client_id: out.client_id.clone(),
            message: msg(10, "r2", "ann", "hi there"),
        }),
        now,
    );
    assert!(app.pending.is_empty());
    let text = text_of(draw(&app, 110, 18, now).backend().buffer());
    assert!(
        text.contains("ann: hi there") && !text.contains("sending"),
        "{text}"
    );

    // A refusal that is not of a send (typing too fast) holds nothing up.
    app.update(
        frame(ServerFrame::Error {
            code: ErrorCode::RateLimited,
            message: "Slow down.".into(),
            client_id: None,
            retry_after_ms: Some(3000),
        }),
        now,
    );
    assert_eq!(app.wait_left(now), None);
    // Rate limited: the text comes back, and the status line counts down.
    assert!(typed(&mut app, "again", now + Duration::from_millis(1500)).is_empty());
    app.update(ctrl(KeyCode::Char('u')), now);
    assert!(typed(&mut app, "/x", now + Duration::from_secs(3)).is_empty());
    app.update(ctrl(KeyCode::Char('u')), now);
    assert_eq!(
        typed(&mut app, "again", now + Duration::from_secs(3)).len(),
        1
    );
    let sent = app.update(key(KeyCode::Enter), now);
    let out = the_send(&sent);
    app.update(
        frame(ServerFrame::Error {
            code: ErrorCode::RateLimited,
            message: "Slow down.".into(),
            client_id: Some(out.client_id.clone()),
            retry_after_ms: Some(3000),
        }),
        now,
    );
    assert_eq!(app.draft, "again");
    let status = |app: &Screen, at: Instant| {
        let text = text_of(draw(app, 110, 18, at).backend().buffer());
        text.lines().last().unwrap().trim().to_owned()
    };
    assert_eq!(status(&app, now), "Slow down: you can send again in 3 s.");
    assert_eq!(
        status(&app, now + Duration::from_millis(1200)),
        "Slow down: you can send again in 2 s."
    );
    // Enter while it counts sends nothing and keeps the draft.
    assert!(app
        .update(key(KeyCode::Enter), now + Duration::from_secs(1))
        .is_empty());
    assert_eq!(app.draft, "again");
    let later = now + Duration::from_secs(4);
    app.update(Event::Tick, later);
    assert!(status(&app, later).starts_with("Tab: next room"));
    assert_eq!(app.update(key(KeyCode::Enter), later).len(), 1);
}

#[test]
fn tab_and_ctrl_arrows_switch_rooms_loading_each_once_and_reading_it() {
    let now = Instant::now();
    let mut app = ann_in_lounge(now);
    assert_eq!(app.room().unwrap().room.name, "lounge");
    // garden was opened first and has 2 unread; its history arrives while in lounge.
    app.update(
        Event::History {
            room: "r1".into(),
            messages: vec![msg(7, "r1", "bob", "b"), msg(6, "r1", "bob", "a")],
        },
        now,
    );
    assert_eq!(app.rooms[0].unread, 2);
    let text = text_of(draw(&app, 110, 18, now).backend().buffer());
    assert!(text.contains("#garden") && text.contains(" 2"), "{text}");
    let switched = app.update(key(KeyCode::Tab), now);
    assert_eq!(app.room().unwrap().room.name, "garden");
    // Loaded already: no second load, only the read position.
    assert_eq!(
        switched,
        vec![Effect::Live(ClientFrame::Read {
            room_id: "r1".into(),
            message_id: MessageId::new(7)
        })]
    );
    assert_eq!(app.rooms[0].unread, 0);
    app.update(ctrl(KeyCode::Up), now);
    assert_eq!(app.room().unwrap().room.name, "lounge");
    app.update(
        Event::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)),
        now,
    );
    assert_eq!(app.room().unwrap().room.name, "garden");
    // A message in a room not in view counts; one in view is read at once.
    app.update(
        frame(ServerFrame::Message {
            message: msg(11, "r2", "bob", "psst"),
        }),
        now,
    );
    assert_eq!(app.rooms[1].unread, 1);
    let read = app.update(
        frame(ServerFrame::Message {
            message: msg(8, "r1", "bob", "c"),
        }),
        now,
    );
    assert_eq!(read.len(), 1);
    assert_eq!(app.rooms[0].unread, 0);
    // My own message never counts.
    app.update(
        frame(ServerFrame::Message {
            message: msg(12, "r2", "ann", "me"),
        }),
        now,
    );
    assert_eq!(app.rooms[1].unread, 1);
}

#[test]
fn a_message_that_comes_before_the_rooms_first_page_is_kept() {
    let now = Instant::now();
    let mut app = Screen::new(user("ann"), "http://x");
    app.update(Event::Rooms(vec![my_room("r1", "lounge", 0)]), now);
    app.update(frame(ServerFrame::Ready { rooms: vec![] }), now);
    // The page was read before message 3 was stored, and arrives after it.
    app.update(
        frame(ServerFrame::Message {
            message: msg(3, "r1", "bob", "live"),
        }),
        now,
    );
    let read = app.update(
        Event::History {
            room: "r1".into(),
            messages: vec![msg(2, "r1", "bob", "b"), msg(1, "r1", "bob", "a")],
        },
        now,
    );
    assert_eq!(shown_ids(&app), vec![1, 2, 3]);
    assert_eq!(
        read,
        vec![Effect::Live(ClientFrame::Read {
            room_id: "r1".into(),
            message_id: MessageId::new(3)
        })]
    );
}

#[test]
fn a_notification_shows_on_the_status_line_and_refreshes_the_rooms() {
    let now = Instant::now();
    let mut app = ann_in_lounge(now);
    let notification = serde_json::from_value(json!({
        "id": "n1", "kind": "invited", "room_id": "r9", "room_name": "attic",
        "actor": {"id": "cy", "username": "cy"}, "reason": null,
        "created_at": "2026-12-07T09:30:00Z", "read": false
    }))
    .unwrap();
    let effects = app.update(frame(ServerFrame::Notification { notification }), now);
    assert_eq!(effects, vec![Effect::LoadRooms]);
    let text = text_of(draw(&app, 110, 18, now).backend().buffer());
    assert_eq!(
        text.lines().last().unwrap().trim(),
        "• invited #attic by cy"
    );
}

#[test]
fn page_up_scrolls_back_and_loads_earlier_history_once() {
    let now = Instant::now();
    let mut app = lounge_holding((51..=100).collect(), now);
    let text = text_of(draw(&app, 80, 14, now).backend().buffer());
    assert!(
        text.contains("line 100") && !text.contains("line 60"),
        "{text}"
    );
    let mut loads = Vec::new();
    for _ in 0..5 {
        loads.extend(app.update(key(KeyCode::PageUp), now));
    }
    assert_eq!(
        loads,
        vec![Effect::LoadHistory {
            room: "r1".into(),
            before: Some(MessageId::new(51))
        }]
    );
    let text = text_of(draw(&app, 80, 14, now).backend().buffer());
    assert!(
        text.contains("line 51") && !text.contains("line 100"),
        "{text}"
    );
    assert!(text.contains("newer below: PgDn"), "{text}");
    // The earlier page arrives above; what is read stays in view.
    let older: Vec<_> = (41..=50)
        .rev()
        .map(|i| msg(i, "r1", "bob", &format!("line {i}")))
        .collect();
    app.update(
        Event::History {
            room: "r1".into(),
            messages: older,
        },
        now,
    );
    let text = text_of(draw(&app, 80, 14, now).backend().buffer());
    assert!(text.contains("line 51"), "{text}");
    app.update(key(KeyCode::PageUp), now);
    let text = text_of(draw(&app, 80, 14, now).backend().buffer());
    assert!(text.contains("The beginning of the room."), "{text}");
    for _ in 0..10 {
        app.update(key(KeyCode::PageDown), now);
    }
    assert_eq!(app.room().unwrap().scroll, 0);
    let text = text_of(draw(&app, 80, 14, now).backend().buffer());
    assert!(text.contains("line 100"), "{text}");
}

#[test]
fn offline_keeps_the_draft_and_ready_catches_up_once_and_resends_what_was_on_its_way() {
    let now = Instant::now();
    let mut app = ann_in_lounge(now);
    typed(&mut app, "first", now);
    let sent = app.update(key(KeyCode::Enter), now);
    assert_eq!(sent.len(), 1);
    app.update(
        Event::Offline {
            why: "connection refused".into(),
            retry_in: Duration::from_secs(4),
        },
        now,
    );
    typed(&mut app, "second", now);
    assert!(app.update(key(KeyCode::Enter), now).is_empty());
    assert_eq!(app.draft, "second");
    let terminal = draw(&app, 110, 18, now);
    insta::assert_snapshot!("offline", terminal.backend());
    write_screenshot("offline", terminal.backend().buffer());
    let back = app.update(frame(ServerFrame::Ready { rooms: vec![] }), now);
    assert_eq!(app.link, Link::Online);
    let [Effect::LoadRooms, Effect::CatchUp { room, after }, Effect::Live(ClientFrame::Send(again))] =
        back.as_slice()
    else {
        panic!("{back:?}");
    };
    assert_eq!((room.as_str(), *after), ("r2", MessageId::new(4)));
    assert_eq!(Effect::Live(ClientFrame::Send(again.clone())), sent[0]);
    // Catch-up brings what was said while away, and anything already shown is not doubled;
    // the room in view is read up to it.
    let read = app.update(
        Event::CaughtUp {
            room: "r2".into(),
            messages: vec![
                msg(4, "r2", "ann", "teal words from me"),
                msg(5, "r2", "bob", "missed"),
            ],
        },
        now,
    );
    assert_eq!(
        read,
        vec![Effect::Live(ClientFrame::Read {
            room_id: "r2".into(),
            message_id: MessageId::new(5)
        })]
    );
    assert!(app
        .update(
            frame(ServerFrame::Message {
                message: msg(5, "r2", "bob", "missed"),
            }),
            now,
        )
        .is_empty());
    assert_eq!(shown_ids(&app), vec![1, 2, 3, 4, 5]);
}

#[test]
fn slash_commands_run_in_the_current_room_and_colour_what_is_sent() {
    let now = Instant::now();
    let mut app = ann_in_lounge(now);
    typed(&mut app, "/kick bob shouting", now);
    assert_eq!(
        app.update(key(KeyCode::Enter), now),
        vec![Effect::Run {
            room: Some("r2".into()),
            command: Slash::Kick {
                user: "bob".into(),
                reason: Some("shouting".into())
            }
        }]
    );
    typed(&mut app, "/color purple", now);
    assert!(app.update(key(KeyCode::Enter), now).is_empty());
    typed(&mut app, "in purple", now);
    let sent = app.update(key(KeyCode::Enter), now);
    let out = the_send(&sent);
    assert_eq!(out.color, Some(Color::Purple));
    typed(&mut app, "/sticker owl", now);
    let sent = app.update(key(KeyCode::Enter), now);
    let out = the_send(&sent);
    assert_eq!(out.content.sticker().map(|s| s.as_str()), Some("owl"));
    assert_eq!(out.color, None);
    typed(&mut app, "/nonsense", now);
    assert!(app.update(key(KeyCode::Enter), now).is_empty());
    assert_eq!(
        app.draft, "/nonsense",
        "a mistyped command stays to be fixed"
    );
    let text = text_of(draw(&app, 110, 18, now).backend().buffer());
    assert!(text.contains("No command /nonsense."), "{text}");
    // Being removed from a room takes it off the list and says so.
    app.update(
        frame(ServerFrame::Member {
            room_id: "r2".into(),
            event: domain::vocab::MemberEvent::Kicked,
            user: user("ann"),
            role: None,
            until: None,
        }),
        now,
    );
    assert_eq!(app.rooms.len(), 1);
    let text = text_of(draw(&app, 110, 18, now).backend().buffer());
    assert!(text.contains("You were removed from #lounge."), "{text}");
    assert!(!app.quit);
    assert!(app.update(ctrl(KeyCode::Char('c')), now).is_empty());
    assert!(app.quit);
}

/// Writes the buffer as an HTML page (colours kept) to `PARLOR_SCREENSHOT_DIR`, when set,
/// for a browser to turn into a PNG (docs/CLI.md, "Screenshots").
fn write_screenshot(name: &str, buffer: &Buffer) {
    let Some(dir) = std::env::var_os("PARLOR_SCREENSHOT_DIR") else {
        return;
    };
    let mut html = String::from(
        "<!doctype html><meta charset=utf-8><body style=\"margin:0;background:#1e1e1e\">\
         <pre style=\"margin:0;padding:12px;font:15px/1.2 'DejaVu Sans Mono',monospace;color:#d4d4d4\">",
    );
    let area = buffer.area;
    for y in 0..area.height {
        let mut x = 0;
        while x < area.width {
            let cell = &buffer[(x, y)];
            let mut fg = css(cell.fg).unwrap_or("#d4d4d4".into());
            let mut bg = css(cell.bg).unwrap_or("transparent".into());
            if cell.modifier.contains(ratatui::style::Modifier::REVERSED) {
                std::mem::swap(&mut fg, &mut bg);
                if fg == "transparent" {
                    fg = "#1e1e1e".into();
                }
                if bg == "transparent" {
                    bg = "#d4d4d4".into();
                }
            }
            let bold = cell.modifier.contains(ratatui::style::Modifier::BOLD);
            let symbol = cell.symbol().replace('&', "&amp;").replace('<', "&lt;");
            html.push_str(&format!(
                "<span style=\"color:{fg};background:{bg};{}\">{symbol}</span>",
                if bold { "font-weight:bold" } else { "" }
            ));
            x +=
                u16::try_from(unicode_width::UnicodeWidthStr::width(cell.symbol()).max(1)).unwrap();
        }
        html.push('\n');
    }
    html.push_str("</pre>");
    std::fs::write(
        std::path::Path::new(&dir).join(format!("tui-{name}.html")),
        html,
    )
    .unwrap();
}

/// An xterm-like colour for a cell colour; `None` for the terminal's default.
fn css(color: ratatui::style::Color) -> Option<String> {
    use ratatui::style::Color as C;
    const BASIC: [&str; 16] = [
        "#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
        "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
    ];
    let index = match color {
        C::Reset => return None,
        C::Black => 0,
        C::Red => 1,
        C::Green => 2,
        C::Yellow => 3,
        C::Blue => 4,
        C::Magenta => 5,
        C::Cyan => 6,
        C::Gray => 7,
        C::DarkGray => 8,
        C::LightRed => 9,
        C::LightGreen => 10,
        C::LightYellow => 11,
        C::LightBlue => 12,
        C::LightMagenta => 13,
        C::LightCyan => 14,
        C::White => 15,
        C::Rgb(r, g, b) => return Some(format!("#{r:02x}{g:02x}{b:02x}")),
        C::Indexed(n) => n,
    };
    Some(match index {
        0..=15 => BASIC[usize::from(index)].to_owned(),
        16..=231 => {
            let n = index - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            format!(
                "#{:02x}{:02x}{:02x}",
                level(n / 36),
                level(n / 6 % 6),
                level(n % 6)
            )
        }
        _ => {
            let v = 8 + (index - 232) * 10;
            format!("#{v:02x}{v:02x}{v:02x}")
        }
    })
}

// ---- The whole loop against a real server -------------------------------------------

const PASSWORD: &str = "a terminal password";

/// Someone signed up on `base`, as the client signs in.
async fn signed_up(base: &str, name: &str) -> Client {
    let anonymous = Client::new(base, Auth::None).unwrap();
    let resp = anonymous
        .send(
            "auth/signup",
            &json!({"username": name, "password": PASSWORD}),
        )
        .await
        .unwrap();
    let cookie = crate::session_cookie(&resp).unwrap();
    Client::new(base, Auth::Cookie(cookie)).unwrap()
}

/// The screen's text after each draw, for the test to wait on.
type Screens = tokio::sync::watch::Receiver<String>;

async fn until_shows(screens: &mut Screens, wanted: &str) -> String {
    until(screens, wanted, |s| s.contains(wanted)).await
}

async fn until(screens: &mut Screens, wanted: &str, holds: impl Fn(&str) -> bool) -> String {
    let seen = tokio::time::timeout(Duration::from_secs(20), async {
        screens.wait_for(|s| holds(s)).await.map(|s| s.clone())
    })
    .await;
    match seen {
        Ok(Ok(screen)) => screen,
        _ => panic!(
            "the screen never showed {wanted:?}:\n{}",
            screens.borrow().clone()
        ),
    }
}

#[tokio::test]
async fn the_screen_chats_live_moderates_and_catches_up_once_after_a_restart() {
    let db = testkit::TestDb::new().await;
    let server = testkit::start(&db, "127.0.0.1:0".parse().unwrap()).await;
    let addr = server.addr;
    let base = server.url();
    let ann = signed_up(&base, "ann").await;
    let bob = signed_up(&base, "bob").await;
    let made: serde_json::Value = ann
        .call(
            "rooms/create",
            json!({"name": "lounge", "join_policy": "open"}),
        )
        .await
        .unwrap();
    let room = made["room"]["id"].as_str().unwrap().to_owned();
    bob.call::<serde_json::Value>("rooms/join", json!({"room_id": room}))
        .await
        .unwrap();

    // ann's screen: keys from a channel, the screen's text into a watch.
    let (keys, key_stream) = futures::channel::mpsc::unbounded::<std::io::Result<TermEvent>>();
    let (shown, mut screens) = tokio::sync::watch::channel(String::new());
    let me: serde_json::Value = ann.call("auth/me", json!({})).await.unwrap();
    let me: User = serde_json::from_value(me["user"].clone()).unwrap();
    let screen_client = ann.clone();
    let screen = tokio::spawn(async move {
        let mut terminal = Terminal::new(TestBackend::new(110, 20)).unwrap();
        let app = Screen::new(me, &screen_client.base);
        super::drive(&screen_client, app, &mut terminal, key_stream, |b| {
            shown.send_replace(text_of(b.buffer()));
        })
        .await
    });
    let press = |code: KeyCode| {
        keys.unbounded_send(Ok(TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))))
            .unwrap();
    };
    let type_line = |line: &str| {
        for c in line.chars() {
            press(KeyCode::Char(c));
        }
        press(KeyCode::Enter);
    };
    until_shows(&mut screens, "Members 2").await;
    until_shows(&mut screens, "Tab: next room").await;

    // Live both ways: bob's message arrives; ann's Enter posts through the socket.
    let send = |text: &str| json!({"room_id": room, "client_id": format!("b-{}", text.replace(' ', "-")), "body": text});
    bob.call::<serde_json::Value>("messages/send", send("hello from bob"))
        .await
        .unwrap();
    until_shows(&mut screens, "bob: hello from bob").await;
    type_line("hi bob");
    until(&mut screens, "ann: hi bob, stored", |s| {
        s.contains("ann: hi bob") && !s.contains("sending…")
    })
    .await;
    let history: serde_json::Value = bob
        .call("messages/history", json!({"room_id": room}))
        .await
        .unwrap();
    assert_eq!(history["messages"][0]["body"], "hi bob");

    // The server goes away: the screen says so and keeps the draft.
    server.stop().await;
    until_shows(&mut screens, "Can't reach").await;
    for c in "kept draft".chars() {
        press(KeyCode::Char(c));
    }
    until_shows(&mut screens, "kept draft").await;
    // It comes back on the same address; bob speaks before ann's screen reconnects.
    let server = testkit::start(&db, addr).await;
    for text in ["while away 1", "while away 2"] {
        bob.call::<serde_json::Value>("messages/send", send(text))
            .await
            .unwrap();
    }
    let screen_now = until_shows(&mut screens, "while away 2").await;
    assert_eq!(
        screen_now.matches("while away 1").count(),
        1,
        "{screen_now}"
    );
    assert_eq!(
        screen_now.matches("hello from bob").count(),
        1,
        "{screen_now}"
    );
    assert!(screen_now.contains("kept draft"), "{screen_now}");
    // Ctrl-U clears the draft; a slash command moderates as the admin pages do.
    keys.unbounded_send(Ok(TermEvent::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    ))))
    .unwrap();
    type_line("/kick bob too loud");
    until_shows(&mut screens, "Removed bob.").await;
    until_shows(&mut screens, "Members 1").await;
    let members: serde_json::Value = ann
        .call("rooms/members", json!({"room_id": room}))
        .await
        .unwrap();
    assert_eq!(members["members"].as_array().unwrap().len(), 1);

    // A room joined from the screen is followed live at once.
    let garden: serde_json::Value = bob
        .call(
            "rooms/create",
            json!({"name": "garden", "join_policy": "open"}),
        )
        .await
        .unwrap();
    let garden = garden["room"]["id"].as_str().unwrap().to_owned();
    type_line("/join garden");
    until_shows(&mut screens, "Joined #garden.").await;
    until_shows(&mut screens, "│#garden").await;
    press(KeyCode::Tab);
    until_shows(&mut screens, "┌ #garden").await;
    until_shows(&mut screens, "Members 2").await;
    bob.call::<serde_json::Value>(
        "messages/send",
        json!({"room_id": garden, "client_id": "g-1", "body": "live in the garden"}),
    )
    .await
    .unwrap();
    until_shows(&mut screens, "bob: live in the garden").await;

    press(KeyCode::Esc);
    let ended = tokio::time::timeout(Duration::from_secs(10), screen).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "{ended:?}");
    server.stop().await;
}

#[test]
fn a_failed_load_starts_the_room_again_instead_of_sticking() {
    let now = Instant::now();
    let mut app = Screen::new(user("ann"), "http://x");
    app.update(frame(ServerFrame::Ready { rooms: vec![] }), now);
    app.update(Event::Rooms(vec![my_room("r1", "lounge", 0)]), now);
    let again = app.update(
        Event::LoadFailed {
            room: "r1".into(),
            why: "cannot reach the server".into(),
        },
        now,
    );
    assert_eq!(
        again,
        vec![
            Effect::LoadHistory {
                room: "r1".into(),
                before: None
            },
            Effect::LoadMembers { room: "r1".into() }
        ]
    );
    let text = text_of(draw(&app, 80, 16, now).backend().buffer());
    assert!(text.contains("cannot reach the server"), "{text}");
}

#[test]
fn catch_up_and_late_pages_never_undo_a_newer_state_nor_count_twice() {
    let now = Instant::now();
    let mut app = ann_in_lounge(now);
    // A deletion (seq 20) arrives live; a late page still carries the text (seq 2).
    let mut deleted = msg(2, "r2", "cy", "");
    deleted.seq = MessageId::new(20);
    deleted.body = None;
    deleted.deleted =
        Some(serde_json::from_value(json!({"by": null, "at": "2026-12-07T09:40:00Z"})).unwrap());
    app.update(frame(ServerFrame::MessageUpdated { message: deleted }), now);
    app.update(
        Event::History {
            room: "r2".into(),
            messages: vec![msg(2, "r2", "cy", "the old text")],
        },
        now,
    );
    let text = text_of(draw(&app, 110, 18, now).backend().buffer());
    assert!(
        text.contains("cy (message deleted)") && !text.contains("the old text"),
        "{text}"
    );
    // An edit of a message older than what is loaded stays out (no gap above it), while
    // the room has more before.
    app.rooms[1].more_before = true;
    let mut old_edit = msg(0, "r2", "bob", "edited long ago");
    old_edit.seq = MessageId::new(21);
    // garden is not in view: its count comes from the room list, not from catch-up.
    app.update(
        Event::CaughtUp {
            room: "r2".into(),
            messages: vec![old_edit],
        },
        now,
    );
    assert_eq!(shown_ids(&app), vec![1, 2, 3, 4]);
    app.update(
        Event::CaughtUp {
            room: "r1".into(),
            messages: vec![msg(30, "r1", "bob", "while away")],
        },
        now,
    );
    assert_eq!(
        app.rooms[0].unread, 2,
        "garden keeps the count the list gave"
    );
    // A read elsewhere in a room not loaded here asks the list again.
    let mut fresh = Screen::new(user("ann"), "http://x");
    fresh.update(
        Event::Rooms(vec![my_room("r1", "a", 3), my_room("r2", "b", 1)]),
        now,
    );
    let asked = fresh.update(
        frame(ServerFrame::Read {
            room_id: "r2".into(),
            message_id: MessageId::new(9),
        }),
        now,
    );
    assert_eq!(asked, vec![Effect::LoadRooms]);
}

#[test]
fn slow_mode_holds_its_room_only_and_refused_text_comes_back_before_new_typing() {
    let now = Instant::now();
    let mut app = ann_in_lounge(now);
    typed(&mut app, "slowly", now);
    let out = the_send(&app.update(key(KeyCode::Enter), now));
    typed(&mut app, "next", now);
    app.update(
        frame(ServerFrame::Error {
            code: ErrorCode::SlowMode,
            message: "Slow mode.".into(),
            client_id: Some(out.client_id),
            retry_after_ms: Some(30_000),
        }),
        now,
    );
    assert_eq!(app.draft, "slowly next");
    assert_eq!(app.wait_left(now), Some(30));
    app.update(key(KeyCode::Tab), now);
    assert_eq!(app.wait_left(now), None, "garden has no slow mode");
    assert_eq!(app.update(key(KeyCode::Enter), now).len(), 1);
    app.update(key(KeyCode::Tab), now);
    assert_eq!(app.wait_left(now), Some(30));
}

#[test]
fn scrolled_back_the_view_stays_put_and_a_paste_is_one_line() {
    let now = Instant::now();
    let mut app = lounge_holding((1..=40).filter(|i| i % 2 == 0).collect(), now);
    app.update(key(KeyCode::PageUp), now);
    let before = text_of(draw(&app, 80, 14, now).backend().buffer());
    // One lands below the view (a late message 35), one in view's past (above): the lines
    // in view do not move.
    app.update(
        frame(ServerFrame::Message {
            message: msg(35, "r1", "bob", "line 35"),
        }),
        now,
    );
    app.update(
        frame(ServerFrame::Message {
            message: msg(41, "r1", "bob", "line 41"),
        }),
        now,
    );
    let after = text_of(draw(&app, 80, 14, now).backend().buffer());
    let pane = |t: &str| {
        t.lines()
            .skip(1)
            .take(10)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(pane(&before)[1..], pane(&after)[1..], "{before}\n{after}");
    app.update(Event::Paste("two\nlines\tand a tab".into()), now);
    assert_eq!(app.draft, "two lines and a tab");
    assert_eq!(app.room().unwrap().room.name, "lounge");
}
