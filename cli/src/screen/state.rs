//! The full-screen client's state and its one reducer: [`Screen::update`] takes what happened
//! (a key, a frame, an answer, the clock) and returns what to do about it ([`Effect`]s), which
//! the runner carries out and answers with more events. Nothing here touches the terminal
//! or the network, so every behaviour is tested by feeding events and reading the state, or
//! the buffer that `view` draws from it.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use domain::{
    message::{ClientId, Color, Content, MessageBody, MessageView, Outgoing, StickerName},
    views::{MemberView, MyRoom, NotificationView, RoomView},
    vocab::{MemberEvent, Role},
    wire::{ClientFrame, ServerFrame},
    ErrorCode, MessageId, RoomId, User, UserId,
};

use super::slash::Slash;

/// How many messages one PgUp or PgDn moves.
pub const PAGE: usize = 10;
/// How many messages one history load asks for.
pub const HISTORY_PAGE: u32 = 50;
/// How long someone shows as typing after their last `typing` frame.
const TYPING_SHOWS: Duration = Duration::from_secs(5);
/// At most one `typing` frame this often while the composer is typed in (as the browser).
const TYPING_EVERY: Duration = Duration::from_secs(2);

/// One of my rooms, with what has been loaded of it.
#[derive(Debug, Clone)]
pub struct Room {
    pub room: RoomView,
    pub role: Role,
    pub unread: u64,
    /// Oldest first, one per id.
    pub messages: Vec<MessageView>,
    /// The latest page has been loaded (the room was opened at least once).
    pub loaded: bool,
    /// There may be older messages than the oldest loaded.
    pub more_before: bool,
    pub loading_older: bool,
    /// How many of the newest messages are scrolled out of sight below (0: following).
    pub scroll: usize,
    pub members: Vec<MemberView>,
    pub online: Vec<UserId>,
    pub typing: Vec<(User, Instant)>,
}

impl Room {
    fn new(mine: MyRoom) -> Self {
        Self {
            room: mine.room,
            role: mine.my_role,
            unread: mine.unread,
            messages: Vec::new(),
            loaded: false,
            more_before: true,
            loading_older: false,
            scroll: 0,
            members: Vec::new(),
            online: Vec::new(),
            typing: Vec::new(),
        }
    }

    /// Adds or replaces (an edit, a deletion) a message, keeping id order. Whether it is new.
    fn put(&mut self, m: MessageView) -> bool {
        match self.messages.binary_search_by_key(&m.id, |x| x.id) {
            // An older state of a message never replaces a newer one (docs/API.md: a
            // late catch-up page must not bring back a deleted text).
            Ok(i) if self.messages[i].seq > m.seq => false,
            Ok(i) => {
                self.messages[i] = m;
                false
            }
            Err(i) => {
                // Scrolled back: a message that lands below the view keeps what is read
                // in place.
                let below = self.scroll > 0 && i >= self.messages.len() - self.scroll;
                self.messages.insert(i, m);
                if below {
                    self.scroll += 1;
                }
                true
            }
        }
    }

    /// A message from catch-up: new ones and changes to held ones, but not a change to an
    /// old message outside what is loaded (it would sit above a gap PgUp could not fill).
    fn merge(&mut self, m: MessageView) -> bool {
        let held = self.messages.binary_search_by_key(&m.id, |x| x.id).is_ok();
        let above = self.messages.first().is_some_and(|f| m.id < f.id);
        if !held && above && self.more_before {
            return false;
        }
        self.put(m)
    }

    /// Forgets what is loaded, so the room starts again from its latest page.
    fn reset(&mut self) {
        self.messages.clear();
        self.loaded = false;
        self.loading_older = false;
        self.more_before = true;
        self.scroll = 0;
    }

    /// The highest point in the room's sequence seen: where catch-up starts.
    pub fn newest_seq(&self) -> Option<MessageId> {
        self.messages.iter().map(|m| m.seq.max(m.id)).max()
    }
}

