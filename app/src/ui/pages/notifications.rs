//! All your notifications, for phones and for browsers without JavaScript (the bell opens
//! the same list in place).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::ui::components::{bell::NotificationList, drawer::PageBar};

lazy_page!(NotificationsRoute, NotificationsPage);

#[component]
pub fn NotificationsPage() -> impl IntoView {
    view! {
        <Title text="Notifications" />
        <PageBar title="Notifications" />
        <main class="page" id="main">
            <section class="card">
                <NotificationList />
            </section>
        </main>
    }
}
