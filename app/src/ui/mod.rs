//! The pages (one file each, under `pages/`) and the pieces they share (`components/`), and
//! the routes that tie addresses to pages. Signed-in pages live inside the app shell
//! (`layout.rs`): sidebar, notifications, the live channel.

mod components;
mod layout;
mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Outlet, ParentRoute, Route, Router, Routes},
    path, Lazy, SsrMode,
};

use components::widgets::BrandBar;
use pages::{
    account::AccountRoute,
    admin::{AdminRoute, BanDialog, KickDialog, MuteDialog, TransferDialog},
    auth,
    create::CreateRoomRoute,
    directory::DirectoryRoute,
    home::HomeRoute,
    leave::LeaveDialog,
    message_delete::DeleteMessageDialog,
    message_edit::EditMessageDialog,
    message_react::ReactionPickerRoute,
    message_report::ReportMessageRoute,
    message_versions::MessageVersionsRoute,
    not_found::NotFound,
    notifications::NotificationsRoute,
    room::RoomPage,
    search::SearchRoute,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::csp::send_page_policy();
    // The stylesheet's name carries its content hash in a release build.
    #[cfg(feature = "ssr")]
    let stylesheet = crate::ssr::assets::AssetNames::current().css.clone();
    #[cfg(not(feature = "ssr"))]
    let stylesheet = String::new();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" href=stylesheet />
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
        <Title formatter=|page: String| format!("{page} · Parlor") />
        // Every page renders whole before it is sent (SsrMode::Async): it reads complete
        // without JavaScript, and needs no inline script to stream in its parts.
        <Router>
            <Routes fallback=NotFound>
                <ParentRoute path=path!("") ssr=SsrMode::Async view=AuthLayout>
                    <Route path=path!("login") ssr=SsrMode::Async view={Lazy::<auth::LoginRoute>::new()} />
                    <Route path=path!("signup") ssr=SsrMode::Async view={Lazy::<auth::SignupRoute>::new()} />
                </ParentRoute>
                <ParentRoute path=path!("") ssr=SsrMode::Async view=layout::AppShell>
                    <Route path=path!("") ssr=SsrMode::Async view={Lazy::<HomeRoute>::new()} />
                    <Route path=path!("rooms") ssr=SsrMode::Async view={Lazy::<DirectoryRoute>::new()} />
                    <Route path=path!("rooms/new") ssr=SsrMode::Async view={Lazy::<CreateRoomRoute>::new()} />
                    <Route path=path!("notifications") ssr=SsrMode::Async view={Lazy::<NotificationsRoute>::new()} />
                    <Route path=path!("search") ssr=SsrMode::Async view={Lazy::<SearchRoute>::new()} />
                    <Route path=path!("account") ssr=SsrMode::Async view={Lazy::<AccountRoute>::new()} />
                    <ParentRoute path=path!("rooms/:id/admin") ssr=SsrMode::Async view={Lazy::<AdminRoute>::new()}>
                        <Route path=path!("") ssr=SsrMode::Async view=|| () />
                        <Route path=path!("mute/:user") ssr=SsrMode::Async view=MuteDialog />
                        <Route path=path!("kick/:user") ssr=SsrMode::Async view=KickDialog />
                        <Route path=path!("ban/:user") ssr=SsrMode::Async view=BanDialog />
                        <Route path=path!("transfer/:user") ssr=SsrMode::Async view=TransferDialog />
                    </ParentRoute>
                    <ParentRoute path=path!("rooms/:id") ssr=SsrMode::Async view=RoomPage>
                        <Route path=path!("") ssr=SsrMode::Async view=|| () />
                        <Route path=path!("leave") ssr=SsrMode::Async view=LeaveDialog />
                        <Route path=path!("messages/:message/edit") ssr=SsrMode::Async view=EditMessageDialog />
                        <Route path=path!("messages/:message/delete") ssr=SsrMode::Async view=DeleteMessageDialog />
                        <Route path=path!("messages/:message/versions") ssr=SsrMode::Async view={Lazy::<MessageVersionsRoute>::new()} />
                        <Route path=path!("messages/:message/react") ssr=SsrMode::Async view={Lazy::<ReactionPickerRoute>::new()} />
                        <Route path=path!("messages/:message/report") ssr=SsrMode::Async view={Lazy::<ReportMessageRoute>::new()} />
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
        <BrandBar />
        <main class="page" id="main">
            <Outlet />
        </main>
    }
}
