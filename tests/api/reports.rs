//! Reports (docs/RULES.md §5, "Reports"), on a real server with real sockets: who may report,
//! who sees a report, resolving one in one step, and that the person reported never learns
//! who reported them, by any answer or frame.

use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{
    call, id,
    live::{connect, open_room, staffed_room, Ws},
    ok, person, say, test_config, Person, Reply, TestApp, TestDb,
};
use service::time::Clock;

/// The reporter's username: long and odd, so finding it in a frame is never chance.
const REPORTER: &str = "whistleblower";

/// A room with an owner, two admins, a member and the reporter (a member too).
async fn staffed(app: &TestApp) -> (String, [Person; 5]) {
    staffed_room(app, ["ned", REPORTER]).await
}

async fn report(app: &TestApp, who: &Person, message_id: &str, reason: &str) -> Reply {
    call(
        app,
        who,
        "/api/messages/report",
        json!({"message_id": message_id, "reason": reason}),
    )
    .await
}

/// Files a report and returns its id.
async fn filed(app: &TestApp, who: &Person, message_id: &str, reason: &str) -> String {
    let r = report(app, who, message_id, reason).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["created_at"].is_string(), "{}", r.text);
    r.body["report_id"].as_str().unwrap().to_owned()
}

async fn queue(app: &TestApp, who: &Person, room: &str, open_only: bool) -> Vec<Value> {
    ok(
        app,
        who,
        "/api/rooms/reports",
        json!({"room_id": room, "open_only": open_only}),
    )
    .await["reports"]
        .as_array()
        .unwrap()
        .clone()
}

async fn resolve(app: &TestApp, who: &Person, report_id: &str, fields: Value) -> Reply {
    let mut body = json!({"report_id": report_id});
    body.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    call(app, who, "/api/rooms/resolve", body).await
}

async fn log(app: &TestApp, admin: &Person, room: &str) -> Vec<Value> {
    ok(app, admin, "/api/rooms/log", json!({"room_id": room})).await["events"]
        .as_array()
        .unwrap()
        .clone()
}

async fn admin_view(app: &TestApp, who: &Person, room: &str) -> Value {
    ok(app, who, "/api/rooms/admin", json!({"room_id": room})).await
}

/// The next frame of one of `types`, keeping every frame read on the way in `heard`.
async fn next_heard(ws: &mut Ws, types: &[&str], heard: &mut String) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {types:?} frame within 10 s"))
            .expect("socket still open")
            .expect("frame reads");
        let Message::Text(t) = msg else { continue };
        heard.push_str(t.as_str());
        heard.push('\n');
        let v: Value = serde_json::from_str(t.as_str()).unwrap();
        if types.contains(&v["type"].as_str().unwrap_or("")) {
            return v;
        }
    }
}

/// Every frame that arrives until the socket is quiet for `quiet`.
async fn drain(ws: &mut Ws, heard: &mut String, quiet: Duration) {
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(quiet, ws.next()).await {
        if let Message::Text(t) = msg {
            heard.push_str(t.as_str());
            heard.push('\n');
        }
    }
}

/// `text` names nobody who is `who`.
fn names_nobody(text: &str, who: &Person, what: &str) {
    assert!(
        !text.contains(&who.id) && !text.contains(REPORTER),
        "{what} names the reporter: {text}"
    );
}

