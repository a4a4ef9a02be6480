//! Accounts (docs/RULES.md §1): sign-up, login, lookup.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use argon2::{
    password_hash::{
        self,
        phc::{Output, ParamsString, PasswordHash, Salt},
        CustomizedPasswordHasher, PasswordHasher, PasswordVerifier,
    },
    Algorithm, Argon2, Block, Params, Version,
};
use domain::{user::DELETED_USERNAME, ApiError, ErrorCode, Password, User, UserId, Username};
use entity::{session, user};
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, SqlErr,
};
use tower_sessions::session::Id as SessionId;

use crate::{
    error::ServiceResult,
    ids::new_id,
    limits::{Action, ActionLimits, LoginPolicy, Shared},
    session_store::key_of,
    tx::begin_write,
    users::to_user,
    ServiceError,
};

#[derive(Clone)]
pub struct Accounts {
    db: DatabaseConnection,
    signup_open: bool,
    /// Verified against when the username does not exist, so a miss costs what a hit costs.
    dummy_hash: Arc<str>,
    failures: Arc<FailedLogins>,
    /// The lock-out again, shared by every instance (when several run).
    shared: Shared,
    /// Password confirmations per account (`Action::PasswordCheck`).
    limits: ActionLimits,
}

impl Accounts {
    pub async fn new(db: DatabaseConnection, signup_open: bool) -> ServiceResult<Self> {
        let dummy_hash = hash_password(None, "parlor-dummy-password".to_owned()).await?;
        Ok(Self {
            db,
            signup_open,
            dummy_hash: dummy_hash.into(),
            failures: Arc::new(FailedLogins::default()),
            shared: None,
            limits: ActionLimits::default(),
        })
    }

    /// Counts login attempts in the instances' shared buckets too, so that cycling through
    /// instances does not get around the lock-out.
    pub fn shared_with(mut self, shared: Shared) -> Self {
        self.shared = shared;
        self
    }

    /// Per-account limits on password confirmations (`Action::PasswordCheck`).
    pub fn with_limits(mut self, limits: ActionLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Counts an attempt for the username `key`, here and with the other instances.
    async fn admit_attempt(&self, key: &str) -> Result<(), Duration> {
        self.failures.admit(key)?;
        if let Some(shared) = &self.shared {
            if let Some(Err(wait)) = shared.login_attempt(key, LOGIN_POLICY).await {
                return Err(wait);
            }
        }
        Ok(())
    }

    /// A right password: the username's attempts start over, here and elsewhere.
    async fn attempts_start_over(&self, key: &str) {
        self.failures.clear(key);
        if let Some(shared) = &self.shared {
            shared.login_success(key).await;
        }
    }

    pub async fn signup(&self, username: &str, password: &str) -> ServiceResult<User> {
        if !self.signup_open {
            return Err(ApiError::new(
                ErrorCode::SignupClosed,
                "Sign-up is closed on this server. Ask its operator for an account.",
            )
            .into());
        }
        let username = Username::parse(username)?;
        let password = Password::parse(password)?;
        let skeleton = domain::text::skeleton(username.as_str());
        let look_alike = user::Entity::find()
            .filter(user::Column::UsernameSkeleton.eq(skeleton.as_str()))
            .one(&self.db)
            .await?;
        if look_alike.is_some() || self.find_by_key(&username.key()).await?.is_some() {
            return Err(username_taken());
        }
        let hash = hash_password(None, password.expose().to_owned()).await?;
        let model = user::ActiveModel {
            id: Set(new_id()),
            username: Set(username.as_str().to_owned()),
            username_key: Set(username.key()),
            username_skeleton: Set(Some(skeleton)),
            password_hash: Set(hash),
            created_at: Set(chrono::Utc::now()),
            deleted_at: Set(None),
        };
        // The unique index is the real guard: two sign-ups racing for one name meet here.
        let saved = match user::Entity::insert(model)
            .exec_with_returning(&self.db)
            .await
        {
            Ok(saved) => saved,
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                return Err(username_taken())
            }
            Err(e) => return Err(e.into()),
        };
        tracing::info!(user_id = %saved.id, username = %saved.username, "user signed up");
        Ok(to_user(saved))
    }

