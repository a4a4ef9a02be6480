//! `POST /api/uploads` (multipart: `room_id` first, then `file`) and `GET /files/{id}`.
//!
//! Nothing reaches the disk before the upload is admitted (docs/SECURITY.md): the sender may
//! have only a few uploads in flight (checked before a byte of the body is read), the room
//! id comes first and is small, the sender must be a member, the file is charged to their
//! send rate, today's bytes must leave room, and the disk must keep its free-space floor.
//! The file then streams to a `.part` file, counted as it goes against the sender's bytes
//! for the day, which their uploads in flight share: past the limit, or when the disk fills,
//! the partial file is removed. A kept file is stored by a random id, never by its name, and
//! served to room members only.
//!
//! Every phase runs against one clock ([`UploadClock`]): from the request on, the body must
//! keep up `--upload-min-rate` once `--body-timeout-ms` of grace has passed, so an upload
//! that stalls anywhere (before its room id, between its parts, in its file) is cut off.
//!
//! The form itself (order of parts, the room id's cap, the file's name, limit and content
//! type) is read by the `uploadform` crate, the same code `fuzz/` runs on arbitrary bodies;
//! this module adds what needs the server: who may upload, the disk, and the clock.

use std::{
    collections::HashMap,
    path::{Path as FsPath, PathBuf},
    sync::{Arc, Mutex},
};

use app::{
    ssr::{error_response, CurrentUser},
    AppError,
};
use axum::{
    body::Body,
    extract::{FromRequest, Path, Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json, RequestExt,
};
use domain::{message, ApiError, ErrorCode, FileId, RoomId, User, UserId};
use futures::TryStreamExt;
use service::Messages;
use tokio::io::AsyncWriteExt;
use uploadform::{FilePart, Progress, ReceivedFile, UploadForm};
/// Free space is checked again after every this many bytes written.
const SPACE_CHECK_EVERY: u64 = 1024 * 1024;

#[derive(Clone)]
pub struct Uploads {
    pub messages: Messages,
    pub dir: PathBuf,
    pub limits: UploadLimits,
    senders: Arc<Mutex<HashMap<UserId, Sender>>>,
}

/// One person's uploads in flight.
#[derive(Debug, Default)]
struct Sender {
    uploads: u32,
    /// Bytes they may still store today, read once when the first of their uploads in
    /// flight was admitted and spent as every one of them streams: two uploads at once draw
    /// on one allowance, so together they cannot pass it.
    left_today: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    /// Largest file.
    pub file_bytes: u64,
    /// Bytes one user may store in any 24 hours.
    pub daily_bytes: u64,
    /// Uploads one user may have streaming at once.
    pub parallel: u32,
    /// Uploads are refused while the disk has less free space than this.
    pub min_free_bytes: u64,
    /// Bytes per second an upload must keep up, after `grace`.
    pub min_rate: u64,
    pub grace: std::time::Duration,
}

impl Uploads {
    pub fn new(messages: Messages, dir: PathBuf, limits: UploadLimits) -> Self {
        Self {
            messages,
            dir,
            limits,
            senders: Arc::default(),
        }
    }

    /// Removes `.part` files an earlier run left behind (a crash mid-upload).
    pub fn sweep_partial_files(dir: &FsPath) -> usize {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "part"))
            .filter(|e| std::fs::remove_file(e.path()).is_ok())
            .count()
    }

    /// A place among the user's uploads in flight, given back when dropped.
    fn take_slot(&self, user: &UserId) -> Result<Slot, ApiError> {
        let mut senders = self.senders.lock().map_err(|_| ApiError::internal())?;
        let sender = senders.entry(user.clone()).or_default();
        if sender.uploads >= self.limits.parallel {
            return Err(ApiError::rate_limited(1000).with_message(format!(
                "You already have {} uploads in progress; wait for one to finish.",
                self.limits.parallel
            )));
        }
        sender.uploads += 1;
        Ok(Slot {
            senders: self.senders.clone(),
            user: user.clone(),
            spent: 0,
            kept: false,
        })
    }

    /// How many bytes this user may still store today, counting what their uploads in
    /// flight have streamed so far.
    async fn allowance(&self, slot: &Slot) -> Result<u64, ApiError> {
        if let Some(left) = self.left_today(&slot.user)? {
            return if left == 0 {
                Err(self.day_used_up(None))
            } else {
                Ok(left)
            };
        }
        let now = chrono::Utc::now();
        let (used, oldest) = self
            .messages
            .uploaded_since(&slot.user, now - chrono::Duration::hours(24))
            .await
            .map_err(ApiError::from)?;
        let left = {
            let mut senders = self.senders.lock().map_err(|_| ApiError::internal())?;
            let sender = senders.entry(slot.user.clone()).or_default();
            // Another of their uploads may have read it meanwhile: the first reading stands.
            *sender
                .left_today
                .get_or_insert(self.limits.daily_bytes.saturating_sub(used))
        };
        if left == 0 {
            return Err(self.day_used_up(oldest));
        }
        Ok(left)
    }

    fn left_today(&self, user: &UserId) -> Result<Option<u64>, ApiError> {
        let senders = self.senders.lock().map_err(|_| ApiError::internal())?;
        Ok(senders.get(user).and_then(|s| s.left_today))
    }

    fn day_used_up(&self, oldest: Option<chrono::DateTime<chrono::Utc>>) -> ApiError {
        let now = chrono::Utc::now();
        let back_at = oldest.unwrap_or(now) + chrono::Duration::hours(24);
        let wait = u64::try_from((back_at - now).num_milliseconds()).unwrap_or(0);
        ApiError::rate_limited(wait.max(1000)).with_message(format!(
            "You have uploaded your {} MiB for today; more becomes possible as the day goes by.",
            self.limits.daily_bytes.div_ceil(1024 * 1024)
        ))
    }

    fn check_free_space(&self) -> Result<(), ApiError> {
        match free_bytes(&self.dir) {
            Some(free) if free < self.limits.min_free_bytes => {
                tracing::warn!(
                    free,
                    floor = self.limits.min_free_bytes,
                    "disk below its free-space floor; uploads refused"
                );
                Err(storage_full())
            }
            _ => Ok(()),
        }
    }
}

