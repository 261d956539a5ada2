//! Authorizing without the page, for first-party front ends that hold a user's token.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::super::error::{OAuthError, OAuthErrorBody, OAuthResult};
use super::super::form::OAuthForm;
use super::{AuthorizeRequest, Refusal, approve, check, is_param};
use crate::error::ApiError;
use crate::http::extract::JsonObject;
use crate::http::principal::Principal;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct AuthorizeResponse {
    /// The app's redirect URI with `code` and `state`: send the browser there.
    pub redirect_to: String,
}

/// Authorize an app for the signed-in user without the consent page, for first-party front
/// ends. The body carries the same parameters as the page's query.
#[utoipa::path(post, path = "/api/oauth/authorize", tag = "oauth",
    security(("bearer" = [])),
    request_body = AuthorizeRequest,
    responses((status = 200, body = AuthorizeResponse),
              (status = 400, body = OAuthErrorBody, description = "invalid_request, invalid_client, invalid_scope or unsupported_response_type"),
              (status = 401, body = OAuthErrorBody, description = "invalid_token"),
              (status = 403, body = OAuthErrorBody, description = "access_denied: not a member of the app's organization")))]
pub async fn authorize_json(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    body: Result<JsonObject, ApiError>,
) -> OAuthResult<Json<AuthorizeResponse>> {
    let principal = principal.map_err(|_| {
        OAuthError::invalid_token("Authentication required. Provide a valid bearer token.")
    })?;
    let JsonObject(body) = body?;
    let mut pairs = Vec::new();
    for (name, value) in body {
        match value {
            Value::String(s) if is_param(&name) => pairs.push((name, s)),
            Value::Null => {}
            _ if is_param(&name) => {
                return Err(OAuthError::invalid_request(format!("{name} must be a string")));
            }
            _ => {
                return Err(OAuthError::invalid_request(format!(
                    "property {name} should not exist"
                )));
            }
        }
    }
    let user = principal
        .person()
        .map_err(|_| OAuthError::access_denied("OAuth tokens cannot authorize apps"))?;
    let mut conn = state.db.acquire().await?;
    let checked = check(&mut conn, &OAuthForm(pairs)).await;
    drop(conn);
    let auth = checked.map_err(|refusal| match refusal {
        // No client authenticates here: an unknown client is a bad request, not a 401.
        Refusal::Untrusted(error) | Refusal::ToClient { error, .. } => error.as_bad_request(),
    })?;
    let redirect_to = approve(&state, &auth, user).await?;
    Ok(Json(AuthorizeResponse { redirect_to }))
}
