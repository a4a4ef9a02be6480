//! Server-side plumbing shared by the server functions: the services in context, and the
//! signed-in user in the session.

use axum::{
    extract::FromRequestParts,
    response::{IntoResponse, Response},
};
use domain::{ApiError, User, UserId};
use http::{request::Parts, StatusCode};
use leptos::prelude::*;
use server_fn::error::ServerFnUrlError;
use tower_sessions::Session;

use crate::AppError;

/// What the server hands every page render and server function.
#[derive(Clone)]
pub struct ServerCtx {
    pub accounts: service::Accounts,
    pub rooms: service::Rooms,
    pub notifications: service::Notifications,
    pub messages: service::Messages,
    pub reports: service::Reports,
    pub tokens: service::Tokens,
    pub hub: std::sync::Arc<dyn service::hub::Hub>,
}

impl From<service::ServiceError> for AppError {
    fn from(err: service::ServiceError) -> Self {
        AppError(ApiError::from(err))
    }
}

/// The signed-in caller and the services: the first line of every authenticated server
/// function.
pub async fn caller() -> Result<(User, ServerCtx), AppError> {
    // Contexts are read before the first await: a page render may drop the owner that
    // started this call while it waits, and the context goes with it.
    let ctx = ctx()?;
    let user = require_user().await?;
    Ok((user, ctx))
}

/// The session key that holds the signed-in user's id.
pub const SESSION_USER_KEY: &str = "user_id";

pub fn ctx() -> Result<ServerCtx, AppError> {
    use_context::<ServerCtx>().ok_or_else(|| {
        tracing::error!("ServerCtx missing from the Leptos context");
        AppError(ApiError::internal())
    })
}

async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer in front of a server function");
        AppError(ApiError::internal())
    })
}

fn store_failed(e: tower_sessions::session::Error) -> AppError {
    if let tower_sessions::session::Error::Store(store) = &e {
        if service::session_store::is_unreachable(store) {
            tracing::warn!(error = %e, "session store: the database cannot be reached");
            return AppError(ApiError::unavailable());
        }
    }
    tracing::error!(error = %e, "session store failed");
    AppError(ApiError::internal())
}

/// The signed-in user of a request, from its session cookie: the one way every part of the
/// server (server functions, `/ws`, uploads and downloads) learns who is asking. A session
/// whose user no longer exists counts as none. Extracting it keeps the session alive.
///
/// A request may instead carry `Authorization: Bearer <access token>` (docs/RULES.md §1,
/// "Access tokens"): it then acts as the token's owner, and only within the token's scope,
/// which is weighed here, once, for every route.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    /// The session that signed them in (or the token, as `token:<id>`): its logout (or
    /// revoke) closes the sockets it opened.
    pub session_id: Option<String>,
    /// What the access token that made the request may do; `None` for a password session,
    /// which may do everything.
    pub scope: Option<domain::token::TokenScope>,
}

/// What one request has loaded already. Put into each request's extensions by the server;
/// the clones of the request's parts a page hands its resources share it.
///
/// - The caller, once found: a page's resources each ask who is calling, and only the first
///   asks the database.
/// - A page's data, by what it was asked for: Leptos 0.8 runs a `Suspense`'s children more
///   than once while rendering on the server (leptos-rs/leptos#4688), so a page inside the
///   app shell's `Suspense` creates its resource twice; the second load is this one.
#[derive(Clone, Default)]
pub struct RequestMemo {
    caller: std::sync::Arc<tokio::sync::OnceCell<CurrentUser>>,
    loads: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, LoadCell>>>,
}

type LoadCell =
    std::sync::Arc<tokio::sync::OnceCell<std::sync::Arc<dyn std::any::Any + Send + Sync>>>;

/// Runs `load` once per request for `key` (a failure is not kept: a retry loads again).
pub async fn once_per_request<T, F>(key: String, load: F) -> Result<T, AppError>
where
    T: Clone + Send + Sync + 'static,
    F: std::future::Future<Output = Result<T, AppError>>,
{
    let memo = use_context::<Parts>().and_then(|p| p.extensions.get::<RequestMemo>().cloned());
    let Some(memo) = memo else {
        return load.await;
    };
    let cell = memo
        .loads
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(format!("{}:{key}", std::any::type_name::<T>()))
        .or_default()
        .clone();
    let value = cell
        .get_or_try_init(|| async {
            load.await
                .map(|v| std::sync::Arc::new(v) as std::sync::Arc<dyn std::any::Any + Send + Sync>)
        })
        .await?;
    value.downcast_ref::<T>().cloned().ok_or_else(|| {
        tracing::error!(key, "a request memo held another type");
        AppError(ApiError::internal())
    })
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Some(memo) = parts.extensions.get::<RequestMemo>().cloned() else {
            return Self::find(parts, state).await;
        };
        memo.caller
            .get_or_try_init(|| Self::find(parts, state))
            .await
            .cloned()
    }
}

