//! Everything the browser knows of the chat, and the one function that changes it:
//! [`ChatState::apply`]. It is pure — the state, an [`Update`] and the time in, the new
//! state and the [`Followup`]s out — so every rule of the client is tested natively, like
//! `domain::room::decide`. Server frames, server-function results and the person's own
//! actions all arrive here as updates; the `live` module carries out the followups.

use std::collections::{BTreeMap, HashMap};

use domain::{
    effects::{MemberEvent, NotificationKind},
    message::{ClientId, Content, MessageKind, MessageView, Outgoing},
    room::{Role, RoomStatus},
    views::{MemberView, MyRoom, NotificationView, PreviousRoom, RoomPage, RoomView},
    wire::{ClientFrame, Close, ServerFrame},
    ApiError, ErrorCode, MessageId, NotificationId, RoomId, User, UserId,
};

use super::{
    clock::{self, Millis},
    text,
};
use crate::api::overview::Overview;

/// How long a `typing` frame keeps its name under the composer.
pub const TYPING_SHOWN_MS: Millis = 5_000;

/// What can change the state.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// A frame from the live channel (boxed: a message frame is by far the largest update).
    Frame(Box<ServerFrame>),
    /// A server function's answer.
    Loaded(Loaded),
    /// Something the person did, or the connection's state.
    Local(Local),
}

impl From<ServerFrame> for Update {
    fn from(frame: ServerFrame) -> Self {
        Self::Frame(Box::new(frame))
    }
}

impl From<Loaded> for Update {
    fn from(loaded: Loaded) -> Self {
        Self::Loaded(loaded)
    }
}

impl From<Local> for Update {
    fn from(local: Local) -> Self {
        Self::Local(local)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    /// `me/overview`: who I am, my rooms, my past rooms, my notifications.
    Overview(Overview),
    /// `rooms/open`: a room's page.
    Room(RoomPage),
    /// `messages/history`: an older page, newest first, as asked with `limit`.
    Older {
        room: RoomId,
        messages: Vec<MessageView>,
        limit: u64,
    },
    /// `messages/around`: a message with the messages around it, oldest first (a search
    /// hit opened). When newer messages exist that are not loaded, a gap is left between
    /// these and the latest ones, loaded on as the reader scrolls down (`Newer`).
    Around {
        room: RoomId,
        focus: MessageId,
        messages: Vec<MessageView>,
        has_older: bool,
        has_newer: bool,
    },
    /// Messages after the gap's lower edge, oldest first, and whether more are past them.
    Newer {
        room: RoomId,
        messages: Vec<MessageView>,
        has_newer: bool,
    },
    /// `messages/since`: what was missed, oldest first.
    Since {
        room: RoomId,
        messages: Vec<MessageView>,
    },
    /// `notifications/list`.
    Notifications {
        notifications: Vec<NotificationView>,
        unread: u64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Local {
    /// This room is now shown in the middle.
    Show(RoomId),
    /// This room's page closed.
    Hide(RoomId),
    /// The shown room is read to the bottom while the tab is visible.
    Seen(RoomId),
    /// I joined, asked to join or took an invite from this room's page: load it again.
    Joined(RoomId),
    /// Something about the room changed that no frame tells (an answered request): load it
    /// again.
    Reload(RoomId),
    Draft {
        room: RoomId,
        text: String,
    },
    /// Send a text or a sticker, under the client's own id.
    Send(Outgoing),
    /// Try a failed send again, with its same client id.
    Retry {
        room: RoomId,
        client_id: ClientId,
    },
    Discard {
        room: RoomId,
        client_id: ClientId,
    },
    /// A message the server stored outside the live channel (an upload).
    Posted(Box<MessageView>),
    Connection(Connection),
    /// Marks notifications read: these, or all.
    MarkRead(Option<Vec<NotificationId>>),
    DismissNotice(u64),
    /// A refusal or failure to tell the person about.
    Failed(ApiError),
    /// Something done that the person should see done (it fades).
    Done(String),
    /// I left this room (through the API).
    Left(RoomId),
    /// Set (`on`) or take back my emoji on a message.
    React {
        message_id: MessageId,
        emoji: String,
        on: bool,
    },
}

/// What the `live` module does after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Followup {
    /// Send this frame on the live channel (dropped if it is down: `ready` resends).
    Transmit(ClientFrame),
    /// Fetch `messages/since` for a room.
    CatchUp { room: RoomId, after: MessageId },
    /// Fetch the room's page again (nothing of it is known yet).
    Reload { room: RoomId },
    /// Fetch the overview again: my rooms changed in a way frames do not fully tell.
    Refresh,
    /// Tell the server these notifications were read (`None`: all).
    MarkRead(Option<Vec<NotificationId>>),
}

/// The live channel's state, as the banner shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Opening: the first time (`attempt` 0), or again after it went down.
    Connecting { attempt: u32 },
    /// `ready` came: everything from here on arrives.
    Online,
    /// Down; the next try is at `retry_at`, and this is try number `attempt`. `refused`
    /// when the server would not keep the socket (too many tabs open).
    Offline {
        retry_at: Millis,
        attempt: u32,
        refused: Option<Close>,
    },
    /// The session ended (logged out elsewhere): no more tries.
    SignedOut,
}

impl Default for Connection {
    fn default() -> Self {
        Self::Connecting { attempt: 0 }
    }
}

/// A send not yet acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub send: Outgoing,
    /// `None` while it is on its way; the server's sentence when it was refused.
    pub failed: Option<String>,
}

