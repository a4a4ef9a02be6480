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
    task::{Context, Poll},
};

use bytes::Bytes;
use domain::{message, ApiError, ErrorCode};
use futures_util::Stream;

/// The longest `room_id` part read; ids are far shorter.
pub const ROOM_ID_MAX: usize = 64;
/// How much of the file's start is kept to tell its content type.
pub const HEAD_BYTES: usize = 512;

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

/// The boundary a request's `Content-Type` names, if it is `multipart/form-data` with one.
pub fn boundary(content_type: Option<&str>) -> Option<String> {
    multer::parse_boundary(content_type?).ok()
}

/// A body stream that tells its end one wake-up after its last chunk, never in the same poll.
///
/// multer 3.1 looks for the first boundary, and if it is not there yet polls the body once
/// more and gives up with "incomplete multipart stream" when that poll ended the body,
/// without looking at the bytes the same poll brought. A body that was pending at first
/// and then arrived whole with its end (a small form, in one packet) was refused so.
/// Held back here, the end always comes on a poll that brings no bytes, so every check
/// multer makes at the end has seen all of them. Found by `fuzz/` (target `upload_form`);
/// upstream it is rwf2/multer pull request #70 (open), seen there about once in a hundred
/// runs on a multi-threaded runtime. Drop this once a multer with the fix is in Cargo.lock.
struct HoldEnd<S> {
    body: Pin<Box<S>>,
    /// The body has ended and the following poll was answered pending.
    held: bool,
}

impl<S> HoldEnd<S> {
    fn new(body: S) -> Self {
        Self {
            body: Box::pin(body),
            held: false,
        }
    }
}

impl<S: Stream> Stream for HoldEnd<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        if self.held {
            return Poll::Ready(None);
        }
        match self.body.as_mut().poll_next(cx) {
            Poll::Ready(None) => {
                self.held = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            other => other,
        }
    }
}

/// An upload form being read, part by part, from a body stream.
pub struct UploadForm<'r> {
    parts: multer::Multipart<'r>,
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
        Self {
            parts: multer::Multipart::new(HoldEnd::new(body), boundary),
            file_bytes,
            room_id_read: false,
        }
    }

    /// The first part, which must be `room_id`: at most [`ROOM_ID_MAX`] bytes of UTF-8,
    /// trimmed. Nothing past those bytes is read when it is longer.
    pub async fn room_id(&mut self) -> Result<String, ApiError> {
        let field = self.next_part().await?;
        let room_id = match field {
            Some(field) if field.name() == Some("room_id") => {
                small_text(field, ROOM_ID_MAX).await?
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

/// A short text part, refused past `max` bytes without reading further.
async fn small_text(mut field: multer::Field<'_>, max: usize) -> Result<String, ApiError> {
    let name = field.name().unwrap_or("field").to_owned();
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| {
        ApiError::invalid_field(&name, format!("It could not be read: {}.", body_text(&e)))
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

/// A form that could not be read: too large (the body limit) or malformed.
fn unreadable(e: &multer::Error, file_bytes: u64) -> ApiError {
    if is_too_large(e) {
        return too_large(file_bytes);
    }
    ApiError::new(
        ErrorCode::InvalidInput,
        format!("The upload could not be read: {}.", body_text(e)),
    )
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
