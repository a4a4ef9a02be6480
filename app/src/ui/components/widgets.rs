//! Small pieces the pages share.

use leptos::prelude::*;

/// The server's sentence when it refused `action`'s last call; `None` before a call, while
/// one runs, and after one succeeded.
pub fn refusal<A>(action: ServerAction<A>) -> Signal<Option<String>>
where
    A: leptos::server_fn::ServerFn<Error = crate::AppError> + Clone + Send + Sync + 'static,
    A::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.0.message)
    })
}

/// A field's error from a form's last submission, if it failed there.
pub fn field_error<T: Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, crate::AppError>>> + Send + Sync + 'static,
    field: &'static str,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        value
            .get()
            .and_then(Result::err)
            .and_then(|e| e.for_field(field))
    })
}

/// An error of the form's last submission that belongs to no single field.
pub fn general_error<T: Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, crate::AppError>>> + Send + Sync + 'static,
) -> Signal<Option<String>> {
    Signal::derive(move || value.get().and_then(Result::err).and_then(|e| e.general()))
}

/// A labelled input with its error message right beside it.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] value: String,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                value=value
                autocomplete=autocomplete
                required=true
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=error_id.clone()
            />
            <p class="field-error" id=error_id role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// An error that belongs to no single field, shown above a form.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || error.get().is_some()>
            <p class="form-error" role="alert">{move || error.get()}</p>
        </Show>
    }
}

/// A server's refusal or failure, shown where the page would have been.
#[component]
pub fn ErrorPanel(error: crate::AppError) -> impl IntoView {
    view! {
        <section class="card error-panel">
            <h1>"Something went wrong"</h1>
            <p class="form-error" role="alert">
                {error.0.message}
            </p>
            <p>
                <a href="/">"Go to the start page"</a>
            </p>
        </section>
    }
}

/// A time as "5 min ago", with the exact local time on hover.
#[component]
pub fn TimeAgo(#[prop(into)] at: String) -> impl IntoView {
    let store = crate::store::use_store();
    let ms = crate::store::clock::parse_iso(&at).unwrap_or_default();
    view! {
        <time
            datetime=at
            title=move || crate::store::clock::exact(ms, store.tz_offset())
        >
            {move || crate::store::clock::relative(ms, store.now(), store.tz_offset())}
        </time>
    }
}

/// When something ends, as the reader's date and clock ("2026-12-07 14:05"), with how far
/// off it is on hover.
#[component]
pub fn EndTime(#[prop(into)] at: String) -> impl IntoView {
    use crate::store::clock;
    let store = crate::store::use_store();
    let ms = clock::parse_iso(&at).unwrap_or_default();
    view! {
        <time datetime=at title=move || clock::relative(ms, store.now(), store.tz_offset())>
            {move || end_words(ms, store.tz_offset())}
        </time>
    }
}

/// "2026-12-07 14:05", in the reader's time zone.
pub fn end_words(ms: crate::store::Millis, tz_offset: i64) -> String {
    use crate::store::clock;
    format!(
        "{} {}",
        clock::date(ms, tz_offset),
        clock::clock(ms, tz_offset)
    )
}

/// The clock a timeout or slow mode is read by. The server reads its own, and its data held
/// only what had not ended. The browser, while it hydrates the server's page, reads the
/// epoch, so everything it was given counts as not ended: it builds what the server built
/// (a difference breaks hydration) and leaves the server's words. Once hydrated, it reads
/// its own clock, ticking.
pub fn hold_clock() -> Signal<crate::store::Millis> {
    let store = crate::store::use_store();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    Signal::derive(move || {
        if cfg!(feature = "hydrate") && !hydrated.get() {
            0
        } else {
            store.now()
        }
    })
}

