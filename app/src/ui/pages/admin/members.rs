//! The member list: in join order, who is online, and the actions the rank rules allow
//! (remove and ban ask first, in a dialog; making someone owner too).

use domain::{
    room::{may_moderate, Role},
    views::MemberView,
    RoomId, UserId,
};
use leptos::{form::ActionForm, prelude::*};

use super::data::{admin_path, after_action, Admin};
use crate::{
    api::forms::{DemoteForm, PromoteForm},
    store::{text, use_store},
    ui::components::widgets::{FormError, TimeAgo},
};

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "Owner",
        Role::Admin => "Admin",
        Role::Member => "Member",
    }
}

#[component]
pub fn MembersSection(admin: Admin) -> impl IntoView {
    let store = use_store();
    let room = admin.data.with_untracked(|v| v.room.id.clone());
    let me = store.with_untracked(|s| s.me.as_ref().map(|u| u.id.clone()));
    let online = {
        let room = room.clone();
        Memo::new(move |_| {
            store.with(|s| {
                s.conversation(&room)
                    .map(|c| c.online.iter().map(|u| u.id.clone()).collect::<Vec<_>>())
                    .unwrap_or_default()
            })
        })
    };
    // One action of each kind for the whole list: rows come and go as the data moves, the
    // actions (and what they answered) stay.
    let promote = ServerAction::<PromoteForm>::new();
    let demote = ServerAction::<DemoteForm>::new();
    let promote_error = after_action(promote, admin.version);
    let demote_error = after_action(demote, admin.version);
    let error = Signal::derive(move || promote_error.get().or_else(|| demote_error.get()));
    let rows = move || {
        let (members, my_role) = admin.data.with(|v| (v.members.clone(), v.my_role));
        members
            .into_iter()
            .map(|m| {
                let themselves = me.as_ref() == Some(&m.user.id);
                view! { <MemberRow member=m room=room.clone() my_role themselves online promote demote /> }
            })
            .collect_view()
    };
    view! {
        <section class="card admin-section" id="members" aria-labelledby="members-title">
            <h2 id="members-title">"Members"</h2>
            <p class="muted small">"In join order: if no admin is left, the first one here becomes admin."</p>
            <FormError error />
            <table class="admin-table">
                <thead>
                    <tr><th scope="col">"Name"</th><th scope="col">"Role"</th><th scope="col">"Joined"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

#[component]
fn MemberRow(
    member: MemberView,
    room: RoomId,
    my_role: Role,
    themselves: bool,
    online: Memo<Vec<UserId>>,
    promote: ServerAction<PromoteForm>,
    demote: ServerAction<DemoteForm>,
) -> impl IntoView {
    let user = member.user.clone();
    let base = admin_path(&room);
    let can_moderate = may_moderate(Some(my_role), Some(member.role), themselves);
    let owner = my_role == Role::Owner && !themselves;
    let id = user.id.clone();
    let is_online = move || online.with(|o| o.contains(&id));
    let name = user.username.clone();
    let (room_id, user_id) = (room.to_string(), user.id.to_string());
    let moderation = can_moderate.then(|| {
        view! {
            <a class="link-button" href=format!("{base}/kick/{user_id}")>"Remove" <span class="visually-hidden">{format!(" {name}")}</span></a>
            <a class="link-button danger" href=format!("{base}/ban/{user_id}")>"Ban" <span class="visually-hidden">{format!(" {name}")}</span></a>
        }
    });
    let make_admin = (owner && member.role == Role::Member).then(|| {
        let (room_id, user_id, back) = (room_id.clone(), user_id.clone(), base.clone());
        let label = format!("Make admin: {name}");
        view! {
            <ActionForm action=promote attr:class="inline-form">
                <input type="hidden" name="room_id" value=room_id />
                <input type="hidden" name="user_id" value=user_id />
                <input type="hidden" name="back" value=back />
                <button type="submit" class="link-button" aria-label=label>"Make admin"</button>
            </ActionForm>
        }
    });
    let make_member = (owner && member.role == Role::Admin).then(|| {
        let (room_id, user_id, back) = (room_id.clone(), user_id.clone(), base.clone());
        let label = format!("Make member: {name}");
        view! {
            <ActionForm action=demote attr:class="inline-form">
                <input type="hidden" name="room_id" value=room_id />
                <input type="hidden" name="user_id" value=user_id />
                <input type="hidden" name="back" value=back />
                <button type="submit" class="link-button" aria-label=label>"Make member"</button>
            </ActionForm>
        }
    });
    let make_owner = (owner && member.role != Role::Owner).then(|| {
        view! {
            <a class="link-button" href=format!("{base}/transfer/{user_id}") aria-label=format!("Make owner: {name}")>"Make owner"</a>
        }
    });
    view! {
        <tr>
            <th scope="row">
                <span class="dot" class:on=is_online aria-hidden="true"></span>
                <span class=format!("author hue-{}", text::author_hue(&user.id))>{user.username.clone()}</span>
            </th>
            <td>{role_name(member.role)}</td>
            <td><TimeAgo at=member.joined_at.clone() /></td>
            <td class="row-actions">
                {moderation}
                {make_admin}
                {make_member}
                {make_owner}
            </td>
        </tr>
    }
}
