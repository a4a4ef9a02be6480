//! Notifications: the bell with its unread badge, and the list it opens (also the
//! notifications page). Each is a sentence with its action: accept or decline an invite,
//! approve or deny a request, open the room; and marked read one by one or all at once.

use domain::{effects::NotificationKind, views::NotificationView};
use leptos::{form::ActionForm, prelude::*};

use super::widgets::{MemberFields, TimeAgo};
use crate::{
    api::forms::{
        AcceptInviteForm, ApproveRequestForm, DeclineInviteForm, DenyRequestForm,
        ReadNotificationsForm,
    },
    live::use_live,
    store::{text, use_store, Local},
};

#[component]
pub fn NotificationBell() -> impl IntoView {
    let store = use_store();
    let open = RwSignal::new(false);
    let unread = Memo::new(move |_| store.with(|s| s.unread_notifications));
    let label = move || match unread.get() {
        0 => "Notifications".to_owned(),
        1 => "Notifications, 1 unread".to_owned(),
        n => format!("Notifications, {n} unread"),
    };
    #[cfg(feature = "hydrate")]
    {
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() == "Escape" {
                open.set(false);
            }
        });
        on_cleanup(move || keys.remove());
    }
    view! {
        <div class="bell">
            // Without JavaScript the bell is a link to the notifications page.
            <a
                href="/notifications"
                class="icon-button bell-button"
                role="button"
                aria-label=label
                aria-expanded=move || open.get().to_string()
                aria-controls="notification-panel"
                on:click=move |ev| {
                    ev.prevent_default();
                    open.update(|o| *o = !*o);
                }
            >
                {super::icons::bell()}
                <Show when=move || { unread.get() > 0 }>
                    <span class="badge bell-badge" aria-hidden="true">
                        {move || unread.get().min(99)}
                    </span>
                </Show>
            </a>
            <Show when=move || open.get()>
                <div class="bell-panel" id="notification-panel" role="region" aria-label="Notifications">
                    <NotificationList compact=true on_navigate=Callback::new(move |()| open.set(false)) />
                </div>
            </Show>
        </div>
    }
    .into_any()
}

/// The notifications, newest first, each with its action.
#[component]
pub fn NotificationList(
    /// In the bell's panel (a second-level heading), not a page of its own.
    #[prop(optional)]
    compact: bool,
    #[prop(optional)] on_navigate: Option<Callback<()>>,
) -> impl IntoView {
    let store = use_store();
    let list = Memo::new(move |_| store.with(|s| s.notifications.clone()));
    let unread = Memo::new(move |_| store.with(|s| s.unread_notifications));
    let read_all = ServerAction::<ReadNotificationsForm>::new();
    let live = use_live();
    view! {
        <div class="notification-list" class:compact=compact>
            <div class="list-head">
                {if compact {
                    view! { <h2>"Notifications"</h2> }.into_any()
                } else {
                    view! { <h1>"Notifications"</h1> }.into_any()
                }}
                <DesktopToggle />
                <Show when=move || { unread.get() > 0 }>
                    <ActionForm action=read_all attr:class="inline-form">
                        <button
                            type="submit"
                            class="link-button"
                            on:click=move |ev| {
                                ev.prevent_default();
                                live.dispatch(Local::MarkRead(None));
                            }
                        >
                            "Mark all read"
                        </button>
                    </ActionForm>
                </Show>
            </div>
            <Show
                when=move || !list.read().is_empty()
                fallback=|| view! { <p class="empty">"Nothing yet. Invitations, answers to your requests and news of your rooms appear here."</p> }
            >
                <ul>
                    <For each=move || list.get() key=|n| n.id.clone() let:n>
                        <NotificationItem n on_navigate />
                    </For>
                </ul>
            </Show>
        </div>
    }
    .into_any()
}

/// Desktop notifications for mentions, on or off: offered only where the browser has them
/// and the script runs.
#[component]
fn DesktopToggle() -> impl IntoView {
    let on = RwSignal::new(false);
    let shown = RwSignal::new(false);
    Effect::new(move |_| {
        shown.set(crate::desktop::supported());
        on.set(crate::desktop::enabled());
    });
    view! {
        <Show when=move || shown.get()>
            <button
                type="button"
                class="link-button"
                aria-pressed=move || on.get().to_string()
                on:click=move |_| crate::desktop::set(!on.get_untracked(), move |now| on.set(now))
            >
                "Desktop alerts for mentions"
            </button>
        </Show>
    }
}

