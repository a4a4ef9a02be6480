//! The one configuration of the `parlor` binary: every setting is a `--flag` and an
//! environment variable; nothing is baked in at build time.

use std::{net::SocketAddr, path::PathBuf};

use clap::{ArgAction, Parser, Subcommand, ValueEnum};
use service::limits::{Action, ActionLimits, Rate};

#[derive(Parser, Debug)]
#[command(name = "parlor", version, about = "A self-hosted chat-room server.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the migrations, then serve the site, the API and the live channel (the default).
    Serve,
    /// Run the database migrations and exit.
    Migrate,
    /// Run housekeeping once (old past memberships, old notifications, expired invites),
    /// print what was removed, and exit.
    Cleanup,
    /// Copy the database (SQLite; for PostgreSQL, print the pg_dump line) and the uploaded
    /// files into PATH, a new or empty folder, while Parlor keeps running.
    Backup {
        /// Where the copy goes.
        path: PathBuf,
    },
    /// Write Brotli and gzip copies of the built client's files under the site root's
    /// `pkg/`, for the server to send to browsers that accept them (run after each build).
    Precompress,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteSynchronous {
    Normal,
    Full,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(clap::Args, Clone)]
pub struct Config {
    /// Address to listen on.
    #[arg(
        long,
        env = "PARLOR_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: SocketAddr,

    /// Database URL: `sqlite://…` or `postgres://…`. Default: an SQLite file in the data dir.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Folder for the SQLite database and uploaded files; created if missing.
    #[arg(long, env = "PARLOR_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// Folder with the built site (the WASM, JS and CSS bundle and public files).
    #[arg(
        long,
        env = "PARLOR_SITE_ROOT",
        default_value = "target/site",
        global = true
    )]
    pub site_root: PathBuf,

    /// Log lines for people (`human`) or for machines (`json`).
    #[arg(
        long,
        env = "PARLOR_LOG_FORMAT",
        value_enum,
        default_value = "human",
        global = true
    )]
    pub log_format: LogFormat,

    /// Mark the session cookie `Secure` (serve over HTTPS).
    #[arg(long, env = "PARLOR_SECURE_COOKIES", action = ArgAction::Set, default_value_t = false, global = true)]
    pub secure_cookies: bool,

    /// Whether anyone may sign up.
    #[arg(long, env = "PARLOR_SIGNUP_OPEN", action = ArgAction::Set, default_value_t = true, global = true)]
    pub signup_open: bool,

    /// How many login or sign-up attempts one client address may make in a burst.
    #[arg(
        long,
        env = "PARLOR_AUTH_RATE_BURST",
        default_value_t = 10,
        global = true
    )]
    pub auth_rate_burst: u32,

    /// After the burst, one more attempt per this many milliseconds.
    #[arg(
        long,
        env = "PARLOR_AUTH_RATE_PERIOD_MS",
        default_value_t = 6_000,
        global = true
    )]
    pub auth_rate_period_ms: u64,

    /// Days a session lasts without activity.
    #[arg(long, env = "PARLOR_SESSION_DAYS", default_value_t = 30, global = true)]
    pub session_days: i64,

    /// Messages one user may send in a burst.
    #[arg(long, env = "PARLOR_SEND_BURST", default_value_t = 5, global = true)]
    pub send_burst: u32,

    /// After the burst, one more message per this many milliseconds.
    #[arg(
        long,
        env = "PARLOR_SEND_PERIOD_MS",
        default_value_t = 1_000,
        global = true
    )]
    pub send_period_ms: u64,

    /// Most messages stored in one commit (1 turns group commit off).
    #[arg(
        long,
        env = "PARLOR_COMMIT_BATCH",
        default_value_t = 256,
        global = true
    )]
    pub commit_batch: usize,

    /// How often ended timeouts and timed bans are recorded (logged and notified), in
    /// milliseconds. The rules never wait for it: every check compares the end time.
    #[arg(
        long,
        env = "PARLOR_EXPIRY_SWEEP_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub expiry_sweep_ms: u64,

    /// The time the rules go by: the system clock, or one that tests move forward.
    #[arg(skip)]
    pub clock: service::time::Clock,

    /// Frames queued for one socket before it counts as falling behind and is closed.
    #[arg(
        long,
        env = "PARLOR_SOCKET_QUEUE",
        default_value_t = 256,
        global = true
    )]
    pub socket_queue: usize,

    /// How often the live channel pings each socket; two unanswered pings close it.
    #[arg(
        long,
        env = "PARLOR_WS_PING_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub ws_ping_ms: u64,

    /// Largest upload in bytes.
    #[arg(long, env = "PARLOR_UPLOAD_LIMIT", default_value_t = 10 * 1024 * 1024, global = true)]
    pub upload_limit: u64,

    /// The site's public origin, e.g. `https://chat.example.org`, accepted in the live
    /// channel's `Origin` check; without it the origin must match the `Host` header.
    #[arg(long, env = "PARLOR_PUBLIC_ORIGIN", global = true)]
    pub public_origin: Option<String>,

    /// SQLite only: `normal` (a power loss can lose the last acknowledged commits) or `full`
    /// (an fsync per commit; nothing acknowledged is lost).
    #[arg(
        long,
        env = "PARLOR_SQLITE_SYNCHRONOUS",
        value_enum,
        default_value = "normal",
        global = true
    )]
    pub sqlite_synchronous: SqliteSynchronous,

    /// Redis for running several instances on one PostgreSQL database, e.g.
    /// `redis://127.0.0.1:6379`: live events cross between instances through it (README,
    /// "Running several instances"). Without it this instance serves its own sockets only.
    #[arg(long, env = "REDIS_URL", global = true)]
    pub redis_url: Option<String>,

    /// The Redis pub/sub channel the instances of one site share; sites that share a Redis
    /// need a channel each.
    #[arg(
        long,
        env = "PARLOR_REDIS_CHANNEL",
        default_value = "parlor:live",
        global = true
    )]
    pub redis_channel: String,

    /// Address to serve Prometheus metrics on (`GET /metrics`), e.g. `127.0.0.1:9100`.
    /// Off without it; keep it off the public network.
    #[arg(long, env = "PARLOR_METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,

    #[command(flatten)]
    pub limits: Limits,
}

