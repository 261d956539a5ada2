//! Signing in with an email and a password, under rate limits. The API's sign-in and the
//! OAuth consent page both go through [`SignIn::check`], so a guess costs the same wherever
//! it is made.
//!
//! Invariants: every attempt is recorded before it is counted, so concurrent guesses cannot
//! slip past a limit; a refused attempt is not held against the caller; a success clears the
//! failures of its email and network pair only.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::password::{PasswordError, Passwords};
use crate::store::users::{self, User};
use crate::store::{Db, login_failures};

/// Longest password accepted anywhere: bounds the work one request can ask of Argon2.
pub const PASSWORD_MAX: usize = 128;

/// How many failures are tolerated, and over how long.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failures allowed for one email from one network; an email alone gets 5 times as
    /// many, a network alone 10 times as many.
    pub max_failures: i64,
    pub window: Duration,
}

/// Why a sign-in did not produce a user.
#[derive(Debug)]
pub enum SignInError {
    /// Too many recent failures; a retry may succeed after this many seconds.
    TooManyAttempts {
        retry_after_secs: u64,
    },
    /// Unknown email or wrong password; which one is never told.
    Invalid,
    Database(sqlx::Error),
    Password(PasswordError),
}

impl From<sqlx::Error> for SignInError {
    fn from(err: sqlx::Error) -> Self {
        Self::Database(err)
    }
}

impl From<PasswordError> for SignInError {
    fn from(err: PasswordError) -> Self {
        Self::Password(err)
    }
}

/// What checking a sign-in needs.
pub struct SignIn<'a> {
    pub db: &'a Db,
    pub passwords: &'a Passwords,
    pub limits: Limits,
}

impl SignIn<'_> {
    /// The user, if `password` is theirs and no limit is reached for `email` or `client`.
    pub async fn check(
        &self,
        client: IpAddr,
        email: &str,
        password: String,
        now: DateTime<Utc>,
    ) -> Result<User, SignInError> {
        let window = chrono::Duration::from_std(self.limits.window).unwrap_or_default();
        let max = self.limits.max_failures;
        let email_key = users::normalize_email(email);
        let network = client_network(client);
        // The pair limit stops guessing at one account from one place; the looser per-email
        // and per-network limits stop spreading guesses out, without letting a stranger lock
        // the owner of an email out of their own account from their own network.
        let by_pair = format!("pair:{email_key}|{network}");
        let by_email = format!("email:{email_key}");
        let by_network = format!("network:{network}");
        let limits = [
            (by_pair.as_str(), max),
            (by_email.as_str(), max * 5),
            (by_network.as_str(), max * 10),
        ];

        // The attempt is committed before counting: the k-th concurrent attempt then counts
        // at least k, whatever the isolation level, so no more than the limit get through.
        let subjects: Vec<&str> = limits.iter().map(|(subject, _)| *subject).collect();
        let mut tx = self.db.begin_write().await?;
        let attempt = login_failures::record(&mut tx, &subjects, now).await?;
        tx.commit().await?;
        let verdict = self.verdict(&limits, email, password, now, window).await;
        let user = match verdict {
            Ok(Some(user)) => user,
            Ok(None) => {
                // The recorded attempt stays, as a failure.
                let mut tx = self.db.begin_write().await?;
                login_failures::prune(&mut tx, now, window).await?;
                tx.commit().await?;
                return Err(SignInError::Invalid);
            }
            Err(err) => {
                // Refused before its password was checked (over a limit, the password queue
                // full, the database failing): it is no failure, and must not count as one,
                // or a flood of refused attempts would lock real users out.
                if let Err(forget) = self.forget(&attempt).await {
                    tracing::warn!(error = %forget, "cannot forget an unchecked sign-in attempt");
                }
                return Err(err);
            }
        };

        let mut tx = self.db.begin_write().await?;
        login_failures::forget(&mut tx, &attempt).await?;
        login_failures::clear(&mut tx, &by_pair).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// The user if `password` is theirs, `None` if it is not; an error when the password was
    /// not checked at all.
    async fn verdict(
        &self,
        limits: &[(&str, i64)],
        email: &str,
        password: String,
        now: DateTime<Utc>,
        window: chrono::Duration,
    ) -> Result<Option<User>, SignInError> {
        let mut conn = self.db.acquire().await?;
        for (subject, limit) in limits {
            let (attempts, oldest) =
                login_failures::count_recent(&mut conn, subject, now, window).await?;
            if attempts > *limit {
                let frees_at = oldest.unwrap_or(now) + window;
                let retry_after_secs = (frees_at - now).num_seconds().max(1) as u64;
                return Err(SignInError::TooManyAttempts { retry_after_secs });
            }
        }
        let found = users::find_credentials(&mut conn, email).await?;
        // No pooled connection is held while waiting for the hash.
        drop(conn);
        let (user, stored) = match found {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        let valid = self.passwords.verify(password, stored).await?;
        Ok(user.filter(|_| valid))
    }

    async fn forget(&self, attempt: &[uuid::Uuid]) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin_write().await?;
        login_failures::forget(&mut tx, attempt).await?;
        tx.commit().await
    }
}

/// The client's network for rate limiting: its IPv4 address, or the /64 of its IPv6 address
/// (one subscriber commonly holds a whole /64).
pub fn client_network(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        other => other.to_canonical().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::client_network;

    #[test]
    fn rate_limits_ipv6_clients_by_their_64() {
        let net = |s: &str| client_network(s.parse().expect("ip"));
        assert_eq!(net("203.0.113.7"), "203.0.113.7");
        assert_eq!(net("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(net("2001:db8:1:2:bbbb::9"), net("2001:db8:1:2:aaaa::1"));
        assert_eq!(net("::ffff:203.0.113.7"), "203.0.113.7");
    }
}
