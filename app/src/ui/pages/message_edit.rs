//! Editing one's own message, as a dialog over the room
//! (`/rooms/{id}/messages/{message}/edit`). Without JavaScript it is the same page and the
//! form posts; a refusal comes back here with the text as it was typed.

use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::use_query_map;

use crate::ui::components::widgets::refusal;
use crate::{
    api::forms::EditMessageForm,
    ui::components::message_dialog::{DialogButtons, MessageDialog, MessageFields},
};

#[component]
pub fn EditMessageDialog() -> impl IntoView {
    let edit = ServerAction::<EditMessageForm>::new();
    let error = refusal(edit);
    let typed = use_query_map().with_untracked(|q| q.get("body"));
    let body = move |route: crate::ui::components::message_dialog::MessageRoute,
                     message: domain::message::MessageView| {
        let text = typed.clone().unwrap_or_else(|| message.text().to_owned());
        let back = route.back.clone();
        view! {
            <ActionForm action=edit>
                <MessageFields route />
                <div class="field">
                    <label for="edit-body">"Message"</label>
                    <textarea id="edit-body" name="body" rows="4" maxlength="4000" required>
                        {text}
                    </textarea>
                    <p class="hint">"Everyone in the room sees it marked as edited. You and the room's admins can read what it said before."</p>
                </div>
                <DialogButtons back cancel="Cancel" submit="Save" error pending=edit.pending() />
            </ActionForm>
        }
    };
    view! { <MessageDialog title="Edit message" body /> }
}
