//! Start-up: database, services, router, listener, graceful shutdown.

use std::{
    convert::Infallible,
    future::Future,
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::Duration,
};
use tower_http::set_header::SetResponseHeaderLayer;

use anyhow::Context;
use app::{shell, ssr::ServerCtx, App};
use axum::{
    body::Body,
    extract::Request,
    middleware,
    routing::{get, post},
    Extension, Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use sea_orm::DatabaseConnection;
use service::{
    db, housekeeping, messages::SendLimits, session_store::DbSessionStore, Accounts, Messages,
    Notifications, Reports, Rooms,
};
use tokio::net::TcpListener;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower_governor::{governor::GovernorConfigBuilder, GovernorLayer};
use tower_http::{
    compression::CompressionLayer,
    limit::RequestBodyLimitLayer,
    timeout::TimeoutLayer,
    trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer},
};
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};
use tracing::Level;

use crate::{
    client_addr::{ClientKey, TrustedProxies},
    guards, http,
    live::{self, LiveHub},
    uploads, Config,
};

/// Largest JSON or form body a server function accepts.
const API_BODY_LIMIT: usize = 64 * 1024;
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "parlor_session";

/// A server bound to its address, ready to run. It listens before its database answers:
/// until then (and whenever the database stops answering) pages say so with a 503 that
/// retries by itself, instead of the address refusing connections.
pub struct Server {
    listener: TcpListener,
    config: Config,
    /// Parlor with its database, once it answered; a task keeps trying until then.
    app: Arc<OnceLock<Running>>,
    stopping: CancellationToken,
}

/// Parlor with its database: the router, and what has to stop with it.
struct Running {
    router: Router,
    db: DatabaseConnection,
    sessions: DbSessionStore,
    live: live::LiveChannel,
    /// Ends the background jobs (housekeeping, presence, the backplane, metrics).
    jobs: CancellationToken,
}

pub async fn connect_and_migrate(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let db = db::connect_with(&config.database_url(), config.durability())
        .await
        .context("cannot open the database")?;
    db::migrate(&db).await.context("migrations failed")?;
    Ok(db)
}

/// `parlor migrate`.
pub async fn migrate_only(config: &Config) -> anyhow::Result<()> {
    let db = connect_and_migrate(config).await?;
    tracing::info!("migrations applied");
    db.close().await?;
    Ok(())
}

