//! One message in the timeline: its author and time, the quote of what it answers, its
//! body (text with links, a sticker, a file, or a tombstone), "(edited)", its reactions, and
//! the actions the rules of changes (`domain::changes`) allow: reply, react, edit, delete,
//! link. Every action is a link or a small form, so each works with JavaScript off.

use std::collections::HashMap;

use domain::{
    changes::{self, Change, Target},
    format::{self, Block, Inline},
    message::{MessageKind, MessageView, ReplyView},
    reaction::QUICK,
    room::Role,
    MessageId, RoomId, UserId,
};
use leptos::prelude::*;

use super::widgets::TimeAgo;
use crate::{
    live::use_live,
    store::{
        clock,
        text::{self, Segment},
        use_store, Local,
    },
};

/// Text with its links made clickable; everything else stays text, never markup.
pub fn body_text(body: &str) -> impl IntoView {
    text::linkify(body)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(t) => t.into_any(),
            Segment::Link(href) => {
                let shown = href.clone();
                view! {
                    <a href=href target="_blank" rel="noopener noreferrer nofollow ugc" dir="ltr">
                        {shown}
                    </a>
                }
                .into_any()
            }
        })
        .collect_view()
}

/// Who I am in the room, and the members' roles: what the rules of changes
/// (`domain::changes`) need to offer only the actions they allow.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Standing {
    me: Option<UserId>,
    my_role: Option<Role>,
    roles: HashMap<UserId, Role>,
}

