//! Notices in the corner: what just happened to you, in words ("You were removed from
//! #games by ana: spamming"). Bad news stays until dismissed; the rest fades after a while.

use leptos::prelude::*;

use crate::{
    live::use_live,
    store::{state::Notice, use_store, Local},
};

#[component]
pub fn Notices() -> impl IntoView {
    let store = use_store();
    let notices = Memo::new(move |_| store.with(|s| s.notices.clone()));
    view! {
        <div class="notices" role="status" aria-live="polite">
            <For each=move || notices.get() key=|n| n.id let:notice>
                <NoticeItem notice />
            </For>
        </div>
    }
}

#[component]
fn NoticeItem(notice: Notice) -> impl IntoView {
    let live = use_live();
    let id = notice.id;
    if !notice.alert {
        #[cfg(feature = "hydrate")]
        set_timeout(
            move || live.dispatch(Local::DismissNotice(id)),
            std::time::Duration::from_secs(8),
        );
    }
    let link = notice.room.clone().filter(|_| !notice.alert).map(|room| {
        view! {
            <a href=format!("/rooms/{room}") class="link-button">
                "Open"
            </a>
        }
    });
    view! {
        <div class="notice" class:alert=notice.alert role=notice.alert.then_some("alert")>
            <p>{notice.text.clone()}</p>
            {link}
            <button
                type="button"
                class="icon-button"
                aria-label="Dismiss"
                on:click=move |_| live.dispatch(Local::DismissNotice(id))
            >
                {super::icons::close()}
            </button>
        </div>
    }
}
