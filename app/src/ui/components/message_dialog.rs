//! What the dialogs over one message share (`/rooms/{id}/messages/{message}/…`): which
//! message the address names, the message itself as the server has it now, and closing
//! back to it in the room.

use domain::{
    message::{MessageVersion, MessageView},
    RoomId,
};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate, use_params_map};

use super::widgets::{Dialog, FormError};
use crate::{
    api::messages::{get_message, message_versions},
    AppError,
};

/// The room and message an address names, and where closing its dialog goes.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRoute {
    pub room: RoomId,
    pub message_id: String,
    /// The room's page, at the message.
    pub back: String,
}

impl MessageRoute {
    pub fn from_params() -> Self {
        let params = use_params_map();
        let (room, message_id) = params.with_untracked(|p| {
            (
                RoomId::from(p.get("id").unwrap_or_default()),
                p.get("message").unwrap_or_default(),
            )
        });
        let back = crate::api::forms::message_path(&room, &message_id);
        Self {
            room,
            message_id,
            back,
        }
    }

    /// Esc and Cancel: back to the room, at the message.
    pub fn close(&self) -> Callback<()> {
        let navigate = use_navigate();
        let back = self.back.clone();
        Callback::new(move |()| navigate(&back, Default::default()))
    }

    /// The message as it is now, loaded by the room's page (see [`DialogData`]).
    pub fn message(&self) -> Resource<Result<Option<MessageView>, AppError>> {
        expect_context::<DialogData>().message
    }
}

/// What the dialogs over a message show, loaded by the room's page from the address before
/// anything else in it waits: a resource made after an `.await` (inside a `Suspend`) can be
/// numbered differently when the server renders and when the browser hydrates, and the
/// page then fails to hydrate. `None` while no message dialog is open.
#[derive(Clone, Copy)]
pub struct DialogData {
    pub message: Resource<Result<Option<MessageView>, AppError>>,
    pub versions: Resource<Result<Option<Vec<MessageVersion>>, AppError>>,
}

impl DialogData {
    /// Made at the top of the room's page, and given to the dialogs below it.
    pub fn provide() {
        let location = use_location();
        // `/rooms/{id}/messages/{message}/{dialog}`: the message and the dialog.
        let open = Memo::new(move |_| {
            let path = location.pathname.get();
            let mut parts = path.trim_matches('/').split('/');
            match (
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
            ) {
                (Some("rooms"), Some(_), Some("messages"), Some(id), Some(dialog)) => {
                    Some((id.to_owned(), dialog.to_owned()))
                }
                _ => None,
            }
        });
        let message = Resource::new_blocking(
            move || open.get().map(|(id, _)| id),
            |id| async move {
                match id {
                    Some(id) => get_message(id).await.map(|r| Some(r.message)),
                    None => Ok(None),
                }
            },
        );
        let versions = Resource::new_blocking(
            move || {
                open.get()
                    .filter(|(_, d)| d == "versions")
                    .map(|(id, _)| id)
            },
            |id| async move {
                match id {
                    Some(id) => message_versions(id).await.map(|r| Some(r.versions)),
                    None => Ok(None),
                }
            },
        );
        provide_context(Self { message, versions });
    }
}

/// The message a dialog is about, quoted as it stands in the room.
#[component]
pub fn Quoted(message: MessageView) -> impl IntoView {
    let who = message
        .author
        .as_ref()
        .map_or_else(|| "someone".to_owned(), |a| a.username.clone());
    view! {
        <blockquote class="quoted">
            <p class="quoted-author">{who}</p>
            <p class="quoted-text">{message.text().to_owned()}</p>
        </blockquote>
    }
}

/// A dialog over one message: the message is loaded (on the server too, so the page works
/// without JavaScript), a refusal shows in its place, and `body` makes the rest of it.
#[component]
pub fn MessageDialog<F, V>(title: &'static str, body: F) -> impl IntoView
where
    F: Fn(MessageRoute, MessageView) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let route = MessageRoute::from_params();
    let message = route.message();
    let close = route.close();
    let content = move || {
        let (route, body) = (route.clone(), body.clone());
        Suspend::new(async move {
            match message.await {
                Ok(Some(m)) => body(route, m).into_any(),
                Ok(None) => ().into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.0.message}</p> }.into_any(),
            }
        })
    };
    view! {
        <Dialog title=title.to_owned() on_close=close>
            <Suspense fallback=|| view! { <p class="loading">"Loading the message…"</p> }>
                {content}
            </Suspense>
        </Dialog>
    }
}

/// The hidden fields every form about one message posts.
#[component]
pub fn MessageFields(route: MessageRoute) -> impl IntoView {
    view! {
        <input type="hidden" name="room_id" value=route.room.to_string() />
        <input type="hidden" name="message_id" value=route.message_id />
    }
}

/// A dialog form's error and its two ways out: back to the message, or do it.
#[component]
pub fn DialogButtons(
    back: String,
    cancel: &'static str,
    submit: &'static str,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(into)] pending: Signal<bool>,
    #[prop(optional)] danger: bool,
) -> impl IntoView {
    view! {
        <FormError error />
        <div class="dialog-actions">
            <a href=back class="button secondary">{cancel}</a>
            <button
                type="submit"
                class=if danger { "button danger" } else { "button primary" }
                disabled=move || pending.get()
            >
                {submit}
            </button>
        </div>
    }
}