/// An upload's place among its sender's, and the bytes it has taken from their day.
struct Slot {
    senders: Arc<Mutex<HashMap<UserId, Sender>>>,
    user: UserId,
    spent: u64,
    /// The file was stored: its bytes stay spent.
    kept: bool,
}

impl Slot {
    /// Takes `n` more bytes from the sender's day, shared with their other uploads.
    fn spend(&mut self, n: u64) -> Result<(), ApiError> {
        let mut senders = self.senders.lock().map_err(|_| ApiError::internal())?;
        let left = senders
            .get_mut(&self.user)
            .and_then(|s| s.left_today.as_mut())
            .ok_or_else(ApiError::internal)?;
        if *left < n {
            return Err(ApiError::new(
                ErrorCode::FileTooLarge,
                "That file is larger than what you may still upload today.",
            ));
        }
        *left -= n;
        self.spent += n;
        Ok(())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut senders) = self.senders.lock() {
            if let Some(sender) = senders.get_mut(&self.user) {
                if !self.kept {
                    if let Some(left) = sender.left_today.as_mut() {
                        *left += self.spent;
                    }
                }
                sender.uploads = sender.uploads.saturating_sub(1);
                if sender.uploads == 0 {
                    // Nothing in flight: the database says the rest from now on.
                    senders.remove(&self.user);
                }
            }
        }
    }
}

/// The deadline every phase of an upload runs against: from the request's start, after the
/// grace, at least `min_rate` bytes a second of the body (all of it: the parts' headers, the
/// room id, the file).
struct UploadClock {
    started: tokio::time::Instant,
    limits: UploadLimits,
    body: Progress,
}