impl Pending {
    pub fn client_id(&self) -> &ClientId {
        &self.send.client_id
    }

    fn frame(&self) -> ClientFrame {
        ClientFrame::Send(self.send.clone())
    }
}

/// Why a room I was looking at is no longer mine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Left,
    Kicked {
        by: Option<String>,
        reason: Option<String>,
    },
    Banned {
        by: Option<String>,
        reason: Option<String>,
    },
    Terminated,
}

impl Ending {
    /// Why the room is no longer mine, as its page says it.
    pub fn sentence(&self, name: Option<&str>) -> String {
        let room = text::room_label(name);
        let by_whom = |by: &Option<String>| by.clone().unwrap_or_else(|| "an admin".to_owned());
        match self {
            Self::Left => format!("You left {room}."),
            Self::Kicked { by, reason } => text::with_reason(
                format!("You were removed from {room} by {}", by_whom(by)),
                reason.as_deref(),
            ),
            Self::Banned { by, reason } => text::with_reason(
                format!("You were banned from {room} by {}", by_whom(by)),
                reason.as_deref(),
            ),
            Self::Terminated => text::terminated(name),
        }
    }
}

/// One room as its page shows it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Conversation {
    pub room: Option<RoomView>,
    pub my_role: Option<Role>,
    /// `rooms/open` answered: the latest messages are here.
    pub loaded: bool,
    /// Stored messages by id: a room's ids follow commit order, so this is the timeline.
    pub messages: BTreeMap<MessageId, MessageView>,
    /// Sends not yet acknowledged, in the order they were made; shown after the timeline.
    pub pending: Vec<Pending>,
    pub has_older: bool,
    pub members: Vec<MemberView>,
    pub online: Vec<User>,
    pub online_count: usize,
    /// Who is typing, until when.
    pub typing: Vec<(User, Millis)>,
    pub draft: String,
    /// How much of the start of `draft` is text given back by refused sends (kept in the
    /// order they were sent, ahead of anything typed since).
    pub restored: usize,
    pub ended: Option<Ending>,
    /// Not a member: I asked to join and wait for an answer.
    pub requested: bool,
    /// Not a member: I hold a valid invite.
    pub invited: bool,
    /// For admins: requests waiting for an answer.
    pub requests: u32,
    /// The highest `seq` among the messages received: an edit or delete of an old message
    /// moves the catch-up cursor past the newest id.
    pub changes_seen: Option<MessageId>,
    /// My read position when the room was opened: the "new messages" divider follows it
    /// (while a message from someone else does).
    pub divider: Option<MessageId>,
    /// Messages between these two (exclusive) are not loaded: a search hit opened an older
    /// part of the room. The timeline shows the gap and loads it as the reader scrolls down.
    pub gap: Option<(MessageId, MessageId)>,
    /// The message a search hit opened: scrolled to and highlighted.
    pub focus: Option<MessageId>,
    /// The end of my timeout here, while I have one.
    pub muted_until: Option<Millis>,
    /// Slow mode: when my next message may go.
    pub next_post_at: Option<Millis>,
}

/// Why the composer of a room cannot send right now (docs/RULES.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Timed out for this many more milliseconds.
    Muted(Millis),
    /// Slow mode lets the next message go in this many milliseconds.
    SlowMode(Millis),
    /// Only admins post here.
    Announcement,
}

impl Conversation {
    /// What holds my messages back at `now`, if anything: a timeout first (it binds admins
    /// too), then, for members who are not admins, an announcement room or slow mode.
    pub fn hold(&self, now: Millis) -> Option<Hold> {
        if let Some(end) = self.muted_until.filter(|&end| end > now) {
            return Some(Hold::Muted(end - now));
        }
        if self.my_role.is_none_or(Role::is_admin) {
            return None;
        }
        if self.room.as_ref().is_some_and(|r| r.announcement) {
            return Some(Hold::Announcement);
        }
        let slow = self.room.as_ref().is_some_and(|r| r.slow_mode_seconds > 0);
        self.next_post_at
            .filter(|&next| slow && next > now)
            .map(|next| Hold::SlowMode(next - now))
    }

    pub fn is_member(&self) -> bool {
        self.my_role.is_some() && self.ended.is_none()
    }

    pub fn oldest(&self) -> Option<MessageId> {
        self.messages.keys().next().copied()
    }

    pub fn newest(&self) -> Option<MessageId> {
        self.messages.keys().next_back().copied()
    }

    /// My newest text message that is still there: what Up in an empty composer edits.
    pub fn last_editable(&self, me: &UserId) -> Option<MessageId> {
        self.messages
            .values()
            .rev()
            .find(|m| {
                m.author.as_ref().is_some_and(|a| &a.id == me)
                    && m.kind == MessageKind::Text
                    && m.deleted.is_none()
            })
            .map(|m| m.id)
    }

