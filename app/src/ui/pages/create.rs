//! Making a room: name, topic, join policy and member limit, each with its error beside it.

use domain::room::JoinPolicy;
use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::use_query_map;

use crate::{
    api::forms::CreateRoomForm,
    ui::components::widgets::{
        field_error, general_error, CardPage, Field, FormError, PolicyChoices,
    },
};

lazy_page!(CreateRoomRoute, CreateRoomPage);

#[component]
pub fn CreateRoomPage() -> impl IntoView {
    let action = ServerAction::<CreateRoomForm>::new();
    let answer = action.value();
    // What a browser without JavaScript typed, sent back with a refusal.
    let query = use_query_map();
    let echoed = move |key: &str| query.read_untracked().get(key).unwrap_or_default();
    let chosen = JoinPolicy::parse(&echoed("join_policy")).unwrap_or_default();
    view! {
        <CardPage title="New room">
            <h1>"Create a room"</h1>
            <FormError error=general_error(answer) />
            <ActionForm action>
                <Field
                    label="Name"
                    name="name"
                    value=echoed("name")
                    error=field_error(answer, "name")
                />
                <p class="hint">"1–64 characters. No other active room may have it."</p>
                <TopicField topic=echoed("topic") error=field_error(answer, "topic") />
                <PolicyChoices chosen ids="policy" error=field_error(answer, "join_policy") />
                <LimitField limit=echoed("max_members") error=field_error(answer, "max_members") />
                <button type="submit" class="button primary wide" disabled=move || action.pending().get()>
                    "Create room"
                </button>
            </ActionForm>
        </CardPage>
    }
    .into_any()
}

#[component]
fn TopicField(topic: String, error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for="field-topic">"Topic " <span class="muted">"(optional)"</span></label>
            <textarea
                id="field-topic"
                name="topic"
                rows="2"
                maxlength="300"
                aria-describedby="field-topic-error"
            >
                {topic}
            </textarea>
            <p class="field-error" id="field-topic-error" role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

#[component]
fn LimitField(limit: String, error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for="field-max_members">
                "Member limit " <span class="muted">"(optional, 2–100000)"</span>
            </label>
            <input
                id="field-max_members"
                name="max_members"
                type="number"
                min="2"
                max="100000"
                inputmode="numeric"
                value=limit
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby="field-max_members-error"
            />
            <p class="field-error" id="field-max_members-error" role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}