/// The access token an `Authorization: Bearer` header carries, if any.
pub fn bearer_token(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl CurrentUser {
    /// The token's owner, if the token is in force and its scope reaches this request.
    async fn by_token(parts: &Parts, secret: &str) -> Result<Self, AppError> {
        let Some(tokens) = parts.extensions.get::<service::Tokens>().cloned() else {
            tracing::error!("the tokens service is not in the request extensions");
            return Err(AppError(ApiError::internal()));
        };
        let found = tokens
            .authenticate(secret)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| {
                AppError(ApiError::unauthenticated().with_message(
                    "This access token does not work: it was revoked, it expired, or it never \
                     existed.",
                ))
            })?;
        let reach = domain::token::reach_of(parts.method.as_str(), parts.uri.path());
        found.scope.permits(reach)?;
        Ok(Self {
            session_id: Some(service::tokens::socket_key(&found.id)),
            user: found.user,
            scope: Some(found.scope),
        })
    }

    async fn find<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        if let Some(secret) = bearer_token(&parts.headers) {
            let secret = secret.to_owned();
            return Self::by_token(parts, &secret).await;
        }
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, why)| {
                tracing::error!(why, "no session layer in front of an authenticated route");
                AppError(ApiError::internal())
            })?;
        let Some(accounts) = parts.extensions.get::<service::Accounts>().cloned() else {
            tracing::error!("the accounts service is not in the request extensions");
            return Err(AppError(ApiError::internal()));
        };
        let Some(id) = session
            .get::<UserId>(SESSION_USER_KEY)
            .await
            .map_err(store_failed)?
        else {
            return Err(AppError(ApiError::unauthenticated()));
        };
        keep_alive(&session).await?;
        let user = accounts
            .get(&id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| AppError(ApiError::unauthenticated()))?;
        Ok(Self {
            user,
            session_id: session.id().map(|id| id.to_string()),
            scope: None,
        })
    }
}

/// An API error as an HTTP response: the status its code calls for, the JSON error body.
pub fn error_response(err: &ApiError) -> Response {
    let status =
        StatusCode::from_u16(err.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(err)).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        error_response(&self.0)
    }
}

/// Where a session notes the last day it was used.
const ACTIVE_DAY_KEY: &str = "active_day";

/// A session expires after `--session-days` without activity, but the store only learns of
/// activity when the session changes: noting the day changes it once a day, which moves the
/// stored expiry on without a write on every request.
async fn keep_alive(session: &Session) -> Result<(), AppError> {
    let today = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    let noted = session
        .get::<u64>(ACTIVE_DAY_KEY)
        .await
        .map_err(store_failed)?;
    if noted != Some(today) {
        session
            .insert(ACTIVE_DAY_KEY, today)
            .await
            .map_err(store_failed)?;
    }
    Ok(())
}

/// The [`CurrentUser`] of the request a server function serves.
pub async fn require_user() -> Result<User, AppError> {
    let Some(mut parts) = use_context::<Parts>() else {
        tracing::error!("request parts missing from the Leptos context");
        return Err(AppError(ApiError::internal()));
    };
    Ok(CurrentUser::from_request_parts(&mut parts, &()).await?.user)
}

/// Signs `user` in with a fresh session id, so an id planted before login is worthless.
pub async fn start_session(user: &User) -> Result<(), AppError> {
    let session = session().await?;
    // Whoever was signed in on this browser before is not any more: the live channels their
    // session opened close, on every instance, as at a logout.
    let before = session
        .get::<UserId>(SESSION_USER_KEY)
        .await
        .map_err(store_failed)?
        .zip(session.id());
    session.cycle_id().await.map_err(store_failed)?;
    session
        .insert(SESSION_USER_KEY, &user.id)
        .await
        .map_err(store_failed)?;
    if let Some((user_id, ended)) = before {
        ctx()?.hub.publish(service::hub::Published::SessionsEnded {
            user_id,
            which: service::hub::EndedSessions::One(ended.to_string()),
        });
    }
    Ok(())
}

