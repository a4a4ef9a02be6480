//! The composer: a textarea named "Message" (Enter sends, Shift+Enter breaks the line), a
//! colour from the server's palette, the sticker picker, and file uploads by button, paste
//! or drop, with progress. Without JavaScript it is a plain form that posts and comes back.
//! A send the server refuses for speed puts its text back and counts down.

use domain::{
    message::{PALETTE, STICKERS},
    RoomId,
};
use leptos::prelude::*;

use crate::{
    live::use_live,
    store::{use_store, Local},
};

/// A client id for one send: unique per tab and moment, so a retry reuses it and a new
/// send never collides.
pub fn new_client_id() -> String {
    let now = crate::store::current_time();
    #[cfg(feature = "hydrate")]
    let salt = (js_sys::Math::random() * 1e12) as u64;
    #[cfg(not(feature = "hydrate"))]
    let salt = {
        use std::hash::{BuildHasher, RandomState};
        RandomState::new().hash_one(now) % 1_000_000_000_000
    };
    format!("c{now:x}{salt:x}")
}

/// Files on their way up, shared by the attach button and the drop zone.
#[derive(Clone, Copy)]
pub struct Uploads(pub RwSignal<Vec<Upload>>);

#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub id: u64,
    pub name: String,
    pub percent: u32,
    pub error: Option<String>,
}

#[component]
pub fn Composer(room: RoomId, #[prop(into)] name: Signal<String>) -> impl IntoView {
    let store = use_store();
    let live = use_live();
    let draft = {
        let room = room.clone();
        Memo::new(move |_| {
            store.with(|s| {
                s.conversation(&room)
                    .map(|c| c.draft.clone())
                    .unwrap_or_default()
            })
        })
    };
    let wait_s = Memo::new(move |_| {
        let until = store.with(|s| s.send_wait_until);
        ((until - store.now()).max(0) + 999) / 1000
    });
    let color = RwSignal::new(String::from("default"));
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let send_text = {
        let room = room.clone();
        move || {
            let body = draft.get_untracked();
            if body.trim().is_empty() || wait_s.get_untracked() > 0 {
                return;
            }
            let color = color.get_untracked();
            live.dispatch(Local::Send {
                room: room.clone(),
                client_id: new_client_id(),
                body: Some(body),
                sticker: None,
                color: (color != "default").then_some(color),
            });
        }
    };
    let send_sticker = {
        let room = room.clone();
        move |sticker: &str| {
            live.dispatch(Local::Send {
                room: room.clone(),
                client_id: new_client_id(),
                body: None,
                sticker: Some(sticker.to_owned()),
                color: None,
            });
        }
    };
    let on_input = {
        let room = room.clone();
        move |ev: leptos::ev::Event| {
            let text = event_target_value(&ev);
            if !text.is_empty() {
                live.typing(&room);
            }
            live.dispatch(Local::Draft {
                room: room.clone(),
                text,
            });
        }
    };
    let on_keydown = {
        let send_text = send_text.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                ev.prevent_default();
                send_text();
            }
        }
    };
    let on_submit = {
        let send_text = send_text.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            send_text();
        }
    };
    let stickers_open = RwSignal::new(false);
    let colors_open = RwSignal::new(false);
    let room_id = room.to_string();
    let status = move || {
        let s = wait_s.get();
        (s > 0).then(|| {
            format!("You are sending too fast. You can send again in {s} s; your message is kept.")
        })
    };
    view! {
        <form
            class="composer"
            method="post"
            action="/api/form/messages/send"
            on:submit=on_submit
        >
            <input type="hidden" name="room_id" value=room_id.clone() />
            <input type="hidden" name="client_id" value=new_client_id() />
            <UploadList />
            <div class="composer-row">
                <details class="picker" prop:open=move || colors_open.get()>
                    <summary
                        class="icon-button"
                        aria-label="Colour"
                        title="Colour"
                        on:click=move |ev| {
                            ev.prevent_default();
                            colors_open.update(|o| *o = !*o);
                            stickers_open.set(false);
                        }
                    >
                        <span class=move || format!("swatch color-{}", color.get()) aria-hidden="true"></span>
                    </summary>
                    <fieldset class="palette">
                        <legend>"Colour of your message"</legend>
                        {PALETTE
                            .iter()
                            .map(|c| {
                                let c = (*c).to_owned();
                                let id = format!("color-{c}");
                                let value = c.clone();
                                let checked = {
                                    let c = c.clone();
                                    move || color.get() == c
                                };
                                view! {
                                    <input
                                        type="radio"
                                        name="color"
                                        id=id.clone()
                                        value=c.clone()
                                        prop:checked=checked
                                        on:change=move |_| {
                                            color.set(value.clone());
                                            colors_open.set(false);
                                        }
                                    />
                                    <label for=id class=format!("swatch-label color-{c}")>
                                        <span class=format!("swatch color-{c}") aria-hidden="true"></span>
                                        {c.clone()}
                                    </label>
                                }
                            })
                            .collect_view()}
                    </fieldset>
                </details>
                <details class="picker" prop:open=move || stickers_open.get()>
                    <summary
                        class="icon-button"
                        aria-label="Stickers"
                        title="Stickers"
                        on:click=move |ev| {
                            ev.prevent_default();
                            stickers_open.update(|o| *o = !*o);
                            colors_open.set(false);
                        }
                    >
                        {super::icons::smile()}
                    </summary>
                    <div class="sticker-grid" role="group" aria-label="Stickers">
                        {STICKERS
                            .iter()
                            .map(|s| {
                                let name = s.name;
                                let send_sticker = send_sticker.clone();
                                view! {
                                    <button
                                        type="submit"
                                        name="sticker"
                                        value=name
                                        class="sticker-choice"
                                        aria-label=format!("Send the {name} sticker")
                                        on:click=move |ev| {
                                            ev.prevent_default();
                                            send_sticker(name);
                                            stickers_open.set(false);
                                        }
                                    >
                                        <pre aria-hidden="true">{s.art}</pre>
                                    </button>
                                }
                            })
                            .collect_view()}
                    </div>
                </details>
                <Show when=move || hydrated.get()>
                    <AttachButton room=room.clone() />
                </Show>
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
                    prop:value=move || draft.get()
                    on:input=on_input
                    on:keydown=on_keydown
                >
                    {draft.get_untracked()}
                </textarea>
                <button
                    type="submit"
                    class="button primary send"
                    disabled=move || { wait_s.get() > 0 }
                >
                    "Send"
                </button>
            </div>
            <p id="composer-status" class="composer-status" aria-live="polite">
                {status}
            </p>
        </form>
    }
    .into_any()
}

