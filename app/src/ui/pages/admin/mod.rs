//! A room's admin page (`/rooms/{id}/admin`): the inbox (open reports and requests to
//! join), members with the actions the rank rules allow, invitations, bans, settings and
//! the moderation log, one file each. Timeout, kick, ban and handing ownership on ask first, in a dialog over the page
//! (`…/admin/kick/{user}` and so on), which is also a page of its own without JavaScript.
//! Every action is a form.
//!
//! A member who is not an admin gets a page that says so (403); anyone else gets the same
//! "no such room" as the API (404).

mod bans;
mod data;
mod dialogs;
mod invites;
mod log;
mod members;
mod reports;
mod requests;
mod settings;

use domain::{ErrorCode, RoomId};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Outlet, hooks::use_params_map};

pub use dialogs::{BanDialog, KickDialog, MuteDialog, TransferDialog};

use self::{
    bans::BansSection,
    data::{keep_fresh, log_query, Admin},
    invites::InviteSection,
    log::LogSection,
    members::MembersSection,
    reports::ReportsSection,
    requests::RequestsSection,
    settings::SettingsSection,
};
use super::not_found::set_status;
use crate::{
    api::rooms::room_admin,
    ui::components::{
        drawer::PageBar,
        widgets::{ErrorPanel, NothingHere},
    },
    AppError,
};

lazy_page!(AdminRoute, AdminPage);

#[component]
pub fn AdminPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| RoomId::from(params.read().get("id").unwrap_or_default()));
    let address = log_query();
    let data = Resource::new_blocking(
        move || address.key(id.get()),
        |(id, kind, cursor, actor, target)| room_admin(id, kind, cursor, actor, target),
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => {
                        let admin = Admin { data: RwSignal::new(view), version: RwSignal::new(0) };
                        provide_context(admin);
                        view! { <AdminBody admin /> <Outlet /> }.into_any()
                    }
                    Err(e) => view! { <Refused error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Refused(error: AppError) -> impl IntoView {
    let (status, title) = match error.code() {
        ErrorCode::Forbidden => (403, "Only admins can do this"),
        ErrorCode::RoomNotFound | ErrorCode::NotMember => (404, "No such room"),
        ErrorCode::RoomTerminated => (410, "This room has ended"),
        _ => (0, ""),
    };
    if status == 0 {
        return view! { <PageBar title="Manage" /> <main class="page" id="main"><ErrorPanel error /></main> }
            .into_any();
    }
    set_status(status);
    let message = if status == 404 {
        domain::access::room_not_found().message
    } else {
        error.0.message.clone()
    };
    view! {
        <NothingHere title message>
            <a href="/">"Go to your rooms"</a>
        </NothingHere>
    }
    .into_any()
}

#[component]
fn AdminBody(admin: Admin) -> impl IntoView {
    keep_fresh(admin);
    let (room, name) = admin
        .data
        .with_untracked(|v| (v.room.id.clone(), v.room.name.clone()));
    let waiting = Memo::new(move |_| admin.data.with(|v| v.requests.len() + v.reports.len()));
    view! {
        <Title text=format!("Manage #{name}") />
        <PageBar title="Manage" />
        <main class="page admin" id="main">
            <header class="admin-head">
                <p class="muted small"><a href=format!("/rooms/{room}")>"← Back to #" {name.clone()}</a></p>
                <h1>"Manage " <span class="hash" aria-hidden="true">"#"</span>{name.clone()}</h1>
                <nav aria-label="Sections" class="admin-nav">
                    <a href="#inbox">"Inbox " <span class="count">{move || waiting.get()}</span></a>
                    <a href="#members">"Members"</a>
                    <a href="#invite">"Invite"</a>
                    <a href="#bans">"Bans"</a>
                    <a href="#settings">"Settings"</a>
                    <a href="#log">"Log"</a>
                </nav>
            </header>
            // Reports and requests to join together: what waits for an admin.
            <div id="inbox" class="inbox">
                <ReportsSection admin />
                <RequestsSection admin />
            </div>
            <MembersSection admin />
            <InviteSection admin />
            <BansSection admin />
            <SettingsSection admin />
            <LogSection admin />
        </main>
    }
}