/// Deletes the session from the store, tells the browser to drop the cookie, and closes the
/// live channels the session opened (they were authorised by it at their upgrade).
pub async fn end_session() -> Result<(), AppError> {
    let session = session().await?;
    let user_id = session
        .get::<UserId>(SESSION_USER_KEY)
        .await
        .map_err(store_failed)?;
    let session_id = session.id();
    session.flush().await.map_err(store_failed)?;
    if let (Some(user_id), Some(session_id)) = (user_id, session_id) {
        ctx()?.hub.publish(service::hub::Published::SessionsEnded {
            user_id,
            which: service::hub::EndedSessions::One(session_id.to_string()),
        });
    }
    Ok(())
}

/// `auth/password`: the caller's session stays signed in, under a fresh id; every other
/// session of theirs ends, and the live channels those opened close.
pub async fn change_password(current: &str, new: &str) -> Result<(), AppError> {
    let (user, ctx) = caller().await?;
    let session = session().await?;
    let kept = session.id();
    ctx.accounts
        .change_password(&user.id, current, new, kept.as_ref())
        .await?;
    let which = match kept {
        Some(kept) => service::hub::EndedSessions::AllBut(kept.to_string()),
        None => service::hub::EndedSessions::All,
    };
    ctx.hub.publish(service::hub::Published::SessionsEnded {
        user_id: user.id.clone(),
        which,
    });
    session.cycle_id().await.map_err(store_failed)?;
    // Stored now, not after the response, so this browser's open sockets can follow the
    // session to its new id at once.
    session.save().await.map_err(store_failed)?;
    if let (Some(from), Some(to)) = (kept, session.id()) {
        ctx.hub.publish(service::hub::Published::SessionRenewed {
            user_id: user.id,
            from: from.to_string(),
            to: to.to_string(),
        });
    }
    Ok(())
}

/// `auth/logout_all`: every session of the caller ends, this one too.
pub async fn end_every_session() -> Result<(), AppError> {
    let (user, ctx) = caller().await?;
    ctx.accounts.end_all_sessions(&user.id).await?;
    signed_out_everywhere(user, &ctx, service::hub::EndedSessions::All).await
}

/// `auth/delete`: the caller's account goes (docs/RULES.md §1), and with it every session.
/// Its live channels close before it leaves its rooms, so no page of theirs reacts to the
/// departures with calls its ended session can no longer make.
pub async fn delete_account(password: &str) -> Result<(), AppError> {
    let (user, ctx) = caller().await?;
    ctx.accounts.delete(&user.id, password).await?;
    let user_id = user.id.clone();
    signed_out_everywhere(user, &ctx, service::hub::EndedSessions::AccountDeleted).await?;
    // The account is gone already; if leaving a room fails now, housekeeping finishes.
    // A task of its own: the closed sockets send the browser to the login page, which can
    // abort this request, and an aborted request's future is dropped where it stands.
    let rooms = ctx.rooms.clone();
    let departure = tokio::spawn(async move {
        if let Err(e) = rooms.depart_everywhere(&user_id).await {
            tracing::warn!(user_id = %user_id, error = %e, "a deleted account's rooms are left for housekeeping");
        }
    });
    if let Err(e) = departure.await {
        tracing::warn!(error = %e, "a deleted account's departure task failed");
    }
    Ok(())
}

/// After a user's sessions were all deleted from the store: this browser forgets its cookie
/// and every live channel of the user closes.
async fn signed_out_everywhere(
    user: User,
    ctx: &ServerCtx,
    which: service::hub::EndedSessions,
) -> Result<(), AppError> {
    session().await?.flush().await.map_err(store_failed)?;
    ctx.hub.publish(service::hub::Published::SessionsEnded {
        user_id: user.id,
        which,
    });
    Ok(())
}

/// Where a token made by a form without JavaScript waits for the account page, which tells
/// it once: a redirect cannot carry it, and an address would keep it in the history.
const FRESH_TOKEN_KEY: &str = "fresh_token";

pub async fn keep_fresh_token<T: serde::Serialize>(token: &T) -> Result<(), AppError> {
    session()
        .await?
        .insert(FRESH_TOKEN_KEY, token)
        .await
        .map_err(store_failed)
}

/// The token [`keep_fresh_token`] kept, taken out of the session (so it is told once).
/// The request is read at once, not when the answer is awaited: a page's resource may have
/// lost its context by then.
pub fn take_fresh_token<T: serde::de::DeserializeOwned>(
) -> impl std::future::Future<Output = Result<Option<T>, AppError>> {
    let parts = use_context::<Parts>();
    async move {
        let Some(mut parts) = parts else {
            tracing::error!("request parts missing from the Leptos context");
            return Err(AppError(ApiError::internal()));
        };
        let session = Session::from_request_parts(&mut parts, &())
            .await
            .map_err(|(_, why)| {
                tracing::error!(why, "no session layer in front of the tokens list");
                AppError(ApiError::internal())
            })?;
        session
            .remove::<T>(FRESH_TOKEN_KEY)
            .await
            .map_err(store_failed)
    }
}

