//! Inviting someone by username or id, with suggestions as you type, and the invitations
//! still waiting for an answer.

use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::use_query_map;

use super::data::{admin_path, after_action, Admin};
use crate::{
    api::{forms::InviteForm, rooms::search_usernames},
    ui::components::widgets::TimeAgo,
};

#[component]
pub fn InviteSection(admin: Admin) -> impl IntoView {
    view! {
        <section class="card admin-section" id="invite" aria-labelledby="invite-title">
            <h2 id="invite-title">"Invite someone"</h2>
            <InviteByName admin />
            <h3>"Waiting for an answer"</h3>
            <WaitingInvites admin />
        </section>
    }
}

/// The invite form: a username or id, with the usernames that start with what is typed.
#[component]
fn InviteByName(admin: Admin) -> impl IntoView {
    let room = admin.data.with_untracked(|v| v.room.id.clone());
    let invite = ServerAction::<InviteForm>::new();
    let error = after_action(invite, admin.version);
    let query = use_query_map();
    let echoed = query.read_untracked().get("user").unwrap_or_default();
    let (suggestions, suggest) = username_suggestions();
    view! {
        <ActionForm action=invite>
            <input type="hidden" name="room_id" value=room.to_string() />
            <input type="hidden" name="back" value=admin_path(&room) />
            <div class="field" class:has-error=move || error.get().is_some()>
                <label for="invite-user">"Username or user id"</label>
                <div class="search-row">
                    <input
                        id="invite-user"
                        name="user"
                        required=true
                        autocomplete="off"
                        spellcheck="false"
                        list="invite-suggestions"
                        value=echoed
                        aria-describedby="invite-user-error invite-hint"
                        on:input=suggest
                    />
                    <button type="submit" class="button primary" disabled=move || invite.pending().get()>"Invite"</button>
                </div>
                <datalist id="invite-suggestions">
                    {move || suggestions.get().into_iter().map(|name| view! { <option value=name></option> }).collect_view()}
                </datalist>
                <p class="hint" id="invite-hint">"They get a notification with the room's name and id; the invite lasts 7 days."</p>
                <p class="field-error" id="invite-user-error" role="alert">{move || error.get()}</p>
                <Show when=move || matches!(invite.value().get(), Some(Ok(())))>
                    <p class="status-line" role="status">"Invited."</p>
                </Show>
            </div>
        </ActionForm>
    }
}

/// Suggestions as you type (usernames only), fetched by the browser: a resource here would
/// hold the server-rendered page back, waiting for input that never comes. The list, and
/// the input handler that fills it.
fn username_suggestions() -> (RwSignal<Vec<String>>, impl Fn(leptos::ev::Event) + Copy) {
    let suggestions = RwSignal::new(Vec::<String>::new());
    let suggest = move |ev: leptos::ev::Event| {
        let prefix = event_target_value(&ev);
        leptos::task::spawn_local(async move {
            let found = if prefix.trim().is_empty() {
                Vec::new()
            } else {
                search_usernames(prefix)
                    .await
                    .map(|u| u.usernames)
                    .unwrap_or_default()
            };
            suggestions.set(found);
        });
    };
    (suggestions, suggest)
}

/// Invitations not yet answered: who, by whom, until when.
#[component]
fn WaitingInvites(admin: Admin) -> impl IntoView {
    move || {
        let invites = admin.data.with(|v| v.invites.clone());
        if invites.is_empty() {
            return view! { <p class="empty">"No invitation is waiting."</p> }.into_any();
        }
        let rows = invites
            .iter()
            .map(|i| {
                view! {
                    <li class="admin-item">
                        <span class="item-main">
                            <strong>{i.user.username.clone()}</strong>
                            {i.invited_by.as_ref().map(|by| format!(" invited by {}", by.username))}
                            " · expires " <TimeAgo at=i.expires_at.clone() />
                        </span>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="admin-list">{rows}</ul> }.into_any()
    }
}
