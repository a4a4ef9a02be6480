//! Reading the `POST /api/uploads` form: a `room_id` part first, at most [`ROOM_ID_MAX`]
//! bytes of text, then a `file` part, counted against its limit as it streams.
//!
//! The server (`src/uploads.rs`) reads every upload through this, and the fuzzer
//! (`fuzz/fuzz_targets/upload_form.rs`) feeds it arbitrary bodies: one parser for both. It
//! does no I/O of its own and knows nothing of axum or the database, so the server still
//! decides, between the two parts, whether the sender may upload at all (nothing of the
//! file has been read then), and writes each chunk [`FilePart::chunk`] hands it.
//!
//! Every refusal is a [`domain::ApiError`], the same the server answers with:
//! `invalid_input` (on the `room_id` or `file` field when it belongs to one) or
//! `file_too_large`.

use std::{
    fmt,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    task::{Context, Poll},
};

use bytes::Bytes;
use domain::{message, ApiError, ErrorCode};
use futures_util::Stream;

/// The longest `room_id` part read; ids are far shorter.
pub const ROOM_ID_MAX: usize = 64;
/// How much of the file's start is kept to tell its content type.
pub const HEAD_BYTES: usize = 512;
/// The most bytes read from the body before the file's data begins: the `room_id` part and
/// both parts' headers fit in it many times over. Without it, multer would keep buffering a
/// part's headers for as long as their end does not come.
pub const FORM_HEAD_MAX: u64 = 16 * 1024;

/// The body error a transport reports when the request went past its length limit (for
/// the server: axum's body limit). It is refused as `file_too_large`, like the file itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTooLarge;

impl fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("length limit exceeded")
    }
}

impl std::error::Error for BodyTooLarge {}

/// The body error that stops a form whose parts before the file go past [`FORM_HEAD_MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormHeadTooLong;

impl fmt::Display for FormHeadTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the parts before the file are longer than {FORM_HEAD_MAX} bytes"
        )
    }
}

impl std::error::Error for FormHeadTooLong {}

/// How much of the body has been read, for a deadline that wants a rate (the server's
/// slow-upload guard): shared with the form, readable while the file part streams.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    read: Arc<AtomicU64>,
    in_file: Arc<AtomicBool>,
}

impl Progress {
    /// Body bytes read so far, every part's headers included.
    pub fn bytes(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }
}

/// The boundary a request's `Content-Type` names, if it is `multipart/form-data` with one.
pub fn boundary(content_type: Option<&str>) -> Option<String> {
    multer::parse_boundary(content_type?).ok()
}

/// The body as multer reads it. Three jobs:
///
/// - **The end comes one wake-up after the last chunk, never in the same poll.** multer 3.1
///   looks for the first boundary, and if it is not there yet polls the body once more and
///   gives up with "incomplete multipart stream" when that poll ended the body, without
///   looking at the bytes the same poll brought. A body that was pending at first and then
///   arrived whole with its end (a small form, in one packet) was refused so. Held back
///   here, the end always comes on a poll that brings no bytes, so every check multer makes
///   at the end has seen all of them. Found by `fuzz/` (target `upload_form`); upstream it is
///   rwf2/multer pull request #70 (open). Drop this once a multer with the fix is in
///   Cargo.lock.
/// - **Before the file's data, the body is handed out in small pieces, one per poll**, and
///   refused past [`FORM_HEAD_MAX`] ([`FormHeadTooLong`]). multer reads whatever is ready
///   into its buffer and looks for the end of a part's headers there, without a bound: a
///   client whose headers never end would have it buffer until the body limit. A form
///   in order needs a few pieces; one that keeps asking for more has headers without end.
/// - **It counts what is read** ([`Progress`]), for a deadline that wants a rate.
struct HoldEnd<S> {
    body: Pin<Box<S>>,
    /// The body has ended and the following poll was answered pending.
    held: bool,
    ended: bool,
    /// What is left of a chunk cut into pieces.
    rest: Option<Bytes>,
    /// A piece was handed out on the last poll: this one yields, so multer looks at it
    /// before it asks for more.
    yield_now: bool,
    progress: Progress,
}

/// The size of the pieces handed out before the file's data.
const PIECE: usize = 1024;

impl<S> HoldEnd<S> {
    fn new(body: S, progress: Progress) -> Self {
        Self {
            body: Box::pin(body),
            held: false,
            ended: false,
            rest: None,
            yield_now: false,
            progress,
        }
    }

