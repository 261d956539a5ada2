//! Who may call each route: owners and admins of the organization, never an OAuth token.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{app_path, apps_path, assert_app_view, assert_secret_works, events_of};
use crate::common::messages::{BAD_UUID, OAUTH_REFUSED, ORG_NOT_FOUND, denied};
use crate::common::oauth::{ALL_SCOPES, TestOAuthApp};
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error, random_id};

const APP_NOT_FOUND: &str = "OAuth app not found";

async fn every_route_is_for_owners_and_admins_of_the_organization(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let target = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let other_org = app.create_org(&f.outsider, "Other Corp").await;
    let foreign = app.create_oauth_app(&other_org, &f.outsider, &["members:read"]).await;
    let ap = app_path(&f.org, &target.id);
    let good = json!({"name": "New", "redirectUris": ["https://n.example/cb"], "scopes": ["invites:read"]});

    // (method, path, body, action, what an ADMIN gets); revoke last.
    let routes: Vec<(Method, String, Option<Value>, &str, StatusCode)> = vec![
        (
            Method::POST,
            apps_path(&f.org),
            Some(good.clone()),
            "create OAuth apps",
            StatusCode::CREATED,
        ),
        (Method::GET, apps_path(&f.org), None, "view OAuth apps", StatusCode::OK),
        (Method::GET, ap.clone(), None, "view OAuth apps", StatusCode::OK),
        (
            Method::PATCH,
            ap.clone(),
            Some(json!({"name": "Renamed"})),
            "manage OAuth apps",
            StatusCode::OK,
        ),
        (
            Method::POST,
            format!("{ap}/rotate-secret"),
            Some(json!({})),
            "manage OAuth apps",
            StatusCode::OK,
        ),
        (
            Method::POST,
            format!("{ap}/revoke"),
            Some(json!({})),
            "manage OAuth apps",
            StatusCode::OK,
        ),
    ];

    for (method, path, body, action, ok) in &routes {
        let what = format!("{method} {path}");
        for token in [None, Some("garbage"), Some("rst_at_0000000000000000000000000000")] {
            let (status, res) = app.call(method.clone(), path, token, body.clone()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what} with {token:?}: {res}");
            assert_error(status, &res, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
        }

        let (status, res) =
            app.call(method.clone(), path, Some(&f.member.token), body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{what} as MEMBER: {res}");
        assert_error(status, &res, StatusCode::FORBIDDEN, &denied(action));

        let (status, res) =
            app.call(method.clone(), path, Some(&f.outsider.token), body.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{what} as outsider: {res}");
        assert_error(status, &res, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

        // An organization that does not exist looks like one the caller is not in.
        let missing = path.replacen(&f.org, &random_id(), 1);
        let (status, res) =
            app.call(method.clone(), &missing, Some(&f.owner.token), body.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{what} in an unknown org: {res}");
        assert_error(status, &res, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

        let malformed = path.replacen(&f.org, "not-a-uuid", 1);
        let (status, res) =
            app.call(method.clone(), &malformed, Some(&f.owner.token), body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what} with a bad org ID: {res}");
        assert_error(status, &res, StatusCode::BAD_REQUEST, BAD_UUID);

        if path.starts_with(&ap) {
            let unknown = path.replacen(&target.id, &random_id(), 1);
            let (status, res) =
                app.call(method.clone(), &unknown, Some(&f.owner.token), body.clone()).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{what} of an unknown app: {res}");
            assert_error(status, &res, StatusCode::NOT_FOUND, APP_NOT_FOUND);

            let malformed = path.replacen(&target.id, "nope", 1);
            let (status, res) =
                app.call(method.clone(), &malformed, Some(&f.owner.token), body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what} with a bad app ID: {res}");
            assert_error(status, &res, StatusCode::BAD_REQUEST, BAD_UUID);

            // Another organization's app, through an organization the caller does manage.
            let theirs = path.replacen(&target.id, &foreign.id, 1);
            let (status, res) =
                app.call(method.clone(), &theirs, Some(&f.owner.token), body.clone()).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{what} of another org's app: {res}");
            assert_error(status, &res, StatusCode::NOT_FOUND, APP_NOT_FOUND);
            // …and this org's app through the other organization.
            let via_other = path.replacen(&f.org, &other_org, 1);
            let (status, res) =
                app.call(method.clone(), &via_other, Some(&f.outsider.token), body.clone()).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{what} via another org: {res}");
            assert_error(status, &res, StatusCode::NOT_FOUND, APP_NOT_FOUND);
        }

        let (status, res) =
            app.call(method.clone(), path, Some(&f.admin.token), body.clone()).await;
        assert_eq!(status, *ok, "{what} as ADMIN: {res}");
    }

    // The refused calls changed nothing: the other organization's app is untouched and works.
    let (status, body) = app.get(&app_path(&other_org, &foreign.id), Some(&f.outsider.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "active", "{body}");
    assert_eq!(body["name"], "Test app", "{body}");
    assert_secret_works(&app, &foreign.client_id, &foreign.client_secret).await;
    // Only the ADMIN's create happened in this organization, besides the fixture's.
    let created = events_of(&app, &f.org, &f.owner, "oauth_app.created").await;
    assert_eq!(created.len(), 2, "{created:?}");
    assert_eq!(events_of(&app, &f.org, &f.owner, "oauth_app.revoked").await.len(), 1);
}

async fn oauth_tokens_cannot_manage_oauth_apps(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let token = app.client_credentials_token(&oauth, None).await;
    let other_org = app.create_org(&f.outsider, "Other Corp").await;
    let foreign = app.create_oauth_app(&other_org, &f.outsider, &["members:read"]).await;
    let good = json!({"name": "Sneaky", "redirectUris": ["https://n.example/cb"], "scopes": ["members:read"]});

    let routes = |org: &str, id: &str| -> Vec<(Method, String, Option<Value>)> {
        let ap = app_path(org, id);
        vec![
            (Method::POST, apps_path(org), Some(good.clone())),
            (Method::GET, apps_path(org), None),
            (Method::GET, ap.clone(), None),
            (Method::PATCH, ap.clone(), Some(json!({"scopes": ["members:read"]}))),
            (Method::POST, format!("{ap}/rotate-secret"), Some(json!({}))),
            (Method::POST, format!("{ap}/revoke"), Some(json!({}))),
        ]
    };
    for (method, path, body) in routes(&f.org, &oauth.id) {
        let (status, res) = app.call(method.clone(), &path, Some(&token), body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {res}");
        assert_error(status, &res, StatusCode::FORBIDDEN, OAUTH_REFUSED);
    }
    for (method, path, body) in routes(&other_org, &foreign.id) {
        let (status, res) = app.call(method.clone(), &path, Some(&token), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {res}");
        assert_error(status, &res, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }

    // Nothing changed: the app kept its scopes and status, and its token still works.
    let (status, body) = app.get(&app_path(&f.org, &oauth.id), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_app_view(&body, &f.org, "Test app", &[&oauth.redirect_uri], &ALL_SCOPES, "active");
    let (status, body) = app.get(&apps_path(&f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().expect("data").len(), 1, "{body}");
    assert_secret_works(&app, &oauth.client_id, &oauth.client_secret).await;
    assert_secret_works(&app, &foreign.client_id, &foreign.client_secret).await;
    let (status, body) = app.get(&format!("/api/organizations/{}", f.org), Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn stories_of_other_organizations_stay_apart(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let other_org = app.create_org(&f.outsider, "Other Corp").await;
    let mine: TestOAuthApp = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let theirs = app.create_oauth_app(&other_org, &f.outsider, &["members:read"]).await;

    let (status, body) = app.get(&apps_path(&f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|a| a["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [mine.id.as_str()]);
    let (status, body) = app.get(&apps_path(&other_org), Some(&f.outsider.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|a| a["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [theirs.id.as_str()]);
    assert!(
        events_of(&app, &f.org, &f.owner, "oauth_app.created")
            .await
            .iter()
            .all(|e| e["data"]["appId"] == json!(mine.id))
    );

    // The owner of one organization cannot revoke the other's app by its ID.
    let (status, body) = app
        .post(&format!("{}/revoke", app_path(&f.org, &theirs.id)), Some(&f.owner.token), json!({}))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, APP_NOT_FOUND);
    let (status, body) = app
        .post(
            &format!("{}/revoke", app_path(&other_org, &theirs.id)),
            Some(&f.owner.token),
            json!({}),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    assert_secret_works(&app, &theirs.client_id, &theirs.client_secret).await;
}

on_both_backends!(
    every_route_is_for_owners_and_admins_of_the_organization,
    oauth_tokens_cannot_manage_oauth_apps,
    stories_of_other_organizations_stay_apart
);
