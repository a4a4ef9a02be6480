//! A room's timeline: its messages in id order (a `log` region), older pages loaded as you
//! scroll up without the view jumping, a jump button when new messages arrive while you
//! read older ones, and your own sends shown as pending until their `ack`.

use domain::{
    message::{Content, MessageKind, MessageView},
    MessageId, RoomId, UserId,
};
use leptos::prelude::*;

use super::message::{body_text, MessageItem, Standing};
use crate::{
    live::use_live,
    store::{
        clock,
        state::{Conversation, Pending},
        use_store, Local,
    },
};

/// One line of the timeline and whether it continues the one before (same author, soon
/// after), which then shows without the author's name.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    message: MessageView,
    continued: bool,
    /// The "new messages" divider goes above it.
    first_unread: bool,
    /// Unloaded messages follow it: a search hit opened an older part of the room.
    gap_after: bool,
}

const GROUP_WITHIN_MS: i64 = 5 * 60 * 1000;

fn rows(c: &Conversation, me: Option<&UserId>) -> Vec<Row> {
    let first_unread = c.first_unread(me);
    let mut out: Vec<Row> = Vec::with_capacity(c.messages.len());
    for m in c.messages.values() {
        let continued = out.last().is_some_and(|prev| {
            let same = match (&prev.message.author, &m.author) {
                (Some(a), Some(b)) => a.id == b.id,
                _ => false,
            };
            let soon = match (
                clock::parse_iso(&prev.message.created_at),
                clock::parse_iso(&m.created_at),
            ) {
                (Some(a), Some(b)) => b - a < GROUP_WITHIN_MS,
                _ => false,
            };
            same && soon && m.kind != MessageKind::System
        });
        out.push(Row {
            first_unread: Some(m.id) == first_unread,
            gap_after: c.gap.is_some_and(|(low, _)| low == m.id),
            message: m.clone(),
            continued: continued && Some(m.id) != first_unread,
        });
    }
    out
}

/// The timeline's scrolling state, shared by its parts.
#[derive(Clone, Copy)]
struct Scroll {
    scroller: NodeRef<leptos::html::Div>,
    at_bottom: RwSignal<bool>,
    /// New messages arrived below while the reader was reading older ones.
    unseen: RwSignal<bool>,
    loading_older: RwSignal<bool>,
    loading_newer: RwSignal<bool>,
}

impl Scroll {
    fn new() -> Self {
        Self {
            scroller: NodeRef::new(),
            at_bottom: RwSignal::new(true),
            unseen: RwSignal::new(false),
            loading_older: RwSignal::new(false),
            loading_newer: RwSignal::new(false),
        }
    }

    /// The reader scrolled: whether they are at the bottom now, and the pages to load when
    /// they near the top or a gap.
    fn moved(self, load_older: Callback<()>, load_newer: Callback<()>) {
        let Some(el) = self.scroller.get_untracked() else {
            return;
        };
        let bottom = el.scroll_height() - el.scroll_top() - el.client_height() < 80;
        self.at_bottom.set(bottom);
        if bottom {
            self.unseen.set(false);
        }
        if el.scroll_top() < 300 {
            load_older.run(());
        }
        if gap_in_view(&el) {
            load_newer.run(());
        }
    }

    fn to_bottom(self) {
        if let Some(el) = self.scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
        self.unseen.set(false);
    }
}

#[component]
pub fn Timeline(room: RoomId, #[prop(into)] name: Signal<String>) -> impl IntoView {
    let store = use_store();
    let rows = {
        let room = room.clone();
        Memo::new(move |_| {
            store.with(|s| {
                let me = s.me.as_ref().map(|u| &u.id);
                s.conversation(&room)
                    .map(|c| rows(c, me))
                    .unwrap_or_default()
            })
        })
    };
    let pending = store.room_memo(&room, |c| c.pending.clone());
    let has_older = store.room_memo(&room, |c| c.has_older);
    let standing = {
        let room = room.clone();
        Memo::new(move |_| Standing::of(&room, store))
    };
    let scroll = Scroll::new();
    let focus = store.room_memo(&room, |c| c.focus);
    // Buttons that need the script appear once it runs: never a button that does nothing.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let load_older = older_pages(room.clone(), has_older, scroll);
    let load_newer = newer_pages(room.clone(), scroll);
    follow_newest(rows, pending, scroll, focus);
    show_focus(focus);
    mark_read_when_seen(room.clone(), rows, scroll);
    let newest = Memo::new(move |_| rows.with(|r| r.last().map(|r| r.message.id)));
    let on_scroll = move |_| scroll.moved(load_older, load_newer);
    view! {
        <div class="timeline-wrap">
            <div
                class="timeline"
                role="log"
                tabindex="0"
                aria-label=move || format!("Messages in #{}", name.get())
                node_ref=scroll.scroller
                on:scroll=on_scroll
            >
                <TimelineTop name has_older hydrated loading=scroll.loading_older load_older />
                <For
                    each=move || rows.get()
                    key=|r| (r.message.id, r.message.seq, r.continued, r.first_unread, r.gap_after)
                    let:row
                >
                    {row
                        .first_unread
                        .then(|| view! { <NewDivider room=room.clone() newest /> })}
                    <MessageItem message=row.message.clone() continued=row.continued standing />
                    {row.gap_after.then(|| view! {
                        <GapRow room=room.clone() low=row.message.id hydrated loading=scroll.loading_newer load_newer />
                    })}
                </For>
                <For
                    each=move || pending.get()
                    key=|p| (p.client_id().clone(), p.failed.clone())
                    let:p
                >
                    <PendingItem pending=p />
                </For>
                // Where a page without JavaScript lands after a post: the newest message.
                <div id="latest"></div>
            </div>
            <JumpButton scroll hydrated />
        </div>
    }
    .into_any()
}

