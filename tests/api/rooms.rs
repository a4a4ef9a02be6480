//! Rooms, joining, moderation, succession, notifications and housekeeping (docs/RULES.md §2–§5, §8)
//! through the real HTTP API, on SQLite and (with PARLOR_TEST_DB=postgres) PostgreSQL.

use crate::common::{call, ok, person, Person, TestApp, TestDb};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};

async fn create(app: &TestApp, who: &Person, name: &str, policy: &str) -> String {
    let body = ok(
        app,
        who,
        "/api/rooms/create",
        json!({"name": name, "join_policy": policy}),
    )
    .await;
    body["room"]["id"].as_str().unwrap().to_owned()
}

async fn notification_kinds(app: &TestApp, who: &Person) -> Vec<String> {
    let body = ok(app, who, "/api/notifications/list", json!({})).await;
    body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn member_ids(app: &TestApp, who: &Person, room: &str) -> Vec<(String, String)> {
    let body = ok(app, who, "/api/rooms/members", json!({"room_id": room})).await;
    body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user"]["username"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn sql_count(app: &TestApp, sql: &str) -> i64 {
    app.count(sql).await
}

#[tokio::test]
async fn creating_rooms_validates_and_names_are_unique_among_active_rooms() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let body = ok(
        &app,
        &ann,
        "/api/rooms/create",
        json!({"name": " Lounge ", "topic": "hi", "max_members": 10}),
    )
    .await;
    let room = &body["room"];
    assert_eq!(room["name"], "Lounge");
    assert_eq!(
        room["join_policy"], "request",
        "request is the default policy"
    );
    assert_eq!(
        (room["member_count"].as_u64(), room["status"].as_str()),
        (Some(1), Some("active"))
    );
    let id = room["id"].as_str().unwrap();
    assert!(id.len() >= 16);

    let r = call(&app, &ann, "/api/rooms/create", json!({"name": "LOUNGE"})).await;
    r.assert_error(StatusCode::CONFLICT, "room_name_taken");
    for bad in [
        json!({"name": ""}),
        json!({"name": "x".repeat(65)}),
        json!({"name": "ok", "join_policy": "secret"}),
        json!({"name": "ok", "max_members": 1}),
        json!({"name": 5}),
        json!({}),
    ] {
        call(&app, &ann, "/api/rooms/create", bad)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    }
    app.post("/api/rooms/create", json!({"name": "anon"}), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(sql_count(&app, "SELECT COUNT(*) AS n FROM rooms").await, 1);

    // Terminating frees the name.
    assert_eq!(
        ok(&app, &ann, "/api/rooms/leave", json!({"room_id": id})).await["terminated"],
        true
    );
    create(&app, &ann, "lounge", "open").await;
}

#[tokio::test]
async fn simultaneous_creates_of_one_name_make_exactly_one_room() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let attempts = (0..8).map(|i| {
        let who = if i % 2 == 0 { &ann } else { &bob };
        let name = if i % 2 == 0 { "Arena" } else { "ARENA" };
        call(&app, who, "/api/rooms/create", json!({"name": name}))
    });
    let replies = futures::future::join_all(attempts).await;
    assert_eq!(
        replies
            .iter()
            .filter(|r| r.status == StatusCode::OK)
            .count(),
        1
    );
    for r in replies.iter().filter(|r| r.status != StatusCode::OK) {
        r.assert_error(StatusCode::CONFLICT, "room_name_taken");
    }
    assert_eq!(sql_count(&app, "SELECT COUNT(*) AS n FROM rooms").await, 1);
    assert_eq!(
        sql_count(&app, "SELECT COUNT(*) AS n FROM memberships").await,
        1,
        "no owner without a room"
    );
}

