//! The `POST /api/uploads` form, read by the server's own reader (the `uploadform` crate)
//! the way `src/uploads.rs` drives it: any body is accepted or refused with a documented
//! code, never a panic or a stall; no byte past the limit is handed out; what is accepted
//! had `room_id` (at most 64 bytes of text) first and a non-empty `file` second.
//!
//! Input: four control bytes, then the body.
//! - byte 0, flags: 1 = the first line of the rest is the request's `Content-Type` (else
//!   `multipart/form-data; boundary=fuzzboundary`); 2 = the body stream pauses (pending,
//!   then woken) before every chunk, as a network does; 4 = the transport ends the body
//!   with its length-limit error; 8 = with some other read error;
//! - byte 1: chunk size (0 = the whole body at once);
//! - bytes 2 and 3: the configured file limit and the sender's allowance, 8 bytes a step.
//!
//! Seeds (kept): `fuzz/seeds/upload_form/`; dictionary: `fuzz/dicts/upload_form.dict`. Both
//! use the boundary `fuzzboundary`; scripts/fuzz.sh passes them.
#![no_main]

use std::{
    collections::VecDeque,
    future::Future,
    pin::{pin, Pin},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    task::{Context, Poll, Wake, Waker},
};

use bytes::Bytes;
use domain::{message, text, ApiError, ErrorCode};
use futures_util::Stream;
use libfuzzer_sys::fuzz_target;
use uploadform::{BodyTooLarge, UploadForm, ROOM_ID_MAX};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const BOUNDARY: &str = "fuzzboundary";

/// A body arriving in chunks, pausing before each if `pause`.
struct Body {
    items: VecDeque<Result<Bytes, BoxError>>,
    pause: bool,
    paused: bool,
}

impl Stream for Body {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.pause && !self.paused && !self.items.is_empty() {
            self.paused = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.paused = false;
        Poll::Ready(self.items.pop_front())
    }
}

fn body(bytes: &[u8], chunk: usize, pause: bool, tail: Option<BoxError>) -> Body {
    let mut items: VecDeque<Result<Bytes, BoxError>> = if chunk == 0 {
        VecDeque::from([Ok(Bytes::copy_from_slice(bytes))])
    } else {
        bytes
            .chunks(chunk)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect()
    };
    items.extend(tail.map(Err));
    Body {
        items,
        pause,
        paused: false,
    }
}

struct Woken(AtomicBool);