    /// Any failure answers the same `invalid_credentials`, after the same argon2 work.
    pub async fn login(&self, username: &str, password: &str) -> ServiceResult<User> {
        // Only a well-formed name can have an account, so only those are tracked and logged:
        // anything else is refused after the same work, without keeping or printing it.
        let key = Username::parse(username).ok().map(|name| name.key());
        // A real limit per username, counted before the password is checked, so parallel
        // guesses count as much as sequential ones.
        if let Some(key) = &key {
            if let Err(wait) = self.admit_attempt(key).await {
                tracing::info!("login refused: too many recent failures for one username");
                return Err(too_many_failures(wait));
            }
        }
        let found = match &key {
            Some(key) => self.find_by_key(key).await?,
            None => None,
        };
        let hash = found
            .as_ref()
            .map_or_else(|| self.dummy_hash.to_string(), |u| u.password_hash.clone());
        let matches = verify_password(None, password.to_owned(), hash).await?;
        match found {
            Some(user) if matches => {
                if let Some(key) = &key {
                    self.attempts_start_over(key).await;
                }
                tracing::info!(user_id = %user.id, "user logged in");
                Ok(to_user(user))
            }
            _ => {
                // The typed name is not logged: people type passwords into it.
                tracing::info!("login refused: invalid credentials");
                Err(ApiError::invalid_credentials().into())
            }
        }
    }

    /// The user with `id`, unless the account was deleted.
    pub async fn get(&self, id: &UserId) -> ServiceResult<Option<User>> {
        Ok(self.find_live(id).await?.map(to_user))
    }

    async fn find_live(&self, id: &UserId) -> ServiceResult<Option<user::Model>> {
        Ok(user::Entity::find_by_id(id.to_string())
            .filter(user::Column::DeletedAt.is_null())
            .one(&self.db)
            .await?)
    }

    /// Checks that the signed-in `user_id` typed their own password, before a change that
    /// only they may make. Guesses count against the username as failed logins do, so a
    /// borrowed session cannot try passwords faster than the login form.
    async fn confirm_password(
        &self,
        user_id: &UserId,
        password: &str,
        field: &'static str,
    ) -> ServiceResult<user::Model> {
        let Some(user) = self.find_live(user_id).await? else {
            return Err(ApiError::unauthenticated().into());
        };
        if let Err(wait) = self.admit_attempt(&user.username_key).await {
            tracing::info!(user_id = %user.id, "password check refused: too many recent failures");
            return Err(too_many_failures(wait));
        }
        self.limits
            .check(Action::PasswordCheck, user_id)
            .await
            .map_err(ServiceError::from)?;
        if !verify_password(
            Some(user_id),
            password.to_owned(),
            user.password_hash.clone(),
        )
        .await?
        {
            tracing::info!(user_id = %user.id, "password check failed");
            return Err(
                ApiError::invalid_field(field, "That is not your current password.").into(),
            );
        }
        self.attempts_start_over(&user.username_key).await;
        Ok(user)
    }

    /// `auth/password`: sets a new password once the current one is confirmed, and ends
    /// every other session of the user in the same transaction; `keep` (the caller's own
    /// session) stays signed in.
    pub async fn change_password(
        &self,
        user_id: &UserId,
        current: &str,
        new: &str,
        keep: Option<&SessionId>,
    ) -> ServiceResult<u64> {
        let new = Password::parse(new).map_err(|e| e.for_field("new_password"))?;
        let user = self
            .confirm_password(user_id, current, "current_password")
            .await?;
        let hash = hash_password(Some(user_id), new.expose().to_owned()).await?;
        let txn = begin_write(&self.db).await?;
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(hash))
            .filter(user::Column::Id.eq(&user.id))
            .filter(user::Column::DeletedAt.is_null())
            .exec(&txn)
            .await?;
        let ended = end_sessions_of(&txn, user_id, keep).await?;
        // A token made under the old password must not outlive it (docs/RULES.md §1).
        let revoked = crate::tokens::revoke_all_of(&txn, user_id).await?;
        txn.commit().await?;
        tracing::info!(user_id = %user.id, ended_sessions = ended, revoked_tokens = revoked, "password changed");
        Ok(ended)
    }

    /// `auth/logout_all`: ends every session of the user, the caller's own included.
    pub async fn end_all_sessions(&self, user_id: &UserId) -> ServiceResult<u64> {
        let ended = end_sessions_of(&self.db, user_id, None).await?;
        tracing::info!(%user_id, ended_sessions = ended, "logged out everywhere");
        Ok(ended)
    }

    /// `auth/delete`: deletes the account once its password is confirmed (docs/RULES.md §1).
    /// In one transaction the account can no longer sign in or be found, its sessions end,
    /// and its name becomes [`DELETED_USERNAME`] wherever it wrote. The caller then closes
    /// its live channels and has it leave every room ([`Rooms::depart_everywhere`]); a
    /// deletion cut short between the two is finished by housekeeping.
    ///
    /// [`Rooms::depart_everywhere`]: crate::Rooms::depart_everywhere
    pub async fn delete(&self, user_id: &UserId, password: &str) -> ServiceResult<()> {
        let user = self.confirm_password(user_id, password, "password").await?;
        let txn = begin_write(&self.db).await?;
        user::Entity::update_many()
            .col_expr(user::Column::Username, Expr::value(DELETED_USERNAME))
            // Not a name anyone can type, so the old name is free and nothing finds this row.
            .col_expr(
                user::Column::UsernameKey,
                Expr::value(format!("~deleted~{}", user.id)),
            )
            .col_expr(user::Column::UsernameSkeleton, Expr::value(None::<String>))
            .col_expr(user::Column::PasswordHash, Expr::value(""))
            .col_expr(user::Column::DeletedAt, Expr::value(chrono::Utc::now()))
            .filter(user::Column::Id.eq(&user.id))
            .filter(user::Column::DeletedAt.is_null())
            .exec(&txn)
            .await?;
        end_sessions_of(&txn, user_id, None).await?;
        crate::tokens::revoke_all_of(&txn, user_id).await?;
        txn.commit().await?;
        tracing::info!(user_id = %user.id, "account deleted");
        Ok(())
    }

    async fn find_by_key(&self, key: &str) -> ServiceResult<Option<user::Model>> {
        Ok(user::Entity::find()
            .filter(user::Column::UsernameKey.eq(key))
            .one(&self.db)
            .await?)
    }
}