/// The live channel, as the status line tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Online,
    /// Lost; the next try is at `retry_at`.
    Offline {
        why: String,
        retry_at: Instant,
    },
}

/// A send on its way: shown greyed until its `ack`, put back in the composer if refused.
#[derive(Debug, Clone)]
pub struct Unacked {
    pub outgoing: Outgoing,
    /// What was typed, to give back on a refusal.
    pub typed: String,
}

/// The status line's message, newest wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Info(String),
    Error(String),
}

/// What happened, for [`Screen::update`].
#[derive(Debug, Clone)]
pub enum Event {
    Key(KeyEvent),
    /// The clock moved (countdowns, typing that fades).
    Tick,
    Rooms(Vec<MyRoom>),
    /// A page of history (newest first, as the API gives it).
    History {
        room: RoomId,
        messages: Vec<MessageView>,
    },
    /// Messages past a catch-up cursor, oldest first.
    CaughtUp {
        room: RoomId,
        messages: Vec<MessageView>,
    },
    Members {
        room: RoomId,
        members: Vec<MemberView>,
    },
    Frame(Box<ServerFrame>),
    /// The live channel was lost; the next try is in `retry_in`.
    Offline {
        why: String,
        retry_in: Duration,
    },
    /// A room's history or catch-up could not be loaded.
    LoadFailed {
        room: RoomId,
        why: String,
    },
    /// Text pasted into the terminal (bracketed paste).
    Paste(String),
    /// A slash command or a load finished: what to tell, if anything.
    Done(Option<String>),
    /// A call was refused or could not be made.
    Failed(String),
    /// The live channel refused who we are for good (signed out, token revoked): the
    /// runner ends the screen on it.
    SignedOut(String),
}

/// What the runner is to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    LoadRooms,
    LoadHistory {
        room: RoomId,
        before: Option<MessageId>,
    },
    CatchUp {
        room: RoomId,
        after: MessageId,
    },
    LoadMembers {
        room: RoomId,
    },
    /// A frame for the live channel.
    Live(ClientFrame),
    /// A slash command that calls the API, in the current room.
    Run {
        room: Option<RoomId>,
        command: Slash,
    },
}

#[derive(Debug)]
pub struct Screen {
    pub me: User,
    pub server: String,
    pub rooms: Vec<Room>,
    pub current: usize,
    pub draft: String,
    /// The composer's cursor, in chars.
    pub cursor: usize,
    /// The colour `/color` chose for what I send.
    pub color: Option<Color>,
    pub link: Link,
    pub pending: Vec<Unacked>,
    pub notice: Option<Notice>,
    /// Sends are refused until then: everywhere (`rate_limited`), or in one room
    /// (`slow_mode`, the room given). The status line counts down.
    pub wait_until: Option<(Instant, Option<RoomId>)>,
    /// The latest notification, for the status line.
    pub last_notification: Option<NotificationView>,
    pub quit: bool,
    next_client_id: u64,
    /// When the last `typing` frame went.
    typed_at: Option<Instant>,
}

impl Screen {
    pub fn new(me: User, server: &str) -> Self {
        Self {
            me,
            server: server.to_owned(),
            rooms: Vec::new(),
            current: 0,
            draft: String::new(),
            cursor: 0,
            color: None,
            link: Link::Connecting,
            pending: Vec::new(),
            notice: None,
            wait_until: None,
            last_notification: None,
            quit: false,
            next_client_id: rand::random::<u32>().into(),
            typed_at: None,
        }
    }

    pub fn room(&self) -> Option<&Room> {
        self.rooms.get(self.current)
    }

    fn room_mut(&mut self) -> Option<&mut Room> {
        self.rooms.get_mut(self.current)
    }

    fn find(&mut self, id: &RoomId) -> Option<&mut Room> {
        self.rooms.iter_mut().find(|r| &r.room.id == id)
    }