impl Standing {
    pub fn of(room: &RoomId, store: crate::store::Store) -> Self {
        store.with(|s| {
            let c = s.conversation(room);
            Self {
                me: s.me.as_ref().map(|u| u.id.clone()),
                my_role: c.filter(|c| c.is_member()).and_then(|c| c.my_role),
                roles: c
                    .map(|c| {
                        c.members
                            .iter()
                            .map(|m| (m.user.id.clone(), m.role))
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
    }

    /// The author I may time out from their message: a member I outrank
    /// (`domain::room::may_moderate`, the rank rule of kick and ban).
    fn may_time_out(&self, message: &MessageView) -> Option<UserId> {
        let me = self.me.as_ref()?;
        let author = &message.author.as_ref()?.id;
        let role = self.roles.get(author).copied()?;
        (message.kind != MessageKind::System
            && domain::room::may_moderate(self.my_role, Some(role), author == me))
        .then(|| author.clone())
    }

    /// Whether I may report the message to the room's admins (`domain::report::may_report`).
    fn may_report(&self, message: &MessageView) -> bool {
        let Some(me) = &self.me else {
            return false;
        };
        let reported = domain::report::Reported {
            author: message.author.as_ref().map(|a| &a.id),
            kind: message.kind,
            deleted: message.deleted.is_some(),
        };
        domain::report::may_report(me, self.my_role.is_some(), &reported).is_ok()
    }

    fn allows(&self, message: &MessageView, change: Change) -> bool {
        let Some(me) = &self.me else {
            return false;
        };
        let author = message.author.as_ref().map(|a| &a.id);
        let target = Target {
            author,
            kind: message.kind,
            deleted: message.deleted.is_some(),
            author_role: author.and_then(|a| self.roles.get(a).copied()),
        };
        changes::decide(me, self.my_role, &target, change).is_ok()
    }
}

#[component]
pub fn MessageItem(
    message: MessageView,
    continued: bool,
    standing: Memo<Standing>,
) -> impl IntoView {
    if message.kind == MessageKind::System {
        return view! {
            <div class="msg system" id=format!("m{}", message.id)>
                <p>
                    <span class="system-text">{message.body}</span>
                    " · "
                    <TimeAgo at=message.created_at />
                </p>
            </div>
        }
        .into_any();
    }
    let head = (!continued).then(|| {
        let (name, hue) = match &message.author {
            Some(a) => (a.username.clone(), text::author_hue(&a.id)),
            None => ("someone".to_owned(), 0),
        };
        view! {
            <div class="msg-head">
                <span class=format!("author hue-{hue}")>{name}</span>
                <TimeAgo at=message.created_at.clone() />
            </div>
        }
    });
    let body = match &message.deleted {
        Some(_) => tombstone(&message).into_any(),
        None => message_body(&message),
    };
    let quote = message
        .reply_to
        .clone()
        .map(|reply| view! { <ReplyQuote room=message.room_id.clone() reply /> });
    let reactions = reaction_row(&message);
    let edited = edited_mark(&message, standing);
    let mentions_me =
        standing.with_untracked(|s| s.me.as_ref().is_some_and(|me| message.mentions(me)));
    let actions = {
        let message = message.clone();
        move || message_actions(&message, &standing.get())
    };
    let (on_press, on_release, actions_open) = long_press();
    view! {
        <div
            class="msg"
            class:continued=continued
            class:deleted=message.deleted.is_some()
            class:mentions-me=mentions_me
            class:actions-open=move || actions_open.get()
            on:touchstart=on_press
            on:touchend=on_release
            on:touchmove=on_release
            on:touchcancel=on_release
            id=format!("m{}", message.id)
        >
            {head}
            {quote}
            {body}
            {edited}
            {reactions}
            {actions}
        </div>
    }
    .into_any()
}

/// A long press on a phone shows a message's actions (a press again hides them): the
/// handlers for the press and its end, and whether they show.
fn long_press() -> (
    impl Fn(leptos::ev::TouchEvent) + Copy,
    impl Fn(leptos::ev::TouchEvent) + Copy,
    RwSignal<bool>,
) {
    let open = RwSignal::new(false);
    let timer = StoredValue::new(None::<leptos::prelude::TimeoutHandle>);
    let release = move |_: leptos::ev::TouchEvent| {
        if let Some(t) = timer.try_update_value(Option::take).flatten() {
            t.clear();
        }
    };
    let press = move |_: leptos::ev::TouchEvent| {
        let started = set_timeout_with_handle(
            move || open.update(|o| *o = !*o),
            std::time::Duration::from_millis(LONG_PRESS_MS),
        );
        timer.set_value(started.ok());
    };
    (press, release, open)
}

/// How long a press is held before it counts as long.
const LONG_PRESS_MS: u64 = 450;

/// "Message deleted", and by whom when it was not its author, with the admin's reason.
fn tombstone(message: &MessageView) -> impl IntoView {
    let deletion = message.deleted.clone();
    let author = message.author.as_ref().map(|a| a.id.clone());
    let by = deletion
        .as_ref()
        .and_then(|d| d.by.as_ref())
        .filter(|by| Some(&by.id) != author.as_ref())
        .map(|by| format!(" by {}", by.username));
    let reason = deletion
        .and_then(|d| d.reason)
        .map(|r| view! { <span class="reason">": " {r}</span> });
    view! {
        <p class="msg-body tombstone">
            <span class="tombstone-icon" aria-hidden="true">"🗑"</span>
            " Message deleted"
            {by}
            {reason}
        </p>
    }
}

/// "(edited)" with the time of the last edit; a link to the earlier versions for those
/// who may read them.
fn edited_mark(message: &MessageView, standing: Memo<Standing>) -> Option<impl IntoView> {
    let ms = clock::parse_iso(message.edited_at.as_deref()?).unwrap_or_default();
    let store = use_store();
    let title = move || format!("Edited {}", clock::exact(ms, store.tz_offset()));
    let versions = standing
        .with_untracked(|s| s.allows(message, Change::Versions))
        .then(|| {
            format!(
                "/rooms/{}/messages/{}/versions",
                message.room_id, message.id
            )
        });
    Some(match versions {
        Some(href) => view! {
            <a class="edited" href=href title=title>"(edited)"</a>
        }
        .into_any(),
        None => view! { <span class="edited" title=title>"(edited)"</span> }.into_any(),
    })
}

/// Edit, delete and a link to the message, each a link to its page (a dialog over the
/// room), so they work the same with JavaScript off. Only what the rules allow is offered.
fn message_actions(message: &MessageView, standing: &Standing) -> impl IntoView {
    if message.deleted.is_some() {
        return None;
    }
    let base = format!("/rooms/{}/messages/{}", message.room_id, message.id);
    let edit = standing
        .allows(message, Change::Edit)
        .then(|| view! { <a class="msg-action" href=format!("{base}/edit")>"Edit"</a> });
    let delete = standing
        .allows(message, Change::Delete)
        .then(|| view! { <a class="msg-action danger" href=format!("{base}/delete")>"Delete"</a> });
    // The admin page's timeout dialog, which works without JavaScript too.
    let time_out = standing.may_time_out(message).map(|author| {
        let href = format!("/rooms/{}/admin/mute/{author}", message.room_id);
        view! { <a class="msg-action" href=href title="Time the author out">"Time out"</a> }
    });
    let report = standing.may_report(message).then(|| {
        view! { <a class="msg-action" href=format!("{base}/report") title="Report this message to the room's admins">"Report"</a> }
    });
    let link = format!("/rooms/{}#m{}", message.room_id, message.id);
    let copied = link.clone();
    let live = use_live();
    // With the script, Link copies the message's address; without it, it goes there.
    let copy = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        {
            ev.prevent_default();
            let window = leptos::prelude::window();
            let origin = window.location().origin().unwrap_or_default();
            let _ = window
                .navigator()
                .clipboard()
                .write_text(&format!("{origin}{copied}"));
            live.dispatch(Local::Done("Link to the message copied.".to_owned()));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, &copied, live);
    };
    let reply = format!(
        "/rooms/{}?reply={}#composer-input",
        message.room_id, message.id
    );
    let react = (message.kind != MessageKind::System).then(|| {
        view! {
            <ReactButton message=message.clone() emoji=QUICK[0] on=true class="msg-action" />
            <a class="msg-action" href=format!("{base}/react")>"React"</a>
        }
    });
    Some(view! {
        <div class="msg-actions" aria-label="Message actions">
            <a class="msg-action" href=reply>"Reply"</a>
            {react}
            {edit}
            {delete}
            <a class="msg-action" href=link on:click=copy title="Copy a link to this message">"Link"</a>
            {report}
            {time_out}
        </div>
    })
}

/// A reply's one-line quote of the message it answers; following it scrolls there, loading
/// older history until it is in view.
#[component]
fn ReplyQuote(room: RoomId, reply: ReplyView) -> impl IntoView {
    let who = reply
        .author
        .as_ref()
        .map_or_else(|| "someone".to_owned(), |a| a.username.clone());
    let what = match (&reply.excerpt, reply.deleted) {
        (Some(text), false) => text.clone(),
        _ => "Message deleted".to_owned(),
    };
    let target = reply.id;
    let on_click = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        jump_to(room.clone(), target);
    };
    view! {
        <a
            class="reply-quote"
            class:deleted=reply.deleted
            href=format!("#m{}", reply.id)
            on:click=on_click
        >
            <span class="reply-author">{who}</span>
            <span class="reply-excerpt">{what}</span>
        </a>
    }
}

/// Scrolls to message `target`, loading older pages of the room until it is there (at most
/// ten pages of 100).
fn jump_to(room: RoomId, target: MessageId) {
    #[cfg(feature = "hydrate")]
    {
        let store = use_store();
        let live = use_live();
        leptos::task::spawn_local(async move {
            for _ in 0..10 {
                let (held, oldest, more) = store.with_untracked(|s| {
                    let c = s.conversation(&room);
                    (
                        c.is_some_and(|c| c.messages.contains_key(&target)),
                        c.and_then(|c| c.oldest()),
                        c.is_some_and(|c| c.has_older),
                    )
                });
                if held || !more {
                    break;
                }
                let Some(oldest) = oldest.filter(|o| *o > target) else {
                    break;
                };
                let limit = crate::api::messages::HISTORY_PAGE_MAX;
                match crate::api::messages::message_history(
                    room.clone(),
                    Some(oldest.to_string()),
                    Some(limit),
                )
                .await
                {
                    Ok(page) => live.dispatch(crate::store::Loaded::Older {
                        room: room.clone(),
                        messages: page.messages,
                        limit,
                    }),
                    Err(e) => {
                        crate::live::note_error(live, &e);
                        return;
                    }
                }
            }
            request_animation_frame(move || {
                let el = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id(&format!("m{target}")));
                if let Some(el) = el {
                    el.scroll_into_view();
                    let _ = el.class_list().add_1("flash");
                }
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (room, target);
}

/// The emoji people set on a message, each a button that sets or takes back mine, naming
/// who set it on hover and to screen readers.
fn reaction_row(message: &MessageView) -> Option<impl IntoView> {
    if message.reactions.is_empty() || message.deleted.is_some() {
        return None;
    }
    let chips = message
        .reactions
        .iter()
        .map(|r| {
            let names: Vec<&str> = r.users.iter().map(|u| u.username.as_str()).collect();
            let more = (r.count as usize).saturating_sub(names.len());
            let mut who = names.join(", ");
            if more > 0 {
                who.push_str(&format!(" and {more} more"));
            }
            let label = format!("{} {}: {who}", r.emoji, r.count);
            view! {
                <ReactButton
                    message=message.clone()
                    emoji=r.emoji.clone()
                    on=!r.me
                    class=if r.me { "reaction mine" } else { "reaction" }
                    label
                    count=r.count
                />
            }
        })
        .collect_view();
    Some(view! { <div class="reactions">{chips}</div> })
}

/// One emoji as a button of a small form: it posts without JavaScript, and goes over the
/// live channel with it.
#[component]
pub fn ReactButton(
    message: MessageView,
    #[prop(into)] emoji: String,
    /// Set it (`true`) or take it back.
    on: bool,
    class: &'static str,
    /// What it says to a screen reader and on hover (the emoji alone by default).
    #[prop(optional, into)]
    label: Option<String>,
    /// Shown beside the emoji on a reaction already set.
    #[prop(optional)]
    count: Option<u32>,
    /// Runs once the reaction is on its way (the picker closes).
    #[prop(optional)]
    on_done: Option<Callback<()>>,
) -> impl IntoView {
    let live = use_live();
    let message_id = message.id;
    let sent = emoji.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        live.dispatch(Local::React {
            message_id,
            emoji: sent.clone(),
            on,
        });
        if let Some(done) = on_done {
            done.run(());
        }
    };
    let label = label.unwrap_or_else(|| format!("React with {emoji}"));
    view! {
        <form class="react-form" method="post" action="/api/form/messages/react" on:submit=on_submit>
            <input type="hidden" name="room_id" value=message.room_id.to_string() />
            <input type="hidden" name="message_id" value=message.id.to_string() />
            <input type="hidden" name="emoji" value=emoji.clone() />
            <input type="hidden" name="on" value=on.to_string() />
            <button
                type="submit"
                class=class
                aria-pressed=count.map(|_| (!on).to_string())
                aria-label=label.clone()
                title=label
            >
                {emoji}
                {count.map(|c| view! { <span class="count">{c}</span> })}
            </button>
        </form>
    }
}

/// What a message says: a sticker's art, a file's link or preview, or its text.
fn message_body(message: &MessageView) -> AnyView {
    match message.kind {
        MessageKind::Sticker => view! {
            <pre
                class="sticker"
                role="img"
                aria-label=format!("Sticker: {}", message.sticker.clone().unwrap_or_default())
            >
                {message.text().to_owned()}
            </pre>
        }
        .into_any(),
        MessageKind::File => match message.file.clone() {
            Some(file) if domain::message::is_inline_image(&file.content_type) => {
                let href = format!("/files/{}", file.id);
                let src = href.clone();
                view! {
                    <a class="image-link" href=href target="_blank" rel="noopener noreferrer">
                        <img class="preview" src=src alt=file.name.clone() loading="lazy" />
                    </a>
                }
                .into_any()
            }
            Some(file) => view! {
                <a class="file-link" href=format!("/files/{}", file.id) download=file.name.clone()>
                    <span class="file-icon" aria-hidden="true">
                        "📎"
                    </span>
                    <span class="file-name">{file.name.clone()}</span>
                    <span class="file-size">{text::file_size(file.size)}</span>
                </a>
            }
            .into_any(),
            None => view! { <p class="msg-body muted">{message.text().to_owned()}</p> }.into_any(),
        },
        _ => {
            let class = match message.color {
                Some(c) => format!("msg-body color-{}", c.as_str()),
                None => "msg-body".to_owned(),
            };
            match &message.formatted {
                Some(blocks) => {
                    view! { <div class=format!("{class} md")>{blocks_view(blocks)}</div> }
                        .into_any()
                }
                None => view! { <p class=class>{body_text(message.text())}</p> }.into_any(),
            }
        }
    }
}

/// A formatted message (`domain::format`), element by element from its allow-listed
/// structure: nothing in it is ever read as HTML.
fn blocks_view(blocks: &[Block]) -> AnyView {
    blocks
        .iter()
        .map(|b| match b {
            Block::P(inlines) => view! { <p>{inlines_view(inlines)}</p> }.into_any(),
            Block::Code(code) => {
                view! { <pre class="md-code"><code>{code.clone()}</code></pre> }.into_any()
            }
            Block::Quote(inner) => {
                view! { <blockquote class="md-quote">{blocks_view(inner)}</blockquote> }.into_any()
            }
        })
        .collect_view()
        .into_any()
}

fn inlines_view(inlines: &[Inline]) -> AnyView {
    inlines
        .iter()
        .map(|i| match i {
            Inline::Text(t) => body_text(t).into_any(),
            Inline::Br => view! { <br /> }.into_any(),
            Inline::B(c) => view! { <strong>{inlines_view(c)}</strong> }.into_any(),
            Inline::I(c) => view! { <em>{inlines_view(c)}</em> }.into_any(),
            Inline::S(c) => view! { <s>{inlines_view(c)}</s> }.into_any(),
            Inline::Code(code) => view! { <code>{code.clone()}</code> }.into_any(),
            // The parser let only http, https and mailto through; checked again here, as
            // the browser must never trust a structure to be safe by where it came from.
            Inline::Link { href, text } if format::safe_href(href) => view! {
                <a href=href.clone() target="_blank" rel="noopener noreferrer nofollow ugc" dir="ltr">
                    {inlines_view(text)}
                </a>
            }
            .into_any(),
            Inline::Link { text, .. } => inlines_view(text),
            Inline::Mention { user, text } => view! {
                <span class="mention" data-user=user.as_ref().map(ToString::to_string)>
                    {text.clone()}
                </span>
            }
            .into_any(),
        })
        .collect_view()
        .into_any()
}
