//! Finding rooms: search that filters as you type and pages on, each result saying what
//! joining will do; and "Join by id" for private rooms you were invited to.

use domain::views::RoomView;
use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::{
    api::{
        forms::JoinRoomForm,
        rooms::{search_rooms, SearchResponse},
    },
    store::{text, use_store},
    ui::components::{
        drawer::PageBar,
        widgets::{query_string, ErrorPanel},
    },
    AppError,
};

const PAGE: u32 = 20;

fn directory_path(q: &str, cursor: Option<&str>) -> String {
    let mut query = query_string(&[("q", q)]);
    if let Some(c) = cursor {
        query.push('&');
        query.push_str(&query_string(&[("cursor", c)]));
    }
    format!("/rooms?{query}")
}

lazy_page!(DirectoryRoute, DirectoryPage);

#[component]
pub fn DirectoryPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let cursor = Memo::new(move |_| query.read().get("cursor"));
    let results = Resource::new_blocking(
        move || (q.get(), cursor.get()),
        |(q, cursor)| search_rooms(Some(q), cursor, Some(PAGE)),
    );
    let join = ServerAction::<JoinRoomForm>::new();
    // Without JavaScript both join forms come back here; `by_id` says which one it was.
    let by_id = query.read_untracked().get("by_id").is_some();
    let join_error =
        Signal::derive(move || join.value().get().and_then(Result::err).filter(|_| !by_id));
    view! {
        <Title text="Find rooms" />
        <PageBar title="Find rooms" />
        <main class="page" id="main">
            <section class="card">
                <h1>"Find rooms"</h1>
                <SearchBox q />
                <Show when=move || join_error.get().is_some()>
                    <p class="form-error" role="alert">
                        {move || join_error.get().map(|e| e.0.message)}
                    </p>
                </Show>
                <SearchResults q cursor results join />
            </section>
            <section class="card">
                <JoinById />
            </section>
        </main>
    }
    .into_any()
}

/// The search box: a plain GET form, which with JavaScript filters as you type (the
/// address follows the box, a moment after the last key).
#[component]
fn SearchBox(q: Memo<String>) -> impl IntoView {
    let navigate = use_navigate();
    let typed = RwSignal::new(q.get_untracked());
    #[cfg(feature = "hydrate")]
    let pending_search = StoredValue::new_local(None::<TimeoutHandle>);
    // Leaving the page drops a search still waiting to run: it would bring the page back.
    #[cfg(feature = "hydrate")]
    on_cleanup(move || {
        if let Some(Some(h)) = pending_search.try_update_value(Option::take) {
            h.clear();
        }
    });
    let on_input = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        typed.set(value.clone());
        #[cfg(feature = "hydrate")]
        {
            let navigate = navigate.clone();
            if let Some(Some(h)) = pending_search.try_update_value(Option::take) {
                h.clear();
            }
            let handle = set_timeout_with_handle(
                move || {
                    navigate(
                        &directory_path(&value, None),
                        leptos_router::NavigateOptions {
                            replace: true,
                            scroll: false,
                            ..Default::default()
                        },
                    );
                },
                std::time::Duration::from_millis(200),
            )
            .ok();
            pending_search.set_value(handle);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&navigate, value);
    };
    view! {
        <form method="get" action="/rooms" role="search" class="search">
            <label for="room-search">"Search rooms by name"</label>
            <div class="search-row">
                <input
                    id="room-search"
                    name="q"
                    type="search"
                    autocomplete="off"
                    value=q.get_untracked()
                    prop:value=move || typed.get()
                    on:input=on_input
                />
                <button type="submit" class="button secondary">
                    "Search"
                </button>
            </div>
        </form>
    }
}