impl Running {
    /// Connects, migrates, and builds the services and the router.
    async fn start(config: &Config) -> anyhow::Result<Self> {
        let db = connect_and_migrate(config).await?;
        // With several instances, the rate limits count in Redis for all of them.
        let shared: service::limits::Shared = match &config.redis_url {
            Some(url) => Some(Arc::new(crate::shared_limits::RedisBuckets::new(
                url,
                &config.redis_channel,
            )?)),
            None => None,
        };
        // One set of per-user allowances, shared by accounts, rooms and messages.
        let actions = config.limits.actions().shared_with(shared.clone());
        let accounts = Accounts::new(db.clone(), config.signup_open)
            .await?
            .shared_with(shared.clone())
            .with_limits(actions.clone());
        let jobs = CancellationToken::new();
        // A start that fails past here stops what it started (it is tried again).
        let started = jobs.clone().drop_guard();
        let hub = Arc::new(LiveHub::new(
            config.socket_queue,
            crate::live::SocketCaps {
                per_user: config.limits.ws_per_user,
                per_addr: config.limits.ws_per_address,
            },
        ));
        let backplane = match &config.redis_url {
            Some(url) => Some(
                crate::live::backplane::Backplane::start(
                    url,
                    config.redis_channel.clone(),
                    hub.clone(),
                    jobs.clone(),
                )?
                .health,
            ),
            None => None,
        };
        let limits = SendLimits {
            burst: config.send_burst,
            period: Duration::from_millis(config.send_period_ms),
            max_batch: config.commit_batch,
        };
        let rooms = Rooms::new(db.clone(), hub.clone())
            .with_limits(actions.clone())
            .with_clock(config.clock.clone())
            .with_files(config.files_dir());
        let messages = Messages::with_clock(db.clone(), hub.clone(), limits, config.clock.clone())
            .with_limits(actions)
            .with_files(config.files_dir())
            .shared_with(shared.clone());
        let tokens = service::Tokens::new(db.clone(), hub.clone()).with_clock(config.clock.clone());
        let ctx = ServerCtx {
            accounts: accounts.clone(),
            tokens: tokens.clone(),
            reports: Reports::new(db.clone(), hub.clone(), rooms.clone(), messages.clone())
                .with_clock(config.clock.clone()),
            rooms,
            notifications: Notifications::new(db.clone()),
            messages,
            hub: hub.clone(),
        };
        let session_cache = hub.sessions.clone();
        let live = live::LiveChannel {
            hub,
            rooms: ctx.rooms.clone(),
            messages: ctx.messages.clone(),
            public_origin: config.public_origin.clone(),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            ping_every: Duration::from_millis(config.ws_ping_ms),
            sessions: DbSessionStore::new(db.clone(), session_cache),
            tokens: tokens.clone(),
        };
        let sessions = live.sessions.clone();
        let readiness = http::Readiness {
            db: db.clone(),
            backplane,
        };
        let router = router(
            config,
            ctx,
            readiness,
            shared,
            sessions.clone(),
            live.clone(),
        )?
        // Every route finds the caller the same way (`CurrentUser`), through this,
        // and the caller's address the same way (`ClientAddr`).
        .layer(Extension(accounts))
        .layer(Extension(tokens))
        .layer(Extension(trusted_proxies(config)))
        .layer(middleware::from_fn(
            |mut req: Request<Body>, next: middleware::Next| async move {
                req.extensions_mut()
                    .insert(app::ssr::RequestMemo::default());
                next.run(req).await
            },
        ));
        if let Some(addr) = config.metrics_addr {
            crate::exporter::serve(addr, db.clone(), jobs.clone()).await?;
        }
        started.disarm();
        let app = Self {
            router,
            db,
            sessions,
            live,
            jobs,
        };
        let swept = uploads::Uploads::sweep_partial_files(&config.files_dir());
        if swept > 0 {
            tracing::info!(swept, "removed partial uploads left by an earlier run");
        }
        app.spawn_jobs(
            config.files_dir(),
            Duration::from_millis(config.expiry_sweep_ms.max(100)),
        );
        Ok(app)
    }

    fn spawn_jobs(&self, files_dir: std::path::PathBuf, expiry_sweep: Duration) {
        let (rooms, jobs) = (self.live.rooms.clone(), self.jobs.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(expiry_sweep);
            loop {
                tokio::select! {
                    _ = every.tick() => match rooms.end_expired().await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(ended = n, "timeouts and timed bans ended"),
                        Err(e) => tracing::warn!(error = %e, "recording ended timeouts failed"),
                    },
                    () = jobs.cancelled() => return,
                }
            }
        });
        let (db, sessions, jobs) = (self.db.clone(), self.sessions.clone(), self.jobs.clone());
        let rooms = self.live.rooms.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = hourly_housekeeping(db, sessions, rooms, files_dir) => {},
                () = jobs.cancelled() => {},
            }
        });
        let (hub, jobs) = (self.live.hub.clone(), self.jobs.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(crate::live::PRESENCE_EVERY);
            loop {
                tokio::select! {
                    _ = every.tick() => hub.flush_presence(),
                    () = jobs.cancelled() => return,
                }
            }
        });
    }

    /// After the listener closed: sockets are told "going away", jobs end, the pool closes.
    async fn stop(&self) {
        self.live.shutdown.cancel();
        self.live.tasks.close();
        if tokio::time::timeout(Duration::from_secs(5), self.live.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("some sockets did not close within 5 s");
        }
        self.jobs.cancel();
        self.db.close_by_ref().await.ok();
    }
}

