//! `loadgen`: drives a chat server with many receivers and paced senders and reports
//! deliveries per second, send-to-receipt latency percentiles, lost and duplicated
//! deliveries. It speaks Parlor's `/ws` and, for baselines, axum's `examples/chat` and IRC
//! (InspIRCd, started with bench/inspircd.sh). Receivers parse every frame in full, as a
//! real client does (`--parse full`, the default), or only scan it for the body
//! (`--parse scan`). Every run is bounded in time and talks only to the address it is given.
//!
//!   loadgen parlor --base http://127.0.0.1:3100 --receivers 1000 --senders 20 --rate 500 --secs 10
//!   loadgen parlor --base http://127.0.0.1:3100 --spread http://127.0.0.1:3101 --receivers 1000 --rate 100 --secs 10
//!   loadgen axum-chat --url ws://127.0.0.1:3000/websocket --receivers 1000 --rate 500 --secs 10
//!   loadgen irc --addr 127.0.0.1:6667 --channel '#load' --receivers 1000 --senders 20 --rate 500 --secs 10
//!   loadgen rooms --server parlor --base http://127.0.0.1:3100 --rooms 1000 --members 5 --rate 500 --secs 10
//!   loadgen rooms --server irc --addr 127.0.0.1:6667 --rooms 1000 --members 5 --rate 500 --secs 10
//!   loadgen idle --server parlor --base http://127.0.0.1:3100 --sockets 15000 --sockets-per-user 8 --server-pid 1234
//!   loadgen idle --server irc --addr 127.0.0.1:6667 --sockets 15000 --server-pid 1234
//!   loadgen idle --server axum --url ws://127.0.0.1:3000/websocket --sockets 15000 --server-pid 1234
//!   loadgen persist --base http://127.0.0.1:3100 --senders 50 --secs 10 [--in-flight 16]
//!   loadgen seed-search --base http://127.0.0.1:3100 --messages 1000000
//!   loadgen search --base http://127.0.0.1:3100 --send-rate 1000 --secs 20
//!
//! Every socket is a file descriptor: loadgen raises its soft `RLIMIT_NOFILE` to the hard
//! limit at start (with util-linux's `prlimit`); where that fails, run `ulimit -n "$(ulimit -Hn)"`
//! first. `rooms` and `idle` refuse to start when the limit is too low for what they open.

