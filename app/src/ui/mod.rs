//! The pages (one file each, under `pages/`) and the pieces they share (`components/`), and
//! the routes that tie addresses to pages. Signed-in pages live inside the app shell
//! (`layout.rs`): sidebar, notifications, the live channel.

mod components;
mod layout;
mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Outlet, ParentRoute, Route, Router, Routes},
    path,
};

use pages::{
    auth, create::CreateRoomPage, directory::DirectoryPage, home::HomePage, leave::LeaveDialog,
    not_found::NotFound, notifications::NotificationsPage, room::RoomPage,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/parlor.css" />
        <Title formatter=|page: String| format!("{page} · Parlor") />
        <Router>
            <Routes fallback=NotFound>
                <ParentRoute path=path!("") view=AuthLayout>
                    <Route path=path!("login") view=auth::LoginPage />
                    <Route path=path!("signup") view=auth::SignupPage />
                </ParentRoute>
                <ParentRoute path=path!("") view=layout::AppShell>
                    <Route path=path!("") view=HomePage />
                    <Route path=path!("rooms") view=DirectoryPage />
                    <Route path=path!("rooms/new") view=CreateRoomPage />
                    <Route path=path!("notifications") view=NotificationsPage />
                    <ParentRoute path=path!("rooms/:id") view=RoomPage>
                        <Route path=path!("") view=|| () />
                        <Route path=path!("leave") view=LeaveDialog />
                    </ParentRoute>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Sign-up and login: the brand and one card in the middle.
#[component]
fn AuthLayout() -> impl IntoView {
    view! {
        <header class="topbar">
            <a href="/" class="brand">
                "Parlor"
            </a>
        </header>
        <main class="page" id="main">
            <Outlet />
        </main>
    }
}
