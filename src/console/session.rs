//! Console sign-ins. Each is an API session: the same `sessions` row a sign-in at
//! `/api/auth/login` makes, and one token of its family kept in an `HttpOnly` cookie. So the
//! account's session list shows it, and every revocation (sign-out, "sign out everywhere", a
//! password change or reset) ends it. Its expiry slides forward with use, up to a fixed
//! time after sign-in (see [`crate::config::ConsoleSessions`]).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::auth::token;
use crate::error::{ApiError, ApiResult};
use crate::http::principal::Principal;
use crate::state::AppState;
use crate::store::last_used;
use crate::store::sessions::{self, Client};
use crate::store::tokens::{self, TokenKind, TokenRecord};
use crate::store::users::{self, User};

pub const COOKIE: &str = "roster_console";
/// Console tokens have a prefix of their own: the API refuses them as bearer tokens, and the
/// console refuses API tokens put in its cookie, whose lifetimes follow other rules.
const PREFIX: &str = token::CONSOLE_PREFIX;

/// The signed-in person on a console page.
#[derive(Clone)]
pub struct Viewer {
    pub principal: Principal,
    pub user: User,
    /// The token every form of this sign-in carries (see [`Viewer::accepts`]).
    pub csrf: String,
}

impl Viewer {
    pub fn user_id(&self) -> Uuid {
        self.user.id
    }

    /// Whether a form's CSRF field belongs to this sign-in.
    pub fn accepts(&self, presented: Option<&str>) -> bool {
        presented.is_some_and(|p| same_token(p, &self.csrf))
    }
}

/// Not signed in, or no longer: the sign-in page, coming back here afterwards.
pub struct SignInFirst(String);

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        let next = url::form_urlencoded::byte_serialize(self.0.as_bytes()).collect::<String>();
        Redirect::to(&format!("/console/sign-in?next={next}")).into_response()
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = SignInFirst;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, SignInFirst> {
        let back = match parts.method {
            // The query too: an invite's link carries its token there.
            axum::http::Method::GET => {
                parts.uri.path_and_query().map_or("/console", |p| p.as_str()).to_owned()
            }
            _ => "/console".to_owned(),
        };
        match find(state, &parts.headers).await {
            Ok(Some(viewer)) => Ok(viewer),
            Ok(None) => Err(SignInFirst(back)),
            Err(err) => {
                tracing::error!(error = ?err, "console sign-in check failed");
                Err(SignInFirst(back))
            }
        }
    }
}

/// The token of the request's console cookie, if it has one of the right form.
pub fn presented(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, COOKIE).filter(|t| t.starts_with(PREFIX) && t.len() <= token::MAX_LEN)
}

/// The value of cookie `name`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    crate::http::cookie::value(headers, name)
}

/// The console sign-in the request's cookie names, if it is live.
pub async fn find(state: &AppState, headers: &HeaderMap) -> ApiResult<Option<Viewer>> {
    let Some(presented) = presented(headers) else { return Ok(None) };
    let now = state.clock.now();
    let mut conn = state.db.acquire().await?;
    let Some(record) = tokens::find_bearer(&mut conn, &token::digest(presented), now).await? else {
        return Ok(None);
    };
    let (TokenKind::Access, Some(family)) = (record.kind, record.family_id) else {
        return Ok(None);
    };
    let Some(user) = users::find(&mut conn, record.user_id).await? else { return Ok(None) };
    drop(conn);
    if last_used::is_due(record.last_used_at, now) {
        let mut tx = state.db.begin_write().await?;
        tokens::touch(&mut tx, record.id, now).await?;
        sessions::touch(&mut tx, family, now).await?;
        tokens::extend(&mut tx, record.id, expiry(state, record.created_at, now), now).await?;
        tx.commit().await?;
    }
    Ok(Some(Viewer {
        principal: Principal::signed_in(record.id, user.id, family),
        user,
        csrf: csrf_of(presented),
    }))
}

/// When a sign-in begun at `began` and used `now` ends, unless used again.
fn expiry(state: &AppState, began: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    let limits = &state.config.console;
    let idle = chrono::Duration::from_std(limits.idle).unwrap_or(chrono::Duration::MAX);
    let absolute = chrono::Duration::from_std(limits.absolute).unwrap_or(chrono::Duration::MAX);
    (now + idle).min(began + absolute)
}

/// Starts a console sign-in for `user`; the answer is the cookie's token.
pub async fn start(state: &AppState, user: &User, client: &Client) -> ApiResult<String> {
    let now = state.clock.now();
    let family = Uuid::now_v7();
    let presented = token::generate(PREFIX);
    let record = TokenRecord {
        id: Uuid::now_v7(),
        kind: TokenKind::Access,
        user_id: user.id,
        family_id: Some(family),
        name: None,
        expires_at: Some(expiry(state, now, now)),
        last_used_at: Some(now),
        created_at: now,
    };
    let mut tx = state.db.begin_write().await?;
    sessions::start(&mut tx, family, user.id, client, now).await?;
    tokens::insert(&mut tx, &record, &token::digest(&presented)).await?;
    tx.commit().await?;
    Ok(presented)
}

/// Ends the sign-in: every token of its family.
pub async fn end(state: &AppState, viewer: &Viewer) -> ApiResult<()> {
    let crate::http::principal::Credential::Session { family_id: Some(family) } =
        viewer.principal.credential
    else {
        return Err(ApiError::Internal(anyhow::anyhow!("a console sign-in without a family")));
    };
    let mut tx = state.db.begin_write().await?;
    tokens::revoke_family(&mut tx, family, state.clock.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether a presented token is the expected one, in time that does not tell how much of it
/// matched; an empty one never is.
pub fn same_token(presented: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    !expected.is_empty() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

/// A form token derived from a secret token: a MAC of a fixed text under it.
pub fn form_token(secret: &str, purpose: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(purpose);
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// The CSRF token of a sign-in: a MAC of a fixed text under the sign-in's own secret token.
/// It needs no storage, changes with every sign-in, and cannot be made without the cookie.
fn csrf_of(presented: &str) -> String {
    form_token(presented, b"roster console form")
}

/// `Set-Cookie` for a console cookie; `None` clears it.
pub fn set_cookie(state: &AppState, name: &str, value: Option<&str>) -> Option<HeaderValue> {
    let secure = if secure(state) { "; Secure" } else { "" };
    let cookie = match value {
        Some(value) => format!("{name}={value}; Path=/console; HttpOnly; SameSite=Lax{secure}"),
        None => format!("{name}=; Path=/console; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&cookie).ok()
}

/// Cookies are `Secure` when the server's public address is HTTPS.
pub fn secure(state: &AppState) -> bool {
    state.config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
}
