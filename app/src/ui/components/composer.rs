//! The composer: a textarea named "Message" (Enter sends, Shift+Enter breaks the line), a
//! colour from the server's palette, the sticker picker, and file uploads by button, paste
//! or drop, with progress. Without JavaScript it is a plain form that posts and comes back.
//! A send the server refuses for speed puts its text back and counts down; so does one a
//! timeout or slow mode holds back, and the composer says so before anyone types. In an
//! announcement room a member who is not an admin gets only that sentence.

use domain::{
    mention,
    message::{
        excerpt, ClientId, Color, Content, MessageBody, Outgoing, StickerName, DEFAULT_COLOR,
    },
    moderation::wait_words,
    ErrorCode, MessageId, RoomId,
};
use leptos::prelude::*;

use super::{
    mention_list::{byte_offset, utf16_offset, MentionList, Suggest},
    upload::{AttachButton, UploadList},
    widgets::hold_clock,
};
use crate::{
    live::use_live,
    store::{state::Hold, use_store, Local, Store},
};

/// A client id for one send: unique per tab and moment, so a retry reuses it and a new
/// send never collides.
pub fn new_client_id() -> ClientId {
    let now = crate::store::current_time();
    #[cfg(feature = "hydrate")]
    let salt = (js_sys::Math::random() * 1e12) as u64;
    #[cfg(not(feature = "hydrate"))]
    let salt = {
        use std::hash::{BuildHasher, RandomState};
        RandomState::new().hash_one(now) % 1_000_000_000_000
    };
    // Hex digits only: always a valid client id.
    ClientId::parse(&format!("c{now:x}{salt:x}"))
        .unwrap_or_else(|_| unreachable!("hex digits make a valid client id"))
}

/// Which of the composer's pickers is open (one at a time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Picker {
    None,
    Colors,
    Stickers,
}

#[component]
pub fn Composer(room: RoomId, #[prop(into)] name: Signal<String>) -> impl IntoView {
    let store = use_store();
    let draft = store.room_memo(&room, |c| c.draft.clone());
    let wait_s = send_wait(store);
    let rules = Rules::new(room.clone());
    let held = Signal::derive(move || rules.hold.get().is_some());
    let color = RwSignal::new(None::<Color>);
    let picker = RwSignal::new(Picker::None);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let replying = replying_to();
    let send = sender(room.clone(), color, replying);
    // An admin's `@room` waits for a second word: how many people it reaches.
    let confirm_room = RwSignal::new(None::<(MessageBody, u32)>);
    let send_text = text_sender(
        room.clone(),
        send.clone(),
        draft,
        wait_s,
        held,
        confirm_room,
    );
    let suggest = Suggest::new(room.clone());
    let input = NodeRef::<leptos::html::Textarea>::new();
    let on_pick = put_in_draft(room.clone(), input);
    let on_submit = {
        let send_text = send_text.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            send_text();
        }
    };
    let room_id = room.to_string();
    let attach_room = StoredValue::new(room.clone());
    view! {
        <form
            class="composer"
            method="post"
            action="/api/form/messages/send"
            on:submit=on_submit
        >
            <input type="hidden" name="room_id" value=room_id />
            <input type="hidden" name="client_id" value=new_client_id().into_string() />
            // An announcement room: nothing to write with, only the sentence that says why.
            <Show when=move || !rules.closed.get()>
                <UploadList />
                <ReplyBar room=room.clone() replying />
                <MentionList suggest on_pick />
                <RoomConfirm confirm_room send=send.clone() />
                <div class="composer-row">
                    <ColorPicker color picker />
                    <StickerPicker picker held on_pick={
                        let send = send.clone();
                        move |s| send(Content::Sticker(s))
                    } />
                    <Show when=move || hydrated.get() && !held.get()>
                        <AttachButton room=attach_room.get_value() />
                    </Show>
                    <MessageInput
                        room=room.clone()
                        name
                        draft
                        on_enter=send_text.clone()
                        suggest
                        input
                        on_pick
                    />
                    <button
                        type="submit"
                        class="button primary send"
                        disabled=move || { wait_s.get() > 0 || held.get() }
                    >
                        "Send"
                    </button>
                </div>
            </Show>
            <ComposerFoot wait_s rules />
        </form>
    }
    .into_any()
}

/// Seconds until the send rate limit lets the next message through.
fn send_wait(store: Store) -> Memo<i64> {
    Memo::new(move |_| {
        let until = store.with(|s| s.send_wait_until);
        ((until - store.now()).max(0) + 999) / 1000
    })
}

