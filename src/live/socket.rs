//! `GET /ws`: the live channel. One socket per tab, authenticated by the session cookie (or
//! an access token) before the upgrade, `Origin` checked. A writer task drains the socket's bounded queue and
//! pings every 30 s; the reader handles client frames through the same services as the API.
//! Every close says why with its own code (`domain::wire::Close`).

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
    message::{ClientId, Outgoing, OutgoingFields},
    token::TokenScope,
    wire::{ClientFrame, Close, ServerFrame},
    ApiError, ErrorCode, RoomId, User,
};
use futures::{SinkExt, StreamExt};
use service::{messages::Queued, session_store::DbSessionStore, Messages, Rooms, ServiceError};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{frame, registry::SocketHandle, sessions::watch_expiry, Frame, LiveHub, SocketId};

/// Largest frame or message a client may send: a 4000-character body fits with room to spare.
pub const MAX_FRAME: usize = 32 * 1024;
const MISSED_PONGS: u32 = 2;

#[derive(Clone)]
pub struct LiveChannel {
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
    /// Access tokens: a socket a token opened closes when the token expires or goes.
    pub tokens: service::Tokens,
    /// How often each socket is pinged (30 s by default).
    pub ping_every: Duration,
}

pub async fn upgrade(
    State(live): State<LiveChannel>,
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
    let CurrentUser {
        user,
        session_id,
        scope,
    } = match caller {
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
            tasks.track_future(serve(socket, user, session_id, scope, client.0, live))
        })
}

