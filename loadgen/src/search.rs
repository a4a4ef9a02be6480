//! S7 (docs/BENCHMARKS.md): message search at a million messages.
//!
//! `seed-search` fills a Parlor server through its own API: `--users` people, `--rooms`
//! rooms of `--members` each, and `--messages` texts drawn from a list of common English
//! words by their frequency (Zipf), a few with a rare word in them; `s7searcher` is a member
//! of `--searcher-rooms` of the rooms. `search` then measures search latency for a set of
//! queries, alone and beside paced sends, and the sends' own latency without and with the
//! searches, all in one run.
//!
//!   loadgen seed-search --base http://127.0.0.1:3100 --messages 1000000
//!   loadgen search --base http://127.0.0.1:3100 --send-rate 1000 --secs 20

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{anyhow, Result};
use clap::Args;
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::{parlor_socket, post, Account};

/// The searcher's name, and every seeded account's password.
const SEARCHER: &str = "s7searcher";
const PASSWORD: &str = "load-generator";
/// The word one message in `RARE_EVERY` carries.
const RARE_WORD: &str = "zanzibar";
const RARE_EVERY: u64 = 10_000;

/// Common English words, most frequent first: texts are drawn from them by rank.
const WORDS: &str = "the of and to a in is it you that he was for on are with as I his they be \
at one have this from or had by hot word but what some we can out other were all there when up \
use your how said an each she which do their time if will way about many then them write would \
like so these her long make thing see him two has look more day could go come did number sound \
no most people my over know water than call first who may down side been now find any new work \
part take get place made live where after back little only round man year came show every good \
me give our under name very through just form sentence great think say help low line differ \
turn cause much mean before move right boy old too same tell does set three want air well also \
play small end put home read hand port large spell add even land here must big high such follow \
act why ask men change went light kind off need house picture try us again animal point mother \
world near build self earth father head stand own page should country found answer school grow \
study still learn plant cover food sun four between state keep eye never last let thought city \
tree cross farm hard start might story saw far sea draw left late run while press close night \
real life few north open seem together next white children begin got walk example ease paper \
group always music those both mark often letter until mile river car feet care second book \
carry took science eat room friend began idea fish mountain stop once base hear horse cut sure \
watch color face wood main enough plain girl usual young ready above ever red list though feel \
talk bird soon body dog family direct pose leave song measure door product black short numeral \
class wind question happen complete ship area half rock order fire south problem piece told \
knew pass since top whole king space heard best hour better true during hundred five remember \
step early hold west ground interest reach fast verb sing listen six table travel less morning \
ten simple several vowel toward war lay against pattern slow center love person money serve \
appear road map rain rule govern pull cold notice voice unit power town fine certain fly fall \
lead cry dark machine note wait plan figure star box noun field rest correct able pound done \
beauty drive stood contain front teach week final gave green oh quick develop ocean warm free \
minute strong special mind behind clear tail produce fact street inch multiply nothing course \
stay wheel full force blue object decide surface deep moon island foot system busy test record \
boat common gold possible plane stead dry wonder laugh thousand ago ran check game shape equate \
miss brought heat snow tire bring yes distant fill east paint language among deploy build \
release server client bug fix merge review branch commit test coffee lunch meeting";

/// A small, fast, seeded generator (xorshift64*): the same seed gives the same texts.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Texts of 4–20 words, each word drawn by rank with probability ∝ 1/rank (Zipf's law, as
/// words are used), the first capitalised, some with a comma, ended by a stop.
struct Texts {
    words: Vec<&'static str>,
    /// Cumulative weights, scaled to u64.
    cumulative: Vec<u64>,
    rng: Rng,
}

