//! `GET /metrics` in Prometheus text format, on an address of its own (`--metrics-addr`),
//! so it is never public by accident: without that flag nothing is served. The metrics
//! themselves are recorded where things happen, with the `metrics` crate's macros; this
//! module installs the recorder and serves what it holds. The list is in README,
//! "Metrics".

use std::{net::SocketAddr, sync::OnceLock, time::Duration};

use anyhow::Context;
use axum::{routing::get, Router};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

/// Seconds: from a send queued to its commit, and from a relay to its arrival elsewhere.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
];
/// Messages in one group commit.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// The process's one recorder (several servers in one test process share it).
fn recorder() -> anyhow::Result<&'static PrometheusHandle> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(handle) = HANDLE.get() {
        return Ok(handle);
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)?
        .set_buckets_for_metric(
            Matcher::Full("parlor_commit_batch_size".into()),
            BATCH_BUCKETS,
        )?
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    Ok(HANDLE.get_or_init(|| handle))
}

/// Starts serving `/metrics` on `addr` until `stop`.
pub async fn serve(
    addr: SocketAddr,
    db: DatabaseConnection,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let handle = recorder()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen for metrics on {addr}"))?;
    tracing::info!(%addr, "serving Prometheus metrics at /metrics");
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let db = db.clone();
            async move {
                pool_gauges(&db);
                handle.render()
            }
        }),
    );
    tokio::spawn({
        let stop = stop.clone();
        async move {
            // Histograms keep a window; upkeep drains what aged out of it.
            let mut every = tokio::time::interval(Duration::from_secs(5));
            loop {
                tokio::select! {
                    _ = every.tick() => handle.run_upkeep(),
                    () = stop.cancelled() => return,
                }
            }
        }
    });
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the metrics listener failed");
        }
    });
    Ok(())
}

/// How many database connections the pool holds, and how many of those are idle.
fn pool_gauges(db: &DatabaseConnection) {
    let (size, idle) = service::db::pool_use(db);
    metrics::gauge!("parlor_db_pool_connections").set(f64::from(size));
    metrics::gauge!("parlor_db_pool_idle").set(idle as f64);
}