    /// Seconds left before a send may go, rounded up.
    pub fn wait_left(&self, now: Instant) -> Option<u64> {
        let (until, room) = self.wait_until.as_ref()?;
        if room.is_some() && room.as_ref() != self.room().map(|r| &r.room.id) {
            return None;
        }
        let until = *until;
        let left = until.checked_duration_since(now)?;
        (!left.is_zero()).then(|| left.as_millis().div_ceil(1000) as u64)
    }

    pub fn update(&mut self, event: Event, now: Instant) -> Vec<Effect> {
        match event {
            Event::Key(key) => self.key(key, now),
            Event::Tick => {
                for room in &mut self.rooms {
                    room.typing.retain(|(_, until)| *until > now);
                }
                if self
                    .wait_until
                    .as_ref()
                    .is_some_and(|(until, _)| *until <= now)
                {
                    self.wait_until = None;
                }
                Vec::new()
            }
            Event::Rooms(mine) => self.rooms_loaded(mine),
            Event::History { room, messages } => self.history(&room, messages),
            Event::CaughtUp { room, messages } => {
                let me = self.me.id.clone();
                let in_view = self.room().is_some_and(|r| r.room.id == room);
                let Some(r) = self.find(&room) else {
                    return Vec::new();
                };
                let mut fresh = 0;
                for m in messages {
                    let from_other = m.author.as_ref().is_some_and(|a| a.id != me);
                    if r.merge(m) && from_other {
                        fresh += 1;
                    }
                }
                // Other rooms' counts come with the room list `ready` refreshes (counting
                // here too would count twice); the room in view is read up to what came.
                if in_view && fresh > 0 {
                    r.unread = fresh;
                }
                self.read_current()
            }
            Event::LoadFailed { room, why } => {
                // Nothing half-loaded stays: the room starts again from its latest page
                // the next time it is shown (at once, if it is in view).
                if let Some(r) = self.find(&room) {
                    r.reset();
                }
                self.notice = Some(Notice::Error(why));
                if self.room().is_some_and(|r| r.room.id == room) && self.link == Link::Online {
                    return self.open_current();
                }
                Vec::new()
            }
            Event::Paste(text) => {
                // One line: a pasted newline must not send half a paste, nor a tab switch room.
                let flat: String = text
                    .chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect();
                let at = self.byte_at(self.cursor);
                self.draft.insert_str(at, &flat);
                self.cursor += flat.chars().count();
                self.typing(now)
            }
            Event::Members { room, members } => {
                if let Some(r) = self.find(&room) {
                    r.members = members;
                }
                Vec::new()
            }
            Event::Frame(frame) => self.frame(*frame, now),
            Event::Offline { why, retry_in } => {
                self.link = Link::Offline {
                    why,
                    retry_at: now + retry_in,
                };
                Vec::new()
            }
            Event::Done(said) => {
                if let Some(said) = said {
                    self.notice = Some(Notice::Info(said));
                }
                Vec::new()
            }
            Event::Failed(why) | Event::SignedOut(why) => {
                self.notice = Some(Notice::Error(why));
                Vec::new()
            }
        }
    }

    fn rooms_loaded(&mut self, mine: Vec<MyRoom>) -> Vec<Effect> {
        let current = self.room().map(|r| r.room.id.clone());
        let mut old = std::mem::take(&mut self.rooms);
        let mut rooms: Vec<Room> = mine
            .into_iter()
            .map(|m| match old.iter().position(|r| r.room.id == m.room.id) {
                Some(i) => {
                    let mut kept = old.swap_remove(i);
                    kept.unread = m.unread;
                    kept.role = m.my_role;
                    kept.room = m.room;
                    kept
                }
                None => Room::new(m),
            })
            .collect();
        rooms.sort_by_key(|r| r.room.name.to_lowercase());
        self.rooms = rooms;
        self.current = current
            .and_then(|id| self.rooms.iter().position(|r| r.room.id == id))
            .unwrap_or(0)
            .min(self.rooms.len().saturating_sub(1));
        self.open_current()
    }

