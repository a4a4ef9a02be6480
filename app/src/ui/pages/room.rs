//! A room: its header, the timeline, who is typing, the composer, and the people in it. A
//! room you are not in offers to join it (as its policy allows); a room you were removed
//! from says why, in words, and offers the way back where there is one.

use domain::{
    moderation::wait_words,
    room::{JoinPolicy, Role},
    ErrorCode, MessageId, RoomId,
};
use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::{
    components::Outlet,
    hooks::{use_params_map, use_query_map},
};

use super::not_found::set_status;
#[cfg(feature = "hydrate")]
use crate::ui::components::upload::start_all;
use crate::{
    api::{
        forms::{AcceptInviteForm, DeclineInviteForm, JoinRoomForm, SendMessageForm},
        messages::messages_around,
        rooms::open_room,
    },
    live::use_live,
    store::{state::Ending, text, use_store, Loaded, Local},
    ui::components::{
        composer::Composer,
        drawer::{MenuButton, PageBar},
        members::MembersPanel,
        timeline::Timeline,
        upload::UploadQueue,
        widgets::{refusal, ErrorPanel, FormError, NothingHere},
    },
};

#[component]
pub fn RoomPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| RoomId::from(params.read().get("id").unwrap_or_default()));
    // `?around=ID`: a search hit opens the room at that message, with those around it.
    let query = use_query_map();
    let around = Memo::new(move |_| {
        query
            .read()
            .get("around")
            .and_then(|m| MessageId::parse(&m, "around").ok())
    });
    let store = use_store();
    let data = Resource::new_blocking(move || id.get(), open_room);
    let context = Resource::new_blocking(
        move || around.get(),
        |around| async move {
            match around {
                // A message that is gone or not mine opens the room as usual.
                Some(id) => messages_around(id.to_string(), None)
                    .await
                    .ok()
                    .map(|page| (id, page)),
                None => None,
            }
        },
    );
    crate::ui::components::message_dialog::DialogData::provide();
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading the room…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(open) => {
                        let room = open.room.id.clone();
                        let member = open.my_role.is_some();
                        store.apply(Loaded::Room(open));
                        if let (true, Some((focus, page))) = (member, context.await) {
                            store.apply(Loaded::Around {
                                room: room.clone(),
                                focus,
                                messages: page.messages,
                                has_older: page.has_older,
                                has_newer: page.has_newer,
                            });
                        }
                        view! { <RoomScreen room /> }.into_any()
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
        <NothingHere title message>
            <a href="/rooms">"Find rooms"</a>
            " or "
            <a href="/">"go to the start page"</a>
            "."
        </NothingHere>
    }
}

/// What the middle of a room's page shows.
#[derive(Debug, Clone, PartialEq)]
enum Face {
    Member,
    Ended(Ending),
    Outsider,
}

/// The room as its header shows it: name, topic, member count.
type About = Option<(String, Option<String>, u32)>;

/// The room once its page is loaded: shown in the middle (its unread count cleared) until
/// the page closes.
#[component]
fn RoomScreen(room: RoomId) -> impl IntoView {
    let store = use_store();
    let live = use_live();
    live.dispatch(Local::Show(room.clone()));
    {
        let room = room.clone();
        on_cleanup(move || live.dispatch(Local::Hide(room)));
    }
    provide_context(UploadQueue(RwSignal::new(Vec::new())));
    let about = store.room_memo(&room, |c| {
        let r = c.room.as_ref()?;
        Some((r.name.clone(), r.topic.clone(), r.member_count))
    });
    let name = Signal::derive(move || about.get().map(|v| v.0).unwrap_or_default());
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
    let show_people = RwSignal::new(false);
    // A refused send without JavaScript comes back with the text, to go on with.
    let query = use_query_map();
    if let Some(body) = query.read_untracked().get("body").filter(|b| !b.is_empty()) {
        live.dispatch(Local::Draft {
            room: room.clone(),
            text: body,
        });
    }
    let people_room = room.clone();
    view! {
        <Title text=move || format!("#{}", name.get()) />
        <div class="room" class:people-open=move || show_people.get()>
            <RoomHeader room=room.clone() name about face show_people />
            <div class="room-body" class:with-people=move || face.get() == Face::Member>
                <RoomMain room face name />
                <Show when=move || face.get() == Face::Member>
                    <aside class="people-panel" id="people" aria-label="People in this room">
                        <MembersPanel room=people_room.clone() />
                    </aside>
                </Show>
            </div>
        </div>
        <Outlet />
    }
    .into_any()
}

