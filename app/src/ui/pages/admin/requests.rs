//! Requests to join, oldest first, each with Approve, Deny, and Decline and ban (with a
//! reason) for request spam.

use leptos::{form::ActionForm, prelude::*};

use super::data::{admin_path, after_action, Admin};
use crate::{
    api::forms::{ApproveRequestForm, DenyRequestForm},
    ui::components::widgets::{FormError, MemberFields, TimeAgo},
};

#[component]
pub fn RequestsSection(admin: Admin) -> impl IntoView {
    let room = admin.data.with_untracked(|v| v.room.id.clone());
    let approve = ServerAction::<ApproveRequestForm>::new();
    let deny = ServerAction::<DenyRequestForm>::new();
    let approve_error = after_action(approve, admin.version);
    let deny_error = after_action(deny, admin.version);
    let error = Signal::derive(move || approve_error.get().or_else(|| deny_error.get()));
    let base = admin_path(&room);
    let rows = move || {
        let requests = admin.data.with(|v| v.requests.clone());
        if requests.is_empty() {
            return view! { <p class="empty">"Nobody is waiting. Requests appear here, oldest first."</p> }.into_any();
        }
        let rows = requests
        .iter()
        .map(|r| {
            let name = r.user.username.clone();
            let (room_a, room_d, room_b) = (room.to_string(), room.to_string(), room.to_string());
            let (user_a, user_d, user_b) =
                (r.user.id.to_string(), r.user.id.to_string(), r.user.id.to_string());
            let (back_a, back_d, back_b) = (base.clone(), base.clone(), base.clone());
            let (approve_label, deny_label) = (format!("Approve {name}"), format!("Deny {name}"));
            let (ban_label, reason_label) =
                (format!("Decline and ban {name}"), format!("Why ban {name} (optional)"));
            view! {
                <li class="admin-item">
                    <span class="item-main"><strong>{name}</strong> " asked " <TimeAgo at=r.created_at.clone() /></span>
                    <ActionForm action=approve attr:class="inline-form">
                        <MemberFields room=room_a user=user_a back=back_a />
                        <button type="submit" class="button primary small" aria-label=approve_label>"Approve"</button>
                    </ActionForm>
                    <ActionForm action=deny attr:class="inline-form">
                        <MemberFields room=room_d user=user_d back=back_d />
                        <button type="submit" class="button secondary small" aria-label=deny_label>"Deny"</button>
                    </ActionForm>
                    <ActionForm action=deny attr:class="inline-form">
                        <MemberFields room=room_b user=user_b back=back_b />
                        <input type="hidden" name="ban" value="1" />
                        <input type="text" name="reason" maxlength="500" placeholder="Reason" aria-label=reason_label />
                        <button type="submit" class="button danger small" aria-label=ban_label>"Decline and ban"</button>
                    </ActionForm>
                </li>
            }
        })
        .collect_view();
        view! { <ul class="admin-list">{rows}</ul> }.into_any()
    };
    view! {
        <section class="card admin-section" id="requests" aria-labelledby="requests-title">
            <h2 id="requests-title">"Requests to join"</h2>
            <FormError error />
            {rows}
        </section>
    }
}