    /// What showing the current room needs: its latest page and members the first time,
    /// and telling the server it is read.
    fn open_current(&mut self) -> Vec<Effect> {
        let Some(room) = self.room_mut() else {
            return Vec::new();
        };
        let id = room.room.id.clone();
        let mut effects = Vec::new();
        if !room.loaded && !room.loading_older {
            room.loading_older = true;
            effects.push(Effect::LoadHistory {
                room: id.clone(),
                before: None,
            });
            effects.push(Effect::LoadMembers { room: id });
        }
        effects.extend(self.read_current());
        effects
    }

    /// The current room is read up to its newest message: clear its count, tell the server.
    fn read_current(&mut self) -> Vec<Effect> {
        let online = self.link == Link::Online;
        let Some(room) = self.room_mut() else {
            return Vec::new();
        };
        let newest = room.messages.last().map(|m| m.id);
        if room.unread == 0 || !room.loaded {
            return Vec::new();
        }
        room.unread = 0;
        match newest {
            Some(message_id) if online => vec![Effect::Live(ClientFrame::Read {
                room_id: room.room.id.clone(),
                message_id,
            })],
            _ => Vec::new(),
        }
    }

    fn history(&mut self, id: &RoomId, messages: Vec<MessageView>) -> Vec<Effect> {
        let Some(room) = self.find(id) else {
            return Vec::new();
        };
        room.loading_older = false;
        room.loaded = true;
        if (messages.len() as u32) < HISTORY_PAGE {
            room.more_before = false;
        }
        for m in messages {
            room.put(m);
        }
        // Older messages come in above, so what is in view stays where it was.
        self.read_current()
    }

    fn frame(&mut self, frame: ServerFrame, now: Instant) -> Vec<Effect> {
        match frame {
            ServerFrame::Ready { .. } => {
                self.link = Link::Online;
                // Catch up once on every room already shown, resend what was on its way
                // (the server keeps one message per client id, so none posts twice), and
                // refresh the list (unread counts, rooms joined or lost meanwhile).
                let mut effects = vec![Effect::LoadRooms];
                for room in self.rooms.iter().filter(|r| r.loaded) {
                    if let Some(after) = room.newest_seq() {
                        effects.push(Effect::CatchUp {
                            room: room.room.id.clone(),
                            after,
                        });
                    }
                }
                for p in &self.pending {
                    effects.push(Effect::Live(ClientFrame::Send(p.outgoing.clone())));
                }
                effects
            }
            ServerFrame::Message { message } => self.arrived(message),
            ServerFrame::Ack { client_id, message } => {
                self.pending.retain(|p| p.outgoing.client_id != client_id);
                self.arrived(message)
            }
            ServerFrame::MessageUpdated { message } => {
                if let Some(room) = self.find(&message.room_id.clone()) {
                    if room.messages.iter().any(|m| m.id == message.id) {
                        room.put(message);
                    }
                }
                Vec::new()
            }
            ServerFrame::Error {
                code,
                message,
                client_id,
                retry_after_ms,
            } => {
                let refused = client_id.and_then(|cid| {
                    let i = self
                        .pending
                        .iter()
                        .position(|p| p.outgoing.client_id == cid)?;
                    Some(self.pending.remove(i))
                });
                if let Some(refused) = refused {
                    // Only a refused send holds the composer (not a typing frame's refusal);
                    // slow mode holds its own room only.
                    if let Some(ms) = retry_after_ms {
                        let room =
                            (code == ErrorCode::SlowMode).then(|| refused.outgoing.room_id.clone());
                        self.wait_until = Some((now + Duration::from_millis(ms), room));
                    }
                    // Nothing typed is lost: the text goes back, before what is typed since.
                    if !refused.typed.is_empty() {
                        self.draft = if self.draft.is_empty() {
                            refused.typed
                        } else {
                            format!("{} {}", refused.typed, self.draft)
                        };
                        self.cursor = self.draft.chars().count();
                    }
                }
                let waiting = matches!(code, ErrorCode::RateLimited | ErrorCode::SlowMode)
                    && self.wait_left(now).is_some();
                if !waiting {
                    self.notice = Some(Notice::Error(message));
                }
                Vec::new()
            }
            ServerFrame::Member {
                room_id,
                event,
                user,
                role,
                until,
            } => self.member(&room_id, event, user, role, until),
            ServerFrame::RoomTerminated { room_id } => {
                let name = self
                    .find(&room_id)
                    .map(|r| r.room.name.clone())
                    .unwrap_or_default();
                self.notice = Some(Notice::Info(format!("#{name} was terminated.")));
                self.drop_room(&room_id);
                self.open_current()
            }
            ServerFrame::Notification { notification } => {
                self.last_notification = Some(notification);
                self.notice = None;
                // Joined, approved, invited… the list may have changed.
                vec![Effect::LoadRooms]
            }
            ServerFrame::Typing { room_id, user } => {
                if let Some(room) = self.find(&room_id) {
                    room.typing.retain(|(u, _)| u.id != user.id);
                    room.typing.push((user, now + TYPING_SHOWS));
                }
                Vec::new()
            }
            ServerFrame::Presence {
                room_id, online, ..
            } => {
                if let Some(room) = self.find(&room_id) {
                    room.online = online.into_iter().map(|u| u.id).collect();
                }
                Vec::new()
            }
            ServerFrame::RoomUpdated { room } => {
                if let Some(r) = self.find(&room.id.clone()) {
                    r.room = room;
                }
                Vec::new()
            }
            ServerFrame::Read {
                room_id,
                message_id,
            } => {
                let me = self.me.id.clone();
                if self.find(&room_id).is_some_and(|r| !r.loaded) {
                    // Read elsewhere up to a point this client does not hold: ask again.
                    return vec![Effect::LoadRooms];
                }
                if let Some(room) = self.find(&room_id) {
                    room.unread = room
                        .messages
                        .iter()
                        .filter(|m| m.id > message_id)
                        .filter(|m| m.author.as_ref().is_some_and(|a| a.id != me))
                        .count() as u64;
                }
                Vec::new()
            }
            ServerFrame::Pong | ServerFrame::Reports { .. } => Vec::new(),
        }
    }