/// The room's header: the menu button, name and topic; for members its posting rules, the
/// count, Manage for admins, People (the panel on narrow screens) and Leave.
#[component]
fn RoomHeader(
    room: RoomId,
    name: Signal<String>,
    about: Memo<About>,
    face: Memo<Face>,
    show_people: RwSignal<bool>,
) -> impl IntoView {
    let leave_href = format!("/rooms/{room}/leave");
    view! {
        <header class="room-header">
            <MenuButton />
            <div class="room-title">
                <h1>
                    <span class="hash" aria-hidden="true">"#"</span>
                    {name}
                </h1>
                <p class="topic">{move || about.get().and_then(|v| v.1).unwrap_or_default()}</p>
            </div>
            <div class="room-tools">
                <Show when=move || face.get() == Face::Member>
                    <RoomFlags room=room.clone() />
                    <span class="member-count">
                        {move || match about.get().map(|v| v.2).unwrap_or(0) {
                            1 => "1 member".to_owned(),
                            n => format!("{n} members"),
                        }}
                    </span>
                    <AdminTools room=room.clone() />
                    <a
                        href=format!("/search?room={room}")
                        class="button secondary small"
                        aria-label=move || format!("Search messages in #{}", name.get())
                    >
                        "Search"
                    </a>
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
    }
}

/// "Announcement room" and "Slow mode 30 s", while the room has them.
#[component]
fn RoomFlags(room: RoomId) -> impl IntoView {
    let store = use_store();
    let rules = store.room_memo(&room, |c| {
        c.room
            .as_ref()
            .map_or((false, 0), |r| (r.announcement, r.slow_mode_seconds))
    });
    view! {
        <Show when=move || rules.get().0>
            <span class="room-flag">"Announcement room"</span>
        </Show>
        <Show when=move || { rules.get().1 > 0 }>
            <span class="room-flag">
                {move || format!("Slow mode {}", wait_words(u64::from(rules.get().1) * 1000))}
            </span>
        </Show>
    }
}

/// For admins: their role, and the way to the admin page with the requests waiting.
#[component]
fn AdminTools(room: RoomId) -> impl IntoView {
    let store = use_store();
    let my_role = {
        let room = room.clone();
        Memo::new(move |_| store.with(|s| s.conversation(&room).and_then(|c| c.my_role)))
    };
    let requests = {
        let room = room.clone();
        Memo::new(move |_| store.with(|s| s.conversation(&room).map_or(0, |c| c.requests)))
    };
    // The open reports I see here, kept live by `reports` frames.
    let reports = {
        let room = room.clone();
        Memo::new(move |_| {
            store.with(|s| {
                s.rooms
                    .iter()
                    .find(|r| r.room.id == room)
                    .map_or(0, |r| r.open_reports)
            })
        })
    };
    let inbox_href = StoredValue::new(format!("/rooms/{room}/admin#inbox"));
    let manage_href = StoredValue::new(format!("/rooms/{room}/admin"));
    view! {
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
            <Show when=move || { reports.get() > 0 }>
                <a
                    href=inbox_href.get_value()
                    class="button secondary small report-badge"
                    aria-label=move || match reports.get() {
                        1 => "1 open report".to_owned(),
                        n => format!("{n} open reports"),
                    }
                >
                    <span aria-hidden="true">"⚑ "</span>
                    {move || reports.get()}
                </a>
            </Show>
        </Show>
    }
}

/// The middle: for a member the timeline, who is typing and the composer (files dropped or
/// pasted here go up into the room); the story's end for a room that is no longer mine;
/// the way in for anyone else.
#[component]
fn RoomMain(room: RoomId, face: Memo<Face>, name: Signal<String>) -> impl IntoView {
    // A refused send without JavaScript comes back with the server's sentence.
    let sent = ServerAction::<SendMessageForm>::new();
    let send_error = Signal::derive(move || sent.value().get().and_then(Result::err));
    let (on_drop, on_paste) = file_catchers(room.clone(), face);
    view! {
        <main
            class="conversation"
            id="main"
            on:dragover=|ev: leptos::ev::DragEvent| ev.prevent_default()
            on:drop=on_drop
            on:paste=on_paste
        >
            {move || match face.get() {
                Face::Member => view! {
                    <Timeline room=room.clone() name />
                    <TypingLine room=room.clone() />
                    <Show when=move || send_error.get().is_some()>
                        <p class="form-error composer-error" role="alert">
                            {move || send_error.get().map(|e| e.0.message)}
                        </p>
                    </Show>
                    <Composer room=room.clone() name />
                }
                .into_any(),
                Face::Ended(ending) => view! {
                    <Timeline room=room.clone() name />
                    <EndedPanel room=room.clone() ending name />
                }
                .into_any(),
                Face::Outsider => view! { <JoinPanel room=room.clone() /> }.into_any(),
            }}
        </main>
    }
}

