//! The confirm steps over the admin page, each an address of its own (`…/admin/mute/{user}`,
//! `…/kick/{user}`, `…/ban/{user}`, `…/transfer/{user}`), so they work as pages without
//! JavaScript: Cancel is a link back, and the form posts and comes back there.

use domain::UserId;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::data::{admin_path, Admin};
use crate::ui::components::{
    moderation::{Cancel, Moderation, ModerationDialog},
    widgets::Dialog,
};

/// `…/admin/mute/{user}`: time someone out, for how long and with a reason.
#[component]
pub fn MuteDialog() -> impl IntoView {
    view! { <ConfirmDialog what=Moderation::Mute /> }
}

/// `…/admin/kick/{user}`: remove someone, with a reason.
#[component]
pub fn KickDialog() -> impl IntoView {
    view! { <ConfirmDialog what=Moderation::Kick /> }
}

/// `…/admin/ban/{user}`: ban someone, for how long and with a reason.
#[component]
pub fn BanDialog() -> impl IntoView {
    view! { <ConfirmDialog what=Moderation::Ban /> }
}

/// `…/admin/transfer/{user}`: hand the room to someone.
#[component]
pub fn TransferDialog() -> impl IntoView {
    view! { <ConfirmDialog what=Moderation::Transfer /> }
}

/// The dialog for the member the address names; done, the page loads its data again and
/// the address goes back to the page.
#[component]
fn ConfirmDialog(what: Moderation) -> impl IntoView {
    let admin = expect_context::<Admin>();
    let params = use_params_map();
    let target = UserId::from(params.read_untracked().get("user").unwrap_or_default());
    let (room, member) = admin.data.with_untracked(|v| {
        (
            v.room.id.clone(),
            v.members.iter().find(|m| m.user.id == target).cloned(),
        )
    });
    let back = admin_path(&room);
    let close = {
        let navigate = use_navigate();
        let back = back.clone();
        Callback::new(move |()| navigate(&back, Default::default()))
    };
    let Some(member) = member else {
        return view! {
            <Dialog title="Not a member".to_owned() on_close=close>
                <p>"That person is not a member of this room any more."</p>
                <div class="dialog-actions"><a href=back.clone() class="button secondary">"Back"</a></div>
            </Dialog>
        }
        .into_any();
    };
    let done = {
        let navigate = use_navigate();
        let back = back.clone();
        Callback::new(move |()| {
            admin.version.update(|v| *v += 1);
            navigate(&back, Default::default());
        })
    };
    view! {
        <ModerationDialog
            what
            room
            user=member.user
            back=back.clone()
            cancel=Cancel::Link(back)
            on_close=close
            on_done=done
        />
    }
    .into_any()
}