async fn serve(
    socket: WebSocket,
    user: User,
    session_id: Option<String>,
    scope: Option<TokenScope>,
    addr: Option<std::net::IpAddr>,
    live: LiveChannel,
) {
    let (mut sink, stream) = socket.split();
    let conn = match live.hub.connect(&user, session_id, addr) {
        Ok(conn) => conn,
        Err(too_many) => {
            tracing::info!(user_id = %user.id, ?addr, ?too_many, "live channel refused");
            close(&mut sink, too_many).await;
            return;
        }
    };
    let conn_id = conn.id;
    tracing::info!(user_id = %user.id, conn = %conn_id, "live channel opened");
    // Boxed, as the reader's sends are: only while it runs does its state take room.
    let Some(rooms) = Box::pin(subscribe_to_rooms(&live, &user, conn_id)).await else {
        close(&mut sink, Close::TryLater).await;
        live.hub.disconnect(conn_id);
        return;
    };
    live.hub
        .to_conn(conn_id, &frame(&ServerFrame::Ready { rooms }));
    let missed = Arc::new(AtomicU32::new(0));
    let cancel = conn.cancel.clone();
    // A session can also end by expiring; the socket it opened ends with it.
    let expiry = watch_expiry(live.clone(), conn_id, conn.signed_out.clone());
    let writer = write_loop(
        sink,
        conn,
        missed.clone(),
        live.shutdown.clone(),
        live.ping_every,
    );
    // The reader hands sends to the writer and reads on; the acker answers them in order as
    // they commit, so one socket keeps up to `IN_FLIGHT` sends in one group commit.
    let (pending, acks) = tokio::sync::mpsc::channel(IN_FLIGHT);
    let reader = async {
        tokio::join!(
            read_loop(stream, &user, scope, conn_id, &live, missed, pending),
            ack_loop(acks, &user, conn_id, &live),
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
    tracing::info!(user_id = %user.id, conn = %conn_id, "live channel closed");
}

/// Subscribes a new socket to its user's rooms as the database has them. Membership
/// changes delivered while the rooms were being read make the read stale, so it is read
/// again; `None` when the rooms could not be read.
async fn subscribe_to_rooms(
    live: &LiveChannel,
    user: &User,
    conn: SocketId,
) -> Option<Vec<RoomId>> {
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
    tracing::warn!(user_id = %user.id, %conn, "memberships kept changing while a socket opened");
    None
}

async fn close(sink: &mut futures::stream::SplitSink<WebSocket, Message>, why: Close) {
    let frame = Message::Close(Some(CloseFrame {
        code: why.code(),
        reason: Utf8Bytes::from_static(why.reason()),
    }));
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(frame)).await;
}

async fn write_loop(
    mut sink: futures::stream::SplitSink<WebSocket, Message>,
    conn: SocketHandle,
    missed: Arc<AtomicU32>,
    shutdown: CancellationToken,
    ping_every: Duration,
) {
    let ping_every = ping_every.max(Duration::from_millis(10));
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    // Made once, not once per frame: every socket shares the shutdown token, and a fresh
    // `cancelled()` each time would register with its lock for every frame sent.
    let SocketHandle {
        mut frames,
        cancel,
        signed_out,
        account_deleted,
        ..
    } = conn;
    let fell_behind = cancel.cancelled();
    let going_away = shutdown.cancelled();
    let session_ended = signed_out.cancelled();
    tokio::pin!(fell_behind, going_away, session_ended);
    loop {
        tokio::select! {
            biased;
            () = &mut going_away => {
                close(&mut sink, Close::GoingAway).await;
                return;
            }
            () = &mut session_ended => {
                // The session (or the account) that authorised this socket ended.
                let why = if account_deleted.load(Ordering::Relaxed) {
                    Close::AccountDeleted
                } else {
                    Close::SignedOut
                };
                close(&mut sink, why).await;
                return;
            }
            () = &mut fell_behind => {
                // The client reconnects and catches up.
                close(&mut sink, Close::Resync).await;
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
                    close(&mut sink, Close::NoPong).await;
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
    first: Frame,
    frames: &mut tokio::sync::mpsc::Receiver<Frame>,
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
type InFlight = Box<(ClientId, Result<Queued, ServiceError>)>;

async fn read_loop(
    mut stream: futures::stream::SplitStream<WebSocket>,
    user: &User,
    scope: Option<TokenScope>,
    conn: SocketId,
    live: &LiveChannel,
    missed: Arc<AtomicU32>,
    pending: tokio::sync::mpsc::Sender<InFlight>,
) {
    while let Some(msg) = stream.next().await {
        let msg = match msg {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(error = %e, %conn, "socket read failed");
                return;
            }
        };
        // Any sign of life counts as an answer to our pings.
        missed.store(0, Ordering::Relaxed);
        match msg {
            Message::Text(text) => {
                // Boxed: the send path's state would otherwise be part of every socket's
                // task while it sits idle (docs/BENCHMARKS.md S1).
                if let Some(send) = Box::pin(handle(text.as_str(), user, scope, conn, live)).await {
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

fn reply_error(live: &LiveChannel, conn: SocketId, err: ApiError, client_id: Option<ClientId>) {
    live.hub
        .to_conn(conn, &frame(&ServerFrame::error(err, client_id)));
}

/// Answers `ack` or `error` to each send, in the order they were read, as each commits.
async fn ack_loop(
    mut acks: tokio::sync::mpsc::Receiver<InFlight>,
    user: &User,
    conn: SocketId,
    live: &LiveChannel,
) {
    while let Some(pending) = acks.recv().await {
        let (client_id, queued) = *pending;
        let stored = match queued {
            Ok(queued) => queued.stored().await,
            Err(refused) => Err(refused),
        };
        live.hub.acked(&user.id, &client_id);
        match stored {
            Ok(message) => live
                .hub
                .to_conn(conn, &frame(&ServerFrame::Ack { client_id, message })),
            Err(e) => reply_error(live, conn, ApiError::from(e), Some(client_id)),
        }
    }
}

/// Handles one client frame; a send comes back to be answered once it is stored.
async fn handle(
    text: &str,
    user: &User,
    scope: Option<TokenScope>,
    conn: SocketId,
    live: &LiveChannel,
) -> Option<InFlight> {
    let parsed: ClientFrame = match serde_json::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            let (err, client_id) = refusal(text, &e);
            reply_error(live, conn, err, client_id);
            return None;
        }
    };
    // A socket opened with an access token does, frame by frame, what its scope allows.
    if let Some(Err(refused)) = scope.map(|s| s.permits(parsed.reach())) {
        let client_id = match &parsed {
            ClientFrame::Send(send) => Some(send.client_id.clone()),
            _ => None,
        };
        reply_error(live, conn, refused, client_id);
        return None;
    }
    match parsed {
        ClientFrame::Ping => {
            live.hub.to_conn(conn, &frame(&ServerFrame::Pong));
            None
        }
        ClientFrame::Typing { room_id } => {
            live.hub.typing(conn, user, &room_id);
            None
        }
        ClientFrame::Send(send) => Some(queue(send, user, conn, live).await),
        // Everyone in the room, this socket included, gets the `message_updated` frame;
        // only a refusal is answered here.
        ClientFrame::Edit { message_id, body } => {
            if let Err(e) = live.messages.edit(user, message_id, &body).await {
                reply_error(live, conn, ApiError::from(e), None);
            }
            None
        }
        ClientFrame::Delete { message_id, reason } => {
            let deleted = live
                .messages
                .delete(user, message_id, reason.as_deref())
                .await;
            if let Err(e) = deleted {
                reply_error(live, conn, ApiError::from(e), None);
            }
            None
        }
        ClientFrame::React {
            message_id,
            emoji,
            on,
        } => {
            let reacted = live.messages.react(user, message_id, &emoji, on).await;
            if let Err(e) = reacted {
                reply_error(live, conn, ApiError::from(e), None);
            }
            None
        }
        // Every socket of the reader's, this one included, gets the `read` frame.
        ClientFrame::Read {
            room_id,
            message_id,
        } => {
            let read = live
                .messages
                .mark_read(&user.id, &room_id, message_id)
                .await;
            if let Err(e) = read {
                reply_error(live, conn, ApiError::from(e), None);
            }
            None
        }
    }
}

/// Hands a send to the writer; the socket waits for its `ack`, not the message.
async fn queue(send: Outgoing, user: &User, conn: SocketId, live: &LiveChannel) -> InFlight {
    let client_id = send.client_id.clone();
    live.hub.await_ack(&user.id, &client_id, conn);
    Box::new((client_id, live.messages.queue(user, send).await))
}

/// Why a frame could not be read, in the API's words: a `send` whose fields break a rule
/// is refused for that rule (with its client id, when that one is sound), like the API's
/// `messages/send`.
fn refusal(text: &str, e: &serde_json::Error) -> (ApiError, Option<ClientId>) {
    #[derive(serde::Deserialize)]
    struct Tag {
        #[serde(rename = "type")]
        kind: String,
    }
    let not_valid = || {
        ApiError::new(
            ErrorCode::InvalidInput,
            format!("That frame is not valid: {e}."),
        )
    };
    let Ok(Tag { kind }) = serde_json::from_str::<Tag>(text) else {
        return (not_valid(), None);
    };
    if kind != "send" {
        return (not_valid(), None);
    }
    match serde_json::from_str::<OutgoingFields>(text) {
        Ok(fields) => {
            let client_id = ClientId::parse(&fields.client_id).ok();
            let err = Outgoing::try_from(fields).err().unwrap_or_else(not_valid);
            (err, client_id)
        }
        Err(_) => (not_valid(), None),
    }
}