impl UploadClock {
    /// Runs `step`, cut off with `too_slow` when the body falls behind the rate.
    async fn within<T>(
        &self,
        step: impl std::future::Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        tokio::pin!(step);
        loop {
            let deadline = self.deadline();
            match tokio::time::timeout_at(deadline, &mut step).await {
                Ok(done) => return done,
                // More of the body arrived meanwhile: the deadline moved on.
                Err(_) if self.deadline() > deadline => continue,
                Err(_) => return Err(self.too_slow()),
            }
        }
    }

    fn deadline(&self) -> tokio::time::Instant {
        let earned = std::time::Duration::from_secs_f64(
            self.body.bytes() as f64 / self.limits.min_rate.max(1) as f64,
        );
        self.started + self.limits.grace + earned
    }

    fn too_slow(&self) -> ApiError {
        ApiError::new(
            ErrorCode::TooSlow,
            format!(
                "The upload arrived too slowly (under {} KiB/s) and was stopped.",
                self.limits.min_rate / 1024
            ),
        )
    }
}

/// Bytes available to this process on the file system holding `dir`.
fn free_bytes(dir: &FsPath) -> Option<u64> {
    let stat = rustix::fs::statvfs(dir).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

fn storage_full() -> ApiError {
    ApiError::new(
        ErrorCode::StorageFull,
        "The server is out of disk space for files just now. Try again later, or tell its admin.",
    )
}

/// Removes the temporary file unless it was kept.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The request body as an upload form: what axum's `Multipart` extractor did (the same
/// refusal of a missing or bad boundary, the same body limit), over `uploadform`'s reader.
pub struct Form(UploadForm<'static>);

impl FromRequest<Uploads> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, up: &Uploads) -> Result<Self, Response> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let Some(boundary) = uploadform::boundary(content_type) else {
            return Err((
                StatusCode::BAD_REQUEST,
                "Invalid `boundary` for `multipart/form-data` request",
            )
                .into_response());
        };
        let body = req
            .with_limited_body()
            .into_body()
            .into_data_stream()
            .map_err(body_error);
        Ok(Self(UploadForm::new(body, boundary, up.limits.file_bytes)))
    }
}

/// Past the route's `DefaultBodyLimit`, the body fails with a `LengthLimitError`: the form
/// reader refuses that as `file_too_large`. Other failures pass through as they are.
fn body_error(e: axum::Error) -> Box<dyn std::error::Error + Send + Sync> {
    let over_limit = std::error::Error::source(&e)
        .is_some_and(|inner| inner.is::<http_body_util::LengthLimitError>());
    if over_limit {
        Box::new(uploadform::BodyTooLarge)
    } else {
        Box::new(e)
    }
}

pub async fn upload(
    State(up): State<Uploads>,
    caller: Result<CurrentUser, AppError>,
    Form(mut form): Form,
) -> Response {
    let started = tokio::time::Instant::now();
    let user = match caller {
        Ok(caller) => caller.user,
        Err(refused) => return refused.into_response(),
    };
    match receive(&up, &user, &mut form, started).await {
        Ok(message) => Json(serde_json::json!({ "message": message })).into_response(),
        Err(e) => error_response(&e),
    }
}

async fn receive(
    up: &Uploads,
    user: &User,
    form: &mut UploadForm<'static>,
    started: tokio::time::Instant,
) -> Result<message::MessageView, ApiError> {
    // A place among the sender's uploads first: nobody holds more than a few connections
    // reading upload bodies, whatever those bodies do.
    let mut slot = up.take_slot(&user.id)?;
    let clock = UploadClock {
        started,
        limits: up.limits,
        body: form.progress(),
    };
    let room_id = RoomId::new(clock.within(form.room_id()).await?);
    up.messages
        .admit_upload(&user.id, &room_id)
        .await
        .map_err(ApiError::from)?;
    let allowance = up.allowance(&slot).await?;
    up.check_free_space()?;
    let file = clock.within(form.file(allowance)).await?;
    let (temp, id, received) = store(up, &clock, &mut slot, file).await?;
    let ReceivedFile {
        name,
        size,
        content_type,
    } = received;
    let upload = message::FileView {
        id: FileId::new(id.clone()),
        name,
        size,
        content_type,
    };
    let mut temp = temp;
    let final_path = up.dir.join(&id);
    let temp_path = temp.0.clone().unwrap_or_default();
    tokio::fs::rename(&temp_path, &final_path)
        .await
        .map_err(|e| internal(&e))?;
    temp.0 = Some(final_path);
    let message = up
        .messages
        .post_file(user, &room_id, upload)
        .await
        .map_err(ApiError::from)?;
    // Kept: the message points at it now, and its bytes count for today.
    temp.0 = None;
    slot.kept = true;
    tracing::info!(user_id = %user.id, room_id = %message.room_id, file_id = %id, size, "file uploaded");
    Ok(message)
}

