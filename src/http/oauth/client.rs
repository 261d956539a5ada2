//! Client authentication at the token, revocation and introspection endpoints:
//! `client_secret_basic` or `client_secret_post` (RFC 6749 §2.3.1), never both.

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;

use super::error::{OAuthError, OAuthResult};
use super::form::OAuthForm;
use crate::auth::token;
use crate::domain::text;
use crate::http::body::{Prop, Rule};
use crate::state::AppState;
use crate::store::oauth_apps::{self, OAuthApp, SecretDigests};

/// `client_secret_post`: the client's credentials in the form, instead of HTTP Basic.
pub const CLIENT_ID: Prop = Prop::optional("client_id", Rule::Raw { min: 0, max: usize::MAX });
pub const CLIENT_SECRET: Prop =
    Prop::optional("client_secret", Rule::Raw { min: 0, max: usize::MAX })
        .about("With `client_id`, instead of HTTP Basic; never both.");

/// The authenticated client: an active app whose secret was presented.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    form: &OAuthForm,
) -> OAuthResult<OAuthApp> {
    let (client_id, secret) = credentials(headers, form)?;
    let fail = || OAuthError::invalid_client("Client authentication failed");
    if client_id.len() > token::MAX_LEN || secret.len() > token::MAX_LEN {
        return Err(fail());
    }
    let mut conn = state.db.acquire().await?;
    let (app, digests) = oauth_apps::find_client(&mut conn, &client_id).await?.ok_or_else(fail)?;
    if !app.is_active() || !secret_matches(&digests, &token::digest(&secret), state.clock.now()) {
        return Err(fail());
    }
    Ok(app)
}

fn secret_matches(digests: &SecretDigests, presented: &str, now: DateTime<Utc>) -> bool {
    let eq = |stored: &str| bool::from(stored.as_bytes().ct_eq(presented.as_bytes()));
    let current = eq(&digests.current);
    let previous =
        digests.previous.as_ref().is_some_and(|(digest, until)| *until > now && eq(digest));
    current || previous
}

fn credentials(headers: &HeaderMap, form: &OAuthForm) -> OAuthResult<(String, String)> {
    let basic = match headers.get(header::AUTHORIZATION) {
        Some(value) => Some(basic_credentials(value.to_str().unwrap_or_default())?),
        None => None,
    };
    let posted_id = form.get("client_id")?;
    let posted_secret = form.get("client_secret")?;
    match (basic, posted_id, posted_secret) {
        (Some(_), _, Some(_)) => Err(OAuthError::invalid_request(
            "Use one client authentication method: HTTP Basic or client_secret in the body",
        )),
        (Some((id, _)), Some(posted), None) if posted != id => {
            Err(OAuthError::invalid_request("client_id does not match the Basic credentials"))
        }
        (Some(pair), _, None) => Ok(pair),
        (None, Some(id), Some(secret)) => Ok((id.to_owned(), secret.to_owned())),
        (None, _, _) => Err(OAuthError::invalid_client("Client authentication is required")),
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn basic_credentials(value: &str) -> OAuthResult<(String, String)> {
    let fail = || OAuthError::invalid_client("Malformed Basic credentials");
    let (scheme, encoded) = value.split_once(' ').ok_or_else(fail)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(fail());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| fail())?;
    let decoded = String::from_utf8(decoded).map_err(|_| fail())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(fail)?;
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let (id, secret) = (unescape(id), unescape(secret));
    // The ID is looked up; one the databases cannot store names no client.
    if id.is_empty() || secret.is_empty() || !text::is_storable(&id) {
        return Err(fail());
    }
    Ok((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("rst_ci_a%2Bb:s%3Acret+x"));
        let (id, secret) = basic_credentials(&header).expect("valid");
        assert_eq!(id, "rst_ci_a+b");
        assert_eq!(secret, "s:cret x");
        assert!(basic_credentials("Bearer abc").is_err());
        assert!(basic_credentials("Basic !!!").is_err());
    }
}
