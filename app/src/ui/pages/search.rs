//! Message search (docs/RULES.md, "Search"): the query in the address (`/search?q=…`), so a
//! search is a link and works without JavaScript; results newest or best first, each with
//! its room, author, time and a snippet whose matches are marked; a hit opens its room at
//! the message. `room=ID` searches one room (the room header's Search).

use domain::{
    search::{SearchHit, SearchOrder, SnippetPart},
    ErrorCode, RoomId,
};
use leptos::prelude::*;
use leptos_router::{components::Form, hooks::use_query_map};

use crate::{
    api::messages::{search_messages, SearchResponse},
    store::use_store,
    ui::components::widgets::{query_string, CardPage, ErrorPanel, TimeAgo},
    AppError,
};

lazy_page!(SearchRoute, SearchPage);

/// What the address asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Asked {
    q: String,
    room: Option<RoomId>,
    order: SearchOrder,
    cursor: Option<String>,
}

impl Asked {
    /// The address of this search at `cursor` (the first page when `None`).
    fn href(&self, cursor: Option<&str>) -> String {
        let mut pairs = vec![("q", self.q.clone())];
        if let Some(room) = &self.room {
            pairs.push(("room", room.to_string()));
        }
        if self.order == SearchOrder::Best {
            pairs.push(("order", "best".to_owned()));
        }
        if let Some(c) = cursor {
            pairs.push(("cursor", c.to_owned()));
        }
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        format!("/search?{}", query_string(&pairs))
    }
}

/// The page a hit opens: its room, scrolled to it (`#m…` does that without JavaScript).
fn hit_href(hit: &SearchHit) -> String {
    let id = hit.message.id;
    format!("/rooms/{}?around={id}#m{id}", hit.room.id)
}