    /// The first message from someone else past `divider`: where "new messages" begins.
    pub fn first_unread(&self, me: Option<&UserId>) -> Option<MessageId> {
        let after = self.divider?;
        self.messages
            .range((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
            .find(|(_, m)| {
                m.kind != MessageKind::System
                    && m.deleted.is_none()
                    && m.author.as_ref().is_some_and(|a| Some(&a.id) != me)
            })
            .map(|(id, _)| *id)
    }

    /// Where catch-up resumes: the highest point of the room's sequence seen, a message or
    /// a change to one (`MessageView::seq`).
    pub fn cursor(&self) -> Option<MessageId> {
        self.newest().max(self.changes_seen)
    }

    /// Stores `m`, or the newer of it and the one held with its id (a history page can
    /// bring an older state of a message than a `message_updated` did); true if it was new.
    fn insert(&mut self, m: MessageView) -> bool {
        self.changes_seen = self.changes_seen.max(Some(m.seq));
        match self.messages.get(&m.id) {
            Some(held) if held.seq > m.seq => false,
            held => {
                let fresh = held.is_none();
                self.messages.insert(m.id, m);
                fresh
            }
        }
    }

    /// A window of messages around `focus` (oldest first). It joins the latest messages
    /// when it reaches them; otherwise a gap stays between it and them, and whatever an
    /// earlier window left below the latest messages goes, so there is one gap at most.
    fn around(
        &mut self,
        focus: MessageId,
        messages: Vec<MessageView>,
        has_older: bool,
        has_newer: bool,
    ) {
        let (Some(low), Some(high)) = (
            messages.first().map(|m| m.id),
            messages.last().map(|m| m.id),
        ) else {
            return;
        };
        if let Some((_, latest)) = self.gap.take() {
            self.messages = self.messages.split_off(&latest);
            // The dropped window was older than what stays.
            self.has_older = true;
        }
        let latest_start = self.oldest();
        // Joined when nothing newer exists, or the latest messages begin inside the window.
        let joined = !has_newer || latest_start.is_none_or(|start| start <= high);
        if latest_start.is_none_or(|start| low <= start) {
            self.has_older = has_older;
        }
        if !joined {
            self.gap = latest_start.map(|start| (high, start));
        }
        for m in messages {
            self.insert(m);
        }
        self.focus = Some(focus);
    }

    /// Messages past the gap's lower edge (oldest first): the gap shrinks, and closes when
    /// they reach the latest messages or there are no more.
    fn newer(&mut self, messages: Vec<MessageView>, has_newer: bool) {
        let Some((low, high)) = self.gap else {
            return;
        };
        let reached = messages.last().map_or(low, |m| m.id);
        for m in messages.into_iter().filter(|m| m.id > low) {
            self.insert(m);
        }
        self.gap = (has_newer && reached < high).then_some((reached.max(low), high));
    }

    pub fn typing_now(&self, now: Millis) -> Vec<&User> {
        self.typing
            .iter()
            .filter(|(_, until)| *until > now)
            .map(|(u, _)| u)
            .collect()
    }
}

/// One of my rooms in the sidebar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomEntry {
    pub room: RoomView,
    pub role: Role,
    /// Messages from others past my read position (the server counts; live messages add).
    pub unread: u32,
    /// Of those, the ones that mention me.
    pub mentions: u32,
    /// My read position in it, as the server last said.
    pub read_to: Option<MessageId>,
    /// For an admin: the open reports I see in it (the server counts; `reports` frames
    /// bring the new count).
    pub open_reports: u32,
}

/// A short message in the corner: something happened that the person should see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub id: u64,
    pub text: String,
    pub room: Option<RoomId>,
    /// Bad news stays until dismissed; the rest fades.
    pub alert: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatState {
    pub me: Option<User>,
    /// My rooms, by name.
    pub rooms: Vec<RoomEntry>,
    pub previous: Vec<PreviousRoom>,
    /// Newest first.
    pub notifications: Vec<NotificationView>,
    pub unread_notifications: u64,
    pub conversations: HashMap<RoomId, Conversation>,
    /// The room in the middle of the screen.
    pub shown: Option<RoomId>,
    pub connection: Connection,
    pub notices: Vec<Notice>,
    /// The send rate limit: nothing is sent before this.
    pub send_wait_until: Millis,
    next_notice: u64,
}

fn sort_rooms(rooms: &mut [RoomEntry]) {
    rooms.sort_by(|a, b| {
        (a.room.name.to_lowercase(), &a.room.id).cmp(&(b.room.name.to_lowercase(), &b.room.id))
    });
}

impl ChatState {
    pub fn conversation(&self, room: &RoomId) -> Option<&Conversation> {
        self.conversations.get(room)
    }

    pub fn room_entry(&self, room: &RoomId) -> Option<&RoomEntry> {
        self.rooms.iter().find(|r| &r.room.id == room)
    }

    pub fn is_me(&self, user: &UserId) -> bool {
        self.me.as_ref().is_some_and(|me| &me.id == user)
    }

    /// The room's name as I last knew it, for sentences.
    pub fn room_name(&self, room: &RoomId) -> Option<String> {
        self.room_entry(room)
            .map(|r| r.room.name.clone())
            .or_else(|| {
                self.conversations
                    .get(room)
                    .and_then(|c| c.room.as_ref())
                    .map(|r| r.name.clone())
            })
    }

    fn notice(&mut self, text: String, room: Option<RoomId>, alert: bool) {
        self.next_notice += 1;
        self.notices.push(Notice {
            id: self.next_notice,
            text,
            room,
            alert,
        });
        // A burst of bad news should not bury the page.
        if self.notices.len() > 5 {
            self.notices.remove(0);
        }
    }

    fn conv(&mut self, room: &RoomId) -> &mut Conversation {
        self.conversations.entry(room.clone()).or_default()
    }

