//! Rate buckets in Redis, shared by every instance (`service::limits::SharedBuckets`): the
//! per-user send rate, the per-user action limits, the per-username login lock-out and the
//! per-address login and sign-up limit. Each bucket is changed by one Lua script, atomically
//! and on Redis's clock, so the count is exact across instances while Redis answers. When it
//! does not (down, or slower than [`ANSWER_WITHIN`]), each instance's own buckets decide
//! alone until it is back: a user then gets at most one allowance per instance.

use std::{sync::Arc, time::Duration};

use redis::{aio::ConnectionManager, Script};
use service::limits::{LoginPolicy, SharedBuckets};

/// Longest a limit check waits for Redis before the instance decides alone.
const ANSWER_WITHIN: Duration = Duration::from_millis(250);

/// GCRA: the bucket is its "theoretical arrival time" in µs on Redis's clock. Answers 0
/// when taken, or the wait in µs.
const TAKE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local refill = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local allowed_at = tat - (burst - 1) * refill
if allowed_at > now then return allowed_at - now end
local next_tat = tat + refill
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1)
return 0
";

/// The login lock-out of `Accounts::login`, on Redis: a hash of the attempt count, the last
/// attempt and the end of the current wait (µs). Answers 0 when admitted, or the wait in µs.
const LOGIN_ATTEMPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local free = tonumber(ARGV[1])
local first_wait = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local forget = tonumber(ARGV[4])
local count = tonumber(redis.call('HGET', KEYS[1], 'count') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
local closed = tonumber(redis.call('HGET', KEYS[1], 'closed') or '0')
if now - last > forget then count = 0 end
if now < closed then return closed - now end
count = count + 1
if count > free then
  closed = now + math.min(first_wait * 2 ^ math.min(count - free - 1, 16), max_wait)
end
redis.call('HSET', KEYS[1], 'count', count, 'last', string.format('%.0f', now), 'closed', string.format('%.0f', closed))
redis.call('PEXPIRE', KEYS[1], math.ceil(forget / 1000))
return 0
";

pub struct RedisBuckets {
    conn: ConnectionManager,
    prefix: String,
    take: Arc<Script>,
    login_attempt: Arc<Script>,
}

impl RedisBuckets {
    /// Buckets under `prefix` (the site's channel name) in the Redis at `url`. Connects
    /// lazily: an unreachable Redis is retried, and meanwhile each instance decides alone.
    pub fn new(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(ANSWER_WITHIN))
            .set_response_timeout(Some(ANSWER_WITHIN))
            .set_number_of_retries(1);
        Ok(Self {
            conn: client.get_connection_manager_lazy(config)?,
            prefix: prefix.to_owned(),
            take: Arc::new(Script::new(TAKE)),
            login_attempt: Arc::new(Script::new(LOGIN_ATTEMPT)),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}:limit:{key}", self.prefix)
    }

    /// Runs a script that answers 0 or a wait in µs; `None` when Redis did not answer.
    async fn wait_from(
        &self,
        invocation: redis::ScriptInvocation<'_>,
    ) -> Option<Result<(), Duration>> {
        let mut conn = self.conn.clone();
        let answer =
            tokio::time::timeout(ANSWER_WITHIN, invocation.invoke_async::<i64>(&mut conn)).await;
        match answer {
            Ok(Ok(0)) => Some(Ok(())),
            Ok(Ok(us)) => Some(Err(Duration::from_micros(us.unsigned_abs()))),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "a shared limit could not be checked; deciding alone");
                None
            }
            Err(_) => {
                tracing::debug!("a shared limit did not answer in time; deciding alone");
                None
            }
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[async_trait::async_trait]
impl SharedBuckets for RedisBuckets {
    async fn take(&self, key: &str, burst: u32, refill: Duration) -> Option<Result<(), Duration>> {
        let mut invocation = self.take.key(self.key(key));
        invocation.arg(micros(refill).max(1)).arg(burst.max(1));
        self.wait_from(invocation).await
    }

    async fn login_attempt(&self, key: &str, policy: LoginPolicy) -> Option<Result<(), Duration>> {
        let mut invocation = self.login_attempt.key(self.key(&format!("login:{key}")));
        invocation
            .arg(policy.free)
            .arg(micros(policy.first_wait))
            .arg(micros(policy.max_wait))
            .arg(micros(policy.forget_after));
        self.wait_from(invocation).await
    }

    async fn login_success(&self, key: &str) {
        let mut conn = self.conn.clone();
        let cleared = tokio::time::timeout(
            ANSWER_WITHIN,
            redis::cmd("DEL")
                .arg(self.key(&format!("login:{key}")))
                .query_async::<()>(&mut conn),
        )
        .await;
        if !matches!(cleared, Ok(Ok(()))) {
            tracing::debug!("a shared login lock-out could not be cleared");
        }
    }
}
