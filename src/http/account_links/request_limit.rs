//! How often links may be asked for: per address, so nobody can flood a stranger's inbox,
//! and per client network, so nobody can sweep through addresses. Counted in the sign-in
//! attempts table (one limit across every instance) under subjects of their own, and counted
//! alike whether or not an account uses the address.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::auth::sign_in::client_network;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{Tx, login_failures, users};

/// Records one request for a `kind` link to `email` from `client`, in `tx`; refuses it with
/// 429 when the address or network has had its share within the window.
pub async fn take(
    state: &AppState,
    tx: &mut Tx,
    kind: &str,
    email: &str,
    client: IpAddr,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let window = chrono::Duration::from_std(state.config.login_window).unwrap_or_default();
    let max = state.config.email.link_requests_max;
    let by_email = format!("{kind}:email:{}", users::normalize_email(email));
    let by_network = format!("{kind}:network:{}", client_network(client));
    for (subject, limit) in [(&by_email, max), (&by_network, max * 4)] {
        let (count, oldest) = login_failures::count_recent(tx, subject, now, window).await?;
        if count >= limit {
            let frees_at = oldest.map_or(now + window, |t| t + window);
            let secs = (frees_at - now).num_seconds().max(1) as u64;
            return Err(ApiError::RateLimited { retry_after_secs: secs });
        }
    }
    login_failures::record(tx, &[&by_email, &by_network], now).await?;
    Ok(())
}
