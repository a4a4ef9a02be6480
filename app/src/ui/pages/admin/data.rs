//! What the admin page's sections share: the room's admin data, loaded with the log's filter
//! from the address and loaded again after every change, and how an action's answer is read.

use domain::{effects::LogKind, RoomId};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    api::rooms::{room_admin, AdminView},
    store::use_store,
    ui::components::widgets::{query_string, refusal},
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
    refusal(action)
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
                // A timeout set, lifted or ended by someone else moves no count.
                let muted: Vec<String> = s
                    .conversation(&room)
                    .map(|c| {
                        c.members
                            .iter()
                            .filter_map(|m| m.muted_until.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                let news = s
                    .notifications
                    .iter()
                    .filter(|n| n.room_id.as_ref() == Some(&room))
                    .count();
                // A report filed, or resolved by another admin: the inbox loads again.
                let reports = s
                    .rooms
                    .iter()
                    .find(|r| r.room.id == room)
                    .map_or(0, |r| r.open_reports);
                (members, muted, news, reports)
            })
        })
    };
    Effect::new(move |prev: Option<(usize, Vec<String>, usize, u32)>| {
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
            let (_, kind, cursor, actor, target) = untrack(|| log_query().key(room.clone()));
            leptos::task::spawn_local(async move {
                match room_admin(room, kind, cursor, actor, target).await {
                    Ok(fresh) => admin.data.set(fresh),
                    Err(e) => crate::live::note_error(live, &e),
                }
            });
        }
        v
    });
}

/// The log's filter and page, from the address
/// (`?kind=banned&actor=ana&target=bob&cursor=…`), so both work as links and plain forms.
#[derive(Clone, Copy)]
pub struct LogAddress {
    pub kind: Memo<Option<LogKind>>,
    pub cursor: Memo<Option<String>>,
    /// Who acted and who it was done to: a username (or id) as typed; blank is anyone.
    pub actor: Memo<Option<String>>,
    pub target: Memo<Option<String>>,
}

/// The page's data, as the address asks for it.
pub type AdminKey = (
    RoomId,
    Option<LogKind>,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl LogAddress {
    /// Everything that chooses what the page loads, with the room.
    pub fn key(&self, room: RoomId) -> AdminKey {
        (
            room,
            self.kind.get(),
            self.cursor.get(),
            self.actor.get(),
            self.target.get(),
        )
    }

    /// The filter as a query string (`kind=…&actor=…&target=…`), for links that keep it.
    pub fn filter_query(&self) -> String {
        let kind = self.kind.get().map(kind_value);
        let (actor, target) = (self.actor.get(), self.target.get());
        let pairs: Vec<(&str, &str)> = [
            ("kind", kind.as_deref()),
            ("actor", actor.as_deref()),
            ("target", target.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect();
        query_string(&pairs)
    }
}

/// A log kind as the address and the API name it (`banned`).
pub fn kind_value(k: LogKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub fn log_query() -> LogAddress {
    let query = use_query_map();
    let kind = Memo::new(move |_| {
        query
            .read()
            .get("kind")
            .and_then(|k| serde_json::from_value::<LogKind>(serde_json::Value::String(k)).ok())
    });
    let cursor = Memo::new(move |_| query.read().get("cursor"));
    let named = |field: &'static str| {
        Memo::new(move |_| {
            query
                .read()
                .get(field)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        })
    };
    LogAddress {
        kind,
        cursor,
        actor: named("actor"),
        target: named("target"),
    }
}
