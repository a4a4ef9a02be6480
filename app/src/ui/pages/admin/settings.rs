//! The room's settings: topic, who can join, member limit, slow mode, announcement room.

use domain::moderation::wait_words;
use leptos::{form::ActionForm, prelude::*};

use super::data::{admin_path, Admin};
use crate::{
    api::forms::UpdateRoomForm,
    ui::components::widgets::{field_error, general_error, PolicyChoices},
};

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
    let error_of = move |field: &'static str| field_error(value, field);
    let general = general_error(value);
    let limit = v
        .room
        .max_members
        .map(|n| n.to_string())
        .unwrap_or_default();
    let slow = v.room.slow_mode_seconds;
    let slow_choices = choices(&SLOW_MODE, slow, 1000);
    // The form speaks hours; a cooldown set through the API in other units shows rounded up.
    let cooldown = v.room.request_cooldown_seconds.div_ceil(3600);
    let cooldown_choices = choices(&COOLDOWN_HOURS, cooldown, 3_600_000);
    view! {
        <section class="card admin-section" id="settings" aria-labelledby="settings-title">
            <h2 id="settings-title">"Settings"</h2>
            <ActionForm action=update>
                <input type="hidden" name="room_id" value=room.to_string() />
                <input type="hidden" name="back" value=admin_path(&room) />
                <Show when=move || general.get().is_some()>
                    <p class="form-error" role="alert">{move || general.get()}</p>
                </Show>
                <div class="field" class:has-error=move || error_of("topic").get().is_some()>
                    <label for="settings-topic">"Topic"</label>
                    <textarea id="settings-topic" name="topic" rows="2" maxlength="300" aria-describedby="settings-topic-error">
                        {v.room.topic.clone().unwrap_or_default()}
                    </textarea>
                    <p class="field-error" id="settings-topic-error" role="alert">{move || error_of("topic").get()}</p>
                </div>
                <PolicyChoices chosen=v.room.join_policy ids="settings-policy" />
                <div class="field" class:has-error=move || error_of("max_members").get().is_some()>
                    <label for="settings-max">"Member limit " <span class="muted">"(empty for none)"</span></label>
                    <input id="settings-max" name="max_members" type="number" min="2" max="100000" inputmode="numeric" value=limit aria-describedby="settings-max-error" />
                    <p class="field-error" id="settings-max-error" role="alert">{move || error_of("max_members").get()}</p>
                </div>
                <div class="field" class:has-error=move || error_of("slow_mode_seconds").get().is_some()>
                    <label for="settings-slow">"Slow mode " <span class="muted">"(time between one member's messages; admins are exempt)"</span></label>
                    <select id="settings-slow" name="slow_mode_seconds" aria-describedby="settings-slow-error">
                        {slow_choices.into_iter().map(|(s, words)| view! {
                            <option value=s.to_string() selected=s == slow>{words}</option>
                        }).collect_view()}
                    </select>
                    <p class="field-error" id="settings-slow-error" role="alert">{move || error_of("slow_mode_seconds").get()}</p>
                </div>
                <div class="field" class:has-error=move || error_of("request_cooldown_hours").get().is_some() || error_of("request_cooldown_seconds").get().is_some()>
                    <label for="settings-cooldown">"After a declined request " <span class="muted">"(how long before the same person may ask again)"</span></label>
                    <select id="settings-cooldown" name="request_cooldown_hours" aria-describedby="settings-cooldown-error">
                        {cooldown_choices.into_iter().map(|(h, words)| view! {
                            <option value=h.to_string() selected=h == cooldown>{words}</option>
                        }).collect_view()}
                    </select>
                    <p class="field-error" id="settings-cooldown-error" role="alert">
                        {move || error_of("request_cooldown_hours").get().or_else(|| error_of("request_cooldown_seconds").get())}
                    </p>
                </div>
                // Unticked, the box posts nothing, and that turns it off: it must be here.
                <div class="field choice">
                    <input type="checkbox" id="settings-announcement" name="announcement" value="on" checked=v.room.announcement />
                    <label for="settings-announcement">
                        <strong>"Announcement room"</strong>
                        <span class="muted">"Only admins post; members read and react."</span>
                    </label>
                </div>
                <button type="submit" class="button primary" disabled=move || update.pending().get()>"Save settings"</button>
                <Show when=move || matches!(value.get(), Some(Ok(())))>
                    <span class="status-inline" role="status">" Saved."</span>
                </Show>
            </ActionForm>
        </section>
    }
}

/// A select's choices (a value, in words): `list`, and `current` after them where the list
/// lacks it (it was set through the API), so saving the form keeps it. `ms` is one unit of
/// the value in milliseconds, to say it in words.
fn choices(list: &[(u32, &str)], current: u32, ms: u64) -> Vec<(u32, String)> {
    let extra = (!list.iter().any(|&(v, _)| v == current))
        .then(|| (current, wait_words(u64::from(current) * ms)));
    list.iter()
        .map(|&(v, words)| (v, words.to_owned()))
        .chain(extra)
        .collect()
}

/// Slow mode's choices: seconds between one member's messages, and how that reads.
const SLOW_MODE: [(u32, &str); 9] = [
    (0, "Off"),
    (5, "5 s"),
    (10, "10 s"),
    (30, "30 s"),
    (60, "1 min"),
    (300, "5 min"),
    (900, "15 min"),
    (3600, "1 h"),
    (21600, "6 h"),
];

/// A declined requester's wait before asking again, in hours (the form's unit).
const COOLDOWN_HOURS: [(u32, &str); 7] = [
    (0, "They may ask again at once"),
    (1, "1 hour"),
    (6, "6 hours"),
    (24, "1 day"),
    (72, "3 days"),
    (168, "1 week"),
    (720, "30 days"),
];
