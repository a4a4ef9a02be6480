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

/// True when a key goes into a field (or an editable element), where `/` is a character.
#[cfg(feature = "hydrate")]
fn typing(ev: &leptos::ev::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
        .is_some_and(|el| {
            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || el.is_content_editable()
        })
}

/// `/`: to the search box (the search page's own, else the shell's, opening the drawer on
/// a narrow screen where the shell's is hidden).
#[cfg(feature = "hydrate")]
fn focus_search(drawer: Drawer) {
    use wasm_bindgen::JsCast;
    let document = web_sys::window().and_then(|w| w.document());
    let find = |id: &str| {
        document
            .as_ref()
            .and_then(|d| d.get_element_by_id(id))
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
    };
    let Some(input) = find("message-search").or_else(|| find("shell-search")) else {
        return;
    };
    if input.offset_parent().is_none() {
        drawer.0.set(true);
    }
    request_animation_frame(move || {
        let _ = input.focus();
    });
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
            if ev.key() == "/" && !ev.ctrl_key() && !ev.meta_key() && !ev.alt_key() && !typing(&ev)
            {
                ev.prevent_default();
                focus_search(drawer);
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
