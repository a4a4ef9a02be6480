//! The pages' forms: url-encoded twins of the JSON endpoints, so every form works with
//! JavaScript off. Each calls the very server function of its JSON twin, then answers a
//! browser's own post with a redirect (post-redirect-get): to where the action leads on
//! success, back to the form with the server's sentence and the typed text on a refusal;
//! `crate::ssr::form_reply` gives that answer for all of them.
//! Hydrated pages post to them too, through `ActionForm`: they follow the redirects of
//! actions that lead somewhere else (a new room, a room joined or left) and stay put for
//! the rest, which the live channel reflects.

// A twin takes one argument per field its form posts, as the browser posts them flat; the
// settings form has eight. (An allow on the function does not reach the browser's side of
// `#[server]`, which the macro writes.)
#![allow(clippy::too_many_arguments)]

use domain::{NotificationId, ReportId, RoomId, UserId};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

#[cfg(feature = "ssr")]
use crate::ssr::{form_reply, Landing};
use crate::AppError;

/// A room's page, scrolled to its newest message (the timeline ends with `#latest`).
pub fn room_path(room: &RoomId) -> String {
    format!("/rooms/{room}#latest")
}

/// `back` if it is a path on this site, else the start page: a form cannot send anyone
/// elsewhere. It is parsed as a browser parses it (which drops tabs and newlines and reads a
/// backslash as a slash, so `/\t/evil.example` means `//evil.example`), and kept only if it
/// stays on this site.
#[cfg(feature = "ssr")]
pub fn local_path(back: Option<&str>) -> String {
    let Ok(site) = url::Url::parse("http://parlor.invalid/") else {
        return "/".to_owned();
    };
    let parsed = back
        .filter(|b| b.starts_with('/'))
        .and_then(|b| site.join(b).ok())
        .filter(|u| u.origin() == site.origin());
    match parsed {
        Some(u) => u[url::Position::BeforePath..].to_owned(),
        None => "/".to_owned(),
    }
}

/// The answer of a form that stays where it was posted from (its `back` field, kept only
/// if it is a path on this site): back there, with the refusal if there was one. A hydrated
/// page stays put, and the live channel shows the change.
#[cfg(feature = "ssr")]
fn stay<T>(
    result: Result<T, AppError>,
    back: Option<&str>,
    server_fn_path: &str,
    echo: &[(&str, &str)],
) -> Result<(), AppError> {
    let back = local_path(back);
    let landing = |_| Landing::PlainPostOnly(back.clone());
    form_reply(result, landing, &back, server_fn_path, echo)
}

/// Empty form fields mean "not given".
#[cfg(feature = "ssr")]
fn given(field: Option<String>) -> Option<String> {
    field.filter(|v| !v.trim().is_empty())
}

/// The member limit field: a whole number, or empty for none.
#[cfg(feature = "ssr")]
fn member_limit(field: Option<String>) -> Result<Option<i64>, AppError> {
    given(field)
        .map(|n| n.trim().parse::<i64>())
        .transpose()
        .map_err(|_| {
            AppError(domain::ApiError::invalid_field(
                "max_members",
                "A member limit is a whole number, or empty for none.",
            ))
        })
}

#[server(endpoint = "form/rooms/create")]
pub async fn create_room_form(
    name: String,
    topic: Option<String>,
    join_policy: Option<String>,
    max_members: Option<String>,
) -> Result<(), AppError> {
    let result = async {
        let limit = member_limit(max_members.clone())?;
        super::rooms::create_room(
            name.clone(),
            given(topic.clone()),
            join_policy.clone(),
            limit,
        )
        .await
    }
    .await;
    form_reply(
        result,
        |created| Landing::Everyone(room_path(&created.room.id)),
        "/rooms/new",
        CreateRoomForm::PATH,
        &[
            ("name", &name),
            ("topic", topic.as_deref().unwrap_or("")),
            ("join_policy", join_policy.as_deref().unwrap_or("")),
            ("max_members", max_members.as_deref().unwrap_or("")),
        ],
    )
}

