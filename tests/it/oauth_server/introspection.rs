//! Introspection (RFC 7662).

use std::time::{SystemTime, UNIX_EPOCH};

use oauth2::{AccessToken, TokenIntrospectionResponse};
use reqwest::StatusCode;
use serde_json::json;

use super::{
    assert_inactive, assert_oauth_error, code_grant, introspect, oauth_client, oauth2_scopes,
    revoke, scope_set, set_of,
};
use crate::common::oauth::browser;
use crate::common::{Backend, PASSWORD, TestApp};

fn now_secs() -> i64 {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs();
    i64::try_from(secs).expect("seconds fit i64")
}

async fn introspect_live_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app =
        app.create_oauth_app(&f.org, &f.owner, &["members:read", "organization:read"]).await;

    let grant = code_grant(&app, &oauth_app, &f.member, Some("members:read")).await;
    let info = introspect(&app, &oauth_app, &grant.access).await;
    assert_eq!(info["active"], json!(true), "{info}");
    assert_eq!(info["scope"], json!("members:read"), "{info}");
    assert_eq!(info["client_id"], json!(oauth_app.client_id), "{info}");
    let token_type = info["token_type"].as_str().expect("token_type");
    assert!(token_type.eq_ignore_ascii_case("bearer"), "{info}");
    assert_eq!(info["sub"], json!(f.member.id), "{info}");
    assert_eq!(info["iss"], json!(app.base), "{info}");
    assert_eq!(info["organization_id"], json!(f.org), "{info}");
    let iat = info["iat"].as_i64().expect("iat is whole seconds");
    let exp = info["exp"].as_i64().expect("exp is whole seconds");
    assert!((iat - now_secs()).abs() <= 60, "iat {iat} is now");
    assert!((3599..=3601).contains(&(exp - iat)), "exp {exp} is an hour after iat {iat}");

    let token = app.client_credentials_token(&oauth_app, None).await;
    let info = introspect(&app, &oauth_app, &token).await;
    assert_eq!(info["active"], json!(true), "{info}");
    assert_eq!(info["sub"], json!(oauth_app.client_id), "{info}");
    assert_eq!(info["client_id"], json!(oauth_app.client_id), "{info}");
    assert_eq!(info["organization_id"], json!(f.org), "{info}");
    assert_eq!(
        scope_set(info["scope"].as_str().expect("scope")),
        set_of(["members:read", "organization:read"])
    );

    // The same through oauth2's RFC 7662 support.
    let http = browser();
    let info = oauth_client(&app, &oauth_app)
        .introspect(&AccessToken::new(grant.access.clone()))
        .set_token_type_hint("access_token")
        .request_async(&http)
        .await
        .expect("introspection");
    assert!(info.active());
    assert_eq!(info.sub(), Some(f.member.id.as_str()));
    assert_eq!(info.iss(), Some(app.base.as_str()));
    assert_eq!(oauth2_scopes(info.scopes()), set_of(["members:read"]));
    let exp = info.exp().expect("exp").timestamp();
    assert!(exp > now_secs(), "exp in the future");
    app.stop().await;
}

async fn introspect_inactive_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let other = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;

    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    let app_token = app.client_credentials_token(&oauth_app, None).await;
    assert_inactive(&app, &other, &grant.access).await;
    assert_inactive(&app, &other, &app_token).await;
    assert_inactive(&app, &oauth_app, "rst_oat_unknown").await;
    assert_inactive(&app, &oauth_app, &f.member.token).await;
    assert_inactive(&app, &oauth_app, &f.member.refresh).await;
    let (status, pat) = app
        .post(
            "/api/users/me/tokens",
            Some(&f.member.token),
            json!({"name": "script", "currentPassword": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{pat}");
    assert_inactive(&app, &oauth_app, pat["token"].as_str().expect("PAT")).await;

    revoke(&app, &oauth_app, &app_token, None).await;
    assert_inactive(&app, &oauth_app, &app_token).await;

    let (status, headers, body) =
        app.oauth_form("/api/oauth/introspect", None, &[("token", &grant.access)]).await;
    assert_oauth_error(status, &headers, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    let (status, headers, body) = app
        .oauth_form(
            "/api/oauth/introspect",
            Some((&oauth_app.client_id, "rst_cs_wrong")),
            &[("token", &grant.access)],
        )
        .await;
    assert_oauth_error(status, &headers, &body, StatusCode::UNAUTHORIZED, "invalid_client");

    // Asking did not spend anything.
    assert_eq!(introspect(&app, &oauth_app, &grant.access).await["active"], json!(true));
    app.stop().await;
}

on_both_backends!(introspect_live_tokens, introspect_inactive_tokens);