impl Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Polls to the end. Pending with no wake-up asked for would hang the request for good (the
/// body here is always ready after its pauses), and so would endless pending: both fail.
fn run<F: Future>(fut: F, max_polls: usize) -> F::Output {
    let woken = Arc::new(Woken(AtomicBool::new(false)));
    let waker = Waker::from(woken.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    for _ in 0..max_polls {
        woken.0.store(false, Ordering::SeqCst);
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => assert!(
                woken.0.load(Ordering::SeqCst),
                "pending with nothing to wake it: the upload would hang"
            ),
        }
    }
    panic!("no end after {max_polls} polls");
}

/// A refusal with a documented code, on its own field (or none).
fn refused_well(e: &ApiError, fields: &[&str], too_large_allowed: bool) {
    assert!(!e.message.is_empty());
    assert_eq!(e.retry_after_ms, None);
    match e.code {
        ErrorCode::InvalidInput => assert!(
            e.field.as_deref().is_none_or(|f| fields.contains(&f)),
            "{e:?}"
        ),
        ErrorCode::FileTooLarge => {
            assert!(too_large_allowed, "{e:?}");
            assert_eq!(e.field, None);
        }
        _ => panic!("undocumented refusal: {e:?}"),
    }
}

/// What plain multer makes of the whole body at once: the first two parts' names, the first
/// one's bytes, the second one's file name and bytes. `None` if it cannot read that far.
type Parts = (
    Option<String>,
    Vec<u8>,
    Option<String>,
    Option<String>,
    Vec<u8>,
);

fn oracle(bytes: &[u8], boundary: &str, max_polls: usize) -> Option<Parts> {
    let stream = body(bytes, 0, false, None);
    run(
        async {
            let mut m = multer::Multipart::new(stream, boundary);
            let first = m.next_field().await.ok()??;
            let first_name = first.name().map(str::to_owned);
            let first_bytes = first.bytes().await.ok()?.to_vec();
            let second = m.next_field().await.ok()??;
            let (name, file_name) = (
                second.name().map(str::to_owned),
                second.file_name().map(str::to_owned),
            );
            let file = second.bytes().await.ok()?.to_vec();
            Some((first_name, first_bytes, name, file_name, file))
        },
        max_polls,
    )
}

/// Reads the form as `src/uploads.rs` does (room id; the server's checks; the file, chunk by
/// chunk; its end), checking each step. The room id, file name and bytes if accepted.
#[allow(clippy::too_many_arguments)]
fn read_form(
    bytes: &[u8],
    boundary: &str,
    chunk: usize,
    pause: bool,
    tail: Option<BoxError>,
    file_bytes: u64,
    allowance: u64,
    max_polls: usize,
) -> Option<(String, String, Vec<u8>)> {
    let body_limit = tail.as_ref().is_some_and(|e| e.is::<BodyTooLarge>());
    let limit = file_bytes.min(allowance);
    let mut form = UploadForm::new(body(bytes, chunk, pause, tail), boundary, file_bytes);
    let room_id = match run(form.room_id(), max_polls) {
        Ok(room_id) => room_id,
        Err(e) => {
            refused_well(&e, &["room_id"], body_limit);
            return None;
        }
    };
    assert!(room_id.len() <= ROOM_ID_MAX && room_id.trim() == room_id);
    let mut file = match run(form.file(allowance), max_polls) {
        Ok(file) => file,
        Err(e) => {
            refused_well(&e, &["file"], body_limit);
            return None;
        }
    };
    let name = file.name().to_owned();
    assert!(!name.is_empty() && name.chars().count() <= 200);
    assert!(!name.chars().any(|c| c.is_control()
        || text::is_bidi_control(c)
        || text::is_invisible(c)
        || matches!(c, '/' | '\\' | '"' | '<' | '>')));
    let mut handed = Vec::new();
    loop {
        match run(file.chunk(), max_polls) {
            Ok(Some(c)) => {
                handed.extend_from_slice(&c);
                assert!(
                    handed.len() as u64 <= limit,
                    "bytes handed out past the limit"
                );
                assert_eq!(file.size(), handed.len() as u64);
            }
            Ok(None) => break,
            Err(e) => {
                // Too large: the limit was passed (the chunk that did it was kept back),
                // or the transport's own limit was.
                refused_well(&e, &[], body_limit || file.size() > limit);
                if e.code == ErrorCode::FileTooLarge && !body_limit {
                    assert!(file.size() > limit && handed.len() as u64 <= limit);
                }
                return None;
            }
        }
    }
    match file.finish() {
        Ok(f) => {
            assert!(f.size > 0 && f.size == handed.len() as u64 && f.size <= limit);
            assert_eq!(f.name, name);
            let head = &handed[..handed.len().min(uploadform::HEAD_BYTES)];
            assert_eq!(f.content_type, message::sniff_content_type(head));
            Some((room_id, name, handed))
        }
        Err(e) => {
            refused_well(&e, &["file"], false);
            assert!(handed.is_empty());
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [flags, chunk, file_step, allowance_step, rest @ ..] = data else {
        return;
    };
    let (content_type, bytes) = if flags & 1 != 0 {
        let line = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let Ok(ct) = std::str::from_utf8(&rest[..line]) else {
            return;
        };
        (ct.to_owned(), rest.get(line + 1..).unwrap_or_default())
    } else {
        (format!("multipart/form-data; boundary={BOUNDARY}"), rest)
    };
    // No boundary: the server refuses the request before reading its body.
    let Some(boundary) = uploadform::boundary(Some(&content_type)) else {
        return;
    };
    let pause = flags & 2 != 0;
    let tail: Option<BoxError> = if flags & 4 != 0 {
        Some(Box::new(BodyTooLarge))
    } else if flags & 8 != 0 {
        Some("connection reset".into())
    } else {
        None
    };
    let transport_error = tail.is_some();
    let chunk = usize::from(*chunk);
    let file_bytes = u64::from(*file_step) * 8;
    let allowance = u64::from(*allowance_step) * 8;
    let max_polls = 4 * (bytes.len() + 16);

    let read = read_form(
        bytes, &boundary, chunk, pause, tail, file_bytes, allowance, max_polls,
    );
    // Against plain multer reading the whole body at once: an accepted form had `room_id`
    // (short text) first and `file` second, with these very bytes; and with no transport
    // error, such a form within the limit is accepted.
    if transport_error {
        return;
    }
    let parts = oracle(bytes, &boundary, max_polls);
    if let Some((room_id, name, handed)) = read {
        let Some((first, room_bytes, second, file_name, file)) = parts else {
            panic!("accepted what multer alone cannot read");
        };
        assert_eq!(first.as_deref(), Some("room_id"));
        assert!(room_bytes.len() <= ROOM_ID_MAX);
        assert_eq!(
            std::str::from_utf8(&room_bytes).map(str::trim),
            Ok(room_id.as_str())
        );
        assert_eq!(second.as_deref(), Some("file"));
        assert_eq!(
            message::sanitize_file_name(file_name.as_deref().unwrap_or("")),
            name
        );
        assert_eq!(file, handed);
    } else if let Some((first, room_bytes, second, _, file)) = parts {
        let limit = file_bytes.min(allowance);
        let well_formed = first.as_deref() == Some("room_id")
            && room_bytes.len() <= ROOM_ID_MAX
            && std::str::from_utf8(&room_bytes).is_ok()
            && second.as_deref() == Some("file")
            && !file.is_empty()
            && file.len() as u64 <= limit;
        assert!(!well_formed, "refused a well-formed form");
    }
});