/// "New messages": where I stopped reading when I opened the room. Without JavaScript its
/// button marks the room read; with it, reading to the bottom does.
#[component]
fn NewDivider(room: RoomId, newest: Memo<Option<MessageId>>) -> impl IntoView {
    let live = use_live();
    let seen = room.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        live.dispatch(Local::Seen(seen.clone()));
    };
    view! {
        <div class="new-divider" role="separator" aria-label="New messages">
            <span>"New messages"</span>
            <form method="post" action="/api/form/rooms/read" on:submit=on_submit>
                <input type="hidden" name="room_id" value=room.to_string() />
                <input
                    type="hidden"
                    name="message_id"
                    value=move || newest.get().map(|n| n.to_string()).unwrap_or_default()
                />
                <button type="submit">"Mark as read"</button>
            </form>
        </div>
    }
}

/// Marks the room read whenever its newest message is in view at the bottom and the tab is
/// visible: on arrival, on scrolling down, on coming back to the tab.
#[cfg(feature = "hydrate")]
fn mark_read_when_seen(room: RoomId, rows: Memo<Vec<Row>>, scroll: Scroll) {
    let live = use_live();
    let visible = RwSignal::new(page_visible());
    let handle = window_event_listener_untyped("visibilitychange", move |_| {
        visible.set(page_visible());
    });
    on_cleanup(move || handle.remove());
    // At most one read a second: a busy room's messages are read in batches, not each one a
    // write on the server.
    let scheduled = StoredValue::new(false);
    Effect::new(move |_| {
        let newest = rows.with(|r| r.last().map(|r| r.message.id));
        if newest.is_none() || !scroll.at_bottom.get() || !visible.get() {
            return;
        }
        if scheduled.get_value() {
            return;
        }
        scheduled.set_value(true);
        let room = room.clone();
        set_timeout(
            move || {
                // The room's view may be gone by now: then nothing is left to do.
                if scheduled.try_update_value(|s| *s = false).is_none() {
                    return;
                }
                let still = scroll.at_bottom.try_get_untracked().unwrap_or(false)
                    && visible.try_get_untracked().unwrap_or(false);
                if still {
                    live.dispatch(Local::Seen(room));
                }
            },
            std::time::Duration::from_millis(READ_EVERY_MS),
        );
    });
}

/// How often, at most, reading a room tells the server.
#[cfg(feature = "hydrate")]
const READ_EVERY_MS: u64 = 1000;

#[cfg(feature = "hydrate")]
fn page_visible() -> bool {
    document().visibility_state() == web_sys::VisibilityState::Visible
}

#[cfg(not(feature = "hydrate"))]
fn mark_read_when_seen(_room: RoomId, _rows: Memo<Vec<Row>>, _scroll: Scroll) {}

/// Back down to the newest message, while reading older ones; it says when new ones came.
#[component]
fn JumpButton(scroll: Scroll, hydrated: RwSignal<bool>) -> impl IntoView {
    view! {
        <Show when=move || !scroll.at_bottom.get() && hydrated.get()>
            <button type="button" class="jump" on:click=move |_| scroll.to_bottom()>
                {move || if scroll.unseen.get() { "New messages ↓" } else { "Jump to the latest ↓" }}
            </button>
        </Show>
    }
}

