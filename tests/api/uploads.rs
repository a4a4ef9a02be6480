//! Uploads (docs/RULES.md §6): size limit, empty files, hostile names, members-only downloads, safe
//! headers; a kept file is posted as a `file` message.

use crate::common::{test_config, TestApp, TestDb};
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
    post_form(app, cookie, form).await
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

async fn open_room(app: &TestApp, cookie: &str) -> String {
    let room = app
        .post(
            "/api/rooms/create",
            json!({"name": "Files", "join_policy": "open"}),
            Some(cookie),
        )
        .await;
    room.body["room"]["id"].as_str().unwrap().to_owned()
}

async fn post_form(app: &TestApp, cookie: &str, form: multipart::Form) -> (StatusCode, Value) {
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

#[tokio::test]
async fn the_room_comes_first_and_small_and_the_rate_is_charged_before_a_byte_is_stored() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.upload_limit = 64 * 1024;
    config.send_burst = 1;
    config.send_period_ms = 60_000;
    let app = TestApp::spawn_with(config).await;
    let (_, ann) = app.signup("ann").await;
    let room = open_room(&app, &ann).await;

    // The file before the room: refused without storing it.
    let form = multipart::Form::new()
        .part(
            "file",
            multipart::Part::bytes(vec![1u8; 1000]).file_name("a.bin"),
        )
        .text("room_id", room.clone());
    let (status, body) = post_form(&app, &ann, form).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("room_id")),
        "{body}"
    );
    // A room id of 10 KiB: refused as too long.
    let form = multipart::Form::new()
        .text("room_id", "r".repeat(10 * 1024))
        .part(
            "file",
            multipart::Part::bytes(vec![1u8; 10]).file_name("a.bin"),
        );
    let (status, body) = post_form(&app, &ann, form).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("room_id")),
        "{body}"
    );
    assert!(stored_files(db.data_dir.path()).is_empty());

    // One send in the burst: the first upload takes it...
    let (status, body) = upload(&app, &ann, &room, "one.txt", b"one".to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // ...and the next is refused for the rate before its (oversized) file is read: a
    // charge after streaming would have answered `file_too_large`.
    let (status, body) = upload(&app, &ann, &room, "big.bin", vec![7; 65 * 1024]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")),
        "{body}"
    );
    assert!(body["retry_after_ms"].as_u64().unwrap() > 0);
    assert_eq!(stored_files(db.data_dir.path()).len(), 1);
}

