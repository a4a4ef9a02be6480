//! Sending files: the attach button, the list of uploads in progress, and the upload itself,
//! `POST /api/uploads` (room id first, then the file) by XMLHttpRequest, which reports upload
//! progress as fetch cannot. The stored message comes back in the answer and through the
//! live channel; the store keeps it once.

use domain::RoomId;
use leptos::prelude::*;

use crate::live::use_live;

/// Files on their way up, shared by the attach button and the drop zone.
#[derive(Clone, Copy)]
pub struct UploadQueue(pub RwSignal<Vec<Upload>>);

#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub id: u64,
    pub name: String,
    pub percent: u32,
    pub error: Option<String>,
}

/// Uploads on their way, with progress, or their refusal.
#[component]
pub fn UploadList() -> impl IntoView {
    let uploads = expect_context::<UploadQueue>();
    view! {
        <Show when=move || !uploads.0.read().is_empty()>
            <ul class="uploads" aria-label="Uploads">
                <For each=move || uploads.0.get() key=|u| (u.id, u.percent, u.error.clone()) let:u>
                    <UploadRow upload=u />
                </For>
            </ul>
        </Show>
    }
}

#[component]
fn UploadRow(upload: Upload) -> impl IntoView {
    let uploads = expect_context::<UploadQueue>();
    let id = upload.id;
    view! {
        <li class="upload" class:failed=upload.error.is_some()>
            <span class="file-name">{upload.name.clone()}</span>
            {match upload.error.clone() {
                None => view! {
                    <progress max="100" value=upload.percent aria-label=format!("Uploading {}", upload.name)></progress>
                }
                .into_any(),
                Some(why) => view! {
                    <span class="field-error" role="alert">{why}</span>
                    <button
                        type="button"
                        class="icon-button"
                        aria-label="Dismiss"
                        on:click=move |_| uploads.0.update(|l| l.retain(|x| x.id != id))
                    >
                        {super::icons::close()}
                    </button>
                }
                .into_any(),
            }}
        </li>
    }
}

#[component]
pub fn AttachButton(room: RoomId) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let uploads = expect_context::<UploadQueue>();
    let live = use_live();
    let on_change = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(el) = input.get_untracked() {
            if let Some(files) = el.files() {
                start_all(live, uploads, &room, &files);
            }
            el.set_value("");
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&room, live, uploads);
    };
    view! {
        <label class="icon-button attach" title="Attach a file">
            {super::icons::paperclip()}
            <span class="visually-hidden">"Attach a file"</span>
            <input type="file" class="visually-hidden" node_ref=input multiple=true on:change=on_change />
        </label>
    }
}

#[cfg(feature = "hydrate")]
pub use browser::start_all;

#[cfg(feature = "hydrate")]
mod browser {
    use std::sync::atomic::{AtomicU64, Ordering};

    use domain::{message::MessageView, ApiError, RoomId};
    use leptos::{
        prelude::*,
        wasm_bindgen::{closure::Closure, JsCast},
    };
    use web_sys::{File, FileList, FormData, ProgressEvent, XmlHttpRequest};

    use super::{Upload, UploadQueue};
    use crate::{live::Live, store::Local};

    static NEXT: AtomicU64 = AtomicU64::new(1);

    /// The answer to a finished upload: the message it stored.
    #[derive(serde::Deserialize)]
    struct Uploaded {
        message: MessageView,
    }

    /// Starts uploading each of `files` into `room`: the attach button's choice, or what
    /// was dropped or pasted on the conversation.
    pub fn start_all(live: Live, uploads: UploadQueue, room: &RoomId, files: &FileList) {
        for i in 0..files.length() {
            if let Some(file) = files.get(i) {
                start(live, uploads, room.clone(), file);
            }
        }
    }

    /// Starts uploading `file` into `room`, listed in `uploads` until it is done.
    fn start(live: Live, uploads: UploadQueue, room: RoomId, file: File) {
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = file.name();
        uploads.0.update(|l| {
            l.push(Upload {
                id,
                name: name.clone(),
                percent: 0,
                error: None,
            })
        });
        let fail = move |why: String| {
            uploads.0.update(|l| {
                if let Some(u) = l.iter_mut().find(|u| u.id == id) {
                    u.error = Some(why);
                }
            })
        };
        let Ok(form) = FormData::new() else {
            return fail("Your browser cannot send files.".into());
        };
        // The room first: the server checks it before taking a byte of the file.
        let _ = form.append_with_str("room_id", room.as_str());
        let _ = form.append_with_blob_and_filename("file", &file, &name);
        let Ok(xhr) = XmlHttpRequest::new() else {
            return fail("Your browser cannot send files.".into());
        };
        if xhr.open("POST", "/api/uploads").is_err() {
            return fail("Your browser cannot send files.".into());
        }
        let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |ev: ProgressEvent| {
            if ev.length_computable() && ev.total() > 0.0 {
                let percent = (ev.loaded() / ev.total() * 100.0).round() as u32;
                uploads.0.update(|l| {
                    if let Some(u) = l.iter_mut().find(|u| u.id == id) {
                        u.percent = percent.min(100);
                    }
                });
            }
        });
        if let Ok(up) = xhr.upload() {
            up.set_onprogress(Some(progress.as_ref().unchecked_ref()));
        }
        let done = {
            let xhr = xhr.clone();
            // Called once when the request ends, which frees it and, with it, `progress`.
            Closure::once_into_js(move |_: web_sys::Event| {
                drop(progress);
                let status = xhr.status().unwrap_or(0);
                let body = xhr.response_text().ok().flatten().unwrap_or_default();
                if status == 0 {
                    live.lost_server();
                    fail("The server could not be reached. Try again when it is back.".into());
                    return;
                }
                if (200..300).contains(&status) {
                    uploads.0.update(|l| l.retain(|u| u.id != id));
                    if let Ok(posted) = serde_json::from_str::<Uploaded>(&body) {
                        live.dispatch(Local::Posted(Box::new(posted.message)));
                    }
                } else {
                    let why = serde_json::from_str::<ApiError>(&body)
                        .map(|e| e.message)
                        .unwrap_or_else(|_| format!("The upload failed ({status})."));
                    fail(why);
                }
            })
        };
        xhr.set_onloadend(Some(done.unchecked_ref()));
        if xhr.send_with_opt_form_data(Some(&form)).is_err() {
            fail("The upload could not start.".into());
        }
    }
}