/// The message being answered: `?reply=ID` on the room's address, so the Reply link of a
/// message works the same with JavaScript off.
fn replying_to() -> Memo<Option<MessageId>> {
    let query = leptos_router::hooks::use_query_map();
    Memo::new(move |_| {
        query
            .with(|q| q.get("reply"))
            .and_then(|r| r.parse::<i64>().ok())
            .map(MessageId::new)
    })
}

/// Puts a picked mention's text in the draft, with the caret where the pick left it.
fn put_in_draft(room: RoomId, input: NodeRef<leptos::html::Textarea>) -> Callback<(String, usize)> {
    let live = use_live();
    Callback::new(move |(text, caret): (String, usize)| {
        let at = utf16_offset(&text, caret) as u32;
        live.dispatch(Local::Draft {
            room: room.clone(),
            text,
        });
        request_animation_frame(move || {
            if let Some(el) = input.try_get_untracked().flatten() {
                let _ = el.set_selection_range(at, at);
            }
        });
    })
}

/// Under the composer: why sending waits, and slow mode's pace.
#[component]
fn ComposerFoot(wait_s: Memo<i64>, rules: Rules) -> impl IntoView {
    view! {
        <div class="composer-foot">
            <SendStatus wait_s hold=rules.hold />
            <Show when=move || { rules.slow.get() > 0 && !rules.closed.get() }>
                <p class="composer-note">
                    {move || format!("Slow mode: one message every {}", wait_words(u64::from(rules.slow.get()) * 1000))}
                </p>
            </Show>
        </div>
    }
}

/// What the room's rules ask of my messages here.
#[derive(Clone, Copy)]
struct Rules {
    /// What holds them back now, if anything (`Conversation::hold`).
    hold: Memo<Option<Hold>>,
    /// An announcement room, and I am not an admin: I never post here.
    closed: Memo<bool>,
    /// Slow mode's seconds between my messages, when it binds me (0: it does not).
    slow: Memo<u32>,
}

impl Rules {
    fn new(room: RoomId) -> Self {
        let store = use_store();
        let clock = hold_clock();
        let hold = {
            let room = room.clone();
            Memo::new(move |_| {
                let now = clock.get();
                store.with(|s| s.conversation(&room).and_then(|c| c.hold(now)))
            })
        };
        // Who is bound, and by what, is the same question for both.
        let binding = store.room_memo(&room, |c| {
            let r = c.room.as_ref()?;
            (!c.my_role?.is_admin()).then_some((r.announcement, r.slow_mode_seconds))
        });
        Self {
            hold,
            closed: Memo::new(move |_| binding.get().is_some_and(|(a, _)| a)),
            slow: Memo::new(move |_| binding.get().map_or(0, |(_, s)| s)),
        }
    }
}

/// Sends a text (in the chosen colour) or a sticker into `room`, under a new client id, as
/// an answer to the message being replied to (then the reply is done).
fn sender(
    room: RoomId,
    color: RwSignal<Option<Color>>,
    replying: Memo<Option<MessageId>>,
) -> impl Fn(Content) + Clone + 'static {
    let live = use_live();
    let navigate = leptos_router::hooks::use_navigate();
    move |content: Content| {
        let color = matches!(content, Content::Text(_))
            .then(|| color.get_untracked())
            .flatten();
        let reply_to = replying.get_untracked();
        live.dispatch(Local::Send(Outgoing {
            room_id: room.clone(),
            client_id: new_client_id(),
            content,
            color,
            reply_to,
        }));
        if reply_to.is_some() {
            let options = leptos_router::NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            };
            navigate(&format!("/rooms/{room}"), options);
        }
    }
}

/// "Replying to ana: how it starts", with a way out; its hidden field makes the plain
/// form's post a reply too.
#[component]
fn ReplyBar(room: RoomId, replying: Memo<Option<MessageId>>) -> impl IntoView {
    let store = use_store();
    move || {
        let id = replying.get()?;
        let quote = store.with(|s| {
            let m = s.conversation(&room)?.messages.get(&id)?;
            let who = m.author.as_ref().map(|a| a.username.clone());
            let what = match &m.deleted {
                Some(_) => "a deleted message".to_owned(),
                None => excerpt(m.kind, m.text(), m.sticker.as_deref()),
            };
            Some((who.unwrap_or_else(|| "someone".to_owned()), what))
        });
        let (who, what) = quote.unwrap_or_else(|| ("a message".to_owned(), String::new()));
        Some(view! {
            <div class="reply-bar">
                <input type="hidden" name="reply_to" value=id.to_string() />
                <p>
                    "Replying to " <strong>{who}</strong>
                    <span class="reply-excerpt">{what}</span>
                </p>
                <a class="link-button" href=format!("/rooms/{room}") aria-label="Cancel the reply">
                    "Cancel"
                </a>
            </div>
        })
    }
}

