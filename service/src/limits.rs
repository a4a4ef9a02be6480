//! Per-user allowances for the actions that cost other people something or the server a lot
//! (docs/SECURITY.md, "Limits"): every command that changes a room writes to the database
//! and tells its members (a room created, an invite, a kick, ban or unban, a join or a
//! leave, an answered request, a role or a setting changed); search and catch-up read much;
//! a password check costs two argon2 hashes. Each action has its own bucket per user (joins
//! and leaves: per user and room); an empty bucket answers `rate_limited` with the wait.

use std::{collections::HashMap, num::NonZeroU32, str::FromStr, sync::Arc, time::Duration};

use domain::{ApiError, RoomId, UserId};
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    CreateRoom,
    Invite,
    /// Kick, ban and unban.
    Moderate,
    /// Asking to join a request-only room (again, after a denial, too).
    Request,
    /// Joining (an open room, by invite) and leaving: one budget per person and room.
    JoinLeave,
    /// Answer a request to join, promote, demote, hand over ownership, change the room's
    /// settings.
    Manage,
    Search,
    /// `messages/search`, the most expensive read there is.
    SearchMessages,
    /// `messages/since`, the catch-up after a reconnect.
    CatchUp,
    /// Confirming one's password (to change it, or to delete the account).
    PasswordCheck,
    /// Setting or taking back a reaction.
    React,
}

impl Action {
    /// Its `limit` label on `parlor_rate_limited_total`.
    fn metric_label(self) -> &'static str {
        match self {
            Self::CreateRoom => "create_room",
            Self::Invite => "invite",
            Self::Moderate => "moderate",
            Self::Request => "request",
            Self::JoinLeave => "join_leave",
            Self::Manage => "manage",
            Self::Search => "search",
            Self::SearchMessages => "search_messages",
            Self::CatchUp => "catch_up",
            Self::PasswordCheck => "password_check",
            Self::React => "react",
        }
    }

    fn sentence(self) -> &'static str {
        match self {
            Self::CreateRoom => "You have created many rooms in a short time.",
            Self::Invite => "You have sent many invites in a short time.",
            Self::Moderate => {
                "You have made many kicks, bans, unbans and timeouts in a short time."
            }
            Self::Request => "You have asked to join rooms many times in a short time.",
            Self::JoinLeave => "You have joined and left this room many times in a short time.",
            Self::Manage => {
                "You have answered requests and changed roles and settings many times in a short \
                 time."
            }
            Self::Search => "You have searched very often in a short time.",
            Self::SearchMessages => "You have searched messages very often in a short time.",
            Self::CatchUp => "Your client has caught up very often in a short time.",
            Self::PasswordCheck => "You have confirmed your password many times in a short time.",
            Self::React => "You have reacted many times in a short time.",
        }
    }
}

/// `burst` actions at once, refilled evenly over `per`: `5/1h` is five at once, then one
/// more every twelve minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub burst: u32,
    pub per: Duration,
}

impl FromStr for Rate {
    type Err = String;

    /// `BURST/PERIOD`, the period a number with `s`, `m` or `h`: `30/10m`.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let bad = || format!("\"{raw}\" is not a rate like 30/10m (count / period in s, m or h)");
        let (burst, per) = raw.trim().split_once('/').ok_or_else(bad)?;
        let burst: u32 = burst.trim().parse().map_err(|_| bad())?;
        let per = per.trim();
        let (n, unit) = per.split_at(per.len().saturating_sub(1));
        let n: u64 = n.parse().map_err(|_| bad())?;
        let seconds = match unit {
            "s" => n,
            "m" => n * 60,
            "h" => n * 3600,
            _ => return Err(bad()),
        };
        if burst == 0 || seconds == 0 {
            return Err(bad());
        }
        Ok(Self {
            burst,
            per: Duration::from_secs(seconds),
        })
    }
}

/// Buckets that every instance shares (the Redis of `--redis-url`), so that running several
/// instances does not multiply anyone's allowance. Each instance also keeps its own buckets
/// and checks them first: when the shared store cannot answer (`None`), those decide alone.
#[async_trait::async_trait]
pub trait SharedBuckets: Send + Sync + 'static {
    /// Takes one from bucket `key`, which holds `burst` and gets one back every `refill`:
    /// `Some(Ok)` taken, `Some(Err(wait))` empty, `None` the store did not answer.
    async fn take(&self, key: &str, burst: u32, refill: Duration) -> Option<Result<(), Duration>>;

    /// The per-username login lock-out (`Accounts::login`): counts an attempt for `key`, or
    /// says how long until one is allowed.
    async fn login_attempt(&self, key: &str, policy: LoginPolicy) -> Option<Result<(), Duration>>;

    /// A successful login: `key`'s attempts start over.
    async fn login_success(&self, key: &str);
}

/// The shared buckets, when several instances run.
pub type Shared = Option<Arc<dyn SharedBuckets>>;

/// How the per-username login lock-out counts: `free` attempts, then a wait of `first_wait`
/// doubling with each further attempt up to `max_wait`; forgotten after `forget_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginPolicy {
    pub free: u32,
    pub first_wait: Duration,
    pub max_wait: Duration,
    pub forget_after: Duration,
}

