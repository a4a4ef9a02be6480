//! Request guards every route passes (docs/SECURITY.md): state changes only from Parlor's
//! own pages (no cross-site request forgery, login included), JSON endpoints only with a
//! JSON content type (so a cross-site `text/plain` form cannot pose as JSON), and the
//! security headers on every answer.

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, Method},
    middleware::Next,
    response::Response,
};
use domain::{ApiError, ErrorCode};

pub use app::ssr::error_response;

/// Whether a request comes from one of Parlor's own pages, or from no page at all.
///
/// With an `Origin`, it must be `public_origin` or name the host the request was sent to.
/// Without one (older browsers on some same-origin requests), `Sec-Fetch-Site` must say
/// `same-origin` or `none` (typed in, bookmarked). With neither, it is not a browser acting
/// for someone else: no victim's cookie rides along.
pub fn same_origin(headers: &HeaderMap, public_origin: Option<&str>) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let Some(origin) = text(header::ORIGIN) else {
        return match text(HeaderName::from_static("sec-fetch-site")) {
            None => true,
            Some(site) => matches!(site, "same-origin" | "none"),
        };
    };
    if public_origin.is_some_and(|p| p.trim_end_matches('/').eq_ignore_ascii_case(origin)) {
        return true;
    }
    let host = text(header::HOST);
    let authority = origin.split_once("://").map(|(_, rest)| rest);
    matches!((host, authority), (Some(h), Some(a)) if h.eq_ignore_ascii_case(a))
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Refuses a state-changing request from another site with `forbidden`.
pub async fn same_origin_writes(
    State(public_origin): State<Option<String>>,
    req: Request,
    next: Next,
) -> Response {
    if changes_state(req.method()) && !same_origin(req.headers(), public_origin.as_deref()) {
        tracing::info!(path = %req.uri().path(), origin = ?req.headers().get(header::ORIGIN), "cross-site request refused");
        return error_response(&ApiError::new(
            ErrorCode::Forbidden,
            "Requests from other sites are refused. Use Parlor's own pages.",
        ));
    }
    next.run(req).await
}

/// Refuses with `insufficient_scope`, before anything runs, a request that carries an
/// access token to an endpoint no token reaches (the account, its sessions, its tokens, the
/// pages' forms: `domain::token::reach_of`). Endpoints that read the caller weigh the
/// token's own scope too (`app::ssr::CurrentUser`); this also covers those that do not,
/// such as logout, so a token is refused there rather than quietly ignored.
pub async fn tokens_stay_out_of_the_account(req: Request, next: Next) -> Response {
    let carries_token = app::ssr::bearer_token(req.headers()).is_some();
    if carries_token {
        let reach = domain::token::reach_of(req.method().as_str(), req.uri().path());
        if reach == domain::token::Reach::Account {
            // No scope reaches the account: the refusal is the same for every token.
            if let Err(refused) = domain::token::TokenScope::Write.permits(reach) {
                return error_response(&refused);
            }
        }
    }
    next.run(req).await
}

/// The JSON endpoints (all of `/api/` but the form twins and uploads) take JSON only.
pub async fn json_only(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let exempt = path.starts_with("/api/form/") || path == "/api/uploads";
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if req.method() == Method::POST && !exempt && !is_json {
        return error_response(&ApiError::new(
            ErrorCode::InvalidInput,
            "Send the body as JSON, with Content-Type: application/json.",
        ));
    }
    next.run(req).await
}

/// `nosniff`, no framing, no referrer to other sites, a Content-Security-Policy where the
/// answer has none of its own (pages set theirs, with a nonce), and HSTS behind HTTPS.
pub async fn security_headers(State(hsts): State<bool>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    let is_html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        if is_html {
            return with_page_policy(res).await;
        }
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(app::ssr::csp::OTHER),
        );
    }
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

