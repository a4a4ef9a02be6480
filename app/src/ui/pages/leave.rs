//! Leaving a room, as a dialog over it (`/rooms/{id}/leave`): it says what will happen —
//! the room rules decide it from the member list — and asks to confirm. Without JavaScript
//! it is the same page, and the form posts.

use domain::RoomId;
use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::{
    api::forms::LeaveRoomForm,
    store::{text, use_store},
    ui::components::widgets::{refusal, Dialog, FormError},
};

#[component]
pub fn LeaveDialog() -> impl IntoView {
    let params = use_params_map();
    let room = RoomId::from(params.read_untracked().get("id").unwrap_or_default());
    let store = use_store();
    let leave = ServerAction::<LeaveRoomForm>::new();
    let error = refusal(leave);
    let consequence = {
        let room = room.clone();
        Memo::new(move |_| {
            store.with(|s| {
                let me = s.me.as_ref().map(|u| u.id.clone()).unwrap_or_default();
                s.conversation(&room)
                    .map(|c| text::leave_consequence(&c.members, &me))
                    .unwrap_or_default()
            })
        })
    };
    let name = {
        let room = room.clone();
        store
            .with_untracked(|s| s.room_name(&room))
            .unwrap_or_default()
    };
    let back = format!("/rooms/{room}");
    let navigate = use_navigate();
    let close = {
        let back = back.clone();
        Callback::new(move |()| navigate(&back, Default::default()))
    };
    view! {
        <Dialog title=format!("Leave #{name}?") on_close=close>
            <p class="consequence">{move || consequence.get()}</p>
            <ActionForm action=leave>
                <input type="hidden" name="room_id" value=room.to_string() />
                <FormError error />
                <div class="dialog-actions">
                    <a href=back.clone() class="button secondary">"Stay"</a>
                    <button type="submit" class="button danger" disabled=move || leave.pending().get()>
                        "Leave the room"
                    </button>
                </div>
            </ActionForm>
        </Dialog>
    }
}
