//! RFC 8414 authorization server metadata.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::scope::Scope;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct ServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub revocation_endpoint: String,
    pub introspection_endpoint: String,
    pub scopes_supported: Vec<&'static str>,
    pub response_types_supported: [&'static str; 1],
    pub response_modes_supported: [&'static str; 1],
    pub grant_types_supported: [&'static str; 3],
    pub token_endpoint_auth_methods_supported: [&'static str; 2],
    pub revocation_endpoint_auth_methods_supported: [&'static str; 2],
    pub introspection_endpoint_auth_methods_supported: [&'static str; 2],
    pub code_challenge_methods_supported: [&'static str; 1],
    pub service_documentation: String,
}

const CLIENT_AUTH: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// Where the OAuth endpoints are and what they support.
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "oauth",
    responses((status = 200, body = ServerMetadata)))]
pub async fn metadata(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let issuer = super::issuer(state.config.public_url.as_deref(), &headers);
    // Without a configured public URL the answer depends on the Host header; caches must know.
    let vary = state.config.public_url.is_none().then_some([(header::VARY, "Host")]);
    let body = Json(ServerMetadata {
        authorization_endpoint: format!("{issuer}/api/oauth/authorize"),
        token_endpoint: format!("{issuer}/api/oauth/token"),
        revocation_endpoint: format!("{issuer}/api/oauth/revoke"),
        introspection_endpoint: format!("{issuer}/api/oauth/introspect"),
        scopes_supported: Scope::ALL.iter().map(|s| s.as_str()).collect(),
        response_types_supported: ["code"],
        response_modes_supported: ["query"],
        grant_types_supported: ["authorization_code", "client_credentials", "refresh_token"],
        token_endpoint_auth_methods_supported: CLIENT_AUTH,
        revocation_endpoint_auth_methods_supported: CLIENT_AUTH,
        introspection_endpoint_auth_methods_supported: CLIENT_AUTH,
        code_challenge_methods_supported: ["S256"],
        service_documentation: format!("{issuer}/api/docs/"),
        issuer,
    });
    (vary, body).into_response()
}
