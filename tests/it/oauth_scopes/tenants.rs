//! A token never reaches another organization.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{oauth_app_routes, scoped_routes};
use crate::common::messages::ORG_NOT_FOUND;
use crate::common::oauth::{ALL_SCOPES, org_path};
use crate::common::receiver::Receiver;
use crate::common::{Backend, TestApp, assert_error, random_id};

/// A token of one organization finds nothing of another, even with every scope.
async fn tokens_never_reach_another_organization(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let mine = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let routes = scoped_routes(&app, &f, &receiver).await;

    let elsewhere = app.create_org(&f.outsider, "Other Corp").await;
    let theirs = app.create_oauth_app(&elsewhere, &f.outsider, &ALL_SCOPES).await;
    let token = app.client_credentials_token(&theirs, None).await;

    let mut checked = 0;
    for r in routes.iter().filter(|r| r.path.contains(&f.org)) {
        let (status, _, body) =
            app.send(r.method.clone(), &r.path, Some(&token), r.body.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{}: {body}", r.what());
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
        checked += 1;
    }
    assert!(checked >= 20, "every organization route was tried");
    for (method, path, body) in oauth_app_routes(&f.org, &mine.id) {
        let (status, res) = app.call(method.clone(), &path, Some(&token), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {res}");
        assert_error(status, &res, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }
    // An organization that does not exist answers alike.
    let (status, body) = app.get(&org_path(&random_id()), Some(&token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    // Nothing changed in the first organization.
    let (status, body) = app.get(&org_path(&f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Acme Corp", "{body}");
    let types = app.event_types(&f.org, &f.owner).await;
    assert!(
        !types.iter().any(|t| t == "organization.updated"
            || t == "invite.cancelled"
            || t == "member.removed"),
        "{types:?}"
    );
    // …and the token works in its own.
    let (status, body) = app.get(&org_path(&elsewhere), Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn listing_organizations_shows_only_the_tokens_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    // The app's owners belong to other organizations too.
    let second = app.create_org(&f.owner, "Owner Two").await;
    let third = app.create_org(&f.admin, "Admin Two").await;
    app.add_member(&third, &f.admin, &f.owner, "MEMBER").await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["organization:read"]).await;
    let token = app.client_credentials_token(&oauth, None).await;

    let (status, body) = app.get("/api/organizations", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = body["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "{body}");
    assert_eq!(data[0]["id"], json!(f.org));
    assert_eq!(data[0]["name"], "Acme Corp");
    assert_eq!(body["nextCursor"], Value::Null, "{body}");
    for other in [&second, &third] {
        let (status, body) = app.get(&org_path(other), Some(&token)).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }
    // The owner still sees all three.
    let (status, body) = app.get("/api/organizations", Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().expect("data").len(), 3, "{body}");
}

on_both_backends!(
    tokens_never_reach_another_organization,
    listing_organizations_shows_only_the_tokens_one
);
