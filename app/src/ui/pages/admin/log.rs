//! The moderation log, newest first: filtered by kind, by who acted and by who it was done
//! to, and paged on, through the address, so all of it works without JavaScript; and
//! downloaded as CSV with the same filter.

use domain::{effects::LogKind, views::LogEntryView};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::data::{admin_path, kind_value, log_query, Admin, LogAddress};
use crate::{store::text, ui::components::widgets::TimeAgo};

/// Every kind of entry, in the order the filter offers them.
const KINDS: [LogKind; 25] = [
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
    LogKind::MessagesPurged,
    LogKind::Muted,
    LogKind::Unmuted,
    LogKind::MuteEnded,
    LogKind::BanEnded,
    LogKind::ReportDismissed,
    LogKind::Terminated,
];

#[component]
pub fn LogSection(admin: Admin) -> impl IntoView {
    let room = admin.data.with_untracked(|v| v.room.id.clone());
    let address = log_query();
    let older = move || {
        let next = admin.data.with(|v| v.log.next_cursor.clone())?;
        let mut href = format!(
            "{}?cursor={next}",
            admin_path(&admin.data.with(|v| v.room.id.clone()))
        );
        let filter = address.filter_query();
        if !filter.is_empty() {
            href.push('&');
            href.push_str(&filter);
        }
        href.push_str("#log");
        Some(
            view! { <p class="more"><a class="button secondary small" href=href>"Older entries"</a></p> },
        )
    };
    // The download holds what the filter shows, every page of it.
    let csv = {
        let room = room.clone();
        move || {
            let filter = address.filter_query();
            if filter.is_empty() {
                format!("/rooms/{room}/log.csv")
            } else {
                format!("/rooms/{room}/log.csv?{filter}")
            }
        }
    };
    let error = move || {
        admin
            .data
            .with(|v| v.log.error.clone())
            .map(|e| view! { <p class="form-error" role="alert">{e}</p> })
    };
    view! {
        <section class="card admin-section" id="log" aria-labelledby="log-title">
            <div class="log-title-row">
                <h2 id="log-title">"Moderation log"</h2>
                <a class="button secondary small" href=csv download="">"Download CSV"</a>
            </div>
            <LogFilter base=admin_path(&room) address />
            {error}
            {move || view! { <LogList entries=admin.data.with(|v| v.log.events.clone()) /> }}
            {older}
        </section>
    }
}

/// Which entries to show: one kind, who acted, whom it was about. A plain GET form; with
/// the script, choosing a kind applies at once, keeping the names typed.
#[component]
fn LogFilter(base: String, address: LogAddress) -> impl IntoView {
    let navigate = use_navigate();
    let filter = {
        let base = base.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            let mut query: Vec<String> = Vec::new();
            if !value.is_empty() {
                query.push(format!("kind={value}"));
            }
            let rest = address.filter_query();
            query.extend(
                rest.split('&')
                    .filter(|p| !p.is_empty() && !p.starts_with("kind="))
                    .map(str::to_owned),
            );
            let path = if query.is_empty() {
                format!("{base}#log")
            } else {
                format!("{base}?{}#log", query.join("&"))
            };
            navigate(&path, Default::default());
        }
    };
    let chosen = address.kind.get_untracked();
    let (actor, target) = (
        address.actor.get_untracked().unwrap_or_default(),
        address.target.get_untracked().unwrap_or_default(),
    );
    view! {
        <form method="get" action=base class="log-filter">
            <label for="log-kind">"Show"</label>
            <select id="log-kind" name="kind" on:change=filter>
                <option value="" selected=chosen.is_none()>"Everything"</option>
                {KINDS.into_iter().map(|k| view! {
                    <option value=kind_value(k) selected=chosen == Some(k)>{text::log_kind_label(k)}</option>
                }).collect_view()}
            </select>
            // Each label wraps with its box, on a narrow screen too.
            <span class="log-field">
                <label for="log-actor">"by"</label>
                <input id="log-actor" name="actor" type="text" maxlength="64" placeholder="anyone" value=actor autocomplete="off" />
            </span>
            <span class="log-field">
                <label for="log-target">"about"</label>
                <input id="log-target" name="target" type="text" maxlength="64" placeholder="anyone" value=target autocomplete="off" />
            </span>
            <button type="submit" class="button secondary small">"Filter"</button>
        </form>
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