#[tokio::test]
async fn the_reporter_stays_unknown_to_the_person_reported() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (room, [owner, adam, abel, ned, rita]) = staffed(&app).await;
    let neds = id(&say(&app, &ned, &room, "cheap watches here").await);
    let adams = id(&say(&app, &adam, &room, "admins talk too").await);
    let olgas = id(&say(&app, &owner, &room, "the owner speaks").await);
    let mut heard = [String::new(), String::new(), String::new(), String::new()];
    let mut ws = [
        connect(&app, &owner).await,
        connect(&app, &adam).await,
        connect(&app, &abel).await,
        connect(&app, &ned).await,
    ];

    // A member's message: every admin hears of it at once, with a badge; the queue says
    // who filed it.
    let on_ned = call(
        &app,
        &rita,
        "/api/messages/report",
        json!({"message_id": neds, "reason": "spam", "text": "links everywhere"}),
    )
    .await;
    assert_eq!(on_ned.status, StatusCode::OK, "{}", on_ned.text);
    let on_ned = on_ned.body["report_id"].as_str().unwrap().to_owned();
    for i in 0..3 {
        let (socket, log) = (&mut ws[i], &mut heard[i]);
        let note = next_heard(socket, &["notification"], log).await;
        let note = &note["notification"];
        assert_eq!(note["kind"], "report");
        assert_eq!(note["room_id"], room.as_str());
        assert_eq!(note["message_id"], neds.as_str());
        assert_eq!(note["reason"], "spam");
        assert!(note["actor"].is_null(), "{note}");
        let badge = next_heard(socket, &["reports"], log).await;
        assert_eq!(
            badge,
            json!({"type": "reports", "room_id": room, "open": 1})
        );
    }
    let listed = queue(&app, &adam, &room, true).await;
    assert_eq!(listed.len(), 1);
    let r = &listed[0];
    assert_eq!(r["id"], on_ned.as_str());
    assert_eq!(r["message"]["id"], neds.as_str());
    assert_eq!(r["message"]["body"], "cheap watches here");
    assert_eq!(
        (&r["reason"], &r["text"], &r["status"]),
        (&json!("spam"), &json!("links everywhere"), &json!("open"))
    );
    assert!(r["action"].is_null() && r["resolved_by"].is_null());
    assert_eq!(r["reporter"]["username"], REPORTER);

    // The owner's own message: the owner alone sees it, without who filed it.
    let on_olga = filed(&app, &rita, &olgas, "harassment").await;
    let note = next_heard(&mut ws[0], &["notification"], &mut heard[0]).await;
    assert_eq!(note["notification"]["message_id"], olgas.as_str());
    let badge = next_heard(&mut ws[0], &["reports"], &mut heard[0]).await;
    assert_eq!(badge["open"], 2);
    let olga_sees = queue(&app, &owner, &room, false).await;
    let mine = olga_sees
        .iter()
        .find(|r| r["id"] == on_olga.as_str())
        .unwrap();
    assert!(mine.get("reporter").is_none(), "{mine}");
    let theirs = olga_sees
        .iter()
        .find(|r| r["id"] == on_ned.as_str())
        .unwrap();
    assert_eq!(theirs["reporter"]["username"], REPORTER);

    // An admin's message: the owner alone, with who filed it; no other admin hears of it.
    let on_adam = filed(&app, &rita, &adams, "other").await;
    next_heard(&mut ws[0], &["notification"], &mut heard[0]).await;
    let badge = next_heard(&mut ws[0], &["reports"], &mut heard[0]).await;
    assert_eq!(badge["open"], 3);
    let olga_sees = queue(&app, &owner, &room, true).await;
    let on_adams = olga_sees
        .iter()
        .find(|r| r["id"] == on_adam.as_str())
        .unwrap();
    assert_eq!(on_adams["reporter"]["username"], REPORTER);
    for admin in [&adam, &abel] {
        let seen = queue(&app, admin, &room, false).await;
        let seen: Vec<String> = seen
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(seen, std::slice::from_ref(&on_ned));
        assert_eq!(admin_view(&app, admin, &room).await["open_reports"], 1);
        // A report they may not see is no report to them.
        resolve(&app, admin, &on_adam, json!({"action": "dismiss"}))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }
    assert_eq!(admin_view(&app, &owner, &room).await["open_reports"], 3);
    let mine = ok(&app, &owner, "/api/rooms/mine", json!({})).await;
    assert_eq!(mine["rooms"][0]["open_reports"], 3);
    let mine = ok(&app, &adam, "/api/rooms/mine", json!({})).await;
    assert_eq!(mine["rooms"][0]["open_reports"], 1);
    let mine = ok(&app, &ned, "/api/rooms/mine", json!({})).await;
    assert_eq!(mine["rooms"][0]["open_reports"], 0);

    // The queue is the admins': a member hears it is for admins, a stranger of no room.
    call(&app, &ned, "/api/rooms/reports", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    resolve(&app, &ned, &on_ned, json!({"action": "dismiss"}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let stranger = person(&app, "stan").await;
    call(
        &app,
        &stranger,
        "/api/rooms/reports",
        json!({"room_id": room}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "room_not_found");
    resolve(&app, &stranger, &on_ned, json!({"action": "dismiss"}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");

    // Resolved: the owner dismisses the report on adam, adam times ned out from his.
    ok(
        &app,
        &owner,
        "/api/rooms/resolve",
        json!({"report_id": on_adam, "action": "dismiss", "reason": "fair point"}),
    )
    .await;
    ok(
        &app,
        &adam,
        "/api/rooms/resolve",
        json!({"report_id": on_ned, "action": "mute", "minutes": 5, "reason": "spam"}),
    )
    .await;
    let note = next_heard(&mut ws[3], &["notification"], &mut heard[3]).await;
    assert_eq!(note["notification"]["kind"], "muted");
    assert_eq!(note["notification"]["actor"]["username"], "adam");
    // Adam reads the log, which says a report on his message was dismissed, never by whom.
    let from_reports = |entries: &[Value]| -> Vec<Value> {
        entries
            .iter()
            .filter(|e| !e["report_id"].is_null())
            .cloned()
            .collect()
    };
    let entries = from_reports(&log(&app, &adam, &room).await);
    assert_eq!(entries.len(), 2, "{entries:?}");
    let dismissed = entries
        .iter()
        .find(|e| e["kind"] == "report_dismissed")
        .unwrap();
    assert_eq!(dismissed["report_id"], on_adam.as_str());
    assert_eq!(dismissed["target"]["username"], "adam");
    assert_eq!(dismissed["actor"]["username"], "olga");
    assert_eq!(dismissed["reason"], "fair point");
    names_nobody(&json!(entries).to_string(), &rita, "the moderation log");
    let admin_page = admin_view(&app, &adam, &room).await;
    let logged = from_reports(admin_page["log"]["events"].as_array().unwrap());
    assert_eq!(logged.len(), 2);
    names_nobody(&json!(logged).to_string(), &rita, "rooms/admin's log");
    names_nobody(
        &queue(&app, &adam, &room, false).await[0]["message"].to_string(),
        &rita,
        "a report's message",
    );

    // Nothing any reported person got names the reporter: frames, notifications, answers.
    for (i, who, what) in [(0, &owner, "olga"), (1, &adam, "adam"), (3, &ned, "ned")] {
        drain(&mut ws[i], &mut heard[i], Duration::from_millis(500)).await;
        names_nobody(&heard[i], &rita, &format!("{what}'s frames"));
        let notes = ok(&app, who, "/api/notifications/list", json!({})).await;
        names_nobody(
            &notes.to_string(),
            &rita,
            &format!("{what}'s notifications"),
        );
    }
    let olga_sees = queue(&app, &owner, &room, false).await;
    let mine = olga_sees
        .iter()
        .find(|r| r["id"] == on_olga.as_str())
        .unwrap();
    names_nobody(&mine.to_string(), &rita, "the owner's own report");
}

#[tokio::test]
async fn one_report_per_person_per_message_and_bad_input_is_refused() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (room, [owner, adam, _abel, ned, rita]) = staffed(&app).await;
    let neds = id(&say(&app, &ned, &room, "hello").await);
    let first = filed(&app, &rita, &neds, "spam").await;
    for reason in ["spam", "other"] {
        report(&app, &rita, &neds, reason)
            .await
            .assert_error(StatusCode::CONFLICT, "already_reported");
    }
    // Someone else may report it too; nobody reports their own message or a system line.
    let second = filed(&app, &adam, &neds, "harassment").await;
    assert_ne!(first, second);
    report(&app, &ned, &neds, "spam")
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let history = ok(
        &app,
        &owner,
        "/api/messages/history",
        json!({"room_id": room}),
    )
    .await;
    let line = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "system")
        .unwrap();
    report(&app, &rita, &id(line), "spam")
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    // A message of someone else's room, or none at all: no such message.
    let stan = person(&app, "stan").await;
    let elsewhere = open_room(&app, &stan, "Elsewhere", &[]).await;
    let stans = id(&say(&app, &stan, &elsewhere, "mine").await);
    report(&app, &rita, &stans, "spam")
        .await
        .assert_error(StatusCode::NOT_FOUND, "message_not_found");
    report(&app, &rita, "99999999", "spam")
        .await
        .assert_error(StatusCode::NOT_FOUND, "message_not_found");
    // A message deleted already has nothing left to report.
    let gone = id(&say(&app, &ned, &room, "oops").await);
    ok(
        &app,
        &ned,
        "/api/messages/delete",
        json!({"message_id": gone}),
    )
    .await;
    report(&app, &rita, &gone, "spam")
        .await
        .assert_error(StatusCode::GONE, "message_deleted");
    // Bad input.
    let other = id(&say(&app, &ned, &room, "again").await);
    for body in [
        json!({"message_id": other, "reason": "abuse"}),
        json!({"message_id": other, "reason": "Spam"}),
        json!({"message_id": other, "reason": "spam", "text": "x".repeat(1001)}),
        json!({"message_id": other, "reason": "spam", "text": "a\u{0}b"}),
        json!({"message_id": "x", "reason": "spam"}),
    ] {
        let r = call(&app, &rita, "/api/messages/report", body.clone()).await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    }
    for body in [
        json!({"message_id": other, "reason": 5}),
        json!({"message_id": 12, "reason": "spam"}),
        json!({"message_id": other}),
        json!({"message_id": other, "reason": "spam", "text": ["a"]}),
    ] {
        let r = call(&app, &rita, "/api/messages/report", body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
        assert_eq!(r.code(), "invalid_input", "{body}: {}", r.text);
    }
    // Text of 1,000 characters is fine; nothing refused was stored.
    ok(
        &app,
        &rita,
        "/api/messages/report",
        json!({"message_id": other, "reason": "other", "text": "y".repeat(1000)}),
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM reports").await, 3);
    // Resolving: known actions only, with the durations they take.
    for (fields, field) in [
        (json!({"action": "warn"}), "action"),
        (json!({"action": "mute"}), "minutes"),
        (json!({"action": "mute", "minutes": 0}), "minutes"),
        (json!({"action": "kick", "minutes": 5}), "minutes"),
        (json!({"action": "ban", "minutes": 525_601}), "minutes"),
        (
            json!({"action": "dismiss", "reason": "r".repeat(501)}),
            "reason",
        ),
    ] {
        let r = resolve(&app, &owner, &first, fields.clone()).await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(r.body["field"], field, "{fields}");
    }
    let r = resolve(&app, &owner, &first, json!({"action": 3})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    resolve(&app, &owner, "no-such-report", json!({"action": "dismiss"}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(queue(&app, &owner, &room, true).await.len(), 3);
}

#[tokio::test]
async fn each_resolution_acts_in_one_step_is_logged_with_the_report_and_leaves_the_queue() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (room, [owner, adam, _abel, ned, rita]) = staffed(&app).await;
    let (mia, max, moe) = (
        person(&app, "mia").await,
        person(&app, "max").await,
        person(&app, "moe").await,
    );
    for p in [&mia, &max, &moe] {
        ok(&app, p, "/api/rooms/join", json!({"room_id": room})).await;
    }
    let said = |who: &Person, body: &str| {
        let (app, who, room, body) = (&app, who.clone(), room.clone(), body.to_owned());
        async move { id(&say(app, &who, &room, &body).await) }
    };
    let to_dismiss = filed(&app, &rita, &said(&ned, "fine really").await, "other").await;
    let deleted_msg = said(&ned, "buy now").await;
    let to_delete = filed(&app, &rita, &deleted_msg, "spam").await;
    let to_mute = filed(&app, &rita, &said(&mia, "shouting").await, "harassment").await;
    let to_kick = filed(&app, &rita, &said(&max, "rude").await, "harassment").await;
    let to_ban = filed(&app, &rita, &said(&moe, "spam bot").await, "spam").await;
    assert_eq!(admin_view(&app, &adam, &room).await["open_reports"], 5);
    let mut adam_ws = connect(&app, &adam).await;
    let mut owner_ws = connect(&app, &owner).await;
    let mut heard = String::new();

    let cases = [
        (
            &to_dismiss,
            json!({"action": "dismiss", "reason": "not spam"}),
            "dismissed",
            "report_dismissed",
        ),
        (
            &to_delete,
            json!({"action": "delete", "reason": "ads"}),
            "actioned",
            "message_deleted",
        ),
        (
            &to_mute,
            json!({"action": "mute", "minutes": 60, "reason": "cool off"}),
            "actioned",
            "muted",
        ),
        (
            &to_kick,
            json!({"action": "kick", "reason": "rude"}),
            "actioned",
            "kicked",
        ),
        (
            &to_ban,
            json!({"action": "ban", "minutes": 1440, "reason": "bot"}),
            "actioned",
            "banned",
        ),
    ];
    for (n, (report_id, fields, status, kind)) in cases.iter().enumerate() {
        let r = resolve(&app, &adam, report_id, fields.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{fields}: {}", r.text);
        let view = &r.body["report"];
        assert_eq!(view["id"], report_id.as_str());
        assert_eq!(view["status"], *status);
        assert_eq!(view["action"], fields["action"]);
        assert_eq!(view["resolved_by"]["username"], "adam");
        assert!(view["resolved_at"].is_string(), "{view}");
        // The log entry of the action carries the report's id.
        let entry = log(&app, &adam, &room)
            .await
            .into_iter()
            .find(|e| e["kind"] == *kind)
            .unwrap();
        assert_eq!(entry["report_id"], report_id.as_str(), "{entry}");
        assert_eq!(entry["actor"]["username"], "adam");
        assert_eq!(entry["reason"], fields["reason"]);
        // Both admins' badges count down.
        for (ws, label) in [(&mut adam_ws, "adam"), (&mut owner_ws, "olga")] {
            let badge = next_heard(ws, &["reports"], &mut heard).await;
            assert_eq!(badge["open"], 4 - n, "{label} after {kind}");
        }
        // Done once: a second resolution is refused, whatever it would do.
        resolve(&app, &owner, report_id, json!({"action": "dismiss"}))
            .await
            .assert_error(StatusCode::CONFLICT, "report_resolved");
    }
    assert!(queue(&app, &adam, &room, true).await.is_empty());
    let all = queue(&app, &adam, &room, false).await;
    assert_eq!(all.len(), 5);
    assert_eq!(admin_view(&app, &owner, &room).await["open_reports"], 0);
    // Each action was done: a tombstone, a timeout, a kick and a timed ban.
    let tomb = all.iter().find(|r| r["id"] == to_delete.as_str()).unwrap();
    assert_eq!(tomb["message"]["deleted"]["reason"], "ads");
    assert!(tomb["message"]["body"].is_null());
    assert_eq!(tomb["reporter"]["username"], REPORTER);
    let members = ok(&app, &owner, "/api/rooms/members", json!({"room_id": room})).await;
    let members = members["members"].as_array().unwrap();
    let member = |p: &Person| members.iter().find(|m| m["user"]["id"] == p.id.as_str());
    assert!(member(&mia).unwrap()["muted_until"].is_string());
    assert!(member(&max).is_none() && member(&moe).is_none());
    let bans = ok(&app, &owner, "/api/rooms/bans", json!({"room_id": room})).await;
    assert_eq!(bans["bans"][0]["user"]["id"], moe.id.as_str());
    assert!(bans["bans"][0]["until"].is_string());
    let kinds: Vec<String> = ok(&app, &mia, "/api/notifications/list", json!({})).await
        ["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds[0], "muted");
}

#[tokio::test]
async fn a_refused_resolution_leaves_the_report_open_and_a_deleted_message_stays_resolvable() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (room, [owner, adam, _abel, ned, rita]) = staffed(&app).await;
    // The owner's own message: the rank rule refuses acting on themselves.
    let olgas = id(&say(&app, &owner, &room, "mine").await);
    let on_olga = filed(&app, &rita, &olgas, "other").await;
    for action in ["mute", "kick", "ban"] {
        let mut fields = json!({"action": action});
        if action == "mute" {
            fields["minutes"] = json!(5);
        }
        resolve(&app, &owner, &on_olga, fields)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    }
    let open = queue(&app, &owner, &room, true).await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["status"], "open");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM mutes").await, 0);

    // A message its author deletes after it was reported: the report shows the tombstone
    // and can still be resolved; there is nothing left to delete.
    let neds = id(&say(&app, &ned, &room, "regrettable").await);
    let on_ned = filed(&app, &rita, &neds, "harassment").await;
    ok(
        &app,
        &ned,
        "/api/messages/delete",
        json!({"message_id": neds}),
    )
    .await;
    let listed = queue(&app, &adam, &room, true).await;
    let tomb = listed.iter().find(|r| r["id"] == on_ned.as_str()).unwrap();
    assert_eq!(tomb["message"]["id"], neds.as_str());
    assert!(tomb["message"]["deleted"].is_object(), "{tomb}");
    assert!(tomb["message"]["body"].is_null());
    resolve(&app, &adam, &on_ned, json!({"action": "delete"}))
        .await
        .assert_error(StatusCode::GONE, "message_deleted");
    // An author who has left cannot be timed out or kicked; the report stays open.
    ok(&app, &ned, "/api/rooms/leave", json!({"room_id": room})).await;
    resolve(&app, &adam, &on_ned, json!({"action": "kick"}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "not_member");
    assert_eq!(queue(&app, &adam, &room, true).await.len(), 1);
    // A ban reaches someone who left.
    let r = resolve(
        &app,
        &adam,
        &on_ned,
        json!({"action": "ban", "reason": "abuse"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["report"]["action"], "ban");
    assert!(r.body["report"]["message"]["deleted"].is_object());
    call(&app, &ned, "/api/rooms/join", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "banned");
    // The owner settles their own by dismissing it.
    ok(
        &app,
        &owner,
        "/api/rooms/resolve",
        json!({"report_id": on_olga, "action": "dismiss"}),
    )
    .await;
    assert!(queue(&app, &owner, &room, true).await.is_empty());
}

#[tokio::test]
async fn a_reporter_files_ten_reports_in_ten_minutes_across_rooms() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    let clock = Clock::adjustable();
    config.clock = clock.clone();
    config.send_burst = 1000;
    let app = TestApp::spawn_with(config).await;
    let (room, [owner, _adam, _abel, ned, rita]) = staffed(&app).await;
    let other = open_room(&app, &owner, "Other", &[&ned, &rita]).await;
    let mut messages = Vec::new();
    for n in 0..12 {
        let room = if n % 2 == 0 { &room } else { &other };
        messages.push(id(&say(&app, &ned, room, &format!("message {n}")).await));
    }
    for m in &messages[..10] {
        filed(&app, &rita, m, "spam").await;
        clock.advance(Duration::from_secs(10));
    }
    // The eleventh inside ten minutes waits for the first to leave the window.
    let r = report(&app, &rita, &messages[10], "spam").await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let wait = r.body["retry_after_ms"].as_u64().unwrap();
    assert!((490_000..=500_000).contains(&wait), "{wait}");
    // Someone else has their own allowance; a refusal stored nothing.
    filed(&app, &owner, &messages[10], "spam").await;
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM reports").await, 11);
    clock.advance(Duration::from_millis(wait));
    filed(&app, &rita, &messages[10], "spam").await;
    report(&app, &rita, &messages[11], "spam")
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

#[tokio::test]
async fn reports_and_resolutions_work_as_plain_form_posts() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (room, [owner, _adam, _abel, ned, rita]) = staffed(&app).await;
    let neds = id(&say(&app, &ned, &room, "spam spam").await);
    let other = id(&say(&app, &ned, &room, "more spam").await);
    let post = |who: &Person, path: &str, fields: Vec<(&'static str, String)>| {
        app.http
            .post(app.url(path))
            .header("accept", "text/html")
            .header("cookie", &who.cookie)
            .form(&fields)
            .send()
    };
    let res = post(
        &rita,
        "/api/form/messages/report",
        vec![
            ("room_id", room.clone()),
            ("message_id", neds.clone()),
            ("reason", "spam".into()),
            ("text", "".into()),
        ],
    )
    .await
    .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(
        res.headers()["location"],
        format!("/rooms/{room}#m{neds}").as_str()
    );
    // Refused, it goes back to the report page with the error.
    let res = post(
        &rita,
        "/api/form/messages/report",
        vec![
            ("room_id", room.clone()),
            ("message_id", neds.clone()),
            ("reason", "spam".into()),
        ],
    )
    .await
    .unwrap();
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        back.starts_with(&format!("/rooms/{room}/messages/{neds}/report?")),
        "{back}"
    );
    let open = queue(&app, &owner, &room, true).await;
    assert_eq!(open.len(), 1);
    assert!(open[0]["text"].is_null());
    let report_id = open[0]["id"].as_str().unwrap().to_owned();
    let inbox = format!("/rooms/{room}/admin?tab=reports");
    let res = post(
        &owner,
        "/api/form/rooms/resolve",
        vec![
            // The inbox's form: a length for each of timeout and ban; the button says which.
            ("report_id", report_id.clone()),
            ("action", "mute".into()),
            ("mute_minutes", "10".into()),
            ("ban_minutes", "".into()),
            ("reason", "".into()),
            ("back", inbox.clone()),
        ],
    )
    .await
    .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()["location"], inbox.as_str());
    let done = queue(&app, &owner, &room, false).await;
    assert_eq!(done[0]["action"], "mute");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM mutes").await, 1);
    // Again: refused, back to where it came from.
    let res = post(
        &owner,
        "/api/form/rooms/resolve",
        vec![
            ("report_id", report_id),
            ("action", "dismiss".into()),
            ("back", inbox.clone()),
        ],
    )
    .await
    .unwrap();
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with(&format!("/rooms/{room}/admin?")), "{back}");
    // A dismissal from the same form ignores the lengths it carries.
    let second = filed(&app, &rita, &other, "spam").await;
    let res = post(
        &owner,
        "/api/form/rooms/resolve",
        vec![
            ("report_id", second),
            ("action", "dismiss".into()),
            ("mute_minutes", "60".into()),
            ("ban_minutes", "1440".into()),
            ("reason", "".into()),
            ("back", inbox.clone()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(res.headers()["location"], inbox.as_str());
    let done = queue(&app, &owner, &room, false).await;
    assert_eq!(done[0]["status"], "dismissed", "{:?}", done[0]);
}
