//! `loadgen`: drives a chat server's WebSocket with many receivers and paced senders and
//! reports deliveries per second, send-to-receipt latency percentiles, lost and duplicated
//! deliveries. It speaks Parlor's `/ws` and, for a baseline, axum's `examples/chat`.
//! Every run is bounded in time and talks only to the address it is given.
//!
//!   loadgen parlor --base http://127.0.0.1:3100 --receivers 1000 --senders 20 --rate 500 --secs 10
//!   loadgen axum-chat --url ws://127.0.0.1:3000/websocket --receivers 1000 --rate 500 --secs 10
//!   loadgen idle --base http://127.0.0.1:3100 --sockets 5000 --server-pid 1234
//!   loadgen persist --base http://127.0.0.1:3100 --senders 50 --secs 10

use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    tungstenite::{client::IntoClientRequest, Message},
    MaybeTlsStream, WebSocketStream,
};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Parser)]
#[command(about = "Load generator for chat servers on this machine")]
struct Cli {
    #[command(subcommand)]
    command: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// One Parlor room: receivers listen, senders post at a fixed total rate.
    Parlor(Fanout),
    /// The same load against axum's bare chat example (no auth, no storage).
    AxumChat(Fanout),
    /// Open idle sockets and report the server's memory per socket.
    Idle(Idle),
    /// Senders post as fast as acks come back: messages stored per second.
    Persist(Persist),
}

#[derive(Args, Clone)]
struct Fanout {
    /// Parlor's base URL (parlor mode).
    #[arg(long, default_value = "http://127.0.0.1:3100")]
    base: String,
    /// The chat example's WebSocket URL (axum-chat mode).
    #[arg(long, default_value = "ws://127.0.0.1:3000/websocket")]
    url: String,
    #[arg(long, default_value_t = 1000)]
    receivers: usize,
    #[arg(long, default_value_t = 1)]
    senders: usize,
    /// Messages per second, all senders together.
    #[arg(long, default_value_t = 100)]
    rate: u64,
    #[arg(long, default_value_t = 10)]
    secs: u64,
    #[arg(long, default_value_t = 64)]
    body_bytes: usize,
}

#[derive(Args)]
struct Idle {
    #[arg(long, default_value = "http://127.0.0.1:3100")]
    base: String,
    #[arg(long, default_value_t = 5000)]
    sockets: usize,
    /// The server's process id, to read its resident memory from /proc.
    #[arg(long)]
    server_pid: u32,
}

#[derive(Args)]
struct Persist {
    #[arg(long, default_value = "http://127.0.0.1:3100")]
    base: String,
    #[arg(long, default_value_t = 50)]
    senders: usize,
    #[arg(long, default_value_t = 10)]
    secs: u64,
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// A Parlor account the load generator made.
struct Account {
    cookie: String,
}

async fn post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    cookie: Option<&str>,
    body: Value,
) -> Result<(Value, Option<String>)> {
    let mut req = http.post(format!("{base}{path}")).json(&body);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await?;
    let status = res.status();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("parlor_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{path} answered {status}: {body}");
    }
    Ok((body, cookie))
}

