//! The signed-in app shell: the sidebar with your rooms, the notifications bell, the banner
//! that says when the server cannot be reached, the corner notices, and the page in the
//! middle. It loads the overview once, seeds the store with it, and opens the live channel.

use domain::ErrorCode;
use leptos::prelude::*;
use leptos_router::{
    components::{Outlet, Redirect},
    hooks::use_location,
};

use super::components::{
    banner::ConnectionBanner, drawer::Drawer, notices::Notices, sidebar::Sidebar,
    widgets::ErrorPanel,
};
use crate::{
    api::overview::get_overview,
    live::Live,
    store::{current_time, Loaded, Store},
};

#[component]
pub fn AppShell() -> impl IntoView {
    let store = Store::new(current_time());
    provide_context(store);
    let overview = Resource::new_blocking(|| (), |_| get_overview());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => {
                        store.apply(Loaded::Overview(o));
                        view! { <Frame store /> }.into_any()
                    }
                    Err(e) if e.code() == ErrorCode::Unauthenticated => {
                        view! { <Redirect path="/login" /> }.into_any()
                    }
                    Err(e) => view! {
                        <main class="page" id="main">
                            <ErrorPanel error=e />
                        </main>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Frame(store: Store) -> impl IntoView {
    Live::provide(store);
    let drawer = Drawer(RwSignal::new(false));
    provide_context(drawer);
    // Any navigation closes the drawer, and so does Esc.
    let location = use_location();
    Effect::new(move |_| {
        location.pathname.track();
        drawer.0.set(false);
    });
    #[cfg(feature = "hydrate")]
    {
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() == "Escape" {
                drawer.0.set(false);
            }
        });
        on_cleanup(move || keys.remove());
    }
    view! {
        <a class="skip-link" href="#main">
            "Skip to content"
        </a>
        <div class="app" class:drawer-open=move || drawer.0.get()>
            <Sidebar />
            <div
                class="scrim"
                aria-hidden="true"
                on:click=move |_| drawer.0.set(false)
            ></div>
            <div class="stage">
                <ConnectionBanner />
                <noscript>
                    <p class="nojs-note">
                        "JavaScript is off: Parlor works, but new messages appear only when you reload the page."
                    </p>
                </noscript>
                <Outlet />
            </div>
            <Notices />
        </div>
    }
    .into_any()
}
