//! Opaque tokens: a readable prefix and 256 random bits, base64url. Only a SHA-256 digest is
//! ever stored, so a database leak yields no usable token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const ACCESS_PREFIX: &str = "rst_at_";
pub const REFRESH_PREFIX: &str = "rst_rt_";
pub const PERSONAL_PREFIX: &str = "rst_pat_";
pub const INVITE_PREFIX: &str = "rst_inv_";
pub const OAUTH_ACCESS_PREFIX: &str = "rst_oat_";
pub const OAUTH_REFRESH_PREFIX: &str = "rst_ort_";
pub const OAUTH_CODE_PREFIX: &str = "rst_ac_";
pub const CLIENT_ID_PREFIX: &str = "rst_ci_";
pub const CLIENT_SECRET_PREFIX: &str = "rst_cs_";
pub const SERVER_KEY_PREFIX: &str = "rst_sk_";
/// A console sign-in's cookie: never a bearer token.
pub const CONSOLE_PREFIX: &str = "rst_cn_";
/// A portal session's one-time link, and the session it opens.
pub const PORTAL_LINK_PREFIX: &str = "rst_pl_";
pub const PORTAL_SESSION_PREFIX: &str = "rst_ps_";

/// Longest token the API will look up; anything longer is not ours.
pub const MAX_LEN: usize = 128;

pub fn generate(prefix: &str) -> String {
    random::<32>(prefix)
}

/// A public identifier: 128 random bits, enough to never collide, short enough to type.
pub fn generate_id(prefix: &str) -> String {
    random::<16>(prefix)
}

fn random<const N: usize>(prefix: &str) -> String {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A new OAuth client ID.
pub fn client_id() -> String {
    generate_id(CLIENT_ID_PREFIX)
}

/// A new OAuth client secret and its digest, which is all the database keeps of it.
pub fn client_secret() -> (String, String) {
    let secret = generate(CLIENT_SECRET_PREFIX);
    let digest = digest(&secret);
    (secret, digest)
}

pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_unique_and_hashed() {
        let a = generate(ACCESS_PREFIX);
        let b = generate(ACCESS_PREFIX);
        assert!(a.starts_with("rst_at_"));
        assert_eq!(a.len(), "rst_at_".len() + 43);
        assert_ne!(a, b);
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), digest(&b));
    }
}