impl LoginPolicy {
    /// The wait after the `excess`-th attempt past the free ones.
    pub fn wait(&self, excess: u32) -> Duration {
        let factor = 1u32 << excess.saturating_sub(1).min(16);
        self.first_wait.saturating_mul(factor).min(self.max_wait)
    }
}

/// One per-user limit: `burst` at once, then one more every `refill`. Each instance keeps its
/// own bucket per user and checks it first; with several instances, the shared one too.
pub struct Bucket {
    /// Its `limit` label on `parlor_rate_limited_total`, and its key in the shared buckets.
    name: &'static str,
    burst: u32,
    refill: Duration,
    local: DefaultKeyedRateLimiter<String>,
}

impl Bucket {
    pub fn new(name: &'static str, burst: u32, refill: Duration) -> Self {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let refill = refill.max(Duration::from_micros(1));
        let quota = Quota::with_period(refill)
            .unwrap_or_else(|| Quota::per_second(burst))
            .allow_burst(burst);
        Self {
            name,
            burst: burst.get(),
            refill,
            local: RateLimiter::keyed(quota),
        }
    }

    /// Takes one from `user_id`'s allowance, or says how long to wait (a refusal is counted).
    pub async fn take(&self, user_id: &UserId, shared: &Shared) -> Result<(), Duration> {
        self.take_key(user_id.as_str(), shared).await
    }

    /// The same for any key: the user's id, or the user's id and a room's.
    async fn take_key(&self, who: &str, shared: &Shared) -> Result<(), Duration> {
        let taken = match self.local.check_key(&who.to_owned()) {
            Err(not_until) => {
                Err(not_until.wait_time_from(governor::clock::DefaultClock::default().now()))
            }
            Ok(()) => match shared {
                Some(shared) => {
                    let key = format!("{}:{who}", self.name);
                    match shared.take(&key, self.burst, self.refill).await {
                        Some(Err(wait)) => Err(wait),
                        Some(Ok(())) | None => Ok(()),
                    }
                }
                None => Ok(()),
            },
        };
        if taken.is_err() {
            metrics::counter!("parlor_rate_limited_total", "limit" => self.name).increment(1);
        }
        taken
    }
}

#[derive(Clone, Default)]
pub struct ActionLimits {
    buckets: Arc<HashMap<Action, Bucket>>,
    shared: Shared,
}

impl ActionLimits {
    /// Actions left out are not limited.
    pub fn new(rates: impl IntoIterator<Item = (Action, Rate)>) -> Self {
        let buckets = rates
            .into_iter()
            .map(|(action, rate)| {
                let burst = rate.burst.max(1);
                let bucket = Bucket::new(action.metric_label(), burst, rate.per / burst);
                (action, bucket)
            })
            .collect();
        Self {
            buckets: Arc::new(buckets),
            shared: None,
        }
    }

    /// Counts every action in the instances' shared buckets too.
    pub fn shared_with(mut self, shared: Shared) -> Self {
        self.shared = shared;
        self
    }

    /// Takes one `action` from `user_id`'s bucket, or says how long to wait.
    pub async fn check(&self, action: Action, user_id: &UserId) -> Result<(), ApiError> {
        self.check_key(action, user_id.as_str()).await
    }

    /// Takes one `action` from `user_id`'s bucket for `room_id`.
    pub async fn check_in_room(
        &self,
        action: Action,
        user_id: &UserId,
        room_id: &RoomId,
    ) -> Result<(), ApiError> {
        self.check_key(action, &format!("{user_id}/{room_id}"))
            .await
    }

    async fn check_key(&self, action: Action, key: &str) -> Result<(), ApiError> {
        let Some(bucket) = self.buckets.get(&action) else {
            return Ok(());
        };
        bucket.take_key(key, &self.shared).await.map_err(|wait| {
            let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
            ApiError::rate_limited(ms).with_message(format!(
                "{} Wait {} s and try again.",
                action.sentence(),
                ms.div_ceil(1000)
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rates_read_as_count_per_period() {
        assert_eq!(
            "5/1h".parse::<Rate>().unwrap(),
            Rate {
                burst: 5,
                per: Duration::from_secs(3600)
            }
        );
        assert_eq!(
            "30/10m".parse::<Rate>().unwrap().per,
            Duration::from_secs(600)
        );
        for bad in ["", "5", "0/1m", "5/0s", "5/1d", "x/1m", "5/m"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn each_user_and_action_has_its_own_bucket() {
        let limits = ActionLimits::new([(Action::Invite, "2/1h".parse().unwrap())]);
        let (ann, bob) = (UserId::from("ann"), UserId::from("bob"));
        assert!(limits.check(Action::Invite, &ann).await.is_ok());
        assert!(limits.check(Action::Invite, &ann).await.is_ok());
        let refused = limits.check(Action::Invite, &ann).await.unwrap_err();
        assert_eq!(refused.code, domain::ErrorCode::RateLimited);
        assert!(refused.retry_after_ms.unwrap() > 60_000);
        assert!(refused.message.starts_with("You have sent many invites"));
        assert!(limits.check(Action::Invite, &bob).await.is_ok());
        // Not configured: not limited.
        for _ in 0..100 {
            assert!(limits.check(Action::Search, &ann).await.is_ok());
        }
    }
}
