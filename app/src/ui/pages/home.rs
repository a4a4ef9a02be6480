//! The signed-in start page: who you are, and where to go.

use leptos::prelude::*;

use crate::{store::use_store, ui::components::widgets::CardPage};

lazy_page!(HomeRoute, HomePage);

#[component]
pub fn HomePage() -> impl IntoView {
    let store = use_store();
    let me = Memo::new(move |_| store.with(|s| s.me.clone()));
    let room_count = Memo::new(move |_| store.with(|s| s.rooms.len()));
    view! {
        <CardPage title="Home" bar="Parlor" class="welcome">
            <h1>"Welcome, " <span class="username">{move || me.get().map(|u| u.username).unwrap_or_default()}</span></h1>
            <p class="muted">
                "Your user id is "
                <code class="user-id">{move || me.get().map(|u| u.id.to_string()).unwrap_or_default()}</code>
                ". Others can invite you by it or by your username."
            </p>
            <p>
                {move || match room_count.get() {
                    0 => "You are not in any room yet. Create one, or find one to join.".to_owned(),
                    1 => "Pick your room from the list to start talking.".to_owned(),
                    n => format!("Pick one of your {n} rooms from the list to start talking."),
                }}
            </p>
            <div class="actions">
                <a href="/rooms/new" class="button primary">
                    "Create a room"
                </a>
                <a href="/rooms" class="button secondary">
                    "Find rooms"
                </a>
            </div>
        </CardPage>
    }
}