impl Texts {
    fn new(seed: u64) -> Self {
        let words: Vec<&str> = WORDS.split_whitespace().collect();
        let mut total = 0.0;
        let mut cumulative = Vec::with_capacity(words.len());
        for rank in 1..=words.len() {
            total += 1.0 / rank as f64;
            cumulative.push(total);
        }
        let cumulative = cumulative
            .iter()
            .map(|c| (c / total * u64::MAX as f64) as u64)
            .collect();
        Self {
            words,
            cumulative,
            rng: Rng(seed | 1),
        }
    }

    fn word(&mut self) -> &'static str {
        let r = self.rng.next();
        let i = self.cumulative.partition_point(|c| *c < r);
        self.words[i.min(self.words.len() - 1)]
    }

    fn text(&mut self, n: u64) -> String {
        let count = 4 + self.rng.below(17);
        let mut out = String::new();
        for i in 0..count {
            let w = if n % RARE_EVERY == 7 && i == count / 2 {
                RARE_WORD
            } else {
                self.word()
            };
            if i == 0 {
                let mut c = w.chars();
                out.extend(c.next().map(|f| f.to_ascii_uppercase()));
                out.push_str(c.as_str());
            } else {
                out.push(' ');
                out.push_str(w);
            }
            if i + 1 < count && self.rng.below(10) == 0 {
                out.push(',');
            }
        }
        out.push('.');
        out
    }
}

