//! All your notifications, for phones and for browsers without JavaScript (the bell opens
//! the same list in place).

use leptos::prelude::*;

use crate::ui::components::{bell::NotificationList, widgets::CardPage};

lazy_page!(NotificationsRoute, NotificationsPage);

#[component]
pub fn NotificationsPage() -> impl IntoView {
    view! {
        <CardPage title="Notifications">
            <NotificationList />
        </CardPage>
    }
}
