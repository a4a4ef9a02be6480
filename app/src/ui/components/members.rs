//! Who is in the room: online now, and every member in join order with their role. Admins
//! get the moderation actions the rank rules allow them, each behind a confirm step that
//! says what will happen.

use domain::{
    room::{may_moderate, Role},
    views::MemberView,
    RoomId, User, UserId,
};
use leptos::prelude::*;

use super::moderation::{Cancel, Moderation, ModerationDialog};
use crate::store::{text, use_store, Connection};

fn role_label(role: Role) -> Option<&'static str> {
    match role {
        Role::Owner => Some("owner"),
        Role::Admin => Some("admin"),
        Role::Member => None,
    }
}

/// Who is being moderated, while the confirm dialog is open.
type Acting = RwSignal<Option<(Moderation, User)>>;

#[component]
pub fn MembersPanel(room: RoomId) -> impl IntoView {
    let store = use_store();
    let members = {
        let room = room.clone();
        Memo::new(move |_| {
            store.with(|s| {
                s.conversation(&room)
                    .map(|c| c.members.clone())
                    .unwrap_or_default()
            })
        })
    };
    let online = {
        let room = room.clone();
        Memo::new(move |_| {
            store.with(|s| {
                s.conversation(&room)
                    .map(|c| (c.online.clone(), c.online_count))
                    .unwrap_or_default()
            })
        })
    };
    // Who is online is known only over the live channel.
    let live = Memo::new(move |_| store.with(|s| s.connection == Connection::Online));
    let acting: Acting = RwSignal::new(None);
    let close = Callback::new(move |()| acting.set(None));
    let back = format!("/rooms/{room}");
    let rows = MemberRows {
        my_role: {
            let room = room.clone();
            Memo::new(move |_| store.with(|s| s.conversation(&room).and_then(|c| c.my_role)))
        },
        me: Memo::new(move |_| store.with(|s| s.me.as_ref().map(|u| u.id.clone()))),
        online,
        live,
        hydrated: RwSignal::new(false),
        acting,
    };
    Effect::new(move |_| rows.hydrated.set(true));
    view! {
        <Show when=move || live.get()>
            <OnlineNow online />
        </Show>
        <section class="people" aria-labelledby="members-heading">
            <h2 id="members-heading">"Members " <span class="count">{move || members.read().len()}</span></h2>
            <ul class="member-list">
                <For
                    each=move || members.get()
                    key=|m| (m.user.id.clone(), m.role)
                    let:member
                >
                    <MemberItem member rows />
                </For>
            </ul>
        </section>
        // Done or cancelled, the dialog closes; the live channel shows the change.
        {move || acting.get().map(|(what, user)| view! {
            <ModerationDialog
                what
                room=room.clone()
                user
                back=back.clone()
                cancel=Cancel::Button
                lock_while_pending=true
                on_close=close
                on_done=close
            />
        })}
    }
    .into_any()
}

/// "Online", with who is, while the live channel is up.
#[component]
fn OnlineNow(online: Memo<(Vec<User>, usize)>) -> impl IntoView {
    view! {
        <section class="people" aria-labelledby="online-heading">
            <h2 id="online-heading">"Online " <span class="count">{move || online.get().1}</span></h2>
            <ul class="online-list">
                <For each=move || online.get().0 key=|u| u.id.clone() let:u>
                    <li>
                        <span class="dot on" aria-hidden="true"></span>
                        <span class=format!("author hue-{}", text::author_hue(&u.id))>{u.username.clone()}</span>
                    </li>
                </For>
            </ul>
        </section>
    }
}

/// What every row of the member list reads.
#[derive(Clone, Copy)]
struct MemberRows {
    my_role: Memo<Option<Role>>,
    me: Memo<Option<UserId>>,
    /// Who is online now, and how many.
    online: Memo<(Vec<User>, usize)>,
    /// The live channel is up (only then is who is online known).
    live: Memo<bool>,
    /// The moderation buttons need the script: they appear once it runs.
    hydrated: RwSignal<bool>,
    acting: Acting,
}

/// One member: online or not, name, role, and for moderators Remove and Ban.
#[component]
fn MemberItem(member: MemberView, rows: MemberRows) -> impl IntoView {
    let MemberView { user, role, .. } = member;
    let can_act = {
        let id = user.id.clone();
        move || {
            rows.hydrated.get()
                && may_moderate(
                    rows.my_role.get(),
                    Some(role),
                    rows.me.get().as_ref() == Some(&id),
                )
        }
    };
    let is_online = {
        let id = user.id.clone();
        move || {
            rows.online
                .with(|(list, _)| list.iter().any(|u| u.id == id))
        }
    };
    let name = user.username.clone();
    let hue = text::author_hue(&user.id);
    let act = move |what: Moderation| {
        let user = user.clone();
        move |_: leptos::ev::MouseEvent| rows.acting.set(Some((what, user.clone())))
    };
    view! {
        <li class="member">
            <Show when=move || rows.live.get()>
                <span class="dot" class:on=is_online.clone() aria-hidden="true"></span>
            </Show>
            <span class=format!("author hue-{hue}")>
                {name.clone()}
            </span>
            {role_label(role).map(|r| view! { <span class="role">{r}</span> })}
            <Show when=can_act.clone()>
                <span class="member-actions">
                    <button
                        type="button"
                        class="link-button"
                        aria-label=format!("Remove {name} from the room")
                        on:click=act(Moderation::Kick)
                    >
                        "Remove"
                    </button>
                    <button
                        type="button"
                        class="link-button danger"
                        aria-label=format!("Ban {name} from the room")
                        on:click=act(Moderation::Ban)
                    >
                        "Ban"
                    </button>
                </span>
            </Show>
        </li>
    }
}