/// Streams the file part to a `.part` file; on any refusal the partial file is removed.
async fn store(
    up: &Uploads,
    clock: &UploadClock,
    slot: &mut Slot,
    mut file: FilePart<'_, 'static>,
) -> Result<(TempFile, String, ReceivedFile), ApiError> {
    tokio::fs::create_dir_all(&up.dir)
        .await
        .map_err(|e| internal(&e))?;
    let id = service::ids::new_id();
    let path = up.dir.join(format!("{id}.part"));
    let temp = TempFile(Some(path.clone()));
    let mut out = tokio::fs::File::create(&path)
        .await
        .map_err(|e| write_error(&e))?;
    let mut checked_at = 0u64;
    // Counted against the limit (and its head kept for sniffing) by `chunk`.
    while let Some(chunk) = clock.within(file.chunk()).await? {
        slot.spend(chunk.len() as u64)?;
        out.write_all(&chunk).await.map_err(|e| write_error(&e))?;
        let size = file.size();
        if size - checked_at >= SPACE_CHECK_EVERY {
            checked_at = size;
            up.check_free_space()?;
        }
    }
    out.flush().await.map_err(|e| write_error(&e))?;
    out.sync_all().await.map_err(|e| write_error(&e))?;
    let received = file.finish()?;
    Ok((temp, id, received))
}

/// A failed write: a full disk says so; anything else is ours to look into.
fn write_error(e: &std::io::Error) -> ApiError {
    if e.kind() == std::io::ErrorKind::StorageFull || e.kind() == std::io::ErrorKind::QuotaExceeded
    {
        tracing::warn!(error = %e, "the disk filled during an upload");
        return storage_full();
    }
    internal(e)
}

fn internal(e: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "upload storage failed");
    ApiError::internal()
}

pub async fn download(
    State(up): State<Uploads>,
    caller: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
) -> Response {
    let user = match caller {
        Ok(caller) => caller.user,
        Err(refused) => return refused.into_response(),
    };
    let f = match up.messages.file_for(&user.id, &FileId::new(id)).await {
        Ok(f) => f,
        Err(e) => return error_response(&ApiError::from(e)),
    };
    // Ids are ours and alphanumeric, so this path stays inside the folder.
    if !f.id.as_str().bytes().all(|b| b.is_ascii_alphanumeric()) {
        return error_response(&ApiError::new(
            ErrorCode::NotFound,
            "There is no such file.",
        ));
    }
    let file = match tokio::fs::File::open(up.dir.join(f.id.as_str())).await {
        Ok(file) => file,
        Err(e) => return error_response(&internal(&e)),
    };
    let disposition = if message::is_inline_image(&f.content_type) {
        "inline"
    } else {
        "attachment"
    };
    let ascii: String = f
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = f
        .name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let mut res = Response::new(Body::from_stream(tokio_util::io::ReaderStream::new(file)));
    let h = res.headers_mut();
    let set =
        |v: String| HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static("attachment"));
    h.insert(header::CONTENT_TYPE, set(f.content_type.clone()));
    h.insert(header::CONTENT_LENGTH, set(f.size.to_string()));
    h.insert(
        header::CONTENT_DISPOSITION,
        set(format!(
            "{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
        )),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    res
}