/// The limits that keep one person, or no one at all, from wearing the server down
/// (docs/SECURITY.md lists each with its default).
#[derive(clap::Args, Debug, Clone)]
pub struct Limits {
    /// Bytes one user may upload in any 24 hours.
    #[arg(long, env = "PARLOR_UPLOAD_DAILY_BYTES", default_value_t = 200 * 1024 * 1024, global = true)]
    pub upload_daily_bytes: u64,

    /// Uploads one user may have in progress at once.
    #[arg(
        long,
        env = "PARLOR_UPLOADS_PER_USER",
        default_value_t = 2,
        global = true
    )]
    pub uploads_per_user: u32,

    /// Uploads are refused (`storage_full`) while the data folder's disk has less free
    /// space than this many bytes.
    #[arg(long, env = "PARLOR_UPLOAD_MIN_FREE_BYTES", default_value_t = 512 * 1024 * 1024, global = true)]
    pub upload_min_free_bytes: u64,

    /// An upload must arrive at this many bytes per second at least (after the body
    /// timeout's grace), or it is cut off with `too_slow`.
    #[arg(long, env = "PARLOR_UPLOAD_MIN_RATE", default_value_t = 16 * 1024, global = true)]
    pub upload_min_rate: u64,

    /// Milliseconds a client has to send a request's headers; idle keep-alive connections
    /// close after as long.
    #[arg(
        long,
        env = "PARLOR_HEADER_READ_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub header_read_timeout_ms: u64,

    /// Milliseconds a request (body included) may take, uploads and the live channel aside.
    #[arg(
        long,
        env = "PARLOR_REQUEST_TIMEOUT_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub request_timeout_ms: u64,

    /// Milliseconds of grace an upload body gets before its minimum rate applies.
    #[arg(
        long,
        env = "PARLOR_BODY_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub body_timeout_ms: u64,

    /// Rooms one user may create: `COUNT/PERIOD` (period in s, m or h), e.g. `10/1h`.
    #[arg(
        long,
        env = "PARLOR_RATE_CREATE_ROOM",
        default_value = "10/1h",
        global = true
    )]
    pub rate_create_room: Rate,

    /// Invites one user may send.
    #[arg(
        long,
        env = "PARLOR_RATE_INVITE",
        default_value = "30/10m",
        global = true
    )]
    pub rate_invite: Rate,

    /// Kicks, bans and unbans one user may make (each notifies its target).
    #[arg(
        long,
        env = "PARLOR_RATE_MODERATE",
        default_value = "30/10m",
        global = true
    )]
    pub rate_moderate: Rate,

    /// Requests to join (each notifies the admins) one user may make, asking again included.
    #[arg(
        long,
        env = "PARLOR_RATE_REQUEST",
        default_value = "10/10m",
        global = true
    )]
    pub rate_request: Rate,

    /// Joins and leaves one user may make of one room (each writes a line every member
    /// sees); a leave is never refused, the next join waits instead.
    #[arg(
        long,
        env = "PARLOR_RATE_JOIN_LEAVE",
        default_value = "10/10m",
        global = true
    )]
    pub rate_join_leave: Rate,

    /// Answers to requests, promotions, demotions, ownership transfers and settings changes
    /// one user may make.
    #[arg(
        long,
        env = "PARLOR_RATE_MANAGE",
        default_value = "30/10m",
        global = true
    )]
    pub rate_manage: Rate,

    /// Password confirmations (a new password, deleting the account) one account may make;
    /// each costs two argon2 hashes.
    #[arg(
        long,
        env = "PARLOR_RATE_PASSWORD",
        default_value = "5/1h",
        global = true
    )]
    pub rate_password: Rate,

    /// Reactions one user may set or take back.
    #[arg(
        long,
        env = "PARLOR_RATE_REACT",
        default_value = "60/1m",
        global = true
    )]
    pub rate_react: Rate,

    /// Room searches one user may make.
    #[arg(
        long,
        env = "PARLOR_RATE_SEARCH",
        default_value = "60/1m",
        global = true
    )]
    pub rate_search: Rate,

    /// Message searches (`messages/search`, each page counts) one user may make: the most
    /// expensive read there is.
    #[arg(
        long,
        env = "PARLOR_RATE_MESSAGE_SEARCH",
        default_value = "30/1m",
        global = true
    )]
    pub rate_message_search: Rate,

    /// Catch-up reads (`messages/since`) one user may make; a reconnect makes one per room.
    #[arg(
        long,
        env = "PARLOR_RATE_CATCH_UP",
        default_value = "600/1m",
        global = true
    )]
    pub rate_catch_up: Rate,

    /// Live-channel sockets one account may have open at once.
    #[arg(long, env = "PARLOR_WS_PER_USER", default_value_t = 8, global = true)]
    pub ws_per_user: u32,

    /// Live-channel sockets one client address may have open at once.
    #[arg(
        long,
        env = "PARLOR_WS_PER_ADDRESS",
        default_value_t = 64,
        global = true
    )]
    pub ws_per_address: u32,

    /// Proxies (addresses or CIDR blocks, comma-separated) whose `X-Forwarded-For` names
    /// the client; from anyone else the header is ignored.
    #[arg(long = "trusted-proxy", env = "PARLOR_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net, global = true)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Open HTTP connections at most; past it a new connection is closed at once.
    #[arg(
        long,
        env = "PARLOR_MAX_CONNECTIONS",
        default_value_t = 10_000,
        global = true
    )]
    pub max_connections: usize,

    /// Open HTTP connections from one client address at most (trusted proxies aside); past
    /// it a new connection from there is closed at once.
    #[arg(
        long,
        env = "PARLOR_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 256,
        global = true
    )]
    pub max_connections_per_address: usize,
}

