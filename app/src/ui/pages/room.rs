//! A room: its header, the timeline, who is typing, the composer, and the people in it. A
//! room you are not in offers to join it (as its policy allows); a room you were removed
//! from says why, in words, and offers the way back where there is one.

use domain::{
    room::{JoinPolicy, Role},
    ErrorCode, RoomId,
};
use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::{
    components::Outlet,
    hooks::{use_params_map, use_query_map},
};

use super::not_found::set_status;
use crate::{
    api::{
        forms::{AcceptInviteForm, DeclineInviteForm, JoinRoomForm, SendMessageForm},
        rooms::open_room,
    },
    live::use_live,
    store::{state::Ending, text, use_store, Loaded, Local},
    ui::{
        components::{
            composer::Composer, members::MembersPanel, timeline::Timeline, upload::Uploads,
            widgets::ErrorPanel,
        },
        layout::{MenuButton, PageBar},
    },
};

#[component]
pub fn RoomPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| RoomId::from(params.read().get("id").unwrap_or_default()));
    let store = use_store();
    let data = Resource::new_blocking(move || id.get(), open_room);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading the room…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(open) => {
                        let room = open.room.id.clone();
                        store.apply(Loaded::Room(open));
                        view! { <RoomView room /> }.into_any()
                    }
                    Err(e) if e.code() == ErrorCode::RoomNotFound => {
                        set_status(404);
                        view! { <Missing message=e.0.message title="No such room" /> }.into_any()
                    }
                    Err(e) if e.code() == ErrorCode::RoomTerminated => {
                        set_status(410);
                        view! { <Missing message=e.0.message title="This room has ended" /> }.into_any()
                    }
                    Err(e) => view! {
                        <PageBar title="Room" />
                        <main class="page" id="main"><ErrorPanel error=e /></main>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn Missing(message: String, title: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <PageBar title=title />
        <main class="page" id="main">
            <section class="card">
                <h1>{title}</h1>
                <p>{message}</p>
                <p>
                    <a href="/rooms">"Find rooms"</a>
                    " or "
                    <a href="/">"go to the start page"</a>
                    "."
                </p>
            </section>
        </main>
    }
}

/// What the middle of a room's page shows.
#[derive(Debug, Clone, PartialEq)]
enum Face {
    Member,
    Ended(Ending),
    Outsider,
}

