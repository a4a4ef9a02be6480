//! Your account: who you are to others, a new password (which signs out every other
//! session and revokes every access token), access tokens for scripts and the terminal
//! client, "log out everywhere", and deleting the account (docs/RULES.md §1). Each form
//! posts to a server function; with JavaScript off the browser posts and comes back here.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use domain::token::{TokenScope, TokenView};

use crate::{
    api::{
        auth::{ChangePasswordForm, DeleteAccountForm, LogoutAllForm},
        tokens::{list_tokens, CreateTokenForm, CreatedToken, RevokeTokenForm},
    },
    store::use_store,
    ui::components::{
        drawer::PageBar,
        widgets::{field_error, general_error, EndTime, ErrorPanel, Field, FormError, TimeAgo},
    },
};

lazy_page!(AccountRoute, AccountPage);

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Your account" />
        <PageBar title="Your account" />
        <main class="page account" id="main">
            <WhoYouAre />
            <ChangePassword />
            <AccessTokens />
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
            <p class="muted">
                "Every other browser signed in as you is signed out, and every access token is revoked; this one stays."
            </p>
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

/// How long a new token may live, as the form offers it ("" lives until revoked).
const LIFETIMES: [(&str, &str); 5] = [
    ("7", "7 days"),
    ("30", "30 days"),
    ("90", "90 days"),
    ("365", "A year"),
    ("", "Until revoked"),
];

fn scope_words(scope: TokenScope) -> &'static str {
    match scope {
        TokenScope::Read => "Read",
        TokenScope::Write => "Read and write",
    }
}

/// Access tokens (docs/RULES.md §1): the list, with Revoke; a form for a new one; and the
/// new one's secret, told once.
#[component]
fn AccessTokens() -> impl IntoView {
    let create = ServerAction::<CreateTokenForm>::new();
    let revoke = ServerAction::<RevokeTokenForm>::new();
    let listed = Resource::new_blocking(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    // A hydrated page's form answers with the token; a browser's own post comes back
    // here, and the list tells it (once).
    let made = Signal::derive(move || match create.value().get() {
        Some(Ok(Some(token))) => Some(token),
        _ => None,
    });
    view! {
        <section class="card" id="tokens" aria-labelledby="tokens-heading">
            <h2 id="tokens-heading">"Access tokens"</h2>
            <p class="muted">
                "For scripts, bots and the terminal client (parlor-cli). A token acts as you with "
                <code>"Authorization: Bearer"</code>
                ": it reads, or reads and writes, and never changes your account."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading your tokens…"</p> }>
                {move || Suspend::new(async move {
                    match listed.await {
                        Ok(list) => {
                            let fresh = list.fresh.clone();
                            // Told only while it is listed: a revoke takes it away too.
                            let listed: Vec<_> = list.tokens.iter().map(|t| t.id.clone()).collect();
                            let told = Signal::derive(move || {
                                made.get()
                                    .or_else(|| fresh.clone())
                                    .filter(|t| listed.contains(&t.id))
                            });
                            view! {
                                <Fresh token=told />
                                <TokenList tokens=list.tokens revoke />
                            }
                            .into_any()
                        }
                        Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    }
                })}
            </Transition>
            <h3>"New token"</h3>
            <FormError error=general_error(create.value()) />
            <ActionForm action=create attr:class="token-form">
                <Field
                    label="Name"
                    name="name"
                    autocomplete="off"
                    error=field_error(create.value(), "name")
                />
                <div class="field">
                    <label for="token-scope">"Scope"</label>
                    <select id="token-scope" name="scope">
                        <option value="read">"Read"</option>
                        <option value="write">"Read and write"</option>
                    </select>
                </div>
                <div class="field" class:has-error=move || field_error(create.value(), "days").get().is_some()>
                    <label for="token-days">"Expires"</label>
                    <select id="token-days" name="days" aria-describedby="token-days-error">
                        {LIFETIMES
                            .into_iter()
                            .map(|(days, words)| view! { <option value=days selected=days == "30">{words}</option> })
                            .collect_view()}
                    </select>
                    <p class="field-error" id="token-days-error" role="alert">
                        {move || field_error(create.value(), "days").get()}
                    </p>
                </div>
                <button type="submit" class="button primary" disabled=move || create.pending().get()>
                    "Create token"
                </button>
            </ActionForm>
        </section>
    }
}

/// A token just made: its secret, once, with a way to copy it.
#[component]
fn Fresh(token: Signal<Option<CreatedToken>>) -> impl IntoView {
    let copied = RwSignal::new(false);
    // Copy needs the script: without it the button is not shown, and the box is there to
    // select and copy by hand.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        {move || {
            token
                .get()
                .map(|t| {
                    let secret = t.token.clone();
                    let copy = move |_| {
                        #[cfg(feature = "hydrate")]
                        {
                            let _ = window().navigator().clipboard().write_text(&secret);
                            copied.set(true);
                        }
                        #[cfg(not(feature = "hydrate"))]
                        let _ = &secret;
                    };
                    view! {
                        <div class="fresh-token" role="status">
                            <p>
                                "Your new token “" {t.name.clone()} "” (" {scope_words(t.scope)}
                                "). Copy it now: it is not shown again."
                            </p>
                            <div class="fresh-secret">
                                <input
                                    readonly=true
                                    aria-label="The new token"
                                    value=t.token.clone()
                                    on:focus=|ev| {
                                        #[cfg(feature = "hydrate")]
                                        {
                                            use wasm_bindgen::JsCast;
                                            if let Some(input) = ev
                                                .target()
                                                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                                            {
                                                input.select();
                                            }
                                        }
                                        #[cfg(not(feature = "hydrate"))]
                                        let _ = ev;
                                    }
                                />
                                <Show when=move || hydrated.get()>
                                    <button type="button" class="button" on:click=copy.clone()>
                                        {move || if copied.get() { "Copied" } else { "Copy" }}
                                    </button>
                                </Show>
                            </div>
                        </div>
                    }
                })
        }}
    }
}

