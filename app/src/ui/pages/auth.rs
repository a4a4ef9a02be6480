//! Sign-up and login. Both forms post to server functions: hydrated, the page stays and
//! shows errors in place; with JavaScript off, the browser posts and comes back with the
//! error and the typed username in the address.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::api::auth::{LoginForm, SignupForm};
use crate::ui::components::widgets::{field_error, general_error, Field, FormError};

/// The username the server echoed back after a failed plain form post.
fn echoed_username() -> String {
    use_query_map()
        .read_untracked()
        .get("username")
        .unwrap_or_default()
}

lazy_page!(SignupRoute, SignupPage);

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<SignupForm>::new();
    let answer = action.value();
    view! {
        <Title text="Sign up" />
        <section class="card auth">
            <h1>"Create your account"</h1>
            <p class="tagline">"Pick a name people will know you by. You can join rooms right after."</p>
            <FormError error=general_error(answer) />
            <ActionForm action>
                <Field
                    label="Username"
                    name="username"
                    value=echoed_username()
                    autocomplete="username"
                    error=field_error(answer, "username")
                />
                <p class="hint">"3–32 letters, digits, '_', '.' or '-'."</p>
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    error=field_error(answer, "password")
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
    let answer = action.value();
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
            <FormError error=general_error(answer) />
            <ActionForm action>
                <Field
                    label="Username"
                    name="username"
                    value=echoed_username()
                    autocomplete="username"
                    error=field_error(answer, "username")
                />
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="current-password"
                    error=field_error(answer, "password")
                />
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    "Log in"
                </button>
            </ActionForm>
            <p class="switch">"New here? " <A href="/signup">"Create an account"</A></p>
        </section>
    }
}