/// Ends the sessions of `user_id` but `keep`; how many ended.
async fn end_sessions_of<C: ConnectionTrait>(
    conn: &C,
    user_id: &UserId,
    keep: Option<&SessionId>,
) -> ServiceResult<u64> {
    let mut ended =
        session::Entity::delete_many().filter(session::Column::UserId.eq(user_id.as_str()));
    if let Some(keep) = keep {
        ended = ended.filter(session::Column::Id.ne(key_of(keep)));
    }
    Ok(ended.exec(conn).await?.rows_affected)
}

fn too_many_failures(wait: Duration) -> ServiceError {
    metrics::counter!("parlor_rate_limited_total", "limit" => "login_username").increment(1);
    let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
    ApiError::rate_limited(ms)
        .with_message(format!(
            "Too many failed password attempts for this account. Wait {} s and try again.",
            ms.div_ceil(1000)
        ))
        .into()
}

fn username_taken() -> ServiceError {
    ApiError::new(
        ErrorCode::UsernameTaken,
        "That username is taken, or one that looks the same. Pick another one.",
    )
    .for_field("username")
    .into()
}

/// The threads that run argon2, off the async runtime. A few dedicated threads rather than
/// `spawn_blocking`: each hash takes 19 MiB, and the allocator keeps that much per thread
/// that ever hashed; tokio's blocking pool grows to hundreds of threads under a burst of
/// logins (measured: 18 MB → 955 MB resident after 50 sign-ups), a fixed pool stays small.
struct PasswordWorkers {
    jobs: std::sync::mpsc::SyncSender<Box<dyn FnOnce() + Send>>,
    /// Jobs for accounts' own password checks, queued or running: in all, and per account.
    checks: Mutex<Checks>,
}

#[derive(Default)]
struct Checks {
    all: usize,
    by_account: HashMap<UserId, usize>,
}

/// Password jobs waiting at most: past this, a login or sign-up is answered `unavailable`
/// with a wait at once, instead of queueing without bound (each job holds a request open).
const PASSWORD_QUEUE: usize = 64;
/// How much of the queue accounts' own password checks (a new password, deleting the
/// account) may hold, in all and per account: many accounts changing their passwords in a
/// loop cannot keep the queue full, and logins and sign-ups always find room.
const CHECKS_SHARE: usize = PASSWORD_QUEUE / 4;
const PER_ACCOUNT: usize = 2;

