//! The upload form's first phase, as the server reads it before it admits an upload and
//! before a byte of the file is stored: the `room_id` part, then the file part's headers.
//! Whatever the body, the phase ends in a bounded number of polls: it reads both or refuses
//! with a documented code. Before the file's data begins it never reads more than
//! `FORM_HEAD_MAX` and one piece of the body, however long a part's headers run. A body that
//! goes quiet leaves the phase waiting (for the server's clock to end it) with no more read.
//!
//! Input: two control bytes, then the body (boundary `fuzzboundary`).
//! - byte 0, flags: 1 = the body goes quiet after its last chunk instead of ending; 2 = the
//!   body repeats its bytes without end (headers that never finish, say);
//! - byte 1: chunk size (0 = 64 KiB).
//!
//! Each input must finish within the deadline scripts/fuzz.sh gives libFuzzer (`-timeout`).
#![no_main]

use std::{
    future::Future,
    pin::{pin, Pin},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    task::{Context, Poll, Wake, Waker},
};

use bytes::Bytes;
use domain::{ApiError, ErrorCode};
use futures_util::Stream;
use libfuzzer_sys::fuzz_target;
use uploadform::{UploadForm, FORM_HEAD_MAX};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body: `bytes` in chunks, then the end, silence, or the same bytes again for ever.
struct Body {
    bytes: Bytes,
    chunk: usize,
    at: usize,
    quiet_at_end: bool,
    endless: bool,
}

impl Stream for Body {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.at >= self.bytes.len() {
            if self.endless && !self.bytes.is_empty() {
                self.at = 0;
            } else if self.quiet_at_end {
                // Nothing more, and no wake-up: a client that stopped sending.
                return Poll::Pending;
            } else {
                return Poll::Ready(None);
            }
        }
        let end = (self.at + self.chunk).min(self.bytes.len());
        let piece = self.bytes.slice(self.at..end);
        self.at = end;
        Poll::Ready(Some(Ok(piece)))
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

/// Polls while something asks to be polled again; `None` once the future waits with
/// nothing to wake it (a quiet body). More than `max_polls` polls is a failure: the phase
/// must end, not spin.
fn run<F: Future>(fut: F, max_polls: usize) -> Option<F::Output> {
    let woken = Arc::new(Woken(AtomicBool::new(false)));
    let waker = Waker::from(woken.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    for _ in 0..max_polls {
        woken.0.store(false, Ordering::SeqCst);
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return Some(out),
            Poll::Pending if woken.0.load(Ordering::SeqCst) => {}
            Poll::Pending => return None,
        }
    }
    panic!("the form's first phase did not end after {max_polls} polls");
}

fn refused_well(e: &ApiError) {
    assert!(!e.message.is_empty());
    match e.code {
        ErrorCode::InvalidInput => {
            assert!(e.field.as_deref().is_none_or(|f| f == "room_id" || f == "file"), "{e:?}")
        }
        _ => panic!("undocumented refusal: {e:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&[flags, chunk], rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let chunk = if chunk == 0 { 64 * 1024 } else { usize::from(chunk) };
    let body = Body {
        bytes: Bytes::copy_from_slice(rest),
        chunk,
        at: 0,
        quiet_at_end: flags & 1 != 0,
        endless: flags & 2 != 0,
    };
    let mut form = UploadForm::new(body, "fuzzboundary", 10 * 1024 * 1024);
    let progress = form.progress();
    let phase = async {
        form.room_id().await?;
        form.file(u64::MAX).await.map(|file| file.name().to_owned())
    };
    match run(phase, 100_000) {
        Some(Ok(name)) => assert!(!name.is_empty()),
        Some(Err(e)) => refused_well(&e),
        // A quiet body: waiting is right; reading past the bound while waiting is not.
        None => {}
    }
    // However the phase ended, multer never buffered more than the bound and one chunk of
    // the parts before the file (a piece is at most 1 KiB, a chunk at most 64 KiB).
    assert!(
        progress.bytes() <= FORM_HEAD_MAX + chunk as u64,
        "read {} bytes before the file",
        progress.bytes()
    );
});