#[derive(Args)]
pub struct Seed {
    #[arg(long, default_value = "http://127.0.0.1:3100")]
    base: String,
    #[arg(long, default_value_t = 200)]
    users: usize,
    #[arg(long, default_value_t = 1000)]
    rooms: usize,
    /// People in each room, its owner among them.
    #[arg(long, default_value_t = 5)]
    members: usize,
    #[arg(long, default_value_t = 1_000_000)]
    messages: u64,
    /// Rooms the searcher is a member of.
    #[arg(long, default_value_t = 50)]
    searcher_rooms: usize,
    /// Sends each socket keeps unanswered.
    #[arg(long, default_value_t = 32)]
    in_flight: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

/// Signs `name` up (`/api/auth/signup`) or in (`/api/auth/login`) with the seeded password.
async fn session(http: &reqwest::Client, base: &str, path: &str, name: &str) -> Result<Account> {
    let (_, cookie) = post(
        http,
        base,
        path,
        None,
        json!({"username": name, "password": PASSWORD}),
    )
    .await?;
    Ok(Account {
        cookie: cookie.ok_or_else(|| anyhow!("no session cookie"))?,
    })
}

async fn sign_up(http: &reqwest::Client, base: &str, name: &str) -> Result<Account> {
    session(http, base, "/api/auth/signup", name).await
}

async fn log_in(http: &reqwest::Client, base: &str, name: &str) -> Result<Account> {
    session(http, base, "/api/auth/login", name).await
}

fn user_name(i: usize) -> String {
    format!("s7u{i}")
}

pub async fn run_seed(s: Seed) -> Result<()> {
    let http = reqwest::Client::new();
    let start = Instant::now();
    let names: Vec<String> = (0..s.users).map(user_name).collect();
    let people: Vec<Account> = futures::stream::iter(names.iter())
        .map(|n| sign_up(&http, &s.base, n))
        .buffered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    let searcher = sign_up(&http, &s.base, SEARCHER).await?;
    println!(
        "{} accounts in {:.1} s",
        s.users + 1,
        start.elapsed().as_secs_f64()
    );
    // Room r: made by user r % users, joined by the next members − 1 users.
    let mut rooms: Vec<String> = Vec::with_capacity(s.rooms);
    let mut rooms_of: Vec<Vec<String>> = vec![Vec::new(); s.users];
    for r in 0..s.rooms {
        let owner = r % s.users;
        let (room, _) = post(
            &http,
            &s.base,
            "/api/rooms/create",
            Some(&people[owner].cookie),
            json!({"name": format!("s7-room-{r}"), "join_policy": "open"}),
        )
        .await?;
        let id = room["room"]["id"]
            .as_str()
            .ok_or_else(|| anyhow!("no room id"))?
            .to_owned();
        rooms_of[owner].push(id.clone());
        for k in 1..s.members {
            let u = (owner + k) % s.users;
            post(
                &http,
                &s.base,
                "/api/rooms/join",
                Some(&people[u].cookie),
                json!({"room_id": id}),
            )
            .await?;
            rooms_of[u].push(id.clone());
        }
        rooms.push(id);
    }
    let every = (s.rooms / s.searcher_rooms.max(1)).max(1);
    for id in rooms.iter().step_by(every).take(s.searcher_rooms) {
        post(
            &http,
            &s.base,
            "/api/rooms/join",
            Some(&searcher.cookie),
            json!({"room_id": id}),
        )
        .await?;
    }
    println!(
        "{} rooms in {:.1} s",
        s.rooms,
        start.elapsed().as_secs_f64()
    );
    // Each person sends their share into their rooms in turn, over one socket.
    let per_user = s.messages / s.users as u64;
    let stored = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for (u, person) in people.iter().enumerate() {
        let mut ws = parlor_socket(&s.base, person).await?;
        let mine = rooms_of[u].clone();
        let stored = stored.clone();
        let in_flight = s.in_flight.max(1);
        let seed = s.seed.wrapping_mul(1000).wrapping_add(u as u64);
        tasks.push(tokio::spawn(async move {
            let mut texts = Texts::new(seed);
            let (mut sent, mut waiting) = (0u64, 0usize);
            loop {
                while waiting < in_flight && sent < per_user && !mine.is_empty() {
                    let n = u as u64 * per_user + sent;
                    let room = &mine[(sent as usize) % mine.len()];
                    let frame = json!({"type": "send", "room_id": room, "client_id": format!("s7-{n}"), "body": texts.text(n)});
                    if ws.send(Message::text(frame.to_string())).await.is_err() {
                        return;
                    }
                    sent += 1;
                    waiting += 1;
                }
                if waiting == 0 {
                    return;
                }
                match ws.next().await {
                    Some(Ok(Message::Text(t))) if t.as_str().starts_with("{\"type\":\"ack\"") => {
                        stored.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        waiting -= 1;
                    }
                    Some(Ok(Message::Text(t))) if t.as_str().starts_with("{\"type\":\"error\"") => {
                        eprintln!("refused: {t}");
                        waiting -= 1;
                    }
                    Some(Ok(_)) => {}
                    _ => return,
                }
            }
        }));
    }
    let sending = Instant::now();
    let progress = {
        let stored = stored.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(30)).await;
                let n = stored.load(std::sync::atomic::Ordering::Relaxed);
                eprintln!(
                    "… {n} stored, {:.0}/s",
                    n as f64 / sending.elapsed().as_secs_f64()
                );
            }
        })
    };
    for t in tasks {
        t.await?;
    }
    progress.abort();
    let n = stored.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "{n} messages in {:.1} s ({:.0}/s); {SEARCHER} is in {} rooms; password {PASSWORD}",
        sending.elapsed().as_secs_f64(),
        n as f64 / sending.elapsed().as_secs_f64(),
        s.searcher_rooms
    );
    Ok(())
}

#[derive(Args)]
pub struct Measure {
    #[arg(long, default_value = "http://127.0.0.1:3100")]
    base: String,
    /// Queries to time, each in turn; default: a common word, a rare word, a phrase and a
    /// `from:` filter.
    #[arg(long)]
    query: Vec<String>,
    /// Seconds of each phase: sends alone, sends beside searches, searches alone.
    #[arg(long, default_value_t = 20)]
    secs: u64,
    /// Sends per second beside the searches (0: none).
    #[arg(long, default_value_t = 1000)]
    send_rate: u64,
    /// Seeded people who send (each over its own socket, into its own rooms).
    #[arg(long, default_value_t = 20)]
    senders: usize,
    /// Searches running at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
}

/// Microseconds from 1 µs to a minute, three significant figures.
fn histogram() -> Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 60_000_000, 3)?)
}