impl Server {
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        tracing::info!(?config, "starting Parlor");
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        let app: Arc<OnceLock<Running>> = Arc::new(OnceLock::new());
        let stopping = CancellationToken::new();
        let starting = tokio::spawn(keep_starting(config.clone(), app.clone(), stopping.clone()));
        // A database that answers is usually ready in milliseconds: wait a little, so the
        // first requests find Parlor ready; past that, they get the 503 page meanwhile.
        let _ = tokio::time::timeout(Duration::from_secs(3), starting).await;
        if app.get().is_none() {
            tracing::warn!("the database is not ready; answering 503 until it is");
        }
        Ok(Self {
            listener,
            config: config.clone(),
            app,
            stopping,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = self.local_addr();
        tracing::info!(%addr, "listening on http://{addr}");
        let (app, stopping) = (self.app, self.stopping);
        let waiting = http::not_ready_router(&self.config);
        let front = {
            let app = app.clone();
            Router::<()>::new()
                .fallback(move |req: Request| {
                    let (app, waiting) = (app.clone(), waiting.clone());
                    async move {
                        use tower::ServiceExt;
                        let router = app.get().map_or(waiting, |a| a.router.clone());
                        match router.oneshot(req).await {
                            Ok(res) => res,
                            Err(never) => match never {},
                        }
                    }
                })
                .layer(middleware::from_fn_with_state(
                    self.config.secure_cookies,
                    guards::security_headers,
                ))
        };
        // On the signal, sockets are told "going away" (1001) while HTTP stops accepting.
        let shutdown = {
            let (app, stopping) = (app.clone(), stopping.clone());
            async move {
                shutdown.await;
                stopping.cancel();
                if let Some(a) = app.get() {
                    a.live.shutdown.cancel();
                }
            }
        };
        crate::serve::serve(
            self.listener,
            front,
            crate::serve::ConnectionLimits {
                header_read_timeout: Duration::from_millis(
                    self.config.limits.header_read_timeout_ms,
                ),
                max_connections: self.config.limits.max_connections,
                max_per_address: self.config.limits.max_connections_per_address,
            },
            trusted_proxies(&self.config),
            shutdown,
        )
        .await;
        stopping.cancel();
        if let Some(a) = app.get() {
            a.stop().await;
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Tries to start the app until it starts (at once, then 1 s apart, doubling to 30 s) or
/// the server stops.
async fn keep_starting(config: Config, slot: Arc<OnceLock<Running>>, stopping: CancellationToken) {
    let mut wait = Duration::from_secs(1);
    loop {
        match Running::start(&config).await {
            Ok(app) => {
                tracing::info!("the database answers: Parlor is ready");
                if stopping.is_cancelled() {
                    app.stop().await;
                } else if let Err(app) = slot.set(app) {
                    app.stop().await;
                }
                return;
            }
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "the database is not ready");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {},
            () = stopping.cancelled() => return,
        }
        wait = (wait * 2).min(Duration::from_secs(30));
    }
}

/// The hourly housekeeping of docs/RULES.md §8, plus expired sessions and account deletions
/// cut short. The first round runs at start.
async fn hourly_housekeeping(
    db: DatabaseConnection,
    sessions: DbSessionStore,
    rooms: Rooms,
    files_dir: std::path::PathBuf,
) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match rooms.finish_deletions().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(accounts = n, "finished account deletions cut short"),
            Err(e) => tracing::warn!(error = %e, "finishing account deletions failed"),
        }
        if let Err(e) = housekeeping::cleanup(&db, &files_dir, chrono::Utc::now()).await {
            tracing::warn!(error = %e, "housekeeping failed");
        }
        match sessions.delete_expired().await {
            Ok(n) => tracing::info!(removed = n, "expired sessions removed"),
            Err(e) => tracing::warn!(error = %e, "expired-session sweep failed"),
        }
    }
}

/// `parlor cleanup`: runs housekeeping once and prints what it removed.
pub async fn cleanup_once(config: &Config) -> anyhow::Result<()> {
    let db = connect_and_migrate(config).await?;
    let removed = housekeeping::cleanup(&db, &config.files_dir(), chrono::Utc::now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{removed}");
    db.close().await?;
    Ok(())
}

fn trusted_proxies(config: &Config) -> TrustedProxies {
    TrustedProxies::new(config.limits.trusted_proxies.clone())
}

fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("parlor")
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        // Leptos's hydration scripts then name the hashed files from the same hash.txt.
        .hash_files(crate::assets::AssetNames::current().hashed)
        .site_addr(config.addr)
        .build()
}

