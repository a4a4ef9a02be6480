//! `GET /ws`: the live channel. One socket per tab, authenticated by the session cookie
//! before the upgrade, `Origin` checked. A writer task drains the socket's bounded queue and
//! pings every 30 s; the reader handles client frames through the same services as the API.

use std::{
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc,
    },
    time::Duration,
};

use app::{
    ssr::{error_response, CurrentUser},
    AppError,
};
use axum::{
    extract::{
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade},
        State,
    },
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use domain::{
    wire::{ClientFrame, ServerFrame},
    ApiError, ErrorCode, RoomId, User,
};
use futures::{SinkExt, StreamExt};
use service::{
    messages::{Draft, Queued},
    session_store::DbSessionStore,
    Messages, Rooms, ServiceError,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::hub::{frame, LiveHub};

/// Largest frame or message a client may send: a 4000-character body fits with room to spare.
pub const MAX_FRAME: usize = 32 * 1024;
const MISSED_PONGS: u32 = 2;

#[derive(Clone)]
pub struct Live {
    pub hub: Arc<LiveHub>,
    pub rooms: Rooms,
    pub messages: Messages,
    /// The site's public origin (`https://chat.example.org`), if configured; otherwise an
    /// `Origin` must match the `Host` the client connected to.
    pub public_origin: Option<String>,
    pub shutdown: CancellationToken,
    pub tasks: TaskTracker,
    /// Where sessions are kept: a socket closes when the session that opened it expires.
    pub sessions: DbSessionStore,
    /// How often each socket is pinged (30 s by default).
    pub ping_every: Duration,
}

pub async fn upgrade(
    State(live): State<Live>,
    caller: Result<CurrentUser, AppError>,
    client: crate::client_addr::ClientAddr,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !crate::guards::same_origin(&headers, live.public_origin.as_deref()) {
        return error_response(&ApiError::new(
            ErrorCode::Forbidden,
            "This page's origin may not open Parlor's live channel.",
        ));
    }
    let CurrentUser { user, session_id } = match caller {
        Ok(caller) => caller,
        Err(refused) => return refused.into_response(),
    };
    ws.max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(64 * 1024)
        .on_upgrade(move |socket| {
            let tasks = live.tasks.clone();
            tasks.track_future(serve(socket, user, session_id, client.0, live))
        })
}

async fn serve(
    socket: WebSocket,
    user: User,
    session_id: Option<String>,
    addr: Option<std::net::IpAddr>,
    live: Live,
) {
    let (mut sink, stream) = socket.split();
    let conn = match live.hub.connect(&user, session_id, addr) {
        Ok(conn) => conn,
        Err(too_many) => {
            tracing::info!(user_id = %user.id, ?addr, ?too_many, "live channel refused");
            // 1008: policy violation; the reason says which limit.
            close(&mut sink, 1008, too_many.reason()).await;
            return;
        }
    };
    let conn_id = conn.id;
    tracing::info!(user_id = %user.id, conn = conn_id, "live channel opened");
    // Boxed, as the reader's sends are: only while it runs does its state take room.
    let Some(rooms) = Box::pin(subscribe_to_rooms(&live, &user, conn_id)).await else {
        close(&mut sink, 1013, "try again later").await;
        live.hub.disconnect(conn_id);
        return;
    };
    live.hub
        .to_conn(conn_id, &frame(&ServerFrame::Ready { rooms }));
    let missed = Arc::new(AtomicU32::new(0));
    let cancel = conn.cancel.clone();
    // A session can also end by expiring; the socket it opened ends with it.
    let expiry = session_expiry(live.clone(), conn_id, conn.signed_out.clone());
    let writer = write_loop(
        sink,
        conn.frames,
        missed.clone(),
        cancel.clone(),
        SignedOut {
            token: conn.signed_out,
            account_deleted: conn.account_deleted,
        },
        live.shutdown.clone(),
        live.ping_every,
    );
    // The reader hands sends to the writer and reads on; the acker answers them in order as
    // they commit, so one socket keeps up to `IN_FLIGHT` sends in one group commit.
    let (pending, acks) = tokio::sync::mpsc::channel(IN_FLIGHT);
    let reader = async {
        tokio::join!(
            read_loop(stream, &user, conn_id, &live, missed, pending),
            ack_loop(acks, conn_id, &live),
        );
    };
    tokio::select! {
        () = writer => {},
        () = reader => {},
        () = expiry => {},
        // A socket that fell behind gets 2 s to take its close frame, then is dropped.
        () = async { cancel.cancelled().await; tokio::time::sleep(Duration::from_secs(2)).await } => {},
    }
    live.hub.disconnect(conn_id);
    tracing::info!(user_id = %user.id, conn = conn_id, "live channel closed");
}

/// Watches the session a socket belongs to: when it has expired (looked at again at each
/// expiry, since the person's activity in other tabs moves it on), `signed_out` is
/// cancelled, which closes the socket as a logout does. The session is looked up under the
/// id the hub has for the socket now, which a password change renews. Never completes by
/// itself.
async fn session_expiry(live: Live, conn: u64, signed_out: CancellationToken) {
    use tower_sessions::{session::Id, SessionStore};
    let current = || live.hub.session_of(conn).and_then(|s| s.parse::<Id>().ok());
    loop {
        let Some(id) = current() else {
            return std::future::pending().await;
        };
        match live.sessions.load(&id).await {
            Ok(Some(record)) => {
                let left = record.expiry_date - time::OffsetDateTime::now_utc();
                let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
                tokio::time::sleep(left + Duration::from_millis(500)).await;
            }
            Ok(None) => {
                // A renewal deletes the old id before it stores the new one and tells the
                // hub: give it that moment before calling the session gone.
                tokio::time::sleep(RENEWAL_GRACE).await;
                if current().is_some_and(|now| now != id) {
                    continue;
                }
                tracing::info!("a live channel's session expired; closing it");
                signed_out.cancel();
                return std::future::pending().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read a live channel's session");
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
        }
    }
}

/// How long a socket whose session id vanished waits to hear of its renewal.
const RENEWAL_GRACE: Duration = Duration::from_secs(2);

/// Subscribes a new socket to its user's rooms as the database has them. Membership
/// changes delivered while the rooms were being read make the read stale, so it is read
/// again; `None` when the rooms could not be read.
async fn subscribe_to_rooms(live: &Live, user: &User, conn: u64) -> Option<Vec<RoomId>> {
    for _ in 0..10 {
        let seen = live.hub.membership_version(conn);
        let rooms: Vec<RoomId> = match live.rooms.mine(&user.id).await {
            Ok(rooms) => rooms.into_iter().map(|r| r.room.id).collect(),
            Err(e) => {
                tracing::error!(error = %e, "could not load rooms for a socket");
                return None;
            }
        };
        if live.hub.subscribe_if_unchanged(conn, &rooms, seen) {
            return Some(rooms);
        }
    }
    tracing::warn!(user_id = %user.id, conn, "memberships kept changing while a socket opened");
    None
}

async fn close(
    sink: &mut futures::stream::SplitSink<WebSocket, Message>,
    code: u16,
    reason: &'static str,
) {
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }));
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(frame)).await;
}