    /// Applies one update at time `now`; returns what the live module must do next.
    pub fn apply(&mut self, update: Update, now: Millis) -> Vec<Followup> {
        match update {
            Update::Frame(frame) => self.frame(*frame, now),
            Update::Loaded(loaded) => self.loaded(loaded),
            Update::Local(local) => self.local(local, now),
        }
    }

    fn frame(&mut self, frame: ServerFrame, now: Millis) -> Vec<Followup> {
        match frame {
            ServerFrame::Ready { rooms } => self.ready(&rooms),
            ServerFrame::Message { message } => {
                self.stored(message);
                Vec::new()
            }
            ServerFrame::Ack { client_id, message } => {
                self.acked(&client_id, message, now);
                Vec::new()
            }
            ServerFrame::Error {
                code,
                message,
                client_id,
                retry_after_ms,
            } => {
                self.refused(code, message, client_id, retry_after_ms, now);
                Vec::new()
            }
            ServerFrame::Member {
                room_id,
                event,
                user,
                role,
                until,
            } => {
                let until = until.as_deref().and_then(clock::parse_iso);
                self.muting(&room_id, event, &user, until);
                self.member(room_id, event, user, role, now)
            }
            ServerFrame::RoomTerminated { room_id } => {
                self.terminated(room_id);
                Vec::new()
            }
            ServerFrame::Notification { notification } => self.notification(notification),
            ServerFrame::Typing { room_id, user } => {
                self.typing(&room_id, user, now);
                Vec::new()
            }
            ServerFrame::Presence {
                room_id,
                online,
                online_count,
            } => {
                let c = self.conv(&room_id);
                c.online = online;
                c.online_count = online_count;
                Vec::new()
            }
            ServerFrame::Pong => Vec::new(),
            ServerFrame::Read {
                room_id,
                message_id,
            } => self.read(room_id, message_id),
            ServerFrame::MessageUpdated { message } => {
                self.changed(message);
                Vec::new()
            }
            ServerFrame::RoomUpdated { room } => {
                self.room_updated(room);
                Vec::new()
            }
            ServerFrame::Reports { room_id, open } => {
                if let Some(entry) = self.rooms.iter_mut().find(|r| r.room.id == room_id) {
                    entry.open_reports = open;
                }
                Vec::new()
            }
        }
    }

    /// My send was stored: it leaves the pending list, and slow mode counts from it.
    fn acked(&mut self, client_id: &ClientId, message: MessageView, now: Millis) {
        if let Some(c) = self.conversations.get_mut(&message.room_id) {
            c.pending.retain(|p| p.client_id() != client_id);
            let slow = c.room.as_ref().map_or(0, |r| r.slow_mode_seconds);
            if slow > 0 {
                c.next_post_at = Some(now + i64::from(slow) * 1000);
            }
        }
        self.stored(message);
    }

    /// The room ended: it leaves my lists, its page says so, and I am told if it was mine.
    fn terminated(&mut self, room_id: RoomId) {
        let name = self.room_name(&room_id);
        let was_mine = self.room_entry(&room_id).is_some();
        self.rooms.retain(|r| r.room.id != room_id);
        self.previous.retain(|p| p.room.id != room_id);
        if let Some(c) = self.conversations.get_mut(&room_id) {
            c.ended = Some(Ending::Terminated);
            if let Some(room) = c.room.as_mut() {
                room.status = RoomStatus::Terminated;
            }
        }
        if was_mine {
            let text = text::terminated(name.as_deref());
            self.notice(text, Some(room_id), true);
        }
    }

    /// Someone else types in a room I have open: shown for a while, once per person.
    fn typing(&mut self, room_id: &RoomId, user: User, now: Millis) {
        if self.is_me(&user.id) {
            return;
        }
        if let Some(c) = self.conversations.get_mut(room_id) {
            c.typing
                .retain(|(u, until)| u.id != user.id && *until > now);
            c.typing.push((user, now + TYPING_SHOWN_MS));
        }
    }

    /// A room's settings changed: the list and its page show the new ones.
    fn room_updated(&mut self, room: RoomView) {
        if let Some(entry) = self.rooms.iter_mut().find(|r| r.room.id == room.id) {
            entry.room = room.clone();
        }
        if let Some(c) = self.conversations.get_mut(&room.id) {
            c.room = Some(room);
        }
    }

    /// The socket carries my rooms from here on: catch up on what was missed while it was
    /// down, resend what was never acknowledged, and refresh the overview.
    fn ready(&mut self, rooms: &[RoomId]) -> Vec<Followup> {
        self.connection = Connection::Online;
        let mut out = vec![Followup::Refresh];
        let mut ids: Vec<&RoomId> = self.conversations.keys().collect();
        ids.sort();
        for id in ids {
            let c = &self.conversations[id];
            if !c.loaded || !c.is_member() {
                continue;
            }
            if !rooms.contains(id) {
                // No longer mine: the refreshed overview says why.
                continue;
            }
            match c.cursor() {
                Some(after) => out.push(Followup::CatchUp {
                    room: id.clone(),
                    after,
                }),
                None => out.push(Followup::Reload { room: id.clone() }),
            }
            out.extend(
                c.pending
                    .iter()
                    .filter(|p| p.failed.is_none())
                    .map(|p| Followup::Transmit(p.frame())),
            );
        }
        out
    }

    /// Whether I am among those who set each of `message`'s reactions (a frame for a whole
    /// room cannot say; the people it names can).
    fn mark_mine(&self, message: &mut MessageView) {
        let Some(me) = self.me.as_ref().map(|u| &u.id) else {
            return;
        };
        for r in &mut message.reactions {
            r.me = r.me || r.users.iter().any(|u| &u.id == me);
        }
    }