/// Joins, asks to join, or takes an invite; lands on the room's page either way (it says
/// which). Refused, it goes back to `back`.
#[server(endpoint = "form/rooms/join")]
pub async fn join_room_form(room_id: String, back: Option<String>) -> Result<(), AppError> {
    let room = RoomId::from(room_id.trim());
    form_reply(
        super::rooms::join_room(room.clone()).await,
        |_| Landing::Everyone(room_path(&room)),
        &local_path(back.as_deref()),
        JoinRoomForm::PATH,
        &[("room_id", room.as_str())],
    )
}

#[server(endpoint = "form/rooms/leave")]
pub async fn leave_room_form(room_id: RoomId) -> Result<(), AppError> {
    form_reply(
        super::rooms::leave_room(room_id.clone()).await,
        |_| Landing::Everyone("/".to_owned()),
        &format!("/rooms/{room_id}/leave"),
        LeaveRoomForm::PATH,
        &[],
    )
}

/// The composer without JavaScript: a text, or a sticker when one of the sticker buttons
/// was pressed. `client_id` comes with the page, so posting the same form twice (a reload
/// that resends it) stores the message once.
#[server(endpoint = "form/messages/send")]
pub async fn send_message_form(
    room_id: RoomId,
    client_id: String,
    body: Option<String>,
    sticker: Option<String>,
    color: Option<String>,
    reply_to: Option<String>,
) -> Result<(), AppError> {
    let sticker = given(sticker);
    let text = if sticker.is_some() {
        None
    } else {
        body.clone()
    };
    let result = super::messages::send_message(
        room_id.clone(),
        client_id,
        text,
        given(color),
        sticker,
        given(reply_to.clone()),
    )
    .await;
    // A refused reply goes back to the composer still answering its message.
    let page = match given(reply_to) {
        Some(r) => format!("/rooms/{room_id}?reply={}", digits(&r)),
        None => format!("/rooms/{room_id}"),
    };
    form_reply(
        result,
        |_| Landing::Everyone(room_path(&room_id)),
        &page,
        SendMessageForm::PATH,
        &[("body", body.as_deref().unwrap_or(""))],
    )
}

/// A reaction without JavaScript: each emoji under a message is a button of a small form.
#[server(endpoint = "form/messages/react")]
pub async fn react_form(
    room_id: RoomId,
    message_id: String,
    emoji: String,
    on: String,
) -> Result<(), AppError> {
    let result = super::messages::react_to_message(message_id.clone(), emoji, on == "true").await;
    form_reply(
        result,
        |_| Landing::PlainPostOnly(message_path(&room_id, &message_id)),
        &message_path(&room_id, &message_id),
        ReactForm::PATH,
        &[],
    )
}

/// Marking a room read without JavaScript: the "Mark as read" button under the "new
/// messages" divider.
#[server(endpoint = "form/rooms/read")]
pub async fn mark_read_form(room_id: RoomId, message_id: String) -> Result<(), AppError> {
    let result = super::rooms::mark_room_read(room_id.clone(), message_id).await;
    form_reply(
        result,
        |_| Landing::PlainPostOnly(room_path(&room_id)),
        &room_path(&room_id),
        MarkReadForm::PATH,
        &[],
    )
}

/// Where a changed message is seen: its room's page, at the message. Only the digits of a
/// typed id go into an address.
pub fn message_path(room: &RoomId, message_id: &str) -> String {
    format!("/rooms/{room}#m{}", digits(message_id))
}

/// The page of a message's dialog (`edit`, `delete`, `versions`, `report`).
pub fn message_dialog_path(room: &RoomId, message_id: &str, dialog: &str) -> String {
    format!("/rooms/{room}/messages/{}/{dialog}", digits(message_id))
}

fn digits(id: &str) -> String {
    id.chars().filter(char::is_ascii_digit).take(19).collect()
}

