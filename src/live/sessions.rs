//! Which session each socket belongs to: a session that ends (logout, a new password,
//! "log out everywhere", account deletion, expiry) closes the sockets it opened, on every
//! instance, and one that is renewed (a password change keeps the changing browser signed
//! in under a new id) takes its sockets along.

use std::{sync::atomic::Ordering, time::Duration};

use domain::{TokenId, UserId};
use service::hub::EndedSessions;
use tokio_util::sync::CancellationToken;

use super::{LiveChannel, LiveHub, SocketId};

/// How long a socket whose session id vanished waits to hear of its renewal.
const RENEWAL_GRACE: Duration = Duration::from_secs(2);

impl LiveHub {
    /// Closes the sockets of `user_id` that the ended sessions opened.
    pub(super) fn end_sessions(&self, user_id: &UserId, which: &EndedSessions) {
        let reg = self.read();
        for conn in reg.by_user.get(user_id).into_iter().flatten() {
            if let Some(c) = reg.conns.get(conn) {
                if which.includes(c.session_id.as_deref()) {
                    if *which == EndedSessions::AccountDeleted {
                        c.account_deleted.store(true, Ordering::Relaxed);
                    }
                    c.signed_out.cancel();
                }
            }
        }
    }

    /// Sockets opened by session `from` now belong to `to`, its renewed id.
    pub(super) fn renew_session(&self, user_id: &UserId, from: &str, to: String) {
        let mut reg = self.write();
        let super::registry::Registry { by_user, conns, .. } = &mut *reg;
        for conn in by_user.get(user_id).into_iter().flatten() {
            if let Some(c) = conns.get_mut(conn) {
                if c.session_id.as_deref() == Some(from) {
                    c.session_id = Some(to.clone());
                }
            }
        }
    }

    /// The session a socket belongs to now (`None` once it closed, or if it had none).
    pub fn session_of(&self, conn: SocketId) -> Option<String> {
        self.read().conns.get(&conn)?.session_id.clone()
    }
}

/// Watches the session a socket belongs to: when it has expired (looked at again at each
/// expiry, since the person's activity in other tabs moves it on), `signed_out` is
/// cancelled, which closes the socket as a logout does. The session is looked up under the
/// id the hub has for the socket now, which a password change renews. Never completes by
/// itself.
pub(super) async fn watch_expiry(live: LiveChannel, conn: SocketId, signed_out: CancellationToken) {
    use tower_sessions::{session::Id, SessionStore};
    let token = live
        .hub
        .session_of(conn)
        .as_deref()
        .and_then(service::tokens::token_of_socket_key);
    if let Some(token) = token {
        return watch_token(live, token, signed_out).await;
    }
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

/// [`watch_expiry`] for a socket an access token opened: it closes when the token expires
/// (looked at again at least every minute) or is gone. A revoke closes it at once anyway,
/// through the hub, on every instance.
async fn watch_token(live: LiveChannel, token: TokenId, signed_out: CancellationToken) {
    loop {
        match live.tokens.ends(&token).await {
            Ok(None) => {
                tracing::info!("a live channel's access token expired or went; closing it");
                signed_out.cancel();
                return std::future::pending().await;
            }
            Ok(Some(None)) => return std::future::pending().await,
            Ok(Some(Some(at))) => {
                let left = (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
                tokio::time::sleep(left.min(Duration::from_secs(60)) + Duration::from_millis(500))
                    .await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read a live channel's access token");
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
        }
    }
}
