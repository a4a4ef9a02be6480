//! Addresses that lead nowhere.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::ui::components::widgets::BrandBar;

/// Sets the page's HTTP status on the server (a no-op in the browser).
pub fn set_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(code) {
            res.set_status(status);
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}

#[component]
pub fn NotFound() -> impl IntoView {
    set_status(404);
    view! {
        <Title text="Not found" />
        <BrandBar />
        <main class="page" id="main">
            <section class="card">
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address. " <a href="/">"Go to the start page"</a> "."</p>
            </section>
        </main>
    }
}