    /// A deleted message no longer counts in its room's badges, if it did.
    fn uncount(&mut self, deleted: &MessageView) {
        let me = self.me.as_ref().map(|u| u.id.clone());
        let held = self
            .conversation(&deleted.room_id)
            .and_then(|c| c.messages.get(&deleted.id))
            .filter(|m| m.deleted.is_none())
            .map(|m| me.as_ref().is_some_and(|me| m.mentions(me)));
        let Some(entry) = self.rooms.iter_mut().find(|r| r.room.id == deleted.room_id) else {
            return;
        };
        let from_other = deleted
            .author
            .as_ref()
            .is_some_and(|a| Some(&a.id) != me.as_ref());
        if !from_other || entry.read_to >= Some(deleted.id) || entry.unread == 0 {
            return;
        }
        entry.unread -= 1;
        // Not held here, whether it mentioned me is not known: the next overview load
        // brings the server's count.
        if held == Some(true) {
            entry.mentions = entry.mentions.saturating_sub(1);
        }
    }

    /// A message changed (edited, deleted, reacted to): shown as it is now where its room is
    /// loaded, and so are the quotes of it in replies; elsewhere the next load brings it.
    fn changed(&mut self, mut message: MessageView) {
        self.mark_mine(&mut message);
        if message.deleted.is_some() {
            self.uncount(&message);
        }
        let Some(c) = self.conversations.get_mut(&message.room_id) else {
            return;
        };
        if !c.loaded {
            return;
        }
        let quote = domain::message::ReplyView::of(
            message.id,
            message.author.clone(),
            message.kind,
            message.body.as_deref(),
            message.sticker.as_deref(),
        );
        for reply in c.messages.values_mut() {
            if let Some(r) = reply.reply_to.as_mut().filter(|r| r.id == quote.id) {
                *r = quote.clone();
            }
        }
        c.insert(message);
    }

    /// A stored message: into its timeline if that is loaded, else counted as unread.
    fn stored(&mut self, mut message: MessageView) {
        self.mark_mine(&mut message);
        let room = message.room_id.clone();
        let from_other = message.author.as_ref().is_some_and(|a| !self.is_me(&a.id));
        let mentions_me = self.me.as_ref().is_some_and(|me| message.mentions(&me.id));
        let shown = self.shown.as_ref() == Some(&room);
        let fresh = match self.conversations.get_mut(&room) {
            Some(c) if c.loaded => {
                if let Some(author) = &message.author {
                    c.typing.retain(|(u, _)| u.id != author.id);
                }
                c.insert(message)
            }
            _ => true,
        };
        if fresh && from_other && !shown {
            if let Some(entry) = self.rooms.iter_mut().find(|r| r.room.id == room) {
                entry.unread = entry.unread.saturating_add(1);
                entry.mentions = entry.mentions.saturating_add(u32::from(mentions_me));
            }
        }
    }

    fn refused(
        &mut self,
        code: ErrorCode,
        message: String,
        client_id: Option<ClientId>,
        retry_after_ms: Option<u64>,
        now: Millis,
    ) {
        let Some(client_id) = client_id else {
            self.notice(message, None, true);
            return;
        };
        let Some(c) = self
            .conversations
            .values_mut()
            .find(|c| c.pending.iter().any(|p| p.client_id() == &client_id))
        else {
            return;
        };
        let Some(at) = c.pending.iter().position(|p| p.client_id() == &client_id) else {
            return;
        };
        let held = matches!(
            code,
            ErrorCode::RateLimited
                | ErrorCode::Muted
                | ErrorCode::SlowMode
                | ErrorCode::AnnouncementOnly
        );
        if held {
            // Nothing is lost: the text goes back into the composer, and the composer
            // waits as long as the server said.
            let refused = c.pending.remove(at);
            if let Content::Text(body) = &refused.send.content {
                let text = body.as_str();
                let at = c.restored.min(c.draft.len());
                let typed = c.draft.split_off(at);
                if !c.draft.is_empty() {
                    c.draft.push('\n');
                }
                c.draft.push_str(text);
                c.restored = c.draft.len();
                if !typed.trim().is_empty() {
                    c.draft.push('\n');
                    c.draft.push_str(typed.trim_start_matches('\n'));
                }
            }
            let wait = i64::try_from(retry_after_ms.unwrap_or(1000)).unwrap_or(i64::MAX);
            let until = now.saturating_add(wait);
            match code {
                ErrorCode::Muted => c.muted_until = Some(until),
                ErrorCode::SlowMode => c.next_post_at = Some(until),
                ErrorCode::AnnouncementOnly => {
                    if let Some(room) = c.room.as_mut() {
                        room.announcement = true;
                    }
                }
                _ => self.send_wait_until = self.send_wait_until.max(until),
            }
        } else {
            c.pending[at].failed = Some(message);
        }
    }

    /// A timeout set or over: the member list shows it, and my own holds my composer.
    fn muting(&mut self, room: &RoomId, event: MemberEvent, user: &User, until: Option<Millis>) {
        let until = match event {
            MemberEvent::Muted => until,
            MemberEvent::Unmuted => None,
            _ => return,
        };
        let me = self.is_me(&user.id);
        let Some(c) = self.conversations.get_mut(room) else {
            return;
        };
        if let Some(m) = c.members.iter_mut().find(|m| m.user.id == user.id) {
            m.muted_until = until.map(clock::iso_from_millis);
        }
        if me {
            c.muted_until = until;
        }
    }