/// Editing a message without JavaScript: the edit dialog's page posts here, and lands on
/// the message in its room.
#[server(endpoint = "form/messages/edit")]
pub async fn edit_message_form(
    room_id: RoomId,
    message_id: String,
    body: String,
) -> Result<(), AppError> {
    let result = super::messages::edit_message(message_id.clone(), body.clone()).await;
    form_reply(
        result,
        |_| Landing::Everyone(message_path(&room_id, &message_id)),
        &message_dialog_path(&room_id, &message_id, "edit"),
        EditMessageForm::PATH,
        &[("body", &body)],
    )
}

/// Deleting a message after its confirm page.
#[server(endpoint = "form/messages/delete")]
pub async fn delete_message_form(
    room_id: RoomId,
    message_id: String,
    reason: Option<String>,
) -> Result<(), AppError> {
    let result = super::messages::delete_message(message_id.clone(), given(reason.clone())).await;
    form_reply(
        result,
        |_| Landing::Everyone(message_path(&room_id, &message_id)),
        &message_dialog_path(&room_id, &message_id, "delete"),
        DeleteMessageForm::PATH,
        &[("reason", reason.as_deref().unwrap_or(""))],
    )
}

/// Reporting a message after its dialog page (`/rooms/{id}/messages/{message}/report`):
/// back to the message once filed.
#[server(endpoint = "form/messages/report")]
pub async fn report_message_form(
    room_id: RoomId,
    message_id: String,
    reason: String,
    text: Option<String>,
) -> Result<(), AppError> {
    let result =
        super::messages::report_message(message_id.clone(), reason.clone(), given(text.clone()))
            .await;
    form_reply(
        result,
        |_| Landing::PlainPostOnly(message_path(&room_id, &message_id)),
        &message_dialog_path(&room_id, &message_id, "report"),
        ReportMessageForm::PATH,
        &[("reason", &reason), ("text", text.as_deref().unwrap_or(""))],
    )
}

#[server(endpoint = "form/invites/accept")]
pub async fn accept_invite_form(room_id: RoomId) -> Result<(), AppError> {
    form_reply(
        super::rooms::accept_invite(room_id.clone()).await,
        |_| Landing::Everyone(room_path(&room_id)),
        "/notifications",
        AcceptInviteForm::PATH,
        &[],
    )
}

#[server(endpoint = "form/invites/decline")]
pub async fn decline_invite_form(room_id: RoomId) -> Result<(), AppError> {
    form_reply(
        super::rooms::decline_invite(room_id).await,
        |_| Landing::PlainPostOnly("/notifications".to_owned()),
        "/notifications",
        DeclineInviteForm::PATH,
        &[],
    )
}

/// Marks one notification read, or all of them when `id` is absent.
#[server(endpoint = "form/notifications/read")]
pub async fn read_notifications_form(id: Option<NotificationId>) -> Result<(), AppError> {
    let (ids, all) = match id {
        Some(id) => (Some(vec![id]), None),
        None => (None, Some(true)),
    };
    super::notifications::read_notifications(ids, all).await?;
    crate::ssr::redirect_plain_post("/notifications");
    Ok(())
}

/// An admin's answer to a join request; back to where it was given.
#[server(endpoint = "form/rooms/approve")]
pub async fn approve_request_form(
    room_id: RoomId,
    user_id: UserId,
    back: Option<String>,
) -> Result<(), AppError> {
    let result = super::rooms::approve_request(room_id, user_id).await;
    stay(result, back.as_deref(), ApproveRequestForm::PATH, &[])
}

/// A decline; a `ban` field (the "Decline and ban" button) bans the requester too.
#[server(endpoint = "form/rooms/deny")]
pub async fn deny_request_form(
    room_id: RoomId,
    user_id: UserId,
    ban: Option<String>,
    reason: Option<String>,
    back: Option<String>,
) -> Result<(), AppError> {
    let result =
        super::rooms::deny_request(room_id, user_id, Some(ban.is_some()), given(reason)).await;
    stay(result, back.as_deref(), DenyRequestForm::PATH, &[])
}

