//! What the admin page's sections share: the room's admin data, loaded with the log's filter
//! from the address and loaded again after every change, and how an action's answer is read.

use domain::{effects::LogKind, RoomId};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    api::rooms::{room_admin, AdminView},
    store::use_store,
    AppError,
};

/// The room's admin data, and a way to load it again after a change.
#[derive(Clone, Copy)]
pub struct Admin {
    pub data: RwSignal<AdminView>,
    /// Bumped after every action and live change: the data and the log load again, in
    /// place (the page is not rebuilt, so forms in flight are not lost).
    pub version: RwSignal<u32>,
}

pub fn admin_path(room: &RoomId) -> String {
    format!("/rooms/{room}/admin")
}

/// An action's outcome: on success the page reloads its data; the error, if any, to show.
pub fn after_action<A>(action: ServerAction<A>, version: RwSignal<u32>) -> Signal<Option<String>>
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

/// Loads the page's data again whenever `version` moves: after an action here, and when a
/// live change to the room (a member, a request) arrives.
pub fn keep_fresh(admin: Admin) {
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

/// The log's filter and page, from the address (`?kind=banned&cursor=…`), so both work as
/// links and plain forms.
pub fn log_query() -> (Memo<Option<LogKind>>, Memo<Option<String>>) {
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