/// Sends the draft, unless the rate limit holds the composer; a draft the rules refuse is
/// told (an empty one does nothing: that is Enter on an empty box).
fn text_sender(
    room: RoomId,
    send: impl Fn(Content) + Clone + 'static,
    draft: Memo<String>,
    wait_s: Memo<i64>,
    held: Signal<bool>,
    confirm_room: RwSignal<Option<(MessageBody, u32)>>,
) -> impl Fn() + Clone + 'static {
    let live = use_live();
    let store = use_store();
    move || {
        if wait_s.get_untracked() > 0 || held.get_untracked() {
            return;
        }
        let text = draft.get_untracked();
        match MessageBody::parse(&text) {
            Ok(body) => {
                let names_room = mention::tokens(body.as_str())
                    .iter()
                    .any(|t| t.key() == mention::ROOM);
                let reach = store.with_untracked(|s| {
                    let c = s.conversation(&room)?;
                    let admin = c.my_role.is_some_and(|r| r.is_admin());
                    let count = c.room.as_ref()?.member_count;
                    admin.then(|| count.saturating_sub(1))
                });
                match reach {
                    Some(people) if names_room => confirm_room.set(Some((body, people))),
                    _ => send(Content::Text(body)),
                }
            }
            // Nothing written yet: Enter does nothing.
            Err(e) if e.code == ErrorCode::InvalidInput && text.trim().is_empty() => {}
            Err(e) => live.dispatch(Local::Failed(e)),
        }
    }
}

/// "This notifies N people": an admin's `@room` is sent only once they say so.
#[component]
fn RoomConfirm(
    confirm_room: RwSignal<Option<(MessageBody, u32)>>,
    send: impl Fn(Content) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        let (body, people) = confirm_room.get()?;
        let send = send.clone();
        let what = if people == 1 {
            "This notifies 1 person.".to_owned()
        } else {
            format!("This notifies {people} people.")
        };
        Some(view! {
            <div class="room-confirm" role="alert">
                <p>"@room mentions everyone in the room. " {what}</p>
                <button
                    type="button"
                    class="button primary"
                    on:click=move |_| {
                        confirm_room.set(None);
                        send(Content::Text(body.clone()));
                    }
                >
                    "Send to everyone"
                </button>
                <button type="button" class="button" on:click=move |_| confirm_room.set(None)>
                    "Cancel"
                </button>
            </div>
        })
    }
}

/// Says what holds the composer back, and for how long: a timeout, slow mode, an
/// announcement room, or the rate limit (then that the message is kept).
#[component]
fn SendStatus(wait_s: Memo<i64>, hold: Memo<Option<Hold>>) -> impl IntoView {
    let wait = |ms: i64| wait_words(u64::try_from(ms).unwrap_or(0));
    // The words before the time, the time, the words after.
    let parts = Memo::new(move |_| match hold.get() {
        Some(Hold::Muted(ms)) => (
            "You are timed out in this room for another ",
            wait(ms),
            ". You can still read it.",
        ),
        Some(Hold::SlowMode(ms)) => ("Slow mode: you can send again in ", wait(ms), "."),
        Some(Hold::Announcement) => (
            "Only admins post in this announcement room. You can read and react.",
            String::new(),
            "",
        ),
        None => match wait_s.get() {
            0 => ("", String::new(), ""),
            s => (
                "You are sending too fast. You can send again in ",
                format!("{s} s"),
                "; your message is kept.",
            ),
        },
    });
    let class = move || match hold.get() {
        Some(Hold::Muted(_)) => "composer-status held muted",
        Some(Hold::SlowMode(_)) => "composer-status held slow",
        Some(Hold::Announcement) => "composer-status held announcement",
        None => "composer-status",
    };
    // Always the same three texts, never an element that comes and goes: the server's page
    // and the hydrated one then have the same nodes whatever the clocks say. The sentence is
    // read out when it changes, not at every tick of its time.
    view! {
        <p id="composer-status" class=class aria-live="polite" aria-atomic="true">
            {move || parts.get().0}
            <span aria-live="off">{move || parts.get().1}</span>
            {move || parts.get().2}
        </p>
    }
}

