//! Several instances over Redis (README, "Running several instances"): two `parlor`
//! processes on two ports and one PostgreSQL database, a `redis-server` of the test's own
//! between them, and real sockets on each. Whatever the suite's database, these run on
//! PostgreSQL: that is what several instances share.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::common::{
    live::{catch_up, close_of, closed, connect, connect_with_token, next_of, open_room, send, Ws},
    ok, person,
    process::{free_port, Parlor, RedisServer},
    Person, TestApp, TestDb, PASSWORD,
};
use domain::wire::Close;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// Two instances over one database and one Redis.
struct Pair {
    /// Kept for the instances' lifetime (dropped with the pair).
    _db: TestDb,
    redis: RedisServer,
    /// The instances' handles, in the order started (`apps[i]` talks to `nodes[i]`).
    apps: Vec<TestApp>,
    nodes: Vec<Parlor>,
    _logs: tempfile::TempDir,
}

impl Pair {
    async fn start(extra: &[&str]) -> Self {
        let db = TestDb::postgres().await;
        let redis = RedisServer::start().await;
        let logs = tempfile::tempdir().unwrap();
        let url = redis.url();
        let mut args = vec!["--redis-url", url.as_str()];
        if !extra.contains(&"--auth-rate-burst") {
            // Tests sign many people up from one address.
            args.extend(["--auth-rate-burst", "1000"]);
        }
        args.extend_from_slice(extra);
        let mut nodes = Vec::new();
        let mut apps = Vec::new();
        for i in 0..2 {
            let node = Parlor::start(&db, logs.path().join(format!("parlor-{i}.log")), &args).await;
            apps.push(node.app(&db).await);
            nodes.push(node);
        }
        let pair = Self {
            _db: db,
            redis,
            apps,
            nodes,
            _logs: logs,
        };
        pair.wait_readyz("ready").await;
        pair
    }