#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let asked = Memo::new(move |_| {
        query.with(|q| Asked {
            q: q.get("q").unwrap_or_default(),
            room: q.get("room").filter(|r| !r.is_empty()).map(RoomId::from),
            order: match q.get("order").as_deref() {
                Some("best") => SearchOrder::Best,
                _ => SearchOrder::Newest,
            },
            cursor: q.get("cursor").filter(|c| !c.is_empty()),
        })
    });
    let results = Resource::new_blocking(
        move || asked.get(),
        |asked| async move {
            if asked.q.trim().is_empty() {
                return None;
            }
            Some(
                search_messages(
                    asked.q.clone(),
                    asked.room.clone(),
                    asked.cursor.clone(),
                    None,
                    Some(asked.order),
                )
                .await,
            )
        },
    );
    view! {
        <CardPage title="Search messages" bar="Search">
            <h1>"Search messages"</h1>
            <SearchForm asked />
            <Transition fallback=|| view! { <p class="muted">"Searching…"</p> }>
                {move || Suspend::new(async move {
                    match results.await {
                        None => view! { <SearchHelp /> }.into_any(),
                        Some(Ok(page)) => view! { <Hits asked page /> }.into_any(),
                        Some(Err(e)) => view! { <Refused error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </CardPage>
    }
}

/// The query box, the order and, when one room is searched, which (with the way out).
#[component]
fn SearchForm(asked: Memo<Asked>) -> impl IntoView {
    let store = use_store();
    let room_name = move || {
        let room = asked.get().room?;
        let name = store.with(|s| {
            s.rooms
                .iter()
                .find(|r| r.room.id == room)
                .map(|r| r.room.name.clone())
        });
        Some(name.unwrap_or_else(|| "this room".to_owned()))
    };
    let everywhere = move || {
        Asked {
            room: None,
            cursor: None,
            ..asked.get()
        }
        .href(None)
    };
    view! {
        <Form method="GET" action="/search" attr:role="search" attr:class="search message-search">
            <label for="message-search">"Search for"</label>
            <div class="search-row">
                <input
                    id="message-search"
                    name="q"
                    type="search"
                    autocomplete="off"
                    maxlength="500"
                    placeholder="words, \"a phrase\", -without, from:name, has:link"
                    value=asked.get_untracked().q
                    prop:value=move || asked.get().q
                />
                <button type="submit" class="button primary">
                    "Search"
                </button>
            </div>
            <div class="search-options">
                <label>
                    "Order "
                    <select name="order">
                        <option value="newest" selected=move || asked.get().order == SearchOrder::Newest>
                            "Newest first"
                        </option>
                        <option value="best" selected=move || asked.get().order == SearchOrder::Best>
                            "Best match"
                        </option>
                    </select>
                </label>
                {move || asked.get().room.map(|room| view! {
                    <input type="hidden" name="room" value=room.to_string() />
                    <span class="search-scope">
                        "In #" {room_name} " · "
                        <a href=everywhere>"search all my rooms"</a>
                    </span>
                })}
            </div>
        </Form>
    }
}

/// Before a search: what the box understands.
#[component]
fn SearchHelp() -> impl IntoView {
    view! {
        <div class="search-help">
            <p>"Searches the messages of the rooms you are in now."</p>
            <ul>
                <li><code>"deploy build"</code>" — messages with both words"</li>
                <li><code>"\"new build\""</code>" — these words together"</li>
                <li><code>"-staging"</code>" — leave out messages that have it"</li>
                <li><code>"deplo*"</code>" — words that begin so; "<code>"*ploy*"</code>" — inside words"</li>
                <li><code>"from:ann in:general has:file has:link mentions:me"</code></li>
                <li><code>"after:2026-01-31 before:2026-03-01"</code></li>
            </ul>
            <p class="muted">"Press / anywhere to search."</p>
        </div>
    }
}

/// A refused search: the sentence that says what to fix, beside the box.
#[component]
fn Refused(error: AppError) -> impl IntoView {
    match error.code() {
        ErrorCode::InvalidQuery | ErrorCode::RateLimited | ErrorCode::InvalidInput => view! {
            <p class="form-error" role="alert">{error.0.message}</p>
        }
        .into_any(),
        _ => view! { <ErrorPanel error /> }.into_any(),
    }
}

#[component]
fn Hits(asked: Memo<Asked>, page: SearchResponse) -> impl IntoView {
    let first = asked.get_untracked().cursor.is_none();
    let next = page
        .next_cursor
        .map(|c| asked.get_untracked().href(Some(&c)));
    let again = asked.get_untracked().href(None);
    let empty = page.hits.is_empty();
    view! {
        <Show when=move || !empty fallback=move || view! {
            <p class="empty">
                {if first { "No messages match." } else { "No more messages match." }}
            </p>
        }>
            <ol class="hits" aria-label="Messages found">
                {page.hits.clone().into_iter().map(|hit| view! { <Hit hit /> }).collect_view()}
            </ol>
        </Show>
        <nav class="pager" aria-label="More results">
            {(!first).then(|| view! { <a href=again.clone()>"Back to the first results"</a> })}
            {next.map(|href| view! { <a href=href class="button secondary small" rel="next">"Next results"</a> })}
        </nav>
    }
}

#[component]
fn Hit(hit: SearchHit) -> impl IntoView {
    let href = hit_href(&hit);
    let author = hit
        .message
        .author
        .as_ref()
        .map(|a| a.username.clone())
        .unwrap_or_else(|| "deleted user".to_owned());
    view! {
        <li class="hit">
            <a class="hit-link" href=href>
                <span class="hit-meta">
                    <span class="hit-room">"#" {hit.room.name.clone()}</span>
                    <span class="hit-author">{author}</span>
                    <TimeAgo at=hit.message.created_at.clone() />
                </span>
                <span class="hit-snippet">{snippet(hit.snippet)}</span>
            </a>
        </li>
    }
}

/// The snippet as text, its matches in `<mark>`: every part is text, never markup.
fn snippet(parts: Vec<SnippetPart>) -> impl IntoView {
    parts
        .into_iter()
        .map(|p| {
            if p.hit {
                view! { <mark>{p.text}</mark> }.into_any()
            } else {
                p.text.into_any()
            }
        })
        .collect_view()
}