/// A modal dialog: labelled by its title, focus moves into it when it opens and back when
/// it closes, and Esc closes it (`on_close`).
#[component]
pub fn Dialog(
    title: String,
    #[prop(into)] on_close: Callback<()>,
    children: Children,
) -> impl IntoView {
    // One dialog is open at a time.
    let title_id = "dialog-title";
    let panel = NodeRef::<leptos::html::Div>::new();
    #[cfg(not(feature = "hydrate"))]
    let _ = on_close;
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let before = leptos::prelude::document()
            .active_element()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        Effect::new(move |_| {
            if let Some(panel) = panel.get() {
                let first = panel
                    .query_selector("textarea, input:not([type=hidden]), select, button")
                    .ok()
                    .flatten()
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
                if let Some(first) = first {
                    let _ = first.focus();
                }
            }
        });
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() == "Escape" {
                on_close.run(());
            }
        });
        let before = StoredValue::new_local(before);
        on_cleanup(move || {
            keys.remove();
            if let Some(Some(el)) = before.try_get_value() {
                let _ = el.focus();
            }
        });
    }
    view! {
        <div class="dialog-backdrop">
            <div
                class="dialog"
                role="dialog"
                aria-modal="true"
                aria-labelledby=title_id
                node_ref=panel
            >
                <h2 id=title_id>{title}</h2>
                {children()}
            </div>
        </div>
    }
}

/// `a=1&b=two+words`: pairs as a URL's query, encoded as a GET form would send them.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let v: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    b' ' => "+".to_owned(),
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A page of one card under the page bar, the shape of the pages that are not a room.
/// `bar` names the page in the bar where that says less than the document's `title`.
#[component]
pub fn CardPage(
    title: &'static str,
    #[prop(optional)] bar: Option<&'static str>,
    /// Added to the card's own class.
    #[prop(optional)]
    class: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let card = class.map_or_else(|| "card".to_owned(), |c| format!("card {c}"));
    view! {
        <leptos_meta::Title text=title />
        <super::drawer::PageBar title=bar.unwrap_or(title) />
        <main class="page" id="main">
            <section class=card>{children()}</section>
        </main>
    }
}

/// A page that says why there is nothing to show here (no such room, not allowed, ended),
/// with where to go instead.
#[component]
pub fn NothingHere(title: &'static str, message: String, children: Children) -> impl IntoView {
    view! {
        <CardPage title>
            <h1>{title}</h1>
            <p>{message}</p>
            <p>{children()}</p>
        </CardPage>
    }
}

/// The hidden fields of a form about one member: the room, the person, and the page to
/// come back to once it is done.
#[component]
pub fn MemberFields(
    #[prop(into)] room: String,
    #[prop(into)] user: String,
    #[prop(into)] back: String,
) -> impl IntoView {
    view! {
        <input type="hidden" name="room_id" value=room />
        <input type="hidden" name="user_id" value=user />
        <input type="hidden" name="back" value=back />
    }
}

/// The bar above the pages of someone not signed in: the brand alone.
#[component]
pub fn BrandBar() -> impl IntoView {
    view! {
        <header class="topbar">
            <a href="/" class="brand">
                "Parlor"
            </a>
        </header>
    }
}

/// Who can join: one radio button per policy, each saying what it means. `ids` starts each
/// button's id; `error`, where the form has one for the field, is shown below them.
#[component]
pub fn PolicyChoices(
    chosen: domain::room::JoinPolicy,
    ids: &'static str,
    #[prop(optional)] error: Option<Signal<Option<String>>>,
) -> impl IntoView {
    view! {
        <fieldset
            class="field choices"
            aria-describedby=error.map(|_| "field-join_policy-error")
        >
            <legend>"Who can join"</legend>
            {domain::room::JoinPolicy::ALL
                .into_iter()
                .map(|p| {
                    let (label, hint) = crate::store::text::policy_label(p);
                    let id = format!("{ids}-{}", p.as_str());
                    view! {
                        <div class="choice">
                            <input
                                type="radio"
                                name="join_policy"
                                id=id.clone()
                                value=p.as_str()
                                checked=p == chosen
                            />
                            <label for=id>
                                <strong>{label}</strong>
                                <span class="muted">{hint}</span>
                            </label>
                        </div>
                    }
                })
                .collect_view()}
            {error.map(|error| view! {
                <p class="field-error" id="field-join_policy-error" role="alert">
                    {move || error.get()}
                </p>
            })}
        </fieldset>
    }
}