/// The top of the timeline: the room's beginning, or a button for older messages.
#[component]
fn TimelineTop(
    name: Signal<String>,
    has_older: Memo<bool>,
    hydrated: RwSignal<bool>,
    loading: RwSignal<bool>,
    load_older: Callback<()>,
) -> impl IntoView {
    view! {
        <div class="timeline-top">
            <Show
                when=move || has_older.get()
                fallback=move || view! {
                    <p class="timeline-start">
                        "This is the beginning of " <strong>"#" {name}</strong> "."
                    </p>
                }
            >
                <Show when=move || hydrated.get()>
                    <button
                        type="button"
                        class="link-button"
                        disabled=move || loading.get()
                        on:click=move |_| load_older.run(())
                    >
                        {move || if loading.get() { "Loading older messages…" } else { "Load older messages" }}
                    </button>
                </Show>
            </Show>
        </div>
    }
}

/// Loads the page of messages before the oldest shown, keeping what is on screen in place.
#[cfg(feature = "hydrate")]
fn older_pages(room: RoomId, has_older: Memo<bool>, scroll: Scroll) -> Callback<()> {
    let store = use_store();
    let live = use_live();
    Callback::new(move |()| {
        if scroll.loading_older.get_untracked() || !has_older.get_untracked() {
            return;
        }
        let Some(oldest) = store.with_untracked(|s| s.conversation(&room).and_then(|c| c.oldest()))
        else {
            return;
        };
        scroll.loading_older.set(true);
        let room = room.clone();
        leptos::task::spawn_local(async move {
            let limit = domain::message::HISTORY_PAGE;
            let result = crate::api::messages::message_history(
                room.clone(),
                Some(oldest.to_string()),
                Some(limit),
            )
            .await;
            match result {
                Ok(page) => {
                    // The page may be gone by now (a kick, a navigation): nothing to keep.
                    let before = scroll
                        .scroller
                        .try_get_untracked()
                        .flatten()
                        .map(|el| (el.scroll_height(), el.scroll_top()));
                    live.dispatch(crate::store::Loaded::Older {
                        room,
                        messages: page.messages,
                        limit,
                    });
                    // Keep what was on screen where it was: move down by what was added.
                    request_animation_frame(move || {
                        if let (Some(el), Some((height, top))) =
                            (scroll.scroller.try_get_untracked().flatten(), before)
                        {
                            el.set_scroll_top(top + el.scroll_height() - height);
                        }
                        scroll.loading_older.set(false);
                    });
                }
                Err(e) => {
                    crate::live::note_error(live, &e);
                    scroll.loading_older.set(false);
                }
            }
        });
    })
}

#[cfg(not(feature = "hydrate"))]
fn older_pages(_room: RoomId, _has_older: Memo<bool>, _scroll: Scroll) -> Callback<()> {
    Callback::new(|()| {})
}

/// Where a search hit's window ends and unloaded messages begin: with JavaScript they load
/// as the reader scrolls here (or clicks); without it, a link opens the room further on.
#[component]
fn GapRow(
    room: RoomId,
    low: MessageId,
    hydrated: RwSignal<bool>,
    loading: RwSignal<bool>,
    load_newer: Callback<()>,
) -> impl IntoView {
    let further = format!("/rooms/{room}?around={low}#m{low}");
    view! {
        <div class="timeline-gap" id="timeline-gap">
            <Show
                when=move || hydrated.get()
                fallback=move || view! { <a href=further.clone()>"Newer messages"</a> }
            >
                <button
                    type="button"
                    class="button secondary small"
                    disabled=move || loading.get()
                    on:click=move |_| load_newer.run(())
                >
                    {move || if loading.get() { "Loading newer messages…" } else { "Load newer messages" }}
                </button>
            </Show>
        </div>
    }
}

/// True when the gap's row is on screen or close below it.
#[cfg(feature = "hydrate")]
fn gap_in_view(scroller: &web_sys::HtmlDivElement) -> bool {
    let Some(gap) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("timeline-gap"))
    else {
        return false;
    };
    let (gap, view) = (
        gap.get_bounding_client_rect(),
        scroller.get_bounding_client_rect(),
    );
    gap.top() < view.bottom() + 300.0
}

#[cfg(not(feature = "hydrate"))]
fn gap_in_view<T>(_scroller: &T) -> bool {
    false
}

