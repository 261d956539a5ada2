//! The `client_credentials` grant.

use oauth2::basic::BasicTokenType;
use oauth2::{AuthType, Scope, TokenResponse};
use reqwest::StatusCode;
use serde_json::json;

use super::{
    assert_lacks_scope, assert_token_response, oauth_client, oauth2_scopes, scope_set, set_of,
    token_error,
};
use crate::common::oauth::{assert_works, browser, creds, members_path};
use crate::common::{Backend, TestApp};

async fn client_credentials_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app =
        app.create_oauth_app(&f.org, &f.owner, &["members:read", "organization:read"]).await;
    let client = creds(&oauth_app);

    let (status, headers, body) =
        app.oauth_form("/api/oauth/token", client, &[("grant_type", "client_credentials")]).await;
    assert_token_response(status, &headers, &body);
    assert!(body.get("refresh_token").is_none(), "no refresh token: {body}");
    assert_eq!(
        scope_set(body["scope"].as_str().expect("scope")),
        set_of(["members:read", "organization:read"])
    );
    let token = body["access_token"].as_str().expect("access token");
    assert_works(&app, &f.org, token).await;

    let (status, headers, body) = app
        .oauth_form(
            "/api/oauth/token",
            client,
            &[("grant_type", "client_credentials"), ("scope", "organization:read")],
        )
        .await;
    assert_token_response(status, &headers, &body);
    assert_eq!(body["scope"], json!("organization:read"));
    let narrow = body["access_token"].as_str().expect("access token");
    assert_lacks_scope(&app, &members_path(&f.org), narrow, "members:read").await;

    for scope in ["members:read members:write", "webhooks:read", "bogus"] {
        token_error(
            &app,
            client,
            &[("grant_type", "client_credentials"), ("scope", scope)],
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        )
        .await;
    }

    // The same through oauth2, both ways of authenticating.
    let http = browser();
    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        let tokens = oauth_client(&app, &oauth_app)
            .set_auth_type(auth)
            .exchange_client_credentials()
            .add_scope(Scope::new("members:read".to_owned()))
            .request_async(&http)
            .await
            .expect("client_credentials through oauth2");
        assert_eq!(*tokens.token_type(), BasicTokenType::Bearer);
        assert!(tokens.refresh_token().is_none());
        assert_eq!(oauth2_scopes(tokens.scopes()), set_of(["members:read"]));
        assert_works(&app, &f.org, tokens.access_token().secret()).await;
    }
    app.stop().await;
}

on_both_backends!(client_credentials_grant);
