//! The room's settings: topic, who can join, member limit.

use domain::room::JoinPolicy;
use leptos::{form::ActionForm, prelude::*};

use super::data::{admin_path, Admin};
use crate::{api::forms::UpdateRoomForm, store::text};

#[component]
pub fn SettingsSection(admin: Admin) -> impl IntoView {
    let v = admin.data.get_untracked();
    let room = v.room.id.clone();
    let update = ServerAction::<UpdateRoomForm>::new();
    let value = update.value();
    Effect::new(move |_| {
        if matches!(value.get(), Some(Ok(()))) {
            admin.version.update(|n| *n += 1);
        }
    });
    let error = Signal::derive(move || value.get().and_then(Result::err));
    let field_error = move |field: &'static str| {
        Signal::derive(move || error.get().and_then(|e| e.for_field(field)))
    };
    let general = Signal::derive(move || error.get().and_then(|e| e.general()));
    let limit = v
        .room
        .max_members
        .map(|n| n.to_string())
        .unwrap_or_default();
    view! {
        <section class="card admin-section" id="settings" aria-labelledby="settings-title">
            <h2 id="settings-title">"Settings"</h2>
            <ActionForm action=update>
                <input type="hidden" name="room_id" value=room.to_string() />
                <input type="hidden" name="back" value=admin_path(&room) />
                <Show when=move || general.get().is_some()>
                    <p class="form-error" role="alert">{move || general.get()}</p>
                </Show>
                <div class="field" class:has-error=move || field_error("topic").get().is_some()>
                    <label for="settings-topic">"Topic"</label>
                    <textarea id="settings-topic" name="topic" rows="2" maxlength="300" aria-describedby="settings-topic-error">
                        {v.room.topic.clone().unwrap_or_default()}
                    </textarea>
                    <p class="field-error" id="settings-topic-error" role="alert">{move || field_error("topic").get()}</p>
                </div>
                <fieldset class="field choices">
                    <legend>"Who can join"</legend>
                    {JoinPolicy::ALL.into_iter().map(|p| {
                        let id = format!("settings-policy-{}", p.as_str());
                        view! {
                            <div class="choice">
                                <input type="radio" name="join_policy" id=id.clone() value=p.as_str() checked=p == v.room.join_policy />
                                <label for=id>
                                    <strong>{text::policy_label(p).0}</strong>
                                    <span class="muted">{text::policy_label(p).1}</span>
                                </label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <div class="field" class:has-error=move || field_error("max_members").get().is_some()>
                    <label for="settings-max">"Member limit " <span class="muted">"(empty for none)"</span></label>
                    <input id="settings-max" name="max_members" type="number" min="2" max="100000" inputmode="numeric" value=limit aria-describedby="settings-max-error" />
                    <p class="field-error" id="settings-max-error" role="alert">{move || field_error("max_members").get()}</p>
                </div>
                <button type="submit" class="button primary" disabled=move || update.pending().get()>"Save settings"</button>
                <Show when=move || matches!(value.get(), Some(Ok(())))>
                    <span class="status-inline" role="status">" Saved."</span>
                </Show>
            </ActionForm>
        </section>
    }
}
