//! Message search and a message in its context (docs/RULES.md, "Search"), on both
//! databases: the same data gives the same hits, so every expectation here holds for SQLite
//! and PostgreSQL alike.

use migration::MigratorTrait;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{
    call, id, live::open_room, ok, person, say, test_config, Person, TestApp, TestDb,
};

/// A server that takes many sends quickly (the send limit has tests of its own).
async fn busy_app(db: &TestDb) -> TestApp {
    let mut config = test_config(db);
    config.send_burst = 10_000;
    TestApp::spawn_with(config).await
}

/// The bodies of one page of hits, newest first.
async fn find(app: &TestApp, who: &Person, query: &str) -> Vec<String> {
    bodies(&search(app, who, json!({ "query": query })).await)
}

async fn search(app: &TestApp, who: &Person, body: Value) -> Value {
    ok(app, who, "/api/messages/search", body).await
}

fn bodies(page: &Value) -> Vec<String> {
    page["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["message"]["body"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn words_phrases_prefixes_exclusions_and_filters_find_what_they_say() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (ann, bob) = (person(&app, "ann").await, person(&app, "bob").await);
    let lounge = open_room(&app, &ann, "Lounge", &[&bob]).await;
    let garden = open_room(&app, &bob, "Garden", &[&ann]).await;
    say(&app, &ann, &lounge, "Meet at the Café at noon").await;
    say(&app, &bob, &lounge, "the cafe is closed on mondays").await;
    say(&app, &bob, &garden, "deployment of the new build went fine").await;
    say(
        &app,
        &ann,
        &garden,
        "Deploying now, see https://example.com/log",
    )
    .await;
    say(&app, &ann, &lounge, "new build, old habits").await;
    say(&app, &bob, &lounge, "東京都に行きました 🎉🎉").await;
    say(&app, &ann, &lounge, "@bob the unbelievable quantity").await;
    say(&app, &ann, &lounge, "🎉🔥💯").await;

    // Words are all required; case and diacritics do not matter either way.
    assert_eq!(
        find(&app, &bob, "cafe").await,
        ["the cafe is closed on mondays", "Meet at the Café at noon"]
    );
    assert_eq!(
        find(&app, &bob, "CAFÉ noon").await,
        ["Meet at the Café at noon"]
    );
    // A phrase is its words in order, next to each other.
    assert_eq!(
        find(&app, &bob, "\"new build\"").await,
        [
            "new build, old habits",
            "deployment of the new build went fine"
        ]
    );
    assert!(find(&app, &bob, "\"build new\"").await.is_empty());
    // Exclusions, of a word and of a phrase.
    assert_eq!(
        find(&app, &bob, "build -old").await,
        ["deployment of the new build went fine"]
    );
    assert_eq!(
        find(&app, &bob, "build -\"old habits\"").await,
        ["deployment of the new build went fine"]
    );
    // Prefixes, and letters inside words.
    assert_eq!(
        find(&app, &bob, "deploy*").await,
        [
            "Deploying now, see https://example.com/log",
            "deployment of the new build went fine"
        ]
    );
    assert_eq!(
        find(&app, &bob, "*believ*").await,
        ["@bob the unbelievable quantity"]
    );
    assert_eq!(
        find(&app, &bob, "*ntity").await,
        ["@bob the unbelievable quantity"]
    );
    // Chinese, Japanese and Korean are found from three characters anywhere.
    assert_eq!(
        find(&app, &bob, "京都に").await,
        ["東京都に行きました 🎉🎉"]
    );
    // Filters, alone and together.
    assert_eq!(
        find(&app, &bob, "from:ann in:garden").await,
        ["Deploying now, see https://example.com/log"]
    );
    assert_eq!(
        find(&app, &bob, "has:link").await,
        ["Deploying now, see https://example.com/log"]
    );
    assert_eq!(
        find(&app, &bob, "mentions:me").await,
        ["@bob the unbelievable quantity"]
    );
    assert!(find(&app, &ann, "mentions:me").await.is_empty());
    assert_eq!(
        find(&app, &bob, "build from:ann").await,
        ["new build, old habits"]
    );
    assert!(find(&app, &bob, "from:nobody").await.is_empty());
    assert_eq!(find(&app, &bob, "cafe in:Lounge -noon").await.len(), 1);
    assert_eq!(find(&app, &bob, "after:2000-01-01 cafe").await.len(), 2);
    assert!(find(&app, &bob, "before:2000-01-01 cafe").await.is_empty());
    // The room picked in the client.
    let in_garden = search(&app, &bob, json!({"query": "build", "room_id": garden})).await;
    assert_eq!(
        bodies(&in_garden),
        ["deployment of the new build went fine"]
    );
    let hit = &in_garden["hits"][0];
    assert_eq!(hit["room"], json!({"id": garden, "name": "Garden"}));
    assert_eq!(hit["message"]["author"]["username"], "bob");
    // The snippet marks what matched, as structure, never as HTML.
    let parts: Vec<(String, bool)> = hit["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["text"].as_str().unwrap().to_owned(),
                p["hit"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        parts,
        [
            ("deployment of the new ".to_owned(), false),
            ("build".to_owned(), true),
            (" went fine".to_owned(), false)
        ]
    );
    // Emoji are not words: a search for them alone says what to do, and text that is all
    // emoji is stored and skipped without harm.
    call(&app, &bob, "/api/messages/search", json!({"query": "🎉"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query");
    assert_eq!(find(&app, &bob, "quantity").await.len(), 1);
}

#[tokio::test]
async fn the_index_follows_edits_and_deletes_in_the_same_request() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (ann, bob) = (person(&app, "ann").await, person(&app, "bob").await);
    let room = open_room(&app, &ann, "Lounge", &[&bob]).await;
    let m = id(&say(&app, &ann, &room, "the first draft").await);
    ok(
        &app,
        &ann,
        "/api/messages/edit",
        json!({"message_id": m, "body": "the final version"}),
    )
    .await;
    assert!(find(&app, &bob, "draft").await.is_empty());
    assert_eq!(find(&app, &bob, "final").await, ["the final version"]);
    ok(&app, &ann, "/api/messages/delete", json!({"message_id": m})).await;
    assert!(find(&app, &bob, "final").await.is_empty());
    assert!(find(&app, &bob, "*ersio*").await.is_empty());
    assert!(find(&app, &bob, "from:ann").await.is_empty());
}

#[tokio::test]
async fn only_rooms_one_belongs_to_now_are_searched() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (ann, bob, cat) = (
        person(&app, "ann").await,
        person(&app, "bob").await,
        person(&app, "cat").await,
    );
    let kicked = open_room(&app, &ann, "Kicked", &[&bob, &cat]).await;
    let banned = open_room(&app, &ann, "Banned", &[&bob, &cat]).await;
    let left = open_room(&app, &ann, "Left", &[&bob, &cat]).await;
    let ended = open_room(&app, &ann, "Ended", &[&bob]).await;
    let private = ok(
        &app,
        &ann,
        "/api/rooms/create",
        json!({"name": "Private", "join_policy": "invite"}),
    )
    .await["room"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for room in [&kicked, &banned, &left, &ended, &private] {
        say(&app, &ann, room, "secret plans").await;
    }
    assert_eq!(find(&app, &bob, "secret").await.len(), 4);
    assert_eq!(find(&app, &cat, "secret").await.len(), 3);

    let user = |room: &str, who: &Person| json!({"room_id": room, "user_id": who.id});
    ok(&app, &ann, "/api/rooms/kick", user(&kicked, &bob)).await;
    assert_eq!(find(&app, &bob, "secret").await.len(), 3);
    ok(
        &app,
        &ann,
        "/api/rooms/ban",
        json!({"room_id": banned, "user": bob.id}),
    )
    .await;
    assert_eq!(find(&app, &bob, "secret").await.len(), 2);
    ok(&app, &bob, "/api/rooms/leave", json!({"room_id": left})).await;
    assert_eq!(find(&app, &bob, "secret").await.len(), 1);
    // The owner leaves, bob is the one left: the room terminates and no one finds it.
    let gone = ok(&app, &ann, "/api/rooms/leave", json!({"room_id": ended})).await;
    assert_eq!(gone["terminated"], true);
    assert!(find(&app, &bob, "secret").await.is_empty());
    // Cat still has the rooms she is in; the owner the ones she did not leave.
    assert_eq!(find(&app, &cat, "secret").await.len(), 3);
    assert_eq!(find(&app, &ann, "secret").await.len(), 4);
    // Asking about a room one is not in says so, and finds nothing there.
    let r = call(
        &app,
        &bob,
        "/api/messages/search",
        json!({"query": "secret", "room_id": private}),
    )
    .await;
    assert!(r.status.is_client_error(), "{}", r.text);
    assert!(bodies(&search(&app, &bob, json!({"query": "secret in:private"})).await).is_empty());
}

#[tokio::test]
async fn hostile_queries_get_results_or_invalid_query_never_a_500() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let room = open_room(&app, &ann, "Lounge", &[]).await;
    say(
        &app,
        &ann,
        &room,
        "near the end, a 'quoted' \"word\" and 100% of_it",
    )
    .await;
    let long = "x".repeat(10_000);
    let many = "w ".repeat(40);
    let hostile = [
        "\"unbalanced",
        "NEAR(a b)",
        "*",
        "**",
        ":",
        "a\u{0}b",
        &long,
        &many,
        "'; DROP TABLE messages; --",
        "\" OR 1=1 --",
        "word' OR '1'='1",
        "%",
        "_",
        "a OR b",
        "NOT near",
        "near AND end",
        "{col}: near",
        "^near",
        "near:*",
        "-",
        "--",
        "-\"\"",
        "\"\"",
        "*a*",
        "in:",
        "from:",
        "has:everything",
        "before:2026-13-45",
        "after:2027-01-01 before:2026-01-01",
        "100%",
        "of_it",
        "'quoted'",
        "!near & end",
        "near <-> end",
        "near:*&end",
        "\\",
        "$1",
        "?",
        "🎉*",
        "*🎉*",
        "\u{202E}near",
    ];
    // And a generated corpus: every short string over the query language's own symbols.
    let symbols = [
        "\"",
        "*",
        "-",
        ":",
        "(",
        ")",
        "'",
        "%",
        "a",
        " ",
        "in",
        "é",
        "東京都",
        "\\",
    ];
    let mut generated = Vec::new();
    for a in symbols {
        for b in symbols {
            for c in symbols {
                generated.push(format!("{a}{b}{c}"));
            }
        }
    }
    for q in hostile.iter().map(|s| s.to_string()).chain(generated) {
        let r = call(&app, &ann, "/api/messages/search", json!({"query": q})).await;
        match r.status {
            StatusCode::OK => assert!(r.body["hits"].is_array(), "{q:?}: {}", r.text),
            StatusCode::BAD_REQUEST => {
                assert_eq!(r.code(), "invalid_query", "{q:?}: {}", r.text);
                assert!(r.body["message"].as_str().is_some_and(|m| m.ends_with('.')));
            }
            other => panic!("{q:?} gave {other}: {}", r.text),
        }
    }
    // A word longer than any index holds is stored and found from inside the text.
    say(
        &app,
        &ann,
        &room,
        &format!("long {} word", "y".repeat(3900)),
    )
    .await;
    assert_eq!(find(&app, &ann, &"y".repeat(70)).await.len(), 1);
    assert_eq!(
        find(&app, &ann, &format!("\"long {}\"", "y".repeat(100)))
            .await
            .len(),
        0
    );
    assert_eq!(find(&app, &ann, "long word").await.len(), 1);
    // What the punctuation held is still found as words.
    assert_eq!(find(&app, &ann, "of_it").await.len(), 1);
    assert_eq!(find(&app, &ann, "'quoted'").await.len(), 1);
    assert_eq!(find(&app, &ann, "100%").await.len(), 1);
    // Wrong types and bad fields get their codes too.
    for (body, code) in [
        (json!({"query": 5}), "invalid_input"),
        (json!({}), "invalid_input"),
        (json!({"query": "near", "limit": "x"}), "invalid_input"),
        (
            json!({"query": "near", "cursor": "garbage"}),
            "invalid_input",
        ),
        (
            json!({"query": "near", "order": "loudest"}),
            "invalid_input",
        ),
        (json!({"query": "   "}), "invalid_query"),
    ] {
        let r = call(&app, &ann, "/api/messages/search", body.clone()).await;
        r.assert_error(StatusCode::BAD_REQUEST, code);
    }
    let anonymous = app
        .post("/api/messages/search", json!({"query": "near"}), None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn walking_every_page_returns_each_hit_once_while_messages_arrive() {
    let db = TestDb::new().await;
    let app = busy_app(&db).await;
    let ann = person(&app, "ann").await;
    let room = open_room(&app, &ann, "Lounge", &[]).await;
    for n in 0..23 {
        let extra = if n % 3 == 0 { " ping ping ping" } else { "" };
        say(
            &app,
            &ann,
            &room,
            &format!("ping {n}{extra} and more words here"),
        )
        .await;
    }
    let mut before_best = Vec::new();
    for order in ["newest", "best"] {
        if order == "best" {
            let all = search(&app, &ann, json!({"query": "ping", "limit": 50})).await;
            before_best = all["hits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| id(&h["message"]))
                .collect();
            assert_eq!(before_best.len(), 28);
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = search(
                &app,
                &ann,
                json!({"query": "ping", "limit": 5, "cursor": cursor, "order": order}),
            )
            .await;
            seen.extend(
                page["hits"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| id(&h["message"])),
            );
            pages += 1;
            // New messages arrive between pages: they are not in this walk.
            say(&app, &ann, &room, &format!("ping late {pages}")).await;
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "{order}: a hit came twice");
        if order == "newest" {
            assert_eq!((pages, seen.len()), (5, 23));
            let ids: Vec<i64> = seen.iter().map(|s| s.parse().unwrap()).collect();
            assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
        } else {
            // This walk began after the first one's 5 late pings: 28 hits. A message that
            // arrives during it is shown if it ranks below where the walk stands.
            let late = seen.len() - 28;
            assert!(
                late <= pages && pages >= 6,
                "{pages} pages, {} hits",
                seen.len()
            );
            for earlier in &before_best {
                assert!(seen.contains(earlier), "{earlier} was missed");
            }
        }
    }
    // Best match: the messages that are most of what was asked for come first.
    let best = search(
        &app,
        &ann,
        json!({"query": "ping", "order": "best", "limit": 3}),
    )
    .await;
    for body in bodies(&best) {
        assert!(body.contains("ping ping ping"), "{body}");
    }
    // Limits are clamped to 1–50 (there are 34 pings now).
    for (limit, count) in [(0, 1), (34, 34), (1000, 34)] {
        let page = search(&app, &ann, json!({"query": "ping", "limit": limit})).await;
        assert_eq!(page["hits"].as_array().unwrap().len(), count, "{limit}");
    }
    for n in 0..20 {
        say(&app, &ann, &room, &format!("ping extra {n}")).await;
    }
    let page = search(&app, &ann, json!({"query": "ping", "limit": 1000})).await;
    assert_eq!(page["hits"].as_array().unwrap().len(), 50);
}

#[tokio::test]
async fn around_shows_a_message_in_context_to_members_only() {
    let db = TestDb::new().await;
    let app = busy_app(&db).await;
    let (ann, bob, cat) = (
        person(&app, "ann").await,
        person(&app, "bob").await,
        person(&app, "cat").await,
    );
    let room = open_room(&app, &ann, "Lounge", &[&bob]).await;
    let mut ids = Vec::new();
    for n in 0..30 {
        ids.push(id(&say(&app, &ann, &room, &format!("line {n}")).await));
    }
    let around = ok(
        &app,
        &bob,
        "/api/messages/around",
        json!({"message_id": ids[10], "count": 3}),
    )
    .await;
    let got: Vec<String> = around["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        got,
        ["line 7", "line 8", "line 9", "line 10", "line 11", "line 12", "line 13"]
    );
    assert_eq!(
        (around["has_older"].as_bool(), around["has_newer"].as_bool()),
        (Some(true), Some(true))
    );
    // At the edges, and the default count (25 each way).
    let last = ok(
        &app,
        &bob,
        "/api/messages/around",
        json!({"message_id": ids[29]}),
    )
    .await;
    let messages = last["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 26);
    assert_eq!(messages[25]["body"], "line 29");
    assert_eq!(last["has_newer"], false);
    assert_eq!(last["has_older"], true);
    // Not a member, a missing message, a bad id.
    call(
        &app,
        &cat,
        "/api/messages/around",
        json!({"message_id": ids[3]}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "message_not_found");
    call(
        &app,
        &bob,
        "/api/messages/around",
        json!({"message_id": "99999999"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "message_not_found");
    call(
        &app,
        &bob,
        "/api/messages/around",
        json!({"message_id": "x"}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_input");
}

#[tokio::test]
async fn searching_is_rate_limited_per_person() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    config.limits.rate_message_search = "2/1m".parse().unwrap();
    let app = TestApp::spawn_with(config).await;
    let (ann, bob) = (person(&app, "ann").await, person(&app, "bob").await);
    for _ in 0..2 {
        search(&app, &ann, json!({"query": "x"})).await;
    }
    let r = call(&app, &ann, "/api/messages/search", json!({"query": "x"})).await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    // A refused query costs nothing; another person has their own allowance.
    search(&app, &bob, json!({"query": "x"})).await;
}

#[tokio::test]
async fn messages_stored_before_search_existed_are_indexed_by_the_migration() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let ann = person(&app, "ann").await;
    let room = open_room(&app, &ann, "Lounge", &[]).await;
    say(&app, &ann, &room, "an old Crème brûlée").await;
    app.stop().await;
    // Back to the schema before search (undoing the moderation tools and reports that came
    // after it too), and up again as an upgrade would.
    let conn = db.connect().await;
    migration::Migrator::down(&conn, Some(3)).await.unwrap();
    drop(conn);
    let app = TestApp::spawn(&db).await;
    assert_eq!(find(&app, &ann, "creme").await, ["an old Crème brûlée"]);
    assert_eq!(find(&app, &ann, "*rule*").await, ["an old Crème brûlée"]);
}
