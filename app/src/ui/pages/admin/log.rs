//! The moderation log, newest first: filtered by kind and paged on through the address, so
//! both work without JavaScript.

use domain::{effects::LogKind, views::LogEntryView};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::data::{admin_path, log_query, Admin};
use crate::{store::text, ui::components::widgets::TimeAgo};

fn kind_value(k: LogKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[component]
pub fn LogSection(admin: Admin) -> impl IntoView {
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
    const KINDS: [LogKind; 19] = [
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
        LogKind::MessageDeleted,
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
