//! Uploads (docs/RULES.md §6): size limit, empty files, hostile names, members-only downloads, safe
//! headers; a kept file is posted as a `file` message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{test_config, TestApp, TestDb};
use reqwest::{multipart, StatusCode};
use serde_json::{json, Value};

async fn upload(
    app: &TestApp,
    cookie: &str,
    room: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let form = multipart::Form::new()
        .text("room_id", room.to_owned())
        .part(
            "file",
            multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
    let res = app
        .http
        .post(app.url("/api/uploads"))
        .header("cookie", cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn stored_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir.join("uploads"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn uploads_are_limited_sanitised_and_served_to_members_only() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.upload_limit = 64 * 1024;
    let app = TestApp::spawn_with(config).await;
    let (_, ann) = app.signup("ann").await;
    let (_, bob) = app.signup("bob").await;
    let room = app
        .post(
            "/api/rooms/create",
            json!({"name": "Files", "join_policy": "open"}),
            Some(&ann),
        )
        .await;
    let room = room.body["room"]["id"].as_str().unwrap().to_owned();

    // Over the limit: refused, nothing left on disk.
    let (status, body) = upload(&app, &ann, &room, "big.bin", vec![7u8; 64 * 1024 + 1]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("file_too_large")),
        "{body}"
    );
    assert!(
        stored_files(db.data_dir.path()).is_empty(),
        "{:?}",
        stored_files(db.data_dir.path())
    );
    // Empty: refused.
    let (status, body) = upload(&app, &ann, &room, "empty.txt", Vec::new()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_input"))
    );
    assert!(stored_files(db.data_dir.path()).is_empty());
    // A non-member cannot post into the room.
    let (status, body) = upload(&app, &bob, &room, "x.txt", b"hello".to_vec()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not_member"))
    );
    assert!(stored_files(db.data_dir.path()).is_empty());
    // ...refused before the file is read: an oversize one gets `not_member`, not
    // `file_too_large`, because nothing of it was streamed to disk.
    let (status, body) = upload(&app, &bob, &room, "big.bin", vec![7; 65 * 1024]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not_member"))
    );

    // A hostile name is cut down to its last part; the file is stored under a random id.
    let (status, body) = upload(
        &app,
        &ann,
        &room,
        "../../etc/<passwd>",
        b"<script>alert(1)</script>".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let m = &body["message"];
    assert_eq!(
        (m["kind"].as_str(), m["body"].as_str()),
        (Some("file"), Some("passwd"))
    );
    let file = &m["file"];
    assert_eq!(
        (
            file["name"].as_str(),
            file["size"].as_u64(),
            file["content_type"].as_str()
        ),
        (Some("passwd"), Some(25), Some("text/plain; charset=utf-8"))
    );
    let id = file["id"].as_str().unwrap();
    assert_eq!(stored_files(db.data_dir.path()), [id.to_owned()]);

    // Members download it with safe headers; others cannot.
    let res = app
        .http
        .get(app.url(&format!("/files/{id}")))
        .header("cookie", &ann)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"passwd\""));
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    assert_eq!(
        res.bytes().await.unwrap().as_ref(),
        b"<script>alert(1)</script>"
    );
    let res = app
        .http
        .get(app.url(&format!("/files/{id}")))
        .header("cookie", &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .http
        .get(app.url(&format!("/files/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .http
        .get(app.url("/files/..%2F..%2Fetc%2Fpasswd"))
        .header("cookie", &ann)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Images preview inline; history shows the file.
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[0u8; 32]].concat();
    let (status, body) = upload(&app, &ann, &room, "pic.png", png).await;
    assert_eq!(status, StatusCode::OK);
    let pid = body["message"]["file"]["id"].as_str().unwrap().to_owned();
    let res = app
        .http
        .get(app.url(&format!("/files/{pid}")))
        .header("cookie", &ann)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "image/png");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    let h = app
        .post(
            "/api/messages/history",
            json!({"room_id": room}),
            Some(&ann),
        )
        .await;
    assert_eq!(h.body["messages"][0]["file"]["id"], pid.as_str());
}