use std::{
    borrow::Cow,
    collections::HashSet,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{anyhow, bail, Context, Result};

mod search;
use clap::{Args, Parser, Subcommand, ValueEnum};
use domain::{message::MessageKind, wire::ServerFrame};
use futures::{Sink, SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tokio::{net::TcpStream, task::JoinHandle};
use tokio_tungstenite::{
    tungstenite::{self, client::IntoClientRequest, Message},
    MaybeTlsStream, WebSocketStream,
};
use tokio_util::{
    codec::{Framed, LinesCodec},
    sync::PollSender,
};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Irc = Framed<TcpStream, LinesCodec>;

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
    /// The same load over IRC, one channel (InspIRCd with bench/inspircd.conf).
    Irc(Fanout),
    /// Many small rooms (or channels): in each, one member sends and the others receive.
    Rooms(Rooms),
    /// Open idle sockets and report the server's memory per socket.
    Idle(Idle),
    /// Senders post as fast as acks come back: messages stored per second.
    Persist(Persist),
    /// S7: fill a server with a million messages to search.
    SeedSearch(search::Seed),
    /// S7: search latency, alone and beside paced sends, and the sends' latency beside it.
    Search(search::Measure),
}

#[derive(Args, Clone)]
struct Fanout {
    /// Parlor's base URL (parlor mode).
    #[arg(long, default_value = "http://127.0.0.1:3100")]
    base: String,
    /// Other instances of the same Parlor site (over Redis; parlor mode): receivers are
    /// spread over `--base` and these in turn, senders stay on `--base`.
    #[arg(long)]
    spread: Vec<String>,
    /// The chat example's WebSocket URL (axum-chat mode).
    #[arg(long, default_value = "ws://127.0.0.1:3000/websocket")]
    url: String,
    /// The IRC server's address (irc mode).
    #[arg(long, default_value = "127.0.0.1:6667")]
    addr: String,
    /// The IRC channel (irc mode).
    #[arg(long, default_value = "#load")]
    channel: String,
    /// How receivers read what they are sent: `full` parses every frame or line completely,
    /// as a real client does; `scan` only looks for the body in it.
    #[arg(long, value_enum, default_value_t = ParseMode::Full)]
    parse: ParseMode,
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ParseMode {
    Full,
    Scan,
}

/// The servers `rooms` drives: axum's chat example has a single room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum RoomsServer {
    Parlor,
    Irc,
}

#[derive(Args, Clone)]
struct Rooms {
    #[arg(long, value_enum, default_value_t = RoomsServer::Parlor)]
    server: RoomsServer,
    /// Parlor's base URL (parlor server).
    #[arg(long, default_value = "http://127.0.0.1:3100")]
    base: String,
    /// The IRC server's address (irc server); room `i` is channel `#s3r{i}`.
    #[arg(long, default_value = "127.0.0.1:6667")]
    addr: String,
    /// How receivers read what they are sent (see the fan-out modes).
    #[arg(long, value_enum, default_value_t = ParseMode::Full)]
    parse: ParseMode,
    #[arg(long, default_value_t = 1000)]
    rooms: usize,
    /// Members per room, the sender included (at least 2).
    #[arg(long, default_value_t = 5)]
    members: usize,
    /// Messages per second, all rooms together.
    #[arg(long, default_value_t = 500)]
    rate: u64,
    #[arg(long, default_value_t = 10)]
    secs: u64,
    #[arg(long, default_value_t = 64)]
    body_bytes: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum IdleServer {
    Parlor,
    Irc,
    Axum,
}

#[derive(Args)]
struct Idle {
    #[arg(long, value_enum, default_value_t = IdleServer::Parlor)]
    server: IdleServer,
    /// Parlor's base URL (parlor server).
    #[arg(long, default_value = "http://127.0.0.1:3100")]
    base: String,
    /// The chat example's WebSocket URL (axum server).
    #[arg(long, default_value = "ws://127.0.0.1:3000/websocket")]
    url: String,
    /// The IRC server's address (irc server).
    #[arg(long, default_value = "127.0.0.1:6667")]
    addr: String,
    /// The channel every IRC client joins (irc server); its first client sets `+D`.
    #[arg(long, default_value = "#idle")]
    channel: String,
    #[arg(long, default_value_t = 5000)]
    sockets: usize,
    /// Parlor sockets per account: ceil(sockets / this) accounts are signed up. 8 is the
    /// server's default cap (`--ws-per-user`).
    #[arg(long, default_value_t = 8)]
    sockets_per_user: usize,
    /// Seconds to wait with every socket open before reading the server's memory again.
    #[arg(long, default_value_t = 5)]
    settle_secs: u64,
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
    /// Sends each sender keeps unanswered (the server allows 32 per socket).
    #[arg(long, default_value_t = 1)]
    in_flight: usize,
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

/// A socket to axum's chat example: its first frame is the client's name.
async fn axum_socket(url: &str, name: &str) -> Result<Ws> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .context("connect")?;
    ws.send(Message::text(name.to_owned())).await?;
    Ok(ws)
}

/// What receivers saw.
struct Tally {
    latency: Mutex<Histogram<u64>>,
    deliveries: AtomicU64,
    duplicates: AtomicU64,
    /// Frames a full parse could not read: the wire and the client disagree.
    unparsed: AtomicU64,
}

impl Tally {
    fn new() -> Result<Arc<Self>> {
        Ok(Arc::new(Self {
            latency: Mutex::new(Histogram::new_with_bounds(1, 60_000_000, 3)?),
            deliveries: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            unparsed: AtomicU64::new(0),
        }))
    }
}

/// What a receiver made of one frame (WebSocket) or line (IRC).
#[derive(Debug, PartialEq, Eq)]
enum Frame<'a> {
    /// A text message's body.
    Body(Cow<'a, str>),
    /// An IRC `PING`, with the token to send back.
    Ping(&'a str),
    /// Anything else the server sends: presence, joins, acks, numerics.
    Other,
    /// Not a frame the client can read.
    Bad,
}

/// One receiver's records: load messages seen, their latencies, batched into the tally.
struct Recorder {
    tally: Arc<Tally>,
    seen: HashSet<u64>,
    local: Vec<u64>,
}

impl Recorder {
    fn new(tally: Arc<Tally>) -> Self {
        Self {
            tally,
            seen: HashSet::new(),
            local: Vec::with_capacity(4096),
        }
    }

    fn take(&mut self, frame: Frame<'_>) {
        let text = match frame {
            Frame::Body(text) => text,
            Frame::Bad => {
                self.tally.unparsed.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Frame::Ping(_) | Frame::Other => return,
        };
        let Some((seq, sent)) = parse_body(&text) else {
            return;
        };
        if !self.seen.insert(seq) {
            self.tally.duplicates.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.local.push(now_micros().saturating_sub(sent).max(1));
        self.tally.deliveries.fetch_add(1, Ordering::Relaxed);
        if self.local.len() == self.local.capacity() {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if let Ok(mut h) = self.tally.latency.lock() {
            for v in self.local.drain(..) {
                let _ = h.record(v);
            }
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.flush();
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
    extract: fn(&str) -> Frame<'_>,
) {
    let mut recorder = Recorder::new(tally);
    loop {
        let next = tokio::select! {
            next = ws.next() => next,
            _ = stop.wait_for(|stopped| *stopped) => break,
        };
        let Some(Ok(msg)) = next else { break };
        let Message::Text(t) = msg else { continue };
        recorder.take(extract(t.as_str()));
    }
}

/// Full parse: the frame read completely into the wire type the browser uses, the body
/// taken from a `message` of kind `text`.
fn parlor_full(frame: &str) -> Frame<'_> {
    match serde_json::from_str::<ServerFrame>(frame) {
        Ok(ServerFrame::Message { message }) if message.kind == MessageKind::Text => {
            Frame::Body(Cow::Owned(message.body.unwrap_or_default()))
        }
        Ok(_) => Frame::Other,
        Err(_) => Frame::Bad,
    }
}

/// Scan: the body of a `message` frame of kind `text`, found without parsing the frame.
/// Load bodies hold only digits, `:` and `x`, so a scan finds them; it is cheaper for
/// loadgen, which shares the cores with the server under test, but it trusts the frame's
/// layout.
fn parlor_scan(frame: &str) -> Frame<'_> {
    if !frame.starts_with("{\"type\":\"message\"") || !frame.contains("\"kind\":\"text\"") {
        return Frame::Other;
    }
    let Some(start) = frame.find("\"body\":\"").map(|at| at + "\"body\":\"".len()) else {
        return Frame::Other;
    };
    match frame[start..].find('"') {
        Some(len) => Frame::Body(Cow::Borrowed(&frame[start..start + len])),
        None => Frame::Other,
    }
}

/// The chat example's frames are lines `name: text` (or `name joined.`): either parse
/// mode splits them.
fn axum_frame(frame: &str) -> Frame<'_> {
    frame
        .split_once(": ")
        .map_or(Frame::Other, |(_, text)| Frame::Body(Cow::Borrowed(text)))
}

/// One IRC line, `[@tags] [:prefix] COMMAND [middle ...] [:trailing]` (RFC 1459 §2.3.1;
/// IRCv3 tags are skipped).
#[derive(Debug, PartialEq, Eq)]
struct IrcMessage<'a> {
    prefix: Option<&'a str>,
    command: &'a str,
    middle: Vec<&'a str>,
    trailing: Option<&'a str>,
}

impl<'a> IrcMessage<'a> {
    fn parse(line: &'a str) -> Option<Self> {
        let mut rest = line.trim_end_matches(['\r', '\n']);
        if rest.starts_with('@') {
            rest = rest.split_once(' ')?.1;
        }
        rest = rest.trim_start_matches(' ');
        let mut prefix = None;
        if let Some(p) = rest.strip_prefix(':') {
            let (p, r) = p.split_once(' ')?;
            if p.is_empty() {
                return None;
            }
            prefix = Some(p);
            rest = r.trim_start_matches(' ');
        }
        let (command, mut rest) = rest.split_once(' ').unwrap_or((rest, ""));
        if command.is_empty() || !command.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let mut middle = Vec::new();
        let mut trailing = None;
        loop {
            rest = rest.trim_start_matches(' ');
            if rest.is_empty() {
                break;
            }
            if let Some(t) = rest.strip_prefix(':') {
                trailing = Some(t);
                break;
            }
            // The fifteenth parameter is the rest of the line, colon or not.
            if middle.len() == 14 {
                trailing = Some(rest);
                break;
            }
            let (p, r) = rest.split_once(' ').unwrap_or((rest, ""));
            middle.push(p);
            rest = r;
        }
        Some(Self {
            prefix,
            command,
            middle,
            trailing,
        })
    }

    /// Every parameter in order, the trailing one last.
    fn params(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.middle.iter().copied().chain(self.trailing)
    }

    /// The nick of a `nick!user@host` prefix.
    fn nick(&self) -> Option<&'a str> {
        self.prefix
            .map(|p| p.split_once('!').map_or(p, |(nick, _)| nick))
    }
}

/// An IRC line as a receiver reads it: in full, or scanned for a `PING` or a `PRIVMSG`'s
/// text.
fn irc_frame(line: &str, parse: ParseMode) -> Frame<'_> {
    match parse {
        ParseMode::Full => {
            let Some(m) = IrcMessage::parse(line) else {
                return Frame::Bad;
            };
            match m.command {
                "PING" => Frame::Ping(m.params().next().unwrap_or("")),
                "PRIVMSG" => m
                    .trailing
                    .map_or(Frame::Other, |text| Frame::Body(Cow::Borrowed(text))),
                _ => Frame::Other,
            }
        }
        ParseMode::Scan => {
            if let Some(token) = line.strip_prefix("PING ") {
                return Frame::Ping(token.trim_start_matches(':'));
            }
            line.split_once(" PRIVMSG ")
                .and_then(|(_, rest)| rest.split_once(" :"))
                .map_or(Frame::Other, |(_, text)| Frame::Body(Cow::Borrowed(text)))
        }
    }
}

struct Report {
    sent: u64,
    /// Receiving sockets in all.
    receivers: usize,
    /// Receivers each message is for: all of them in one room, fewer in many rooms.
    per_message: usize,
    elapsed: Duration,
    tally: Arc<Tally>,
}

impl Report {
    /// Lets the last deliveries arrive (3 s), stops the receivers, then prints.
    async fn print_after_drain(
        self,
        label: &str,
        stop: tokio::sync::watch::Sender<bool>,
        readers: Vec<tokio::task::JoinHandle<()>>,
    ) -> Result<()> {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let _ = stop.send(true);
        for reader in readers {
            reader.await?;
        }
        self.print(label);
        Ok(())
    }

    fn print(&self, label: &str) {
        let delivered = self.tally.deliveries.load(Ordering::Relaxed);
        let expected = self.sent * self.per_message as u64;
        let h = self.tally.latency.lock().map(|h| h.clone()).ok();
        let ms = |q: f64| {
            h.as_ref()
                .map_or(0.0, |h| h.value_at_quantile(q) as f64 / 1000.0)
        };
        let unparsed = self.tally.unparsed.load(Ordering::Relaxed);
        let unparsed = if unparsed > 0 {
            format!("; UNPARSED frames {unparsed}")
        } else {
            String::new()
        };
        println!(
            "{label}: sent {} msgs in {:.1} s to {} receivers; deliveries {} ({:.0}/s); lost {}; duplicated {}; latency p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms{unparsed}",
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

type FrameFn = Arc<dyn Fn(u64, String) -> String + Send + Sync>;

/// One sender's connection as `pace` drives it.
struct Outlet<S> {
    /// Where the sender's frames (or lines) go.
    sink: S,
    /// How many of its sends the server has answered (acks or errors); `None` for a server
    /// that never answers.
    answered: Option<Arc<AtomicU64>>,
    /// Drains what comes back, so the sender never stalls, until the server hangs up.
    reader: JoinHandle<()>,
}

/// A WebSocket as a sender; `answers` counts Parlor's acks and errors.
fn ws_outlet(ws: Ws, answers: bool) -> Outlet<impl Sink<String> + Unpin + Send + 'static> {
    let (sink, mut stream) = ws.split();
    let answered = Arc::new(AtomicU64::new(0));
    let reader = {
        let answered = answered.clone();
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                if let Message::Text(t) = msg {
                    let t = t.as_str();
                    if t.starts_with("{\"type\":\"ack\"") || t.starts_with("{\"type\":\"error\"") {
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        })
    };
    let sink = sink.with(|text: String| {
        futures::future::ready(Ok::<_, tungstenite::Error>(Message::text(text)))
    });
    Outlet {
        sink,
        answered: answers.then_some(answered),
        reader,
    }
}

/// An IRC connection as a sender. Its lines go through a channel to a writer task, so the
/// reader can answer `PING`s on the same connection; once the sink is closed, the writer
/// says `QUIT` and the server hangs up.
fn irc_outlet(irc: Irc) -> Outlet<PollSender<String>> {
    let (mut sink, mut stream) = irc.split();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(1024);
    tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            if sink.send(line).await.is_err() {
                return;
            }
        }
        let _ = sink.send("QUIT :done".to_owned()).await;
        let _ = sink.close().await;
    });
    // Weak, so that closing the sink ends the writer.
    let pongs = tx.downgrade();
    let reader = tokio::spawn(async move {
        while let Some(Ok(line)) = stream.next().await {
            if let Frame::Ping(token) = irc_frame(&line, ParseMode::Full) {
                if let Some(pongs) = pongs.upgrade() {
                    let _ = pongs.send(format!("PONG :{token}")).await;
                }
            }
        }
    });
    Outlet {
        sink: PollSender::new(tx),
        answered: None,
        reader,
    }
}

/// When each sender sends: sender `j` first `j × stagger` after the start, then every
/// `period`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Schedule {
    period: Duration,
    stagger: Duration,
}