/// Records `at`'s age into `h` (a poisoned lock only loses the sample).
fn record(h: &Mutex<Histogram<u64>>, at: Instant) {
    if let Ok(mut h) = h.lock() {
        let _ = h.record(at.elapsed().as_micros() as u64);
    }
}

fn snapshot(h: &Mutex<Histogram<u64>>) -> Result<Histogram<u64>> {
    h.lock()
        .map(|h| h.clone())
        .map_err(|_| anyhow!("a latency histogram's lock was poisoned"))
}

fn quantiles(h: &Histogram<u64>) -> String {
    format!(
        "n {:>6}  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        h.len(),
        h.value_at_quantile(0.5) as f64 / 1000.0,
        h.value_at_quantile(0.99) as f64 / 1000.0,
        h.max() as f64 / 1000.0
    )
}

/// Paced sends from `senders` seeded people for `secs`: each send's time to its ack.
async fn paced_sends(base: &str, rate: u64, senders: usize, secs: u64) -> Result<Histogram<u64>> {
    let http = reqwest::Client::new();
    let latency = Arc::new(Mutex::new(histogram()?));
    if rate == 0 {
        tokio::time::sleep(Duration::from_secs(secs)).await;
        return histogram();
    }
    let mut tasks = Vec::new();
    for u in 0..senders {
        let person = log_in(&http, base, &user_name(u)).await?;
        let (mine, _) = post(
            &http,
            base,
            "/api/rooms/mine",
            Some(&person.cookie),
            json!({}),
        )
        .await?;
        let rooms: Vec<String> = mine["rooms"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_str().map(str::to_owned))
            .collect();
        let ws = parlor_socket(base, &person).await?;
        let latency = latency.clone();
        let period = Duration::from_secs_f64(senders as f64 / rate as f64);
        let run = crate::now_micros();
        tasks.push(tokio::spawn(async move {
            let (mut sink, mut stream) = ws.split();
            let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
            let reader = {
                let sent_at = sent_at.clone();
                let latency = latency.clone();
                tokio::spawn(async move {
                    while let Some(Ok(msg)) = stream.next().await {
                        let Message::Text(t) = msg else { continue };
                        if !t.as_str().starts_with("{\"type\":\"ack\"") {
                            continue;
                        }
                        let v: Value = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
                        let id = v["client_id"].as_str().unwrap_or_default();
                        let at = sent_at.lock().ok().and_then(|mut s| s.remove(id));
                        if let Some(at) = at {
                            record(&latency, at);
                        }
                    }
                })
            };
            let mut texts = Texts::new(run ^ u as u64);
            let mut tick = tokio::time::interval(period);
            let stop = Instant::now() + Duration::from_secs(secs);
            let mut n = 0u64;
            while Instant::now() < stop && !rooms.is_empty() {
                tick.tick().await;
                n += 1;
                let id = format!("s7m-{run}-{u}-{n}");
                let frame = json!({"type": "send", "room_id": rooms[n as usize % rooms.len()], "client_id": id, "body": texts.text(n)});
                if let Ok(mut s) = sent_at.lock() {
                    s.insert(id, Instant::now());
                }
                if sink.send(Message::text(frame.to_string())).await.is_err() {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            reader.abort();
        }));
    }
    for t in tasks {
        t.await?;
    }
    snapshot(&latency)
}

/// Each query in turn for `secs / queries` seconds: the latency of every search.
async fn searches(
    base: &str,
    queries: &[String],
    secs: u64,
    concurrency: usize,
) -> Result<Vec<Histogram<u64>>> {
    let http = reqwest::Client::new();
    let searcher = log_in(&http, base, SEARCHER).await?;
    let each = Duration::from_secs_f64(secs as f64 / queries.len().max(1) as f64);
    let mut out = Vec::new();
    for q in queries {
        let h = Arc::new(Mutex::new(histogram()?));
        let stop = Instant::now() + each;
        let mut workers = Vec::new();
        for _ in 0..concurrency.max(1) {
            let (http, cookie, base, q, h) = (
                http.clone(),
                searcher.cookie.clone(),
                base.to_owned(),
                q.clone(),
                h.clone(),
            );
            workers.push(tokio::spawn(async move {
                while Instant::now() < stop {
                    let at = Instant::now();
                    let r = post(
                        &http,
                        &base,
                        "/api/messages/search",
                        Some(&cookie),
                        json!({"query": q}),
                    )
                    .await;
                    match r {
                        Ok((page, _)) if page["hits"].is_array() => record(&h, at),
                        other => eprintln!("search {q:?}: {other:?}"),
                    }
                }
            }));
        }
        for w in workers {
            w.await?;
        }
        out.push(snapshot(&h)?);
    }
    Ok(out)
}

pub async fn run_measure(m: Measure) -> Result<()> {
    let queries = if m.query.is_empty() {
        vec![
            "time".to_owned(),
            RARE_WORD.to_owned(),
            "\"the time\"".to_owned(),
            // A member of the searcher's rooms (room 20's owner's neighbour).
            "from:s7u21".to_owned(),
        ]
    } else {
        m.query.clone()
    };
    // Hits per query, once, so the figures can be read against them.
    let http = reqwest::Client::new();
    let searcher = log_in(&http, &m.base, SEARCHER).await?;
    for q in &queries {
        let (page, _) = post(
            &http,
            &m.base,
            "/api/messages/search",
            Some(&searcher.cookie),
            json!({"query": q, "limit": 50}),
        )
        .await?;
        let n = page["hits"].as_array().map_or(0, Vec::len);
        let more = if page["next_cursor"].is_string() {
            "+"
        } else {
            ""
        };
        println!("query {q:?}: {n}{more} hits on the first page of 50");
    }
    println!("# sends alone, {} msg/s for {} s", m.send_rate, m.secs);
    let alone = paced_sends(&m.base, m.send_rate, m.senders, m.secs).await?;
    println!("sends alone          {}", quantiles(&alone));
    println!("# sends beside searches");
    let (beside, searched) = tokio::join!(
        paced_sends(&m.base, m.send_rate, m.senders, m.secs),
        searches(&m.base, &queries, m.secs, m.concurrency)
    );
    let (beside, searched) = (beside?, searched?);
    println!("sends beside search  {}", quantiles(&beside));
    if !alone.is_empty() && !beside.is_empty() {
        println!(
            "send p99 beside search / alone: {:.2}×",
            beside.value_at_quantile(0.99) as f64 / alone.value_at_quantile(0.99).max(1) as f64
        );
    }
    for (q, h) in queries.iter().zip(&searched) {
        println!(
            "search beside sends  {:<18} {}",
            format!("{q:?}"),
            quantiles(h)
        );
    }
    println!("# searches alone");
    let quiet = searches(&m.base, &queries, m.secs, m.concurrency).await?;
    for (q, h) in queries.iter().zip(&quiet) {
        println!(
            "search alone         {:<18} {}",
            format!("{q:?}"),
            quantiles(h)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_seeded_words_with_the_rare_one_now_and_then() {
        let (mut a, mut b) = (Texts::new(3), Texts::new(3));
        for n in 0..50 {
            assert_eq!(a.text(n), b.text(n));
        }
        let t = a.text(RARE_EVERY + 7);
        assert!(t.contains(RARE_WORD), "{t}");
        let words = t.split_whitespace().count();
        assert!((4..=20).contains(&words), "{t}");
        // The most common word comes up far more often than one from the end of the list.
        let sample: String = (0..2000).map(|n| a.text(n) + " ").collect();
        let count = |w: &str| {
            sample
                .split(|c: char| !c.is_alphanumeric())
                .filter(|x| x.eq_ignore_ascii_case(w))
                .count()
        };
        assert!(count("the") > 10 * count("meeting").max(1));
    }
}
