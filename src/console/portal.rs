//! The portal: the console's webhooks pages for an application's customer, opened from a
//! one-time link made with `POST /api/organizations/{id}/portal-sessions`. Opening the link
//! spends it and starts a session whose own token is in every page's path, not in a cookie:
//! the portal lives in other sites' iframes, where browsers keep cookies away. Pages send no
//! `Referer`, so the path goes nowhere else.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::render;
use super::seat::{At, Place, Seat};
use super::session::form_token;
use crate::auth::token;
use crate::domain::scope::{Scope, Scopes};
use crate::http::portal_sessions::{actor_of, fields};
use crate::http::principal::{OAuthGrant, Principal};
use crate::state::AppState;
use crate::store::oauth_apps;
use crate::store::portal_sessions::{self, PortalSession, Theme};

/// What a portal page may do and how it looks.
pub struct Portal {
    pub session_id: Uuid,
    pub events: Option<Vec<String>>,
    pub read_only: bool,
    pub frame_ancestors: Vec<String>,
    pub theme: Theme,
    /// The path of the page's stylesheet of theme colours.
    pub theme_css: String,
}

const ENDED: &str = "This portal session has ended. Open the portal again from the application.";

fn ended() -> Response {
    render::problem(StatusCode::UNAUTHORIZED, ENDED)
}

#[derive(Deserialize)]
pub struct Link {
    token: Option<String>,
}

/// `GET /portal/open?token=…`: spends the link and moves to the session's pages.
pub async fn open(State(state): State<AppState>, Query(link): Query<Link>) -> Response {
    let presented = link.token.unwrap_or_default();
    if !presented.starts_with(token::PORTAL_LINK_PREFIX) || presented.len() > token::MAX_LEN {
        return used_or_expired();
    }
    let session_token = token::generate(token::PORTAL_SESSION_PREFIX);
    let opened = async {
        let mut tx = state.db.begin_write().await?;
        let session = portal_sessions::open(
            &mut tx,
            &token::digest(&presented),
            &token::digest(&session_token),
            state.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(session)
    };
    match opened.await {
        Ok(Some(_)) => {
            let mut response =
                Redirect::to(&format!("/portal/{session_token}/webhooks")).into_response();
            private(response.headers_mut());
            response
        }
        Ok(None) => used_or_expired(),
        Err(error) => render::api_error(error.into()),
    }
}

fn used_or_expired() -> Response {
    let mut response = render::problem(
        StatusCode::NOT_FOUND,
        "This portal link has expired or was opened already. Ask the application for a new one.",
    );
    private(response.headers_mut());
    response
}

/// The seat of a portal page: its live session, acting as who made it while they still may.
pub async fn seat(state: &AppState, presented: &str) -> Result<Seat, Response> {
    if !presented.starts_with(token::PORTAL_SESSION_PREFIX) || presented.len() > token::MAX_LEN {
        return Err(ended());
    }
    let found = async {
        let mut conn = state.db.acquire().await?;
        let Some(session) =
            portal_sessions::find_live(&mut conn, &token::digest(presented), state.clock.now())
                .await?
        else {
            return Ok(None);
        };
        let grant = match session.oauth_app_id {
            None => None,
            Some(app_id) => {
                match oauth_apps::find(&mut conn, session.organization_id, app_id).await? {
                    Some(app) if app.is_active() => Some(grant_of(&session, app_id, &app.scopes)),
                    _ => return Ok(None),
                }
            }
        };
        Ok::<_, sqlx::Error>(Some((session, grant)))
    };
    let (session, grant) = match found.await {
        Ok(Some(found)) => found,
        Ok(None) => return Err(ended()),
        Err(error) => return Err(render::api_error(error.into())),
    };
    let principal = Principal::for_portal(session.id, actor_of(&session), grant);
    Ok(Seat {
        org_id: session.organization_id,
        principal,
        csrf: form_token(presented, b"roster portal form"),
        home: format!("/portal/{presented}/webhooks"),
        place: Place::Portal(Portal {
            session_id: session.id,
            events: session.event_types,
            read_only: session.read_only,
            frame_ancestors: session.frame_ancestors,
            theme: session.theme,
            theme_css: format!("/portal/{presented}/theme.css"),
        }),
    })
}

/// The maker's OAuth grant: the scopes it had, narrowed to the app's current ones.
fn grant_of(session: &PortalSession, app_id: Uuid, app_scopes: &Scopes) -> OAuthGrant {
    let had = Scopes::new(session.scopes.iter().filter_map(|s| Scope::parse(s)));
    OAuthGrant {
        app_id,
        organization_id: session.organization_id,
        scopes: had.intersect(app_scopes),
    }
}

/// `GET /portal/{token}/theme.css`: the session's colours over the console's stylesheet.
pub async fn theme_css(At(seat, []): At<0>) -> Response {
    let Some(portal) = seat.portal() else { return StatusCode::NOT_FOUND.into_response() };
    let mut css = String::from(":root {");
    // Only `#rrggbb` was stored: nothing here can end the rule.
    if let Some(color) = &portal.theme.primary_color {
        css.push_str(&format!(" --accent: {color};"));
    }
    if let Some(color) = &portal.theme.background_color {
        css.push_str(&format!(" --bg: {color};"));
    }
    css.push_str(" }\n");
    let mut response = css.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    private(headers);
    response
}

/// A portal page's headers: framed only by the session's origins, its logo's origin allowed
/// for images, and no `Referer` carrying the session's path anywhere.
pub fn page_headers(portal: &Portal, headers: &mut HeaderMap) {
    let ancestors = if portal.frame_ancestors.is_empty() {
        "'none'".to_owned()
    } else {
        portal.frame_ancestors.join(" ")
    };
    let logo = portal.theme.logo_url.as_deref().and_then(fields::logo_origin).unwrap_or_default();
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: {logo}; \
         connect-src 'self'; form-action 'self'; frame-ancestors {ancestors}; base-uri 'none'"
    );
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    if !portal.frame_ancestors.is_empty() {
        // The policy above names who may frame it; `X-Frame-Options` cannot.
        headers.remove(header::X_FRAME_OPTIONS);
    }
    private(headers);
}

fn private(headers: &mut HeaderMap) {
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}
