//! Your account: who you are to others, a new password (which signs out every other
//! session), "log out everywhere", and deleting the account (docs/RULES.md §1). Each form
//! posts to a server function; with JavaScript off the browser posts and comes back here.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::auth::{ChangePasswordForm, DeleteAccountForm, LogoutAllForm},
    store::use_store,
    ui::components::{
        drawer::PageBar,
        widgets::{Field, FormError},
    },
    AppError,
};

/// A field's error from a form's last submission, if it failed there.
fn field_error(
    value: impl Get<Value = Option<Result<(), AppError>>> + Send + Sync + 'static,
    field: &'static str,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        value
            .get()
            .and_then(Result::err)
            .and_then(|e| e.for_field(field))
    })
}

/// An error of the form's last submission that belongs to no single field.
fn general_error(
    value: impl Get<Value = Option<Result<(), AppError>>> + Send + Sync + 'static,
) -> Signal<Option<String>> {
    Signal::derive(move || value.get().and_then(Result::err).and_then(|e| e.general()))
}

lazy_page!(AccountRoute, AccountPage);

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Your account" />
        <PageBar title="Your account" />
        <main class="page account" id="main">
            <WhoYouAre />
            <ChangePassword />
            <LogOutEverywhere />
            <DeleteAccount />
        </main>
    }
    .into_any()
}

/// Your username and user id: what others invite you by.
#[component]
fn WhoYouAre() -> impl IntoView {
    let store = use_store();
    let me = Memo::new(move |_| store.with(|s| s.me.clone()));
    view! {
        <section class="card">
            <h1>"Your account"</h1>
            <dl class="account-facts">
                <dt>"Username"</dt>
                <dd>{move || me.get().map(|u| u.username).unwrap_or_default()}</dd>
                <dt>"User id"</dt>
                <dd>
                    <code class="user-id">{move || me.get().map(|u| u.id.to_string()).unwrap_or_default()}</code>
                </dd>
            </dl>
            <p class="hint">"Room admins can invite you by either."</p>
        </section>
    }
}

#[component]
fn ChangePassword() -> impl IntoView {
    let change = ServerAction::<ChangePasswordForm>::new();
    // A browser without JavaScript comes back with `?password=changed` when it worked.
    let changed_without_js = use_query_map()
        .read_untracked()
        .get("password")
        .is_some_and(|v| v == "changed");
    let changed = move || changed_without_js || matches!(change.value().get(), Some(Ok(())));
    view! {
        <section class="card" aria-labelledby="password-heading">
            <h2 id="password-heading">"Change your password"</h2>
            <p class="muted">"Every other browser signed in as you is signed out; this one stays."</p>
            <Show when=changed>
                <p class="status-line" role="status">
                    "Password changed. Your other sessions were signed out."
                </p>
            </Show>
            <FormError error=general_error(change.value()) />
            <ActionForm action=change>
                <Field
                    label="Current password"
                    name="current_password"
                    kind="password"
                    autocomplete="current-password"
                    error=field_error(change.value(), "current_password")
                />
                <Field
                    label="New password"
                    name="new_password"
                    kind="password"
                    autocomplete="new-password"
                    error=field_error(change.value(), "new_password")
                />
                <p class="hint">"At least 8 characters."</p>
                <button type="submit" class="button primary" disabled=move || change.pending().get()>
                    "Change password"
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
fn LogOutEverywhere() -> impl IntoView {
    let everywhere = ServerAction::<LogoutAllForm>::new();
    view! {
        <section class="card" aria-labelledby="everywhere-heading">
            <h2 id="everywhere-heading">"Log out everywhere"</h2>
            <p class="muted">
                "Signs you out of every browser and device, this one included. Use it if you signed in somewhere you no longer trust."
            </p>
            <FormError error=general_error(everywhere.value()) />
            <ActionForm action=everywhere>
                <button type="submit" class="button" disabled=move || everywhere.pending().get()>
                    "Log out everywhere"
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
fn DeleteAccount() -> impl IntoView {
    let delete = ServerAction::<DeleteAccountForm>::new();
    // Deleted: leave the app for the login page with a full load, as the live channel does
    // when it hears of it, so the two cannot land in different places.
    Effect::new(move |_| {
        if matches!(delete.value().get(), Some(Ok(()))) {
            #[cfg(feature = "hydrate")]
            let _ = window()
                .location()
                .assign(crate::api::auth::ACCOUNT_DELETED_PAGE);
        }
    });
    view! {
        <section class="card danger-zone" aria-labelledby="delete-heading">
            <h2 id="delete-heading">"Delete your account"</h2>
            <p class="muted">
                "You leave every room, as if you left each one yourself: if you were its last admin, the member who joined earliest becomes admin. Your messages stay, shown as from “deleted user”. Your username becomes free for anyone. This cannot be undone."
            </p>
            <FormError error=general_error(delete.value()) />
            <ActionForm action=delete>
                <Field
                    label="Your password, to confirm"
                    name="password"
                    kind="password"
                    autocomplete="current-password"
                    error=field_error(delete.value(), "password")
                />
                <button type="submit" class="button danger" disabled=move || delete.pending().get()>
                    "Delete my account"
                </button>
            </ActionForm>
        </section>
    }
}
