//! The room list as a drawer on phones: whether it is open, the button that opens it, and
//! the bar above pages that holds that button. Its own module, so the app shell (which
//! provides the drawer) and the sidebar (which closes it) both import it, not each other.

use leptos::prelude::*;

/// Whether the sidebar drawer is open (phones).
#[derive(Clone, Copy)]
pub struct Drawer(pub RwSignal<bool>);

/// Opens the room list on phones (hidden on wide screens, where the list is always there).
#[component]
pub fn MenuButton() -> impl IntoView {
    let drawer = expect_context::<Drawer>();
    view! {
        <button
            type="button"
            class="icon-button menu"
            aria-label="Open the room list"
            aria-controls="sidebar"
            aria-expanded=move || drawer.0.get().to_string()
            on:click=move |_| drawer.0.set(true)
        >
            {super::icons::menu()}
        </button>
    }
}

/// The bar above pages other than a room's: on phones it holds the menu button.
#[component]
pub fn PageBar(#[prop(into)] title: String) -> impl IntoView {
    view! {
        <header class="page-bar">
            <MenuButton />
            <span class="page-bar-title">{title}</span>
        </header>
    }
}
