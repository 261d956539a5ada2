//! The consent form's CSRF token. The browser holds one random secret in an `HttpOnly`,
//! `SameSite=Strict` cookie, set by the first consent page and kept by later ones; each
//! form's token is an HMAC, under that secret, of the authorization request the form carries.
//! A second tab therefore leaves the first tab's form valid, and a token is good only for
//! the request it was made for. A cross-site page can neither read the cookie nor send it.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::super::page::CSRF_COOKIE;
use crate::auth::token;

/// The browser's secret from its cookie, if it looks like one this server made.
pub fn browser_secret(headers: &HeaderMap) -> Option<&str> {
    crate::http::cookie::value(headers, CSRF_COOKIE).filter(|value| {
        (20..=128).contains(&value.len())
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// The secret a consent page uses: the browser's own, or a new one the page must set.
pub fn secret_for_page(headers: &HeaderMap) -> (String, bool) {
    match browser_secret(headers) {
        Some(secret) => (secret.to_owned(), false),
        None => (token::generate(""), true),
    }
}

/// The token of the form that carries `request` (its hidden fields, in page order).
pub fn form_token(secret: &str, request: &[(&str, String)]) -> String {
    URL_SAFE_NO_PAD.encode(mac(secret, request).finalize().into_bytes())
}

/// Whether `presented` is the token of the form carrying `request`, in constant time.
pub fn verify(secret: &str, request: &[(&str, String)], presented: &str) -> bool {
    match URL_SAFE_NO_PAD.decode(presented) {
        Ok(bytes) => mac(secret, request).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

fn mac(secret: &str, request: &[(&str, String)]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    // Length-prefixed, so that no two requests read the same.
    for (name, value) in request {
        for part in [name.as_bytes(), value.as_bytes()] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
    }
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_good_for_its_own_request_and_secret_only() {
        let request = vec![("client_id", "rst_ci_a".to_owned()), ("state", "s1".to_owned())];
        let token = form_token("secret-one-abcdefghijkl", &request);
        assert!(verify("secret-one-abcdefghijkl", &request, &token));
        assert!(!verify("secret-two-abcdefghijkl", &request, &token));
        let other = vec![("client_id", "rst_ci_a".to_owned()), ("state", "s2".to_owned())];
        assert!(!verify("secret-one-abcdefghijkl", &other, &token));
        assert!(!verify("secret-one-abcdefghijkl", &request, "not a token"));
    }
}
