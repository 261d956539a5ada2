//! The HTTP edge: one module per resource with its routes, request and response types,
//! validation and OpenAPI annotations.

pub mod access;
pub mod account;
pub mod account_links;
pub mod auth;
pub mod body;
pub mod cookie;
pub mod document;
pub mod event_docs;
pub mod event_types;
pub mod events;
pub mod extract;
pub mod idempotency;
pub mod invite_email;
pub mod invites;
pub mod members;
pub mod oauth;
pub mod oauth_apps;
pub mod ops;
pub mod org_writes;
pub mod organizations;
pub mod portal_sessions;
pub mod principal;
pub mod publish;
pub mod quota;
pub mod server_key;
pub mod users;
pub mod validate;
pub mod views;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::http::{Method, StatusCode, Uri};
use axum::response::IntoResponse;
use utoipa::openapi::security::{
    AuthorizationCode, ClientCredentials, Flow, Http, HttpAuthScheme, OAuth2, Scopes,
    SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::error::ApiError;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Roster", description = "Organizations, members, invites, OAuth apps and signed webhooks."),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts and sessions"),
        (name = "users", description = "The signed-in user and personal access tokens"),
        (name = "organizations", description = "Organizations and their event log"),
        (name = "members", description = "Members and roles"),
        (name = "invites", description = "Inviting people by email"),
        (name = "webhooks", description = "Signed, retried webhook deliveries"),
        (name = "event-types", description = "The event catalogue, and publishing the application's own events"),
        (name = "oauth-apps", description = "An organization's OAuth apps"),
        (name = "oauth", description = "The OAuth 2.0 authorization server (RFC 6749, 7636, 7009, 7662, 8414)"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        // The application's backend: a `rst_sk_` key made with `roster keys create`.
        components.add_security_scheme(
            "server_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        // OAuth clients at the token, revocation and introspection endpoints
        // (client_secret_basic); the alternative, client_secret_post, is in their forms.
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
        let scopes = || {
            Scopes::from_iter(
                crate::domain::scope::Scope::ALL.iter().map(|s| (s.as_str(), s.about())),
            )
        };
        let flows = [
            Flow::AuthorizationCode(AuthorizationCode::new(
                "/api/oauth/authorize",
                "/api/oauth/token",
                scopes(),
            )),
            Flow::ClientCredentials(ClientCredentials::new("/api/oauth/token", scopes())),
        ];
        // OAuth tokens are Bearer tokens too; each route lists the one scope it needs.
        components.add_security_scheme("oauth2", SecurityScheme::OAuth2(OAuth2::new(flows)));
    }
}

/// Every route, and the OpenAPI document generated from them.
pub fn router(state: &AppState) -> Router<AppState> {
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(ops::health))
        .routes(routes!(ops::ready))
        .routes(routes!(ops::metrics))
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(account_links::verify_email::verify))
        .routes(routes!(account_links::verify_email::resend))
        .routes(routes!(account_links::password_reset::request))
        .routes(routes!(account_links::password_reset::confirm))
        .routes(routes!(account_links::change_email::confirm))
        .routes(routes!(users::me))
        .routes(routes!(users::create_token, users::list_tokens))
        .routes(routes!(users::revoke_token))
        .routes(routes!(account::profile::update_profile, account::delete::delete_account))
        .routes(routes!(account::password::change_password))
        .routes(routes!(account::email::change_email))
        .routes(routes!(account::sessions::list_sessions, account::sessions::revoke_other_sessions))
        .routes(routes!(account::sessions::revoke_session))
        .routes(routes!(organizations::create, organizations::list))
        .routes(routes!(organizations::get, organizations::update, organizations::delete))
        .routes(routes!(events::list_events, publish::publish))
        .routes(routes!(event_types::read::list))
        .routes(routes!(event_types::read::get, event_types::put::put))
        .routes(routes!(event_types::deprecate::deprecate))
        .routes(routes!(members::list, members::add))
        .routes(routes!(members::update, members::remove))
        .routes(routes!(invites::create, invites::list))
        .routes(routes!(invites::cancel))
        .routes(routes!(invites::accept))
        .routes(routes!(webhooks::create::create, webhooks::read::list))
        .routes(routes!(webhooks::read::get, webhooks::update::update, webhooks::update::delete))
        .routes(routes!(webhooks::secrets::rotate_secret))
        .routes(routes!(webhooks::test::test))
        .routes(routes!(webhooks::deliveries::list_deliveries))
        .routes(routes!(webhooks::stats::delivery_stats))
        .routes(routes!(webhooks::attempts::list_attempts))
        .routes(routes!(webhooks::deliveries::redeliver))
        .routes(routes!(webhooks::recovery::recover))
        .routes(routes!(portal_sessions::create))
        .routes(routes!(portal_sessions::revoke))
        .routes(routes!(oauth_apps::create::create, oauth_apps::read::list))
        .routes(routes!(oauth_apps::read::get, oauth_apps::update::update))
        .routes(routes!(oauth_apps::secrets::rotate_secret))
        .routes(routes!(oauth_apps::revoke::revoke))
        .routes(routes!(oauth::authorize::consent::page, oauth::authorize::json::authorize_json))
        .routes(routes!(oauth::authorize::consent::consent))
        .routes(routes!(oauth::token::token))
        .routes(routes!(oauth::token_admin::revoke))
        .routes(routes!(oauth::token_admin::introspect))
        .routes(routes!(oauth::metadata::metadata))
        .split_for_parts();
    let openapi = document::finish(openapi);
    let mut doc = serde_json::to_value(&openapi).unwrap_or_default();
    event_docs::add_events(&mut doc);
    router
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), org_writes::take_turn))
        // Outside the write turns: a replay takes none.
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::honour))
        .route(
            "/api/openapi.json",
            axum::routing::get(event_docs::served).layer(axum::Extension(Arc::new(doc))),
        )
        .merge(SwaggerUi::new("/api/docs").config(Config::new(["/api/openapi.json"])))
        .merge(crate::console::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn not_found(method: Method, uri: Uri) -> impl IntoResponse {
    ApiError::Status(StatusCode::NOT_FOUND, format!("Cannot {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> impl IntoResponse {
    ApiError::Status(StatusCode::METHOD_NOT_ALLOWED, format!("Cannot {method} {}", uri.path()))
}