fn router(
    config: &Config,
    ctx: ServerCtx,
    readiness: http::Readiness,
    shared: service::limits::Shared,
    sessions: DbSessionStore,
    live: live::LiveChannel,
) -> anyhow::Result<Router> {
    let options = leptos_options(config);
    let ctx_rooms = ctx.rooms.clone();
    let provide_ctx = move || provide_context(ctx.clone());
    let server_fns = {
        let provide_ctx = provide_ctx.clone();
        move |req: Request<Body>| {
            leptos_axum::handle_server_fns_with_context(provide_ctx.clone(), req)
        }
    };
    let pages = {
        let options = options.clone();
        leptos_axum::render_app_async_with_context(provide_ctx.clone(), move || {
            shell(options.clone())
        })
    };
    let site = Router::new()
        .leptos_routes_with_handler(routes(), get(pages))
        .fallback(leptos_axum::file_and_error_handler_with_context(
            provide_ctx,
            shell,
        ))
        .with_state(options)
        // Pages are asked for again on every visit; only the hashed client is cached.
        .layer(SetResponseHeaderLayer::if_not_present(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-cache"),
        ))
        .layer(request_timeout(config))
        .layer(middleware::from_fn(http::form_errors_need_their_ticket))
        .layer(middleware::from_fn_with_state(
            readiness.db.clone(),
            http::pages_need_the_database,
        ))
        .layer(compression());
    let probes = Router::new()
        .route("/healthz", get(http::healthz))
        .route("/readyz", get(http::readyz))
        .with_state(readiness);
    let sockets = Router::new()
        .route("/ws", get(live::upgrade))
        .with_state(live.clone());
    let log_csv = Router::new()
        .route("/rooms/{id}/log.csv", get(crate::log_export::download))
        .with_state(ctx_rooms)
        .layer(compression());

    Ok(Router::new()
        .merge(http::standalone_files(&config.site_root))
        .merge(crate::assets::pkg_files(
            &config.site_root,
            crate::assets::AssetNames::current(),
        ))
        .merge(upload_routes(config, live.messages))
        .merge(log_csv)
        .merge(api_routes(config, server_fns, shared)?)
        .merge(sockets)
        .merge(site)
        .layer(middleware::from_fn_with_state(
            config.public_origin.clone(),
            guards::same_origin_writes,
        ))
        .layer(session_layer(config, sessions))
        .merge(probes)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        ))
}

/// Uploads (a minimum rate of their own) and the live channel (heartbeats) aside, no
/// request may hold its connection longer than this.
/// The app's routes, generated once per process. While leptos generates them, no resource
/// anywhere in the process may start loading: a resource first polled then waits forever
/// (one process-wide flag, `leptos_server::SuppressResourceLoad`; leptos#4773). A second
/// server started in the same process, as the tests start many, could otherwise leave a page
/// that another server was rendering hanging until the request timeout.
fn routes() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

fn request_timeout(config: &Config) -> TimeoutLayer {
    TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        Duration::from_millis(config.limits.request_timeout_ms),
    )
}

fn session_layer(config: &Config, sessions: DbSessionStore) -> SessionManagerLayer<DbSessionStore> {
    SessionManagerLayer::new(sessions)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(
            config.session_days,
        )))
}

