//! The client's one store. [`state`] holds the data and its pure reducer; this module puts
//! it in a signal that pages read, and that only the reducer writes.

pub mod clock;
pub mod state;
#[cfg(test)]
mod tests;
pub mod text;

pub use clock::Millis;
use domain::RoomId;
use leptos::prelude::{expect_context, Get, Memo, RwSignal, Set, Update as _, With, WithUntracked};
pub use state::{ChatState, Connection, Followup, Loaded, Local, Update};

/// A handle on the store (cheap to copy into closures).
#[derive(Clone, Copy)]
pub struct Store {
    state: RwSignal<ChatState>,
    /// The clock pages read for relative times: ticks in the browser, fixed on the server.
    now: RwSignal<Millis>,
    /// Minutes to subtract from UTC for the reader's local time (JavaScript's sign).
    tz_offset: RwSignal<i64>,
}

impl Store {
    pub fn new(now: Millis) -> Self {
        Self {
            state: RwSignal::new(ChatState::default()),
            now: RwSignal::new(now),
            tz_offset: RwSignal::new(0),
        }
    }

    /// Reads part of the state, tracking it.
    pub fn with<T>(&self, f: impl FnOnce(&ChatState) -> T) -> T {
        self.state.with(f)
    }

    /// A memo of what `read` finds in `room`'s conversation: `T::default()` while the room
    /// is not loaded.
    pub fn room_memo<T>(
        &self,
        room: &RoomId,
        read: impl Fn(&state::Conversation) -> T + Send + Sync + 'static,
    ) -> Memo<T>
    where
        T: Default + PartialEq + Send + Sync + 'static,
    {
        let (store, room) = (*self, room.clone());
        Memo::new(move |_| store.with(|s| s.conversation(&room).map(&read).unwrap_or_default()))
    }

    /// Reads part of the state without tracking it.
    pub fn with_untracked<T>(&self, f: impl FnOnce(&ChatState) -> T) -> T {
        self.state.with_untracked(f)
    }

    /// Applies an update (the only way the state changes); returns the followups.
    pub fn apply(&self, update: impl Into<Update>) -> Vec<Followup> {
        let now = current_time();
        let update = update.into();
        let mut out = Vec::new();
        self.state.update(|s| out = s.apply(update, now));
        out
    }

    pub fn now(&self) -> Millis {
        self.now.get()
    }

    pub fn tick(&self, now: Millis) {
        self.now.set(now);
    }

    pub fn tz_offset(&self) -> i64 {
        self.tz_offset.get()
    }

    pub fn set_tz_offset(&self, minutes: i64) {
        self.tz_offset.set(minutes);
    }
}

pub fn use_store() -> Store {
    expect_context::<Store>()
}

/// The wall clock: the browser's in the browser, the server's on the server.
pub fn current_time() -> Millis {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as Millis
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}