    fn count(&self, chunk: Bytes) -> Poll<Option<Result<Bytes, BoxError>>> {
        self.progress
            .read
            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
        Poll::Ready(Some(Ok(chunk)))
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, O, E> Stream for HoldEnd<S>
where
    S: Stream<Item = Result<O, E>>,
    O: Into<Bytes>,
    E: Into<BoxError>,
{
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let in_file = self.progress.in_file.load(Ordering::Relaxed);
        if !in_file {
            if self.progress.bytes() >= FORM_HEAD_MAX {
                return Poll::Ready(Some(Err(Box::new(FormHeadTooLong))));
            }
            if std::mem::take(&mut self.yield_now) {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        let chunk = match self.rest.take() {
            Some(rest) => rest,
            None if self.held => return Poll::Ready(None),
            None if self.ended => {
                self.held = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            None => match self.body.as_mut().poll_next(cx) {
                Poll::Ready(None) => {
                    self.ended = true;
                    self.held = true;
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Poll::Ready(Some(Ok(chunk))) => chunk.into(),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
                Poll::Pending => return Poll::Pending,
            },
        };
        if in_file || chunk.len() <= PIECE {
            self.yield_now = !in_file;
            return self.count(chunk);
        }
        let mut chunk = chunk;
        self.rest = Some(chunk.split_off(PIECE));
        self.yield_now = true;
        self.count(chunk)
    }
}

/// An upload form being read, part by part, from a body stream.
pub struct UploadForm<'r> {
    parts: multer::Multipart<'r>,
    progress: Progress,
    /// The largest file accepted at all (the server's configured limit).
    file_bytes: u64,
    room_id_read: bool,
}

impl<'r> UploadForm<'r> {
    /// Reads `body` (chunks as they arrive) as a form split by `boundary`. A body error
    /// that is (or wraps) [`BodyTooLarge`] is refused as `file_too_large`.
    pub fn new<S, O, E>(body: S, boundary: impl Into<String>, file_bytes: u64) -> Self
    where
        S: Stream<Item = Result<O, E>> + Send + 'r,
        O: Into<Bytes> + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'r,
    {
        let progress = Progress::default();
        Self {
            parts: multer::Multipart::new(HoldEnd::new(body, progress.clone()), boundary),
            progress,
            file_bytes,
            room_id_read: false,
        }
    }

    /// How much of the body has been read; it keeps counting while the file streams.
    pub fn progress(&self) -> Progress {
        self.progress.clone()
    }

    /// The first part, which must be `room_id`: at most [`ROOM_ID_MAX`] bytes of UTF-8,
    /// trimmed. Nothing past those bytes is read when it is longer.
    pub async fn room_id(&mut self) -> Result<String, ApiError> {
        let field = self.next_part().await?;
        let room_id = match field {
            Some(field) if field.name() == Some("room_id") => {
                small_text(field, ROOM_ID_MAX, self.file_bytes).await?
            }
            _ => return Err(room_id_first()),
        };
        self.room_id_read = true;
        Ok(room_id)
    }

    /// The next part, which must be `file`, ready to stream: no more than `allowance`
    /// bytes (what the sender may still store) nor the configured limit are let through.
    /// Refused as `room_id` if [`UploadForm::room_id`] has not been read first.
    pub async fn file(&mut self, allowance: u64) -> Result<FilePart<'_, 'r>, ApiError> {
        if !self.room_id_read {
            return Err(room_id_first());
        }
        let field = match self.next_part().await? {
            Some(field) if field.name() == Some("file") => field,
            _ => return Err(ApiError::invalid_field("file", "Attach a file.")),
        };
        let name = message::sanitize_file_name(field.file_name().unwrap_or(""));
        // From here on the body is the file's data, which its own limit bounds.
        self.progress.in_file.store(true, Ordering::Relaxed);
        Ok(FilePart {
            limit: self.file_bytes.min(allowance),
            allowance,
            file_bytes: self.file_bytes,
            name,
            size: 0,
            head: Vec::new(),
            field,
            _form: self,
        })
    }

    async fn next_part(&mut self) -> Result<Option<multer::Field<'r>>, ApiError> {
        self.parts
            .next_field()
            .await
            .map_err(|e| unreadable(&e, self.file_bytes))
    }
}

/// The `file` part as it streams. It borrows the form: no other part can be read meanwhile.
pub struct FilePart<'f, 'r> {
    field: multer::Field<'r>,
    _form: &'f mut UploadForm<'r>,
    /// The smaller of `allowance` and `file_bytes`.
    limit: u64,
    allowance: u64,
    file_bytes: u64,
    name: String,
    size: u64,
    head: Vec<u8>,
}

impl FilePart<'_, '_> {
    /// The file's name, cut to its last path segment and cleaned
    /// ([`domain::message::sanitize_file_name`]); never empty.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bytes received so far (the refused chunk included, once one was).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The next chunk of the file, or `None` at its end. Refused as `file_too_large` as soon
    /// as the bytes received pass the limit: that chunk is not handed out, so the bytes
    /// handed out never exceed it.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, ApiError> {
        let Some(chunk) = self
            .field
            .chunk()
            .await
            .map_err(|e| unreadable(&e, self.file_bytes))?
        else {
            return Ok(None);
        };
        self.size = self.size.saturating_add(chunk.len() as u64);
        if self.size > self.limit {
            return Err(if self.limit < self.file_bytes {
                ApiError::new(
                    ErrorCode::FileTooLarge,
                    format!(
                        "That file is larger than what you may still upload today ({} KiB).",
                        self.allowance / 1024
                    ),
                )
            } else {
                too_large(self.file_bytes)
            });
        }
        if self.head.len() < HEAD_BYTES {
            let take = chunk.len().min(HEAD_BYTES - self.head.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        Ok(Some(chunk))
    }

    /// The file once all of it has been received: refused if it is empty; its content type
    /// comes from its first bytes ([`domain::message::sniff_content_type`]), never from
    /// what the client claimed.
    pub fn finish(self) -> Result<ReceivedFile, ApiError> {
        if self.size == 0 {
            return Err(ApiError::invalid_field("file", "That file is empty."));
        }
        Ok(ReceivedFile {
            content_type: message::sniff_content_type(&self.head).to_owned(),
            name: self.name,
            size: self.size,
        })
    }
}

/// What is known of a file received whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedFile {
    pub name: String,
    pub size: u64,
    pub content_type: String,
}

fn room_id_first() -> ApiError {
    ApiError::invalid_field("room_id", "Send the room_id field first, before the file.")
}

/// A short text part, refused past `max` bytes without reading further. The body failing
/// under it (a transport error, the body limit, headers without end) is the form's fault,
/// not the field's.
async fn small_text(
    mut field: multer::Field<'_>,
    max: usize,
    file_bytes: u64,
) -> Result<String, ApiError> {
    let name = field.name().unwrap_or("field").to_owned();
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| match e {
        multer::Error::StreamReadFailed(_) => unreadable(&e, file_bytes),
        _ => ApiError::invalid_field(&name, format!("It could not be read: {}.", body_text(&e))),
    })? {
        if bytes.len().saturating_add(chunk.len()) > max {
            return Err(ApiError::invalid_field(
                &name,
                format!("This field is at most {max} bytes."),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map(|s| s.trim().to_owned())
        .map_err(|_| ApiError::invalid_field(&name, "This field must be text."))
}

/// The refusal for a file past the configured limit.
pub fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        ErrorCode::FileTooLarge,
        format!(
            "That file is larger than {} MiB, the limit here.",
            limit.div_ceil(1024 * 1024)
        ),
    )
}

/// A form that could not be read: too large (the body limit), headers without end, or
/// malformed.
fn unreadable(e: &multer::Error, file_bytes: u64) -> ApiError {
    if is_too_large(e) {
        return too_large(file_bytes);
    }
    if head_too_long(e) {
        return ApiError::new(
            ErrorCode::InvalidInput,
            format!(
                "The upload could not be read: the parts before the file take more than \
                     {} KiB. Send the room_id, then the file.",
                FORM_HEAD_MAX / 1024
            ),
        );
    }
    ApiError::new(
        ErrorCode::InvalidInput,
        format!("The upload could not be read: {}.", body_text(e)),
    )
}

fn head_too_long(e: &multer::Error) -> bool {
    matches!(e, multer::Error::StreamReadFailed(inner) if inner.downcast_ref::<FormHeadTooLong>().is_some())
}

/// What the error says, as axum's `MultipartError::body_text` put it.
fn body_text(e: &multer::Error) -> String {
    if is_too_large(e) {
        "Request payload is too large".to_owned()
    } else {
        e.to_string()
    }
}

/// Whether the body went past a length limit (axum's `MultipartError::status` said 413).
fn is_too_large(e: &multer::Error) -> bool {
    match e {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => true,
        multer::Error::StreamReadFailed(inner) => {
            inner.downcast_ref::<BodyTooLarge>().is_some()
                || inner
                    .downcast_ref::<multer::Error>()
                    .is_some_and(is_too_large)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;
