//! Creating organizations: derived and unique slugs, validation, concurrent creates.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::json;

use super::{SLUG_RULE, assert_utc_timestamp, is_valid_slug, keys, org_path, set};
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error, assert_validation};

async fn create_org_answers_201_with_derived_and_unique_slugs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;

    let (status, org) =
        app.post("/api/organizations", Some(&owner.token), json!({"name": "Acme Corp"})).await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    assert_eq!(keys(&org), set(&["id", "slug", "name", "role", "createdAt", "updatedAt"]));
    uuid::Uuid::parse_str(org["id"].as_str().expect("id")).expect("id is a UUID");
    assert_eq!(org["slug"], "acme-corp");
    assert_eq!(org["name"], "Acme Corp");
    assert_eq!(org["role"], "OWNER");
    assert_utc_timestamp(&org["createdAt"]);
    assert_utc_timestamp(&org["updatedAt"]);
    assert_eq!(org["createdAt"], org["updatedAt"]);

    // The name is trimmed and the created organization reads back identically.
    let (status, read) =
        app.get(&org_path(org["id"].as_str().expect("id")), Some(&owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read, org);

    // The same name again: a different, still valid slug.
    let (status, second) =
        app.post("/api/organizations", Some(&owner.token), json!({"name": "Acme Corp"})).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let slug = second["slug"].as_str().expect("slug");
    assert_ne!(slug, "acme-corp");
    assert!(slug.starts_with("acme-corp-"), "{slug}");
    assert!(is_valid_slug(slug), "{slug}");
    assert_ne!(second["id"], org["id"]);

    // Names that yield too few slug characters still give a valid slug.
    for name in ["X", "日本", "  Hello,  World!! "] {
        let (status, body) =
            app.post("/api/organizations", Some(&owner.token), json!({"name": name})).await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {body}");
        let slug = body["slug"].as_str().expect("slug");
        assert!(is_valid_slug(slug), "{name} → {slug}");
        assert_eq!(body["name"], name.trim());
    }

    // An explicit slug is used as given; taking it again is a conflict.
    let (status, body) = app
        .post("/api/organizations", Some(&owner.token), json!({"name": "Other", "slug": "other-1"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["slug"], "other-1");
    for taken in ["other-1", "acme-corp"] {
        let (status, body) = app
            .post("/api/organizations", Some(&owner.token), json!({"name": "Dup", "slug": taken}))
            .await;
        assert_error(status, &body, StatusCode::CONFLICT, "Organization slug already exists");
    }
    // Even another user cannot take it.
    let other = app.register("other").await;
    let (status, body) = app
        .post("/api/organizations", Some(&other.token), json!({"name": "Dup", "slug": "acme-corp"}))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "Organization slug already exists");

    // Boundary slugs are accepted.
    for ok in ["a1b", &"z".repeat(48)] {
        let (status, body) = app
            .post("/api/organizations", Some(&owner.token), json!({"name": "Edge", "slug": ok}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{ok}: {body}");
        assert_eq!(body["slug"], *ok);
    }
    app.stop().await;
}

async fn create_org_rejects_bad_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;
    let token = Some(owner.token.as_str());

    let overlong = "a".repeat(200);
    for bad in ["-bad", "bad-", "ab", "Upper", "under_score", "sp ace", &"a".repeat(49), &overlong]
    {
        let (status, body) =
            app.post("/api/organizations", token, json!({"name": "Acme", "slug": bad})).await;
        assert_validation(status, &body, &[SLUG_RULE]);
    }
    let (status, body) = app.post("/api/organizations", token, json!({})).await;
    assert_validation(status, &body, &["name should not be empty", "name must be a string"]);
    let (status, body) = app.post("/api/organizations", token, json!({"name": null})).await;
    assert_validation(status, &body, &["name should not be empty", "name must be a string"]);
    let (status, body) = app.post("/api/organizations", token, json!({"name": "   "})).await;
    assert_validation(status, &body, &["name should not be empty"]);
    let (status, body) = app.post("/api/organizations", token, json!({"name": 42})).await;
    assert_validation(status, &body, &["name must be a string"]);
    let (status, body) =
        app.post("/api/organizations", token, json!({"name": "n".repeat(101)})).await;
    assert_validation(status, &body, &["name must be shorter than or equal to 100 characters"]);
    let (status, body) =
        app.post("/api/organizations", token, json!({"name": "Acme", "foo": 1})).await;
    assert_validation(status, &body, &["property foo should not exist"]);
    let (status, body) = app
        .post("/api/organizations", token, json!({"name": "Acme", "slug": 7, "role": "OWNER"}))
        .await;
    assert_validation(status, &body, &["property role should not exist", "slug must be a string"]);
    // Every violation at once.
    let (status, body) =
        app.post("/api/organizations", token, json!({"foo": true, "slug": "-x"})).await;
    assert_validation(
        status,
        &body,
        &[
            "property foo should not exist",
            "name should not be empty",
            "name must be a string",
            SLUG_RULE,
        ],
    );

    // Without a valid bearer token: 401, whatever the body.
    let (status, body) = app.post("/api/organizations", None, json!({"name": "Acme"})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) =
        app.post("/api/organizations", Some("rst_at_nope"), json!({"name": "Acme"})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app.get("/api/organizations", None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);

    // Nothing was created by any of the rejected requests.
    let (status, body) = app.get("/api/organizations", token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"data": [], "nextCursor": null}));
    app.stop().await;
}

/// Organizations created with one name at the same moment all get their own derived slug.
async fn concurrent_creates_with_one_name_all_succeed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;
    let creates = (0..12)
        .map(|_| app.post("/api/organizations", Some(&owner.token), json!({"name": "Iota X"})));
    let answers = futures::future::join_all(creates).await;
    let slugs: BTreeSet<String> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, StatusCode::CREATED, "{body}");
            body["slug"].as_str().expect("slug").to_owned()
        })
        .collect();
    assert_eq!(slugs.len(), 12, "{slugs:?}");
    assert!(slugs.contains("iota-x"));
    app.stop().await;
}

on_both_backends!(
    create_org_answers_201_with_derived_and_unique_slugs,
    create_org_rejects_bad_input,
    concurrent_creates_with_one_name_all_succeed
);
