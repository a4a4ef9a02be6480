//! The connection loop (docs/SECURITY.md, "Slow clients"): hyper with a timer, so a client
//! must send a request's headers within the header-read timeout; a connection with no
//! request in flight for that long is closed, HTTP/1 and HTTP/2 alike; and caps on open HTTP
//! connections, in all and per client address, past which a new one is closed at once.
//! axum's own `serve` sets no timer, so a few thousand connections trickling header bytes
//! would hold their file descriptors for ever.

use std::{
    collections::HashMap,
    convert::Infallible,
    future::Future,
    net::IpAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{extract::ConnectInfo, Router};
use hyper::{body::Incoming, Request};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower::ServiceExt;

use crate::client_addr::TrustedProxies;

#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// A request's headers must arrive within this; a connection with no request in flight
    /// closes after it.
    pub header_read_timeout: Duration,
    /// Open HTTP connections at most (upgraded WebSockets have limits of their own).
    pub max_connections: usize,
    /// Open HTTP connections from one address at most; a trusted proxy's are not counted.
    pub max_per_address: usize,
}

/// Open connections per peer address.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

impl PerAddress {
    fn take(self: &Arc<Self>, addr: IpAddr, max: usize) -> Option<AddressSlot> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(addr).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(AddressSlot(self.clone(), addr))
    }
}

/// A connection's place among its address's, given back when it closes.
struct AddressSlot(Arc<PerAddress>, IpAddr);

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.0 .0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.1) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.1);
            }
        }
    }
}

/// Requests in flight on one connection, and when the last one ended.
#[derive(Default)]
struct Activity {
    in_flight: AtomicUsize,
    /// Bumped whenever a request starts or ends, so an idle timer knows to wait again.
    changes: AtomicUsize,
}

impl Activity {
    fn begin(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.changes.fetch_add(1, Ordering::Relaxed);
        RequestGuard(self.clone())
    }
}

struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.changes.fetch_add(1, Ordering::Relaxed);
    }
}

/// Completes once the connection has had no request in flight for `idle`.
async fn idle_for(activity: &Activity, idle: Duration) {
    loop {
        let seen = activity.changes.load(Ordering::Relaxed);
        tokio::time::sleep(idle).await;
        let quiet = activity.changes.load(Ordering::Relaxed) == seen;
        if quiet && activity.in_flight.load(Ordering::Relaxed) == 0 {
            return;
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets the requests in
/// flight finish (for at most 10 s).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    trusted: TrustedProxies,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_address = Arc::new(PerAddress::default());
    let stopping = CancellationToken::new();
    let connections = TaskTracker::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(limits.header_read_timeout));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, most likely: give the open ones a moment.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "connection cap reached; closing a new connection");
            drop(stream);
            continue;
        };
        let address_slot = if trusted.trusts(peer.ip()) {
            None
        } else {
            match per_address.take(peer.ip(), limits.max_per_address.max(1)) {
                Some(slot) => Some(slot),
                None => {
                    tracing::debug!(%peer, "per-address connection cap reached; closing it");
                    drop(stream);
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let (builder, stopping) = (builder.clone(), stopping.clone());
        let idle = limits.header_read_timeout;
        connections.spawn(async move {
            let _held = (permit, address_slot);
            // hyper's header timer starts with the first byte (it must read some to tell
            // HTTP/1 from HTTP/2): a client that sends nothing is closed here.
            // Nor does one that has sent nothing hold up a stopping server.
            let mut first = [0u8; 1];
            tokio::select! {
                peeked = tokio::time::timeout(idle, stream.peek(&mut first)) => match peeked {
                    Ok(Ok(n)) if n > 0 => {}
                    _ => return,
                },
                () = stopping.cancelled() => return,
            }
            let activity = Arc::new(Activity::default());
            let service = {
                let activity = activity.clone();
                hyper::service::service_fn(move |mut req: Request<Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    let (router, busy) = (router.clone(), activity.begin());
                    async move {
                        let res = router.oneshot(req).await.unwrap_or_else(|e| match e {});
                        drop(busy);
                        Ok::<_, Infallible>(res)
                    }
                })
            };
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let mut closing = false;
            loop {
                tokio::select! {
                    done = conn.as_mut() => {
                        if let Err(e) = done {
                            tracing::debug!(error = %e, %peer, "connection ended with an error");
                        }
                        return;
                    }
                    // Idle (HTTP/2 has no timer of its own for that), or the server is
                    // stopping: finish what is in flight, take nothing new.
                    () = idle_for(&activity, idle), if !closing => {
                        closing = true;
                        conn.as_mut().graceful_shutdown();
                    }
                    () = stopping.cancelled(), if !closing => {
                        closing = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        });
    }
    drop(listener);
    stopping.cancel();
    connections.close();
    if tokio::time::timeout(Duration::from_secs(10), connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within 10 s");
    }
}