/// The conversation's drop and paste handlers: a member's files go up into the room.
fn file_catchers(
    room: RoomId,
    face: Memo<Face>,
) -> (
    impl Fn(leptos::ev::DragEvent) + 'static,
    impl Fn(leptos::ev::ClipboardEvent) + 'static,
) {
    let live = use_live();
    let store = use_store();
    let uploads = expect_context::<UploadQueue>();
    // A member whose messages a timeout or slow mode holds back sends no file either.
    let may_upload = {
        let room = room.clone();
        move || {
            let now = crate::store::current_time();
            face.get_untracked() == Face::Member
                && store
                    .with_untracked(|s| s.conversation(&room).and_then(|c| c.hold(now)).is_none())
        }
    };
    let on_drop = {
        let room = room.clone();
        let may_upload = may_upload.clone();
        move |ev: leptos::ev::DragEvent| {
            ev.prevent_default();
            #[cfg(feature = "hydrate")]
            if may_upload() {
                if let Some(files) = ev.data_transfer().and_then(|d| d.files()) {
                    start_all(live, uploads, &room, &files);
                }
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = (&room, &may_upload, live, uploads);
        }
    };
    let on_paste = move |ev: leptos::ev::ClipboardEvent| {
        #[cfg(feature = "hydrate")]
        if may_upload() {
            if let Some(files) = ev.clipboard_data().and_then(|d| d.files()) {
                if files.length() > 0 {
                    ev.prevent_default();
                }
                start_all(live, uploads, &room, &files);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&room, ev, &may_upload, live, uploads);
    };
    (on_drop, on_paste)
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
    let info = store.room_memo(&room, |c| (c.room.clone(), c.requested, c.invited));
    let ways = WaysIn::new(room);
    let error = ways.error();
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
            ways.invited()
        } else if requested {
            view! { <p class="status-line">"You asked to join. An admin will answer; you will be notified."</p> }.into_any()
        } else {
            ways.by_policy(r.join_policy)
        };
        view! {
            <section class="card join-panel">
                <h2>"#" {r.name.clone()}</h2>
                <p class="topic">{r.topic.clone().unwrap_or_default()}</p>
                <p class="muted small">{members}</p>
                {action}
                <FormError error />
            </section>
        }
        .into_any()
    }
}

/// The join panel's forms: join (or ask to), and take or decline an invite.
#[derive(Clone, Copy)]
struct WaysIn {
    join: ServerAction<JoinRoomForm>,
    accept: ServerAction<AcceptInviteForm>,
    decline: ServerAction<DeclineInviteForm>,
    room_id: StoredValue<String>,
    back: StoredValue<String>,
}

impl WaysIn {
    fn new(room: RoomId) -> Self {
        let live = use_live();
        let ways = Self {
            join: ServerAction::new(),
            accept: ServerAction::new(),
            decline: ServerAction::new(),
            room_id: StoredValue::new(room.to_string()),
            back: StoredValue::new(format!("/rooms/{room}")),
        };
        // Done: load the room again (it shows the member's view, or the pending request).
        Effect::new(move |_| {
            if matches!(ways.join.value().get(), Some(Ok(())))
                || matches!(ways.accept.value().get(), Some(Ok(())))
            {
                live.dispatch(Local::Joined(room.clone()));
            }
        });
        ways
    }

    /// The last refusal of any of them.
    fn error(self) -> Signal<Option<String>> {
        Signal::derive(move || {
            self.join
                .value()
                .get()
                .or_else(|| self.accept.value().get())
                .or_else(|| self.decline.value().get())
                .and_then(Result::err)
                .map(|e| e.0.message)
        })
    }

    /// I hold an invite: take it or decline it.
    fn invited(self) -> AnyView {
        let Self {
            accept,
            decline,
            room_id,
            ..
        } = self;
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
    }

    /// Join, or ask to, as the room's policy allows; a private room says who lets you in.
    fn by_policy(self, policy: JoinPolicy) -> AnyView {
        let Self {
            join,
            room_id,
            back,
            ..
        } = self;
        if policy == JoinPolicy::Invite {
            return view! { <p>"This room is private: an admin must invite you."</p> }.into_any();
        }
        view! {
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
        .into_any()
    }
}

/// A room that is no longer yours: why, in words, and the way back where there is one.
#[component]
fn EndedPanel(room: RoomId, ending: Ending, name: Signal<String>) -> impl IntoView {
    let store = use_store();
    let live = use_live();
    let policy = store.room_memo(&room, |c| c.room.as_ref().map(|r| r.join_policy));
    let join = ServerAction::<JoinRoomForm>::new();
    {
        let room = room.clone();
        Effect::new(move |_| {
            if matches!(join.value().get(), Some(Ok(()))) {
                live.dispatch(Local::Joined(room.clone()));
            }
        });
    }
    let error = refusal(join);
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
            <FormError error />
        </section>
    }
}
