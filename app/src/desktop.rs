//! Desktop notifications for mentions (docs/RULES.md §6, "Mentions"): opt-in, through the
//! browser's Notification API, shown only while the tab is hidden (a visible tab shows the
//! mention itself). The choice is kept in this browser (`localStorage`).

use domain::{effects::NotificationKind, views::NotificationView};

/// The `localStorage` key of the opt-in.
#[cfg(feature = "hydrate")]
const KEY: &str = "parlor-desktop-mentions";

/// Whether this browser can show desktop notifications at all.
pub fn supported() -> bool {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Reflect::has(&leptos::prelude::window(), &"Notification".into()).unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// Whether desktop notifications are on: asked for here and allowed by the browser.
pub fn enabled() -> bool {
    #[cfg(feature = "hydrate")]
    {
        use web_sys::{Notification, NotificationPermission};
        supported()
            && Notification::permission() == NotificationPermission::Granted
            && storage()
                .and_then(|s| s.get_item(KEY).ok().flatten())
                .as_deref()
                == Some("on")
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// Turns them on (asking the browser's permission first) or off; `done` hears whether
/// they are on afterwards.
pub fn set(on: bool, done: impl Fn(bool) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        if !on {
            if let Some(s) = storage() {
                let _ = s.remove_item(KEY);
            }
            done(false);
            return;
        }
        let Ok(asked) = web_sys::Notification::request_permission() else {
            done(false);
            return;
        };
        let answered = wasm_bindgen::closure::Closure::once(move |_: wasm_bindgen::JsValue| {
            if web_sys::Notification::permission() == web_sys::NotificationPermission::Granted {
                if let Some(s) = storage() {
                    let _ = s.set_item(KEY, "on");
                }
            }
            done(enabled());
        });
        let _ = asked.then(&answered);
        // Asked once per click: the closure lives until the browser answers.
        answered.forget();
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = on;
        done(false);
    }
}

/// Shows a mention as a desktop notification, if they are on and the tab is hidden.
pub fn mention(n: &NotificationView, text: &str) {
    if n.kind != NotificationKind::Mention || !enabled() {
        return;
    }
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::{closure::Closure, JsCast};
        if leptos::prelude::document().visibility_state() == web_sys::VisibilityState::Visible {
            return;
        }
        let options = web_sys::NotificationOptions::new();
        options.set_body(text);
        // One per notification, however many tabs are open.
        options.set_tag(n.id.as_str());
        let Ok(shown) = web_sys::Notification::new_with_options("Parlor", &options) else {
            return;
        };
        let href = match (&n.room_id, n.message_id) {
            (Some(room), Some(m)) => format!("/rooms/{room}#m{m}"),
            (Some(room), None) => format!("/rooms/{room}"),
            _ => "/notifications".to_owned(),
        };
        let on_click = Closure::once_into_js(move || {
            let window = leptos::prelude::window();
            let _ = window.focus();
            let _ = window.location().set_href(&href);
        });
        shown.set_onclick(Some(on_click.unchecked_ref()));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    leptos::prelude::window().local_storage().ok().flatten()
}