#[server(endpoint = "form/rooms/kick")]
pub async fn kick_member_form(
    room_id: RoomId,
    user_id: UserId,
    reason: Option<String>,
    back: Option<String>,
) -> Result<(), AppError> {
    let result = super::rooms::kick_member(room_id, user_id, given(reason.clone())).await;
    let echo = [("reason", reason.as_deref().unwrap_or(""))];
    stay(result, back.as_deref(), KickMemberForm::PATH, &echo)
}

/// A whole number typed or chosen in `field`, or empty for none.
#[cfg(feature = "ssr")]
fn whole_number(field: &str, value: Option<String>) -> Result<Option<i64>, AppError> {
    given(value)
        .map(|n| n.trim().parse::<i64>())
        .transpose()
        .map_err(|_| {
            AppError(domain::ApiError::invalid_field(
                field,
                "Choose a duration from the list.",
            ))
        })
}

/// `user` is an id or a username; `minutes` empty is a permanent ban; `purge_minutes`
/// empty deletes none of their messages.
#[server(endpoint = "form/rooms/ban")]
pub async fn ban_user_form(
    room_id: RoomId,
    user: String,
    reason: Option<String>,
    minutes: Option<String>,
    purge_minutes: Option<String>,
    back: Option<String>,
) -> Result<(), AppError> {
    let result = async {
        let minutes = whole_number("minutes", minutes.clone())?;
        let purge_minutes = whole_number("purge_minutes", purge_minutes.clone())?;
        super::rooms::ban_user(
            room_id,
            user.clone(),
            given(reason.clone()),
            minutes,
            purge_minutes,
        )
        .await
    }
    .await;
    let echo = [
        ("user", user.as_str()),
        ("reason", reason.as_deref().unwrap_or("")),
    ];
    stay(result, back.as_deref(), BanUserForm::PATH, &echo)
}

/// A timeout; `user` is an id or a username. `custom_minutes`, when typed, is the length
/// instead of the list's `minutes`.
#[server(endpoint = "form/rooms/mute")]
pub async fn mute_form(
    room_id: RoomId,
    user: String,
    minutes: Option<String>,
    custom_minutes: Option<String>,
    reason: Option<String>,
    back: Option<String>,
) -> Result<(), AppError> {
    let result = async {
        let chosen = given(custom_minutes.clone()).or(minutes.clone());
        let Some(minutes) = whole_number("minutes", chosen)? else {
            return Err(AppError(domain::ApiError::invalid_field(
                "minutes",
                "Choose how long the timeout lasts.",
            )));
        };
        super::rooms::mute_member(room_id, user.clone(), minutes, given(reason.clone())).await
    }
    .await;
    let echo = [("reason", reason.as_deref().unwrap_or(""))];
    stay(result, back.as_deref(), MuteForm::PATH, &echo)
}

#[server(endpoint = "form/rooms/unmute")]
pub async fn unmute_form(
    room_id: RoomId,
    user_id: UserId,
    back: Option<String>,
) -> Result<(), AppError> {
    let result = super::rooms::unmute_member(room_id, user_id).await;
    stay(result, back.as_deref(), UnmuteForm::PATH, &[])
}

#[server(endpoint = "form/rooms/promote")]
pub async fn promote_form(
    room_id: RoomId,
    user_id: UserId,
    back: Option<String>,
) -> Result<(), AppError> {
    let result = super::rooms::promote_member(room_id, user_id).await;
    stay(result, back.as_deref(), PromoteForm::PATH, &[])
}

#[server(endpoint = "form/rooms/demote")]
pub async fn demote_form(
    room_id: RoomId,
    user_id: UserId,
    back: Option<String>,
) -> Result<(), AppError> {
    let result = super::rooms::demote_admin(room_id, user_id).await;
    stay(result, back.as_deref(), DemoteForm::PATH, &[])
}

