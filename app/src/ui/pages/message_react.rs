//! The reaction picker, as a dialog over the room (`/rooms/{id}/messages/{message}/react`):
//! the quick row, then the rest of the catalogue. Each emoji is a button of its own small
//! form, so the page works without JavaScript; with it, the reaction goes over the live
//! channel and the picker closes.

use domain::{
    message::MessageView,
    reaction::{CATALOGUE, QUICK},
};
use leptos::prelude::*;

use crate::ui::components::{
    message::ReactButton,
    message_dialog::{MessageDialog, MessageRoute, Quoted},
};

lazy_page!(ReactionPickerRoute, ReactionPickerDialog);

#[component]
pub fn ReactionPickerDialog() -> impl IntoView {
    // Made here, where the router is at hand; the body runs once the message is loaded.
    let close = MessageRoute::from_params().close();
    let body = move |route: MessageRoute, message: MessageView| {
        let button = |emoji: &'static str| {
            let on = !message.reactions.iter().any(|r| r.emoji == emoji && r.me);
            let label = if on {
                format!("React with {emoji}")
            } else {
                format!("Take back {emoji}")
            };
            view! {
                <ReactButton
                    message=message.clone()
                    emoji
                    on
                    class=if on { "pick" } else { "pick mine" }
                    label
                    on_done=close
                />
            }
        };
        let quick = QUICK.iter().map(|e| button(e)).collect_view();
        let more = CATALOGUE[QUICK.len()..]
            .iter()
            .map(|e| button(e))
            .collect_view();
        view! {
            <Quoted message=message.clone() />
            <div class="picker-grid" role="group" aria-label="Quick reactions">{quick}</div>
            <h3 class="picker-heading">"More"</h3>
            <div class="picker-grid" role="group" aria-label="More reactions">{more}</div>
            <div class="dialog-actions">
                <a href=route.back.clone() class="button secondary">"Close"</a>
            </div>
        }
    };
    view! { <MessageDialog title="React" body /> }
}