#[component]
fn RoomView(room: RoomId) -> impl IntoView {
    let store = use_store();
    let live = use_live();
    live.dispatch(Local::Show(room.clone()));
    {
        let room = room.clone();
        on_cleanup(move || live.dispatch(Local::Hide(room)));
    }
    let uploads = Uploads(RwSignal::new(Vec::new()));
    provide_context(uploads);
    let view_of = {
        let room = room.clone();
        Memo::new(move |_| {
            store.with(|s| {
                s.conversation(&room)
                    .and_then(|c| c.room.clone())
                    .map(|r| (r.name, r.topic, r.member_count, r.join_policy))
            })
        })
    };
    let name = Signal::derive(move || view_of.get().map(|v| v.0).unwrap_or_default());
    let face = {
        let room = room.clone();
        Memo::new(move |_| {
            store.with(|s| match s.conversation(&room) {
                Some(c) => match (&c.ended, c.my_role) {
                    (Some(e), _) => Face::Ended(e.clone()),
                    (None, Some(_)) => Face::Member,
                    (None, None) => Face::Outsider,
                },
                None => Face::Outsider,
            })
        })
    };
    let my_role = {
        let room = room.clone();
        Memo::new(move |_| store.with(|s| s.conversation(&room).and_then(|c| c.my_role)))
    };
    let requests = {
        let room = room.clone();
        Memo::new(move |_| store.with(|s| s.conversation(&room).map_or(0, |c| c.requests)))
    };
    let manage_href = StoredValue::new(format!("/rooms/{room}/admin"));
    let show_people = RwSignal::new(false);
    // A refused send without JavaScript comes back with the server's sentence and the text.
    let sent = ServerAction::<SendMessageForm>::new();
    let send_error = Signal::derive(move || sent.value().get().and_then(Result::err));
    let query = use_query_map();
    if let Some(body) = query.read_untracked().get("body").filter(|b| !b.is_empty()) {
        live.dispatch(Local::Draft {
            room: room.clone(),
            text: body,
        });
    }
    let on_drop = {
        let room = room.clone();
        move |ev: leptos::ev::DragEvent| {
            ev.prevent_default();
            #[cfg(feature = "hydrate")]
            if face.get_untracked() == Face::Member {
                if let Some(files) = ev.data_transfer().and_then(|d| d.files()) {
                    for i in 0..files.length() {
                        if let Some(file) = files.get(i) {
                            crate::ui::components::upload::start(live, uploads, room.clone(), file);
                        }
                    }
                }
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = &room;
        }
    };
    let on_paste = {
        let room = room.clone();
        move |ev: leptos::ev::ClipboardEvent| {
            #[cfg(feature = "hydrate")]
            if face.get_untracked() == Face::Member {
                if let Some(files) = ev.clipboard_data().and_then(|d| d.files()) {
                    if files.length() > 0 {
                        ev.prevent_default();
                    }
                    for i in 0..files.length() {
                        if let Some(file) = files.get(i) {
                            crate::ui::components::upload::start(live, uploads, room.clone(), file);
                        }
                    }
                }
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = (&room, ev);
        }
    };
    let leave_href = format!("/rooms/{room}/leave");
    let (r_timeline, r_composer, r_members, r_typing, r_join, r_ended) = (
        room.clone(),
        room.clone(),
        room.clone(),
        room.clone(),
        room.clone(),
        room.clone(),
    );
    view! {
        <Title text=move || format!("#{}", name.get()) />
        <div class="room" class:people-open=move || show_people.get()>
            <header class="room-header">
                <MenuButton />
                <div class="room-title">
                    <h1>
                        <span class="hash" aria-hidden="true">"#"</span>
                        {name}
                    </h1>
                    <p class="topic">{move || view_of.get().and_then(|v| v.1).unwrap_or_default()}</p>
                </div>
                <div class="room-tools">
                    <Show when=move || face.get() == Face::Member>
                        <span class="member-count">
                            {move || match view_of.get().map(|v| v.2).unwrap_or(0) {
                                1 => "1 member".to_owned(),
                                n => format!("{n} members"),
                            }}
                        </span>
                        <Show when=move || my_role.get().is_some_and(Role::is_admin)>
                            <span class="role-chip">
                                {move || if my_role.get() == Some(Role::Owner) { "Owner" } else { "Admin" }}
                            </span>
                            <a
                                href=manage_href.get_value()
                                class="button secondary small"
                                aria-label=move || match requests.get() {
                                    0 => "Manage the room".to_owned(),
                                    1 => "Manage the room, 1 request waiting".to_owned(),
                                    n => format!("Manage the room, {n} requests waiting"),
                                }
                            >
                                "Manage"
                                <Show when=move || { requests.get() > 0 }>
                                    <span class="badge" aria-hidden="true">{move || requests.get()}</span>
                                </Show>
                            </a>
                        </Show>
                        <button
                            type="button"
                            class="button secondary small people-toggle"
                            aria-expanded=move || show_people.get().to_string()
                            aria-controls="people"
                            on:click=move |_| show_people.update(|s| *s = !*s)
                        >
                            {crate::ui::components::icons::people()}
                            <span class="label">"People"</span>
                        </button>
                        <a href=leave_href.clone() class="button secondary small">
                            "Leave"
                        </a>
                    </Show>
                </div>
            </header>
            <div class="room-body" class:with-people=move || face.get() == Face::Member>
                <main
                    class="conversation"
                    id="main"
                    on:dragover=|ev: leptos::ev::DragEvent| ev.prevent_default()
                    on:drop=on_drop
                    on:paste=on_paste
                >
                    {move || match face.get() {
                        Face::Member => view! {
                            <Timeline room=r_timeline.clone() name />
                            <TypingLine room=r_typing.clone() />
                            <Show when=move || send_error.get().is_some()>
                                <p class="form-error composer-error" role="alert">
                                    {move || send_error.get().map(|e| e.0.message)}
                                </p>
                            </Show>
                            <Composer room=r_composer.clone() name />
                        }
                        .into_any(),
                        Face::Ended(ending) => view! {
                            <Timeline room=r_timeline.clone() name />
                            <EndedPanel room=r_ended.clone() ending name />
                        }
                        .into_any(),
                        Face::Outsider => view! { <JoinPanel room=r_join.clone() /> }.into_any(),
                    }}
                </main>
                <Show when=move || face.get() == Face::Member>
                    <aside class="people-panel" id="people" aria-label="People in this room">
                        <MembersPanel room=r_members.clone() />
                    </aside>
                </Show>
            </div>
        </div>
        <Outlet />
    }
    .into_any()
}

/// "ana is typing…", under the timeline.
#[component]
fn TypingLine(room: RoomId) -> impl IntoView {
    let store = use_store();
    let names = Memo::new(move |_| {
        let now = store.now();
        store.with(|s| {
            s.conversation(&room)
                .map(|c| {
                    c.typing_now(now)
                        .into_iter()
                        .map(|u| u.username.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let line = move || {
        let names = names.get();
        match names.as_slice() {
            [] => String::new(),
            [one] => format!("{one} is typing…"),
            [a, b] => format!("{a} and {b} are typing…"),
            more => format!("{} people are typing…", more.len()),
        }
    };
    view! { <p class="typing" aria-live="polite">{line}</p> }
}

/// A room you are not in: what it is, and the way in its policy allows.
#[component]
fn JoinPanel(room: RoomId) -> impl IntoView {
    let store = use_store();
    let live = use_live();
    let info = {
        let room = room.clone();
        Memo::new(move |_| {
            store.with(|s| {
                s.conversation(&room)
                    .map(|c| (c.room.clone(), c.requested, c.invited))
                    .unwrap_or_default()
            })
        })
    };
    let join = ServerAction::<JoinRoomForm>::new();
    let accept = ServerAction::<AcceptInviteForm>::new();
    let decline = ServerAction::<DeclineInviteForm>::new();
    // Done: load the room again (it shows the member's view, or the pending request).
    {
        let room = room.clone();
        Effect::new(move |_| {
            if matches!(join.value().get(), Some(Ok(())))
                || matches!(accept.value().get(), Some(Ok(())))
            {
                live.dispatch(Local::Joined(room.clone()));
            }
        });
    }
    let error = Signal::derive(move || {
        join.value()
            .get()
            .or_else(|| accept.value().get())
            .or_else(|| decline.value().get())
            .and_then(Result::err)
            .map(|e| e.0.message)
    });
    let room_id = StoredValue::new(room.to_string());
    let back = StoredValue::new(format!("/rooms/{room}"));
    move || {
        let (view_of, requested, invited) = info.get();
        let Some(r) = view_of else {
            return ().into_any();
        };
        let members = match r.member_count {
            1 => "1 member".to_owned(),
            n => format!("{n} members"),
        };
        let action = if invited {
            view! {
                <p>"You are invited to this room."</p>
                <div class="actions">
                    <ActionForm action=accept attr:class="inline-form">
                        <input type="hidden" name="room_id" value=room_id.get_value() />
                        <button type="submit" class="button primary">"Accept the invite"</button>
                    </ActionForm>
                    <ActionForm action=decline attr:class="inline-form">
                        <input type="hidden" name="room_id" value=room_id.get_value() />
                        <button type="submit" class="button secondary">"Decline"</button>
                    </ActionForm>
                </div>
            }
            .into_any()
        } else if requested {
            view! { <p class="status-line">"You asked to join. An admin will answer; you will be notified."</p> }.into_any()
        } else {
            match r.join_policy {
                JoinPolicy::Invite => view! { <p>"This room is private: an admin must invite you."</p> }.into_any(),
                policy => view! {
                    <p class="muted">
                        {if policy == JoinPolicy::Open {
                            "Anyone may join this room."
                        } else {
                            "Admins approve who joins this room."
                        }}
                    </p>
                    <ActionForm action=join attr:class="inline-form">
                        <input type="hidden" name="room_id" value=room_id.get_value() />
                        <input type="hidden" name="back" value=back.get_value() />
                        <button type="submit" class="button primary" disabled=move || join.pending().get()>
                            {text::join_action(policy)}
                        </button>
                    </ActionForm>
                }
                .into_any(),
            }
        };
        view! {
            <section class="card join-panel">
                <h2>"#" {r.name.clone()}</h2>
                <p class="topic">{r.topic.clone().unwrap_or_default()}</p>
                <p class="muted small">{members}</p>
                {action}
                <Show when=move || error.get().is_some()>
                    <p class="form-error" role="alert">{move || error.get()}</p>
                </Show>
            </section>
        }
        .into_any()
    }
}

/// A room that is no longer yours: why, in words, and the way back where there is one.
#[component]
fn EndedPanel(room: RoomId, ending: Ending, name: Signal<String>) -> impl IntoView {
    let store = use_store();
    let live = use_live();
    let policy = {
        let room = room.clone();
        Memo::new(move |_| {
            store.with(|s| {
                s.conversation(&room)
                    .and_then(|c| c.room.as_ref())
                    .map(|r| r.join_policy)
            })
        })
    };
    let join = ServerAction::<JoinRoomForm>::new();
    {
        let room = room.clone();
        Effect::new(move |_| {
            if matches!(join.value().get(), Some(Ok(()))) {
                live.dispatch(Local::Joined(room.clone()));
            }
        });
    }
    let error = Signal::derive(move || {
        join.value()
            .get()
            .and_then(Result::err)
            .map(|e| e.0.message)
    });
    let may_return = matches!(ending, Ending::Left | Ending::Kicked { .. });
    let sentence = {
        let ending = ending.clone();
        move || ending.sentence(Some(&name.get()))
    };
    let room_id = StoredValue::new(room.to_string());
    let back = StoredValue::new(format!("/rooms/{room}"));
    view! {
        <section class="ended" role="status">
            <p class="ended-sentence">{sentence}</p>
            {move || {
                let way_back = policy
                    .get()
                    .filter(|p| may_return && *p != JoinPolicy::Invite)
                    .map(|p| if p == JoinPolicy::Open { "Rejoin" } else { "Ask to join again" });
                match way_back {
                    Some(label) => view! {
                        <ActionForm action=join attr:class="inline-form">
                            <input type="hidden" name="room_id" value=room_id.get_value() />
                            <input type="hidden" name="back" value=back.get_value() />
                            <button type="submit" class="button primary small">{label}</button>
                        </ActionForm>
                    }
                    .into_any(),
                    None => view! { <a href="/" class="button secondary small">"Go to your rooms"</a> }.into_any(),
                }
            }}
            <Show when=move || error.get().is_some()>
                <p class="form-error" role="alert">{move || error.get()}</p>
            </Show>
        </section>
    }
}