    /// A new message: shown in its room, counted unread if the room is not in view.
    fn arrived(&mut self, message: MessageView) -> Vec<Effect> {
        let current = self.room().map(|r| r.room.id.clone());
        let mine = message.author.as_ref().is_some_and(|a| a.id == self.me.id);
        let id = message.room_id.clone();
        let Some(room) = self.find(&id) else {
            return Vec::new();
        };
        if let Some(author) = &message.author {
            room.typing.retain(|(u, _)| u.id != author.id);
        }
        // Kept even before the room's first page arrives (that page may have been read
        // before this message was stored); the page merges with it by id.
        let fresh = room.put(message);
        if fresh && !mine {
            if current.as_ref() == Some(&id) && room.loaded {
                room.unread = 1;
                return self.read_current();
            }
            room.unread += 1;
        }
        Vec::new()
    }

    fn member(
        &mut self,
        room_id: &RoomId,
        event: MemberEvent,
        user: User,
        role: Option<Role>,
        until: Option<String>,
    ) -> Vec<Effect> {
        let me = user.id == self.me.id;
        let gone = matches!(
            event,
            MemberEvent::Left | MemberEvent::Kicked | MemberEvent::Banned
        );
        if me && gone {
            let name = self
                .find(room_id)
                .map(|r| r.room.name.clone())
                .unwrap_or_default();
            let how = match event {
                MemberEvent::Kicked => "You were removed from",
                MemberEvent::Banned => "You were banned from",
                _ => "You left",
            };
            self.notice = Some(Notice::Info(format!("{how} #{name}.")));
            self.drop_room(room_id);
            return self.open_current();
        }
        if me && event == MemberEvent::Joined && !self.rooms.iter().any(|r| &r.room.id == room_id) {
            return vec![Effect::LoadRooms];
        }
        let Some(room) = self.find(room_id) else {
            return Vec::new();
        };
        if gone {
            room.members.retain(|m| m.user.id != user.id);
            room.online.retain(|id| id != &user.id);
            return Vec::new();
        }
        match room.members.iter_mut().find(|m| m.user.id == user.id) {
            Some(m) => {
                if let Some(role) = role {
                    m.role = role;
                }
                match event {
                    MemberEvent::Muted => m.muted_until = until,
                    MemberEvent::Unmuted => m.muted_until = None,
                    _ => {}
                }
            }
            None if event == MemberEvent::Joined => room.members.push(MemberView {
                user,
                role: role.unwrap_or(Role::Member),
                joined_at: String::new(),
                muted_until: None,
            }),
            None => {}
        }
        if me {
            if let Some(role) = role {
                room.role = role;
            }
        }
        Vec::new()
    }