/// Uploads on their way, with progress, or their refusal.
#[component]
fn UploadList() -> impl IntoView {
    let uploads = expect_context::<Uploads>();
    view! {
        <Show when=move || !uploads.0.read().is_empty()>
            <ul class="uploads" aria-label="Uploads">
                <For each=move || uploads.0.get() key=|u| (u.id, u.percent, u.error.clone()) let:u>
                    {
                        let id = u.id;
                        view! {
                            <li class="upload" class:failed=u.error.is_some()>
                                <span class="file-name">{u.name.clone()}</span>
                                {match u.error.clone() {
                                    None => view! {
                                        <progress max="100" value=u.percent aria-label=format!("Uploading {}", u.name)></progress>
                                    }
                                    .into_any(),
                                    Some(why) => view! {
                                        <span class="field-error" role="alert">{why}</span>
                                        <button
                                            type="button"
                                            class="icon-button"
                                            aria-label="Dismiss"
                                            on:click=move |_| uploads.0.update(|l| l.retain(|x| x.id != id))
                                        >
                                            {super::icons::close()}
                                        </button>
                                    }
                                    .into_any(),
                                }}
                            </li>
                        }
                    }
                </For>
            </ul>
        </Show>
    }
}

#[component]
fn AttachButton(room: RoomId) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let uploads = expect_context::<Uploads>();
    let live = use_live();
    let on_change = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(el) = input.get_untracked() {
            if let Some(files) = el.files() {
                for i in 0..files.length() {
                    if let Some(file) = files.get(i) {
                        super::upload::start(live, uploads, room.clone(), file);
                    }
                }
            }
            el.set_value("");
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&room, live, uploads);
    };
    view! {
        <label class="icon-button attach" title="Attach a file">
            {super::icons::paperclip()}
            <span class="visually-hidden">"Attach a file"</span>
            <input type="file" class="visually-hidden" node_ref=input multiple=true on:change=on_change />
        </label>
    }
}
