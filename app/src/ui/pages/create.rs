//! Making a room: name, topic, join policy and member limit, each with its error beside it.

use domain::room::JoinPolicy;
use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::use_query_map;

use crate::{
    api::forms::CreateRoomForm,
    store::text,
    ui::components::widgets::{field_error, general_error, CardPage, Field, FormError},
};

lazy_page!(CreateRoomRoute, CreateRoomPage);

#[component]
pub fn CreateRoomPage() -> impl IntoView {
    let action = ServerAction::<CreateRoomForm>::new();
    let error = action.value();
    // What a browser without JavaScript typed, sent back with a refusal.
    let query = use_query_map();
    let echoed = move |key: &str| query.read_untracked().get(key).unwrap_or_default();
    let chosen = JoinPolicy::parse(&echoed("join_policy")).unwrap_or_default();
    view! {
        <CardPage title="New room">
            <h1>"Create a room"</h1>
            <FormError error=general_error(error) />
            <ActionForm action>
                <Field
                    label="Name"
                    name="name"
                    value=echoed("name")
                    error=field_error(error, "name")
                />
                <p class="hint">"1–64 characters. No other active room may have it."</p>
                <TopicField topic=echoed("topic") error=field_error(error, "topic") />
                <PolicyChoices chosen error=field_error(error, "join_policy") />
                <LimitField limit=echoed("max_members") error=field_error(error, "max_members") />
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

/// Who can join: one radio button per policy, each saying what it means.
#[component]
fn PolicyChoices(chosen: JoinPolicy, error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <fieldset class="field choices" aria-describedby="field-join_policy-error">
            <legend>"Who can join"</legend>
            {JoinPolicy::ALL
                .into_iter()
                .map(|p| {
                    let (label, hint) = text::policy_label(p);
                    let id = format!("policy-{}", p.as_str());
                    view! {
                        <div class="choice">
                            <input
                                type="radio"
                                name="join_policy"
                                id=id.clone()
                                value=p.as_str()
                                checked=p == chosen
                            />
                            <label for=id>
                                <strong>{label}</strong>
                                <span class="muted">{hint}</span>
                            </label>
                        </div>
                    }
                })
                .collect_view()}
            <p class="field-error" id="field-join_policy-error" role="alert">
                {move || error.get()}
            </p>
        </fieldset>
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
