//! Secret rotation and its overlap.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::{
    app_path, apps_path, assert_app_with_secret, assert_invalid_client, assert_no_secret,
    assert_secret_refused, assert_secret_works,
};
use crate::common::{Backend, TestApp, str_of};

async fn rotate_secret_keeps_the_previous_one_during_the_overlap(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let path = app_path(&f.org, &oauth.id);
    let (status, before) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{before}");

    let (status, body) =
        app.post(&format!("{path}/rotate-secret"), Some(&f.admin.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let uri = oauth.redirect_uri.as_str();
    let second = assert_app_with_secret(&body, &f.org, "Test app", &[uri], &["members:read"]);
    assert_ne!(second, oauth.client_secret, "a new secret");
    assert_eq!(body["id"], before["id"]);
    assert_eq!(body["clientId"], before["clientId"], "the client ID stays");

    // Both work during the overlap, with Basic and with client_secret_post.
    assert_secret_works(&app, &oauth.client_id, &second).await;
    assert_secret_works(&app, &oauth.client_id, &oauth.client_secret).await;
    for secret in [second.as_str(), oauth.client_secret.as_str()] {
        let (status, _, body) = app
            .oauth_form(
                "/api/oauth/token",
                None,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &oauth.client_id),
                    ("client_secret", secret),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "client_secret_post: {body}");
    }
    assert_secret_refused(&app, &oauth.client_id, "rst_cs_not-the-secret").await;

    // The new secret is not shown again.
    let (status, got) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_no_secret(&got, &[&second, &oauth.client_secret]);
    let (status, list) = app.get(&apps_path(&f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_no_secret(&list, &[&second, &oauth.client_secret]);

    // Rotating again: only the latest previous secret stays valid.
    let (status, body) =
        app.post(&format!("{path}/rotate-secret"), Some(&f.owner.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let third = assert_app_with_secret(&body, &f.org, "Test app", &[uri], &["members:read"]);
    assert_ne!(third, second);
    assert_ne!(third, oauth.client_secret);
    assert_secret_works(&app, &oauth.client_id, &third).await;
    assert_secret_works(&app, &oauth.client_id, &second).await;
    assert_secret_refused(&app, &oauth.client_id, &oauth.client_secret).await;
    // Another app's secret is no secret of this one.
    let other = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    assert_secret_refused(&app, &oauth.client_id, &other.client_secret).await;
    assert_secret_refused(&app, &other.client_id, &third).await;
}

async fn the_previous_secret_stops_after_the_overlap(backend: Backend) {
    let overlap = Duration::from_secs(3600);
    let app = TestApp::spawn_with(backend, |config| config.oauth_secret_overlap = overlap).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let path = app_path(&f.org, &oauth.id);

    let (status, body) =
        app.post(&format!("{path}/rotate-secret"), Some(&f.owner.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new_secret = str_of(&body, "clientSecret").to_owned();
    assert_secret_works(&app, &oauth.client_id, &oauth.client_secret).await;

    app.advance(overlap + Duration::from_secs(1));
    assert_secret_refused(&app, &oauth.client_id, &oauth.client_secret).await;
    // client_secret_post is refused alike.
    let (status, headers, body) = app
        .oauth_form(
            "/api/oauth/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &oauth.client_id),
                ("client_secret", &oauth.client_secret),
            ],
        )
        .await;
    assert_invalid_client(status, &headers, &body);
    assert_secret_works(&app, &oauth.client_id, &new_secret).await;
}

on_both_backends!(
    rotate_secret_keeps_the_previous_one_during_the_overlap,
    the_previous_secret_stops_after_the_overlap
);
