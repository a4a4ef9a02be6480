//! Reporting a message to the room's admins (`/rooms/{id}/messages/{message}/report`,
//! docs/RULES.md §5, "Reports"): a reason from a short list and optional words. Its author
//! is never told who reported it. A page of its own, so it works without JavaScript.

use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::use_navigate;

use crate::ui::components::widgets::refusal;
use crate::{
    api::forms::ReportMessageForm,
    live::use_live,
    store::Local,
    ui::components::message_dialog::{
        DialogButtons, MessageDialog, MessageFields, MessageRoute, Quoted,
    },
};

lazy_page!(ReportMessageRoute, ReportMessageDialog);

/// The reasons offered, as the API names them, with what each means.
const REASONS: [(&str, &str, &str); 3] = [
    (
        "spam",
        "Spam",
        "Advertising, flooding, links nobody asked for.",
    ),
    (
        "harassment",
        "Harassment",
        "Insults, threats or hounding someone.",
    ),
    ("other", "Something else", "Say what in the box below."),
];

#[component]
pub fn ReportMessageDialog() -> impl IntoView {
    let report = ServerAction::<ReportMessageForm>::new();
    let error = refusal(report);
    // Filed: back to the message, with a word that it went (a plain post lands there too).
    let live = use_live();
    let navigate = use_navigate();
    let back = MessageRoute::from_params().back;
    Effect::new(move |_| {
        if matches!(report.value().get(), Some(Ok(()))) {
            live.dispatch(Local::Done(
                "Reported. The room's admins will look at it.".to_owned(),
            ));
            navigate(&back, Default::default());
        }
    });
    let body = move |route: MessageRoute, message: domain::message::MessageView| {
        let back = route.back.clone();
        let reasons = REASONS
            .iter()
            .enumerate()
            .map(|(i, &(value, label, hint))| {
                let id = format!("report-reason-{value}");
                view! {
                    <div class="choice">
                        <input type="radio" id=id.clone() name="reason" value=value checked=i == 0 />
                        <label for=id><span>{label}</span><span class="muted small">{hint}</span></label>
                    </div>
                }
            })
            .collect_view();
        view! {
            <Quoted message />
            <p>"The room's admins see your report (only the owner, when the message is an admin's). Its author is never told who reported it."</p>
            <ActionForm action=report>
                <MessageFields route />
                <fieldset class="field choices">
                    <legend>"Why"</legend>
                    {reasons}
                </fieldset>
                <div class="field">
                    <label for="report-text">"More " <span class="muted">"(optional, for the admins)"</span></label>
                    <textarea id="report-text" name="text" rows="3" maxlength="1000"></textarea>
                </div>
                <DialogButtons
                    back
                    cancel="Cancel"
                    submit="Report message"
                    error
                    pending=report.pending()
                    danger=true
                />
            </ActionForm>
        }
    };
    view! { <MessageDialog title="Report this message?" body /> }
}
