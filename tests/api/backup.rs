//! `parlor backup` (docs/SECURITY.md, "Backups"): a copy taken while the server runs opens
//! as a Parlor of its own with every message and file.

use crate::common::{ok, person, test_config, TestApp, TestDb};
use reqwest::{multipart, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_backup_taken_while_serving_restores_every_message_and_file() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.send_burst = 1000;
    let app = TestApp::spawn_with(config.clone()).await;
    let ana = person(&app, "ana").await;
    let room = ok(
        &app,
        &ana,
        "/api/rooms/create",
        json!({"name": "Kept", "join_policy": "open"}),
    )
    .await;
    let room = room["room"]["id"].as_str().unwrap().to_owned();
    for i in 0..30 {
        ok(
            &app,
            &ana,
            "/api/messages/send",
            json!({"room_id": room, "client_id": format!("c{i}"), "body": format!("message {i}")}),
        )
        .await;
    }
    let form = multipart::Form::new().text("room_id", room.clone()).part(
        "file",
        multipart::Part::bytes(b"file body".to_vec()).file_name("notes.txt"),
    );
    let res = app
        .http
        .post(app.url("/api/uploads"))
        .header("cookie", &ana.cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let file_id = res.json::<serde_json::Value>().await.unwrap()["message"]["file"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Sends keep coming while the copy is taken.
    let busy = {
        let (app_url, cookie, room) = (
            app.url("/api/messages/send"),
            ana.cookie.clone(),
            room.clone(),
        );
        let http = app.http.clone();
        tokio::spawn(async move {
            for i in 0..50 {
                let _ = http
                    .post(&app_url)
                    .header("cookie", &cookie)
                    .json(
                        &json!({"room_id": room, "client_id": format!("late{i}"), "body": "late"}),
                    )
                    .send()
                    .await;
            }
        })
    };
    let dest = tempfile::tempdir().unwrap();
    let copy = dest.path().join("copy");
    let done = parlor::backup::backup(&config, &copy).await.unwrap();
    busy.await.unwrap();
    assert_eq!(done.files, 1);
    assert!(copy.join("uploads").join(&file_id).exists());
    // Into a folder that is not empty: refused.
    assert!(parlor::backup::backup(&config, &copy).await.is_err());

    if crate::common::on_postgres() {
        // The database is pg_dump's to copy; the line to run says where.
        assert!(done.database.is_none());
        assert!(done.pg_dump.unwrap().contains("pg_dump --format=custom"));
        return;
    }
    app.stop().await;
    // The copy is a Parlor of its own: the same session, every message, the file.
    let mut restored = test_config(&db);
    restored.database_url = None;
    restored.data_dir = copy.clone();
    let app = TestApp::spawn_with(restored).await;
    let history = ok(
        &app,
        &ana,
        "/api/messages/history",
        json!({"room_id": room, "limit": 100}),
    )
    .await;
    let bodies: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    for i in 0..30 {
        assert!(
            bodies.contains(&format!("message {i}").as_str()),
            "message {i} is missing"
        );
    }
    assert!(bodies.contains(&"notes.txt"));
    let file = app
        .http
        .get(app.url(&format!("/files/{file_id}")))
        .header("cookie", &ana.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.bytes().await.unwrap().as_ref(), b"file body");
}
