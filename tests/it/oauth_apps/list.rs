//! Listing and reading apps without secrets.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{app_path, apps_path, assert_app_view, assert_no_secret, create_raw};
use crate::common::messages::denied;
use crate::common::{Backend, TestApp, assert_error, assert_validation, str_of};

async fn list_is_paginated_newest_first_with_revoked_apps(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let mut ids = Vec::new();
    let mut secrets = Vec::new();
    for name in ["First", "Second", "Third"] {
        let (status, body) = create_raw(
            &app,
            &f.org,
            &f.owner,
            json!({"name": name, "redirectUris": ["https://a.example/cb"], "scopes": ["members:read"]}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(str_of(&body, "id").to_owned());
        secrets.push(str_of(&body, "clientSecret").to_owned());
        // Distinct creation times, so "newest first" has one meaning.
        app.advance(Duration::from_millis(15));
    }
    let (status, body) = app
        .post(&format!("{}/revoke", app_path(&f.org, &ids[1])), Some(&f.owner.token), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let path = apps_path(&f.org);
    let token = Some(f.admin.token.as_str());
    let (status, page1) = app.get(&format!("{path}?limit=2"), token).await;
    assert_eq!(status, StatusCode::OK, "{page1}");
    let data = page1["data"].as_array().expect("data");
    assert_eq!(data.len(), 2, "{page1}");
    assert_app_view(
        &data[0],
        &f.org,
        "Third",
        &["https://a.example/cb"],
        &["members:read"],
        "active",
    );
    assert_eq!(data[0]["id"], json!(ids[2]));
    assert_app_view(
        &data[1],
        &f.org,
        "Second",
        &["https://a.example/cb"],
        &["members:read"],
        "revoked",
    );
    assert_eq!(data[1]["id"], json!(ids[1]));
    let cursor = page1["nextCursor"].as_str().unwrap_or_else(|| panic!("a next page: {page1}"));

    let (status, page2) = app.get(&format!("{path}?limit=2&cursor={cursor}"), token).await;
    assert_eq!(status, StatusCode::OK, "{page2}");
    let data = page2["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "{page2}");
    assert_eq!(data[0]["id"], json!(ids[0]));
    assert_app_view(
        &data[0],
        &f.org,
        "First",
        &["https://a.example/cb"],
        &["members:read"],
        "active",
    );
    assert_eq!(page2["nextCursor"], Value::Null, "{page2}");

    // The whole list by default, every page without secrets.
    let all = app.list_all(&path, &f.owner.token).await;
    let listed: Vec<&str> = all.iter().map(|a| a["id"].as_str().expect("id")).collect();
    assert_eq!(listed, [ids[2].as_str(), ids[1].as_str(), ids[0].as_str()]);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_secret(&page1, &secrets);
    assert_no_secret(&page2, &secrets);
    for id in &ids {
        let (status, one) = app.get(&app_path(&f.org, id), Some(&f.member.token)).await;
        assert_error(status, &one, StatusCode::FORBIDDEN, &denied("view OAuth apps"));
        let (status, one) = app.get(&app_path(&f.org, id), Some(&f.admin.token)).await;
        assert_eq!(status, StatusCode::OK, "{one}");
        assert_no_secret(&one, &secrets);
    }

    // Bad pagination parameters are validation errors.
    for (query, message) in [
        ("limit=0", "limit must not be less than 1"),
        ("limit=101", "limit must not be greater than 100"),
        ("cursor=Zm9v", "cursor must be a cursor returned by a previous page"),
    ] {
        let (status, body) = app.get(&format!("{path}?{query}"), token).await;
        assert_validation(status, &body, &[message]);
    }

    // Another organization's list is its own.
    let other = app.create_org(&f.outsider, "Other Corp").await;
    let (status, body) = app.get(&apps_path(&other), Some(&f.outsider.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"data": [], "nextCursor": null}));
}

on_both_backends!(list_is_paginated_newest_first_with_revoked_apps);