#[component]
fn NotificationItem(n: NotificationView, on_navigate: Option<Callback<()>>) -> impl IntoView {
    let live = use_live();
    let store = use_store();
    let sentence = text::notification(&n);
    let room = n.room_id.clone();
    let is_mine = {
        let room = room.clone();
        Memo::new(move |_| {
            room.as_ref()
                .is_some_and(|r| store.with(|s| s.room_entry(r).is_some()))
        })
    };
    let id = n.id.clone();
    let mark_read = Callback::new(move |()| live.dispatch(Local::MarkRead(Some(vec![id.clone()]))));
    let room_id = room.as_ref().map(ToString::to_string).unwrap_or_default();
    let actor_id = n.actor.as_ref().map(|a| a.id.to_string());
    let actions = match (n.kind, room.is_some(), actor_id) {
        (NotificationKind::Invited, true, _) => {
            view! { <InviteActions room_id=room_id.clone() mark_read /> }.into_any()
        }
        (NotificationKind::JoinRequest, true, Some(user_id)) => {
            view! { <RequestActions room_id=room_id.clone() user_id mark_read /> }.into_any()
        }
        _ => ().into_any(),
    };
    let message_id = n.message_id;
    let open_link = room.clone().map(|r| {
        let href = match message_id {
            Some(m) => format!("/rooms/{r}#m{m}"),
            None => format!("/rooms/{r}"),
        };
        view! {
            <Show when=move || is_mine.get()>
                <a
                    href=href.clone()
                    class="link-button"
                    on:click=move |_| {
                        mark_read.run(());
                        if let Some(cb) = on_navigate {
                            cb.run(());
                        }
                    }
                >
                    {if message_id.is_some() { "Open message" } else { "Open room" }}
                </a>
            </Show>
        }
    });
    let unread = {
        let id = n.id.clone();
        Memo::new(move |_| store.with(|s| s.notifications.iter().any(|x| x.id == id && !x.read)))
    };
    let id = StoredValue::new(n.id.to_string());
    view! {
        <li class="notification" class:unread=move || unread.get()>
            <p class="sentence">{sentence}</p>
            <div class="notification-meta">
                <TimeAgo at=n.created_at.clone() />
                {open_link}
                <Show when=move || unread.get()>
                    <MarkRead id=id.get_value() mark_read />
                </Show>
            </div>
            <div class="notification-actions">{actions}</div>
        </li>
    }
    .into_any()
}

#[component]
fn MarkRead(id: String, mark_read: Callback<()>) -> impl IntoView {
    let read = ServerAction::<ReadNotificationsForm>::new();
    view! {
        <ActionForm action=read attr:class="inline-form">
            <input type="hidden" name="id" value=id />
            <button
                type="submit"
                class="link-button"
                on:click=move |ev| {
                    ev.prevent_default();
                    mark_read.run(());
                }
            >
                "Mark read"
            </button>
        </ActionForm>
    }
}

/// Accept or decline an invitation.
#[component]
fn InviteActions(room_id: String, mark_read: Callback<()>) -> impl IntoView {
    let room_id = StoredValue::new(room_id);
    let accept = ServerAction::<AcceptInviteForm>::new();
    let decline = ServerAction::<DeclineInviteForm>::new();
    let error = Signal::derive(move || {
        accept
            .value()
            .get()
            .or_else(|| decline.value().get())
            .and_then(Result::err)
            .map(|e| e.0.message)
    });
    let answered = Signal::derive(move || {
        matches!(accept.value().get(), Some(Ok(())))
            || matches!(decline.value().get(), Some(Ok(())))
    });
    view! {
        <Show when=move || !answered.get() fallback=|| view! { <p class="muted small">"Answered."</p> }>
            <ActionForm action=accept attr:class="inline-form" on:submit=move |_| mark_read.run(())>
                <input type="hidden" name="room_id" value=room_id.get_value() />
                <button type="submit" class="button primary small">"Accept"</button>
            </ActionForm>
            <ActionForm action=decline attr:class="inline-form" on:submit=move |_| mark_read.run(())>
                <input type="hidden" name="room_id" value=room_id.get_value() />
                <button type="submit" class="button secondary small">"Decline"</button>
            </ActionForm>
        </Show>
        <ErrorLine error />
    }
}

/// Approve or deny someone's request to join.
#[component]
fn RequestActions(room_id: String, user_id: String, mark_read: Callback<()>) -> impl IntoView {
    let live = use_live();
    let room = domain::RoomId::from(room_id.as_str());
    let (room_id, user_id) = (StoredValue::new(room_id), StoredValue::new(user_id));
    let approve = ServerAction::<ApproveRequestForm>::new();
    let deny = ServerAction::<DenyRequestForm>::new();
    // Answered: the room's count of waiting requests is read again.
    Effect::new(move |_| {
        if matches!(approve.value().get(), Some(Ok(())))
            || matches!(deny.value().get(), Some(Ok(())))
        {
            live.dispatch(Local::Reload(room.clone()));
        }
    });
    let error = Signal::derive(move || {
        approve
            .value()
            .get()
            .or_else(|| deny.value().get())
            .and_then(Result::err)
            .map(|e| e.0.message)
    });
    let answered = Signal::derive(move || {
        matches!(approve.value().get(), Some(Ok(()))) || matches!(deny.value().get(), Some(Ok(())))
    });
    view! {
        <Show when=move || !answered.get() fallback=|| view! { <p class="muted small">"Answered."</p> }>
            <ActionForm action=approve attr:class="inline-form" on:submit=move |_| mark_read.run(())>
                <MemberFields room=room_id.get_value() user=user_id.get_value() back="/notifications" />
                <button type="submit" class="button primary small">"Approve"</button>
            </ActionForm>
            <ActionForm action=deny attr:class="inline-form" on:submit=move |_| mark_read.run(())>
                <MemberFields room=room_id.get_value() user=user_id.get_value() back="/notifications" />
                <button type="submit" class="button secondary small">"Deny"</button>
            </ActionForm>
        </Show>
        <ErrorLine error />
    }
}

#[component]
fn ErrorLine(error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || error.get().is_some()>
            <p class="field-error" role="alert">{move || error.get()}</p>
        </Show>
    }
}