#[tokio::test]
async fn search_lists_open_and_request_rooms_by_name_with_counts_and_pages() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    for i in 0..5 {
        create(
            &app,
            &ann,
            &format!("Chess club {i}"),
            if i % 2 == 0 { "open" } else { "request" },
        )
        .await;
    }
    create(&app, &ann, "Chess secret", "invite").await;
    let banned_room = create(&app, &ann, "Chess banned", "open").await;
    ok(
        &app,
        &ann,
        "/api/rooms/ban",
        json!({"room_id": banned_room, "user": "bob"}),
    )
    .await;
    let first = create(&app, &ann, "chess club 0 annex", "open").await;
    ok(&app, &bob, "/api/rooms/join", json!({"room_id": first})).await;

    let mut names = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let page = ok(
            &app,
            &bob,
            "/api/rooms/search",
            json!({"query": "CHESS", "limit": 2, "cursor": cursor}),
        )
        .await;
        for r in page["rooms"].as_array().unwrap() {
            names.push(r["name"].as_str().unwrap().to_owned());
            if r["id"] == first {
                assert_eq!(r["member_count"], 2);
            }
        }
        cursor = page["next_cursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(
        names,
        [
            "Chess club 0",
            "chess club 0 annex",
            "Chess club 1",
            "Chess club 2",
            "Chess club 3",
            "Chess club 4"
        ]
    );
    // Ann, not banned, sees the banned room too; the private one nobody finds.
    let all = ok(
        &app,
        &ann,
        "/api/rooms/search",
        json!({"query": "chess", "limit": 100}),
    )
    .await;
    let found: Vec<&str> = all["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(found.contains(&"Chess banned") && !found.contains(&"Chess secret"));
    // LIKE wildcards in the query are plain characters.
    let none = ok(&app, &bob, "/api/rooms/search", json!({"query": "%"})).await;
    assert_eq!(none["rooms"], json!([]));
    call(
        &app,
        &bob,
        "/api/rooms/search",
        json!({"cursor": "garbage"}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_input");
}

#[tokio::test]
async fn hidden_rooms_answer_exactly_like_missing_ones() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let private = create(&app, &ann, "Hideout", "invite").await;
    let banned = create(&app, &ann, "Pub", "open").await;
    ok(
        &app,
        &ann,
        "/api/rooms/ban",
        json!({"room_id": banned, "user": bob.id}),
    )
    .await;
    let missing = call(
        &app,
        &bob,
        "/api/rooms/get",
        json!({"room_id": "no-such-room"}),
    )
    .await;
    missing.assert_error(StatusCode::NOT_FOUND, "room_not_found");
    for room in [&private, &banned] {
        let r = call(&app, &bob, "/api/rooms/get", json!({"room_id": room})).await;
        assert_eq!((r.status, &r.body), (missing.status, &missing.body));
    }
    // Joining a private room by id without an invite: the same.
    let r = call(&app, &bob, "/api/rooms/join", json!({"room_id": private})).await;
    assert_eq!((r.status, &r.body), (missing.status, &missing.body));
    let r = call(
        &app,
        &bob,
        "/api/invites/accept",
        json!({"room_id": private}),
    )
    .await;
    assert_eq!((r.status, &r.body), (missing.status, &missing.body));
    // Members see their room and their role.
    let got = ok(&app, &ann, "/api/rooms/get", json!({"room_id": private})).await;
    assert_eq!(got["my_role"], "owner");
}

#[tokio::test]
async fn open_rooms_admit_at_once_until_full() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let cat = person(&app, "cat").await;
    let room = ok(
        &app,
        &ann,
        "/api/rooms/create",
        json!({"name": "Tiny", "join_policy": "open", "max_members": 2}),
    )
    .await;
    let room = room["room"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await["status"],
        "joined"
    );
    call(&app, &bob, "/api/rooms/join", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::CONFLICT, "already_member");
    call(&app, &cat, "/api/rooms/join", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::CONFLICT, "room_full");
    let got = ok(&app, &bob, "/api/rooms/get", json!({"room_id": room})).await;
    assert_eq!(
        (
            got["my_role"].as_str(),
            got["room"]["member_count"].as_u64()
        ),
        (Some("member"), Some(2))
    );
    let mine = ok(&app, &bob, "/api/rooms/mine", json!({})).await;
    assert_eq!(mine["rooms"][0]["id"], room.as_str());
    assert_eq!(mine["rooms"][0]["my_role"], "member");
}