/// Signs up `n` users (a few at a time: argon2 is deliberately slow).
async fn accounts(http: &reqwest::Client, base: &str, n: usize, tag: &str) -> Result<Vec<Account>> {
    let run = now_micros() % 1_000_000_000;
    let made = futures::stream::iter(0..n)
        .map(|i| {
            let http = http.clone();
            let base = base.to_owned();
            let name = format!("{tag}{run}x{i}");
            async move {
                let (_, cookie) = post(
                    &http,
                    &base,
                    "/api/auth/signup",
                    None,
                    json!({"username": name, "password": "load-generator"}),
                )
                .await?;
                Ok::<_, anyhow::Error>(Account {
                    cookie: cookie.ok_or_else(|| anyhow!("no session cookie"))?,
                })
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    made.into_iter().collect()
}

async fn parlor_socket(base: &str, account: &Account) -> Result<Ws> {
    let url = format!("{}/ws", base.replacen("http", "ws", 1));
    let mut req = url.into_client_request()?;
    req.headers_mut().insert("cookie", account.cookie.parse()?);
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
    // Wait for `ready`: from then on the socket carries the rooms.
    while let Some(msg) = ws.next().await {
        if let Message::Text(t) = msg? {
            if t.as_str().contains("\"type\":\"ready\"") {
                return Ok(ws);
            }
        }
    }
    bail!("socket closed before ready")
}

/// What receivers saw.
struct Tally {
    latency: Mutex<Histogram<u64>>,
    deliveries: AtomicU64,
    duplicates: AtomicU64,
}

impl Tally {
    fn new() -> Result<Arc<Self>> {
        Ok(Arc::new(Self {
            latency: Mutex::new(Histogram::new_with_bounds(1, 60_000_000, 3)?),
            deliveries: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
        }))
    }
}

/// A body that carries its sequence number and send time, padded to `len` bytes.
fn body(seq: u64, len: usize) -> String {
    let mut b = format!("{seq}:{}:", now_micros());
    while b.len() < len {
        b.push('x');
    }
    b
}

fn parse_body(text: &str) -> Option<(u64, u64)> {
    let mut parts = text.splitn(3, ':');
    let seq = parts.next()?.parse().ok()?;
    let sent = parts.next()?.parse().ok()?;
    Some((seq, sent))
}

/// Reads one receiver's socket from the moment it opens (so the server never waits on an
/// idle client during set-up) until `stop`, recording every load message it carries.
async fn receive(
    mut ws: Ws,
    tally: Arc<Tally>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    extract: fn(&str) -> Option<String>,
) {
    let mut seen = HashSet::new();
    let mut local = Vec::with_capacity(4096);
    loop {
        let next = tokio::select! {
            next = ws.next() => next,
            _ = stop.wait_for(|stopped| *stopped) => break,
        };
        let Some(Ok(msg)) = next else { break };
        let Message::Text(t) = msg else { continue };
        let Some(text) = extract(t.as_str()) else {
            continue;
        };
        let Some((seq, sent)) = parse_body(&text) else {
            continue;
        };
        if !seen.insert(seq) {
            tally.duplicates.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        local.push(now_micros().saturating_sub(sent).max(1));
        tally.deliveries.fetch_add(1, Ordering::Relaxed);
        if local.len() == local.capacity() {
            flush(&tally, &mut local);
        }
    }
    flush(&tally, &mut local);
}

fn flush(tally: &Tally, local: &mut Vec<u64>) {
    if let Ok(mut h) = tally.latency.lock() {
        for v in local.drain(..) {
            let _ = h.record(v);
        }
    }
}

/// The body of a `message` frame of kind `text`. Load bodies hold only digits, `:` and
/// `x`, so a scan finds them without parsing the whole frame (parsing 1,000 receivers'
/// frames would load the shared cores more than the server under test does).
fn parlor_text(frame: &str) -> Option<String> {
    if !frame.starts_with("{\"type\":\"message\"") || !frame.contains("\"kind\":\"text\"") {
        return None;
    }
    let start = frame.find("\"body\":\"")? + "\"body\":\"".len();
    let len = frame[start..].find('"')?;
    Some(frame[start..start + len].to_owned())
}

fn axum_text(frame: &str) -> Option<String> {
    frame.split_once(": ").map(|(_, text)| text.to_owned())
}

struct Report {
    sent: u64,
    receivers: usize,
    elapsed: Duration,
    tally: Arc<Tally>,
}

impl Report {
    fn print(&self, label: &str) {
        let delivered = self.tally.deliveries.load(Ordering::Relaxed);
        let expected = self.sent * self.receivers as u64;
        let h = self.tally.latency.lock().map(|h| h.clone()).ok();
        let ms = |q: f64| {
            h.as_ref()
                .map_or(0.0, |h| h.value_at_quantile(q) as f64 / 1000.0)
        };
        println!(
            "{label}: sent {} msgs in {:.1} s to {} receivers; deliveries {} ({:.0}/s); lost {}; duplicated {}; latency p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms",
            self.sent,
            self.elapsed.as_secs_f64(),
            self.receivers,
            delivered,
            delivered as f64 / self.elapsed.as_secs_f64(),
            expected.saturating_sub(delivered),
            self.tally.duplicates.load(Ordering::Relaxed),
            ms(0.5),
            ms(0.99),
            ms(0.999),
            h.as_ref().map_or(0.0, |h| h.max() as f64 / 1000.0),
        );
    }
}

/// Paces `senders` sockets to `rate` messages a second in total for `secs` seconds.
type FrameFn = Arc<dyn Fn(u64, String) -> String + Send + Sync>;

async fn pace(
    wait_for_answers: bool,
    mut senders: Vec<Ws>,
    rate: u64,
    secs: u64,
    len: usize,
    frame: FrameFn,
) -> Result<u64> {
    let n = senders.len().max(1) as u64;
    let per_sender = rate.max(1).div_ceil(n);
    let seq = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + Duration::from_secs(secs);
    let tasks: Vec<_> = senders
        .drain(..)
        .map(|ws| {
            let seq = seq.clone();
            let frame = frame.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / per_sender));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                let (mut sink, mut stream) = ws.split();
                let answered = Arc::new(AtomicU64::new(0));
                // Drain whatever comes back so the sender never stalls, counting the answers
                // (acks or errors) to our sends.
                let drain = {
                    let answered = answered.clone();
                    tokio::spawn(async move {
                        while let Some(Ok(msg)) = stream.next().await {
                            if let Message::Text(t) = msg {
                                let t = t.as_str();
                                if t.starts_with("{\"type\":\"ack\"")
                                    || t.starts_with("{\"type\":\"error\"")
                                {
                                    answered.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                    })
                };
                let mut mine = 0u64;
                while Instant::now() < stop {
                    tick.tick().await;
                    let s = seq.fetch_add(1, Ordering::Relaxed);
                    mine += 1;
                    if sink
                        .send(Message::text(frame(s, body(s, len))))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
                // A client waits for its answers before it hangs up, as a real one would.
                let deadline = Instant::now() + Duration::from_secs(10);
                while wait_for_answers
                    && answered.load(Ordering::Relaxed) < mine
                    && Instant::now() < deadline
                {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                drain.abort();
                let _ = sink.close().await;
            })
        })
        .collect();
    for t in tasks {
        t.await?;
    }
    Ok(seq.load(Ordering::Relaxed))
}

async fn run_parlor(f: Fanout) -> Result<()> {
    let http = reqwest::Client::new();
    println!(
        "setting up {} receivers and {} senders…",
        f.receivers, f.senders
    );
    let people = accounts(&http, &f.base, f.receivers + f.senders, "lg").await?;
    let (room, _) = post(
        &http,
        &f.base,
        "/api/rooms/create",
        Some(&people[0].cookie),
        json!({"name": format!("load {}", now_micros()), "join_policy": "open"}),
    )
    .await?;
    let room_id = room["room"]["id"]
        .as_str()
        .ok_or_else(|| anyhow!("no room id"))?
        .to_owned();
    futures::stream::iter(people.iter().skip(1))
        .map(|p| {
            post(
                &http,
                &f.base,
                "/api/rooms/join",
                Some(&p.cookie),
                json!({"room_id": room_id}),
            )
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    let (senders, receivers) = people.split_at(f.senders);
    let tally = Tally::new()?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut readers = Vec::new();
    for r in receivers {
        let ws = parlor_socket(&f.base, r).await?;
        readers.push(tokio::spawn(receive(
            ws,
            tally.clone(),
            stopped.clone(),
            parlor_text,
        )));
    }
    let mut tx_sockets = Vec::new();
    for s in senders {
        tx_sockets.push(parlor_socket(&f.base, s).await?);
    }
    // Let the set-up's presence and join frames pass before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let start = Instant::now();
    let room_for = room_id.clone();
    let frame: FrameFn = Arc::new(move |seq, body| {
        json!({"type": "send", "room_id": room_for, "client_id": seq.to_string(), "body": body})
            .to_string()
    });
    let sent = pace(true, tx_sockets, f.rate, f.secs, f.body_bytes, frame).await?;
    let elapsed = start.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _ = stop.send(true);
    for r in readers {
        r.await?;
    }
    Report {
        sent,
        receivers: f.receivers,
        elapsed,
        tally,
    }
    .print("parlor");
    Ok(())
}

async fn run_axum_chat(f: Fanout) -> Result<()> {
    let run = now_micros();
    let tally = Tally::new()?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut readers = Vec::new();
    for i in 0..f.receivers {
        let (mut ws, _) = tokio_tungstenite::connect_async(f.url.as_str())
            .await
            .context("connect")?;
        ws.send(Message::text(format!("r{run}x{i}"))).await?;
        readers.push(tokio::spawn(receive(
            ws,
            tally.clone(),
            stopped.clone(),
            axum_text,
        )));
    }
    let mut tx_sockets = Vec::new();
    for i in 0..f.senders {
        let (mut ws, _) = tokio_tungstenite::connect_async(f.url.as_str())
            .await
            .context("connect")?;
        ws.send(Message::text(format!("s{run}x{i}"))).await?;
        tx_sockets.push(ws);
    }
    // Let the join announcements pass before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let start = Instant::now();
    // The chat example sends no acks: nothing to wait for.
    let sent = pace(
        false,
        tx_sockets,
        f.rate,
        f.secs,
        f.body_bytes,
        Arc::new(|_, body| body),
    )
    .await?;
    let elapsed = start.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _ = stop.send(true);
    for r in readers {
        r.await?;
    }
    Report {
        sent,
        receivers: f.receivers,
        elapsed,
        tally,
    }
    .print("axum-chat");
    Ok(())
}

fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS for {pid}"))
}

async fn run_idle(i: Idle) -> Result<()> {
    let http = reqwest::Client::new();
    let people = accounts(&http, &i.base, 50, "idle").await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_kib(i.server_pid)?;
    let mut sockets = Vec::with_capacity(i.sockets);
    for n in 0..i.sockets {
        sockets.push(parlor_socket(&i.base, &people[n % people.len()]).await?);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(i.server_pid)?;
    println!(
        "idle: {} sockets; server RSS {} KiB -> {} KiB; {:.1} KiB per idle socket",
        i.sockets,
        before,
        after,
        after.saturating_sub(before) as f64 / i.sockets as f64
    );
    drop(sockets);
    Ok(())
}

async fn run_persist(p: Persist) -> Result<()> {
    let http = reqwest::Client::new();
    let people = accounts(&http, &p.base, p.senders, "ps").await?;
    // A room each, so what is measured is storing, not fanning out to the other senders.
    let mut rooms = Vec::new();
    for (n, person) in people.iter().enumerate() {
        let (room, _) = post(
            &http,
            &p.base,
            "/api/rooms/create",
            Some(&person.cookie),
            json!({"name": format!("persist {} {n}", now_micros()), "join_policy": "open"}),
        )
        .await?;
        rooms.push(
            room["room"]["id"]
                .as_str()
                .ok_or_else(|| anyhow!("no room id"))?
                .to_owned(),
        );
    }
    let acked = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + Duration::from_secs(p.secs);
    let mut tasks = Vec::new();
    for (n, person) in people.iter().enumerate() {
        let mut ws = parlor_socket(&p.base, person).await?;
        let acked = acked.clone();
        let room_id = rooms[n].clone();
        tasks.push(tokio::spawn(async move {
            let mut seq = 0u64;
            while Instant::now() < stop {
                seq += 1;
                let frame = json!({"type": "send", "room_id": room_id, "client_id": format!("{n}-{seq}"), "body": body(seq, 64)});
                if ws.send(Message::text(frame.to_string())).await.is_err() {
                    return;
                }
                // One message in flight per sender: wait for its ack.
                loop {
                    match ws.next().await {
                        Some(Ok(Message::Text(t))) if t.as_str().starts_with("{\"type\":\"ack\"") => {
                            acked.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                        Some(Ok(Message::Text(t))) if t.as_str().starts_with("{\"type\":\"error\"") => break,
                        Some(Ok(_)) => {}
                        _ => return,
                    }
                }
            }
        }));
    }
    let start = Instant::now();
    for t in tasks {
        t.await?;
    }
    let n = acked.load(Ordering::Relaxed);
    println!(
        "persist: {} senders stored {n} messages in {:.1} s: {:.0} messages/s",
        p.senders,
        start.elapsed().as_secs_f64(),
        n as f64 / start.elapsed().as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Mode::Parlor(f) => run_parlor(f).await,
        Mode::AxumChat(f) => run_axum_chat(f).await,
        Mode::Idle(i) => run_idle(i).await,
        Mode::Persist(p) => run_persist(p).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_carry_their_sequence_and_send_time_at_the_asked_length() {
        let b = body(42, 64);
        assert_eq!(b.len(), 64);
        let (seq, sent) = parse_body(&b).unwrap();
        assert_eq!(seq, 42);
        assert!(now_micros() >= sent);
    }

    #[test]
    fn frames_of_both_servers_yield_the_body() {
        let parlor = r#"{"type":"message","message":{"kind":"text","body":"7:100:xx"}}"#;
        assert_eq!(parlor_text(parlor).as_deref(), Some("7:100:xx"));
        assert_eq!(parlor_text(r#"{"type":"ack"}"#), None);
        assert_eq!(axum_text("r1: 7:100:xx").as_deref(), Some("7:100:xx"));
    }
}
