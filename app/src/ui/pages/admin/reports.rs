//! The open reports of the room that I may see (docs/RULES.md §5, "Reports"), newest first:
//! each with the message as it is now, a link to it in the room, why and by whom it was
//! reported, and one form that resolves it in one step: dismiss, delete the message, or
//! time out, remove or ban its author, with a reason they will see.

use domain::{report::ReportReason, views::ReportView};
use leptos::{form::ActionForm, prelude::*};

use super::data::{admin_path, after_action, Admin};
use crate::{
    api::forms::{message_path, ResolveReportForm},
    store::use_store,
    ui::components::{
        moderation::{BAN_LENGTHS, MUTE_LENGTHS},
        widgets::{FormError, TimeAgo},
    },
};

fn reason_label(reason: ReportReason) -> &'static str {
    match reason {
        ReportReason::Spam => "Spam",
        ReportReason::Harassment => "Harassment",
        ReportReason::Other => "Something else",
    }
}

#[component]
pub fn ReportsSection(admin: Admin) -> impl IntoView {
    let resolve = ServerAction::<ResolveReportForm>::new();
    let error = after_action(resolve, admin.version);
    let rows = move || {
        let reports = admin.data.with(|v| v.reports.clone());
        if reports.is_empty() {
            return view! { <p class="empty">"No open reports. When a member reports a message, it appears here and you are notified."</p> }.into_any();
        }
        let rows = reports
            .into_iter()
            .map(|r| view! { <ReportItem admin report=r resolve /> })
            .collect_view();
        view! { <ol class="admin-list report-list">{rows}</ol> }.into_any()
    };
    view! {
        <section class="card admin-section" id="reports" aria-labelledby="reports-title">
            <h2 id="reports-title">"Reports"</h2>
            <FormError error />
            {rows}
        </section>
    }
}

#[component]
fn ReportItem(
    admin: Admin,
    report: ReportView,
    resolve: ServerAction<ResolveReportForm>,
) -> impl IntoView {
    let room = admin.data.with_untracked(|v| v.room.id.clone());
    let me = use_store().with_untracked(|s| s.me.as_ref().map(|u| u.id.clone()));
    let message = report.message;
    let author = message.author.clone();
    let author_name = author
        .as_ref()
        .map_or_else(|| "someone".to_owned(), |a| a.username.clone());
    // My own message: I may dismiss the report or delete it, not act on myself.
    let on_someone_else = author.as_ref().map(|a| &a.id) != me.as_ref();
    let deleted = message.deleted.is_some();
    let quoted = if deleted {
        view! { <p class="quoted-text tombstone">"Message deleted since"</p> }.into_any()
    } else {
        view! { <p class="quoted-text">{message.text().to_owned()}</p> }.into_any()
    };
    let in_room = message_path(&room, &message.id.to_string());
    let label = |what: &str| {
        format!(
            "{what} ({author_name}'s message, reported as {})",
            reason_label(report.reason).to_lowercase()
        )
    };
    let (dismiss, delete, mute, kick, ban) = (
        label("Dismiss"),
        label("Delete message"),
        label("Time out"),
        label("Remove"),
        label("Ban"),
    );
    let id = report.id.to_string();
    let actions_on_author = on_someone_else.then(|| {
        let (id, author) = (id.clone(), author_name.clone());
        view! { <AuthorActions id author mute kick ban /> }
    });
    view! {
        <li class="report-item">
            <p class="report-head">
                <strong class="report-reason">{reason_label(report.reason)}</strong>
                {report.reporter.map(|u| format!(", reported by {}", u.username))}
                " " <TimeAgo at=report.created_at />
                " · " <a href=in_room>"See it in the room"</a>
            </p>
            <blockquote class="quoted">
                <p class="quoted-author">{author_name.clone()}</p>
                {quoted}
            </blockquote>
            {report.text.map(|t| view! { <p class="report-text">{t}</p> })}
            <ActionForm action=resolve attr:class="report-actions">
                <input type="hidden" name="report_id" value=id.clone() />
                <input type="hidden" name="back" value=format!("{}#reports", admin_path(&room)) />
                <input
                    type="text"
                    name="reason"
                    maxlength="500"
                    placeholder="Reason (optional, they will see it)"
                    aria-label=format!("Reason for acting on {author_name}'s message")
                />
                <div class="report-buttons">
                    <button type="submit" name="action" value="dismiss" class="button secondary small" aria-label=dismiss>"Dismiss"</button>
                    {(!deleted).then(|| view! {
                        <button type="submit" name="action" value="delete" class="button secondary small" aria-label=delete>"Delete message"</button>
                    })}
                    {actions_on_author}
                </div>
            </ActionForm>
        </li>
    }
}

/// Acting on the reported message's author: a timeout or a ban of a chosen length, or
/// removal. `id` is the report's; the labels name the message for screen readers.
#[component]
fn AuthorActions(
    id: String,
    author: String,
    mute: String,
    kick: String,
    ban: String,
) -> impl IntoView {
    view! {
        <span class="report-group">
            <LengthSelect choices=&MUTE_LENGTHS name="mute_minutes" id=format!("mute-{id}") label=format!("How long to time {author} out") />
            <button type="submit" name="action" value="mute" class="button secondary small" aria-label=mute>"Time out"</button>
        </span>
        <button type="submit" name="action" value="kick" class="button secondary small" aria-label=kick>"Remove"</button>
        <span class="report-group">
            <LengthSelect choices=&BAN_LENGTHS name="ban_minutes" id=format!("ban-{id}") label=format!("How long to ban {author}") />
            <button type="submit" name="action" value="ban" class="button danger small" aria-label=ban>"Ban"</button>
        </span>
    }
}

/// A select of lengths (minutes, in words).
#[component]
fn LengthSelect(
    choices: &'static [(&'static str, &'static str)],
    name: &'static str,
    id: String,
    label: String,
) -> impl IntoView {
    view! {
        <select name=name id=id aria-label=label>
            {choices
                .iter()
                .map(|&(minutes, words)| view! { <option value=minutes>{words}</option> })
                .collect_view()}
        </select>
    }
}
