//! Who is banned, by whom, why and until when, each with Unban; and banning someone who is
//! not a member, for good or for a while.

use leptos::{form::ActionForm, prelude::*};

use super::data::{admin_path, after_action, Admin};
use crate::{
    api::forms::{BanUserForm, UnbanForm},
    ui::components::{
        moderation::{DurationField, BAN_LENGTHS},
        widgets::{EndTime, FormError, MemberFields, TimeAgo},
    },
};

#[component]
pub fn BansSection(admin: Admin) -> impl IntoView {
    let room = admin.data.with_untracked(|v| v.room.id.clone());
    let unban = ServerAction::<UnbanForm>::new();
    let error = after_action(unban, admin.version);
    let base = admin_path(&room);
    let rows = move || {
        let bans = admin.data.with(|v| v.bans.clone());
        if bans.is_empty() {
            return view! { <p class="empty">"Nobody is banned."</p> }.into_any();
        }
        let rows = bans
        .iter()
        .map(|b| {
            let name = b.user.username.clone();
            let (room_id, user_id, back) = (room.to_string(), b.user.id.to_string(), base.clone());
            let label = format!("Unban {name}");
            view! {
                <li class="admin-item">
                    <span class="item-main">
                        <strong>{name}</strong>
                        {b.banned_by.as_ref().map(|by| format!(", by {}", by.username))}
                        ", " <TimeAgo at=b.created_at.clone() />
                        <span class="ban-term">
                            {match b.until.clone() {
                                Some(at) => view! { ", until " <EndTime at /> }.into_any(),
                                None => ", permanent".into_any(),
                            }}
                        </span>
                        {b.reason.clone().map(|r| view! { <span class="reason">{format!(": {r}")}</span> })}
                    </span>
                    <ActionForm action=unban attr:class="inline-form">
                        <MemberFields room=room_id user=user_id back=back />
                        <button type="submit" class="button secondary small" aria-label=label>"Unban"</button>
                    </ActionForm>
                </li>
            }
        })
        .collect_view();
        view! { <ul class="admin-list">{rows}</ul> }.into_any()
    };
    view! {
        <section class="card admin-section" id="bans" aria-labelledby="bans-title">
            <h2 id="bans-title">"Banned"</h2>
            <FormError error />
            {rows}
            <BanByName admin />
        </section>
    }
}

/// Banning someone who is not a member: by username or id.
#[component]
fn BanByName(admin: Admin) -> impl IntoView {
    let room = admin.data.with_untracked(|v| v.room.id.clone());
    let ban = ServerAction::<BanUserForm>::new();
    let error = after_action(ban, admin.version);
    view! {
        <ActionForm action=ban attr:class="ban-by-name">
            <input type="hidden" name="room_id" value=room.to_string() />
            <input type="hidden" name="back" value=admin_path(&room) />
            <div class="field" class:has-error=move || error.get().is_some()>
                <label for="ban-user">"Ban someone who is not a member"</label>
                <div class="search-row">
                    <input id="ban-user" name="user" required=true autocomplete="off" placeholder="Username or user id" aria-describedby="ban-user-error" />
                    <button type="submit" class="button secondary">"Ban"</button>
                </div>
                <label for="ban-reason" class="visually-hidden">"Reason"</label>
                <input id="ban-reason" name="reason" class="reason-input" placeholder="Reason (optional, they will see it)" maxlength="500" />
                <DurationField label="How long" choices=&BAN_LENGTHS id="ban-minutes" />
                <p class="field-error" id="ban-user-error" role="alert">{move || error.get()}</p>
            </div>
        </ActionForm>
    }
}