/// The server functions under `/api/`, with login, sign-up and password checks limited per
/// client address (each with its own budget, counted for every instance together when
/// several run).
fn api_routes<H, F>(
    config: &Config,
    server_fns: H,
    shared: service::limits::Shared,
) -> anyhow::Result<Router>
where
    H: Fn(Request<Body>) -> F + Clone + Send + Sync + 'static,
    F: Future + Send + 'static,
    F::Output: axum::response::IntoResponse,
{
    let limiter = |name: &str| -> anyhow::Result<_> {
        let conf = GovernorConfigBuilder::default()
            .key_extractor(ClientKey(trusted_proxies(config)))
            .period(Duration::from_millis(config.auth_rate_period_ms.max(1)))
            .burst_size(config.auth_rate_burst.max(1))
            .finish()
            .with_context(|| format!("bad rate-limit settings for {name}"))?;
        Ok(GovernorLayer::new(Arc::new(conf)).error_handler(http::rate_limited))
    };
    let shared_limit = |name: &'static str| {
        middleware::from_fn_with_state(
            http::SharedAuthLimit {
                shared: shared.clone(),
                name,
                burst: config.auth_rate_burst.max(1),
                refill: Duration::from_millis(config.auth_rate_period_ms.max(1)),
                key: ClientKey(trusted_proxies(config)),
            },
            http::shared_auth_limit,
        )
    };
    // Each budget covers its JSON endpoints and their form twins. A password check costs
    // two argon2 hashes, as a login does.
    let mut api = Router::new();
    for (name, json, forms) in [
        ("login", &["/api/auth/login"][..], &["/api/form/login"][..]),
        ("signup", &["/api/auth/signup"], &["/api/form/signup"]),
        (
            "password",
            &["/api/auth/password", "/api/auth/delete"],
            &["/api/form/password", "/api/form/delete_account"],
        ),
    ] {
        let limit = limiter(name)?;
        for path in json {
            api = api.route(
                path,
                post(server_fns.clone())
                    .layer::<_, Infallible>(shared_limit(name))
                    .layer(limit.clone()),
            );
        }
        for path in forms {
            api = api.route(
                path,
                post(server_fns.clone())
                    .layer::<_, Infallible>(shared_limit(name))
                    .layer(limit.clone())
                    .layer(middleware::from_fn(http::refused_forms_back_to_page)),
            );
        }
    }
    Ok(api
        .route("/api/{*rest}", post(server_fns_or_404(server_fns)))
        .layer(RequestBodyLimitLayer::new(API_BODY_LIMIT))
        .layer(middleware::from_fn(guards::json_only))
        .layer(middleware::from_fn(guards::tokens_stay_out_of_the_account))
        .layer(request_timeout(config))
        .layer(middleware::from_fn(http::api_error_bodies))
        .layer(compression()))
}

/// Pages and API answers compressed as they are sent (docs/BENCHMARKS.md, "The client
/// split"), Brotli at tower-http's default quality, else gzip. `/pkg` is compressed at build
/// time instead, and `/ws` not at all.
fn compression() -> CompressionLayer {
    CompressionLayer::new().br(true).gzip(true)
}

/// `POST /api/uploads` and `GET /files/{id}`.
fn upload_routes(config: &Config, messages: service::Messages) -> Router {
    let files = uploads::Uploads::new(
        messages,
        config.files_dir(),
        uploads::UploadLimits {
            file_bytes: config.upload_limit,
            daily_bytes: config.limits.upload_daily_bytes,
            parallel: config.limits.uploads_per_user,
            min_free_bytes: config.limits.upload_min_free_bytes,
            min_rate: config.limits.upload_min_rate,
            grace: Duration::from_millis(config.limits.body_timeout_ms),
        },
    );
    // Multipart framing adds a little to the file itself.
    let upload_body_limit = usize::try_from(config.upload_limit)
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024);
    Router::new()
        .route(
            "/api/uploads",
            post(uploads::upload).layer(axum::extract::DefaultBodyLimit::max(upload_body_limit)),
        )
        .route("/files/{id}", get(uploads::download))
        .with_state(files)
}

/// The catch-all for `/api/…`: a registered server function, or a JSON `not_found`.
fn server_fns_or_404<H, F>(
    server_fns: H,
) -> impl Fn(Request<Body>) -> std::pin::Pin<Box<dyn Future<Output = axum::response::Response> + Send>>
       + Clone
       + Send
       + Sync
       + 'static
where
    H: Fn(Request<Body>) -> F + Clone + Send + Sync + 'static,
    F: Future + Send + 'static,
    F::Output: axum::response::IntoResponse,
{
    use axum::response::IntoResponse;
    move |req: Request<Body>| {
        let server_fns = server_fns.clone();
        Box::pin(async move {
            let known = server_fn::axum::server_fn_paths()
                .any(|(path, method)| path == req.uri().path() && method == req.method());
            if known {
                server_fns(req).await.into_response()
            } else {
                http::api_not_found().await
            }
        })
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