/// Loads the messages past the gap's lower edge (below what is on screen, so nothing moves).
#[cfg(feature = "hydrate")]
fn newer_pages(room: RoomId, scroll: Scroll) -> Callback<()> {
    let store = use_store();
    let live = use_live();
    Callback::new(move |()| {
        if scroll.loading_newer.get_untracked() {
            return;
        }
        let Some((low, _)) = store.with_untracked(|s| s.conversation(&room).and_then(|c| c.gap))
        else {
            return;
        };
        scroll.loading_newer.set(true);
        let room = room.clone();
        leptos::task::spawn_local(async move {
            let result = crate::api::messages::messages_around(
                low.to_string(),
                Some(domain::search::AROUND_MAX),
            )
            .await;
            match result {
                Ok(page) => live.dispatch(crate::store::Loaded::Newer {
                    room,
                    messages: page.messages.into_iter().filter(|m| m.id > low).collect(),
                    has_newer: page.has_newer,
                }),
                Err(e) => crate::live::note_error(live, &e),
            }
            scroll.loading_newer.set(false);
        });
    })
}

#[cfg(not(feature = "hydrate"))]
fn newer_pages(_room: RoomId, _scroll: Scroll) -> Callback<()> {
    Callback::new(|()| {})
}

/// Scrolls the message a search hit opened to the middle and marks it (without JavaScript,
/// the address's `#m…` does both).
#[cfg(feature = "hydrate")]
fn show_focus(focus: Memo<Option<MessageId>>) {
    Effect::new(move |_| {
        let Some(id) = focus.get() else { return };
        request_animation_frame(move || {
            let el = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(&format!("m{id}")));
            if let Some(el) = el {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Center);
                el.scroll_into_view_with_scroll_into_view_options(&options);
                let _ = el.class_list().add_1("focused");
            }
        });
    });
}

#[cfg(not(feature = "hydrate"))]
fn show_focus(_focus: Memo<Option<MessageId>>) {}

/// Follows the newest message while the reader is at the bottom; otherwise the jump button
/// says there is more. My own sends always bring the view down.
#[cfg(feature = "hydrate")]
fn follow_newest(
    rows: Memo<Vec<Row>>,
    pending: Memo<Vec<Pending>>,
    scroll: Scroll,
    focus: Memo<Option<MessageId>>,
) {
    let last_seen = StoredValue::new((None, 0usize));
    Effect::new(move |_| {
        let newest = rows.with(|r| r.last().map(|r| r.message.id));
        let mine = pending.with(Vec::len);
        let (prev_newest, prev_mine) = last_seen.get_value();
        last_seen.set_value((newest, mine));
        let appended =
            newest != prev_newest && prev_newest.is_some_and(|p| newest.is_some_and(|n| n > p));
        // A search hit's message is shown instead of the newest (`show_focus`).
        let first = prev_newest.is_none() && focus.get_untracked().is_none();
        let sent = mine > prev_mine;
        if first || sent || (appended && scroll.at_bottom.get_untracked()) {
            request_animation_frame(move || {
                // A frame later the timeline may be gone (a kick ends the room's view).
                if let Some(el) = scroll.scroller.try_get_untracked().flatten() {
                    el.set_scroll_top(el.scroll_height());
                }
            });
        } else if appended {
            scroll.unseen.set(true);
        }
    });
}

#[cfg(not(feature = "hydrate"))]
fn follow_newest(
    _rows: Memo<Vec<Row>>,
    _pending: Memo<Vec<Pending>>,
    _scroll: Scroll,
    _focus: Memo<Option<MessageId>>,
) {
}

#[component]
fn PendingItem(pending: Pending) -> impl IntoView {
    let live = use_live();
    let room = pending.send.room_id.clone();
    let client_id = pending.client_id().clone();
    let failed = pending.failed.clone();
    let body = match &pending.send.content {
        Content::Sticker(s) => {
            view! { <p class="msg-body">"Sticker: " {s.as_str()}</p> }.into_any()
        }
        Content::Text(text) => {
            view! { <p class="msg-body">{body_text(text.as_str())}</p> }.into_any()
        }
    };
    let status = match failed {
        None => view! { <p class="pending-status">"Sending…"</p> }.into_any(),
        Some(why) => {
            let (r1, r2, c1, c2) = (room.clone(), room, client_id.clone(), client_id);
            view! {
                <p class="pending-status failed" role="alert">
                    "Not sent: " {why} " "
                    <button
                        type="button"
                        class="link-button"
                        on:click=move |_| live.dispatch(Local::Retry { room: r1.clone(), client_id: c1.clone() })
                    >
                        "Retry"
                    </button>
                    " "
                    <button
                        type="button"
                        class="link-button"
                        on:click=move |_| live.dispatch(Local::Discard { room: r2.clone(), client_id: c2.clone() })
                    >
                        "Discard"
                    </button>
                </p>
            }
            .into_any()
        }
    };
    view! {
        <div class="msg pending" aria-busy="true">
            {body}
            {status}
        </div>
    }
}
