//! The composer's suggestions for the `@name` being typed (docs/RULES.md §6, "Mentions"):
//! the room's members whose names start with what is typed, and `@room` for its admins.
//! Arrows move, Enter or Tab picks, Escape closes; a pointer picks too.

use domain::{mention, RoomId};
use leptos::prelude::*;

use crate::store::use_store;

/// How many names the list shows at once.
const SHOWN: usize = 8;

/// The suggestions' state, shared by the textarea and the list.
#[derive(Clone, Copy)]
pub struct Suggest {
    /// While a name is typed: where its `@` is and where the caret is (byte offsets).
    typing: RwSignal<Option<(usize, usize)>>,
    selected: RwSignal<usize>,
    /// The names offered, best first.
    pub options: Memo<Vec<String>>,
    text: RwSignal<String>,
}

impl Suggest {
    pub fn new(room: RoomId) -> Self {
        let store = use_store();
        let typing = RwSignal::new(None::<(usize, usize)>);
        let text = RwSignal::new(String::new());
        let options = Memo::new(move |_| {
            let Some((at, caret)) = typing.get() else {
                return Vec::new();
            };
            let prefix = text.with(|t| t.get(at + 1..caret).unwrap_or("").to_ascii_lowercase());
            store.with(|s| {
                let Some(c) = s.conversation(&room) else {
                    return Vec::new();
                };
                let mut out: Vec<String> = c
                    .members
                    .iter()
                    .filter(|m| !s.is_me(&m.user.id))
                    .map(|m| m.user.username.clone())
                    .filter(|n| n.to_ascii_lowercase().starts_with(&prefix))
                    .take(SHOWN)
                    .collect();
                let admin = c.is_member() && c.my_role.is_some_and(|r| r.is_admin());
                if admin && mention::ROOM.starts_with(&prefix) && out.len() < SHOWN {
                    out.push(mention::ROOM.to_owned());
                }
                out
            })
        });
        Self {
            typing,
            selected: RwSignal::new(0),
            options,
            text,
        }
    }

    /// The text and caret changed: offer names if a `@name` is being typed there.
    pub fn update(&self, text: &str, caret: usize) {
        let typing = mention::typing_at(text, caret).map(|(at, _)| (at, caret));
        self.text.set(text.to_owned());
        if typing != self.typing.get_untracked() {
            self.selected.set(0);
        }
        self.typing.set(typing);
    }

    pub fn close(&self) {
        self.typing.set(None);
    }

    pub fn is_open(&self) -> bool {
        self.typing.with(Option::is_some) && self.options.with(|o| !o.is_empty())
    }

    /// The text with `name` in place of what was typed, and the caret after it.
    pub fn pick(&self, name: &str) -> Option<(String, usize)> {
        let (at, caret) = self.typing.get_untracked()?;
        self.typing.set(None);
        Some(
            self.text
                .with_untracked(|t| mention::complete(t, at, caret, name)),
        )
    }

    /// A key in the textarea while the list is open: true if the list took it.
    pub fn key(&self, key: &str) -> Option<Option<(String, usize)>> {
        if !self.typing.with_untracked(Option::is_some) {
            return None;
        }
        let count = self.options.with_untracked(Vec::len);
        if count == 0 {
            return None;
        }
        match key {
            "ArrowDown" => self.selected.update(|s| *s = (*s + 1) % count),
            "ArrowUp" => self.selected.update(|s| *s = (*s + count - 1) % count),
            "Enter" | "Tab" => {
                let name = self
                    .options
                    .with_untracked(|o| o.get(self.selected.get_untracked()).cloned())?;
                return Some(self.pick(&name));
            }
            "Escape" => self.close(),
            _ => return None,
        }
        Some(None)
    }

    /// The id of the option the arrows are on, for `aria-activedescendant`.
    pub fn active_id(&self) -> Option<String> {
        self.is_open()
            .then(|| format!("mention-option-{}", self.selected.get()))
    }
}

/// The list under the composer while a name is typed.
#[component]
pub fn MentionList(suggest: Suggest, on_pick: Callback<(String, usize)>) -> impl IntoView {
    view! {
        <Show when=move || suggest.is_open()>
            <ul class="mention-list" id="mention-list" role="listbox" aria-label="Mention someone">
                {move || {
                    suggest
                        .options
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(i, name)| {
                            let label = if name == mention::ROOM {
                                "@room — everyone in the room".to_owned()
                            } else {
                                format!("@{name}")
                            };
                            let picked = name.clone();
                            view! {
                                <li
                                    id=format!("mention-option-{i}")
                                    role="option"
                                    aria-selected=move || (suggest.selected.get() == i).to_string()
                                    class:selected=move || suggest.selected.get() == i
                                    on:mousedown=move |ev| {
                                        // Keeps the focus in the textarea.
                                        ev.prevent_default();
                                        if let Some(done) = suggest.pick(&picked) {
                                            on_pick.run(done);
                                        }
                                    }
                                >
                                    {label}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </Show>
    }
}

/// A UTF-16 offset (the browser's caret) as a byte offset into `text`.
pub fn byte_offset(text: &str, utf16: usize) -> usize {
    let mut units = 0;
    for (i, c) in text.char_indices() {
        if units >= utf16 {
            return i;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// A byte offset into `text` as a UTF-16 offset (the browser's caret).
pub fn utf16_offset(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(0, |t| t.encode_utf16().count())
}
