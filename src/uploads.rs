//! `POST /api/uploads` (multipart `room_id`, `file`) and `GET /files/{id}`.
//! Uploads stream to a temporary file under the data directory and count bytes as they go:
//! past the limit the temporary file is removed and the answer is `file_too_large`. A kept
//! file is stored by a random id, never by its name, and served to room members only.

use std::path::PathBuf;

use app::{
    ssr::{error_response, CurrentUser},
    AppError,
};
use axum::{
    body::Body,
    extract::{Multipart, Path, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use domain::{message, ApiError, ErrorCode, User};
use service::Messages;
use tokio::io::AsyncWriteExt;

#[derive(Clone)]
pub struct Uploads {
    pub messages: Messages,
    pub dir: PathBuf,
    pub limit: u64,
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        ErrorCode::FileTooLarge,
        format!(
            "That file is larger than {} MiB, the limit here.",
            limit.div_ceil(1024 * 1024)
        ),
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

pub async fn upload(
    State(up): State<Uploads>,
    caller: Result<CurrentUser, AppError>,
    mut form: Multipart,
) -> Response {
    let user = match caller {
        Ok(caller) => caller.user,
        Err(refused) => return refused.into_response(),
    };
    match receive(&up, &user, &mut form).await {
        Ok(message) => Json(serde_json::json!({ "message": message })).into_response(),
        Err(e) => error_response(&e),
    }
}

async fn receive(
    up: &Uploads,
    user: &User,
    form: &mut Multipart,
) -> Result<message::MessageView, ApiError> {
    let bad = |why: String| ApiError::new(ErrorCode::InvalidInput, why);
    let mut room_id = None;
    let mut stored: Option<(TempFile, String, u64, String)> = None;
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| multipart_error(e, up.limit))?
    {
        match field.name() {
            Some("room_id") => {
                let id = field
                    .text()
                    .await
                    .map_err(|e| bad(format!("The room id could not be read: {e}.")))?;
                // Refused before a file that follows is streamed to disk, not after.
                up.messages
                    .check_member(&user.id, &id)
                    .await
                    .map_err(ApiError::from)?;
                room_id = Some(id);
            }
            Some("file") => {
                let name = message::sanitize_file_name(field.file_name().unwrap_or(""));
                tokio::fs::create_dir_all(&up.dir)
                    .await
                    .map_err(|e| internal(&e))?;
                let id = service::ids::new_id();
                let path = up.dir.join(format!("{id}.part"));
                let temp = TempFile(Some(path.clone()));
                let mut out = tokio::fs::File::create(&path)
                    .await
                    .map_err(|e| internal(&e))?;
                let mut size = 0u64;
                let mut head = Vec::new();
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| multipart_error(e, up.limit))?
                {
                    size += chunk.len() as u64;
                    if size > up.limit {
                        return Err(too_large(up.limit));
                    }
                    if head.len() < 512 {
                        head.extend_from_slice(&chunk[..chunk.len().min(512 - head.len())]);
                    }
                    out.write_all(&chunk).await.map_err(|e| internal(&e))?;
                }
                out.flush().await.map_err(|e| internal(&e))?;
                if size == 0 {
                    return Err(ApiError::invalid_field("file", "That file is empty."));
                }
                let content_type = message::sniff_content_type(&head).to_owned();
                stored = Some((temp, id, size, format!("{name}\u{0}{content_type}")));
            }
            _ => {}
        }
    }
    let room_id = room_id
        .ok_or_else(|| ApiError::invalid_field("room_id", "Say which room the file is for."))?;
    let (mut temp, id, size, meta) =
        stored.ok_or_else(|| ApiError::invalid_field("file", "Attach a file."))?;
    let (name, content_type) = meta
        .split_once('\u{0}')
        .unwrap_or(("file", "application/octet-stream"));
    let row = entity::file::Model {
        id: id.clone(),
        room_id,
        uploader_id: user.id.to_string(),
        name: name.to_owned(),
        content_type: content_type.to_owned(),
        size: i64::try_from(size).unwrap_or(i64::MAX),
        created_at: chrono::Utc::now(),
    };
    let final_path = up.dir.join(&id);
    let temp_path = temp.0.clone().unwrap_or_default();
    tokio::fs::rename(&temp_path, &final_path)
        .await
        .map_err(|e| internal(&e))?;
    temp.0 = Some(final_path);
    let message = up
        .messages
        .post_file(user, row)
        .await
        .map_err(ApiError::from)?;
    // Kept: the message points at it now.
    temp.0 = None;
    tracing::info!(user_id = %user.id, room_id = %message.room_id, file_id = %id, size, "file uploaded");
    Ok(message)
}

fn internal(e: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "upload storage failed");
    ApiError::internal()
}

fn multipart_error(e: axum::extract::multipart::MultipartError, limit: u64) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large(limit);
    }
    ApiError::new(
        ErrorCode::InvalidInput,
        format!("The upload could not be read: {}.", e.body_text()),
    )
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
    let f = match up.messages.file_for(&user.id, &id).await {
        Ok(f) => f,
        Err(e) => return error_response(&ApiError::from(e)),
    };
    // Ids are ours and alphanumeric, so this path stays inside the folder.
    if !f.id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return error_response(&ApiError::new(
            ErrorCode::NotFound,
            "There is no such file.",
        ));
    }
    let file = match tokio::fs::File::open(up.dir.join(&f.id)).await {
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
