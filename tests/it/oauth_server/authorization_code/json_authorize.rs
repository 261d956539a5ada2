//! `POST /api/oauth/authorize` for front ends holding the user's token.

use oauth2::PkceCodeChallenge;
use oauth2::url::Url;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::oauth::query;
use crate::common::{Backend, PASSWORD, TestApp};
use crate::oauth_server::{
    assert_oauth_error, assert_redirects_to, authorize_body, code_grant, exchange, grant_of,
    introspect, scope_set, set_of,
};

async fn json_authorize_issues_code_for_bearer_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app =
        app.create_oauth_app(&f.org, &f.owner, &["members:read", "organization:read"]).await;

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (status, body) = app
        .post(
            "/api/oauth/authorize",
            Some(&f.member.token),
            authorize_body(&oauth_app, Some("members:read"), "json-state", challenge.as_str()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.as_object().expect("object").len(), 1, "only redirect_to: {body}");
    let to = Url::parse(body["redirect_to"].as_str().expect("redirect_to")).expect("absolute");
    assert_redirects_to(&to, &oauth_app.redirect_uri);
    assert_eq!(query(&to, "state").as_deref(), Some("json-state"));
    let code = query(&to, "code").expect("code");
    let grant = grant_of(&exchange(&app, &oauth_app, &code, verifier.secret()).await);
    assert_eq!(scope_set(&grant.scope), set_of(["members:read"]));
    let info = introspect(&app, &oauth_app, &grant.access).await;
    assert_eq!(info["sub"], json!(f.member.id), "{info}");

    // A personal access token works as the user's token too.
    let (status, pat) = app
        .post(
            "/api/users/me/tokens",
            Some(&f.admin.token),
            json!({"name": "front end", "currentPassword": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{pat}");
    let pat = pat["token"].as_str().expect("PAT");
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (status, body) = app
        .post(
            "/api/oauth/authorize",
            Some(pat),
            authorize_body(&oauth_app, None, "pat-state", challenge.as_str()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let to = Url::parse(body["redirect_to"].as_str().expect("redirect_to")).expect("absolute");
    let code = query(&to, "code").expect("code");
    let grant = grant_of(&exchange(&app, &oauth_app, &code, verifier.secret()).await);
    assert_eq!(scope_set(&grant.scope), set_of(["members:read", "organization:read"]));
    let info = introspect(&app, &oauth_app, &grant.access).await;
    assert_eq!(info["sub"], json!(f.admin.id), "{info}");
    app.stop().await;
}

async fn json_authorize_refusals(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let good = authorize_body(&oauth_app, Some("members:read"), "st", challenge.as_str());
    let post = |token: Option<String>, body: Value| {
        let app = &app;
        async move {
            let mut req = app.client.post(format!("{}/api/oauth/authorize", app.base)).json(&body);
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            let res = req.send().await.expect("answered");
            let status = res.status();
            let headers = res.headers().clone();
            let body: Value = res.json().await.expect("JSON body");
            (status, headers, body)
        }
    };

    let (status, headers, body) = post(None, good.clone()).await;
    assert_oauth_error(status, &headers, &body, StatusCode::UNAUTHORIZED, "invalid_token");
    let (status, headers, body) = post(Some("rst_at_garbage".to_owned()), good.clone()).await;
    assert_oauth_error(status, &headers, &body, StatusCode::UNAUTHORIZED, "invalid_token");

    let (status, headers, body) = post(Some(f.outsider.token.clone()), good.clone()).await;
    assert_oauth_error(status, &headers, &body, StatusCode::FORBIDDEN, "access_denied");

    let member = Some(f.member.token.clone());
    let mut bad_client = good.clone();
    bad_client["client_id"] = json!("rst_ci_unknown");
    let (status, headers, body) = post(member.clone(), bad_client).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_client");

    let mut bad_redirect = good.clone();
    bad_redirect["redirect_uri"] = json!("http://127.0.0.1:9/elsewhere");
    let (status, headers, body) = post(member.clone(), bad_redirect).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_request");

    let mut bad_scope = good.clone();
    bad_scope["scope"] = json!("members:read members:write");
    let (status, headers, body) = post(member.clone(), bad_scope).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_scope");

    let mut token_type = good.clone();
    token_type["response_type"] = json!("token");
    let (status, headers, body) = post(member.clone(), token_type).await;
    assert_oauth_error(
        status,
        &headers,
        &body,
        StatusCode::BAD_REQUEST,
        "unsupported_response_type",
    );

    let mut no_pkce = good.clone();
    no_pkce.as_object_mut().expect("object").remove("code_challenge");
    let (status, headers, body) = post(member.clone(), no_pkce).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_request");

    let mut plain = good.clone();
    plain["code_challenge_method"] = json!("plain");
    let (status, headers, body) = post(member.clone(), plain).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_request");

    // OAuth tokens cannot authorize further apps.
    let app_token = app.client_credentials_token(&oauth_app, None).await;
    let user_grant = code_grant(&app, &oauth_app, &f.member, None).await;
    for token in [app_token, user_grant.access] {
        let (status, _, body) = post(Some(token), good.clone()).await;
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN,
            "an OAuth token is refused: {status} {body}"
        );
        assert!(body["error"].is_string() && body["error_description"].is_string(), "{body}");
    }
    app.stop().await;
}

on_both_backends!(json_authorize_issues_code_for_bearer_user, json_authorize_refusals);
