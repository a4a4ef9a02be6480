//! An edited message's texts, oldest first (`/rooms/{id}/messages/{message}/versions`): for
//! its author and the room's admins, so an edit cannot rewrite what was said.

use leptos::prelude::*;

use crate::{
    api::messages::message_versions,
    ui::components::{
        message_dialog::MessageRoute,
        widgets::{Dialog, TimeAgo},
    },
};

#[component]
pub fn MessageVersionsDialog() -> impl IntoView {
    let route = MessageRoute::from_params();
    let versions = Resource::new_blocking(
        {
            let id = route.message_id.clone();
            move || id.clone()
        },
        message_versions,
    );
    let close = route.close();
    let back = route.back.clone();
    let list = move || {
        Suspend::new(async move {
            match versions.await {
                Ok(r) => {
                    let last = r.versions.len().saturating_sub(1);
                    let items = r
                        .versions
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| {
                            let label = if i == last { "Now" } else { "Before" };
                            view! {
                                <li class="version">
                                    <p class="version-meta">{label} " · " <TimeAgo at=v.at /></p>
                                    <p class="version-text">{v.body}</p>
                                </li>
                            }
                        })
                        .collect_view();
                    view! { <ol class="versions">{items}</ol> }.into_any()
                }
                Err(e) => view! { <p class="form-error" role="alert">{e.0.message}</p> }.into_any(),
            }
        })
    };
    view! {
        <Dialog title="Earlier versions".to_owned() on_close=close>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>{list}</Suspense>
            <div class="dialog-actions">
                <a href=back class="button secondary">"Close"</a>
            </div>
        </Dialog>
    }
}
