//! The Redis backplane (README, "Running several instances"): with `--redis-url`, every
//! instance relays what its hub publishes to one Redis pub/sub channel, and feeds what the
//! others relay into its own hub. Each item carries the id of the instance that sent it, so
//! an instance skips its own and nothing is delivered twice.
//!
//! Redis is not the store: messages are in the database before they are relayed. When Redis
//! drops, each instance keeps serving its own sockets, logs the fault once and reconnects
//! with capped, jittered backoff; once back, it closes its sockets with "reconnect and
//! resync", so every client catches up on what it missed through `messages/since`.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::Context;
use futures::StreamExt;
use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{
    relay::{Relayed, HELLO_EVERY},
    LiveHub,
};

/// Items waiting for Redis at most; past this they are dropped and counted (see
/// [`LiveHub`]'s `relay`), so a slow Redis never holds up a send.
const QUEUE: usize = 16 * 1024;
/// Most items sent to Redis in one round trip.
const PIPELINE: usize = 256;
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// One item on the channel.
#[derive(Serialize, Deserialize)]
struct Envelope {
    /// The instance that sent it.
    from: String,
    /// When it was sent, in microseconds since the epoch (for the lag metric).
    sent_us: u64,
    item: Relayed,
}

/// Whether Redis answers, for `/readyz` and for logging each outage once: the subscription
/// (what others send reaches this instance) and publishing (what this one sends leaves).
pub struct Health {
    subscribed: AtomicBool,
    publishing: AtomicBool,
}

impl Default for Health {
    /// Not subscribed yet: degraded until the first subscription.
    fn default() -> Self {
        Self {
            subscribed: AtomicBool::new(false),
            publishing: AtomicBool::new(true),
        }
    }
}

impl Health {
    /// Whether live events may be missing between this instance and the others.
    pub fn is_degraded(&self) -> bool {
        !self.subscribed.load(Ordering::Relaxed) || !self.publishing.load(Ordering::Relaxed)
    }

    /// Records one side's state; the instance as a whole logs once when it becomes
    /// degraded (whichever side noticed) and once when it is whole again.
    fn set(&self, which: &AtomicBool, up: bool, what: &str, error: Option<&dyn std::fmt::Display>) {
        let before = self.is_degraded();
        which.store(up, Ordering::Relaxed);
        let after = self.is_degraded();
        let error = error.map(ToString::to_string).unwrap_or_default();
        match (before, after) {
            (false, true) => tracing::warn!(
                %error,
                "Redis backplane lost ({what}); serving this instance's sockets only until it is back"
            ),
            (true, false) => tracing::info!("Redis backplane connected ({what})"),
            _ if !up => tracing::debug!(%error, "Redis backplane still unreachable ({what})"),
            _ => {}
        }
        metrics::gauge!("parlor_backplane_up").set(if after { 0.0 } else { 1.0 });
    }
}

/// A running backplane: the tasks stop with `stop`.
pub struct Backplane {
    pub health: Arc<Health>,
}

impl Backplane {
    /// Connects `hub` to the other instances through the Redis at `url`, on `channel`.
    /// Only a malformed URL fails: an unreachable Redis is retried in the background.
    pub fn start(
        url: &str,
        channel: String,
        hub: Arc<LiveHub>,
        stop: CancellationToken,
    ) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).context("the Redis URL is not valid")?;
        let me = format!("{:016x}", rand::rng().random::<u64>());
        tracing::info!(instance = %me, %channel, "relaying live events through Redis");
        let health = Arc::new(Health::default());
        let (tx, rx) = mpsc::channel(QUEUE);
        hub.relay_to(tx.clone());
        tokio::spawn(publish_loop(
            client.clone(),
            channel.clone(),
            me.clone(),
            rx,
            health.clone(),
            stop.clone(),
        ));
        tokio::spawn(subscribe_loop(
            client,
            channel,
            me,
            hub,
            health.clone(),
            stop.clone(),
        ));
        tokio::spawn(async move {
            let mut every = tokio::time::interval(HELLO_EVERY);
            loop {
                tokio::select! {
                    _ = every.tick() => { let _ = tx.try_send(Relayed::Hello); }
                    () = stop.cancelled() => return,
                }
            }
        });
        Ok(Self { health })
    }
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// Sends the hub's items to Redis in the order relayed, many per round trip.
async fn publish_loop(
    client: redis::Client,
    channel: String,
    me: String,
    mut items: mpsc::Receiver<Relayed>,
    health: Arc<Health>,
    stop: CancellationToken,
) {
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_max_delay(BACKOFF_MAX)
        .set_number_of_retries(1);
    let mut conn = match client.get_connection_manager_lazy(config) {
        Ok(conn) => conn,
        Err(e) => {
            tracing::error!(error = %e, "cannot make a Redis connection manager");
            return;
        }
    };
    let mut batch = Vec::with_capacity(PIPELINE);
    loop {
        let first = tokio::select! {
            item = items.recv() => item,
            () = stop.cancelled() => return,
        };
        let Some(first) = first else { return };
        batch.push(first);
        while batch.len() < PIPELINE {
            match items.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let mut pipe = redis::pipe();
        let mut count = 0u64;
        let sent_us = now_us();
        for item in batch.drain(..) {
            let envelope = Envelope {
                from: me.clone(),
                sent_us,
                item,
            };
            match serde_json::to_vec(&envelope) {
                Ok(payload) => {
                    pipe.cmd("PUBLISH").arg(&channel).arg(payload).ignore();
                    count += 1;
                }
                Err(e) => tracing::error!(error = %e, "a live event could not be serialised"),
            }
        }
        // A connection found broken is replaced by the manager: one quick retry then lands
        // on the new one, so the first events after an outage are not lost with the old.
        let mut sent = pipe.query_async::<()>(&mut conn).await;
        if sent.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            sent = pipe.query_async::<()>(&mut conn).await;
        }
        match sent {
            Ok(()) => {
                health.set(&health.publishing, true, "publishing", None);
                metrics::counter!("parlor_backplane_published_total").increment(count);
            }
            Err(e) => {
                health.set(&health.publishing, false, "publishing", Some(&e));
                metrics::counter!("parlor_backplane_dropped_total").increment(count);
            }
        }
    }
}

