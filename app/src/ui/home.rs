//! The signed-in start page.

use domain::ErrorCode;
use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::auth::{me, LogoutForm};

#[component]
pub fn HomePage() -> impl IntoView {
    let me = Resource::new_blocking(|| (), |_| me());
    let logout = ServerAction::<LogoutForm>::new();
    view! {
        <Title text="Home" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(res) => view! {
                        <section class="card">
                            <h1>"Welcome, " <span class="username">{res.user.username.clone()}</span></h1>
                            <p class="muted">
                                "Your user id is " <code class="user-id">{res.user.id.to_string()}</code>
                                ". Others can invite you by it or by your username."
                            </p>
                            <ActionForm action=logout>
                                <button type="submit" class="secondary">"Log out"</button>
                            </ActionForm>
                        </section>
                    }
                    .into_any(),
                    Err(e) if e.code() == ErrorCode::Unauthenticated => {
                        view! { <Redirect path="/login" /> }.into_any()
                    }
                    Err(e) => view! {
                        <section class="card">
                            <p class="form-error" role="alert">{e.0.message}</p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}