    fn member(
        &mut self,
        room: RoomId,
        event: MemberEvent,
        user: User,
        role: Option<Role>,
        now: Millis,
    ) -> Vec<Followup> {
        let delta = self.member_list(&room, event, &user, role, now);
        self.count_members(&room, delta);
        if self.is_me(&user.id) {
            return self.my_membership(room, event, role);
        }
        // Someone let in while requests wait: one of them may have been answered.
        let recount = event == MemberEvent::Joined
            && self
                .conversations
                .get(&room)
                .is_some_and(|c| c.requests > 0 && c.my_role.is_some_and(Role::is_admin));
        if recount {
            vec![Followup::Reload { room }]
        } else {
            Vec::new()
        }
    }

    /// The member list, for everyone, where it is known; returns how much the member count
    /// moves. Where the list is known, the count moves only when the list did: a repeated
    /// frame changes nothing.
    fn member_list(
        &mut self,
        room: &RoomId,
        event: MemberEvent,
        user: &User,
        role: Option<Role>,
        now: Millis,
    ) -> i64 {
        let told: i64 = match event {
            MemberEvent::Joined => 1,
            MemberEvent::Left | MemberEvent::Kicked | MemberEvent::Banned => -1,
            _ => 0,
        };
        if matches!(event, MemberEvent::Muted | MemberEvent::Unmuted) {
            return 0;
        }
        let Some(c) = self.conversations.get_mut(room).filter(|c| c.loaded) else {
            return told;
        };
        let before = c.members.len();
        match event {
            MemberEvent::Joined => {
                if !c.members.iter().any(|m| m.user.id == user.id) {
                    c.members.push(MemberView {
                        user: user.clone(),
                        role: role.unwrap_or(Role::Member),
                        joined_at: clock::iso_from_millis(now),
                        muted_until: None,
                    });
                }
            }
            MemberEvent::Left | MemberEvent::Kicked | MemberEvent::Banned => {
                c.members.retain(|m| m.user.id != user.id);
                c.typing.retain(|(u, _)| u.id != user.id);
            }
            MemberEvent::Muted | MemberEvent::Unmuted => {}
            MemberEvent::Promoted
            | MemberEvent::Demoted
            | MemberEvent::Succession
            | MemberEvent::Owner => {
                if let (Some(m), Some(role)) =
                    (c.members.iter_mut().find(|m| m.user.id == user.id), role)
                {
                    m.role = role;
                }
            }
        }
        c.members.len() as i64 - before as i64
    }

    /// Moves the room's member count, on its page and in the sidebar.
    fn count_members(&mut self, room: &RoomId, delta: i64) {
        if let Some(r) = self
            .conversations
            .get_mut(room)
            .and_then(|c| c.room.as_mut())
        {
            r.member_count = apply_delta(r.member_count, delta);
        }
        if let Some(entry) = self.rooms.iter_mut().find(|r| &r.room.id == room) {
            entry.room.member_count = apply_delta(entry.room.member_count, delta);
        }
    }

    /// What a member frame about me means: I am in, I am out, or my role changed.
    fn my_membership(
        &mut self,
        room: RoomId,
        event: MemberEvent,
        role: Option<Role>,
    ) -> Vec<Followup> {
        match event {
            MemberEvent::Joined => {
                let mut out = Vec::new();
                if let Some(c) = self.conversations.get_mut(&room) {
                    c.my_role = role.or(Some(Role::Member));
                    c.ended = None;
                    c.requested = false;
                    c.invited = false;
                    if !c.loaded {
                        out.push(Followup::Reload { room: room.clone() });
                    }
                }
                if self.room_entry(&room).is_none() {
                    out.push(Followup::Refresh);
                }
                out
            }
            MemberEvent::Left | MemberEvent::Kicked | MemberEvent::Banned => {
                self.i_am_out(&room, event);
                vec![Followup::Refresh]
            }
            MemberEvent::Promoted
            | MemberEvent::Demoted
            | MemberEvent::Succession
            | MemberEvent::Owner => {
                if let Some(role) = role {
                    if let Some(entry) = self.rooms.iter_mut().find(|r| r.room.id == room) {
                        entry.role = role;
                    }
                    if let Some(c) = self.conversations.get_mut(&room) {
                        c.my_role = Some(role);
                    }
                }
                Vec::new()
            }
            MemberEvent::Muted | MemberEvent::Unmuted => Vec::new(),
        }
    }

    /// I left, or was kicked or banned: the room leaves my list, and its page says so.
    fn i_am_out(&mut self, room: &RoomId, event: MemberEvent) {
        self.rooms.retain(|r| &r.room.id != room);
        if let Some(c) = self.conversations.get_mut(room) {
            c.my_role = None;
            c.pending.clear();
            c.typing.clear();
            // The notification that follows a kick or ban carries who and why.
            if c.ended.is_none() {
                c.ended = Some(match event {
                    MemberEvent::Kicked => Ending::Kicked {
                        by: None,
                        reason: None,
                    },
                    MemberEvent::Banned => Ending::Banned {
                        by: None,
                        reason: None,
                    },
                    _ => Ending::Left,
                });
            }
        }
    }

