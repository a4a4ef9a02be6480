//! The banner that replaces silence when the server cannot be reached: what happened, a
//! countdown to the next try, and a way to try now. Drafts and unsent messages stay.

use leptos::prelude::*;

use domain::wire::Close;

use crate::{
    live::use_live,
    store::{use_store, Connection},
};

#[component]
pub fn ConnectionBanner() -> impl IntoView {
    let store = use_store();
    let live = use_live();
    let connection = Memo::new(move |_| store.with(|s| s.connection));
    let unsent = Memo::new(move |_| {
        store.with(|s| {
            s.conversations
                .values()
                .map(|c| c.pending.iter().filter(|p| p.failed.is_none()).count())
                .sum::<usize>()
        })
    });
    let kept = move || match unsent.get() {
        0 => " Your drafts are kept.".to_owned(),
        1 => " Your drafts are kept, and 1 message will be sent when it is back.".to_owned(),
        n => format!(" Your drafts are kept, and {n} messages will be sent when it is back."),
    };
    move || match connection.get() {
        Connection::Offline {
            retry_at, refused, ..
        } => {
            let seconds = move || ((retry_at - store.now()).max(0) + 999) / 1000;
            let what = match refused {
                Some(Close::TooManyForUser) => {
                    "Parlor is open in too many tabs. Close one, and this one connects by itself."
                }
                Some(Close::TooManyForAddress) => {
                    "Too many Parlor connections come from your network. This tab connects once one closes."
                }
                _ => "Can't reach the server.",
            };
            view! {
                <div class="banner offline" role="alert">
                    <p>
                        <strong>{what}</strong>
                        " Retrying in "
                        <span class="countdown">{seconds}</span>
                        " s."
                        {kept}
                    </p>
                    <button type="button" class="button small" on:click=move |_| live.retry_now()>
                        "Retry now"
                    </button>
                </div>
            }
            .into_any()
        }
        Connection::Connecting { attempt } if attempt > 0 => view! {
            <div class="banner reconnecting" role="status">
                <p>"Reconnecting…"</p>
            </div>
        }
        .into_any(),
        Connection::SignedOut => view! {
            <div class="banner offline" role="alert">
                <p>"You were signed out. " <a href="/login">"Log in again"</a></p>
            </div>
        }
        .into_any(),
        _ => ().into_any(),
    }
}
