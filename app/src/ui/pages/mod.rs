//! One file per page; the admin page, the longest, is a folder with a file per section.
//!
//! Every page but the room's is a lazy route: its code is a part of the client of its own,
//! fetched when the page is first opened (and, when the service worker is in, prefetched
//! after the first page has loaded), so the room page's first load carries only the room
//! (docs/BENCHMARKS.md, S8). A page opened first is rendered by the server as any other, and
//! its part is preloaded beside the main client.

/// `lazy_page!(AccountRoute, AccountPage)`: the route type whose view is `<AccountPage />`,
/// split out by `cargo leptos build --split`.
macro_rules! lazy_page {
    ($route:ident, $page:ident) => {
        pub struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> leptos::prelude::AnyView {
                leptos::prelude::IntoAny::into_any(leptos::view! { <$page /> })
            }
        }
    };
}

pub mod account;
pub mod admin;
pub mod auth;
pub mod create;
pub mod directory;
pub mod home;
pub mod leave;
pub mod message_delete;
pub mod message_edit;
pub mod message_react;
pub mod message_report;
pub mod message_versions;
pub mod not_found;
pub mod notifications;
pub mod room;
pub mod search;