    fn notification(&mut self, n: NotificationView) -> Vec<Followup> {
        if self.notifications.iter().any(|x| x.id == n.id) {
            return Vec::new();
        }
        if !n.read {
            self.unread_notifications += 1;
        }
        let mut out = Vec::new();
        let who = n.actor.as_ref().map(|a| a.username.clone());
        let alert = matches!(
            n.kind,
            NotificationKind::Kicked | NotificationKind::Banned | NotificationKind::RoomTerminated
        );
        if n.kind == NotificationKind::JoinRequest {
            if let Some(c) = n
                .room_id
                .as_ref()
                .and_then(|r| self.conversations.get_mut(r))
            {
                c.requests += 1;
            }
        }
        if let Some(room) = &n.room_id {
            let ending = match n.kind {
                NotificationKind::Kicked => Some(Ending::Kicked {
                    by: who.clone(),
                    reason: n.reason.clone(),
                }),
                NotificationKind::Banned => Some(Ending::Banned {
                    by: who.clone(),
                    reason: n.reason.clone(),
                }),
                NotificationKind::RoomTerminated => Some(Ending::Terminated),
                _ => None,
            };
            if let Some(ending) = ending {
                if let Some(c) = self.conversations.get_mut(room) {
                    c.ended = Some(ending);
                    c.my_role = None;
                    c.pending.clear();
                }
                self.rooms.retain(|r| &r.room.id != room);
                out.push(Followup::Refresh);
            }
            // A ban that no longer holds opens the way back: previous rooms say so.
            if matches!(
                n.kind,
                NotificationKind::Unbanned | NotificationKind::BanEnded
            ) {
                out.push(Followup::Refresh);
            }
        }
        self.notice(text::notification(&n), n.room_id.clone(), alert);
        self.notifications.insert(0, n);
        out
    }

    fn loaded(&mut self, loaded: Loaded) -> Vec<Followup> {
        match loaded {
            Loaded::Overview(o) => self.overview(o),
            Loaded::Room(open) => self.room_page(open),
            Loaded::Older {
                room,
                messages,
                limit,
            } => {
                let c = self.conv(&room);
                c.has_older = messages.len() as u64 >= limit;
                for m in messages {
                    c.insert(m);
                }
            }
            Loaded::Around {
                room,
                focus,
                messages,
                has_older,
                has_newer,
            } => self
                .conv(&room)
                .around(focus, messages, has_older, has_newer),
            Loaded::Newer {
                room,
                messages,
                has_newer,
            } => self.conv(&room).newer(messages, has_newer),
            Loaded::Since { room, messages } => {
                let full = messages.len() as u64 >= SINCE_PAGE;
                let c = self.conv(&room);
                for m in messages {
                    c.insert(m);
                }
                if let (true, Some(after)) = (full, c.cursor()) {
                    return vec![Followup::CatchUp { room, after }];
                }
            }
            Loaded::Notifications {
                notifications,
                unread,
            } => self.set_notifications(notifications, unread),
        }
        Vec::new()
    }

    /// Who I am, my rooms (with the server's unread and mention counts), my past rooms, my
    /// notifications.
    fn overview(&mut self, o: Overview) {
        self.me = Some(o.user);
        self.rooms = o
            .rooms
            .into_iter()
            .map(|r: MyRoom| RoomEntry {
                unread: u32::try_from(r.unread).unwrap_or(u32::MAX),
                mentions: u32::try_from(r.mentions).unwrap_or(u32::MAX),
                read_to: r.read_to,
                open_reports: r.open_reports,
                room: r.room,
                role: r.my_role,
            })
            .collect();
        sort_rooms(&mut self.rooms);
        for entry in &self.rooms {
            if let Some(c) = self.conversations.get_mut(&entry.room.id) {
                c.my_role = Some(entry.role);
                c.room = Some(entry.room.clone());
            }
        }
        self.previous = o.previous;
        self.set_notifications(o.notifications, o.unread);
    }

    /// A room's page: where I stand in it and, for a member, its latest messages.
    fn room_page(&mut self, open: RoomPage) {
        let id = open.room.id.clone();
        if let (Some(role), Some(entry)) = (
            open.my_role,
            self.rooms.iter_mut().find(|r| r.room.id == id),
        ) {
            entry.role = role;
            entry.room = open.room.clone();
        }
        let c = self.conv(&id);
        c.my_role = open.my_role;
        c.room = Some(open.room);
        c.members = open.members;
        c.requested = open.requested;
        c.invited = open.invited;
        c.requests = open.pending_requests;
        c.divider = open.read_to;
        c.muted_until = open.muted_until.as_deref().and_then(clock::parse_iso);
        c.next_post_at = open.next_post_at.as_deref().and_then(clock::parse_iso);
        // The server's word on where I stand now replaces the story of how I left.
        c.ended = None;
        if open.my_role.is_some() {
            c.loaded = true;
            c.has_older = open.has_older;
            for m in open.messages {
                c.insert(m);
            }
        }
    }

    fn set_notifications(&mut self, list: Vec<NotificationView>, unread: u64) {
        self.notifications = list;
        self.unread_notifications = unread;
    }

