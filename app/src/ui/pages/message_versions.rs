//! An edited message's texts, oldest first (`/rooms/{id}/messages/{message}/versions`): for
//! its author and the room's admins, so an edit cannot rewrite what was said.

use leptos::prelude::*;

use crate::ui::components::{
    message_dialog::{DialogData, MessageRoute},
    widgets::{Dialog, TimeAgo},
};

lazy_page!(MessageVersionsRoute, MessageVersionsDialog);

#[component]
pub fn MessageVersionsDialog() -> impl IntoView {
    let route = MessageRoute::from_params();
    let versions = expect_context::<DialogData>().versions;
    let close = route.close();
    let back = route.back.clone();
    // Everything, the Close link too, inside the one suspended view: the structure the
    // server renders is then the one the browser hydrates.
    let list = move || {
        let back = back.clone();
        Suspend::new(async move {
            let shown = match versions.await {
                Ok(None) => ().into_any(),
                Ok(Some(versions)) => {
                    let last = versions.len().saturating_sub(1);
                    let items = versions
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
            };
            view! {
                {shown}
                <div class="dialog-actions">
                    <a href=back class="button secondary">"Close"</a>
                </div>
            }
        })
    };
    view! {
        <Dialog title="Earlier versions".to_owned() on_close=close>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>{list}</Suspense>
        </Dialog>
    }
}
