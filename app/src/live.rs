//! The live channel in the browser: the only place that owns the WebSocket. It opens it, puts
//! every frame through the store's reducer, sends what the reducer asks to send, reconnects
//! by itself (capped exponential backoff with jitter, at once when the browser comes back
//! online or the person asks), and carries out the reducer's other followups: catch-up,
//! reloads and refreshes through the server functions.
//!
//! On the server there is no socket: updates still go through the reducer, so the page
//! renders the same state, and followups wait for the browser.

use leptos::prelude::*;

use crate::store::{Followup, Store, Update};

/// The page's handle on the live channel (cheap to copy into closures).
#[derive(Clone, Copy)]
pub struct Live {
    store: Store,
    #[cfg(feature = "hydrate")]
    inner: StoredValue<browser::Inner, LocalStorage>,
}

pub fn use_live() -> Live {
    expect_context::<Live>()
}

impl Live {
    /// Makes the page's live channel and provides it to the pages below. In the browser it
    /// connects once the page is hydrated.
    pub fn provide(store: Store) -> Self {
        let live = Self {
            store,
            #[cfg(feature = "hydrate")]
            inner: StoredValue::new_local(browser::Inner::default()),
        };
        provide_context(live);
        #[cfg(feature = "hydrate")]
        browser::start(live);
        live
    }

    /// Puts an update through the reducer and carries out what it asks for.
    pub fn dispatch(&self, update: impl Into<Update>) {
        let followups = self.store.apply(update);
        self.run(followups);
    }

    #[cfg(not(feature = "hydrate"))]
    fn run(&self, _followups: Vec<Followup>) {}

    #[cfg(feature = "hydrate")]
    fn run(&self, followups: Vec<Followup>) {
        browser::run(*self, followups);
    }

    /// Tells the room that I am typing, at most every 2 s per room.
    pub fn typing(&self, room: &domain::RoomId) {
        #[cfg(feature = "hydrate")]
        browser::typing(*self, room);
        #[cfg(not(feature = "hydrate"))]
        let _ = room;
    }

    /// Tries to reconnect now instead of at the end of the countdown.
    pub fn retry_now(&self) {
        #[cfg(feature = "hydrate")]
        browser::connect(*self);
    }

    /// A server function could not reach the server: the channel is down too, most
    /// likely, so it is reopened (and the banner shows while it cannot be).
    pub fn lost_server(&self) {
        #[cfg(feature = "hydrate")]
        browser::drop_socket(*self);
    }

    /// This tab is logging out: the server's "signed out" close that follows is expected, and the
    /// logout's own redirect takes the page to the login page. Left to the close, the page
    /// went there twice, the second time as a full load that could cut into whatever the
    /// person opened next.
    pub fn logging_out(&self) {
        #[cfg(feature = "hydrate")]
        browser::logging_out(*self);
    }
}