/// The end of the session (or the account) that authorised a socket.
struct SignedOut {
    token: CancellationToken,
    account_deleted: Arc<std::sync::atomic::AtomicBool>,
}

async fn write_loop(
    mut sink: futures::stream::SplitSink<WebSocket, Message>,
    mut frames: tokio::sync::mpsc::Receiver<crate::hub::Frame>,
    missed: Arc<AtomicU32>,
    cancel: CancellationToken,
    signed_out: SignedOut,
    shutdown: CancellationToken,
    ping_every: Duration,
) {
    let ping_every = ping_every.max(Duration::from_millis(10));
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    // Made once, not once per frame: every socket shares the shutdown token, and a fresh
    // `cancelled()` each time would register with its lock for every frame sent.
    let fell_behind = cancel.cancelled();
    let going_away = shutdown.cancelled();
    let session_ended = signed_out.token.cancelled();
    tokio::pin!(fell_behind, going_away, session_ended);
    loop {
        tokio::select! {
            biased;
            () = &mut going_away => {
                close(&mut sink, 1001, "going away").await;
                return;
            }
            () = &mut session_ended => {
                // 1008: the session that authorised this socket ended; the reason says
                // whether the account went with it (the page then says so).
                let reason = if signed_out.account_deleted.load(Ordering::Relaxed) {
                    "account deleted"
                } else {
                    "signed out"
                };
                close(&mut sink, 1008, reason).await;
                return;
            }
            () = &mut fell_behind => {
                // 1013: try again later. The client reconnects and catches up.
                close(&mut sink, 1013, "falling behind: reconnect and resync").await;
                return;
            }
            next = frames.recv() => match next {
                Some(f) => {
                    if write_burst(&mut sink, f, &mut frames).await.is_err() {
                        return;
                    }
                }
                None => return,
            },
            _ = ping.tick() => {
                if missed.fetch_add(1, Ordering::Relaxed) >= MISSED_PONGS {
                    close(&mut sink, 1001, "no answer to pings").await;
                    return;
                }
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Most frames a socket writes before one flush.
const BURST: usize = 64;

/// Writes `first` and whatever else is already queued (up to [`BURST`]), then flushes once:
/// under load a room's fan-out then costs one write syscall per burst, not one per frame.
async fn write_burst(
    sink: &mut futures::stream::SplitSink<WebSocket, Message>,
    first: crate::hub::Frame,
    frames: &mut tokio::sync::mpsc::Receiver<crate::hub::Frame>,
) -> Result<(), axum::Error> {
    sink.feed(Message::Text(first)).await?;
    for _ in 1..BURST {
        match frames.try_recv() {
            Ok(f) => sink.feed(Message::Text(f)).await?,
            Err(_) => break,
        }
    }
    sink.flush().await
}

/// Most sends of one socket waiting for their commit. Past it the reader stops reading, so a
/// client that outpaces the database is slowed by TCP, not buffered.
const IN_FLIGHT: usize = 32;

/// A send on its way to the database, with the client's id for its answer. Boxed: a
/// channel allocates room for 32 entries up front, so every socket, idle or not, pays for
/// the entry's size 32 times (3 KiB unboxed, docs/BENCHMARKS.md S1).
type Pending = Box<(String, Result<Queued, ServiceError>)>;

async fn read_loop(
    mut stream: futures::stream::SplitStream<WebSocket>,
    user: &User,
    conn: u64,
    live: &Live,
    missed: Arc<AtomicU32>,
    pending: tokio::sync::mpsc::Sender<Pending>,
) {
    while let Some(msg) = stream.next().await {
        let msg = match msg {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(error = %e, conn, "socket read failed");
                return;
            }
        };
        // Any sign of life counts as an answer to our pings.
        missed.store(0, Ordering::Relaxed);
        match msg {
            Message::Text(text) => {
                // Boxed: the send path's state would otherwise be part of every socket's
                // task while it sits idle (docs/BENCHMARKS.md S1).
                if let Some(send) = Box::pin(handle(text.as_str(), user, conn, live)).await {
                    if pending.send(send).await.is_err() {
                        return;
                    }
                }
            }
            Message::Binary(_) => reply_error(
                live,
                conn,
                ApiError::new(
                    ErrorCode::InvalidInput,
                    "Binary frames are not accepted; send JSON text frames.",
                ),
                None,
            ),
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}

fn reply_error(live: &Live, conn: u64, err: ApiError, client_id: Option<String>) {
    live.hub
        .to_conn(conn, &frame(&ServerFrame::error(err, client_id)));
}

/// Answers `ack` or `error` to each send, in the order they were read, as each commits.
async fn ack_loop(mut acks: tokio::sync::mpsc::Receiver<Pending>, conn: u64, live: &Live) {
    while let Some(pending) = acks.recv().await {
        let (client_id, queued) = *pending;
        let stored = match queued {
            Ok(queued) => queued.stored().await,
            Err(refused) => Err(refused),
        };
        match stored {
            Ok(message) => live
                .hub
                .to_conn(conn, &frame(&ServerFrame::Ack { client_id, message })),
            Err(e) => reply_error(live, conn, ApiError::from(e), Some(client_id)),
        }
    }
}

/// Handles one client frame; a send comes back to be answered once it is stored.
async fn handle(text: &str, user: &User, conn: u64, live: &Live) -> Option<Pending> {
    let parsed: ClientFrame = match serde_json::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            let err = ApiError::new(
                ErrorCode::InvalidInput,
                format!("That frame is not valid: {e}."),
            );
            reply_error(live, conn, err, None);
            return None;
        }
    };
    match parsed {
        ClientFrame::Ping => {
            live.hub.to_conn(conn, &frame(&ServerFrame::Pong));
            None
        }
        ClientFrame::Typing { room_id } => {
            live.hub.typing(conn, user, &room_id);
            None
        }
        ClientFrame::Send {
            room_id,
            client_id,
            body,
            color,
            sticker,
        } => {
            let draft = Draft {
                known_member: live.hub.is_subscribed(conn, &room_id),
                room_id,
                client_id: client_id.clone(),
                body,
                color,
                sticker,
                origin: Some(conn),
            };
            Some(Box::new((
                client_id,
                live.messages.queue(user, draft).await,
            )))
        }
    }
}