/// The rooms found: the first page from the address, then those "Show more" appends.
#[component]
fn SearchResults(
    q: Memo<String>,
    cursor: Memo<Option<String>>,
    results: Resource<Result<SearchResponse, AppError>>,
    join: ServerAction<JoinRoomForm>,
) -> impl IntoView {
    // Pages fetched with "Show more" (JavaScript), after the first.
    let more = RwSignal::new(Vec::<RoomView>::new());
    let next = RwSignal::new(None::<String>);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let back = move || directory_path(&q.get(), cursor.get().as_deref());
    view! {
        <Transition fallback=|| view! { <p class="muted">"Searching…"</p> }>
            {move || Suspend::new(async move {
                match results.await {
                    Ok(page) => {
                        more.set(Vec::new());
                        next.set(page.next_cursor.clone());
                        let first = page.rooms;
                        let empty = first.is_empty();
                        view! {
                            <Show when=move || !empty fallback=move || view! {
                                <p class="empty">
                                    {move || if q.get().trim().is_empty() {
                                        "No listed rooms yet. Create the first one.".to_owned()
                                    } else {
                                        format!("No room's name contains \u{201c}{}\u{201d}.", q.get())
                                    }}
                                </p>
                            }>
                                <ul class="results" aria-label="Rooms found">
                                    {first.clone().into_iter().map(|room| view! { <RoomResult room join back=back() /> }).collect_view()}
                                    <For each=move || more.get() key=|r| r.id.clone() let:room>
                                        <RoomResult room join back=back() />
                                    </For>
                                </ul>
                            </Show>
                            <ShowMore q next more hydrated />
                        }
                        .into_any()
                    }
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The next page: appended in place with JavaScript, a link without it.
#[component]
fn ShowMore(
    q: Memo<String>,
    next: RwSignal<Option<String>>,
    more: RwSignal<Vec<RoomView>>,
    hydrated: RwSignal<bool>,
) -> impl IntoView {
    let loading = RwSignal::new(false);
    let load = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        let Some(cursor) = next.get_untracked() else {
            return;
        };
        loading.set(true);
        let query = q.get_untracked();
        leptos::task::spawn_local(async move {
            if let Ok(page) = search_rooms(Some(query), Some(cursor), Some(PAGE)).await {
                more.update(|m| m.extend(page.rooms));
                next.set(page.next_cursor);
            }
            loading.set(false);
        });
    };
    view! {
        <Show when=move || next.get().is_some()>
            <p class="more">
                <a
                    href=move || directory_path(&q.get(), next.get().as_deref())
                    class="button secondary"
                    on:click=move |ev| {
                        if hydrated.get_untracked() {
                            load(ev)
                        }
                    }
                >
                    {move || if loading.get() { "Loading…" } else { "Show more rooms" }}
                </a>
            </p>
        </Show>
    }
}

#[component]
fn RoomResult(room: RoomView, join: ServerAction<JoinRoomForm>, back: String) -> impl IntoView {
    let store = use_store();
    let id = room.id.clone();
    let mine = Memo::new(move |_| store.with(|s| s.room_entry(&id).is_some()));
    let href = format!("/rooms/{}", room.id);
    let members = match room.member_count {
        1 => "1 member".to_owned(),
        n => format!("{n} members"),
    };
    let action = text::join_action(room.join_policy);
    let room_id = StoredValue::new(room.id.to_string());
    let back = StoredValue::new(back);
    let label = StoredValue::new(format!("{action}: #{}", room.name));
    view! {
        <li class="result">
            <div class="result-main">
                <a href=href.clone() class="result-name">
                    "#" {room.name.clone()}
                </a>
                <p class="topic">{room.topic.clone().unwrap_or_default()}</p>
                <p class="muted small">{members}</p>
            </div>
            <Show
                when=move || !mine.get()
                fallback=move || view! { <a href=href.clone() class="button secondary small">"Open"</a> }
            >
                <ActionForm action=join attr:class="inline-form">
                    <input type="hidden" name="room_id" value=room_id.get_value() />
                    <input type="hidden" name="back" value=back.get_value() />
                    <button type="submit" class="button primary small" aria-label=label.get_value()>
                        {action}
                    </button>
                </ActionForm>
            </Show>
        </li>
    }
}

/// Private rooms are never listed: an invitee enters the id from the invitation.
#[component]
fn JoinById() -> impl IntoView {
    let action = ServerAction::<JoinRoomForm>::new();
    let query = use_query_map();
    let from_results = query.read_untracked().get("by_id").is_none()
        && query.read_untracked().get("room_id").is_some();
    let error = Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .filter(|_| !from_results)
    });
    let echoed = if from_results {
        String::new()
    } else {
        query.read_untracked().get("room_id").unwrap_or_default()
    };
    view! {
        <h2 id="join-by-id">"Join by id"</h2>
        <p class="muted">
            "Private rooms are never listed. If an admin invited you, enter the room's id from the invitation."
        </p>
        <ActionForm action attr:aria-labelledby="join-by-id">
            <input type="hidden" name="back" value="/rooms?by_id=1" />
            <div class="field" class:has-error=move || error.get().is_some()>
                <label for="field-room_id">"Room id"</label>
                <div class="search-row">
                    <input
                        id="field-room_id"
                        name="room_id"
                        required=true
                        autocomplete="off"
                        spellcheck="false"
                        value=echoed
                        aria-describedby="field-room_id-error"
                        aria-invalid=move || error.get().is_some().then_some("true")
                    />
                    <button type="submit" class="button primary" disabled=move || action.pending().get()>
                        "Join"
                    </button>
                </div>
                <p class="field-error" id="field-room_id-error" role="alert">
                    {move || error.get().map(|e| e.0.message)}
                </p>
            </div>
        </ActionForm>
    }
}
