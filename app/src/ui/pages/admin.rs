//! A room's admin pages (`/rooms/{id}/admin`): members with the actions the rank rules
//! allow, pending requests, invitations, bans, settings and the moderation log. Kick, ban
//! and handing ownership on ask first, in a dialog over the page (`…/admin/kick/{user}` and
//! so on), which is also a page of its own without JavaScript. Every action is a form.
//!
//! A member who is not an admin gets a page that says so (403); anyone else gets the same
//! "no such room" as the API (404).

use domain::{
    effects::LogKind,
    room::{may_moderate, JoinPolicy, Role},
    views::{LogEntryView, MemberView},
    ErrorCode, RoomId, UserId,
};
use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::{
    components::Outlet,
    hooks::{use_navigate, use_params_map, use_query_map},
};

use super::not_found::set_status;
use crate::{
    api::{
        forms::{
            ApproveRequestForm, BanUserForm, DemoteForm, DenyRequestForm, InviteForm,
            KickMemberForm, PromoteForm, TransferForm, UnbanForm, UpdateRoomForm,
        },
        rooms::{room_admin, search_usernames, AdminView},
    },
    store::{text, use_store},
    ui::{
        components::widgets::{Dialog, ErrorPanel, TimeAgo},
        layout::PageBar,
    },
    AppError,
};

/// What the admin pages share: the room's data, and a way to load it again after a change.
#[derive(Clone, Copy)]
struct Admin {
    data: RwSignal<AdminView>,
    /// Bumped after every action and live change: the data and the log load again, in
    /// place (the page is not rebuilt, so forms in flight are not lost).
    version: RwSignal<u32>,
}

fn admin_path(room: &RoomId) -> String {
    format!("/rooms/{room}/admin")
}