/// The textarea: typing tells the room, Enter sends, Shift+Enter breaks the line.
#[component]
fn MessageInput(
    room: RoomId,
    name: Signal<String>,
    draft: Memo<String>,
    on_enter: impl Fn() + Clone + 'static,
    suggest: Suggest,
    input: NodeRef<leptos::html::Textarea>,
    on_pick: Callback<(String, usize)>,
) -> impl IntoView {
    let live = use_live();
    let editing = room.clone();
    let caret = move |text: &str| {
        let at = input
            .get_untracked()
            .and_then(|el| el.selection_start().ok().flatten())
            .unwrap_or(0);
        byte_offset(text, at as usize)
    };
    let on_input = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        suggest.update(&text, caret(&text));
        if !text.is_empty() {
            live.typing(&room);
        }
        live.dispatch(Local::Draft {
            room: room.clone(),
            text,
        });
    };
    let store = crate::store::use_store();
    let navigate = leptos_router::hooks::use_navigate();
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if let Some(picked) = suggest.key(&ev.key()) {
            ev.prevent_default();
            if let Some(done) = picked {
                on_pick.run(done);
            }
            return;
        }
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            on_enter();
        }
        // Up in an empty composer edits my last message, as in most chat apps.
        if ev.key() == "ArrowUp" && draft.get_untracked().is_empty() {
            let last = store.with_untracked(|s| {
                let me = s.me.as_ref()?.id.clone();
                s.conversation(&editing)?.last_editable(&me)
            });
            if let Some(id) = last {
                ev.prevent_default();
                navigate(
                    &format!("/rooms/{editing}/messages/{id}/edit"),
                    Default::default(),
                );
            }
        }
    };
    view! {
        <label for="composer-input" class="visually-hidden">
            "Message"
        </label>
        <textarea
            id="composer-input"
            name="body"
            rows="1"
            maxlength="4000"
            placeholder=move || format!("Message #{}", name.get())
            aria-describedby="composer-status"
            aria-autocomplete="list"
            aria-controls=move || suggest.is_open().then_some("mention-list")
            aria-activedescendant=move || suggest.active_id()
            node_ref=input
            prop:value=move || draft.get()
            on:input=on_input
            on:keydown=on_keydown
            on:blur=move |_| suggest.close()
        >
            {draft.get_untracked()}
        </textarea>
    }
}

/// The colour of the next text message: radio buttons, so the form posts it without
/// JavaScript too.
#[component]
fn ColorPicker(color: RwSignal<Option<Color>>, picker: RwSignal<Picker>) -> impl IntoView {
    let name_of = |c: Option<Color>| c.map_or(DEFAULT_COLOR, Color::as_str);
    let choices = std::iter::once(None).chain(Color::ALL.into_iter().map(Some));
    view! {
        <details class="picker" prop:open=move || picker.get() == Picker::Colors>
            <summary
                class="icon-button"
                aria-label="Colour"
                title="Colour"
                on:click=move |ev| {
                    ev.prevent_default();
                    picker.update(|p| *p = if *p == Picker::Colors { Picker::None } else { Picker::Colors });
                }
            >
                <span class=move || format!("swatch color-{}", name_of(color.get())) aria-hidden="true"></span>
            </summary>
            <fieldset class="palette">
                <legend>"Colour of your message"</legend>
                {choices
                    .map(|choice| {
                        let c = name_of(choice);
                        let id = format!("color-{c}");
                        view! {
                            <input
                                type="radio"
                                name="color"
                                id=id.clone()
                                value=c
                                prop:checked=move || color.get() == choice
                                on:change=move |_| {
                                    color.set(choice);
                                    picker.set(Picker::None);
                                }
                            />
                            <label for=id class=format!("swatch-label color-{c}")>
                                <span class=format!("swatch color-{c}") aria-hidden="true"></span>
                                {c}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
        </details>
    }
}

/// The sticker catalogue: each a submit button, so it posts without JavaScript too.
#[component]
fn StickerPicker(
    picker: RwSignal<Picker>,
    /// A timeout or slow mode holds my messages back: no sticker goes either.
    held: Signal<bool>,
    on_pick: impl Fn(StickerName) + Clone + 'static,
) -> impl IntoView {
    view! {
        <details class="picker" prop:open=move || picker.get() == Picker::Stickers>
            <summary
                class="icon-button"
                aria-label="Stickers"
                title="Stickers"
                on:click=move |ev| {
                    ev.prevent_default();
                    picker.update(|p| *p = if *p == Picker::Stickers { Picker::None } else { Picker::Stickers });
                }
            >
                {super::icons::smile()}
            </summary>
            <div class="sticker-grid" role="group" aria-label="Stickers">
                {StickerName::catalogue()
                    .map(|sticker| {
                        let name = sticker.as_str();
                        let on_pick = on_pick.clone();
                        view! {
                            <button
                                type="submit"
                                name="sticker"
                                value=name
                                class="sticker-choice"
                                disabled=move || held.get()
                                aria-label=format!("Send the {name} sticker")
                                on:click=move |ev| {
                                    ev.prevent_default();
                                    on_pick(sticker);
                                    picker.set(Picker::None);
                                }
                            >
                                <pre aria-hidden="true">{sticker.art()}</pre>
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
        </details>
    }
}
