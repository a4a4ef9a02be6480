//! The sidebar: the brand and the bell, your rooms (unread counts, the shown one marked),
//! the rooms you left with a way back, and who you are. On phones it is a drawer.

use domain::{room::JoinPolicy, views::PreviousRoom};
use leptos::{form::ActionForm, prelude::*};
use leptos_router::{components::Form, hooks::use_location};

use super::{
    bell::NotificationBell,
    drawer::Drawer,
    widgets::{EndTime, TimeAgo},
};
use crate::{
    api::{auth::LogoutForm, forms::JoinRoomForm},
    store::{state::RoomEntry, text, use_store},
};

#[component]
pub fn Sidebar() -> impl IntoView {
    let drawer = expect_context::<Drawer>();
    view! {
        <nav class="sidebar" id="sidebar" aria-label="Rooms">
            <div class="sidebar-head">
                <a href="/" class="brand">
                    "Parlor"
                </a>
                <NotificationBell />
                <button
                    type="button"
                    class="icon-button drawer-close"
                    aria-label="Close the room list"
                    on:click=move |_| drawer.0.set(false)
                >
                    {super::icons::close()}
                </button>
            </div>
            <div class="sidebar-actions">
                <a href="/rooms/new" class="button primary small">
                    "New room"
                </a>
                <a href="/rooms" class="button secondary small">
                    "Find rooms"
                </a>
            </div>
            <Form method="get" action="/search" attr:role="search" attr:class="shell-search">
                <label for="shell-search" class="visually-hidden">
                    "Search messages"
                </label>
                <input
                    id="shell-search"
                    name="q"
                    type="search"
                    autocomplete="off"
                    maxlength="500"
                    placeholder="Search messages"
                    aria-keyshortcuts="/"
                />
                <kbd class="shortcut" aria-hidden="true">"/"</kbd>
            </Form>
            <h2 class="side-heading" id="my-rooms">
                "Your rooms"
            </h2>
            <MyRooms />
            <PreviousRooms />
            <Me />
        </nav>
    }
    .into_any()
}

/// "Your rooms": each a link with its unread count, the one shown marked.
#[component]
fn MyRooms() -> impl IntoView {
    let store = use_store();
    let rooms = Memo::new(move |_| store.with(|s| s.rooms.clone()));
    view! {
        <Show
            when=move || !rooms.read().is_empty()
            fallback=|| view! { <p class="side-empty">"No rooms yet. Create one or find one to join."</p> }
        >
            <ul class="room-list" aria-labelledby="my-rooms">
                <For
                    each=move || rooms.get()
                    key=|r| (r.room.id.clone(), r.room.name.clone(), r.unread, r.mentions, r.open_reports)
                    let:entry
                >
                    <RoomLink entry />
                </For>
            </ul>
        </Show>
    }
}

#[component]
fn RoomLink(entry: RoomEntry) -> impl IntoView {
    let location = use_location();
    let href = format!("/rooms/{}", entry.room.id);
    let link = format!("{href}#latest");
    // The room's page or one of its dialogs is shown.
    let active = move || {
        let path = location.pathname.get();
        path == href || path.starts_with(&format!("{href}/"))
    };
    let unread = entry.unread;
    let mentions = entry.mentions;
    let reports = entry.open_reports;
    view! {
        <li>
            <a
                href=link
                class="room-link"
                class:active=active.clone()
                aria-current=move || active().then_some("page")
            >
                <span class="hash" aria-hidden="true">
                    "#"
                </span>
                <span class="room-name">{entry.room.name.clone()}</span>
                <Show when=move || { reports > 0 }>
                    <span
                        class="badge report-count"
                        title="Open reports"
                        aria-label=format!(
                            "{reports} open {}",
                            if reports == 1 { "report" } else { "reports" },
                        )
                    >
                        "⚑"
                        {reports.min(99)}
                    </span>
                </Show>
                <Show when=move || { mentions > 0 }>
                    <span
                        class="badge mention-badge"
                        aria-label=format!(
                            "{mentions} {}",
                            if mentions == 1 { "mention" } else { "mentions" },
                        )
                    >
                        "@"
                        {mentions.min(99)}
                    </span>
                </Show>
                <Show when=move || { unread > 0 }>
                    <span class="badge" class:quiet=mentions == 0 aria-label=format!("{unread} unread")>
                        {unread.min(99)}
                    </span>
                </Show>
            </a>
        </li>
    }
}