/// An action's outcome: on success the page reloads its data; the error, if any, to show.
fn after_action<A>(action: ServerAction<A>, version: RwSignal<u32>) -> Signal<Option<String>>
where
    A: leptos::server_fn::ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(()))) {
            version.update(|v| *v += 1);
        }
    });
    Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.0.message)
    })
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| RoomId::from(params.read().get("id").unwrap_or_default()));
    let (kind, cursor) = log_query();
    let data = Resource::new_blocking(
        move || (id.get(), kind.get(), cursor.get()),
        |(id, kind, cursor)| room_admin(id, kind, cursor),
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => {
                        let admin = Admin { data: RwSignal::new(view), version: RwSignal::new(0) };
                        provide_context(admin);
                        view! { <AdminBody admin /> <Outlet /> }.into_any()
                    }
                    Err(e) => view! { <Refused error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Loads the page's data again whenever `version` moves: after an action here, and when a
/// live change to the room (a member, a request) arrives.
fn keep_fresh(admin: Admin) {
    let store = use_store();
    let live = crate::live::use_live();
    let room = admin.data.with_untracked(|v| v.room.id.clone());
    let pulse = {
        let room = room.clone();
        Memo::new(move |_| {
            store.with(|s| {
                let members = s.conversation(&room).map_or(0, |c| c.members.len());
                let news = s
                    .notifications
                    .iter()
                    .filter(|n| n.room_id.as_ref() == Some(&room))
                    .count();
                (members, news)
            })
        })
    };
    Effect::new(move |prev: Option<(usize, usize)>| {
        let now = pulse.get();
        if prev.is_some_and(|p| p != now) {
            admin.version.update(|v| *v += 1);
        }
        now
    });
    Effect::new(move |prev: Option<u32>| {
        let v = admin.version.get();
        if prev.is_some_and(|p| p != v) {
            let room = room.clone();
            // The room's own page (its header's count of requests) is read again too.
            live.dispatch(crate::store::Local::Reload(room.clone()));
            let (kind, cursor) = log_query();
            let (kind, cursor) = (kind.get_untracked(), cursor.get_untracked());
            leptos::task::spawn_local(async move {
                match room_admin(room, kind, cursor).await {
                    Ok(fresh) => admin.data.set(fresh),
                    Err(e) => crate::live::note_error(live, &e),
                }
            });
        }
        v
    });
}

#[component]
fn Refused(error: AppError) -> impl IntoView {
    let (status, title) = match error.code() {
        ErrorCode::Forbidden => (403, "Only admins can do this"),
        ErrorCode::RoomNotFound | ErrorCode::NotMember => (404, "No such room"),
        ErrorCode::RoomTerminated => (410, "This room has ended"),
        _ => (0, ""),
    };
    if status == 0 {
        return view! { <PageBar title="Manage" /> <main class="page" id="main"><ErrorPanel error /></main> }
            .into_any();
    }
    set_status(status);
    let message = if status == 404 {
        domain::access::room_not_found().message
    } else {
        error.0.message.clone()
    };
    view! {
        <Title text=title />
        <PageBar title=title />
        <main class="page" id="main">
            <section class="card">
                <h1>{title}</h1>
                <p>{message}</p>
                <p><a href="/">"Go to your rooms"</a></p>
            </section>
        </main>
    }
    .into_any()
}

#[component]
fn AdminBody(admin: Admin) -> impl IntoView {
    keep_fresh(admin);
    let (room, name) = admin
        .data
        .with_untracked(|v| (v.room.id.clone(), v.room.name.clone()));
    let waiting = Memo::new(move |_| admin.data.with(|v| v.requests.len()));
    view! {
        <Title text=format!("Manage #{name}") />
        <PageBar title="Manage" />
        <main class="page admin" id="main">
            <header class="admin-head">
                <p class="muted small"><a href=format!("/rooms/{room}")>"← Back to #" {name.clone()}</a></p>
                <h1>"Manage " <span class="hash" aria-hidden="true">"#"</span>{name.clone()}</h1>
                <nav aria-label="Sections" class="admin-nav">
                    <a href="#members">"Members"</a>
                    <a href="#requests">"Requests " <span class="count">{move || waiting.get()}</span></a>
                    <a href="#invite">"Invite"</a>
                    <a href="#bans">"Bans"</a>
                    <a href="#settings">"Settings"</a>
                    <a href="#log">"Log"</a>
                </nav>
            </header>
            <MembersSection admin />
            <RequestsSection admin />
            <InviteSection admin />
            <BansSection admin />
            <SettingsSection admin />
            <LogSection admin />
        </main>
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "Owner",
        Role::Admin => "Admin",
        Role::Member => "Member",
    }
}

#[component]
fn MembersSection(admin: Admin) -> impl IntoView {
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
            <Show when=move || error.get().is_some()>
                <p class="form-error" role="alert">{move || error.get()}</p>
            </Show>
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

#[component]
fn RequestsSection(admin: Admin) -> impl IntoView {
    let room = admin.data.with_untracked(|v| v.room.id.clone());
    let approve = ServerAction::<ApproveRequestForm>::new();
    let deny = ServerAction::<DenyRequestForm>::new();
    let approve_error = after_action(approve, admin.version);
    let deny_error = after_action(deny, admin.version);
    let error = Signal::derive(move || approve_error.get().or_else(|| deny_error.get()));
    let base = admin_path(&room);
    let rows = move || {
        let requests = admin.data.with(|v| v.requests.clone());
        if requests.is_empty() {
            return view! { <p class="empty">"Nobody is waiting. Requests appear here, oldest first."</p> }.into_any();
        }
        let rows = requests
        .iter()
        .map(|r| {
            let name = r.user.username.clone();
            let (room_a, room_d) = (room.to_string(), room.to_string());
            let (user_a, user_d) = (r.user.id.to_string(), r.user.id.to_string());
            let (back_a, back_d) = (base.clone(), base.clone());
            let (approve_label, deny_label) = (format!("Approve {name}"), format!("Deny {name}"));
            view! {
                <li class="admin-item">
                    <span class="item-main"><strong>{name}</strong> " asked " <TimeAgo at=r.created_at.clone() /></span>
                    <ActionForm action=approve attr:class="inline-form">
                        <input type="hidden" name="room_id" value=room_a />
                        <input type="hidden" name="user_id" value=user_a />
                        <input type="hidden" name="back" value=back_a />
                        <button type="submit" class="button primary small" aria-label=approve_label>"Approve"</button>
                    </ActionForm>
                    <ActionForm action=deny attr:class="inline-form">
                        <input type="hidden" name="room_id" value=room_d />
                        <input type="hidden" name="user_id" value=user_d />
                        <input type="hidden" name="back" value=back_d />
                        <button type="submit" class="button secondary small" aria-label=deny_label>"Deny"</button>
                    </ActionForm>
                </li>
            }
        })
        .collect_view();
        view! { <ul class="admin-list">{rows}</ul> }.into_any()
    };
    view! {
        <section class="card admin-section" id="requests" aria-labelledby="requests-title">
            <h2 id="requests-title">"Requests to join"</h2>
            <Show when=move || error.get().is_some()>
                <p class="form-error" role="alert">{move || error.get()}</p>
            </Show>
            {rows}
        </section>
    }
}

#[component]
fn InviteSection(admin: Admin) -> impl IntoView {
    let room = admin.data.with_untracked(|v| v.room.id.clone());
    let invite = ServerAction::<InviteForm>::new();
    let error = after_action(invite, admin.version);
    let query = use_query_map();
    let echoed = query.read_untracked().get("user").unwrap_or_default();
    // Suggestions as you type (usernames only), fetched by the browser: a resource here
    // would hold the server-rendered page back, waiting for input that never comes.
    let suggestions = RwSignal::new(Vec::<String>::new());
    let suggest = move |ev: leptos::ev::Event| {
        let prefix = event_target_value(&ev);
        leptos::task::spawn_local(async move {
            let found = if prefix.trim().is_empty() {
                Vec::new()
            } else {
                search_usernames(prefix)
                    .await
                    .map(|u| u.usernames)
                    .unwrap_or_default()
            };
            suggestions.set(found);
        });
    };
    let invites = move || {
        let invites = admin.data.with(|v| v.invites.clone());
        if invites.is_empty() {
            return view! { <p class="empty">"No invitation is waiting."</p> }.into_any();
        }
        let rows = invites
            .iter()
            .map(|i| {
                view! {
                    <li class="admin-item">
                        <span class="item-main">
                            <strong>{i.user.username.clone()}</strong>
                            {i.invited_by.as_ref().map(|by| format!(" invited by {}", by.username))}
                            " · expires " <TimeAgo at=i.expires_at.clone() />
                        </span>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="admin-list">{rows}</ul> }.into_any()
    };
    view! {
        <section class="card admin-section" id="invite" aria-labelledby="invite-title">
            <h2 id="invite-title">"Invite someone"</h2>
            <ActionForm action=invite>
                <input type="hidden" name="room_id" value=room.to_string() />
                <input type="hidden" name="back" value=admin_path(&room) />
                <div class="field" class:has-error=move || error.get().is_some()>
                    <label for="invite-user">"Username or user id"</label>
                    <div class="search-row">
                        <input
                            id="invite-user"
                            name="user"
                            required=true
                            autocomplete="off"
                            spellcheck="false"
                            list="invite-suggestions"
                            value=echoed
                            aria-describedby="invite-user-error invite-hint"
                            on:input=suggest
                        />
                        <button type="submit" class="button primary" disabled=move || invite.pending().get()>"Invite"</button>
                    </div>
                    <datalist id="invite-suggestions">
                        {move || suggestions.get().into_iter().map(|name| view! { <option value=name></option> }).collect_view()}
                    </datalist>
                    <p class="hint" id="invite-hint">"They get a notification with the room's name and id; the invite lasts 7 days."</p>
                    <p class="field-error" id="invite-user-error" role="alert">{move || error.get()}</p>
                    <Show when=move || matches!(invite.value().get(), Some(Ok(())))>
                        <p class="status-line" role="status">"Invited."</p>
                    </Show>
                </div>
            </ActionForm>
            <h3>"Waiting for an answer"</h3>
            {invites}
        </section>
    }
}

#[component]
fn BansSection(admin: Admin) -> impl IntoView {
    let room = admin.data.with_untracked(|v| v.room.id.clone());
    let unban = ServerAction::<UnbanForm>::new();
    let error = after_action(unban, admin.version);
    let base = admin_path(&room);
    let rows = move || {
        let bans = admin.data.with(|v| v.bans.clone());
        if bans.is_empty() {
            return view! { <p class="empty">"Nobody is banned."</p> }.into_any();
        }
        let rows = bans
        .iter()
        .map(|b| {
            let name = b.user.username.clone();
            let (room_id, user_id, back) = (room.to_string(), b.user.id.to_string(), base.clone());
            let label = format!("Unban {name}");
            view! {
                <li class="admin-item">
                    <span class="item-main">
                        <strong>{name}</strong>
                        {b.banned_by.as_ref().map(|by| format!(", by {}", by.username))}
                        ", " <TimeAgo at=b.created_at.clone() />
                        {b.reason.clone().map(|r| view! { <span class="reason">{format!(": {r}")}</span> })}
                    </span>
                    <ActionForm action=unban attr:class="inline-form">
                        <input type="hidden" name="room_id" value=room_id />
                        <input type="hidden" name="user_id" value=user_id />
                        <input type="hidden" name="back" value=back />
                        <button type="submit" class="button secondary small" aria-label=label>"Unban"</button>
                    </ActionForm>
                </li>
            }
        })
        .collect_view();
        view! { <ul class="admin-list">{rows}</ul> }.into_any()
    };
    view! {
        <section class="card admin-section" id="bans" aria-labelledby="bans-title">
            <h2 id="bans-title">"Banned"</h2>
            <Show when=move || error.get().is_some()>
                <p class="form-error" role="alert">{move || error.get()}</p>
            </Show>
            {rows}
            <BanByName admin />
        </section>
    }
}

/// Banning someone who is not a member: by username or id.
#[component]
fn BanByName(admin: Admin) -> impl IntoView {
    let room = admin.data.with_untracked(|v| v.room.id.clone());
    let ban = ServerAction::<BanUserForm>::new();
    let error = after_action(ban, admin.version);
    view! {
        <ActionForm action=ban attr:class="ban-by-name">
            <input type="hidden" name="room_id" value=room.to_string() />
            <input type="hidden" name="back" value=admin_path(&room) />
            <div class="field" class:has-error=move || error.get().is_some()>
                <label for="ban-user">"Ban someone who is not a member"</label>
                <div class="search-row">
                    <input id="ban-user" name="user" required=true autocomplete="off" placeholder="Username or user id" aria-describedby="ban-user-error" />
                    <button type="submit" class="button secondary">"Ban"</button>
                </div>
                <label for="ban-reason" class="visually-hidden">"Reason"</label>
                <input id="ban-reason" name="reason" class="reason-input" placeholder="Reason (optional, they will see it)" maxlength="500" />
                <p class="field-error" id="ban-user-error" role="alert">{move || error.get()}</p>
            </div>
        </ActionForm>
    }
}

#[component]
fn SettingsSection(admin: Admin) -> impl IntoView {
    let v = admin.data.get_untracked();
    let room = v.room.id.clone();
    let update = ServerAction::<UpdateRoomForm>::new();
    let value = update.value();
    Effect::new(move |_| {
        if matches!(value.get(), Some(Ok(()))) {
            admin.version.update(|n| *n += 1);
        }
    });
    let error = Signal::derive(move || value.get().and_then(Result::err));
    let field_error = move |field: &'static str| {
        Signal::derive(move || error.get().and_then(|e| e.for_field(field)))
    };
    let general = Signal::derive(move || error.get().and_then(|e| e.general()));
    let limit = v
        .room
        .max_members
        .map(|n| n.to_string())
        .unwrap_or_default();
    view! {
        <section class="card admin-section" id="settings" aria-labelledby="settings-title">
            <h2 id="settings-title">"Settings"</h2>
            <ActionForm action=update>
                <input type="hidden" name="room_id" value=room.to_string() />
                <input type="hidden" name="back" value=admin_path(&room) />
                <Show when=move || general.get().is_some()>
                    <p class="form-error" role="alert">{move || general.get()}</p>
                </Show>
                <div class="field" class:has-error=move || field_error("topic").get().is_some()>
                    <label for="settings-topic">"Topic"</label>
                    <textarea id="settings-topic" name="topic" rows="2" maxlength="300" aria-describedby="settings-topic-error">
                        {v.room.topic.clone().unwrap_or_default()}
                    </textarea>
                    <p class="field-error" id="settings-topic-error" role="alert">{move || field_error("topic").get()}</p>
                </div>
                <fieldset class="field choices">
                    <legend>"Who can join"</legend>
                    {JoinPolicy::ALL.into_iter().map(|p| {
                        let id = format!("settings-policy-{}", p.as_str());
                        view! {
                            <div class="choice">
                                <input type="radio" name="join_policy" id=id.clone() value=p.as_str() checked=p == v.room.join_policy />
                                <label for=id>
                                    <strong>{text::policy_label(p).0}</strong>
                                    <span class="muted">{text::policy_label(p).1}</span>
                                </label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <div class="field" class:has-error=move || field_error("max_members").get().is_some()>
                    <label for="settings-max">"Member limit " <span class="muted">"(empty for none)"</span></label>
                    <input id="settings-max" name="max_members" type="number" min="2" max="100000" inputmode="numeric" value=limit aria-describedby="settings-max-error" />
                    <p class="field-error" id="settings-max-error" role="alert">{move || field_error("max_members").get()}</p>
                </div>
                <button type="submit" class="button primary" disabled=move || update.pending().get()>"Save settings"</button>
                <Show when=move || matches!(value.get(), Some(Ok(())))>
                    <span class="status-inline" role="status">" Saved."</span>
                </Show>
            </ActionForm>
        </section>
    }
}

/// The log's filter and page, from the address (`?kind=banned&cursor=…`), so both work as
/// links and plain forms.
fn log_query() -> (Memo<Option<LogKind>>, Memo<Option<String>>) {
    let query = use_query_map();
    let kind = Memo::new(move |_| {
        query
            .read()
            .get("kind")
            .and_then(|k| serde_json::from_value::<LogKind>(serde_json::Value::String(k)).ok())
    });
    let cursor = Memo::new(move |_| query.read().get("cursor"));
    (kind, cursor)
}

fn kind_value(k: LogKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[component]
fn LogSection(admin: Admin) -> impl IntoView {
    let room = admin.data.with_untracked(|v| v.room.id.clone());
    let (kind, _) = log_query();
    let navigate = use_navigate();
    let base = admin_path(&room);
    let filter = {
        let base = base.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            let path = if value.is_empty() {
                format!("{base}#log")
            } else {
                format!("{base}?kind={value}#log")
            };
            navigate(&path, Default::default());
        }
    };
    const KINDS: [LogKind; 18] = [
        LogKind::Created,
        LogKind::Joined,
        LogKind::Left,
        LogKind::Requested,
        LogKind::Approved,
        LogKind::Denied,
        LogKind::Invited,
        LogKind::InviteAccepted,
        LogKind::InviteDeclined,
        LogKind::Kicked,
        LogKind::Banned,
        LogKind::Unbanned,
        LogKind::Promoted,
        LogKind::Demoted,
        LogKind::AdminSuccession,
        LogKind::OwnershipTransfer,
        LogKind::SettingsUpdated,
        LogKind::Terminated,
    ];
    let chosen = kind.get_untracked();
    let older = move || {
        let next = admin.data.with(|v| v.log.next_cursor.clone())?;
        let mut href = format!(
            "{}?cursor={next}",
            admin_path(&admin.data.with(|v| v.room.id.clone()))
        );
        if let Some(k) = kind.get() {
            href.push_str(&format!("&kind={}", kind_value(k)));
        }
        href.push_str("#log");
        Some(
            view! { <p class="more"><a class="button secondary small" href=href>"Older entries"</a></p> },
        )
    };
    view! {
        <section class="card admin-section" id="log" aria-labelledby="log-title">
            <h2 id="log-title">"Moderation log"</h2>
            <form method="get" action=base.clone() class="log-filter">
                <label for="log-kind">"Show"</label>
                <select id="log-kind" name="kind" on:change=filter>
                    <option value="" selected=chosen.is_none()>"Everything"</option>
                    {KINDS.into_iter().map(|k| view! {
                        <option value=kind_value(k) selected=chosen == Some(k)>{text::log_kind_label(k)}</option>
                    }).collect_view()}
                </select>
                <noscript><button type="submit" class="button secondary small">"Filter"</button></noscript>
            </form>
            {move || view! { <LogList entries=admin.data.with(|v| v.log.events.clone()) /> }}
            {older}
        </section>
    }
}

#[component]
fn LogList(entries: Vec<LogEntryView>) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="empty">"Nothing of this kind yet."</p> }.into_any();
    }
    view! {
        <ol class="log-list">
            {entries.into_iter().map(|e| view! {
                <li><span class="log-sentence">{text::log_entry(&e)}</span> " " <TimeAgo at=e.created_at.clone() /></li>
            }).collect_view()}
        </ol>
    }
    .into_any()
}

/// What a confirmation dialog is about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Confirm {
    Kick,
    Ban,
    Transfer,
}

/// `…/admin/kick/{user}`: remove someone, with a reason.
#[component]
pub fn KickDialog() -> impl IntoView {
    view! { <ConfirmDialog what=Confirm::Kick /> }
}

/// `…/admin/ban/{user}`: ban someone, with a reason.
#[component]
pub fn BanDialog() -> impl IntoView {
    view! { <ConfirmDialog what=Confirm::Ban /> }
}

/// `…/admin/transfer/{user}`: hand the room to someone.
#[component]
pub fn TransferDialog() -> impl IntoView {
    view! { <ConfirmDialog what=Confirm::Transfer /> }
}

#[component]
fn ConfirmDialog(what: Confirm) -> impl IntoView {
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
    let navigate = use_navigate();
    let close = {
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
    let name = member.user.username.clone();
    let kick = ServerAction::<KickMemberForm>::new();
    let ban = ServerAction::<BanUserForm>::new();
    let transfer = ServerAction::<TransferForm>::new();
    let done = Signal::derive(move || {
        matches!(kick.value().get(), Some(Ok(())))
            || matches!(ban.value().get(), Some(Ok(())))
            || matches!(transfer.value().get(), Some(Ok(())))
    });
    {
        let navigate = use_navigate();
        let back = back.clone();
        Effect::new(move |_| {
            if done.get() {
                admin.version.update(|v| *v += 1);
                navigate(&back, Default::default());
            }
        });
    }
    let error = Signal::derive(move || {
        kick.value()
            .get()
            .or_else(|| ban.value().get())
            .or_else(|| transfer.value().get())
            .and_then(Result::err)
            .map(|e| e.0.message)
    });
    let (title, says, button) = match what {
        Confirm::Kick => (
            format!("Remove {name}?"),
            format!("{name} leaves the room now and is told why. They may ask to join again."),
            format!("Remove {name}"),
        ),
        Confirm::Ban => (
            format!("Ban {name}?"),
            format!("{name} leaves the room now, and cannot see it or come back until an admin lifts the ban."),
            format!("Ban {name}"),
        ),
        Confirm::Transfer => (
            format!("Make {name} the owner?"),
            format!("{name} becomes the room's owner, and you stay an admin. Only the owner can promote, demote and hand the room on."),
            format!("Make {name} the owner"),
        ),
    };
    let hidden = view! {
        <input type="hidden" name="room_id" value=room.to_string() />
        <input type="hidden" name="back" value=back.clone() />
    };
    let reason = view! {
        <div class="field">
            <label for="moderation-reason">"Reason " <span class="muted">"(optional, they will see it)"</span></label>
            <textarea id="moderation-reason" name="reason" rows="2" maxlength="500"></textarea>
        </div>
    };
    let cancel = StoredValue::new(back.clone());
    let actions = move |label: String| {
        view! {
            <Show when=move || error.get().is_some()>
                <p class="form-error" role="alert">{move || error.get()}</p>
            </Show>
            <div class="dialog-actions">
                <a href=cancel.get_value() class="button secondary">"Cancel"</a>
                <button type="submit" class="button danger">{label}</button>
            </div>
        }
    };
    let form = match what {
        Confirm::Kick => view! {
            <ActionForm action=kick>
                {hidden}
                <input type="hidden" name="user_id" value=member.user.id.to_string() />
                {reason}
                {actions(button)}
            </ActionForm>
        }
        .into_any(),
        Confirm::Ban => view! {
            <ActionForm action=ban>
                {hidden}
                <input type="hidden" name="user" value=member.user.id.to_string() />
                {reason}
                {actions(button)}
            </ActionForm>
        }
        .into_any(),
        Confirm::Transfer => view! {
            <ActionForm action=transfer>
                {hidden}
                <input type="hidden" name="user_id" value=member.user.id.to_string() />
                {actions(button)}
            </ActionForm>
        }
        .into_any(),
    };
    view! {
        <Dialog title on_close=close>
            <p>{says}</p>
            {form}
        </Dialog>
    }
    .into_any()
}