impl Limits {
    /// The per-user action limits, for the services.
    pub fn actions(&self) -> ActionLimits {
        ActionLimits::new([
            (Action::CreateRoom, self.rate_create_room),
            (Action::Invite, self.rate_invite),
            (Action::Moderate, self.rate_moderate),
            (Action::Request, self.rate_request),
            (Action::JoinLeave, self.rate_join_leave),
            (Action::Manage, self.rate_manage),
            (Action::Search, self.rate_search),
            (Action::SearchMessages, self.rate_message_search),
            (Action::CatchUp, self.rate_catch_up),
            (Action::PasswordCheck, self.rate_password),
            (Action::React, self.rate_react),
        ])
    }
}

/// `10.0.0.0/8`, or a single address such as `10.0.0.1`.
fn parse_net(raw: &str) -> Result<ipnet::IpNet, String> {
    let raw = raw.trim();
    raw.parse::<ipnet::IpNet>()
        .or_else(|_| raw.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("\"{raw}\" is neither an address nor a CIDR block"))
}

impl Config {
    /// The settings with their defaults, as `parlor serve` with no flags and no variables.
    pub fn defaults() -> Self {
        Cli::parse_from(["parlor"]).config
    }

    /// Where uploaded files are kept, by id.
    pub fn files_dir(&self) -> PathBuf {
        self.data_dir.join("uploads")
    }