/// An HTML answer without a policy: a static page (the offline page), or a rendered page
/// that lost the one the renderer sends with its nonce. The policy is made from the nonce
/// its scripts carry, if any, so a page is neither broken (its hydration script blocked)
/// nor left without one. Pages are small and rendered
/// whole (`SsrMode::Async`), so reading one here costs nothing that matters.
async fn with_page_policy(res: Response) -> Response {
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 4 * 1024 * 1024).await else {
        return error_response(&ApiError::internal());
    };
    let nonce = nonce_in(&bytes);
    if nonce.is_some() {
        // Static pages (the offline page) have no nonce and are expected here; a rendered
        // page should have brought its policy along.
        tracing::warn!(status = %parts.status, "a rendered page came without its Content-Security-Policy");
    }
    let policy = nonce.map_or_else(
        || app::ssr::csp::OTHER.to_owned(),
        |n| app::ssr::csp::page(&n),
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        parts.headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// The nonce of the first `<script … nonce="…">` in a page.
fn nonce_in(html: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(html).ok()?;
    let at = text.find("<script")?;
    let rest = &text[at..];
    let tag = &rest[..rest.find('>')?];
    let value = tag.split("nonce=\"").nth(1)?.split('"').next()?;
    value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_+/=".contains(&b))
        .then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every endpoint a token may reach exists, and every JSON endpoint is weighed: a read,
    /// a write, or one of the account's (which no token reaches). A new endpoint fails here
    /// until it is put in one list or the other (`domain::token`).
    #[test]
    fn every_api_endpoint_is_weighed_for_access_tokens() {
        use domain::token::{reach_of, Reach, READS, WRITES};
        let registered: Vec<&str> = server_fn::axum::server_fn_paths()
            .filter_map(|(path, _)| path.strip_prefix("/api/"))
            .collect();
        assert!(
            registered.len() > 60,
            "the server functions are registered here"
        );
        for listed in READS.iter().chain(WRITES).filter(|e| **e != "uploads") {
            assert!(registered.contains(listed), "{listed} is no endpoint");
        }
        for endpoint in registered {
            let reach = reach_of("POST", &format!("/api/{endpoint}"));
            let account = (endpoint.starts_with("auth/") && endpoint != "auth/me")
                || endpoint.starts_with("tokens/")
                || endpoint.starts_with("form/");
            assert_eq!(reach == Reach::Account, account, "{endpoint}: {reach:?}");
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn a_pages_nonce_is_read_from_its_first_script() {
        assert_eq!(
            nonce_in(b"<html><script type=\"module\" nonce=\"abc-_1\">x</script>").as_deref(),
            Some("abc-_1")
        );
        assert_eq!(nonce_in(b"<html><script src=\"/a.js\"></script>"), None);
        assert_eq!(nonce_in(b"<script nonce=\"a'b\">"), None);
    }

    #[test]
    fn only_our_own_origin_or_no_browser_may_change_state() {
        let ours = headers(&[
            ("host", "chat.example:3000"),
            ("origin", "http://chat.example:3000"),
        ]);
        assert!(same_origin(&ours, None));
        let evil = headers(&[
            ("host", "chat.example:3000"),
            ("origin", "https://evil.example"),
        ]);
        assert!(!same_origin(&evil, None));
        assert!(same_origin(&evil, Some("https://evil.example/")));
        let suffix = headers(&[
            ("host", "10.0.0.5"),
            ("origin", "https://chat.example.org.evil"),
        ]);
        assert!(!same_origin(&suffix, Some("https://chat.example.org")));
        let null = headers(&[("host", "chat.example"), ("origin", "null")]);
        assert!(!same_origin(&null, None));
        // No Origin: Sec-Fetch-Site decides; neither header means no browser.
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            None
        ));
        assert!(same_origin(&headers(&[("sec-fetch-site", "none")]), None));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            None
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            None
        ));
        assert!(same_origin(&headers(&[("host", "chat.example")]), None));
    }
}
