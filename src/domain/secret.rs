//! Secrets Roster hands out for webhooks, and how rotation retires them. A webhook signing
//! secret is `whsec_` and base64 of 24 random bytes; its base64 part is the Standard Webhooks
//! key, the whole string the key of `X-Webhook-Signature`.
//!
//! A rotated-out secret keeps working for an overlap, so that every receiver or client
//! instance can switch over: [`retired_at`] says until when.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use rand::RngCore;

pub const WEBHOOK_SECRET_PREFIX: &str = "whsec_";

/// A new webhook signing secret.
pub fn webhook_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{WEBHOOK_SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// When a secret rotated out at `now` stops working, given the overlap. An overlap too long
/// to represent keeps the old secret until the end of year 9999, the last time every backend
/// stores and compares faithfully, instead of failing.
pub fn retired_at(now: DateTime<Utc>, overlap: std::time::Duration) -> DateTime<Utc> {
    let last = super::time::latest();
    let overlap = chrono::Duration::from_std(overlap).unwrap_or(chrono::Duration::MAX);
    now.checked_add_signed(overlap).map_or(last, |at| at.min(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_24_random_bytes() {
        let s = webhook_secret();
        let encoded = s.strip_prefix(WEBHOOK_SECRET_PREFIX).expect("prefix");
        assert_eq!(STANDARD.decode(encoded).expect("base64").len(), 24);
        assert_ne!(s, webhook_secret());
    }

    #[test]
    fn a_rotated_secret_retires_after_the_overlap() {
        let now = Utc::now();
        let day = std::time::Duration::from_secs(24 * 3600);
        assert_eq!(retired_at(now, day), now + chrono::Duration::hours(24));
        let forever = std::time::Duration::from_secs(u64::MAX);
        assert_eq!(chrono::Datelike::year(&retired_at(now, forever)), 9999);
    }
}