/// What an error of a server function means for the page: an unreachable server takes
/// the channel down (the banner says so); anything else is the caller's to show.
pub fn note_error(live: Live, err: &crate::AppError) {
    if err.code() == domain::ErrorCode::ServerUnreachable {
        live.lost_server();
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::{collections::HashMap, time::Duration};

    use domain::{
        wire::{ClientFrame, Close, ServerFrame},
        ErrorCode, RoomId,
    };
    use leptos::{
        prelude::*,
        task::spawn_local,
        wasm_bindgen::{closure::Closure, JsCast},
    };
    use web_sys::{CloseEvent, MessageEvent, WebSocket};

    use super::Live;
    use crate::{
        api::{
            messages::messages_since, notifications::read_notifications, overview::get_overview,
            rooms::open_room,
        },
        store::{current_time, Connection, Followup, Loaded, Local, Millis},
        AppError,
    };

    /// The longest wait between tries.
    const MAX_BACKOFF_MS: f64 = 30_000.0;
    const FIRST_BACKOFF_MS: f64 = 1_000.0;
    /// A socket that hears nothing (not even a pong) for this long is taken for dead.
    const SILENCE_MS: Millis = 45_000;
    const PING_EVERY: Duration = Duration::from_secs(20);
    const TYPING_EVERY_MS: Millis = 2_000;

    #[derive(Default)]
    pub struct Inner {
        socket: Option<WebSocket>,
        /// The handlers of the open socket, kept alive as long as it is.
        handlers: Vec<Closure<dyn FnMut(web_sys::Event)>>,
        attempt: u32,
        retry: Option<TimeoutHandle>,
        last_heard: Millis,
        typing_sent: HashMap<RoomId, Millis>,
        refreshing: bool,
        refresh_again: bool,
        closed_for_good: bool,
        /// Set by [`Live::logging_out`](super::Live::logging_out).
        logging_out: bool,
    }

    pub fn start(live: Live) {
        // Once hydrated: the clock, the reader's time zone, the socket.
        Effect::new(move |_| {
            let store = live.store;
            store.set_tz_offset(js_sys::Date::new_0().get_timezone_offset() as i64);
            store.tick(current_time());
            let tick = set_interval_with_handle(
                move || store.tick(current_time()),
                Duration::from_secs(1),
            )
            .ok();
            let ping = set_interval_with_handle(move || heartbeat(live), PING_EVERY).ok();
            let online = window_event_listener(leptos::ev::online, move |_| connect(live));
            let offline = window_event_listener(leptos::ev::offline, move |_| drop_socket(live));
            connect(live);
            on_cleanup(move || {
                if let Some(h) = tick {
                    h.clear();
                }
                if let Some(h) = ping {
                    h.clear();
                }
                online.remove();
                offline.remove();
                live.inner.update_value(|i| i.closed_for_good = true);
                close_socket(live, 1000, "page left");
            });
        });
    }

    fn socket_url() -> Option<String> {
        let location = window().location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        Some(format!("{scheme}://{}/ws", location.host().ok()?))
    }

    /// Opens a new socket (closing any old one) unless the page is going away.
    pub fn connect(live: Live) {
        if live.inner.with_value(|i| i.closed_for_good) {
            return;
        }
        close_socket(live, 1000, "reconnecting");
        live.inner.update_value(|i| {
            if let Some(h) = i.retry.take() {
                h.clear();
            }
        });
        if !window().navigator().on_line() {
            // No network: wait for the browser's `online`, with the countdown as a fallback.
            schedule_retry(live, None);
            return;
        }
        let attempt = live.inner.with_value(|i| i.attempt);
        live.store
            .apply(Local::Connection(Connection::Connecting { attempt }));
        let Some(url) = socket_url() else { return };
        let Ok(ws) = WebSocket::new(&url) else {
            schedule_retry(live, None);
            return;
        };
        let on_message =
            Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| heard(live, &ev));
        let on_close =
            Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| closed(live, &ev));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        live.inner.update_value(|i| {
            i.socket = Some(ws);
            i.handlers = vec![on_message, on_close];
            i.last_heard = current_time();
        });
    }

    /// A frame from the server: into the store (and the desktop, for a mention).
    fn heard(live: Live, ev: &web_sys::Event) {
        let Some(ev) = ev.dyn_ref::<MessageEvent>() else {
            return;
        };
        let Some(text) = ev.data().as_string() else {
            return;
        };
        live.inner.update_value(|i| i.last_heard = current_time());
        match serde_json::from_str::<ServerFrame>(&text) {
            Ok(frame) => {
                if matches!(frame, ServerFrame::Ready { .. }) {
                    live.inner.update_value(|i| i.attempt = 0);
                }
                if let ServerFrame::Notification { notification } = &frame {
                    crate::desktop::mention(
                        notification,
                        &crate::store::text::notification(notification),
                    );
                }
                live.dispatch(frame);
            }
            Err(e) => leptos::logging::warn!("unreadable frame: {e}"),
        }
    }

    /// The socket closed: why says whether to try again, and when.
    fn closed(live: Live, ev: &web_sys::Event) {
        // Only the current socket has handlers: an old one's were removed when replaced.
        let why = ev
            .dyn_ref::<CloseEvent>()
            .and_then(|e| Close::from_code(e.code()));
        live.inner.update_value(|i| {
            i.socket = None;
            i.handlers.clear();
        });
        match why {
            Some(ended @ (Close::SignedOut | Close::AccountDeleted)) => {
                // The session ended (logged out in this or another tab): no more tries.
                live.store.apply(Local::Connection(Connection::SignedOut));
                live.inner.update_value(|i| i.closed_for_good = true);
                let to = if ended == Close::AccountDeleted {
                    crate::api::auth::ACCOUNT_DELETED_PAGE
                } else if live.inner.with_value(|i| i.logging_out) {
                    return;
                } else {
                    "/login"
                };
                let _ = window().location().assign(to);
            }
            // Too many tabs (or connections from here): the page stays and says so, and
            // tries again now and then, so closing another tab is all it takes.
            Some(refused @ (Close::TooManyForUser | Close::TooManyForAddress)) => {
                schedule_retry(live, Some(refused));
            }
            _ => schedule_retry(live, None),
        }
    }

    pub fn logging_out(live: Live) {
        live.inner.update_value(|i| i.logging_out = true);
    }

    fn close_socket(live: Live, code: u16, reason: &str) {
        let old = live.inner.try_update_value(|i| {
            i.handlers.clear();
            i.socket.take()
        });
        if let Some(Some(ws)) = old {
            ws.set_onmessage(None);
            ws.set_onclose(None);
            let _ = ws.close_with_code_and_reason(code, reason);
        }
    }

    /// The socket is gone (or taken for gone): show the banner and count down to a retry.
    pub fn drop_socket(live: Live) {
        if live.inner.with_value(|i| i.retry.is_some()) {
            return;
        }
        close_socket(live, 1000, "taken for dead");
        schedule_retry(live, None);
    }

    fn schedule_retry(live: Live, refused: Option<Close>) {
        let attempt = live.inner.with_value(|i| i.attempt);
        let cap = (FIRST_BACKOFF_MS * 2f64.powi(attempt.min(16) as i32)).min(MAX_BACKOFF_MS);
        // Full jitter over the upper half: spread, but never instant.
        let wait = cap / 2.0 + js_sys::Math::random() * cap / 2.0;
        let retry_at = current_time() + wait as Millis;
        live.store.apply(Local::Connection(Connection::Offline {
            retry_at,
            attempt: attempt + 1,
            refused,
        }));
        let handle = set_timeout_with_handle(
            move || {
                live.inner.update_value(|i| i.retry = None);
                connect(live);
            },
            Duration::from_millis(wait as u64),
        )
        .ok();
        live.inner.update_value(|i| {
            i.attempt = attempt + 1;
            if let Some(old) = std::mem::replace(&mut i.retry, handle) {
                old.clear();
            }
        });
    }

    /// Pings the server; a socket silent for too long is closed and reopened.
    fn heartbeat(live: Live) {
        let silent_for = current_time() - live.inner.with_value(|i| i.last_heard);
        let open = live.inner.with_value(|i| {
            i.socket
                .as_ref()
                .is_some_and(|s| s.ready_state() == WebSocket::OPEN)
        });
        if !open {
            return;
        }
        if silent_for > SILENCE_MS {
            drop_socket(live);
        } else {
            transmit(live, &ClientFrame::Ping);
        }
    }

    fn transmit(live: Live, frame: &ClientFrame) {
        let Ok(text) = serde_json::to_string(frame) else {
            return;
        };
        live.inner.with_value(|i| {
            if let Some(ws) = i
                .socket
                .as_ref()
                .filter(|s| s.ready_state() == WebSocket::OPEN)
            {
                // A failed send leaves the message pending; `ready` resends it.
                let _ = ws.send_with_str(&text);
            }
        });
    }

    pub fn typing(live: Live, room: &RoomId) {
        let now = current_time();
        let due = live.inner.try_update_value(|i| {
            let last = i.typing_sent.get(room).copied().unwrap_or(0);
            if now - last < TYPING_EVERY_MS {
                return false;
            }
            i.typing_sent.insert(room.clone(), now);
            true
        });
        if due == Some(true) {
            transmit(
                live,
                &ClientFrame::Typing {
                    room_id: room.clone(),
                },
            );
        }
    }

    fn failed(live: Live, err: &AppError) {
        match err.code() {
            ErrorCode::ServerUnreachable => drop_socket(live),
            // Unless the channel's own close already sent the page on (it knows why: the
            // login page says so when the account was deleted).
            ErrorCode::Unauthenticated if !live.inner.with_value(|i| i.closed_for_good) => {
                let _ = window().location().assign("/login");
            }
            ErrorCode::Unauthenticated => {}
            _ => leptos::logging::warn!("{}", err.0.message),
        }
    }

    pub fn run(live: Live, followups: Vec<Followup>) {
        for f in followups {
            match f {
                Followup::Transmit(frame) => transmit(live, &frame),
                Followup::CatchUp { room, after } => spawn_local(async move {
                    match messages_since(room.clone(), after.to_string()).await {
                        Ok(r) => live.dispatch(Loaded::Since {
                            room,
                            messages: r.messages,
                        }),
                        Err(e) => failed(live, &e),
                    }
                }),
                Followup::Reload { room } => spawn_local(async move {
                    match open_room(room).await {
                        Ok(open) => live.dispatch(Loaded::Room(open)),
                        Err(e) => failed(live, &e),
                    }
                }),
                Followup::Refresh => refresh(live),
                Followup::MarkRead(ids) => spawn_local(async move {
                    let all = ids.is_none().then_some(true);
                    if let Err(e) = read_notifications(ids, all).await {
                        failed(live, &e);
                    }
                }),
            }
        }
    }

    /// Fetches the overview; asked again while one is on its way, it fetches once more after.
    fn refresh(live: Live) {
        let busy = live.inner.try_update_value(|i| {
            if i.refreshing {
                i.refresh_again = true;
                true
            } else {
                i.refreshing = true;
                false
            }
        });
        if busy != Some(false) {
            return;
        }
        spawn_local(async move {
            loop {
                match get_overview().await {
                    Ok(o) => live.dispatch(Loaded::Overview(o)),
                    Err(e) => failed(live, &e),
                }
                let again = live.inner.try_update_value(|i| {
                    let again = std::mem::take(&mut i.refresh_again);
                    i.refreshing = again;
                    again
                });
                if again != Some(true) {
                    break;
                }
            }
        });
    }
}