impl PasswordWorkers {
    fn get() -> &'static Self {
        static WORKERS: std::sync::OnceLock<PasswordWorkers> = std::sync::OnceLock::new();
        WORKERS.get_or_init(|| {
            let (tx, rx) =
                std::sync::mpsc::sync_channel::<Box<dyn FnOnce() + Send>>(PASSWORD_QUEUE);
            let rx = Arc::new(Mutex::new(rx));
            let threads = std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .min(4);
            for i in 0..threads {
                let rx = rx.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("argon2-{i}"))
                    .spawn(move || loop {
                        let job = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    });
                if let Err(e) = spawned {
                    tracing::error!(error = %e, "could not start a password thread");
                }
            }
            Self {
                jobs: tx,
                checks: Mutex::default(),
            }
        })
    }

    async fn run<T: Send + 'static>(
        account: Option<&UserId>,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> ServiceResult<T> {
        let workers = Self::get();
        let share = match account {
            None => None,
            Some(account) => match workers.take_share(account) {
                Some(share) => Some(share),
                None => {
                    tracing::info!("the password checks' share of the queue is full");
                    return Err(busy());
                }
            },
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        // The share goes with the job: a caller that stops waiting still holds it until
        // the hash is done.
        let job: Box<dyn FnOnce() + Send> = Box::new(move || {
            let _ = reply.send(work());
            drop(share);
        });
        match workers.jobs.try_send(job) {
            Ok(()) => {}
            Err(std::sync::mpsc::TrySendError::Full(_)) => {
                tracing::warn!("password queue full; a login or sign-up was turned away");
                return Err(busy());
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                return Err(ServiceError::Internal("password threads stopped".into()))
            }
        }
        answer
            .await
            .map_err(|_| ServiceError::Internal("password job dropped".into()))
    }
}

impl PasswordWorkers {
    fn take_share(&'static self, account: &UserId) -> Option<Share> {
        let mut checks = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        let mine = checks.by_account.get(account).copied().unwrap_or(0);
        if checks.all >= CHECKS_SHARE || mine >= PER_ACCOUNT {
            return None;
        }
        checks.all += 1;
        checks.by_account.insert(account.clone(), mine + 1);
        Some(Share {
            workers: self,
            account: account.clone(),
        })
    }
}

/// A password check's place in the share, given back when its hash is done.
struct Share {
    workers: &'static PasswordWorkers,
    account: UserId,
}

impl Drop for Share {
    fn drop(&mut self) {
        let mut checks = self
            .workers
            .checks
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        checks.all = checks.all.saturating_sub(1);
        if let Some(n) = checks.by_account.get_mut(&self.account) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                checks.by_account.remove(&self.account);
            }
        }
    }
}

fn busy() -> ServiceError {
    let mut busy = ApiError::unavailable();
    busy.message = "The server is busy checking passwords. Try again in a moment.".into();
    busy.retry_after_ms = Some(1000);
    busy.into()
}

/// argon2id with the crate's defaults (19 MiB, 2 passes).
/// `account`: the signed-in account whose own password this is for (a change or a
/// deletion), which has a bounded share of the queue; `None` for logins and sign-ups.
async fn hash_password(account: Option<&UserId>, password: String) -> ServiceResult<String> {
    PasswordWorkers::run(account, move || {
        ReusedMemoryArgon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| ServiceError::Internal(format!("argon2 hash: {e}")))
    })
    .await?
}

