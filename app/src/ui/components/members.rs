//! Who is in the room: online now, and every member in join order with their role and
//! whether they are timed out. Admins get the moderation actions the rank rules allow them,
//! each behind a confirm step that says what will happen; lifting a timeout is a plain form.

use domain::{
    room::{may_moderate, Role},
    views::MemberView,
    RoomId, User, UserId,
};
use leptos::{form::ActionForm, prelude::*};

use super::{
    moderation::{Cancel, Moderation, ModerationDialog},
    widgets::{end_words, hold_clock, refusal, FormError, MemberFields},
};
use crate::{
    api::forms::UnmuteForm,
    store::{clock, text, use_store, Connection},
};

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
    let members = store.room_memo(&room, |c| c.members.clone());
    let online = store.room_memo(&room, |c| (c.online.clone(), c.online_count));
    // Who is online is known only over the live channel.
    let live = Memo::new(move |_| store.with(|s| s.connection == Connection::Online));
    let acting: Acting = RwSignal::new(None);
    let close = Callback::new(move |()| acting.set(None));
    let back = format!("/rooms/{room}");
    let unmute = ServerAction::<UnmuteForm>::new();
    let unmute_error = refusal(unmute);
    let rows = MemberRows {
        room: StoredValue::new(room.clone()),
        my_role: {
            let room = room.clone();
            Memo::new(move |_| store.with(|s| s.conversation(&room).and_then(|c| c.my_role)))
        },
        me: Memo::new(move |_| store.with(|s| s.me.as_ref().map(|u| u.id.clone()))),
        online,
        live,
        hydrated: RwSignal::new(false),
        clock: hold_clock(),
        acting,
        unmute,
    };
    Effect::new(move |_| rows.hydrated.set(true));
    view! {
        <Show when=move || live.get()>
            <OnlineNow online />
        </Show>
        <section class="people" aria-labelledby="members-heading">
            <h2 id="members-heading">"Members " <span class="count">{move || members.read().len()}</span></h2>
            <FormError error=unmute_error />
            <ul class="member-list">
                // A timeout set or lifted draws the row again.
                <For
                    each=move || members.get()
                    key=|m| (m.user.id.clone(), m.role, m.muted_until.clone())
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
    room: StoredValue<RoomId>,
    my_role: Memo<Option<Role>>,
    me: Memo<Option<UserId>>,
    /// Who is online now, and how many.
    online: Memo<(Vec<User>, usize)>,
    /// The live channel is up (only then is who is online known).
    live: Memo<bool>,
    /// The moderation buttons need the script: they appear once it runs.
    hydrated: RwSignal<bool>,
    /// What timeouts are read by (`hold_clock`).
    clock: Signal<clock::Millis>,
    acting: Acting,
    /// Lifting a timeout, for every row.
    unmute: ServerAction<UnmuteForm>,
}

/// One member: online or not, name, role, a timeout, and for moderators Time out (or Lift
/// timeout), Remove and Ban.
#[component]
fn MemberItem(member: MemberView, rows: MemberRows) -> impl IntoView {
    let MemberView {
        user,
        role,
        muted_until,
        ..
    } = member;
    let may_act = {
        let id = user.id.clone();
        Memo::new(move |_| {
            may_moderate(
                rows.my_role.get(),
                Some(role),
                rows.me.get().as_ref() == Some(&id),
            )
        })
    };
    let until = muted_until.as_deref().and_then(clock::parse_iso);
    let muted = Memo::new(move |_| until.is_some_and(|end| end > rows.clock.get()));
    let store = use_store();
    let muted_title = move || {
        let end = end_words(until.unwrap_or_default(), store.tz_offset());
        format!("Timed out until {end}")
    };
    // The dialogs need the script; lifting a timeout is a form, and works without it.
    let can_act = move || may_act.get() && (rows.hydrated.get() || muted.get());
    let is_online = {
        let id = user.id.clone();
        move || {
            rows.online
                .with(|(list, _)| list.iter().any(|u| u.id == id))
        }
    };
    let name = user.username.clone();
    let hue = text::author_hue(&user.id);
    let who = StoredValue::new(user);
    view! {
        <li class="member">
            <Show when=move || rows.live.get()>
                <span class="dot" class:on=is_online.clone() aria-hidden="true"></span>
            </Show>
            <span class=format!("author hue-{hue}")>
                {name}
            </span>
            {role_label(role).map(|r| view! { <span class="role">{r}</span> })}
            <Show when=move || muted.get()>
                <span class="muted-badge" title=muted_title>"timed out"</span>
            </Show>
            <Show when=can_act>
                <MemberActions who muted rows />
            </Show>
        </li>
    }
}

/// A moderator's actions on one member: Time out, or Lift timeout while one runs (a form,
/// which needs no script); Remove and Ban.
#[component]
fn MemberActions(who: StoredValue<User>, muted: Memo<bool>, rows: MemberRows) -> impl IntoView {
    let name = who.with_value(|u| u.username.clone());
    let act = move |what: Moderation| {
        move |_: leptos::ev::MouseEvent| rows.acting.set(Some((what, who.get_value())))
    };
    let timeout = {
        let name = name.clone();
        let room_id = rows.room.with_value(ToString::to_string);
        let user_id = who.with_value(|u| u.id.to_string());
        move || {
            if muted.get() {
                let (room_id, user_id) = (room_id.clone(), user_id.clone());
                let back = format!("/rooms/{room_id}");
                let label = format!("Lift {name}'s timeout");
                view! {
                    <ActionForm action=rows.unmute attr:class="inline-form">
                        <MemberFields room=room_id user=user_id back=back />
                        <button type="submit" class="link-button" aria-label=label>
                            "Lift timeout"
                        </button>
                    </ActionForm>
                }
                .into_any()
            } else if rows.hydrated.get() {
                view! {
                    <button
                        type="button"
                        class="link-button"
                        aria-label=format!("Time out {name}")
                        on:click=act(Moderation::Mute)
                    >
                        "Time out"
                    </button>
                }
                .into_any()
            } else {
                ().into_any()
            }
        }
    };
    view! {
        <span class="member-actions">
            {timeout}
            <Show when=move || rows.hydrated.get()>
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
            </Show>
        </span>
    }
}