/// Sends a browser's own form post on to `path` once it worked; a hydrated page that
/// posted the form stays where it is.
pub fn redirect_plain_post(path: &str) {
    if is_plain_form_post() {
        leptos_axum::redirect(path);
    }
}

/// True for a form the browser posted by itself (JavaScript off or not yet loaded).
pub fn is_plain_form_post() -> bool {
    use_context::<Parts>().is_some_and(|parts| asks_for_html(&parts.headers))
}

/// True when a request asks for a page, as a browser posting a form by itself does.
pub fn asks_for_html(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// Where a form twin sends the browser once its action worked.
pub enum Landing {
    /// Every caller goes there, a hydrated page too (its `ActionForm` follows the
    /// redirect): the action leads somewhere else, such as a new room or the start page.
    Everyone(String),
    /// Only a browser's own post goes there; a hydrated page stays where it is, and the
    /// live channel shows what changed.
    PlainPostOnly(String),
}

/// The one answer of every form twin: the redirect `landing` names when `result` is a
/// success; on a refusal, back to the form (see [`back_to_form`]).
pub fn form_reply<T>(
    result: Result<T, AppError>,
    landing: impl FnOnce(T) -> Landing,
    page: &str,
    server_fn_path: &str,
    echo: &[(&str, &str)],
) -> Result<(), AppError> {
    match result.map(landing) {
        Ok(Landing::Everyone(path)) => {
            leptos_axum::redirect(&path);
            Ok(())
        }
        Ok(Landing::PlainPostOnly(path)) => {
            redirect_plain_post(&path);
            Ok(())
        }
        Err(e) => Err(back_to_form(page, server_fn_path, echo, e)),
    }
}

/// After a failed plain form post, sends the browser back to `page` with the error (read by
/// the page's `ServerAction`) and the non-secret fields it typed, so the form shows the
/// message beside the field and keeps what was typed. A hydrated page needs none of this:
/// its form never left the page.
pub fn back_to_form(
    page: &str,
    server_fn_path: &str,
    echo: &[(&str, &str)],
    err: AppError,
) -> AppError {
    if is_plain_form_post() {
        if let Some(back) = form_error_location(page, server_fn_path, echo, &err) {
            if let (Some(res), Ok(cookie)) = (
                leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
                http::HeaderValue::from_str(&back.set_cookie),
            ) {
                res.append_header(http::header::SET_COOKIE, cookie);
            }
            leptos_axum::redirect(&back.location);
        }
    }
    err
}

/// The cookie that ties a form's error in the address to the browser whose post made it
/// (docs/SECURITY.md, "Form errors"): a page shows the error of its address only when the
/// address's `__ticket` is this cookie's value.
pub const FORM_TICKET_COOKIE: &str = "parlor_form";
/// The address's half of the ticket.
pub const FORM_TICKET_PARAM: &str = "__ticket";

/// Where a refused plain form post goes back to, and the ticket cookie that lets the page
/// there show the error.
pub struct FormErrorRedirect {
    pub location: String,
    pub set_cookie: String,
}

/// The address a refused plain form post is sent back to: `page`, with the error in the
/// query (where the page's `ServerAction` of `server_fn_path` finds it), `echo`'s fields
/// and a fresh ticket; and the cookie that holds the ticket.
pub fn form_error_location(
    page: &str,
    server_fn_path: &str,
    echo: &[(&str, &str)],
    err: &AppError,
) -> Option<FormErrorRedirect> {
    let base = format!("http://parlor.invalid{page}");
    let mut url = ServerFnUrlError::new(server_fn_path, err.clone())
        .to_url(&base)
        .ok()?;
    let ticket = service::ids::new_id();
    url.query_pairs_mut()
        .extend_pairs(echo)
        .append_pair(FORM_TICKET_PARAM, &ticket);
    let location = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    Some(FormErrorRedirect {
        location,
        set_cookie: format!(
            "{FORM_TICKET_COOKIE}={ticket}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600"
        ),
    })
}

/// Content-Security-Policy (docs/SECURITY.md, "Headers"): scripts come only from this origin,
/// plus, on pages, the hydration script that carries this response's nonce; WebAssembly may
/// compile; nothing may frame Parlor; no inline style anywhere.
pub mod csp {
    /// For a rendered page, whose inline hydration script carries `nonce`.
    pub fn page(nonce: &str) -> String {
        format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; \
             font-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; \
             base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        )
    }

    /// For everything else: API answers, static files, the 503 page.
    pub const OTHER: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
        img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
        form-action 'self'; frame-ancestors 'none'";

    /// Sends the page policy with this response's nonce (during server rendering).
    pub fn send_page_policy() {
        use leptos::prelude::use_context;
        let (Some(nonce), Some(res)) = (
            leptos::nonce::use_nonce(),
            use_context::<leptos_axum::ResponseOptions>(),
        ) else {
            return;
        };
        if let Ok(value) = http::HeaderValue::from_str(&page(&nonce)) {
            res.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// The names of the built client's files (docs/BENCHMARKS.md, S8). A release build hashes
/// its content into each name (`parlor.<hash>.wasm`), so a name never changes meaning and
/// the files can be cached for a year; cargo-leptos lists the hashes in `hash.txt` beside
/// the server binary, where Leptos's own hydration scripts look for it too.
pub mod assets {
    use std::{path::PathBuf, sync::OnceLock};

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AssetNames {
        /// True when the names carry content hashes: the files may then be cached forever.
        pub hashed: bool,
        pub css: String,
        pub js: String,
        pub wasm: String,
        /// The loader of the lazily loaded parts (`--split`), when the build has them. Its
        /// name is not a promise about the parts it names, so it is never cached for good.
        pub split_loader: Option<String>,
    }

    impl AssetNames {
        /// The names from a `hash.txt` (`css: <hash>` lines), or the plain ones without it.
        pub fn from_hash_file(text: Option<&str>) -> Self {
            let hash_of = |kind: &str| {
                text?.lines().find_map(|line| {
                    let (file, hash) = line.split_once(':')?;
                    (file.trim() == kind && !hash.trim().is_empty())
                        .then(|| format!(".{}", hash.trim()))
                })
            };
            let (css, js, wasm) = (hash_of("css"), hash_of("js"), hash_of("wasm"));
            let hashed = css.is_some() && js.is_some() && wasm.is_some();
            let name = |hash: Option<String>, plain: &str, ext: &str| match hash {
                Some(hash) if hashed => format!("/pkg/parlor{hash}.{ext}"),
                _ => format!("/pkg/{plain}.{ext}"),
            };
            let split_loader = hash_of("split").map(|hash| format!("/pkg/__wasm_split{hash}.js"));
            Self {
                hashed,
                css: name(css, "parlor", "css"),
                js: name(js, "parlor", "js"),
                wasm: name(wasm, "parlor", "wasm"),
                split_loader,
            }
        }

        /// The running build's names, read once.
        pub fn current() -> &'static Self {
            static NAMES: OnceLock<AssetNames> = OnceLock::new();
            NAMES.get_or_init(|| {
                let text = hash_file().and_then(|path| std::fs::read_to_string(path).ok());
                Self::from_hash_file(text.as_deref())
            })
        }
    }

    /// Where Leptos's `HydrationScripts` reads the hashes from: beside the running binary.
    pub fn hash_file() -> Option<PathBuf> {
        let path = std::env::current_exe().ok()?.parent()?.join("hash.txt");
        path.exists().then_some(path)
    }

    #[cfg(test)]
    mod tests {
        use super::AssetNames;

        #[test]
        fn names_carry_the_hashes_cargo_leptos_listed() {
            let names = AssetNames::from_hash_file(Some("js: abc\nwasm: def\ncss: 123\n"));
            assert!(names.hashed);
            assert_eq!(names.css, "/pkg/parlor.123.css");
            assert_eq!(names.js, "/pkg/parlor.abc.js");
            assert_eq!(names.wasm, "/pkg/parlor.def.wasm");
            assert_eq!(names.split_loader, None);
            let split = AssetNames::from_hash_file(Some("js: a\nwasm: b\ncss: c\nsplit: xyz\n"));
            assert_eq!(
                split.split_loader.as_deref(),
                Some("/pkg/__wasm_split.xyz.js")
            );
        }

        #[test]
        fn without_a_complete_hash_file_the_names_are_plain_and_not_cacheable() {
            for text in [None, Some(""), Some("js: abc\nwasm: def\n")] {
                let names = AssetNames::from_hash_file(text);
                assert!(!names.hashed, "{text:?}");
                assert_eq!(names.css, "/pkg/parlor.css");
                assert_eq!(names.js, "/pkg/parlor.js");
                assert_eq!(names.wasm, "/pkg/parlor.wasm");
            }
        }
    }
}