async fn verify_password(
    account: Option<&UserId>,
    password: String,
    hash: String,
) -> ServiceResult<bool> {
    PasswordWorkers::run(account, move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| ServiceError::Internal(format!("stored hash unreadable: {e}")))?;
        Ok(ReusedMemoryArgon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await?
}

thread_local! {
    /// argon2's working memory, allocated once per password thread and reused by each hash.
    /// Allocating 19 MiB per hash, as `Argon2::hash_password` does, left glibc holding
    /// ~370 MB after 60 sign-ups (measured): once a block that size is freed, glibc serves
    /// the next ones from arenas it never hands back.
    static ARGON2_MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The argon2 crate's hasher, but computing in [`ARGON2_MEMORY`]. Hashes are the same PHC
/// strings `Argon2` makes and verifies: only where the working memory lives differs.
#[derive(Default)]
struct ReusedMemoryArgon2 {
    algorithm: Algorithm,
    version: Version,
    params: Params,
}

impl PasswordHasher<PasswordHash> for ReusedMemoryArgon2 {
    fn hash_password_with_salt(
        &self,
        password: &[u8],
        salt: &[u8],
    ) -> password_hash::Result<PasswordHash> {
        let salt = Salt::new(salt)?;
        let argon2 = Argon2::new(self.algorithm, self.version, self.params.clone());
        let output_len = self
            .params
            .output_len()
            .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let mut buffer = [0u8; Output::MAX_LENGTH];
        let out = buffer
            .get_mut(..output_len)
            .ok_or(password_hash::Error::OutputSize)?;
        let blocks = self.params.block_count();
        ARGON2_MEMORY.with_borrow_mut(|memory| {
            if memory.len() < blocks {
                memory.resize(blocks, Block::default());
            }
            argon2.hash_password_into_with_memory(password, &salt, &mut *out, &mut memory[..blocks])
        })?;
        Ok(PasswordHash {
            algorithm: self.algorithm.ident(),
            version: Some(self.version.into()),
            params: ParamsString::try_from(&self.params)?,
            salt: Some(salt),
            hash: Some(Output::new(out)?),
        })
    }
}

/// Lets the `password_hash` crate verify a stored hash with that hash's own parameters.
impl CustomizedPasswordHasher<PasswordHash> for ReusedMemoryArgon2 {
    type Params = Params;

    fn hash_password_customized(
        &self,
        password: &[u8],
        salt: &[u8],
        alg_id: Option<&str>,
        version: Option<u32>,
        params: Params,
    ) -> password_hash::Result<PasswordHash> {
        Self {
            algorithm: alg_id
                .map(Algorithm::try_from)
                .transpose()?
                .unwrap_or_default(),
            version: version
                .map(Version::try_from)
                .transpose()?
                .unwrap_or_default(),
            params,
        }
        .hash_password_with_salt(password, salt)
    }
}

/// Limits guessing one username's password: a few attempts are free, then each attempt
/// (admitted before its password is checked) closes the door for longer, doubling up to a
/// minute, until a success or a quiet spell. Someone can keep a username's owner waiting
/// this way, never locked out for longer than a minute at a time; per-address limits slow
/// the one doing it.
#[derive(Default)]
struct FailedLogins {
    by_key: Mutex<HashMap<String, Attempts>>,
}

#[derive(Clone, Copy)]
struct Attempts {
    count: u32,
    last: Instant,
    closed_until: Instant,
}

/// Three free attempts per username, then 250 ms after the first one past them, doubling up
/// to a minute; forgotten after 15 minutes without one.
const LOGIN_POLICY: LoginPolicy = LoginPolicy {
    free: 3,
    first_wait: Duration::from_millis(250),
    max_wait: Duration::from_secs(60),
    forget_after: Duration::from_secs(15 * 60),
};

impl FailedLogins {
    const MAX_TRACKED: usize = 100_000;

    /// Counts an attempt for `key`, or says how long until one is allowed.
    fn admit(&self, key: &str) -> Result<(), Duration> {
        let Ok(mut map) = self.by_key.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        if map.len() >= Self::MAX_TRACKED && !map.contains_key(key) {
            map.retain(|_, a| a.last.elapsed() <= LOGIN_POLICY.forget_after);
            // Still full of recent attempts: the oldest makes room, so the map stays bounded.
            if map.len() >= Self::MAX_TRACKED {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, a)| a.last)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    map.remove(&oldest);
                }
            }
        }
        let a = map.entry(key.to_owned()).or_insert(Attempts {
            count: 0,
            last: now,
            closed_until: now,
        });
        if a.last.elapsed() > LOGIN_POLICY.forget_after {
            a.count = 0;
        }
        if now < a.closed_until {
            return Err(a.closed_until - now);
        }
        a.count += 1;
        a.last = now;
        if a.count > LOGIN_POLICY.free {
            a.closed_until = now + LOGIN_POLICY.wait(a.count - LOGIN_POLICY.free);
        }
        Ok(())
    }

    /// A success: the username's attempts start over.
    fn clear(&self, key: &str) {
        if let Ok(mut map) = self.by_key.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_with_reused_memory_are_the_argon2_crates_own() {
        let ours = ReusedMemoryArgon2::default();
        let theirs = Argon2::default();
        let password = b"correct horse battery";
        // Ours verifies theirs and theirs verifies ours, with the same PHC parameters.
        let by_us = ours.hash_password(password).unwrap();
        let by_them = theirs.hash_password(password).unwrap();
        assert_eq!(by_us.params, by_them.params);
        assert_eq!(by_us.algorithm, by_them.algorithm);
        assert!(theirs.verify_password(password, &by_us).is_ok());
        assert!(ours.verify_password(password, &by_them).is_ok());
        // Same password and salt: the same output, memory reused or fresh.
        let salt = b"sixteen byte salt";
        assert_eq!(
            ours.hash_password_with_salt(password, salt).unwrap().hash,
            theirs.hash_password_with_salt(password, salt).unwrap().hash
        );
        assert!(ours.verify_password(b"wrong", &by_us).is_err());
        assert!(ours.verify_password(b"wrong", &by_them).is_err());
        // A stored hash with other parameters (more memory) still verifies.
        let bigger = Params::new(32 * 1024, 2, 1, None).unwrap();
        let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, bigger)
            .hash_password(password)
            .unwrap();
        assert!(ours.verify_password(password, &other).is_ok());
        assert!(ours.verify_password(b"wrong", &other).is_err());
    }

    /// The password threads are one pool per process: the tests that fill it take turns.
    static POOL_TESTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    #[tokio::test]
    async fn a_full_password_queue_turns_work_away_at_once_with_a_wait() {
        let _turn = POOL_TESTS.lock().await;
        // Jobs that hold their thread until the gate closes fill the threads, then the queue.
        let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate_rx));
        let mut refused = Vec::new();
        for _ in 0..PASSWORD_QUEUE + 16 {
            let gate = gate.clone();
            let job = PasswordWorkers::run(None, move || {
                let _ = gate.lock().map(|g| g.recv());
            });
            // One poll enqueues it (or is refused); the job runs on without its answer.
            if let Ok(Err(e)) = tokio::time::timeout(Duration::from_millis(1), job).await {
                refused.push(e);
            }
        }
        drop(gate_tx);
        // The next test starts once the queue has room again: a job sent after ours is run.
        while PasswordWorkers::run(None, || ()).await.is_err() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(!refused.is_empty(), "the queue took every job");
        for e in refused {
            let ServiceError::Refused(e) = e else {
                panic!("{e:?}")
            };
            assert_eq!(e.code, domain::ErrorCode::Unavailable);
            assert_eq!(e.retry_after_ms, Some(1000));
        }
    }

    #[tokio::test]
    async fn one_account_holds_at_most_its_share_of_the_password_threads() {
        let _turn = POOL_TESTS.lock().await;
        let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate_rx));
        let mut outcomes = Vec::new();
        let one: UserId = "one account".into();
        for _ in 0..PER_ACCOUNT + 2 {
            let gate = gate.clone();
            let job = PasswordWorkers::run(Some(&one), move || {
                let _ = gate.lock().map(|g| g.recv());
            });
            outcomes.push(tokio::time::timeout(Duration::from_millis(5), job).await);
        }
        // Its first jobs are taken (and wait for the gate); the rest are turned away.
        let refused = outcomes.iter().filter(|o| matches!(o, Ok(Err(_)))).count();
        assert_eq!(refused, 2, "{outcomes:?}");
        // Another account is not held back by it.
        let another: UserId = "another account".into();
        assert!(PasswordWorkers::get().take_share(&another).is_some());
        drop(gate_tx);
    }

    #[test]
    fn failure_wait_doubles_and_caps() {
        assert_eq!(LOGIN_POLICY.wait(1), Duration::from_millis(250));
        assert_eq!(LOGIN_POLICY.wait(2), Duration::from_millis(500));
        assert_eq!(LOGIN_POLICY.wait(3), Duration::from_millis(1000));
        assert_eq!(LOGIN_POLICY.wait(30), Duration::from_secs(60));
    }

    #[test]
    fn attempts_are_free_at_first_then_refused_until_the_wait_and_cleared_by_success() {
        let f = FailedLogins::default();
        for _ in 0..LOGIN_POLICY.free {
            assert_eq!(f.admit("bob"), Ok(()));
        }
        // The next is admitted and closes the door: an attempt right after is refused,
        // however many run at once.
        assert_eq!(f.admit("bob"), Ok(()));
        let wait = f.admit("bob").unwrap_err();
        assert!(wait <= Duration::from_millis(250) && wait > Duration::ZERO);
        assert!(f.admit("bob").is_err());
        assert_eq!(f.admit("alice"), Ok(()));
        f.clear("bob");
        assert_eq!(f.admit("bob"), Ok(()));
    }

    #[test]
    fn tracked_usernames_stay_bounded_when_every_entry_is_recent() {
        let f = FailedLogins::default();
        for i in 0..FailedLogins::MAX_TRACKED + 5 {
            let _ = f.admit(&format!("user{i}"));
        }
        let map = f.by_key.lock().unwrap();
        assert_eq!(map.len(), FailedLogins::MAX_TRACKED);
        assert!(map.contains_key(&format!("user{}", FailedLogins::MAX_TRACKED + 4)));
    }
}
