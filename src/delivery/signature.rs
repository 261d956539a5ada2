//! The two signatures every delivery carries:
//! - `X-Webhook-Signature`: lowercase hex HMAC-SHA256 of the raw body, keyed by the whole
//!   secret string (`whsec_…`) as UTF-8, as the original API page's `verifySignature` expects;
//! - Standard Webhooks v1 `webhook-signature`: `v1,<base64 HMAC-SHA256 of "{id}.{ts}.{body}">`
//!   keyed by the base64-decoded part of the secret after `whsec_`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::domain::secret::WEBHOOK_SECRET_PREFIX;

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac =
        HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("any key length"));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// `X-Webhook-Signature`.
pub fn legacy(secret: &str, body: &[u8]) -> String {
    hex::encode(hmac(secret.as_bytes(), &[body]))
}

/// The Standard Webhooks key: the base64 after `whsec_`, decoded. Secrets that are not base64
/// (never made by Roster) fall back to their raw bytes.
fn standard_key(secret: &str) -> Vec<u8> {
    let encoded = secret.strip_prefix(WEBHOOK_SECRET_PREFIX).unwrap_or(secret);
    STANDARD.decode(encoded).unwrap_or_else(|_| encoded.as_bytes().to_vec())
}

/// One `v1,<base64>` entry of `webhook-signature`.
pub fn standard(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    let mac = hmac(&standard_key(secret), &[msg_id.as_bytes(), b".", ts.as_bytes(), b".", body]);
    format!("v1,{}", STANDARD.encode(mac))
}

/// Checks `X-Webhook-Signature` in constant time.
pub fn verify_legacy(secret: &str, body: &[u8], signature: &str) -> bool {
    legacy(secret, body).as_bytes().ct_eq(signature.trim().as_bytes()).into()
}

/// Checks a `webhook-signature` header (space-separated `v1,…` entries): true if any matches.
pub fn verify_standard(
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
    header: &str,
) -> bool {
    let expected = standard(secret, msg_id, timestamp, body);
    header
        .split_whitespace()
        .any(|candidate| expected.as_bytes().ct_eq(candidate.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_vector() {
        let sig = standard(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            br#"{"email":"test@example.com","username":"test_user"}"#,
        );
        assert_eq!(sig, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    }

    #[test]
    fn legacy_is_hex_hmac_keyed_by_the_whole_secret() {
        // echo -n 'hello' | openssl dgst -sha256 -hmac 'whsec_abc'
        let sig = legacy("whsec_abc", b"hello");
        assert_eq!(sig.len(), 64);
        assert!(sig.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert!(verify_legacy("whsec_abc", b"hello", &sig));
        assert!(!verify_legacy("whsec_abd", b"hello", &sig));
    }

    #[test]
    fn the_standard_key_is_the_secrets_random_bytes() {
        let s = crate::domain::secret::webhook_secret();
        assert_eq!(standard_key(&s).len(), 24);
    }

    #[test]
    fn verifies_any_of_several_signatures() {
        let header = format!(
            "{} {}",
            standard("whsec_b2xk", "m", 1, b"x"),
            standard("whsec_bmV3", "m", 1, b"x")
        );
        assert!(verify_standard("whsec_bmV3", "m", 1, b"x", &header));
        assert!(verify_standard("whsec_b2xk", "m", 1, b"x", &header));
        assert!(!verify_standard("whsec_b3RoZXI=", "m", 1, b"x", &header));
    }
}
