#![recursion_limit = "256"]
//! The browser entry point: hydrate the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Hydrated asynchronously: every page but the room's is a lazily loaded part of the
    // client (docs/BENCHMARKS.md, "The client split"), which a page opened first waits for.
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else {
            return;
        };
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        // A marker for tests and tools: event handlers are attached from here on.
        let _ = body.set_attribute("data-hydrated", "true");
        // The service worker (public/sw.js) shows an offline page when the server is down,
        // and fetches the client's other parts once it installs.
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().service_worker().register("/sw.js");
        }
    });
}