impl Schedule {
    /// One room's senders: each sends `ceil(rate / n)` a second, all starting together.
    fn together(rate: u64, n: usize) -> Self {
        let per_sender = rate.max(1).div_ceil(n.max(1) as u64);
        Self {
            period: Duration::from_micros((1_000_000 / per_sender).max(1)),
            stagger: Duration::ZERO,
        }
    }

    /// Many rooms' senders: `rate` a second in all, evenly spread. The senders take turns,
    /// one send every `1 / rate` s, so each sends every `n / rate` s (less than once a
    /// second when there are more senders than messages a second).
    fn spread(rate: u64, n: usize) -> Self {
        let rate = rate.max(1);
        let n = n.max(1) as u64;
        Self {
            period: Duration::from_nanos((1_000_000_000 * n / rate).max(1_000)),
            stagger: Duration::from_nanos(1_000_000_000 / rate),
        }
    }

    /// When sender `j` first sends, after the start.
    fn first(&self, j: usize) -> Duration {
        self.stagger
            .saturating_mul(u32::try_from(j).unwrap_or(u32::MAX))
    }
}

/// One sender as `pace` drives it: its connection and what it wraps each body in.
type Paced<S> = (Outlet<S>, FrameFn);

/// Runs the senders on `schedule` for `secs` seconds and returns how many messages they
/// sent; each sender's `FrameFn` wraps a sequence number (unique in the run) and body into
/// what the server reads.
async fn pace<S>(senders: Vec<Paced<S>>, schedule: Schedule, secs: u64, len: usize) -> Result<u64>
where
    S: Sink<String> + Unpin + Send + 'static,
{
    let seq = Arc::new(AtomicU64::new(0));
    let start = tokio::time::Instant::now();
    let stop = start + Duration::from_secs(secs);
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(j, (sender, frame))| {
            let seq = seq.clone();
            tokio::spawn(async move {
                let Outlet {
                    mut sink,
                    answered,
                    mut reader,
                } = sender;
                let mut tick = tokio::time::interval_at(start + schedule.first(j), schedule.period);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                let mut mine = 0u64;
                loop {
                    // Only sends due before the stop count, so the rate is exactly kept, and
                    // a sender whose next turn is after the stop does not wait for it.
                    let due = tokio::select! {
                        due = tick.tick() => due,
                        _ = tokio::time::sleep_until(stop) => break,
                    };
                    if due >= stop {
                        break;
                    }
                    let s = seq.fetch_add(1, Ordering::Relaxed);
                    mine += 1;
                    if sink.send(frame(s, body(s, len))).await.is_err() {
                        break;
                    }
                }
                // A client waits for its answers before it hangs up, as a real one would.
                if let Some(answered) = answered {
                    let deadline = Instant::now() + Duration::from_secs(10);
                    while answered.load(Ordering::Relaxed) < mine && Instant::now() < deadline {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                let _ = sink.close().await;
                // Read on until the server hangs up: a socket closed with unread data is
                // reset, and a reset can lose what was sent last.
                if tokio::time::timeout(Duration::from_secs(2), &mut reader)
                    .await
                    .is_err()
                {
                    reader.abort();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await?;
    }
    Ok(seq.load(Ordering::Relaxed))
}

/// The same frame for every sender.
fn each<S>(outlets: Vec<Outlet<S>>, frame: FrameFn) -> Vec<Paced<S>> {
    outlets.into_iter().map(|o| (o, frame.clone())).collect()
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
    let extract: fn(&str) -> Frame<'_> = match f.parse {
        ParseMode::Full => parlor_full,
        ParseMode::Scan => parlor_scan,
    };
    let tally = Tally::new()?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut readers = Vec::new();
    let bases: Vec<&String> = std::iter::once(&f.base).chain(&f.spread).collect();
    for (i, r) in receivers.iter().enumerate() {
        let ws = parlor_socket(bases[i % bases.len()], r).await?;
        readers.push(tokio::spawn(receive(
            ws,
            tally.clone(),
            stopped.clone(),
            extract,
        )));
    }
    let mut tx_sockets = Vec::new();
    for s in senders {
        tx_sockets.push(ws_outlet(parlor_socket(&f.base, s).await?, true));
    }
    let frame: FrameFn = Arc::new(move |seq, body| {
        json!({"type": "send", "room_id": room_id, "client_id": seq.to_string(), "body": body})
            .to_string()
    });
    one_room("parlor", &f, tx_sockets, frame, tally, stop, readers).await
}

/// The measurement the three one-room modes share: lets the set-up's frames pass, paces
/// `outlets` together at `f.rate` for `f.secs`, each body wrapped by `frame`, then reports
/// once the last deliveries had time to arrive.
async fn one_room<S>(
    label: &str,
    f: &Fanout,
    outlets: Vec<Outlet<S>>,
    frame: FrameFn,
    tally: Arc<Tally>,
    stop: tokio::sync::watch::Sender<bool>,
    readers: Vec<JoinHandle<()>>,
) -> Result<()>
where
    S: Sink<String> + Unpin + Send + 'static,
{
    tokio::time::sleep(Duration::from_secs(2)).await;
    let start = Instant::now();
    let schedule = Schedule::together(f.rate, outlets.len());
    let sent = pace(each(outlets, frame), schedule, f.secs, f.body_bytes).await?;
    Report {
        sent,
        receivers: f.receivers,
        per_message: f.receivers,
        elapsed: start.elapsed(),
        tally,
    }
    .print_after_drain(label, stop, readers)
    .await
}

async fn run_axum_chat(f: Fanout) -> Result<()> {
    let run = now_micros();
    let tally = Tally::new()?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut readers = Vec::new();
    for i in 0..f.receivers {
        let ws = axum_socket(&f.url, &format!("r{run}x{i}")).await?;
        readers.push(tokio::spawn(receive(
            ws,
            tally.clone(),
            stopped.clone(),
            axum_frame,
        )));
    }
    let mut tx_sockets = Vec::new();
    for i in 0..f.senders {
        let ws = axum_socket(&f.url, &format!("s{run}x{i}")).await?;
        // The chat example sends no acks: nothing to wait for.
        tx_sockets.push(ws_outlet(ws, false));
    }
    // The chat example takes the body as it is.
    let frame: FrameFn = Arc::new(|_, body| body);
    one_room("axum-chat", &f, tx_sockets, frame, tally, stop, readers).await
}

/// IRC connections opened at once while setting up. InspIRCd 3 completes registrations
/// on a once-a-second timer, so each takes up to a second whatever the load: 500 at a time
/// connects 5,000 clients in about ten seconds.
const IRC_CONNECTS: usize = 500;

/// Reads lines until `done` has an answer, answering `PING`s; fails on `ERROR`, a closed
/// connection, or 30 s without the answer.
async fn irc_until<T>(
    irc: &mut Irc,
    what: &str,
    mut done: impl FnMut(&IrcMessage<'_>) -> Option<Result<T>>,
) -> Result<T> {
    let wait = async {
        while let Some(line) = irc.next().await {
            let line = line?;
            let Some(m) = IrcMessage::parse(&line) else {
                continue;
            };
            match m.command {
                "PING" => {
                    let pong = format!("PONG :{}", m.params().next().unwrap_or(""));
                    irc.send(pong).await?;
                }
                "ERROR" => bail!("server closed the link: {}", m.trailing.unwrap_or("")),
                _ => {
                    if let Some(answer) = done(&m) {
                        return answer;
                    }
                }
            }
        }
        bail!("connection closed")
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .map_err(|_| anyhow!("no {what} within 30 s"))?
        .with_context(|| format!("waiting for {what}"))
}

/// Connects, registers as `nick`, joins `channel` and returns once the server has the
/// client in it (its own JOIN echoed, or the end of the names list).
async fn irc_client(addr: &str, nick: &str, channel: &str) -> Result<Irc> {
    let tcp = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connect to {addr}"))?;
    tcp.set_nodelay(true)?;
    let mut irc = Framed::new(tcp, LinesCodec::new_with_max_length(64 * 1024));
    irc.send(format!("NICK {nick}")).await?;
    irc.send(format!("USER {nick} 0 * :loadgen")).await?;
    irc_until(&mut irc, "welcome (001)", |m| match m.command {
        "001" => Some(Ok(())),
        // Erroneous nick, nick in use, nick collision, banned.
        "432" | "433" | "436" | "465" => Some(Err(anyhow!(
            "{nick} refused: {} {}",
            m.command,
            m.trailing.unwrap_or("")
        ))),
        _ => None,
    })
    .await?;
    irc.send(format!("JOIN {channel}")).await?;
    irc_until(&mut irc, "join", |m| match m.command {
        "JOIN" if m.nick().is_some_and(|n| n.eq_ignore_ascii_case(nick)) => Some(Ok(())),
        "366" => Some(Ok(())),
        // No such channel, too many channels, full, invite only, banned, bad key or mask,
        // needs an account.
        "403" | "405" | "471" | "473" | "474" | "475" | "476" | "477" => Some(Err(anyhow!(
            "{nick} could not join {channel}: {} {}",
            m.command,
            m.trailing.unwrap_or("")
        ))),
        _ => None,
    })
    .await?;
    Ok(irc)
}

/// Sets `+D` (delayjoin) on the channel this client has just created, so the joins that
/// follow are not each sent to every member; warns if the channel is left without it.
async fn irc_delayjoin(irc: &mut Irc, channel: &str) -> Result<()> {
    irc.send(format!("MODE {channel} +D")).await?;
    irc.send(format!("MODE {channel}")).await?;
    let mut refused = String::new();
    let modes = irc_until(irc, "channel modes (324)", |m| match m.command {
        "324" => Some(Ok(m.params().nth(2).unwrap_or("").to_owned())),
        // Unknown mode (module not loaded), not a channel operator.
        "472" | "482" => {
            refused = format!(" ({} {})", m.command, m.trailing.unwrap_or(""));
            None
        }
        _ => None,
    })
    .await?;
    if !modes.contains('D') {
        eprintln!(
            "warning: {channel} has modes {modes:?}, not +D{refused}: every join goes to every member"
        );
    }
    Ok(())
}

/// Opens clients `range`, `IRC_CONNECTS` at a time: client `i` registers with the nick
/// `who(i).0` and joins the channel `who(i).1`. Each is handed to `then` with its index
/// once it has joined; what `then` returns comes back in no particular order.
async fn irc_open<T>(
    addr: &str,
    range: std::ops::Range<usize>,
    who: impl Fn(usize) -> (String, String),
    then: impl Fn(usize, Irc) -> T,
) -> Result<Vec<T>> {
    let then = &then;
    let opened = futures::stream::iter(range)
        .map(|i| {
            let (nick, channel) = who(i);
            async move {
                irc_client(addr, &nick, &channel)
                    .await
                    .map(|irc| then(i, irc))
            }
        })
        .buffer_unordered(IRC_CONNECTS)
        .collect::<Vec<_>>()
        .await;
    opened.into_iter().collect()
}

/// Opens `n` clients named `{tag}{i}` in `channel`, `IRC_CONNECTS` at a time, handing each
/// to `then` once it has joined. With `creates`, the first opens alone before the others:
/// it creates the channel, so it is an operator there, and sets `+D`.
async fn irc_clients<T>(
    addr: &str,
    channel: &str,
    tag: &str,
    n: usize,
    creates: bool,
    then: impl Fn(Irc) -> T,
) -> Result<Vec<T>> {
    let mut opened = Vec::with_capacity(n);
    let mut next = 0;
    if creates && n > 0 {
        let mut irc = irc_client(addr, &format!("{tag}0"), channel).await?;
        irc_delayjoin(&mut irc, channel).await?;
        opened.push(then(irc));
        next = 1;
    }
    let rest = irc_open(
        addr,
        next..n,
        |i| (format!("{tag}{i}"), channel.to_owned()),
        |_, irc| then(irc),
    )
    .await?;
    opened.extend(rest);
    Ok(opened)
}

/// Reads one IRC receiver's lines until `stop`, answering `PING`s and recording every load
/// message.
async fn irc_receive(
    mut irc: Irc,
    tally: Arc<Tally>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    parse: ParseMode,
) {
    let mut recorder = Recorder::new(tally);
    loop {
        let next = tokio::select! {
            next = irc.next() => next,
            _ = stop.wait_for(|stopped| *stopped) => break,
        };
        let Some(Ok(line)) = next else { break };
        match irc_frame(&line, parse) {
            Frame::Ping(token) => {
                if irc.send(format!("PONG :{token}")).await.is_err() {
                    break;
                }
            }
            frame => recorder.take(frame),
        }
    }
}

async fn run_irc(f: Fanout) -> Result<()> {
    // Nicks unique to this run (and at most 30 characters): r12345x0, s12345x0.
    let run = now_micros() % 100_000;
    println!(
        "connecting {} receivers and {} senders to {} {}…",
        f.receivers, f.senders, f.addr, f.channel
    );
    let tally = Tally::new()?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // Receivers read from the moment they have joined.
    let readers = irc_clients(
        &f.addr,
        &f.channel,
        &format!("r{run}x"),
        f.receivers,
        true,
        |irc| tokio::spawn(irc_receive(irc, tally.clone(), stopped.clone(), f.parse)),
    )
    .await?;
    let senders = irc_clients(
        &f.addr,
        &f.channel,
        &format!("s{run}x"),
        f.senders,
        f.receivers == 0,
        |irc| irc,
    )
    .await?;
    let mut outlets = Vec::with_capacity(senders.len());
    for mut irc in senders {
        // In a +D channel a member's join is shown when it first speaks: have that happen
        // now, not while measuring.
        irc.send(format!("NOTICE {} :ready", f.channel)).await?;
        outlets.push(irc_outlet(irc));
    }
    let channel = f.channel.clone();
    // IRC has no acks: nothing to wait for.
    let frame: FrameFn = Arc::new(move |_, body| format!("PRIVMSG {channel} :{body}"));
    one_room("irc", &f, outlets, frame, tally, stop, readers).await
}

fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS for {pid}"))
}

/// Where client `i` of a `rooms` run sits: clients `r × members ..` are room `r`'s
/// members, and member 0 of each room is its sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seat {
    room: usize,
    member: usize,
}

impl Seat {
    fn of(client: usize, members: usize) -> Self {
        Self {
            room: client / members,
            member: client % members,
        }
    }

    fn sends(self) -> bool {
        self.member == 0
    }
}

/// A `rooms` client once it is connected: a receiver already reading, or a sender and its
/// room.
enum Opened<S> {
    Receiving(JoinHandle<()>),
    Sending(usize, Outlet<S>),
}

/// Splits opened clients into the receivers' tasks and the senders, in room order, each
/// sender with the frame for its room.
fn sort_opened<S>(
    opened: Vec<Opened<S>>,
    frame_for: impl Fn(usize) -> FrameFn,
) -> (Vec<JoinHandle<()>>, Vec<Paced<S>>) {
    let mut readers = Vec::new();
    let mut senders = Vec::new();
    for o in opened {
        match o {
            Opened::Receiving(r) => readers.push(r),
            Opened::Sending(room, outlet) => senders.push((room, outlet)),
        }
    }
    senders.sort_by_key(|(room, _)| *room);
    let senders = senders
        .into_iter()
        .map(|(room, outlet)| (outlet, frame_for(room)))
        .collect();
    (readers, senders)
}

/// Parlor sockets opened at once while setting up.
const WS_CONNECTS: usize = 64;
/// Room creations and joins in flight at once.
const ROOM_CALLS: usize = 16;

async fn run_rooms(r: Rooms) -> Result<()> {
    if r.rooms == 0 || r.members < 2 {
        bail!("rooms needs at least 1 room and 2 members per room");
    }
    let clients = r.rooms * r.members;
    check_descriptors(clients)?;
    let tally = Tally::new()?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let set_up = Instant::now();
    let (label, readers, sent, elapsed) = match r.server {
        RoomsServer::Parlor => {
            let http = reqwest::Client::new();
            println!(
                "signing up {clients} accounts for {} rooms of {}…",
                r.rooms, r.members
            );
            let people = accounts(&http, &r.base, clients, "s3").await?;
            println!(
                "creating {} rooms and joining them ({:.0} s so far)…",
                r.rooms,
                set_up.elapsed().as_secs_f64()
            );
            let rooms = futures::stream::iter(0..r.rooms)
                .map(|room| {
                    let creator = &people[room * r.members];
                    let http = &http;
                    let base = &r.base;
                    async move {
                        let (made, _) = post(
                            http,
                            base,
                            "/api/rooms/create",
                            Some(&creator.cookie),
                            json!({"name": format!("s3 {} {room}", now_micros()), "join_policy": "open"}),
                        )
                        .await?;
                        made["room"]["id"]
                            .as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| anyhow!("no room id"))
                    }
                })
                .buffered(ROOM_CALLS)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<Result<Vec<String>>>()?;
            futures::stream::iter((0..clients).filter(|&c| !Seat::of(c, r.members).sends()))
                .map(|c| {
                    post(
                        &http,
                        &r.base,
                        "/api/rooms/join",
                        Some(&people[c].cookie),
                        json!({"room_id": rooms[Seat::of(c, r.members).room]}),
                    )
                })
                .buffer_unordered(ROOM_CALLS)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<Result<Vec<_>>>()?;
            println!(
                "opening {clients} sockets ({:.0} s so far)…",
                set_up.elapsed().as_secs_f64()
            );
            let extract: fn(&str) -> Frame<'_> = match r.parse {
                ParseMode::Full => parlor_full,
                ParseMode::Scan => parlor_scan,
            };
            // Every socket reads from the moment it is open: receivers record, senders
            // count their acks.
            let opened = futures::stream::iter(0..clients)
                .map(|c| {
                    let (people, base, tally, stopped) = (&people, &r.base, &tally, &stopped);
                    async move {
                        let ws = parlor_socket(base, &people[c])
                            .await
                            .with_context(|| format!("socket {c}"))?;
                        let seat = Seat::of(c, r.members);
                        Ok::<_, anyhow::Error>(if seat.sends() {
                            Opened::Sending(seat.room, ws_outlet(ws, true))
                        } else {
                            Opened::Receiving(tokio::spawn(receive(
                                ws,
                                tally.clone(),
                                stopped.clone(),
                                extract,
                            )))
                        })
                    }
                })
                .buffer_unordered(WS_CONNECTS)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<Result<Vec<_>>>()?;
            let (readers, senders) = sort_opened(opened, |room| {
                let room_id = rooms[room].clone();
                Arc::new(move |seq, body| {
                    json!({"type": "send", "room_id": room_id, "client_id": seq.to_string(), "body": body})
                        .to_string()
                })
            });
            let (sent, elapsed) = rooms_measure(&r, &set_up, senders).await?;
            ("rooms-parlor", readers, sent, elapsed)
        }
        RoomsServer::Irc => {
            // Nicks unique to this run (and at most 30 characters): m12345r999x4.
            let run = now_micros() % 100_000;
            println!(
                "connecting {clients} clients to {} in {} channels of {}…",
                r.addr, r.rooms, r.members
            );
            let opened = irc_open(
                &r.addr,
                0..clients,
                |c| {
                    let seat = Seat::of(c, r.members);
                    (
                        format!("m{run}r{}x{}", seat.room, seat.member),
                        irc_room(seat.room),
                    )
                },
                |c, irc| {
                    let seat = Seat::of(c, r.members);
                    if seat.sends() {
                        Opened::Sending(seat.room, irc_outlet(irc))
                    } else {
                        Opened::Receiving(tokio::spawn(irc_receive(
                            irc,
                            tally.clone(),
                            stopped.clone(),
                            r.parse,
                        )))
                    }
                },
            )
            .await?;
            let (readers, senders) = sort_opened(opened, |room| {
                let channel = irc_room(room);
                Arc::new(move |_, body| format!("PRIVMSG {channel} :{body}"))
            });
            let (sent, elapsed) = rooms_measure(&r, &set_up, senders).await?;
            ("rooms-irc", readers, sent, elapsed)
        }
    };
    Report {
        sent,
        receivers: r.rooms * (r.members - 1),
        per_message: r.members - 1,
        elapsed,
        tally,
    }
    .print_after_drain(label, stop, readers)
    .await?;
    Ok(())
}

/// Room `i`'s IRC channel.
fn irc_room(i: usize) -> String {
    format!("#s3r{i}")
}

/// Lets the set-up's frames pass, then paces one sender per room: `rate` in all.
async fn rooms_measure<S>(
    r: &Rooms,
    set_up: &Instant,
    senders: Vec<Paced<S>>,
) -> Result<(u64, Duration)>
where
    S: Sink<String> + Unpin + Send + 'static,
{
    println!(
        "set up in {:.0} s; sending {} msg/s for {} s…",
        set_up.elapsed().as_secs_f64(),
        r.rate,
        r.secs
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let start = Instant::now();
    let schedule = Schedule::spread(r.rate, senders.len());
    let sent = pace(senders, schedule, r.secs, r.body_bytes).await?;
    Ok((sent, start.elapsed()))
}

/// Accounts needed for `sockets` sockets at `per_user` each.
fn accounts_for(sockets: usize, per_user: usize) -> usize {
    sockets.div_ceil(per_user.max(1))
}

/// The account socket `n` uses: each account's `per_user` sockets in a row.
fn account_of(socket: usize, per_user: usize) -> usize {
    socket / per_user.max(1)
}

/// Holds an idle socket open, reading (so it answers pings) until `stop`; counts it in
/// `closed` if the server closes it first.
async fn ws_idle(mut ws: Ws, closed: Arc<AtomicU64>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        let next = tokio::select! {
            next = ws.next() => next,
            _ = stop.wait_for(|stopped| *stopped) => return,
        };
        if !matches!(next, Some(Ok(_))) {
            break;
        }
    }
    closed.fetch_add(1, Ordering::Relaxed);
}

/// The same for an IRC client, which answers `PING`s itself.
async fn irc_idle(
    mut irc: Irc,
    closed: Arc<AtomicU64>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let next = tokio::select! {
            next = irc.next() => next,
            _ = stop.wait_for(|stopped| *stopped) => return,
        };
        let Some(Ok(line)) = next else { break };
        if let Frame::Ping(token) = irc_frame(&line, ParseMode::Full) {
            if irc.send(format!("PONG :{token}")).await.is_err() {
                break;
            }
        }
    }
    closed.fetch_add(1, Ordering::Relaxed);
}

async fn run_idle(i: Idle) -> Result<()> {
    if i.sockets == 0 || i.sockets_per_user == 0 {
        bail!("idle needs at least one socket and one socket per user");
    }
    check_descriptors(i.sockets)?;
    let closed = Arc::new(AtomicU64::new(0));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let run = now_micros() % 100_000;
    let http = reqwest::Client::new();
    let people = match i.server {
        IdleServer::Parlor => {
            let n = accounts_for(i.sockets, i.sockets_per_user);
            println!(
                "signing up {n} accounts for {} sockets at {} each…",
                i.sockets, i.sockets_per_user
            );
            accounts(&http, &i.base, n, "idle").await?
        }
        IdleServer::Irc | IdleServer::Axum => Vec::new(),
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_kib(i.server_pid)?;
    println!("opening {} idle sockets…", i.sockets);
    let opening = Instant::now();
    let holders: Vec<JoinHandle<()>> = match i.server {
        IdleServer::Parlor | IdleServer::Axum => futures::stream::iter(0..i.sockets)
            .map(|n| {
                let (i, people, closed, stopped) = (&i, &people, &closed, &stopped);
                async move {
                    let ws = match i.server {
                        IdleServer::Parlor => {
                            let per_user = i.sockets_per_user;
                            parlor_socket(&i.base, &people[account_of(n, per_user)])
                                .await
                                .with_context(|| {
                                    format!("socket {n} (is --sockets-per-user {per_user} above the server's --ws-per-user?)")
                                })?
                        }
                        _ => axum_socket(&i.url, &format!("i{run}x{n}"))
                            .await
                            .with_context(|| format!("connect socket {n}"))?,
                    };
                    Ok::<_, anyhow::Error>(tokio::spawn(ws_idle(
                        ws,
                        closed.clone(),
                        stopped.clone(),
                    )))
                }
            })
            .buffer_unordered(WS_CONNECTS)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_>>()?,
        IdleServer::Irc => {
            irc_clients(
                &i.addr,
                &i.channel,
                &format!("i{run}x"),
                i.sockets,
                true,
                |irc| tokio::spawn(irc_idle(irc, closed.clone(), stopped.clone())),
            )
            .await?
        }
    };
    println!(
        "opened {} sockets in {:.1} s; waiting {} s…",
        holders.len(),
        opening.elapsed().as_secs_f64(),
        i.settle_secs
    );
    tokio::time::sleep(Duration::from_secs(i.settle_secs)).await;
    let after = rss_kib(i.server_pid)?;
    let lost = closed.load(Ordering::Relaxed);
    let open = (i.sockets as u64).saturating_sub(lost);
    let lost = if lost > 0 {
        format!("; CLOSED by the server {lost}")
    } else {
        String::new()
    };
    let label = match i.server {
        IdleServer::Parlor => "idle-parlor",
        IdleServer::Irc => "idle-irc",
        IdleServer::Axum => "idle-axum",
    };
    println!(
        "{label}: {open} sockets open; server RSS {before} KiB -> {after} KiB; {:.1} KiB per idle socket{lost}",
        after.saturating_sub(before) as f64 / open.max(1) as f64
    );
    let _ = stop.send(true);
    for h in holders {
        h.await?;
    }
    Ok(())
}

/// The soft and hard limits on open files, from a `/proc/PID/limits` listing.
fn nofile_limits(limits: &str) -> Option<(u64, u64)> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut values = line["Max open files".len()..].split_whitespace().map(|v| {
        if v == "unlimited" {
            Some(u64::MAX)
        } else {
            v.parse().ok()
        }
    });
    Some((values.next()??, values.next()??))
}

/// Raises this process's soft limit on open files to its hard limit, with util-linux's
/// `prlimit` (the workspace forbids the `unsafe` a direct `setrlimit` would need). Where
/// that fails, `check_descriptors` asks for `ulimit -n`.
fn raise_descriptor_limit() {
    let Some((soft, hard)) = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| nofile_limits(&l))
    else {
        return;
    };
    if soft >= hard || hard == u64::MAX {
        return;
    }
    let _ = std::process::Command::new("prlimit")
        .arg("--pid")
        .arg(std::process::id().to_string())
        .arg(format!("--nofile={hard}:{hard}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// Fails early when this process may not open `sockets` sockets (and a few more files).
fn check_descriptors(sockets: usize) -> Result<()> {
    let Some((soft, hard)) = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| nofile_limits(&l))
    else {
        return Ok(());
    };
    let needed = sockets as u64 + 64;
    if hard < needed {
        bail!(
            "{sockets} sockets need about {needed} file descriptors but the hard limit is {hard}: open at most {} or raise the hard limit",
            hard.saturating_sub(64)
        );
    }
    if soft < needed {
        bail!(
            "{sockets} sockets need about {needed} file descriptors but the limit is {soft}: run `ulimit -n {hard}` first"
        );
    }
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
        let in_flight = p.in_flight.max(1);
        tasks.push(tokio::spawn(async move {
            let mut seq = 0u64;
            let mut waiting = 0usize;
            loop {
                // Up to `in_flight` sends unanswered; after the time is up, only the answers.
                while waiting < in_flight && Instant::now() < stop {
                    seq += 1;
                    let frame = json!({"type": "send", "room_id": room_id, "client_id": format!("{n}-{seq}"), "body": body(seq, 64)});
                    if ws.send(Message::text(frame.to_string())).await.is_err() {
                        return;
                    }
                    waiting += 1;
                }
                if waiting == 0 {
                    return;
                }
                match ws.next().await {
                    Some(Ok(Message::Text(t))) if t.as_str().starts_with("{\"type\":\"ack\"") => {
                        acked.fetch_add(1, Ordering::Relaxed);
                        waiting -= 1;
                    }
                    Some(Ok(Message::Text(t))) if t.as_str().starts_with("{\"type\":\"error\"") => {
                        waiting -= 1;
                    }
                    Some(Ok(_)) => {}
                    _ => return,
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
        "persist: {} senders ({} in flight each) stored {n} messages in {:.1} s: {:.0} messages/s",
        p.senders,
        p.in_flight.max(1),
        start.elapsed().as_secs_f64(),
        n as f64 / start.elapsed().as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    raise_descriptor_limit();
    match cli.command {
        Mode::Parlor(f) => run_parlor(f).await,
        Mode::AxumChat(f) => run_axum_chat(f).await,
        Mode::Irc(f) => run_irc(f).await,
        Mode::Rooms(r) => run_rooms(r).await,
        Mode::Idle(i) => run_idle(i).await,
        Mode::Persist(p) => run_persist(p).await,
        Mode::SeedSearch(s) => search::run_seed(s).await,
        Mode::Search(m) => search::run_measure(m).await,
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

    fn text_message(body: &str) -> ServerFrame {
        use domain::{message::MessageView, MessageId, RoomId, User, UserId};
        ServerFrame::Message {
            message: MessageView {
                id: MessageId::new(1),
                room_id: RoomId::new("r1"),
                author: Some(User {
                    id: UserId::new("u1"),
                    username: "lg1x0".into(),
                }),
                kind: MessageKind::Text,
                body: Some(body.into()),
                color: None,
                sticker: None,
                file: None,
                created_at: "2026-01-01T00:00:00Z".into(),
                edited_at: None,
                deleted: None,
                seq: MessageId::new(1),
                reply_to: None,
                reactions: Vec::new(),
                formatted: None,
                mentions: Vec::new(),
                mentions_room: false,
            },
        }
    }

    #[test]
    fn a_real_message_frame_yields_its_body_in_full_mode() {
        let frame = serde_json::to_string(&text_message("7:100:xx")).unwrap();
        assert_eq!(parlor_full(&frame), Frame::Body("7:100:xx".into()));
        // The same frame with its null fields left out, as the server may come to send it.
        let mut value = serde_json::to_value(text_message("8:100:xx")).unwrap();
        value["message"]
            .as_object_mut()
            .unwrap()
            .retain(|_, v| !v.is_null());
        assert!(!value.to_string().contains("null"));
        assert_eq!(
            parlor_full(&value.to_string()),
            Frame::Body("8:100:xx".into())
        );
        // Other frames are read but carry no body; what is not a frame is counted as bad.
        let mut sticker = text_message("");
        if let ServerFrame::Message { message } = &mut sticker {
            message.kind = MessageKind::Sticker;
        }
        let sticker = serde_json::to_string(&sticker).unwrap();
        assert_eq!(parlor_full(&sticker), Frame::Other);
        assert_eq!(parlor_full(r#"{"type":"pong"}"#), Frame::Other);
        assert_eq!(parlor_full(r#"{"type":"dance"}"#), Frame::Bad);
        // The scan finds the same body in the real frame.
        assert_eq!(parlor_scan(&frame), Frame::Body("7:100:xx".into()));
    }

    #[test]
    fn frames_of_the_chat_example_and_scanned_frames_yield_the_body() {
        let parlor = r#"{"type":"message","message":{"kind":"text","body":"7:100:xx"}}"#;
        assert_eq!(parlor_scan(parlor), Frame::Body("7:100:xx".into()));
        assert_eq!(parlor_scan(r#"{"type":"ack"}"#), Frame::Other);
        assert_eq!(axum_frame("r1: 7:100:xx"), Frame::Body("7:100:xx".into()));
        assert_eq!(axum_frame("r1 joined."), Frame::Other);
    }

    #[test]
    fn irc_lines_parse_into_prefix_command_params_and_trailing() {
        let m = IrcMessage::parse(":s1x0!s1x0@127.0.0.1 PRIVMSG #load :7:100:x y\r\n").unwrap();
        assert_eq!(m.prefix, Some("s1x0!s1x0@127.0.0.1"));
        assert_eq!(m.nick(), Some("s1x0"));
        assert_eq!(m.command, "PRIVMSG");
        assert_eq!(m.middle, ["#load"]);
        assert_eq!(m.trailing, Some("7:100:x y"));

        let m = IrcMessage::parse(":bench.local 324 r1x0 #load +Dnt").unwrap();
        assert_eq!(m.command, "324");
        assert_eq!(m.trailing, None);
        assert_eq!(m.params().collect::<Vec<_>>(), ["r1x0", "#load", "+Dnt"]);

        let m = IrcMessage::parse("@time=2026-01-01T00:00:00Z :n!u@h JOIN :#load").unwrap();
        assert_eq!((m.nick(), m.command), (Some("n"), "JOIN"));
        assert_eq!(m.params().collect::<Vec<_>>(), ["#load"]);

        let m = IrcMessage::parse("CMD a b c d e f g h i j k l m n o p").unwrap();
        assert_eq!(m.middle.len(), 14);
        assert_eq!(m.trailing, Some("o p"));

        for bad in ["", ":prefix-only", ":n!u@h", "  ", "BAD-CMD x"] {
            assert_eq!(IrcMessage::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn irc_receivers_take_privmsg_text_and_recognise_ping() {
        for parse in [ParseMode::Full, ParseMode::Scan] {
            assert_eq!(
                irc_frame(":s1x0!s@127.0.0.1 PRIVMSG #load :7:100:xx", parse),
                Frame::Body("7:100:xx".into())
            );
            assert_eq!(
                irc_frame("PING :bench.local", parse),
                Frame::Ping("bench.local")
            );
            assert_eq!(
                irc_frame(":bench.local 366 r1x0 #load :End of /NAMES list.", parse),
                Frame::Other
            );
        }
        assert_eq!(
            irc_frame("PING bench.local", ParseMode::Full),
            Frame::Ping("bench.local")
        );
        assert_eq!(irc_frame(":only-a-prefix", ParseMode::Full), Frame::Bad);
    }

    #[test]
    fn each_room_has_one_sender_and_the_rest_receive() {
        let (rooms, members) = (7, 5);
        let seats: Vec<Seat> = (0..rooms * members).map(|c| Seat::of(c, members)).collect();
        for room in 0..rooms {
            let in_room: Vec<&Seat> = seats.iter().filter(|s| s.room == room).collect();
            assert_eq!(in_room.len(), members);
            assert_eq!(in_room.iter().filter(|s| s.sends()).count(), 1);
            // The sender is the room's first client: the one that creates it.
            assert_eq!(Seat::of(room * members, members), Seat { room, member: 0 });
        }
        assert_eq!(
            seats.iter().filter(|s| !s.sends()).count(),
            rooms * (members - 1)
        );
        assert_eq!(irc_room(42), "#s3r42");
    }

    #[test]
    fn sockets_share_accounts_up_to_the_cap() {
        assert_eq!(accounts_for(15_000, 8), 1875);
        assert_eq!(accounts_for(15_001, 8), 1876);
        assert_eq!(accounts_for(5, 8), 1);
        assert_eq!(accounts_for(5, 1), 5);
        for (sockets, per_user) in [(15_001, 8), (100, 3), (7, 7), (1, 8)] {
            let accounts = accounts_for(sockets, per_user);
            let mut uses = vec![0; accounts];
            for n in 0..sockets {
                uses[account_of(n, per_user)] += 1;
            }
            assert!(uses.iter().all(|&u| u >= 1 && u <= per_user), "{uses:?}");
        }
    }

    /// Sends `schedule` makes in `secs` seconds for `n` senders, as `pace` counts them.
    fn scheduled(schedule: Schedule, n: usize, secs: u64) -> Vec<u64> {
        let stop = Duration::from_secs(secs);
        (0..n)
            .map(|j| {
                let mut at = schedule.first(j);
                let mut count = 0;
                while at < stop {
                    count += 1;
                    at += schedule.period;
                }
                count
            })
            .collect()
    }

    #[test]
    fn spread_senders_take_turns_at_the_total_rate() {
        // 1,000 rooms at 500 msg/s: each sends every 2 s, one send every 2 ms in all.
        let s = Schedule::spread(500, 1000);
        assert_eq!(s.period, Duration::from_secs(2));
        assert_eq!(s.stagger, Duration::from_millis(2));
        let sends = scheduled(s, 1000, 10);
        assert_eq!(sends.iter().sum::<u64>(), 5000);
        assert!(sends.iter().all(|&n| n == 5));
        // More messages than senders: each sends several times a second.
        let sends = scheduled(Schedule::spread(2000, 100), 100, 10);
        assert_eq!(sends.iter().sum::<u64>(), 20_000);
        // Every first send falls within the first period, in turn.
        for (rate, n) in [(500, 1000), (2000, 100), (3, 7)] {
            let s = Schedule::spread(rate, n);
            let firsts: Vec<Duration> = (0..n).map(|j| s.first(j)).collect();
            assert!(firsts.windows(2).all(|w| w[0] < w[1]));
            assert!(firsts[n - 1] < s.period);
        }
    }

    #[test]
    fn together_senders_each_send_their_share_at_once() {
        let s = Schedule::together(500, 20);
        assert_eq!(s.period, Duration::from_millis(40));
        assert_eq!(s.first(19), Duration::ZERO);
        assert_eq!(scheduled(s, 20, 10).iter().sum::<u64>(), 5000);
    }

    #[test]
    fn the_open_files_limit_is_read_from_proc() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max processes             63704                63704                processes \n\
                      Max open files            1024                 20000                files     \n";
        assert_eq!(nofile_limits(limits), Some((1024, 20000)));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(nofile_limits(unlimited), Some((u64::MAX, u64::MAX)));
        assert_eq!(nofile_limits("Max processes 1 2 processes\n"), None);
        // This process's own listing has the line.
        let own = std::fs::read_to_string("/proc/self/limits").unwrap();
        assert!(nofile_limits(&own).is_some());
    }
}
