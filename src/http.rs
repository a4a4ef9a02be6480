//! HTTP plumbing around the server functions: statuses for error bodies, the rate-limit
//! answer, the JSON 404 for unknown API paths, and the health probes.

pub use app::ssr::error_response;
use app::{
    api::auth::{ChangePasswordForm, DeleteAccountForm, LoginForm, SignupForm},
    ssr::{asks_for_html, form_error_location},
    AppError,
};
use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    Router,
};
use domain::{ApiError, ErrorCode};
use sea_orm::DatabaseConnection;
use server_fn::ServerFn;
use tower_governor::GovernorError;

/// Server functions answer every error with 500; this gives each the status of its code
/// (`invalid_input` → 400, `unauthenticated` → 401, …), in one place for all of them. It
/// also puts the body-size limit's plain-text refusal into the API's words.
pub async fn api_error_bodies(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE
        && !res
            .headers()
            .contains_key(server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return error_response(&too_large());
    }
    if res.status() == StatusCode::REQUEST_TIMEOUT {
        return error_response(&ApiError::new(
            ErrorCode::TooSlow,
            "That request took too long to arrive or to answer. Try again.",
        ));
    }
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res
            .headers()
            .contains_key(server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    if let Ok(err) = serde_json::from_slice::<ApiError>(&bytes) {
        parts.status = StatusCode::from_u16(err.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The login, sign-up and password limiters answer before any server function runs, so a
/// plain form post (JavaScript off) they refuse would land on a page of JSON. This sends it back to its
/// form with the error beside the fields and the typed username kept, like any refusal.
pub async fn refused_forms_back_to_page(req: Request, next: Next) -> Response {
    let accepts_html = asks_for_html(req.headers());
    let form = match req.uri().path() {
        p if p == LoginForm::PATH => ("/login", LoginForm::PATH),
        p if p == SignupForm::PATH => ("/signup", SignupForm::PATH),
        p if p == ChangePasswordForm::PATH => ("/account", ChangePasswordForm::PATH),
        p if p == DeleteAccountForm::PATH => ("/account", DeleteAccountForm::PATH),
        _ => return next.run(req).await,
    };
    if !accepts_html {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FORM_BODY_LIMIT).await else {
        return error_response(&too_large());
    };
    let username = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "username")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if res.status() != StatusCode::TOO_MANY_REQUESTS {
        return res;
    }
    let body = axum::body::to_bytes(res.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let err = serde_json::from_slice::<ApiError>(&body).unwrap_or_else(|_| ApiError::internal());
    let (page, server_fn_path) = form;
    let echo: &[(&str, &str)] = if username.is_empty() {
        &[]
    } else {
        &[("username", &username)]
    };
    match form_error_location(page, server_fn_path, echo, &AppError(err)) {
        Some(back) => {
            let mut res = Redirect::to(&back.location).into_response();
            if let Ok(cookie) = HeaderValue::from_str(&back.set_cookie) {
                res.headers_mut().append(header::SET_COOKIE, cookie);
            }
            res
        }
        None => error_response(&ApiError::internal()),
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        "The request is too large. Send less at once.",
    )
}

/// Login and sign-up forms carry two short fields.
const FORM_BODY_LIMIT: usize = 16 * 1024;

/// tower_governor's refusal, in the API's words.
pub fn rate_limited(err: GovernorError) -> Response {
    match err {
        GovernorError::TooManyRequests { wait_time, .. } => too_many_attempts(wait_time),
        other => {
            tracing::error!(error = %other, "rate limiter failed");
            error_response(&ApiError::internal())
        }
    }
}

/// Login or sign-up refused for this address: wait `wait_secs` (whole seconds, rounded
/// down, as governor reports them).
fn too_many_attempts(wait_secs: u64) -> Response {
    metrics::counter!("parlor_rate_limited_total", "limit" => "auth_address").increment(1);
    // Rounded up, so a client that waits as told is let in.
    let retry_after_ms = (wait_secs + 1) * 1000;
    let mut res = error_response(&ApiError::rate_limited(retry_after_ms));
    if let Ok(v) = HeaderValue::from_str(&(wait_secs + 1).to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// The per-address login or sign-up budget in the instances' shared buckets, checked after
/// this instance's own (tower_governor); with one instance it lets everything through.
#[derive(Clone)]
pub struct SharedAuthLimit {
    pub shared: service::limits::Shared,
    /// `login` or `signup`: each has its own budget.
    pub name: &'static str,
    pub burst: u32,
    pub refill: std::time::Duration,
    pub key: crate::client_addr::ClientKey,
}

pub async fn shared_auth_limit(
    State(limit): State<SharedAuthLimit>,
    req: Request,
    next: Next,
) -> Response {
    use tower_governor::key_extractor::KeyExtractor;
    if let (Some(shared), Ok(ip)) = (&limit.shared, limit.key.extract(&req)) {
        let key = format!("auth:{}:{ip}", limit.name);
        if let Some(Err(wait)) = shared.take(&key, limit.burst, limit.refill).await {
            return too_many_attempts(wait.as_secs());
        }
    }
    next.run(req).await
}

pub async fn api_not_found() -> Response {
    error_response(&ApiError::new(
        ErrorCode::NotFound,
        "There is no such API endpoint. See docs/API.md for the list.",
    ))
}

pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers.
/// What `/readyz` looks at: the database, and the Redis backplane when one runs.
#[derive(Clone)]
pub struct Readiness {
    pub db: DatabaseConnection,
    pub backplane: Option<std::sync::Arc<crate::live::backplane::Health>>,
}

/// Ready while the database answers. A Redis outage only degrades: this instance still
/// serves its own sockets, so it stays in the balancer and says so.
pub async fn readyz(State(ready): State<Readiness>) -> Response {
    match ready.db.ping().await {
        Ok(()) if ready.backplane.as_ref().is_some_and(|b| b.is_degraded()) => {
            (StatusCode::OK, "ready; redis degraded").into_response()
        }
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// The 503 page: Parlor is starting or its database does not answer. It retries by itself.
const NOT_READY_PAGE: &str = include_str!("not_ready.html");

/// 503 for a page, the API's error body for anything else.
pub fn not_ready(asks_html: bool) -> Response {
    let mut res = if asks_html {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            NOT_READY_PAGE,
        )
            .into_response()
    } else {
        error_response(&ApiError::unavailable())
    };
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    res
}

/// Pages need the database: while it does not answer, they are the 503 page, not an error
/// screen. (The API answers its own errors.)
pub async fn pages_need_the_database(
    State(db): State<DatabaseConnection>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() == axum::http::Method::GET
        && asks_for_html(req.headers())
        && db.ping().await.is_err()
    {
        tracing::warn!(path = %req.uri().path(), "page asked for while the database does not answer");
        return not_ready(true);
    }
    next.run(req).await
}

/// A form's error in a page's address (`__err`, put there by a refused plain form post) is
/// shown only to the browser whose post made it: the address's ticket must match its
/// ticket cookie (`app::ssr::form_error_location`). Otherwise the browser is sent to the same
/// address without it, so a link cannot put words in Parlor's mouth.
pub async fn form_errors_need_their_ticket(req: Request, next: Next) -> Response {
    use app::ssr::{FORM_TICKET_COOKIE, FORM_TICKET_PARAM};
    let Some(query) = req.uri().query() else {
        return next.run(req).await;
    };
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let carries_error = pairs.iter().any(|(k, _)| k == "__err" || k == "__path");
    if !carries_error {
        return next.run(req).await;
    }
    let ticket = pairs
        .iter()
        .find(|(k, _)| k == FORM_TICKET_PARAM)
        .map(|(_, v)| v.as_str());
    let cookie = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == FORM_TICKET_COOKIE)
        .map(|(_, value)| value);
    if ticket.is_some_and(|t| !t.is_empty() && Some(t) == cookie) {
        return next.run(req).await;
    }
    let kept: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "__err" && k != "__path" && k != FORM_TICKET_PARAM)
        .collect();
    let mut uri = req.uri().path().to_owned();
    if !kept.is_empty() {
        uri.push('?');
        uri.push_str(
            &form_urlencoded::Serializer::new(String::new())
                .extend_pairs(kept.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .finish(),
        );
    }
    // Sent on without them: the browser's address must not carry them either, or the page
    // would show them once its script reads the address.
    Redirect::to(&uri).into_response()
}

/// The files the offline and not-ready pages need, and the service worker: built into the
/// binary, so they are there even when nothing else is.
const OFFLINE_HTML: &str = include_str!("../public/offline.html");
const OFFLINE_CSS: &str = include_str!("../public/offline.css");
const OFFLINE_JS: &str = include_str!("../public/offline.js");
const FAVICON: &str = include_str!("../public/favicon.svg");
const SERVICE_WORKER: &str = include_str!("../public/sw.js");

/// The service worker's script, with its version and the client's file names filled in.
/// The version is a digest of the files it caches and of itself, so a new release installs
/// a new worker (which drops the old cache).
#[derive(Clone)]
pub struct ServiceWorker(Arc<str>);

impl ServiceWorker {
    pub fn load(site_root: &std::path::Path) -> Self {
        use std::hash::{Hash, Hasher};
        let names = crate::assets::AssetNames::current();
        // The lazily loaded parts too: installing the worker then fetches them while the
        // person reads, and a page opened later finds its part at hand.
        let assets: Vec<String> = [&names.css, &names.js, &names.wasm]
            .into_iter()
            .cloned()
            .chain(crate::assets::lazy_parts(site_root, names))
            .collect();
        let mut digest = std::collections::hash_map::DefaultHasher::new();
        for text in [
            SERVICE_WORKER,
            OFFLINE_HTML,
            OFFLINE_CSS,
            OFFLINE_JS,
            FAVICON,
        ] {
            text.hash(&mut digest);
        }
        for name in &assets {
            name.hash(&mut digest);
            // Hashed names change with their content; plain ones are read.
            if !names.hashed {
                std::fs::read(site_root.join(name.trim_start_matches('/')))
                    .unwrap_or_default()
                    .hash(&mut digest);
            }
        }
        let version = format!("{:016x}", digest.finish());
        let list = assets
            .iter()
            .map(|name| format!("'{name}'"))
            .collect::<Vec<_>>()
            .join(", ");
        Self(Arc::from(
            SERVICE_WORKER
                .replace("__PARLOR_VERSION__", &version)
                .replace("'__PARLOR_ASSETS__'", &list)
                .replace("'__PARLOR_IMMUTABLE__'", &names.hashed.to_string()),
        ))
    }
}

fn standalone(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // Checked on every visit, so a new release is picked up at once.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

pub async fn service_worker(State(sw): State<ServiceWorker>) -> Response {
    let mut res = standalone("text/javascript; charset=utf-8", "");
    *res.body_mut() = Body::from(sw.0.to_string());
    res
}

/// The offline and not-ready pages' files and the service worker: served whether or not
/// the database answers.
pub fn standalone_files(site_root: &std::path::Path) -> Router {
    use axum::routing::get;
    Router::new()
        .route(
            "/offline.html",
            get(|| async { standalone("text/html; charset=utf-8", OFFLINE_HTML) }),
        )
        .route(
            "/offline.css",
            get(|| async { standalone("text/css; charset=utf-8", OFFLINE_CSS) }),
        )
        .route(
            "/offline.js",
            get(|| async { standalone("text/javascript; charset=utf-8", OFFLINE_JS) }),
        )
        .route(
            "/favicon.svg",
            get(|| async { standalone("image/svg+xml", FAVICON) }),
        )
        .route("/sw.js", get(service_worker))
        .with_state(ServiceWorker::load(site_root))
}

/// What answers while the database is not ready: the probes, the standalone files, and 503
/// for everything else.
pub fn not_ready_router(config: &crate::Config) -> Router {
    Router::new()
        .route("/healthz", axum::routing::get(healthz))
        .route(
            "/readyz",
            axum::routing::get(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "starting: the database does not answer yet",
                )
            }),
        )
        .merge(standalone_files(&config.site_root))
        .fallback(|req: Request| async move { not_ready(asks_for_html(req.headers())) })
}
