//! The client's files (docs/BENCHMARKS.md, S8): sent compressed when the browser accepts it,
//! never compressed otherwise, and named in the pages and the service worker as built.

use crate::common::*;
use reqwest::header;

const WASM: &[u8] = b"\0asm\x01\0\0\0 a stand-in module, repeated to be worth compressing.";

async fn app_with_built_client() -> (TestApp, TestDb, tempfile::TempDir) {
    let db = TestDb::new().await;
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("parlor.wasm"), WASM.repeat(200)).unwrap();
    // A lazily loaded part, as `cargo leptos build --split` writes them.
    std::fs::write(pkg.join("split___admin_route_view_1.wasm"), WASM).unwrap();
    std::fs::write(
        pkg.join("parlor.css"),
        "body { color: black; }\n".repeat(100),
    )
    .unwrap();
    parlor::assets::precompress(&pkg).unwrap();
    let mut config = test_config(&db);
    config.site_root = site.path().to_path_buf();
    (TestApp::spawn_with(config).await, db, site)
}

#[tokio::test]
async fn the_client_is_sent_as_the_best_encoding_the_browser_accepts() {
    let (app, _db, _site) = app_with_built_client().await;
    // reqwest here decodes nothing: the bytes are what went over the wire.
    let get = |encoding: &'static str| {
        app.http
            .get(format!("{}/pkg/parlor.wasm", app.base))
            .header(header::ACCEPT_ENCODING, encoding)
            .send()
    };
    let original = WASM.repeat(200);

    let br = get("gzip, deflate, br").await.unwrap();
    assert_eq!(br.status(), 200);
    assert_eq!(br.headers()[header::CONTENT_ENCODING], "br");
    assert_eq!(br.headers()[header::VARY], "accept-encoding");
    assert_eq!(br.headers()[header::CONTENT_TYPE], "application/wasm");
    let body = br.bytes().await.unwrap();
    assert!(body.len() < original.len() / 10, "{} bytes", body.len());
    let mut decoded = Vec::new();
    brotli::BrotliDecompress(&mut &body[..], &mut decoded).unwrap();
    assert_eq!(decoded, original);

    let gz = get("gzip").await.unwrap();
    assert_eq!(gz.headers()[header::CONTENT_ENCODING], "gzip");
    let body = gz.bytes().await.unwrap();
    let mut decoded = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut decoded).unwrap();
    assert_eq!(decoded, original);

    let plain = get("identity").await.unwrap();
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(plain.bytes().await.unwrap(), original);

    // A test binary has no hash.txt beside it: plain names, checked on every use.
    let css = app
        .http
        .get(format!("{}/pkg/parlor.css", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()[header::CACHE_CONTROL], "no-cache");
    let none = app
        .http
        .get(format!("{}/pkg/nothing.wasm", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 404);
}

#[tokio::test]
async fn pages_and_the_service_worker_name_the_files_that_were_built() {
    let (app, _db, _site) = app_with_built_client().await;
    let page = app
        .http
        .get(format!("{}/login", app.base))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"<link rel="stylesheet" href="/pkg/parlor.css""#),
        "{html}"
    );
    assert!(
        html.contains(r#"<link rel="modulepreload" href="/pkg/parlor.js""#),
        "{html}"
    );
    let sw = app
        .http
        .get(format!("{}/sw.js", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        sw.contains("const ASSETS = ['/pkg/parlor.css', '/pkg/parlor.js', '/pkg/parlor.wasm', '/pkg/split___admin_route_view_1.wasm'];"),
        "{sw}"
    );
    assert!(sw.contains("const IMMUTABLE = false;"), "{sw}");
    assert!(!sw.contains("__PARLOR_"), "{sw}");
}

#[tokio::test]
async fn pages_and_api_answers_are_compressed_for_browsers_that_accept_it() {
    let (app, _db, _site) = app_with_built_client().await;
    let page = |encoding: &'static str| {
        app.http
            .get(format!("{}/login", app.base))
            .header(header::ACCEPT, "text/html")
            .header(header::ACCEPT_ENCODING, encoding)
            .send()
    };
    let plain = page("identity").await.unwrap();
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    let html = plain.text().await.unwrap();
    assert!(html.contains("<!DOCTYPE html>"), "{html}");

    let br = page("gzip, br").await.unwrap();
    assert_eq!(br.status(), 200);
    assert_eq!(br.headers()[header::CONTENT_ENCODING], "br");
    assert_eq!(br.headers()[header::CACHE_CONTROL], "no-cache");
    let body = br.bytes().await.unwrap();
    let mut decoded = Vec::new();
    brotli::BrotliDecompress(&mut &body[..], &mut decoded).unwrap();
    assert!(
        body.len() < decoded.len() / 2,
        "{} of {} bytes",
        body.len(),
        decoded.len()
    );
    assert!(String::from_utf8(decoded)
        .unwrap()
        .contains("<!DOCTYPE html>"));

    // An API answer: a refusal's body too, rewritten to `{code, message}` before it is
    // compressed.
    let refused = app
        .http
        .post(format!("{}/api/auth/login", app.base))
        .header(header::ACCEPT_ENCODING, "gzip")
        .json(&serde_json::json!({ "username": "nobody", "password": "x".repeat(300) }))
        .send()
        .await
        .unwrap();
    assert!(refused.status().is_client_error());
    assert_eq!(refused.headers()[header::CONTENT_ENCODING], "gzip");
    let body = refused.bytes().await.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut text).unwrap();
    let error: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(error["code"].is_string(), "{text}");
}