/// Rooms I left or was removed from, folded away, each with the way back if there is one.
#[component]
fn PreviousRooms() -> impl IntoView {
    let store = use_store();
    let previous = Memo::new(move |_| store.with(|s| s.previous.clone()));
    view! {
        <Show when=move || !previous.read().is_empty()>
            <details class="previous">
                <summary class="side-heading">
                    "Previous rooms " <span class="count">{move || previous.read().len()}</span>
                </summary>
                <ul class="previous-list">
                    <For
                        each=move || previous.get()
                        key=|p| (p.room.id.clone(), p.left_at.clone(), p.can_rejoin, p.until.clone())
                        let:past
                    >
                        <PreviousItem past />
                    </For>
                </ul>
            </details>
        </Show>
    }
}

/// Who I am (the way to my account), and logging out.
#[component]
fn Me() -> impl IntoView {
    let store = use_store();
    let me = Memo::new(move |_| store.with(|s| s.me.clone()));
    let live = crate::live::use_live();
    let logout = ServerAction::<LogoutForm>::new();
    view! {
        <div class="me">
            <a class="me-name" href="/account" title="Your account">
                <span class="visually-hidden">"Signed in as "</span>
                <strong>{move || me.get().map(|u| u.username).unwrap_or_default()}</strong>
                <span class="visually-hidden">", your account"</span>
            </a>
            <ActionForm action=logout>
                <button type="submit" class="link-button" on:click=move |_| live.logging_out()>
                    "Log out"
                </button>
            </ActionForm>
        </div>
    }
}

#[component]
fn PreviousItem(past: PreviousRoom) -> impl IntoView {
    let join = ServerAction::<JoinRoomForm>::new();
    let error = Signal::derive(move || join.value().get().and_then(Result::err));
    let way_back = match (past.can_rejoin, past.room.join_policy) {
        (true, JoinPolicy::Open) => Some("Rejoin"),
        (true, JoinPolicy::Request) => Some("Ask to join again"),
        (true, JoinPolicy::Invite) => Some("Accept the invite"),
        (false, _) => None,
    };
    let why_not = match past.room.join_policy {
        JoinPolicy::Open => "The room is full.",
        JoinPolicy::Request => "Your request is waiting for an admin.",
        JoinPolicy::Invite => "Private: an admin must invite you.",
    };
    let id = past.room.id.to_string();
    view! {
        <li class="previous-item">
            <div class="previous-name">
                <span class="hash" aria-hidden="true">
                    "#"
                </span>
                {past.room.name.clone()}
            </div>
            <div class="previous-why">
                {text::left_because(past.reason)} " " <TimeAgo at=past.left_at.clone() />
            </div>
            {match way_back {
                Some(label) => view! {
                    <ActionForm action=join attr:class="inline-form">
                        <input type="hidden" name="room_id" value=id />
                        <input type="hidden" name="back" value="/" />
                        <button type="submit" class="link-button" disabled=move || join.pending().get()>
                            {label}
                        </button>
                    </ActionForm>
                }
                .into_any(),
                None => match past.until.clone() {
                    Some(until) => view! {
                        <p class="previous-why">"Until " <EndTime at=until /> "."</p>
                    }
                    .into_any(),
                    None => view! { <p class="previous-why">{why_not}</p> }.into_any(),
                },
            }}
            <Show when=move || error.get().is_some()>
                <p class="field-error" role="alert">
                    {move || error.get().map(|e| e.0.message)}
                </p>
            </Show>
        </li>
    }
    .into_any()
}
