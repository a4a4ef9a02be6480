//! Deleting a message, after a confirm step (`/rooms/{id}/messages/{message}/delete`). Its
//! author deletes it with no questions; an admin deleting someone else's may give a reason,
//! which the tombstone shows and the moderation log keeps.

use leptos::{form::ActionForm, prelude::*};

use crate::ui::components::widgets::refusal;
use crate::{
    api::forms::DeleteMessageForm,
    store::use_store,
    ui::components::message_dialog::{
        DialogButtons, MessageDialog, MessageFields, MessageRoute, Quoted,
    },
};

#[component]
pub fn DeleteMessageDialog() -> impl IntoView {
    let delete = ServerAction::<DeleteMessageForm>::new();
    let error = refusal(delete);
    let me = use_store().with_untracked(|s| s.me.as_ref().map(|u| u.id.clone()));
    let body = move |route: MessageRoute, message: domain::message::MessageView| {
        let someone_elses = message.author.as_ref().map(|a| &a.id) != me.as_ref();
        let says = if someone_elses {
            "It is removed for everyone, with its file and earlier versions. The room shows that an admin deleted it."
        } else {
            "It is removed for everyone, with its file and earlier versions. The room shows that a message was deleted."
        };
        let reason = someone_elses.then(|| view! {
            <div class="field">
                <label for="delete-reason">"Reason " <span class="muted">"(optional, shown in its place and kept in the moderation log)"</span></label>
                <textarea id="delete-reason" name="reason" rows="2" maxlength="500"></textarea>
            </div>
        });
        let back = route.back.clone();
        view! {
            <Quoted message />
            <p>{says}</p>
            <ActionForm action=delete>
                <MessageFields route />
                {reason}
                <DialogButtons
                    back
                    cancel="Keep it"
                    submit="Delete message"
                    error
                    pending=delete.pending()
                    danger=true
                />
            </ActionForm>
        }
    };
    view! { <MessageDialog title="Delete this message?" body /> }
}