    pub fn durability(&self) -> service::db::Durability {
        match self.sqlite_synchronous {
            SqliteSynchronous::Normal => service::db::Durability::Normal,
            SqliteSynchronous::Full => service::db::Durability::Full,
        }
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| service::db::default_sqlite_url(&self.data_dir))
    }
}

/// Never prints the database URL's password.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("data_dir", &self.data_dir)
            .field("site_root", &self.site_root)
            .field("log_format", &self.log_format)
            .field("secure_cookies", &self.secure_cookies)
            .field("signup_open", &self.signup_open)
            .field("auth_rate_burst", &self.auth_rate_burst)
            .field("auth_rate_period_ms", &self.auth_rate_period_ms)
            .field("session_days", &self.session_days)
            .field("send_burst", &self.send_burst)
            .field("send_period_ms", &self.send_period_ms)
            .field("commit_batch", &self.commit_batch)
            .field("expiry_sweep_ms", &self.expiry_sweep_ms)
            .field("socket_queue", &self.socket_queue)
            .field("ws_ping_ms", &self.ws_ping_ms)
            .field("upload_limit", &self.upload_limit)
            .field("public_origin", &self.public_origin)
            .field("sqlite_synchronous", &self.sqlite_synchronous)
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("redis_channel", &self.redis_channel)
            .field("metrics_addr", &self.metrics_addr)
            .field("limits", &self.limits)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_spec() {
        let c = Config::defaults();
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.database_url(), "sqlite://./data/parlor.db?mode=rwc");
        assert!(c.signup_open);
        assert!(!c.secure_cookies);
    }

    #[test]
    fn flags_work_before_and_after_the_subcommand() {
        let cli = Cli::parse_from([
            "parlor",
            "serve",
            "--addr",
            "127.0.0.1:4000",
            "--signup-open",
            "false",
        ]);
        assert_eq!(cli.command, Some(Command::Serve));
        assert_eq!(cli.config.addr.port(), 4000);
        assert!(!cli.config.signup_open);
        let cli = Cli::parse_from(["parlor", "--data-dir", "/tmp/x", "migrate"]);
        assert_eq!(cli.command, Some(Command::Migrate));
        assert_eq!(cli.config.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn debug_redacts_the_database_password() {
        let mut c = Config::defaults();
        c.database_url = Some("postgres://parlor:s3cret@db:5432/parlor".into());
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres://parlor:***@db:5432/parlor"));
    }
}