/// Subscribes to the channel and feeds what the other instances send into the hub; after
/// a loss, reconnects with backoff and has every client here resync.
async fn subscribe_loop(
    client: redis::Client,
    channel: String,
    me: String,
    hub: Arc<LiveHub>,
    health: Arc<Health>,
    stop: CancellationToken,
) {
    let mut backoff = BACKOFF_FIRST;
    // Any failure so far: sockets open meanwhile may have missed what others published.
    let mut lost_once = false;
    let mut ever_subscribed = false;
    loop {
        let subscribed = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let attempt = tokio::select! {
            attempt = tokio::time::timeout(Duration::from_secs(5), subscribed) => attempt,
            () = stop.cancelled() => return,
        };
        match attempt {
            Ok(Ok(pubsub)) => {
                health.set(&health.subscribed, true, "subscribed", None);
                ever_subscribed = true;
                backoff = BACKOFF_FIRST;
                if lost_once {
                    // What the others published meanwhile never came: clients here catch up.
                    hub.resync_all();
                }
                // The others learn who is online here (and that this instance is back).
                hub.republish_presence();
                let mut messages = pubsub.into_on_message();
                loop {
                    let msg = tokio::select! {
                        msg = messages.next() => msg,
                        () = stop.cancelled() => return,
                    };
                    let Some(msg) = msg else { break };
                    receive(&hub, &me, msg.get_payload_bytes());
                }
                health.set(
                    &health.subscribed,
                    false,
                    "subscription",
                    Some(&"the connection closed"),
                );
            }
            Ok(Err(e)) => health.set(&health.subscribed, false, "subscribing", Some(&e)),
            Err(_) => {
                let e = "no answer within 5 s";
                health.set(&health.subscribed, false, "subscribing", Some(&e));
            }
        }
        if !ever_subscribed && !lost_once {
            // Never subscribed yet, so the transition above logged nothing loud.
            tracing::warn!("Redis backplane unreachable at start; retrying in the background");
        }
        lost_once = true;
        // Capped exponential backoff with full jitter, so instances do not reconnect in step.
        let wait = rand::rng().random_range(Duration::ZERO..=backoff);
        backoff = (backoff * 2).min(BACKOFF_MAX);
        tokio::select! {
            () = tokio::time::sleep(wait) => {},
            () = stop.cancelled() => return,
        }
    }
}

fn receive(hub: &LiveHub, me: &str, payload: &[u8]) {
    let envelope: Envelope = match serde_json::from_slice(payload) {
        Ok(e) => e,
        Err(e) => {
            // Another version of Parlor, or not Parlor, on the same channel.
            tracing::warn!(error = %e, "an item on the backplane channel could not be read");
            return;
        }
    };
    if envelope.from == me {
        return;
    }
    metrics::counter!("parlor_backplane_received_total").increment(1);
    let lag = now_us().saturating_sub(envelope.sent_us);
    metrics::histogram!("parlor_backplane_lag_seconds").record(lag as f64 / 1e6);
    hub.receive(&envelope.from, envelope.item);
}