/// The tokens, newest first, each with what it may do, its dates and Revoke.
#[component]
fn TokenList(tokens: Vec<TokenView>, revoke: ServerAction<RevokeTokenForm>) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <p class="muted">"No tokens yet."</p> }.into_any();
    }
    view! {
        <FormError error=general_error(revoke.value()) />
        <ul class="token-list">
            {tokens
                .into_iter()
                .map(|t| {
                    let label = format!("Revoke {}", t.name);
                    view! {
                        <li class="token-item">
                            <div class="token-name">
                                <strong>{t.name.clone()}</strong>
                                <span class="role">{scope_words(t.scope)}</span>
                            </div>
                            // Each part in an element of its own: text of one part right
                            // after another's would merge into one node in the page, which
                            // hydration cannot split again.
                            <p class="muted token-dates">
                                <span>"Created " <TimeAgo at=t.created_at.clone() /></span>
                                " · "
                                <span>
                                    {match t.expires_at.clone() {
                                        Some(at) if t.expired => view! { <strong>"Expired "</strong> <EndTime at /> }.into_any(),
                                        Some(at) => view! { "Expires " <EndTime at /> }.into_any(),
                                        None => view! { "Never expires" }.into_any(),
                                    }}
                                </span>
                                " · "
                                <span>
                                    {match t.last_used_at.clone() {
                                        Some(at) => view! { "Last used " <TimeAgo at /> }.into_any(),
                                        None => view! { "Never used" }.into_any(),
                                    }}
                                </span>
                            </p>
                            <ActionForm action=revoke attr:class="inline-form">
                                <input type="hidden" name="id" value=t.id.to_string() />
                                <button type="submit" class="button danger small" aria-label=label>
                                    "Revoke"
                                </button>
                            </ActionForm>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
