//! Updating an app.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::{
    BAD_REDIRECT, BAD_SCOPE, NAME_EMPTY, NAME_NOT_STRING, NAME_TOO_LONG, SCOPES_EMPTY,
    SCOPES_NOT_ARRAY, URIS_EMPTY, URIS_NOT_ARRAY, app_path, assert_app_view, assert_no_secret,
    assert_secret_refused, time_of, token_with,
};
use crate::common::oauth::ALL_SCOPES;
use crate::common::{Backend, TestApp, assert_error, assert_validation};

const APP_REVOKED: &str = "OAuth app is revoked";

async fn patch_changes_name_redirect_uris_and_scopes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read", "invites:read"]).await;
    let path = app_path(&f.org, &oauth.id);
    let (status, before) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    app.advance(Duration::from_millis(10));

    let (status, body) = app.patch(&path, Some(&f.admin.token), json!({"name": "Renamed"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let uri = oauth.redirect_uri.as_str();
    assert_app_view(&body, &f.org, "Renamed", &[uri], &["members:read", "invites:read"], "active");
    assert_eq!(body["id"], before["id"]);
    assert_eq!(body["clientId"], before["clientId"], "the client ID never changes");
    assert_eq!(body["createdAt"], before["createdAt"]);
    assert!(time_of(&body, "updatedAt") > time_of(&before, "updatedAt"), "{before} → {body}");
    assert_no_secret(&body, &[&oauth.client_secret]);

    let uris = ["https://new.example/cb", "http://127.0.0.1:5000/cb"];
    let (status, body) =
        app.patch(&path, Some(&f.owner.token), json!({"redirectUris": uris})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_app_view(&body, &f.org, "Renamed", &uris, &["members:read", "invites:read"], "active");

    let (status, body) = app
        .patch(
            &path,
            Some(&f.owner.token),
            json!({"scopes": ["webhooks:write", "organization:read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let scopes = ["organization:read", "webhooks:write"];
    assert_app_view(&body, &f.org, "Renamed", &uris, &scopes, "active");

    // All three at once, and an empty patch changes nothing.
    let (status, body) = app
        .patch(
            &path,
            Some(&f.owner.token),
            json!({"name": "Final", "redirectUris": ["https://final.example/cb"], "scopes": ["members:write"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_app_view(
        &body,
        &f.org,
        "Final",
        &["https://final.example/cb"],
        &["members:write"],
        "active",
    );
    let (status, same) = app.patch(&path, Some(&f.owner.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{same}");
    assert_app_view(
        &same,
        &f.org,
        "Final",
        &["https://final.example/cb"],
        &["members:write"],
        "active",
    );
    let (status, got) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got, same, "GET shows the patched app");

    // The token endpoint follows the app's scopes, and the secret did not change.
    let (status, _, body) = token_with(&app, &oauth.client_id, &oauth.client_secret).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "members:write", "{body}");

    // Validation, as for create.
    let token = Some(f.owner.token.as_str());
    for (patch, messages) in [
        (json!({"name": ""}), vec![NAME_EMPTY]),
        (json!({"name": 5}), vec![NAME_NOT_STRING]),
        (json!({"name": "n".repeat(101)}), vec![NAME_TOO_LONG]),
        (json!({"redirectUris": []}), vec![URIS_EMPTY]),
        (json!({"redirectUris": "https://a.example/cb"}), vec![URIS_NOT_ARRAY]),
        (json!({"redirectUris": ["http://example.com/cb"]}), vec![BAD_REDIRECT]),
        (json!({"redirectUris": ["https://a.example/cb#x"]}), vec![BAD_REDIRECT]),
        (json!({"scopes": []}), vec![SCOPES_EMPTY]),
        (json!({"scopes": "members:read"}), vec![SCOPES_NOT_ARRAY]),
        (json!({"scopes": ["members:admin"]}), vec![BAD_SCOPE]),
        (json!({"foo": 1}), vec!["property foo should not exist"]),
        (json!({"clientId": "rst_ci_mine"}), vec!["property clientId should not exist"]),
        (json!({"status": "active"}), vec!["property status should not exist"]),
        (
            json!({"foo": 1, "name": "", "scopes": []}),
            vec!["property foo should not exist", NAME_EMPTY, SCOPES_EMPTY],
        ),
    ] {
        let (status, body) = app.patch(&path, token, patch.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{patch}: {body}");
        assert_validation(status, &body, &messages);
    }
    let (status, got) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got, same, "refused patches changed nothing");
}

async fn a_revoked_app_cannot_be_changed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let path = app_path(&f.org, &oauth.id);
    let (status, body) = app.post(&format!("{path}/revoke"), Some(&f.owner.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let revoked = body.clone();

    for patch in [
        json!({"name": "Back again"}),
        json!({"redirectUris": ["https://x.example/cb"]}),
        json!({"scopes": ALL_SCOPES}),
    ] {
        let (status, body) = app.patch(&path, Some(&f.owner.token), patch).await;
        assert_error(status, &body, StatusCode::CONFLICT, APP_REVOKED);
    }
    let (status, body) =
        app.post(&format!("{path}/rotate-secret"), Some(&f.admin.token), json!({})).await;
    assert_error(status, &body, StatusCode::CONFLICT, APP_REVOKED);

    let (status, body) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, revoked, "nothing changed");
    assert_secret_refused(&app, &oauth.client_id, &oauth.client_secret).await;
}

on_both_backends!(patch_changes_name_redirect_uris_and_scopes, a_revoked_app_cannot_be_changed);
