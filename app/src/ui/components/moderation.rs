//! The confirm step before timing out, removing, banning or handing the room to someone: it
//! says what will happen, asks how long (timeout and ban) and for a reason they will see
//! (all but handing on), and posts the form. One component for the room's people panel and
//! the admin pages, so both say and post the same; the few ways they differ are its props.

use domain::{RoomId, User};
use leptos::{form::ActionForm, prelude::*};

use super::widgets::{Dialog, FormError};
use crate::{
    api::forms::{BanUserForm, KickMemberForm, MuteForm, TransferForm},
    AppError,
};

/// What a moderator is about to do to someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moderation {
    Mute,
    Kick,
    Ban,
    Transfer,
}

impl Moderation {
    /// The dialog's title, what it says will happen to `name`, and its button.
    fn wording(self, name: &str) -> (String, String, String) {
        match self {
            Self::Mute => (
                format!("Time out {name}?"),
                format!("{name} stays in the room and can read it, but cannot send, edit, react or upload until the timeout ends. They are told why."),
                format!("Time out {name}"),
            ),
            Self::Kick => (
                format!("Remove {name}?"),
                format!("{name} leaves the room now and is told why. They may ask to join again."),
                format!("Remove {name}"),
            ),
            Self::Ban => (
                format!("Ban {name}?"),
                format!("{name} leaves the room now, and cannot see it or come back while the ban lasts. An admin can lift it at any time."),
                format!("Ban {name}"),
            ),
            Self::Transfer => (
                format!("Make {name} the owner?"),
                format!("{name} becomes the room's owner, and you stay an admin. Only the owner can promote, demote and hand the room on."),
                format!("Make {name} the owner"),
            ),
        }
    }
}

/// How the dialog's Cancel is offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancel {
    /// A link to this address: the dialog is a page of its own, which works without
    /// JavaScript (the admin pages).
    Link(String),
    /// A button that closes it: the dialog exists only in the hydrated page (the people
    /// panel).
    Button,
}

#[component]
pub fn ModerationDialog(
    what: Moderation,
    room: RoomId,
    /// Who it is done to.
    user: User,
    /// The form's `back` field: where a browser's own post lands.
    back: String,
    cancel: Cancel,
    /// Disables the button while the form is on its way (the people panel does; the admin
    /// page's dialog, a page of its own, never did).
    #[prop(optional)]
    lock_while_pending: bool,
    /// Esc, and the Cancel button.
    on_close: Callback<()>,
    /// The action worked.
    on_done: Callback<()>,
) -> impl IntoView {
    let forms = Forms::new(on_done);
    let pending = forms.pending();
    let (title, says, label) = what.wording(&user.username);
    let fields = view! {
        <input type="hidden" name="room_id" value=room.to_string() />
        <input type="hidden" name="back" value=back />
    };
    let id = user.id.to_string();
    let buttons = view! {
        <FormError error=forms.error() />
        <div class="dialog-actions">
            <CancelButton cancel on_close />
            <button
                type="submit"
                class="button danger"
                disabled=move || lock_while_pending && pending.get()
            >
                {label}
            </button>
        </div>
    };
    let form = moderation_form(what, forms, fields, id, buttons);
    view! {
        <Dialog title on_close>
            <p>{says}</p>
            {form}
        </Dialog>
    }
}

/// The form of one kind of moderation: the room and way back (`fields`), the person (`user`,
/// an id), what the kind asks for, and the buttons.
fn moderation_form(
    what: Moderation,
    forms: Forms,
    fields: impl IntoView + 'static,
    user: String,
    buttons: impl IntoView + 'static,
) -> AnyView {
    match what {
        Moderation::Mute => view! {
            <ActionForm action=forms.mute>
                {fields}
                <input type="hidden" name="user" value=user />
                <DurationField label="How long" choices=&MUTE_LENGTHS />
                <div class="field">
                    <label for="moderation-custom">"Or minutes " <span class="muted">"(1 to 40320, 28 days; overrides the list)"</span></label>
                    <input id="moderation-custom" name="custom_minutes" type="number" min="1" max="40320" inputmode="numeric" />
                </div>
                <ReasonField />
                {buttons}
            </ActionForm>
        }
        .into_any(),
        Moderation::Kick => view! {
            <ActionForm action=forms.kick>
                {fields}
                <input type="hidden" name="user_id" value=user />
                <ReasonField />
                {buttons}
            </ActionForm>
        }
        .into_any(),
        Moderation::Ban => view! {
            <ActionForm action=forms.ban>
                {fields}
                <input type="hidden" name="user" value=user />
                <DurationField label="How long" choices=&BAN_LENGTHS />
                <PurgeField />
                <ReasonField />
                {buttons}
            </ActionForm>
        }
        .into_any(),
        Moderation::Transfer => view! {
            <ActionForm action=forms.transfer>
                {fields}
                <input type="hidden" name="user_id" value=user />
                {buttons}
            </ActionForm>
        }
        .into_any(),
    }
}