#[tokio::test]
async fn daily_bytes_parallel_uploads_and_the_free_space_floor_are_enforced() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.send_burst = 100;
    config.limits.upload_daily_bytes = 10_000;
    config.limits.uploads_per_user = 1;
    let app = TestApp::spawn_with(config).await;
    let (_, ann) = app.signup("ann").await;
    let room = open_room(&app, &ann).await;

    // 6 kB, then 6 kB more than today's 10 kB allows: refused, nothing left behind.
    let (status, body) = upload(&app, &ann, &room, "a.bin", vec![1; 6000]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = upload(&app, &ann, &room, "b.bin", vec![1; 6000]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("file_too_large")),
        "{body}"
    );
    assert_eq!(stored_files(db.data_dir.path()).len(), 1);
    // What is left still fits; then the day is used up and the wait is told.
    let (status, _) = upload(&app, &ann, &room, "c.bin", vec![1; 4000]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = upload(&app, &ann, &room, "d.bin", vec![1; 10]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")),
        "{body}"
    );
    assert!(
        body["retry_after_ms"].as_u64().unwrap() > 3_600_000,
        "{body}"
    );

    // One upload at a time: while one streams slowly, a second is refused.
    let (_, bob) = app.signup("bob").await;
    app.post("/api/rooms/join", json!({"room_id": room}), Some(&bob))
        .await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let slow = multipart::Form::new().text("room_id", room.clone()).part(
        "file",
        multipart::Part::stream(reqwest::Body::wrap_stream(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        ))
        .file_name("slow.bin"),
    );
    let first = tokio::spawn({
        let (http, url, bob) = (app.http.clone(), app.url("/api/uploads"), bob.clone());
        async move {
            http.post(url)
                .header("cookie", bob)
                .multipart(slow)
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    tx.send(Ok(vec![1; 100])).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (status, body) = upload(&app, &bob, &room, "second.bin", vec![1; 10]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")),
        "{body}"
    );
    drop(tx);
    assert_eq!(first.await.unwrap(), StatusCode::OK);
    // Finished: the slot is free again.
    let (status, body) = upload(&app, &bob, &room, "third.bin", vec![1; 10]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.stop().await;

    // Below the free-space floor (here: more than any disk has), uploads are refused.
    let mut config = test_config(&db);
    config.limits.upload_min_free_bytes = u64::MAX;
    let app = TestApp::spawn_with(config).await;
    let before = stored_files(db.data_dir.path()).len();
    let (status, body) = upload(&app, &bob, &room, "e.bin", vec![1; 10]).await;
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (507, Some("storage_full")),
        "{body}"
    );
    assert_eq!(stored_files(db.data_dir.path()).len(), before);
}

#[tokio::test]
async fn files_of_terminated_rooms_and_leftover_parts_are_deleted() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (_, ann) = app.signup("ann").await;
    let (_, bob) = app.signup("bob").await;
    let room = open_room(&app, &ann).await;
    app.post("/api/rooms/join", json!({"room_id": room}), Some(&bob))
        .await;
    let (status, body) = upload(&app, &bob, &room, "keep.txt", b"hello".to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Another room's file stays.
    let other = app
        .post(
            "/api/rooms/create",
            json!({"name": "Other", "join_policy": "open"}),
            Some(&ann),
        )
        .await;
    let other = other.body["room"]["id"].as_str().unwrap().to_owned();
    let (status, _) = upload(&app, &ann, &other, "stays.txt", b"x".to_vec()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored_files(db.data_dir.path()).len(), 2);
    // The owner leaves: bob, the only one left, ends the room by leaving.
    let r = app
        .post("/api/rooms/leave", json!({"room_id": room}), Some(&ann))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let status: String = {
        use sea_orm::{ConnectionTrait, Statement};
        let row = app
            .db
            .query_one_raw(Statement::from_string(
                app.db.get_database_backend(),
                format!("SELECT status FROM rooms WHERE id = '{room}'"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "status").unwrap()
    };
    assert_eq!(status, "terminated");
    let files = db.data_dir.path().join("uploads");
    let removed = service::housekeeping::cleanup(&app.db, &files, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(removed.files, 1);
    assert_eq!(stored_files(db.data_dir.path()).len(), 1);
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM files").await, 1);
    app.stop().await;

    // A `.part` file left by a crash is swept when the server starts.
    std::fs::write(files.join("abc123.part"), b"half").unwrap();
    let app = TestApp::spawn(&db).await;
    assert!(!files.join("abc123.part").exists());
    assert_eq!(stored_files(db.data_dir.path()).len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_body_that_is_no_form_or_past_the_body_limit_is_refused_as_before() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.upload_limit = 64 * 1024;
    let app = TestApp::spawn_with(config).await;
    let (_, ann) = app.signup("ann").await;
    let room = open_room(&app, &ann).await;

    // Not multipart (or no boundary): refused before the body is read, as axum's
    // `Multipart` extractor did.
    for content_type in ["text/plain", "multipart/form-data"] {
        let res = app
            .http
            .post(app.url("/api/uploads"))
            .header("cookie", &ann)
            .header("content-type", content_type)
            .body("room_id=x")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            res.text().await.unwrap(),
            "Invalid `boundary` for `multipart/form-data` request"
        );
    }
    // A body past the route's limit (the file's plus 64 KiB of framing): `file_too_large`.
    let (status, body) = upload(&app, &ann, &room, "big.bin", vec![7; 200 * 1024]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("file_too_large")),
        "{body}"
    );
    // A form cut off inside the file: `invalid_input`, nothing kept.
    let mut form = format!(
        "--XB\r\nContent-Disposition: form-data; name=\"room_id\"\r\n\r\n{room}\r\n\
         --XB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n"
    );
    form.push_str("hello");
    let res = app
        .http
        .post(app.url("/api/uploads"))
        .header("cookie", &ann)
        .header("content-type", "multipart/form-data; boundary=XB")
        .body(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_input")),
        "{body}"
    );
    assert!(stored_files(db.data_dir.path()).is_empty());
}
