//! The member list: in join order, who is online and who is timed out, and the actions the
//! rank rules allow (timeout, remove and ban ask first, in a dialog; making someone owner
//! too; lifting a timeout does not).

use domain::{
    room::{may_moderate, Role},
    views::MemberView,
    RoomId, UserId,
};
use leptos::{form::ActionForm, prelude::*};

use super::data::{admin_path, after_action, Admin};
use crate::{
    api::forms::{DemoteForm, PromoteForm, UnmuteForm},
    store::{clock, text, use_store},
    ui::components::widgets::{end_words, hold_clock, FormError, MemberFields, TimeAgo},
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
    let online = store.room_memo(&room, |c| {
        c.online.iter().map(|u| u.id.clone()).collect::<Vec<_>>()
    });
    // One action of each kind for the whole list: rows come and go as the data moves, the
    // actions (and what they answered) stay.
    let actions = RowActions {
        promote: ServerAction::new(),
        demote: ServerAction::new(),
        unmute: ServerAction::new(),
        clock: hold_clock(),
    };
    let errors = [
        after_action(actions.promote, admin.version),
        after_action(actions.demote, admin.version),
        after_action(actions.unmute, admin.version),
    ];
    let error = Signal::derive(move || errors.iter().find_map(|e| e.get()));
    let rows = move || {
        let (members, my_role) = admin.data.with(|v| (v.members.clone(), v.my_role));
        members
            .into_iter()
            .map(|m| {
                let themselves = me.as_ref() == Some(&m.user.id);
                view! { <MemberRow member=m room=room.clone() my_role themselves online actions /> }
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

/// What every row's forms post through, and the clock its timeout is read by.
#[derive(Clone, Copy)]
struct RowActions {
    promote: ServerAction<PromoteForm>,
    demote: ServerAction<DemoteForm>,
    unmute: ServerAction<UnmuteForm>,
    clock: Signal<clock::Millis>,
}

#[component]
fn MemberRow(
    member: MemberView,
    room: RoomId,
    my_role: Role,
    themselves: bool,
    online: Memo<Vec<UserId>>,
    actions: RowActions,
) -> impl IntoView {
    let RowActions {
        promote,
        demote,
        unmute,
        clock,
    } = actions;
    let store = use_store();
    let until = member.muted_until.as_deref().and_then(clock::parse_iso);
    let muted = Memo::new(move |_| until.is_some_and(|end| end > clock.get()));
    let user = member.user.clone();
    let base = admin_path(&room);
    let can_moderate = may_moderate(Some(my_role), Some(member.role), themselves);
    let owner = my_role == Role::Owner && !themselves;
    let id = user.id.clone();
    let is_online = move || online.with(|o| o.contains(&id));
    let name = user.username.clone();
    let (room_id, user_id) = (room.to_string(), user.id.to_string());
    let timeout = {
        let (room_id, user_id, back) = (room_id.clone(), user_id.clone(), base.clone());
        let mute_href = format!("{base}/mute/{user_id}");
        let name = name.clone();
        move || {
            if !can_moderate {
                return None;
            }
            let (room_id, user_id, back) = (room_id.clone(), user_id.clone(), back.clone());
            Some(if muted.get() {
                let label = format!("Lift {name}'s timeout");
                view! {
                    <ActionForm action=unmute attr:class="inline-form">
                        <MemberFields room=room_id user=user_id back=back />
                        <button type="submit" class="link-button" aria-label=label>"Lift timeout"</button>
                    </ActionForm>
                }
                .into_any()
            } else {
                view! {
                    <a class="link-button" href=mute_href.clone()>"Time out" <span class="visually-hidden">{format!(" {name}")}</span></a>
                }
                .into_any()
            })
        }
    };
    let moderation = can_moderate.then(|| {
        view! {
            <a class="link-button" href=format!("{base}/kick/{user_id}")>"Remove" <span class="visually-hidden">{format!(" {name}")}</span></a>
            <a class="link-button danger" href=format!("{base}/ban/{user_id}")>"Ban" <span class="visually-hidden">{format!(" {name}")}</span></a>
        }
    });
    let owner_actions = owner.then(|| {
        let (room_id, user_id, name) = (room_id.clone(), user_id.clone(), name.clone());
        view! { <OwnerActions role=member.role room_id user_id back=base.clone() name promote demote /> }
    });
    view! {
        <tr>
            <th scope="row">
                <span class="dot" class:on=is_online aria-hidden="true"></span>
                <span class=format!("author hue-{}", text::author_hue(&user.id))>{user.username.clone()}</span>
                <Show when=move || muted.get()>
                    <span
                        class="muted-badge"
                        title=move || format!("Timed out until {}", end_words(until.unwrap_or_default(), store.tz_offset()))
                    >
                        "timed out"
                    </span>
                </Show>
            </th>
            <td>{role_name(member.role)}</td>
            <td><TimeAgo at=member.joined_at.clone() /></td>
            <td class="row-actions">
                {timeout}
                {moderation}
                {owner_actions}
            </td>
        </tr>
    }
}

/// What only the owner does to another member: make them an admin or a member again, or
/// hand them the room.
#[component]
fn OwnerActions(
    role: Role,
    room_id: String,
    user_id: String,
    /// The admin page, which the forms come back to.
    back: String,
    name: String,
    promote: ServerAction<PromoteForm>,
    demote: ServerAction<DemoteForm>,
) -> impl IntoView {
    let make_admin = (role == Role::Member).then(|| {
        let (room_id, user_id, back) = (room_id.clone(), user_id.clone(), back.clone());
        let label = format!("Make admin: {name}");
        view! {
            <ActionForm action=promote attr:class="inline-form">
                <MemberFields room=room_id user=user_id back=back />
                <button type="submit" class="link-button" aria-label=label>"Make admin"</button>
            </ActionForm>
        }
    });
    let make_member = (role == Role::Admin).then(|| {
        let (room_id, user_id, back) = (room_id.clone(), user_id.clone(), back.clone());
        let label = format!("Make member: {name}");
        view! {
            <ActionForm action=demote attr:class="inline-form">
                <MemberFields room=room_id user=user_id back=back />
                <button type="submit" class="link-button" aria-label=label>"Make member"</button>
            </ActionForm>
        }
    });
    let make_owner = (role != Role::Owner).then(|| {
        view! {
            <a class="link-button" href=format!("{back}/transfer/{user_id}") aria-label=format!("Make owner: {name}")>"Make owner"</a>
        }
    });
    view! {
        {make_admin}
        {make_member}
        {make_owner}
    }
}