    /// Waits until both instances' `/readyz` answers 200 with `body`.
    async fn wait_readyz(&self, body: &str) {
        for app in &self.apps {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
            loop {
                let r = app.http.get(app.url("/readyz")).send().await;
                if let Ok(r) = r {
                    let status = r.status();
                    if status == 200 && r.text().await.unwrap_or_default() == body {
                        break;
                    }
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{} did not answer 200 \"{body}\" within 15 s",
                    app.base
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

fn text(room: &str, client_id: &str, body: &str) -> Value {
    json!({"type": "send", "room_id": room, "client_id": client_id, "body": body})
}

/// Text message bodies of `room` that arrive on `ws` within `wait` (then it is quiet).
async fn bodies(ws: &mut Ws, room: &str, wait: Duration) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(wait, ws.next()).await {
        let Message::Text(t) = msg else { continue };
        let v: Value = serde_json::from_str(t.as_str()).unwrap();
        if v["type"] == "message"
            && v["message"]["room_id"] == room
            && v["message"]["kind"] == "text"
        {
            out.push(v["message"]["body"].as_str().unwrap().to_owned());
        }
    }
    out
}

/// Waits for a presence frame of `room` naming exactly `names`.
async fn wait_presence(ws: &mut Ws, room: &str, names: &[&str]) {
    loop {
        let p = next_of(ws, &["presence"]).await;
        if p["room_id"] != room {
            continue;
        }
        let online: Vec<&str> = p["online"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap())
            .collect();
        if online == names {
            assert_eq!(p["online_count"], names.len());
            return;
        }
    }
}

#[tokio::test]
async fn messages_typing_and_presence_cross_both_ways_and_arrive_once() {
    let pair = Pair::start(&[]).await;
    let (one, two) = (&pair.apps[0], &pair.apps[1]);
    let ann = person(one, "ann").await;
    let bob = person(two, "bob").await;
    let room = open_room(one, &ann, "Both", &[&bob]).await;
    let mut a = connect(one, &ann).await;
    let mut a_tab = connect(one, &ann).await;
    let mut b = connect(two, &bob).await;

    // Each sees the other online, though each socket is on another instance.
    wait_presence(&mut a, &room, &["ann", "bob"]).await;
    wait_presence(&mut b, &room, &["ann", "bob"]).await;

    for i in 0..5 {
        send(&mut a, text(&room, &format!("a{i}"), &format!("one {i}"))).await;
        send(&mut b, text(&room, &format!("b{i}"), &format!("two {i}"))).await;
    }
    let from_one: Vec<String> = (0..5).map(|i| format!("one {i}")).collect();
    let from_two: Vec<String> = (0..5).map(|i| format!("two {i}")).collect();
    let quiet = Duration::from_millis(1500);
    // Everyone gets every message of the other side once, in the order sent; the sender's
    // socket gets acks, not its own messages; ann's other tab gets all ten once.
    let at_b = bodies(&mut b, &room, quiet).await;
    assert_eq!(at_b, from_one, "bob, on the other instance");
    let at_a = bodies(&mut a, &room, quiet).await;
    assert_eq!(at_a, from_two, "ann's sending socket");
    let mut at_tab = bodies(&mut a_tab, &room, quiet).await;
    at_tab.sort();
    let mut all: Vec<String> = from_one.iter().chain(&from_two).cloned().collect();
    all.sort();
    assert_eq!(at_tab, all, "ann's other tab, on the sender's instance");

    // Typing crosses both ways, naming the typist.
    send(&mut a, json!({"type": "typing", "room_id": room})).await;
    let t = next_of(&mut b, &["typing"]).await;
    assert_eq!(t["user"]["username"], "ann");
    send(&mut b, json!({"type": "typing", "room_id": room})).await;
    let t = next_of(&mut a, &["typing"]).await;
    assert_eq!(t["user"]["username"], "bob");

    // Bob's socket closes on instance two: ann, on instance one, sees him go.
    drop(b);
    wait_presence(&mut a, &room, &["ann"]).await;
}

/// Kicks, notifications and terminations made through `from` reach sockets on `to`.
async fn moderation_crosses(pair: &Pair, from: usize, to: usize) {
    let (here, there) = (&pair.apps[from], &pair.apps[to]);
    let tag = format!("{from}{to}");
    let ann = person(here, &format!("ann{tag}")).await;
    let bob = person(there, &format!("bob{tag}")).await;
    let cat = person(there, &format!("cat{tag}")).await;
    let room = open_room(here, &ann, &format!("Mod {tag}"), &[&bob, &cat]).await;
    let mut a = connect(here, &ann).await;
    let mut b = connect(there, &bob).await;
    let mut c = connect(there, &cat).await;

    ok(
        here,
        &ann,
        "/api/rooms/kick",
        json!({"room_id": room, "user_id": bob.id}),
    )
    .await;
    let f = next_of(&mut b, &["member"]).await;
    assert_eq!(
        (f["event"].as_str(), f["user"]["id"].as_str()),
        (Some("kicked"), Some(bob.id.as_str()))
    );
    let n = next_of(&mut b, &["notification"]).await;
    assert_eq!(n["notification"]["kind"], "kicked");
    // From then on nothing of the room reaches bob's socket on the other instance.
    send(&mut a, text(&room, "after-kick", "bob is gone")).await;
    next_of(&mut a, &["ack"]).await;
    let at_c = bodies(&mut c, &room, Duration::from_millis(1000)).await;
    assert_eq!(at_c, ["bob is gone"]);
    let at_b = bodies(&mut b, &room, Duration::from_millis(300)).await;
    assert!(at_b.is_empty(), "a kicked socket still got {at_b:?}");

    // Ann leaves: cat is the one non-admin left, the room terminates, and cat is told.
    ok(here, &ann, "/api/rooms/leave", json!({"room_id": room})).await;
    let t = next_of(&mut c, &["room_terminated"]).await;
    assert_eq!(t["room_id"], room.as_str());
}

#[tokio::test]
async fn kicks_notifications_and_terminations_cross_both_ways() {
    let pair = Pair::start(&[]).await;
    moderation_crosses(&pair, 0, 1).await;
    moderation_crosses(&pair, 1, 0).await;
}

#[tokio::test]
async fn logout_on_one_instance_closes_that_sessions_sockets_on_the_other() {
    let pair = Pair::start(&[]).await;
    for (from, to) in [(0, 1), (1, 0)] {
        let (here, there) = (&pair.apps[from], &pair.apps[to]);
        let name = format!("dan{from}{to}");
        let dan = person(there, &name).await;
        // A second session of the same account, whose socket must stay open.
        let r = there
            .post(
                "/api/auth/login",
                json!({"username": name, "password": PASSWORD}),
                None,
            )
            .await;
        let phone = Person {
            id: dan.id.clone(),
            cookie: r.cookie().unwrap(),
        };
        let mut laptop_ws = connect(there, &dan).await;
        let mut phone_ws = connect(there, &phone).await;
        ok(here, &dan, "/api/auth/logout", json!({})).await;
        assert_eq!(
            closed(&mut laptop_ws).await,
            close_of(Close::SignedOut),
            "logout through instance {from} closes the socket on instance {to}"
        );
        // Instance `to` read that session for the socket (its cache holds it): it must
        // refuse it now all the same, and keep the other.
        for (who, status) in [
            (&dan, reqwest::StatusCode::UNAUTHORIZED),
            (&phone, reqwest::StatusCode::OK),
        ] {
            let r = there
                .post("/api/auth/me", json!({}), Some(&who.cookie))
                .await;
            assert_eq!(r.status, status);
        }
        assert!(crate::common::live::still_open(&mut phone_ws).await);
    }
}

#[tokio::test]
async fn revoking_a_token_on_one_instance_closes_its_socket_on_the_other() {
    let pair = Pair::start(&[]).await;
    let (here, there) = (&pair.apps[0], &pair.apps[1]);
    let tia = person(here, "tia").await;
    let made = |name: &'static str| {
        let (here, tia) = (here, tia.clone());
        async move {
            ok(
                here,
                &tia,
                "/api/tokens/create",
                json!({"name": name, "scope": "read"}),
            )
            .await
        }
    };
    let (gone, kept) = (made("gone").await, made("kept").await);
    let secret = |t: &Value| t["token"].as_str().unwrap().to_owned();
    let mut gone_ws = connect_with_token(there, &secret(&gone)).await;
    let mut kept_ws = connect_with_token(there, &secret(&kept)).await;
    ok(here, &tia, "/api/tokens/revoke", json!({"id": gone["id"]})).await;
    assert_eq!(
        closed(&mut gone_ws).await,
        close_of(Close::SignedOut),
        "a revoke on instance 0 closes the token's socket on instance 1"
    );
    assert!(crate::common::live::still_open(&mut kept_ws).await);
    let r = there
        .http
        .post(there.url("/api/rooms/mine"))
        .bearer_auth(secret(&gone))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn after_redis_restarts_delivery_resumes_and_catch_up_returns_every_message_once() {
    let mut pair = Pair::start(&["--send-burst", "100"]).await;
    let (one, two) = (&pair.apps[0], &pair.apps[1]);
    let ann = person(one, "ann").await;
    let bob = person(two, "bob").await;
    let room = open_room(one, &ann, "Outage", &[&bob]).await;
    let mut a = connect(one, &ann).await;
    let mut b = connect(two, &bob).await;
    send(&mut a, text(&room, "m0", "before")).await;
    next_of(&mut a, &["ack"]).await;
    let seen = next_of(&mut b, &["message"]).await;
    assert_eq!(seen["message"]["body"], "before");
    let last_seen = seen["message"]["id"].as_str().unwrap().to_owned();

    pair.redis.stop();
    // Both keep serving their own sockets, ready but degraded.
    pair.wait_readyz("ready; redis degraded").await;
    let during: Vec<String> = (1..=5).map(|i| format!("during {i}")).collect();
    for (i, body) in during.iter().enumerate() {
        send(&mut a, text(&room, &format!("m{}", i + 1), body)).await;
        assert_eq!(next_of(&mut a, &["ack"]).await["message"]["body"], *body);
    }

    pair.redis.restart().await;
    // Each instance resubscribes and has its clients resync: they missed what crossed.
    assert_eq!(closed(&mut b).await.0, Close::Resync.code());
    assert_eq!(closed(&mut a).await.0, Close::Resync.code());
    pair.wait_readyz("ready").await;
    let (one, two) = (&pair.apps[0], &pair.apps[1]);
    let mut b = connect(two, &bob).await;
    let mut a = connect(one, &ann).await;
    // Catch-up returns every message stored meanwhile, once each, in order.
    assert_eq!(catch_up(two, &bob, &room, &last_seen).await, during);
    // And live delivery crosses again.
    send(&mut a, text(&room, "m6", "after")).await;
    assert_eq!(
        bodies(&mut b, &room, Duration::from_millis(1500)).await,
        ["after"]
    );
}

#[tokio::test]
async fn one_instance_killed_while_sending_leaves_the_other_serving_and_loses_nothing_acked() {
    let mut pair = Pair::start(&["--send-burst", "1000000", "--send-period-ms", "1"]).await;
    let (one, two) = (&pair.apps[0], &pair.apps[1]);
    let ann = person(one, "ann").await;
    let bob = person(two, "bob").await;
    let room = open_room(one, &ann, "Crash", &[&bob]).await;
    let a = connect(one, &ann).await;
    let mut b = connect(two, &bob).await;

    // Ann sends without waiting, 16 at a time, until her instance dies under her.
    let acked: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let sender = tokio::spawn({
        let (acked, room) = (acked.clone(), room.clone());
        async move {
            let (mut sink, mut stream) = a.split();
            let mut next = 0u64;
            let mut in_flight = 0;
            loop {
                while in_flight < 16 {
                    let frame = text(&room, &format!("s{next}"), &format!("storm {next}"));
                    if sink.send(Message::text(frame.to_string())).await.is_err() {
                        return;
                    }
                    next += 1;
                    in_flight += 1;
                }
                match stream.next().await {
                    Some(Ok(Message::Text(t))) => {
                        let v: Value = serde_json::from_str(t.as_str()).unwrap();
                        if v["type"] == "ack" {
                            in_flight -= 1;
                            acked.lock().unwrap().insert(
                                v["client_id"].as_str().unwrap().to_owned(),
                                v["message"]["id"].as_str().unwrap().to_owned(),
                            );
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => return,
                }
            }
        }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while acked.lock().unwrap().len() < 200 {
        assert!(tokio::time::Instant::now() < deadline, "too few acks");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    pair.nodes[0].kill();
    tokio::time::timeout(Duration::from_secs(10), sender)
        .await
        .expect("the sender sees its instance die")
        .unwrap();

    // The other instance keeps serving: its socket stays open, and bob can post.
    assert!(crate::common::live::still_open(&mut b).await);
    send(&mut b, text(&room, "bob-after", "still here")).await;
    assert_eq!(
        next_of(&mut b, &["ack"]).await["message"]["body"],
        "still here"
    );

    // Every acked send is stored exactly once, with the id its ack gave.
    let acked = acked.lock().unwrap().clone();
    let mut stored: HashMap<String, Vec<String>> = HashMap::new();
    let mut after = "0".to_owned();
    loop {
        let r = ok(
            two,
            &bob,
            "/api/messages/since",
            json!({"room_id": room, "after": after}),
        )
        .await;
        let page = r["messages"].as_array().unwrap();
        let Some(last) = page.last() else { break };
        after = last["id"].as_str().unwrap().to_owned();
        for m in page {
            if let Some(n) = m["body"].as_str().and_then(|b| b.strip_prefix("storm ")) {
                stored
                    .entry(format!("s{n}"))
                    .or_default()
                    .push(m["id"].as_str().unwrap().to_owned());
            }
        }
    }
    for (client_id, id) in &acked {
        assert_eq!(
            stored.get(client_id),
            Some(&vec![id.clone()]),
            "acked {client_id} is stored once as {id}"
        );
    }
    assert!(
        stored.values().all(|ids| ids.len() == 1),
        "a send stored twice"
    );
}

#[tokio::test]
async fn metrics_are_served_on_their_own_address_and_count_what_happened() {
    let db = TestDb::postgres().await;
    let redis = RedisServer::start().await;
    let logs = tempfile::tempdir().unwrap();
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let url = redis.url();
    let node = Parlor::start(
        &db,
        logs.path().join("parlor.log"),
        &["--redis-url", &url, "--metrics-addr", &metrics_addr],
    )
    .await;
    let app = node.app(&db).await;
    let ann = person(&app, "ann").await;
    let room = open_room(&app, &ann, "Counted", &[]).await;
    let mut a = connect(&app, &ann).await;
    send(&mut a, text(&room, "c1", "counted")).await;
    next_of(&mut a, &["ack"]).await;

    // Not on the public address.
    let public = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_ne!(public.status(), 200);
    let scrape_once = || async {
        reqwest::get(format!("http://{metrics_addr}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let value_in = |scrape: &str, name: &str| -> Option<f64> {
        scrape
            .lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))?
            .rsplit(' ')
            .next()?
            .parse()
            .ok()
    };
    // The relay to Redis runs beside the ack: scrape until it shows.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let scrape = loop {
        let scrape = scrape_once().await;
        if value_in(&scrape, "parlor_backplane_published_total").is_some_and(|n| n >= 1.0) {
            break scrape;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing published:\n{scrape}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let value = |name: &str| -> f64 {
        value_in(&scrape, name).unwrap_or_else(|| panic!("no {name} in:\n{scrape}"))
    };
    assert_eq!(value("parlor_sockets_open"), 1.0);
    assert!(value("parlor_messages_stored_total") >= 1.0);
    assert!(value("parlor_send_to_store_seconds_count") >= 1.0);
    assert!(value("parlor_commit_batch_size_count") >= 1.0);
    assert!(value("parlor_frames_delivered_total") >= 1.0);
    assert!(value("parlor_db_pool_connections") >= 1.0);
    assert_eq!(value("parlor_backplane_up"), 1.0);
    assert!(scrape.contains("parlor_send_to_store_seconds_bucket{le="));
}

#[tokio::test]
async fn the_send_rate_holds_across_a_users_sockets_on_both_instances() {
    // Five at once, and the next one a minute later.
    let pair = Pair::start(&["--send-burst", "5", "--send-period-ms", "60000"]).await;
    let (one, two) = (&pair.apps[0], &pair.apps[1]);
    let ann = person(one, "ann").await;
    let room = open_room(one, &ann, "Paced", &[]).await;
    let mut here = connect(one, &ann).await;
    let mut there = connect(two, &ann).await;
    for i in 0..5 {
        send(&mut here, text(&room, &format!("h{i}"), "allowed")).await;
        assert_eq!(next_of(&mut here, &["ack", "error"]).await["type"], "ack");
    }
    // Her socket on the other instance draws on the same allowance.
    send(&mut there, text(&room, "t0", "one too many")).await;
    let refused = next_of(&mut there, &["ack", "error"]).await;
    assert_eq!(refused["code"], "rate_limited", "{refused}");
    assert!(refused["retry_after_ms"].as_u64().unwrap() > 1000);
}

async fn login(app: &TestApp, name: &str, password: &str) -> crate::common::Reply {
    let body = json!({"username": name, "password": password});
    app.post("/api/auth/login", body, None).await
}

#[tokio::test]
async fn login_limits_hold_across_instances_per_address_and_per_username() {
    let pair = Pair::start(&["--auth-rate-burst", "12", "--auth-rate-period-ms", "600000"]).await;
    let (one, two) = (&pair.apps[0], &pair.apps[1]);
    // Per username: seven wrong passwords on instance one, each once its wait has passed
    // (three free, then 250 ms, 500 ms, 1 s and 2 s of lock-out)...
    person(one, "eve").await;
    for wait_ms in [0, 0, 0, 0, 300, 600, 1100] {
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        let r = login(one, "eve", "wrong guess!").await;
        assert_eq!(r.code(), "invalid_credentials", "{}", r.text);
    }
    // ...lock her name for two seconds on instance two as well, right password or not.
    let r = login(two, "eve", PASSWORD).await;
    assert_eq!(r.code(), "rate_limited", "{}", r.text);

    // Per address: twelve attempts in all, counted for both instances together (the sign-up
    // has a budget of its own). Eve's eight so far and four more, two on each, pass...
    let mut answers = Vec::new();
    for i in 0..4 {
        let app = if i % 2 == 0 { one } else { two };
        answers.push(
            login(app, &format!("nobody{i}"), "whatever it is")
                .await
                .code()
                .to_owned(),
        );
    }
    assert_eq!(answers, ["invalid_credentials"; 4]);
    // ...and the next, on either, is refused for the address.
    for app in [one, two] {
        let r = login(app, "nobody9", "whatever it is").await;
        assert_eq!(r.status, 429, "{}", r.text);
        assert_eq!(r.code(), "rate_limited");
    }
}

#[tokio::test]
async fn edits_and_deletes_reach_sockets_on_the_other_instance() {
    let pair = Pair::start(&[]).await;
    let (one, two) = (&pair.apps[0], &pair.apps[1]);
    let ann = person(one, "ann").await;
    let bob = person(two, "bob").await;
    let room = open_room(one, &ann, "Both", &[&bob]).await;
    let mut a = connect(one, &ann).await;
    let mut b = connect(two, &bob).await;
    send(&mut a, text(&room, "c1", "helo")).await;
    let acked = next_of(&mut a, &["ack"]).await;
    let mid = acked["message"]["id"].as_str().unwrap().to_owned();
    next_of(&mut b, &["message"]).await;

    send(
        &mut a,
        json!({"type": "edit", "message_id": mid, "body": "hello"}),
    )
    .await;
    for ws in [&mut a, &mut b] {
        let f = next_of(ws, &["message_updated"]).await;
        assert_eq!(f["message"]["body"], "hello");
    }
    // Deleted over HTTP on the second instance: the first instance's socket hears it.
    ok(
        two,
        &ann,
        "/api/messages/delete",
        json!({"message_id": mid}),
    )
    .await;
    let f = next_of(&mut a, &["message_updated"]).await;
    assert_eq!(f["message"]["id"], mid.as_str());
    assert_eq!(f["message"]["body"], Value::Null);
    assert_eq!(f["message"]["deleted"]["by"]["username"], "ann");
}

#[tokio::test]
async fn read_positions_and_mentions_reach_sockets_on_the_other_instance() {
    let pair = Pair::start(&[]).await;
    let (one, two) = (&pair.apps[0], &pair.apps[1]);
    let ann = person(one, "ann").await;
    let bob = person(two, "bob").await;
    let room = open_room(one, &ann, "Both", &[&bob]).await;
    let mut bob_here = connect(one, &bob).await;
    let mut bob_there = connect(two, &bob).await;
    let mut a = connect(one, &ann).await;
    send(&mut a, text(&room, "c1", "over to you @bob")).await;
    let mid = next_of(&mut a, &["ack"]).await["message"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The mention's notification reaches bob's socket on the other instance.
    let n = next_of(&mut bob_there, &["notification"]).await;
    assert_eq!(n["notification"]["kind"], "mention");
    assert_eq!(n["notification"]["message_id"], mid.as_str());
    // Read on the first instance: both of bob's sockets hear it.
    send(
        &mut bob_here,
        json!({"type": "read", "room_id": room, "message_id": mid}),
    )
    .await;
    for ws in [&mut bob_here, &mut bob_there] {
        let f = next_of(ws, &["read"]).await;
        assert_eq!(f["message_id"], mid.as_str());
        assert_eq!(f["room_id"], room.as_str());
    }
}

#[tokio::test]
async fn a_timeout_and_slow_mode_set_on_one_instance_bind_on_the_other_at_once() {
    let pair = Pair::start(&[]).await;
    let (one, two) = (&pair.apps[0], &pair.apps[1]);
    let ann = person(one, "ann").await;
    let bob = person(two, "bob").await;
    let room = open_room(one, &ann, "Quiet", &[&bob]).await;
    let mut b = connect(two, &bob).await;
    ok(
        one,
        &ann,
        "/api/rooms/mute",
        json!({"room_id": room, "user": "bob", "minutes": 5}),
    )
    .await;
    let f = next_of(&mut b, &["member"]).await;
    assert_eq!(
        (f["event"].as_str(), f["until"].is_string()),
        (Some("muted"), true)
    );
    send(&mut b, text(&room, "b1", "on the other instance")).await;
    let err = next_of(&mut b, &["error"]).await;
    assert_eq!(err["code"], "muted");
    // Lifted on the second instance; slow mode set on the first binds there too.
    ok(
        two,
        &ann,
        "/api/rooms/unmute",
        json!({"room_id": room, "user_id": bob.id}),
    )
    .await;
    ok(
        one,
        &ann,
        "/api/rooms/update",
        json!({"room_id": room, "slow_mode_seconds": 600}),
    )
    .await;
    let f = next_of(&mut b, &["room_updated"]).await;
    assert_eq!(f["room"]["slow_mode_seconds"], 600);
    send(&mut b, text(&room, "b2", "one")).await;
    next_of(&mut b, &["ack"]).await;
    send(&mut b, text(&room, "b3", "two")).await;
    let err = next_of(&mut b, &["error"]).await;
    assert_eq!(err["code"], "slow_mode");
}

#[tokio::test]
async fn a_report_filed_on_one_instance_reaches_an_admins_socket_on_the_other_at_once() {
    let pair = Pair::start(&[]).await;
    let (one, two) = (&pair.apps[0], &pair.apps[1]);
    let ann = person(one, "ann").await;
    let bob = person(two, "bob").await;
    let cat = person(one, "cat").await;
    let room = open_room(one, &ann, "Watched", &[&bob, &cat]).await;
    let mut ann_there = connect(two, &ann).await;
    let mut ann_here = connect(one, &ann).await;
    let sent = ok(
        one,
        &bob,
        "/api/messages/send",
        json!({"room_id": room, "client_id": "b1", "body": "cheap watches"}),
    )
    .await;
    let mid = sent["message"]["id"].as_str().unwrap().to_owned();
    let filed = ok(
        one,
        &cat,
        "/api/messages/report",
        json!({"message_id": mid, "reason": "spam"}),
    )
    .await;
    // The admin's socket on the other instance hears of it at once: the notification and
    // the badge.
    let n = next_of(&mut ann_there, &["notification"]).await;
    assert_eq!(n["notification"]["kind"], "report");
    assert_eq!(n["notification"]["message_id"], mid.as_str());
    let badge = next_of(&mut ann_there, &["reports"]).await;
    assert_eq!(
        badge,
        json!({"type": "reports", "room_id": room, "open": 1})
    );
    // Resolved on the second instance: the badge on the first counts down.
    next_of(&mut ann_here, &["reports"]).await;
    ok(
        two,
        &ann,
        "/api/rooms/resolve",
        json!({"report_id": filed["report_id"], "action": "delete", "reason": "ads"}),
    )
    .await;
    let badge = next_of(&mut ann_here, &["reports"]).await;
    assert_eq!(badge["open"], 0);
}
