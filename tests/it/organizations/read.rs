//! Listing and reading organizations.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{ids, keys, org_path, set, unknown_id};
use crate::common::messages::ORG_NOT_FOUND;
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error, assert_validation};

async fn list_orgs_is_scoped_newest_first_and_paginated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let a1 = app.create_org(&alice, "Alice One").await;
    let a2 = app.create_org(&alice, "Alice Two").await;
    let a3 = app.create_org(&alice, "Alice Three").await;
    let b1 = app.create_org(&bob, "Bob One").await;
    app.add_member(&b1, &bob, &alice, "ADMIN").await;
    let b2 = app.create_org(&bob, "Bob Two").await;

    let (status, body) = app.get("/api/organizations", Some(&alice.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys(&body), set(&["data", "nextCursor"]));
    assert_eq!(body["nextCursor"], Value::Null);
    assert_eq!(ids(&body), vec![b1.clone(), a3.clone(), a2.clone(), a1.clone()]);
    let roles: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|o| o["role"].as_str().expect("role"))
        .collect();
    assert_eq!(roles, vec!["ADMIN", "OWNER", "OWNER", "OWNER"]);
    for org in body["data"].as_array().expect("data") {
        assert_eq!(keys(org), set(&["id", "slug", "name", "role", "createdAt", "updatedAt"]));
    }
    assert_eq!(body["data"][0]["name"], "Bob One");
    assert_eq!(body["data"][0]["slug"], "bob-one");

    let (status, body) = app.get("/api/organizations", Some(&bob.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), vec![b2.clone(), b1.clone()]);

    let (status, body) = app.get("/api/organizations", Some(&carol.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"data": [], "nextCursor": null}));

    // Pages of two.
    let (status, page1) = app.get("/api/organizations?limit=2", Some(&alice.token)).await;
    assert_eq!(status, StatusCode::OK, "{page1}");
    assert_eq!(ids(&page1), vec![b1.clone(), a3.clone()]);
    let cursor = page1["nextCursor"].as_str().expect("a next cursor").to_owned();
    let (status, page2) =
        app.get(&format!("/api/organizations?limit=2&cursor={cursor}"), Some(&alice.token)).await;
    assert_eq!(status, StatusCode::OK, "{page2}");
    assert_eq!(ids(&page2), vec![a2.clone(), a1.clone()]);
    assert_eq!(page2["nextCursor"], Value::Null);
    // Pages of three: the last page is short.
    let (_, page1) = app.get("/api/organizations?limit=3", Some(&alice.token)).await;
    assert_eq!(ids(&page1), vec![b1.clone(), a3.clone(), a2.clone()]);
    let cursor = page1["nextCursor"].as_str().expect("a next cursor").to_owned();
    let (_, page2) =
        app.get(&format!("/api/organizations?limit=3&cursor={cursor}"), Some(&alice.token)).await;
    assert_eq!(ids(&page2), vec![a1.clone()]);
    assert_eq!(page2["nextCursor"], Value::Null);

    // Bad paging parameters.
    for (query, message) in [
        ("limit=0", "limit must not be less than 1"),
        ("limit=101", "limit must not be greater than 100"),
        ("limit=abc", "limit must be an integer number"),
        ("cursor=!!!", "cursor must be a cursor returned by a previous page"),
        ("cursor=bm90LWEtdXVpZA", "cursor must be a cursor returned by a previous page"),
    ] {
        let (status, body) =
            app.get(&format!("/api/organizations?{query}"), Some(&alice.token)).await;
        assert_validation(status, &body, &[message]);
    }
    let (status, body) = app.get("/api/organizations?limit=100", Some(&alice.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body).len(), 4);
    app.stop().await;
}

async fn get_org_is_for_members_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    for (user, role) in [(&f.owner, "OWNER"), (&f.admin, "ADMIN"), (&f.member, "MEMBER")] {
        let (status, body) = app.get(&org_path(&f.org), Some(&user.token)).await;
        assert_eq!(status, StatusCode::OK, "{role}: {body}");
        assert_eq!(keys(&body), set(&["id", "slug", "name", "role", "createdAt", "updatedAt"]));
        assert_eq!(body["id"], f.org.as_str());
        assert_eq!(body["slug"], "acme-corp");
        assert_eq!(body["name"], "Acme Corp");
        assert_eq!(body["role"], role);
    }
    let (status, outsider) = app.get(&org_path(&f.org), Some(&f.outsider.token)).await;
    assert_error(status, &outsider, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, missing) = app.get(&org_path(&unknown_id()), Some(&f.outsider.token)).await;
    assert_error(status, &missing, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    assert_eq!(outsider, missing, "no existence oracle");

    for bad in ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"] {
        let (status, body) = app.get(&org_path(bad), Some(&f.owner.token)).await;
        assert_error(
            status,
            &body,
            StatusCode::BAD_REQUEST,
            "Validation failed (uuid is expected)",
        );
    }
    let (status, body) = app.get(&org_path(&f.org), None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    app.stop().await;
}

on_both_backends!(list_orgs_is_scoped_newest_first_and_paginated, get_org_is_for_members_only);
