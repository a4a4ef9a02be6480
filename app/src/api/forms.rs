//! The pages' forms: url-encoded twins of the JSON endpoints, so every form works with
//! JavaScript off. Each calls the very server function of its JSON twin, then answers a
//! browser's own post with a redirect (post-redirect-get): to where the action leads on
//! success, back to the form with the server's sentence and the typed text on a refusal.
//! Hydrated pages post to them too, through `ActionForm`: they follow the redirects of
//! actions that lead somewhere else (a new room, a room joined or left) and stay put for
//! the rest, which the live channel reflects.

use domain::{NotificationId, RoomId, UserId};
use leptos::prelude::*;

use crate::AppError;

/// A room's page, scrolled to its newest message (the timeline ends with `#latest`).
pub fn room_path(room: &RoomId) -> String {
    format!("/rooms/{room}#latest")
}

/// `back` if it is a path on this site, else the start page: a form cannot send anyone
/// elsewhere.
pub fn local_path(back: Option<&str>) -> String {
    match back {
        Some(b) if b.starts_with('/') && !b.starts_with("//") && !b.contains('\\') => b.to_owned(),
        _ => "/".to_owned(),
    }
}

/// Empty form fields mean "not given".
#[cfg(feature = "ssr")]
fn given(field: Option<String>) -> Option<String> {
    field.filter(|v| !v.trim().is_empty())
}