    fn drop_room(&mut self, id: &RoomId) {
        let Some(i) = self.rooms.iter().position(|r| &r.room.id == id) else {
            return;
        };
        self.rooms.remove(i);
        if self.current > i || self.current >= self.rooms.len() {
            self.current = self.current.saturating_sub(1);
        }
        self.pending.retain(|p| &p.outgoing.room_id != id);
    }

    fn key(&mut self, key: KeyEvent, now: Instant) -> Vec<Effect> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => self.quit(),
            KeyCode::Char('c' | 'd') if ctrl => self.quit(),
            KeyCode::Tab => self.switch(1),
            KeyCode::BackTab => self.switch(-1),
            KeyCode::Down | KeyCode::Right if ctrl => self.switch(1),
            KeyCode::Up | KeyCode::Left if ctrl => self.switch(-1),
            KeyCode::PageUp => self.scroll_up(),
            KeyCode::PageDown => {
                if let Some(room) = self.room_mut() {
                    room.scroll = room.scroll.saturating_sub(PAGE);
                }
                Vec::new()
            }
            KeyCode::Enter => self.enter(now),
            KeyCode::Char('u') if ctrl => {
                self.draft.clear();
                self.cursor = 0;
                Vec::new()
            }
            KeyCode::Char(c) if !ctrl => {
                let at = self.byte_at(self.cursor);
                self.draft.insert(at, c);
                self.cursor += 1;
                self.typing(now)
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte_at(self.cursor);
                self.draft.remove(at);
                Vec::new()
            }
            KeyCode::Delete if self.cursor < self.draft.chars().count() => {
                let at = self.byte_at(self.cursor);
                self.draft.remove(at);
                Vec::new()
            }
            KeyCode::Left => {
                self.cursor = self.cursor.saturating_sub(1);
                Vec::new()
            }
            KeyCode::Right => {
                self.cursor = (self.cursor + 1).min(self.draft.chars().count());
                Vec::new()
            }
            KeyCode::Home => {
                self.cursor = 0;
                Vec::new()
            }
            KeyCode::End => {
                self.cursor = self.draft.chars().count();
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Others see that I am typing a message (not a command), at most every 2 s.
    fn typing(&mut self, now: Instant) -> Vec<Effect> {
        let recent = self
            .typed_at
            .is_some_and(|at| now.saturating_duration_since(at) < TYPING_EVERY);
        let Some(room) = self.room() else {
            return Vec::new();
        };
        if recent || self.link != Link::Online || self.draft.starts_with('/') {
            return Vec::new();
        }
        let room_id = room.room.id.clone();
        self.typed_at = Some(now);
        vec![Effect::Live(ClientFrame::Typing { room_id })]
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.draft
            .char_indices()
            .nth(chars)
            .map_or(self.draft.len(), |(i, _)| i)
    }

    fn quit(&mut self) -> Vec<Effect> {
        self.quit = true;
        Vec::new()
    }

    fn switch(&mut self, by: isize) -> Vec<Effect> {
        let n = self.rooms.len();
        if n < 2 {
            return Vec::new();
        }
        self.current = (self.current as isize + by).rem_euclid(n as isize) as usize;
        self.open_current()
    }

    fn scroll_up(&mut self) -> Vec<Effect> {
        let Some(room) = self.room_mut() else {
            return Vec::new();
        };
        let len = room.messages.len();
        room.scroll = (room.scroll + PAGE).min(len.saturating_sub(1));
        // Near the top of what is loaded: fetch the page before it.
        if room.scroll + PAGE >= len && room.more_before && !room.loading_older && room.loaded {
            room.loading_older = true;
            return vec![Effect::LoadHistory {
                room: room.room.id.clone(),
                before: room.messages.first().map(|m| m.id),
            }];
        }
        Vec::new()
    }

    fn enter(&mut self, now: Instant) -> Vec<Effect> {
        let typed = self.draft.trim().to_owned();
        if typed.is_empty() {
            return Vec::new();
        }
        if typed.starts_with('/') && !typed.starts_with("//") {
            return match Slash::parse(&typed) {
                Ok(command) => {
                    self.draft.clear();
                    self.cursor = 0;
                    self.slash(command, now)
                }
                Err(why) => {
                    self.notice = Some(Notice::Error(why));
                    Vec::new()
                }
            };
        }
        // "//text" sends "/text".
        let text = typed.strip_prefix('/').filter(|t| t.starts_with('/'));
        let text = text.unwrap_or(&typed).to_owned();
        match MessageBody::parse(&text) {
            Ok(body) => self.send(Content::Text(body), now),
            Err(e) => {
                self.notice = Some(Notice::Error(e.message));
                Vec::new()
            }
        }
    }

    fn slash(&mut self, command: Slash, now: Instant) -> Vec<Effect> {
        let room = self.room().map(|r| r.room.id.clone());
        match command {
            Slash::Color(color) => {
                self.color = color;
                self.notice = Some(Notice::Info(match color {
                    Some(c) => format!("Your messages are {} now.", c.as_str()),
                    None => "Your messages have no colour now.".into(),
                }));
                Vec::new()
            }
            Slash::Sticker(sticker) => self.send(Content::Sticker(sticker), now),
            Slash::Help => {
                self.notice = Some(Notice::Info(Slash::HELP.into()));
                Vec::new()
            }
            Slash::Quit => self.quit(),
            Slash::Join(_) => vec![Effect::Run { room, command }],
            command => match room {
                Some(room) => vec![Effect::Run {
                    room: Some(room),
                    command,
                }],
                None => {
                    self.notice = Some(Notice::Error("Join a room first: /join NAME.".into()));
                    Vec::new()
                }
            },
        }
    }

    fn send(&mut self, content: Content, now: Instant) -> Vec<Effect> {
        let Some(room_id) = self.room().map(|r| r.room.id.clone()) else {
            self.notice = Some(Notice::Error("Join a room first: /join NAME.".into()));
            return Vec::new();
        };
        // The status line counts down meanwhile, and the text stays in the composer.
        if self.wait_left(now).is_some() {
            return Vec::new();
        }
        if self.link != Link::Online {
            self.notice = Some(Notice::Error(
                "Not connected: your text stays in the composer until Parlor is back.".into(),
            ));
            return Vec::new();
        }
        self.next_client_id += 1;
        let Ok(client_id) = ClientId::parse(&format!("cli-{:x}", self.next_client_id)) else {
            return Vec::new();
        };
        let outgoing = Outgoing {
            room_id,
            client_id,
            color: match content {
                Content::Text(_) => self.color,
                Content::Sticker(_) => None,
            },
            content,
            reply_to: None,
        };
        let typed = match &outgoing.content {
            Content::Text(_) => std::mem::take(&mut self.draft),
            Content::Sticker(_) => String::new(),
        };
        self.cursor = self.draft.chars().count();
        self.pending.push(Unacked {
            outgoing: outgoing.clone(),
            typed,
        });
        self.notice = None;
        if let Some(room) = self.room_mut() {
            room.scroll = 0;
        }
        vec![Effect::Live(ClientFrame::Send(outgoing))]
    }
}

/// The text a sticker message shows, by its name.
pub fn sticker_art(name: &str) -> Option<&'static str> {
    StickerName::parse(name).ok().map(StickerName::art)
}