    fn local(&mut self, local: Local, now: Millis) -> Vec<Followup> {
        match local {
            Local::Show(room) => self.shown = Some(room),
            Local::Seen(room) => return self.seen(&room),
            Local::Hide(room) => {
                if self.shown.as_ref() == Some(&room) {
                    self.shown = None;
                }
            }
            Local::Joined(room) => return vec![Followup::Reload { room }, Followup::Refresh],
            Local::Reload(room) => return vec![Followup::Reload { room }],
            Local::Draft { room, text } => self.draft(&room, text),
            Local::Send(send) => return self.send(send, now),
            Local::Retry { room, client_id } => return self.retry(&room, &client_id, now),
            Local::Discard { room, client_id } => {
                self.conv(&room)
                    .pending
                    .retain(|p| p.client_id() != &client_id);
            }
            Local::Posted(message) => self.stored(*message),
            Local::Connection(connection) => self.connection_is(connection),
            Local::MarkRead(ids) => {
                self.mark_read(ids.as_deref());
                return vec![Followup::MarkRead(ids)];
            }
            Local::DismissNotice(id) => self.notices.retain(|n| n.id != id),
            Local::Failed(err) => self.notice(err.message, None, true),
            Local::Done(text) => self.notice(text, None, false),
            Local::React {
                message_id,
                emoji,
                on,
            } => {
                return vec![Followup::Transmit(ClientFrame::React {
                    message_id,
                    emoji,
                    on,
                })]
            }
            Local::Left(room) => {
                self.rooms.retain(|r| r.room.id != room);
                if let Some(c) = self.conversations.get_mut(&room) {
                    c.my_role = None;
                    c.pending.clear();
                    c.ended = Some(Ending::Left);
                }
                return vec![Followup::Refresh];
            }
        }
        Vec::new()
    }

    /// The shown room was read to its newest message (scrolled to the bottom, the tab
    /// visible): the badge clears, and the server moves my read position there.
    fn seen(&mut self, room: &RoomId) -> Vec<Followup> {
        let Some(newest) = self.conversation(room).and_then(Conversation::newest) else {
            return Vec::new();
        };
        let Some(entry) = self.rooms.iter_mut().find(|r| &r.room.id == room) else {
            return Vec::new();
        };
        entry.unread = 0;
        entry.mentions = 0;
        if entry.read_to >= Some(newest) {
            return Vec::new();
        }
        entry.read_to = Some(newest);
        vec![Followup::Transmit(ClientFrame::Read {
            room_id: room.clone(),
            message_id: newest,
        })]
    }

    /// My read position moved (in this tab or another of mine): past everything I hold,
    /// the room is read; short of it, the server's count says what is left.
    fn read(&mut self, room: RoomId, message_id: MessageId) -> Vec<Followup> {
        let newest = self.conversation(&room).and_then(Conversation::newest);
        let Some(entry) = self.rooms.iter_mut().find(|r| r.room.id == room) else {
            return Vec::new();
        };
        entry.read_to = entry.read_to.max(Some(message_id));
        if newest.is_some_and(|n| n <= message_id) {
            entry.unread = 0;
            entry.mentions = 0;
            return Vec::new();
        }
        vec![Followup::Refresh]
    }

    fn draft(&mut self, room: &RoomId, text: String) {
        let c = self.conv(room);
        // Typing inside the given-back text ends the order it keeps.
        if !text.starts_with(&c.draft[..c.restored.min(c.draft.len())]) {
            c.restored = 0;
        }
        c.draft = text;
    }

    /// A new send goes out, and waits as pending (unless the rate limit holds the composer,
    /// I am not a member, or it is already on its way).
    fn send(&mut self, send: Outgoing, now: Millis) -> Vec<Followup> {
        if now < self.send_wait_until {
            return Vec::new();
        }
        let c = self.conv(&send.room_id);
        // A timeout, an announcement room or slow mode: the server would refuse it.
        if c.hold(now).is_some() {
            return Vec::new();
        }
        if !c.is_member() || c.pending.iter().any(|p| p.client_id() == &send.client_id) {
            return Vec::new();
        }
        if let Content::Text(_) = send.content {
            c.draft.clear();
            c.restored = 0;
        }
        let pending = Pending { send, failed: None };
        let frame = pending.frame();
        c.pending.push(pending);
        vec![Followup::Transmit(frame)]
    }

    fn retry(&mut self, room: &RoomId, client_id: &ClientId, now: Millis) -> Vec<Followup> {
        if now < self.send_wait_until {
            return Vec::new();
        }
        let c = self.conv(room);
        match c.pending.iter_mut().find(|p| p.client_id() == client_id) {
            Some(p) => {
                p.failed = None;
                vec![Followup::Transmit(p.frame())]
            }
            None => Vec::new(),
        }
    }

    fn connection_is(&mut self, connection: Connection) {
        if matches!(connection, Connection::Offline { .. }) {
            // Who is online and typing is unknown while the channel is down.
            for c in self.conversations.values_mut() {
                c.online.clear();
                c.online_count = 0;
                c.typing.clear();
            }
        }
        self.connection = connection;
    }

    /// Marks these notifications read, or all of them.
    fn mark_read(&mut self, ids: Option<&[NotificationId]>) {
        let mut changed = 0;
        for n in &mut self.notifications {
            let hit = ids.is_none_or(|ids| ids.contains(&n.id));
            if hit && !n.read {
                n.read = true;
                changed += 1;
            }
        }
        self.unread_notifications = match ids {
            None => 0,
            Some(_) => self.unread_notifications.saturating_sub(changed),
        };
    }
}

/// The most `messages/since` answers at once: a full page means there is more.
pub const SINCE_PAGE: u64 = domain::message::SINCE_MAX;

fn apply_delta(count: u32, delta: i64) -> u32 {
    u32::try_from((i64::from(count) + delta).max(0)).unwrap_or(u32::MAX)
}