#[tokio::test]
async fn requests_notify_admins_and_are_approved_or_denied() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let adm = person(&app, "adm").await;
    let bob = person(&app, "bob").await;
    let cat = person(&app, "cat").await;
    let room = create(&app, &ann, "Club", "open").await;
    ok(&app, &adm, "/api/rooms/join", json!({"room_id": room})).await;
    ok(
        &app,
        &ann,
        "/api/rooms/promote",
        json!({"room_id": room, "user_id": adm.id}),
    )
    .await;
    ok(
        &app,
        &ann,
        "/api/rooms/update",
        json!({"room_id": room, "join_policy": "request"}),
    )
    .await;

    assert_eq!(
        ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await["status"],
        "requested"
    );
    call(&app, &bob, "/api/rooms/join", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::CONFLICT, "request_pending");
    ok(&app, &cat, "/api/rooms/join", json!({"room_id": room})).await;
    assert!(notification_kinds(&app, &ann)
        .await
        .contains(&"join_request".to_owned()));
    assert!(notification_kinds(&app, &adm)
        .await
        .contains(&"join_request".to_owned()));
    // Only admins see and answer requests.
    call(&app, &bob, "/api/rooms/requests", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "not_member");
    let reqs = ok(&app, &adm, "/api/rooms/requests", json!({"room_id": room})).await;
    let names: Vec<&str> = reqs["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["user"]["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bob", "cat"]);
    ok(
        &app,
        &adm,
        "/api/rooms/approve",
        json!({"room_id": room, "user_id": bob.id}),
    )
    .await;
    ok(
        &app,
        &ann,
        "/api/rooms/deny",
        json!({"room_id": room, "user_id": cat.id}),
    )
    .await;
    call(
        &app,
        &ann,
        "/api/rooms/approve",
        json!({"room_id": room, "user_id": cat.id}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    call(&app, &bob, "/api/rooms/requests", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(notification_kinds(&app, &bob).await, ["request_approved"]);
    assert_eq!(notification_kinds(&app, &cat).await, ["request_denied"]);
    assert_eq!(member_ids(&app, &bob, &room).await.len(), 3);
}

#[tokio::test]
async fn invites_by_name_or_id_are_accepted_declined_or_go_stale() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let cat = person(&app, "cat").await;
    let dan = person(&app, "dan").await;
    let room = create(&app, &ann, "Hideout", "invite").await;
    ok(
        &app,
        &ann,
        "/api/rooms/invite",
        json!({"room_id": room, "user": "BOB"}),
    )
    .await;
    ok(
        &app,
        &ann,
        "/api/rooms/invite",
        json!({"room_id": room, "user": cat.id}),
    )
    .await;
    ok(
        &app,
        &ann,
        "/api/rooms/invite",
        json!({"room_id": room, "user": "dan"}),
    )
    .await;
    call(
        &app,
        &ann,
        "/api/rooms/invite",
        json!({"room_id": room, "user": "nobody"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "user_not_found");
    let list = ok(&app, &bob, "/api/notifications/list", json!({})).await;
    let n = &list["notifications"][0];
    assert_eq!(
        (
            n["kind"].as_str(),
            n["room_id"].as_str(),
            n["room_name"].as_str()
        ),
        (Some("invited"), Some(room.as_str()), Some("Hideout"))
    );
    assert_eq!(n["actor"]["username"], "ann");
    // The invitee sees the private room now.
    assert_eq!(
        ok(&app, &bob, "/api/rooms/get", json!({"room_id": room})).await["my_role"],
        Value::Null
    );
    ok(&app, &bob, "/api/invites/accept", json!({"room_id": room})).await;
    // Join by id works for an invitee too.
    assert_eq!(
        ok(&app, &cat, "/api/rooms/join", json!({"room_id": room})).await["status"],
        "joined"
    );
    call(
        &app,
        &bob,
        "/api/rooms/invite",
        json!({"room_id": room, "user": "dan"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    call(
        &app,
        &ann,
        "/api/rooms/invite",
        json!({"room_id": room, "user": "bob"}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "already_member");

    // A stale invite (moved eight days back) no longer opens the door.
    app.db
        .execute_unprepared(&format!(
            "UPDATE invites SET expires_at = created_at WHERE user_id = '{}'",
            dan.id
        ))
        .await
        .unwrap();
    call(&app, &dan, "/api/invites/accept", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "room_not_found");
    ok(
        &app,
        &ann,
        "/api/rooms/invite",
        json!({"room_id": room, "user": "dan"}),
    )
    .await;
    ok(&app, &dan, "/api/invites/decline", json!({"room_id": room})).await;
    call(&app, &dan, "/api/invites/accept", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "room_not_found");
    assert_eq!(member_ids(&app, &ann, &room).await.len(), 3);
}

#[tokio::test]
async fn a_ban_blocks_every_way_back_and_hides_the_room() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let cat = person(&app, "cat").await;
    let room = create(&app, &ann, "Pub", "open").await;
    ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await;
    ok(&app, &cat, "/api/rooms/join", json!({"room_id": room})).await;
    let r = ok(
        &app,
        &ann,
        "/api/rooms/ban",
        json!({"room_id": room, "user": "bob", "reason": "spam"}),
    )
    .await;
    assert_eq!(r["terminated"], false);
    call(&app, &bob, "/api/rooms/join", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "banned");
    call(
        &app,
        &ann,
        "/api/rooms/invite",
        json!({"room_id": room, "user": "bob"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "banned");
    call(&app, &bob, "/api/invites/accept", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "banned");
    ok(
        &app,
        &ann,
        "/api/rooms/update",
        json!({"room_id": room, "join_policy": "request"}),
    )
    .await;
    call(&app, &bob, "/api/rooms/join", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "banned");
    assert_eq!(
        ok(&app, &bob, "/api/rooms/previous", json!({})).await["rooms"],
        json!([])
    );
    assert_eq!(
        ok(&app, &bob, "/api/rooms/search", json!({"query": "pub"})).await["rooms"],
        json!([])
    );
    let kinds = notification_kinds(&app, &bob).await;
    assert_eq!(kinds, ["banned"]);
    let bans = ok(&app, &ann, "/api/rooms/bans", json!({"room_id": room})).await;
    assert_eq!(bans["bans"][0]["user"]["username"], "bob");
    assert_eq!(bans["bans"][0]["reason"], "spam");
    call(
        &app,
        &ann,
        "/api/rooms/ban",
        json!({"room_id": room, "user": "bob"}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "already_banned");

    // A ban of a non-member by name; the non-member's pending request goes with it.
    let dan = person(&app, "dan").await;
    ok(&app, &dan, "/api/rooms/join", json!({"room_id": room})).await;
    ok(
        &app,
        &ann,
        "/api/rooms/ban",
        json!({"room_id": room, "user": "DAN"}),
    )
    .await;
    assert_eq!(
        ok(&app, &ann, "/api/rooms/requests", json!({"room_id": room})).await["requests"],
        json!([])
    );

    ok(
        &app,
        &ann,
        "/api/rooms/unban",
        json!({"room_id": room, "user_id": bob.id}),
    )
    .await;
    assert_eq!(notification_kinds(&app, &bob).await, ["unbanned", "banned"]);
    assert_eq!(
        ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await["status"],
        "requested"
    );
}

#[tokio::test]
async fn kicks_follow_rank_and_the_kicked_may_come_back() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let adm = person(&app, "adm").await;
    let adm2 = person(&app, "adm2").await;
    let bob = person(&app, "bob").await;
    let room = create(&app, &ann, "Hall", "open").await;
    for p in [&adm, &adm2, &bob] {
        ok(&app, p, "/api/rooms/join", json!({"room_id": room})).await;
    }
    ok(
        &app,
        &ann,
        "/api/rooms/promote",
        json!({"room_id": room, "user_id": adm.id}),
    )
    .await;
    ok(
        &app,
        &ann,
        "/api/rooms/promote",
        json!({"room_id": room, "user_id": adm2.id}),
    )
    .await;
    call(
        &app,
        &bob,
        "/api/rooms/kick",
        json!({"room_id": room, "user_id": adm.id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    call(
        &app,
        &adm,
        "/api/rooms/kick",
        json!({"room_id": room, "user_id": adm2.id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    call(
        &app,
        &adm,
        "/api/rooms/kick",
        json!({"room_id": room, "user_id": ann.id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    call(
        &app,
        &adm,
        "/api/rooms/ban",
        json!({"room_id": room, "user": ann.id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    call(
        &app,
        &adm,
        "/api/rooms/promote",
        json!({"room_id": room, "user_id": bob.id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let r = ok(
        &app,
        &adm,
        "/api/rooms/kick",
        json!({"room_id": room, "user_id": bob.id, "reason": "calm down"}),
    )
    .await;
    assert_eq!(r["terminated"], false);
    let list = ok(&app, &bob, "/api/notifications/list", json!({})).await;
    assert_eq!(
        (
            list["notifications"][0]["kind"].as_str(),
            list["notifications"][0]["reason"].as_str()
        ),
        (Some("kicked"), Some("calm down"))
    );
    let prev = ok(&app, &bob, "/api/rooms/previous", json!({})).await;
    assert_eq!(
        (
            prev["rooms"][0]["reason"].as_str(),
            prev["rooms"][0]["can_rejoin"].as_bool()
        ),
        (Some("kicked"), Some(true))
    );
    assert_eq!(prev["rooms"][0]["room"]["id"], room.as_str());
    ok(
        &app,
        &ann,
        "/api/rooms/kick",
        json!({"room_id": room, "user_id": adm2.id}),
    )
    .await;
    assert_eq!(
        ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await["status"],
        "joined"
    );

    // The moderation log, for admins only, newest first.
    call(&app, &bob, "/api/rooms/log", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let log = ok(&app, &adm, "/api/rooms/log", json!({"room_id": room})).await;
    let kinds: Vec<&str> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "joined", "kicked", "kicked", "promoted", "promoted", "joined", "joined", "joined",
            "created"
        ]
    );
    let kick = &log["events"][2];
    assert_eq!(
        (
            kick["actor"]["username"].as_str(),
            kick["target"]["username"].as_str(),
            kick["reason"].as_str()
        ),
        (Some("adm"), Some("bob"), Some("calm down"))
    );
}

#[tokio::test]
async fn departures_terminate_or_hand_the_room_on_in_join_order() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let cat = person(&app, "cat").await;
    let dan = person(&app, "dan").await;

    // Owner + 2 members: the owner leaves, the earliest joiner is admin and owner.
    let room = create(&app, &ann, "Relay", "open").await;
    ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await;
    ok(&app, &cat, "/api/rooms/join", json!({"room_id": room})).await;
    assert_eq!(
        ok(&app, &ann, "/api/rooms/leave", json!({"room_id": room})).await["terminated"],
        false
    );
    assert_eq!(
        member_ids(&app, &cat, &room).await,
        [
            ("bob".into(), "owner".into()),
            ("cat".into(), "member".into())
        ]
    );
    let kinds = notification_kinds(&app, &bob).await;
    assert!(
        kinds.contains(&"succession".to_owned())
            && kinds.contains(&"ownership_received".to_owned())
    );
    let prev = ok(&app, &ann, "/api/rooms/previous", json!({})).await;
    assert_eq!(prev["rooms"][0]["reason"], "left");

    // Admin + member: the admin leaves, the room terminates and the member hears of it.
    assert_eq!(
        ok(&app, &bob, "/api/rooms/leave", json!({"room_id": room})).await["terminated"],
        true
    );
    assert!(notification_kinds(&app, &cat)
        .await
        .contains(&"room_terminated".to_owned()));
    assert_eq!(
        ok(&app, &cat, "/api/rooms/mine", json!({})).await["rooms"],
        json!([])
    );
    for p in [&ann, &bob, &cat] {
        assert_eq!(
            ok(&app, p, "/api/rooms/previous", json!({})).await["rooms"],
            json!([]),
            "terminated rooms leave no trace"
        );
    }
    call(&app, &dan, "/api/rooms/join", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::GONE, "room_terminated");
    call(&app, &cat, "/api/rooms/get", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::GONE, "room_terminated");
    call(&app, &cat, "/api/rooms/leave", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::GONE, "room_terminated");

    // A member leaving the admin alone keeps the room; owner leaving an admin hands it on.
    let room = create(&app, &ann, "Duo", "open").await;
    ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await;
    assert_eq!(
        ok(&app, &bob, "/api/rooms/leave", json!({"room_id": room})).await["terminated"],
        false
    );
    ok(&app, &cat, "/api/rooms/join", json!({"room_id": room})).await;
    ok(&app, &dan, "/api/rooms/join", json!({"room_id": room})).await;
    ok(
        &app,
        &ann,
        "/api/rooms/promote",
        json!({"room_id": room, "user_id": dan.id}),
    )
    .await;
    ok(&app, &ann, "/api/rooms/leave", json!({"room_id": room})).await;
    assert_eq!(
        member_ids(&app, &cat, &room).await,
        [
            ("cat".into(), "member".into()),
            ("dan".into(), "owner".into())
        ]
    );

    // Transfer and demote are the owner's; the old owner stays an admin.
    ok(
        &app,
        &dan,
        "/api/rooms/transfer",
        json!({"room_id": room, "user_id": cat.id}),
    )
    .await;
    assert_eq!(
        member_ids(&app, &cat, &room).await,
        [
            ("cat".into(), "owner".into()),
            ("dan".into(), "admin".into())
        ]
    );
    ok(
        &app,
        &cat,
        "/api/rooms/demote",
        json!({"room_id": room, "user_id": dan.id}),
    )
    .await;
    assert!(notification_kinds(&app, &dan)
        .await
        .contains(&"demoted".to_owned()));
    // The last non-admin kicked: the owner stays alone, the room lives.
    assert_eq!(
        ok(
            &app,
            &cat,
            "/api/rooms/kick",
            json!({"room_id": room, "user_id": dan.id})
        )
        .await["terminated"],
        false
    );
}

#[tokio::test]
async fn only_members_list_members_and_strangers_rooms_are_refused() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let room = create(&app, &ann, "Own", "request").await;
    call(&app, &bob, "/api/rooms/members", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "not_member");
    call(&app, &bob, "/api/rooms/leave", json!({"room_id": room}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "not_member");
    call(
        &app,
        &bob,
        "/api/rooms/update",
        json!({"room_id": room, "topic": "mine now"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "not_member");
    call(
        &app,
        &bob,
        "/api/rooms/kick",
        json!({"room_id": room, "user_id": ann.id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "not_member");
    call(&app, &bob, "/api/rooms/leave", json!({}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    call(&app, &bob, "/api/rooms/leave", json!({"room_id": 7}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    let r = ok(
        &app,
        &ann,
        "/api/rooms/update",
        json!({"room_id": room, "topic": "  ", "max_members": 5}),
    )
    .await;
    assert_eq!(
        (
            r["room"]["topic"].clone(),
            r["room"]["max_members"].as_u64()
        ),
        (Value::Null, Some(5))
    );
}

#[tokio::test]
async fn notifications_are_marked_read_one_by_one_or_all() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    for name in ["A", "B", "C"] {
        let room = create(&app, &ann, name, "invite").await;
        ok(
            &app,
            &ann,
            "/api/rooms/invite",
            json!({"room_id": room, "user": "bob"}),
        )
        .await;
    }
    let list = ok(&app, &bob, "/api/notifications/list", json!({})).await;
    assert_eq!(list["unread"], 3);
    let first = list["notifications"][0]["id"].clone();
    // Someone else's notification id changes nothing of theirs.
    ok(
        &app,
        &ann,
        "/api/notifications/read",
        json!({"ids": [first]}),
    )
    .await;
    ok(
        &app,
        &bob,
        "/api/notifications/read",
        json!({"ids": [first]}),
    )
    .await;
    let list = ok(
        &app,
        &bob,
        "/api/notifications/list",
        json!({"unread_only": true}),
    )
    .await;
    assert_eq!(
        (
            list["unread"].as_u64(),
            list["notifications"].as_array().unwrap().len()
        ),
        (Some(2), 2)
    );
    ok(&app, &bob, "/api/notifications/read", json!({"all": true})).await;
    assert_eq!(
        ok(&app, &bob, "/api/notifications/list", json!({})).await["unread"],
        0
    );
    call(&app, &bob, "/api/notifications/read", json!({}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_input");
}

/// Checks the invariants of docs/RULES.md §4 straight from the database.
async fn assert_room_invariants(app: &TestApp, room: &str) {
    let status: String = {
        let backend = app.db.get_database_backend();
        let row = app
            .db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT status FROM rooms WHERE id = '{room}'"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "status").unwrap()
    };
    let q = |extra: &str| {
        format!("SELECT COUNT(*) AS n FROM memberships WHERE room_id = '{room}' AND status = 'active' {extra}")
    };
    let members = sql_count(app, &q("")).await;
    let admins = sql_count(app, &q("AND role IN ('admin', 'owner')")).await;
    let owners = sql_count(app, &q("AND role = 'owner'")).await;
    if status == "terminated" {
        assert_eq!(members, 0, "a terminated room has no members");
    } else {
        assert!(admins >= 1, "an active room has an admin");
        assert_eq!(owners, 1, "an active room has one owner");
        assert!(!(members == 1 && admins == 0), "never one non-admin alone");
    }
}

#[tokio::test]
async fn simultaneous_departures_never_break_the_invariants() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let people = [
        person(&app, "racer0").await,
        person(&app, "racer1").await,
        person(&app, "racer2").await,
    ];
    for round in 0..50 {
        for size in [2usize, 3] {
            let room = create(&app, &people[0], &format!("race {round} {size}"), "open").await;
            for p in &people[1..size] {
                ok(&app, p, "/api/rooms/join", json!({"room_id": room})).await;
            }
            // Everyone leaves at once; in odd rounds the owner kicks instead of leaving.
            let last_id = people[size - 1].id.clone();
            let moves = people[..size].iter().enumerate().map(|(i, p)| {
                let room = room.clone();
                let last_id = last_id.clone();
                let app = &app;
                async move {
                    if round % 2 == 1 && i == 0 {
                        call(
                            app,
                            p,
                            "/api/rooms/kick",
                            json!({"room_id": room, "user_id": last_id}),
                        )
                        .await
                    } else {
                        call(app, p, "/api/rooms/leave", json!({"room_id": room})).await
                    }
                }
            });
            let replies = futures::future::join_all(moves).await;
            for r in &replies {
                assert!(
                    r.status == StatusCode::OK
                        || ["not_member", "room_terminated", "forbidden"].contains(&r.code()),
                    "{}",
                    r.text
                );
            }
            assert_room_invariants(&app, &room).await;
        }
    }
}

#[tokio::test]
async fn housekeeping_removes_exactly_what_is_stale() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let cat = person(&app, "cat").await;
    let room = create(&app, &ann, "Old", "open").await;
    ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await;
    ok(&app, &cat, "/api/rooms/join", json!({"room_id": room})).await;
    ok(&app, &bob, "/api/rooms/leave", json!({"room_id": room})).await;
    ok(
        &app,
        &ann,
        "/api/rooms/ban",
        json!({"room_id": room, "user": "cat"}),
    )
    .await;
    let private = create(&app, &ann, "Priv", "invite").await;
    ok(
        &app,
        &ann,
        "/api/rooms/invite",
        json!({"room_id": private, "user": "bob"}),
    )
    .await;
    let read = ok(&app, &bob, "/api/notifications/list", json!({})).await;
    ok(
        &app,
        &bob,
        "/api/notifications/read",
        json!({"ids": [read["notifications"][0]["id"]]}),
    )
    .await;

    let now = chrono::Utc::now();
    let files = db.data_dir.path().join("uploads");
    // Nothing is stale yet.
    let removed = service::housekeeping::cleanup(&app.db, &files, now)
        .await
        .unwrap();
    assert_eq!(
        (removed.associations, removed.notifications, removed.invites),
        (0, 0, 0)
    );
    // Eight days on: the invite expired and bob's read notification is old; nothing else.
    let removed = service::housekeeping::cleanup(&app.db, &files, now + chrono::Duration::days(8))
        .await
        .unwrap();
    assert_eq!(
        (removed.associations, removed.notifications, removed.invites),
        (0, 1, 1)
    );
    // Thirty-one days on: bob's past membership goes; the ban (and its row) and ann's
    // current membership stay; every notification is now over 30 days old.
    let removed = service::housekeeping::cleanup(&app.db, &files, now + chrono::Duration::days(31))
        .await
        .unwrap();
    assert_eq!(removed.associations, 1);
    assert!(removed.notifications >= 1);
    assert_eq!(sql_count(&app, "SELECT COUNT(*) AS n FROM bans").await, 1);
    assert_eq!(
        sql_count(
            &app,
            &format!(
                "SELECT COUNT(*) AS n FROM memberships WHERE user_id = '{}'",
                ann.id
            )
        )
        .await,
        2
    );
    assert_eq!(
        sql_count(
            &app,
            &format!(
                "SELECT COUNT(*) AS n FROM memberships WHERE user_id = '{}'",
                cat.id
            )
        )
        .await,
        1
    );
    assert_eq!(
        sql_count(&app, "SELECT COUNT(*) AS n FROM notifications").await,
        0
    );
    assert_eq!(
        ok(&app, &bob, "/api/rooms/previous", json!({})).await["rooms"],
        json!([])
    );
}

#[tokio::test]
async fn a_terminated_private_room_stays_hidden_from_strangers_and_the_banned() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let bob = person(&app, "bob").await;
    let cat = person(&app, "cat").await;
    let dan = person(&app, "dan").await;
    let room = create(&app, &ann, "Secret", "invite").await;
    ok(
        &app,
        &ann,
        "/api/rooms/invite",
        json!({"room_id": room, "user": "bob"}),
    )
    .await;
    ok(&app, &bob, "/api/rooms/join", json!({"room_id": room})).await;
    ok(
        &app,
        &ann,
        "/api/rooms/ban",
        json!({"room_id": room, "user": "cat"}),
    )
    .await;
    // Admin + member: the admin leaves and the room terminates.
    let left = ok(&app, &ann, "/api/rooms/leave", json!({"room_id": room})).await;
    assert_eq!(left["terminated"], true);

    // Those who were in it hear that it ended.
    for p in [&ann, &bob] {
        call(&app, p, "/api/rooms/get", json!({"room_id": room}))
            .await
            .assert_error(StatusCode::GONE, "room_terminated");
    }
    // The banned and strangers learn nothing: it is as if it never existed.
    for p in [&cat, &dan] {
        for (path, body) in [
            ("/api/rooms/get", json!({"room_id": room})),
            ("/api/rooms/join", json!({"room_id": room})),
            ("/api/invites/accept", json!({"room_id": room})),
            ("/api/messages/history", json!({"room_id": room})),
            (
                "/api/messages/send",
                json!({"room_id": room, "client_id": "c", "body": "hi"}),
            ),
        ] {
            call(&app, p, path, body)
                .await
                .assert_error(StatusCode::NOT_FOUND, "room_not_found");
        }
    }
}

#[tokio::test]
async fn without_a_session_bad_input_still_gets_unauthenticated() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let long = "x".repeat(501);
    for (path, body) in [
        (
            "/api/rooms/kick",
            json!({"room_id": "r", "user_id": "u", "reason": long}),
        ),
        (
            "/api/rooms/ban",
            json!({"room_id": "r", "user": "u", "reason": long}),
        ),
        (
            "/api/rooms/update",
            json!({"room_id": "r", "join_policy": "nonsense"}),
        ),
        ("/api/rooms/create", json!({"name": ""})),
        (
            "/api/messages/send",
            json!({"room_id": "r", "client_id": "c", "body": ""}),
        ),
    ] {
        let r = app.post(path, body, None).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNAUTHORIZED, "unauthenticated"),
            "{path}: {}",
            r.text
        );
    }
}