/// The forms a dialog may post (it shows one), and what they answered.
#[derive(Clone, Copy)]
struct Forms {
    mute: ServerAction<MuteForm>,
    kick: ServerAction<KickMemberForm>,
    ban: ServerAction<BanUserForm>,
    transfer: ServerAction<TransferForm>,
}

impl Forms {
    /// The forms; `on_done` runs once one of them worked.
    fn new(on_done: Callback<()>) -> Self {
        let forms = Self {
            mute: ServerAction::new(),
            kick: ServerAction::new(),
            ban: ServerAction::new(),
            transfer: ServerAction::new(),
        };
        Effect::new(move |_| {
            let worked = |value: Option<Result<(), AppError>>| matches!(value, Some(Ok(())));
            if worked(forms.mute.value().get())
                || worked(forms.kick.value().get())
                || worked(forms.ban.value().get())
                || worked(forms.transfer.value().get())
            {
                on_done.run(());
            }
        });
        forms
    }

    /// The server's sentence, when it refused.
    fn error(self) -> Signal<Option<String>> {
        Signal::derive(move || {
            self.mute
                .value()
                .get()
                .or_else(|| self.kick.value().get())
                .or_else(|| self.ban.value().get())
                .or_else(|| self.transfer.value().get())
                .and_then(Result::err)
                .map(|e| e.0.message)
        })
    }

    /// A form is on its way.
    fn pending(self) -> Signal<bool> {
        Signal::derive(move || {
            self.mute.pending().get()
                || self.kick.pending().get()
                || self.ban.pending().get()
                || self.transfer.pending().get()
        })
    }
}

#[component]
fn CancelButton(cancel: Cancel, on_close: Callback<()>) -> impl IntoView {
    match cancel {
        Cancel::Link(href) => {
            view! { <a href=href class="button secondary">"Cancel"</a> }.into_any()
        }
        Cancel::Button => view! {
            <button type="button" class="button secondary" on:click=move |_| on_close.run(())>
                "Cancel"
            </button>
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

/// A timeout's lengths, in minutes (the form's `minutes`), shortest first.
pub const MUTE_LENGTHS: [(&str, &str); 5] = [
    ("5", "5 minutes"),
    ("60", "1 hour"),
    ("1440", "1 day"),
    ("10080", "1 week"),
    ("40320", "28 days"),
];

/// A ban's lengths, in minutes; empty is for good (as a ban always was, it comes first).
pub const BAN_LENGTHS: [(&str, &str); 5] = [
    ("", "Permanent"),
    ("60", "1 hour"),
    ("1440", "1 day"),
    ("10080", "1 week"),
    ("43200", "30 days"),
];

/// How long a timeout or ban lasts: one of `choices`, the first chosen to begin with.
#[component]
pub fn DurationField(
    label: &'static str,
    choices: &'static [(&'static str, &'static str)],
    /// Its id, for the label (one dialog is open at a time, so the default is enough there).
    #[prop(default = "moderation-minutes")]
    id: &'static str,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id name="minutes">
                {choices
                    .iter()
                    .map(|&(minutes, words)| view! { <option value=minutes>{words}</option> })
                    .collect_view()}
            </select>
        </div>
    }
}

/// Ban and purge: how far back the person's messages in the room are deleted with the ban
/// (the form's `purge_minutes`); none to begin with.
pub const PURGE_LENGTHS: [(&str, &str); 4] = [
    ("", "Keep their messages"),
    ("60", "From the last hour"),
    ("1440", "From the last day"),
    ("10080", "From the last week"),
];

#[component]
fn PurgeField() -> impl IntoView {
    view! {
        <div class="field">
            <label for="moderation-purge">"Delete their messages"</label>
            <select id="moderation-purge" name="purge_minutes">
                {PURGE_LENGTHS
                    .iter()
                    .map(|&(minutes, words)| view! { <option value=minutes>{words}</option> })
                    .collect_view()}
            </select>
        </div>
    }
}