#[server(endpoint = "form/rooms/create")]
pub async fn create_room_form(
    name: String,
    topic: Option<String>,
    join_policy: Option<String>,
    max_members: Option<String>,
) -> Result<(), AppError> {
    use server_fn::ServerFn;
    let limit = given(max_members.clone());
    let parsed_limit = match limit.as_deref().map(str::trim).map(str::parse::<i64>) {
        None => Ok(None),
        Some(Ok(n)) => Ok(Some(n)),
        Some(Err(_)) => Err(AppError(domain::ApiError::invalid_field(
            "max_members",
            "A member limit is a whole number, or empty for none.",
        ))),
    };
    let result = match parsed_limit {
        Ok(limit) => {
            super::rooms::create_room(
                name.clone(),
                given(topic.clone()),
                join_policy.clone(),
                limit,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(created) => {
            leptos_axum::redirect(&room_path(&created.room.id));
            Ok(())
        }
        Err(e) => Err(crate::ssr::back_to_form(
            "/rooms/new",
            CreateRoomForm::PATH,
            &[
                ("name", &name),
                ("topic", topic.as_deref().unwrap_or("")),
                ("join_policy", join_policy.as_deref().unwrap_or("")),
                ("max_members", max_members.as_deref().unwrap_or("")),
            ],
            e,
        )),
    }
}

/// Joins, asks to join, or takes an invite; lands on the room's page either way (it says
/// which). Refused, it goes back to `back`.
#[server(endpoint = "form/rooms/join")]
pub async fn join_room_form(room_id: String, back: Option<String>) -> Result<(), AppError> {
    use server_fn::ServerFn;
    let room = RoomId::from(room_id.trim());
    match super::rooms::join_room(room.clone()).await {
        Ok(_) => {
            leptos_axum::redirect(&room_path(&room));
            Ok(())
        }
        Err(e) => Err(crate::ssr::back_to_form(
            &local_path(back.as_deref()),
            JoinRoomForm::PATH,
            &[("room_id", room.as_str())],
            e,
        )),
    }
}

#[server(endpoint = "form/rooms/leave")]
pub async fn leave_room_form(room_id: RoomId) -> Result<(), AppError> {
    use server_fn::ServerFn;
    match super::rooms::leave_room(room_id.clone()).await {
        Ok(_) => {
            leptos_axum::redirect("/");
            Ok(())
        }
        Err(e) => Err(crate::ssr::back_to_form(
            &format!("/rooms/{room_id}/leave"),
            LeaveRoomForm::PATH,
            &[],
            e,
        )),
    }
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
) -> Result<(), AppError> {
    use server_fn::ServerFn;
    let sticker = given(sticker);
    let text = if sticker.is_some() {
        None
    } else {
        body.clone()
    };
    match super::messages::send_message(room_id.clone(), client_id, text, given(color), sticker)
        .await
    {
        Ok(_) => {
            leptos_axum::redirect(&room_path(&room_id));
            Ok(())
        }
        Err(e) => Err(crate::ssr::back_to_form(
            &format!("/rooms/{room_id}"),
            SendMessageForm::PATH,
            &[("body", body.as_deref().unwrap_or(""))],
            e,
        )),
    }
}

#[server(endpoint = "form/invites/accept")]
pub async fn accept_invite_form(room_id: RoomId) -> Result<(), AppError> {
    use server_fn::ServerFn;
    match super::rooms::accept_invite(room_id.clone()).await {
        Ok(_) => {
            leptos_axum::redirect(&room_path(&room_id));
            Ok(())
        }
        Err(e) => Err(crate::ssr::back_to_form(
            "/notifications",
            AcceptInviteForm::PATH,
            &[],
            e,
        )),
    }
}

#[server(endpoint = "form/invites/decline")]
pub async fn decline_invite_form(room_id: RoomId) -> Result<(), AppError> {
    use server_fn::ServerFn;
    match super::rooms::decline_invite(room_id).await {
        Ok(_) => {
            crate::ssr::redirect_plain_post("/notifications");
            Ok(())
        }
        Err(e) => Err(crate::ssr::back_to_form(
            "/notifications",
            DeclineInviteForm::PATH,
            &[],
            e,
        )),
    }
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
    use server_fn::ServerFn;
    let back = local_path(back.as_deref());
    match super::rooms::approve_request(room_id, user_id).await {
        Ok(_) => {
            crate::ssr::redirect_plain_post(&back);
            Ok(())
        }
        Err(e) => Err(crate::ssr::back_to_form(
            &back,
            ApproveRequestForm::PATH,
            &[],
            e,
        )),
    }
}

#[server(endpoint = "form/rooms/deny")]
pub async fn deny_request_form(
    room_id: RoomId,
    user_id: UserId,
    back: Option<String>,
) -> Result<(), AppError> {
    use server_fn::ServerFn;
    let back = local_path(back.as_deref());
    match super::rooms::deny_request(room_id, user_id).await {
        Ok(_) => {
            crate::ssr::redirect_plain_post(&back);
            Ok(())
        }
        Err(e) => Err(crate::ssr::back_to_form(
            &back,
            DenyRequestForm::PATH,
            &[],
            e,
        )),
    }
}

#[server(endpoint = "form/rooms/kick")]
pub async fn kick_member_form(
    room_id: RoomId,
    user_id: UserId,
    reason: Option<String>,
    back: Option<String>,
) -> Result<(), AppError> {
    use server_fn::ServerFn;
    let back = local_path(back.as_deref());
    match super::rooms::kick_member(room_id, user_id, given(reason.clone())).await {
        Ok(_) => {
            crate::ssr::redirect_plain_post(&back);
            Ok(())
        }
        Err(e) => Err(crate::ssr::back_to_form(
            &back,
            KickMemberForm::PATH,
            &[("reason", reason.as_deref().unwrap_or(""))],
            e,
        )),
    }
}

/// `user` is an id or a username.
#[server(endpoint = "form/rooms/ban")]
pub async fn ban_user_form(
    room_id: RoomId,
    user: String,
    reason: Option<String>,
    back: Option<String>,
) -> Result<(), AppError> {
    use server_fn::ServerFn;
    let back = local_path(back.as_deref());
    match super::rooms::ban_user(room_id, user.clone(), given(reason.clone())).await {
        Ok(_) => {
            crate::ssr::redirect_plain_post(&back);
            Ok(())
        }
        Err(e) => Err(crate::ssr::back_to_form(
            &back,
            BanUserForm::PATH,
            &[("user", &user), ("reason", reason.as_deref().unwrap_or(""))],
            e,
        )),
    }
}

#[server(endpoint = "form/rooms/promote")]
pub async fn promote_form(
    room_id: RoomId,
    user_id: UserId,
    back: Option<String>,
) -> Result<(), AppError> {
    use server_fn::ServerFn;
    let back = local_path(back.as_deref());
    match super::rooms::promote_member(room_id, user_id).await {
        Ok(_) => {
            crate::ssr::redirect_plain_post(&back);
            Ok(())
        }
        Err(e) => Err(crate::ssr::back_to_form(&back, PromoteForm::PATH, &[], e)),
    }
}

#[server(endpoint = "form/rooms/demote")]
pub async fn demote_form(
    room_id: RoomId,
    user_id: UserId,
    back: Option<String>,
) -> Result<(), AppError> {
    use server_fn::ServerFn;
    let back = local_path(back.as_deref());
    match super::rooms::demote_admin(room_id, user_id).await {
        Ok(_) => {
            crate::ssr::redirect_plain_post(&back);
            Ok(())
        }
        Err(e) => Err(crate::ssr::back_to_form(&back, DemoteForm::PATH, &[], e)),
    }
}

#[server(endpoint = "form/rooms/transfer")]
pub async fn transfer_form(
    room_id: RoomId,
    user_id: UserId,
    back: Option<String>,
) -> Result<(), AppError> {
    use server_fn::ServerFn;
    let back = local_path(back.as_deref());
    match super::rooms::transfer_ownership(room_id, user_id).await {
        Ok(_) => {
            crate::ssr::redirect_plain_post(&back);
            Ok(())
        }
        Err(e) => Err(crate::ssr::back_to_form(&back, TransferForm::PATH, &[], e)),
    }
}

#[server(endpoint = "form/rooms/unban")]
pub async fn unban_form(
    room_id: RoomId,
    user_id: UserId,
    back: Option<String>,
) -> Result<(), AppError> {
    use server_fn::ServerFn;
    let back = local_path(back.as_deref());
    match super::rooms::unban_user(room_id, user_id).await {
        Ok(_) => {
            crate::ssr::redirect_plain_post(&back);
            Ok(())
        }
        Err(e) => Err(crate::ssr::back_to_form(&back, UnbanForm::PATH, &[], e)),
    }
}

/// `user` is a username or an id.
#[server(endpoint = "form/rooms/invite")]
pub async fn invite_form(
    room_id: RoomId,
    user: String,
    back: Option<String>,
) -> Result<(), AppError> {
    use server_fn::ServerFn;
    let back = local_path(back.as_deref());
    match super::rooms::invite_user(room_id, user.clone()).await {
        Ok(_) => {
            crate::ssr::redirect_plain_post(&back);
            Ok(())
        }
        Err(e) => Err(crate::ssr::back_to_form(
            &back,
            InviteForm::PATH,
            &[("user", &user)],
            e,
        )),
    }
}

/// The settings form: every field is sent; an empty topic clears it, an empty limit too.
#[server(endpoint = "form/rooms/update")]
pub async fn update_room_form(
    room_id: RoomId,
    topic: Option<String>,
    join_policy: Option<String>,
    max_members: Option<String>,
    back: Option<String>,
) -> Result<(), AppError> {
    use server_fn::ServerFn;
    let back = local_path(back.as_deref());
    let limit = match given(max_members.clone()).map(|n| n.trim().parse::<i64>()) {
        None => Ok(0),
        Some(Ok(n)) => Ok(n),
        Some(Err(_)) => Err(AppError(domain::ApiError::invalid_field(
            "max_members",
            "A member limit is a whole number, or empty for none.",
        ))),
    };
    let result = match limit {
        Ok(limit) => super::rooms::update_room(
            room_id,
            Some(topic.clone().unwrap_or_default()),
            given(join_policy.clone()),
            Some(limit),
        )
        .await
        .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            crate::ssr::redirect_plain_post(&back);
            Ok(())
        }
        Err(e) => Err(crate::ssr::back_to_form(
            &back,
            UpdateRoomForm::PATH,
            &[
                ("topic", topic.as_deref().unwrap_or("")),
                ("join_policy", join_policy.as_deref().unwrap_or("")),
                ("max_members", max_members.as_deref().unwrap_or("")),
            ],
            e,
        )),
    }
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