#[server(endpoint = "form/rooms/transfer")]
pub async fn transfer_form(
    room_id: RoomId,
    user_id: UserId,
    back: Option<String>,
) -> Result<(), AppError> {
    let result = super::rooms::transfer_ownership(room_id, user_id).await;
    stay(result, back.as_deref(), TransferForm::PATH, &[])
}

#[server(endpoint = "form/rooms/unban")]
pub async fn unban_form(
    room_id: RoomId,
    user_id: UserId,
    back: Option<String>,
) -> Result<(), AppError> {
    let result = super::rooms::unban_user(room_id, user_id).await;
    stay(result, back.as_deref(), UnbanForm::PATH, &[])
}

/// An admin's answer to a report: `action` is the button pressed (`dismiss`, `delete`,
/// `mute`, `kick`, `ban`); `minutes` empty is none (a permanent ban). The inbox offers a
/// length for each of timeout and ban (`mute_minutes`, `ban_minutes`): the pressed
/// button's is the one used, and the other actions take none.
#[server(endpoint = "form/rooms/resolve")]
pub async fn resolve_report_form(
    report_id: ReportId,
    action: String,
    minutes: Option<String>,
    mute_minutes: Option<String>,
    ban_minutes: Option<String>,
    reason: Option<String>,
    back: Option<String>,
) -> Result<(), AppError> {
    let result = async {
        let chosen = match action.trim() {
            "mute" => given(mute_minutes.clone()).or(minutes.clone()),
            "ban" => given(ban_minutes.clone()).or(minutes.clone()),
            _ => minutes.clone(),
        };
        let minutes = whole_number("minutes", chosen)?;
        super::rooms::resolve_report(report_id, action.clone(), minutes, given(reason.clone()))
            .await
    }
    .await;
    let echo = [("reason", reason.as_deref().unwrap_or(""))];
    stay(result, back.as_deref(), ResolveReportForm::PATH, &echo)
}

/// `user` is a username or an id.
#[server(endpoint = "form/rooms/invite")]
pub async fn invite_form(
    room_id: RoomId,
    user: String,
    back: Option<String>,
) -> Result<(), AppError> {
    let result = super::rooms::invite_user(room_id, user.clone()).await;
    stay(
        result,
        back.as_deref(),
        InviteForm::PATH,
        &[("user", &user)],
    )
}

/// The settings form: every field is sent; an empty topic clears it, an empty limit too,
/// and an unticked "announcement room" box turns it off. One argument per form field, as
/// the browser posts them flat.
#[server(endpoint = "form/rooms/update")]
pub async fn update_room_form(
    room_id: RoomId,
    topic: Option<String>,
    join_policy: Option<String>,
    max_members: Option<String>,
    slow_mode_seconds: Option<String>,
    announcement: Option<String>,
    request_cooldown_hours: Option<String>,
    back: Option<String>,
) -> Result<(), AppError> {
    let result = async {
        let limit = member_limit(max_members.clone())?.unwrap_or(0);
        let slow = whole_number("slow_mode_seconds", slow_mode_seconds.clone())?;
        let cooldown = whole_number("request_cooldown_hours", request_cooldown_hours.clone())?
            .map(|hours| hours.saturating_mul(3600));
        super::rooms::update_room(
            room_id,
            Some(topic.clone().unwrap_or_default()),
            given(join_policy.clone()),
            Some(limit),
            slow,
            Some(announcement.is_some()),
            cooldown,
        )
        .await
    }
    .await;
    let echo = [
        ("topic", topic.as_deref().unwrap_or("")),
        ("join_policy", join_policy.as_deref().unwrap_or("")),
        ("max_members", max_members.as_deref().unwrap_or("")),
    ];
    stay(result, back.as_deref(), UpdateRoomForm::PATH, &echo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_only_send_people_back_to_this_site() {
        assert_eq!(local_path(Some("/rooms?q=x")), "/rooms?q=x");
        assert_eq!(local_path(Some("//evil.example/")), "/");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }
}
