//! Who is in the room: online now, and every member in join order with their role. Admins
//! get the moderation actions the rank rules allow them, each behind a confirm step that
//! says what will happen.

use domain::{
    room::{may_moderate, Role},
    views::MemberView,
    RoomId, User,
};
use leptos::{form::ActionForm, prelude::*};

use super::widgets::Dialog;
use crate::{
    api::forms::{BanUserForm, KickMemberForm},
    store::{text, use_store},
};

fn role_label(role: Role) -> Option<&'static str> {
    match role {
        Role::Owner => Some("owner"),
        Role::Admin => Some("admin"),
        Role::Member => None,
    }
}

/// What a moderator is about to do to someone.
#[derive(Debug, Clone, PartialEq)]
enum Moderation {
    Kick(User),
    Ban(User),
}

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
    let my_role = {
        let room = room.clone();
        Memo::new(move |_| store.with(|s| s.conversation(&room).and_then(|c| c.my_role)))
    };
    let me = Memo::new(move |_| store.with(|s| s.me.as_ref().map(|u| u.id.clone())));
    // Who is online is known only over the live channel.
    let live = Memo::new(move |_| store.with(|s| s.connection == crate::store::Connection::Online));
    let acting = RwSignal::new(None::<Moderation>);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let is_online =
        move |m: &MemberView| online.with(|(list, _)| list.iter().any(|u| u.id == m.user.id));
    view! {
        <Show when=move || live.get()>
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
        </Show>
        <section class="people" aria-labelledby="members-heading">
            <h2 id="members-heading">"Members " <span class="count">{move || members.read().len()}</span></h2>
            <ul class="member-list">
                <For
                    each=move || members.get()
                    key=|m| (m.user.id.clone(), m.role)
                    let:m
                >
                    {
                        let user = m.user.clone();
                        let target_role = m.role;
                        let can_act = move || {
                            hydrated.get()
                                && may_moderate(
                                    my_role.get(),
                                    Some(target_role),
                                    me.get().as_ref() == Some(&user.id),
                                )
                        };
                        let online = {
                            let m = m.clone();
                            move || is_online(&m)
                        };
                        let (u1, u2) = (m.user.clone(), m.user.clone());
                        view! {
                            <li class="member">
                                <Show when=move || live.get()>
                                    <span class="dot" class:on=online.clone() aria-hidden="true"></span>
                                </Show>
                                <span class=format!("author hue-{}", text::author_hue(&m.user.id))>
                                    {m.user.username.clone()}
                                </span>
                                {role_label(m.role).map(|r| view! { <span class="role">{r}</span> })}
                                <Show when=can_act.clone()>
                                    <span class="member-actions">
                                        <button
                                            type="button"
                                            class="link-button"
                                            aria-label=format!("Remove {} from the room", u1.username)
                                            on:click={
                                                let u = u1.clone();
                                                move |_| acting.set(Some(Moderation::Kick(u.clone())))
                                            }
                                        >
                                            "Remove"
                                        </button>
                                        <button
                                            type="button"
                                            class="link-button danger"
                                            aria-label=format!("Ban {} from the room", u2.username)
                                            on:click={
                                                let u = u2.clone();
                                                move |_| acting.set(Some(Moderation::Ban(u.clone())))
                                            }
                                        >
                                            "Ban"
                                        </button>
                                    </span>
                                </Show>
                            </li>
                        }
                    }
                </For>
            </ul>
        </section>
        {move || acting.get().map(|what| view! { <ModerationDialog room=room.clone() what acting /> })}
    }
    .into_any()
}

#[component]
fn ModerationDialog(
    room: RoomId,
    what: Moderation,
    acting: RwSignal<Option<Moderation>>,
) -> impl IntoView {
    let kick = ServerAction::<KickMemberForm>::new();
    let ban = ServerAction::<BanUserForm>::new();
    let close = Callback::new(move |()| acting.set(None));
    // Done: the live channel shows the change; the dialog closes.
    Effect::new(move |_| {
        let ok =
            matches!(kick.value().get(), Some(Ok(()))) || matches!(ban.value().get(), Some(Ok(())));
        if ok {
            acting.set(None);
        }
    });
    let error = Signal::derive(move || {
        kick.value()
            .get()
            .or_else(|| ban.value().get())
            .and_then(Result::err)
            .map(|e| e.0.message)
    });
    let pending = Signal::derive(move || kick.pending().get() || ban.pending().get());
    let back = format!("/rooms/{room}");
    let room = room.to_string();
    match what {
        Moderation::Kick(user) => view! {
            <Dialog title=format!("Remove {}?", user.username) on_close=close>
                <p>
                    {user.username.clone()}
                    " leaves the room now and is told why. They may ask to join again."
                </p>
                <ActionForm action=kick>
                    <input type="hidden" name="room_id" value=room.clone() />
                    <input type="hidden" name="user_id" value=user.id.to_string() />
                    <input type="hidden" name="back" value=back.clone() />
                    <ReasonField />
                    <ErrorLine error />
                    <div class="dialog-actions">
                        <button type="button" class="button secondary" on:click=move |_| close.run(())>
                            "Cancel"
                        </button>
                        <button type="submit" class="button danger" disabled=pending>
                            {format!("Remove {}", user.username)}
                        </button>
                    </div>
                </ActionForm>
            </Dialog>
        }
        .into_any(),
        Moderation::Ban(user) => view! {
            <Dialog title=format!("Ban {}?", user.username) on_close=close>
                <p>
                    {user.username.clone()}
                    " leaves the room now, and cannot see it or come back until an admin lifts the ban."
                </p>
                <ActionForm action=ban>
                    <input type="hidden" name="room_id" value=room.clone() />
                    <input type="hidden" name="user" value=user.id.to_string() />
                    <input type="hidden" name="back" value=back.clone() />
                    <ReasonField />
                    <ErrorLine error />
                    <div class="dialog-actions">
                        <button type="button" class="button secondary" on:click=move |_| close.run(())>
                            "Cancel"
                        </button>
                        <button type="submit" class="button danger" disabled=pending>
                            {format!("Ban {}", user.username)}
                        </button>
                    </div>
                </ActionForm>
            </Dialog>
        }
        .into_any(),
    }
}

#[component]
fn ReasonField() -> impl IntoView {
    view! {
        <div class="field">
            <label for="moderation-reason">"Reason " <span class="muted">"(optional, they will see it)"</span></label>
            <textarea id="moderation-reason" name="reason" rows="2" maxlength="500"></textarea>
        </div>
    }
}

#[component]
fn ErrorLine(error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || error.get().is_some()>
            <p class="form-error" role="alert">
                {move || error.get()}
            </p>
        </Show>
    }
}
