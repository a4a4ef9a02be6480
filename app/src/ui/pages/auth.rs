//! Sign-up and login. Both forms post to server functions: hydrated, the page stays and
//! shows errors in place; with JavaScript off, the browser posts and comes back with the
//! error and the typed username in the address.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::ui::components::widgets::{Field, FormError};
use crate::{
    api::auth::{LoginForm, SignupForm},
    AppError,
};

/// The username the server echoed back after a failed plain form post.
fn echoed_username() -> String {
    use_query_map()
        .read_untracked()
        .get("username")
        .unwrap_or_default()
}

/// The error of the form's last submission, if it failed.
fn last_error(
    value: impl Get<Value = Option<Result<(), AppError>>> + Send + Sync + 'static,
) -> Signal<Option<AppError>> {
    Signal::derive(move || value.get().and_then(Result::err))
}

lazy_page!(SignupRoute, SignupPage);

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<SignupForm>::new();
    let error = last_error(action.value());
    view! {
        <Title text="Sign up" />
        <section class="card auth">
            <h1>"Create your account"</h1>
            <p class="tagline">"Pick a name people will know you by. You can join rooms right after."</p>
            <FormError error=Signal::derive(move || error.get().and_then(|e| e.general())) />
            <ActionForm action>
                <Field
                    label="Username"
                    name="username"
                    value=echoed_username()
                    autocomplete="username"
                    error=Signal::derive(move || error.get().and_then(|e| e.for_field("username")))
                />
                <p class="hint">"3–32 letters, digits, '_', '.' or '-'."</p>
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    error=Signal::derive(move || error.get().and_then(|e| e.for_field("password")))
                />
                <p class="hint">"At least 8 characters."</p>
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    "Sign up"
                </button>
            </ActionForm>
            <p class="switch">"Already have an account? " <A href="/login">"Log in"</A></p>
        </section>
    }
}

lazy_page!(LoginRoute, LoginPage);

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<LoginForm>::new();
    let error = last_error(action.value());
    // Where deleting an account lands.
    let deleted = use_query_map()
        .read_untracked()
        .get("account")
        .is_some_and(|v| v == "deleted");
    view! {
        <Title text="Log in" />
        <section class="card auth">
            <h1>"Log in to Parlor"</h1>
            <p class="tagline">"Chat rooms for small teams and communities."</p>
            <Show when=move || deleted>
                <p class="status-line" role="status">"Your account was deleted."</p>
            </Show>
            <FormError error=Signal::derive(move || error.get().and_then(|e| e.general())) />
            <ActionForm action>
                <Field
                    label="Username"
                    name="username"
                    value=echoed_username()
                    autocomplete="username"
                    error=Signal::derive(move || error.get().and_then(|e| e.for_field("username")))
                />
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="current-password"
                    error=Signal::derive(move || error.get().and_then(|e| e.for_field("password")))
                />
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    "Log in"
                </button>
            </ActionForm>
            <p class="switch">"New here? " <A href="/signup">"Create an account"</A></p>
        </section>
    }
}
