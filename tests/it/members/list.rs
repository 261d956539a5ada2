//! Listing members, with cursor pagination.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{list_all, members_path};
use crate::common::messages::{BAD_CURSOR, BAD_UUID, ORG_NOT_FOUND};
use crate::common::{
    AUTH_REQUIRED, Backend, TestApp, assert_error, assert_member, assert_validation,
};

async fn list_members(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;

    for viewer in [&f.owner, &f.admin, &f.member] {
        let (status, body) = app.get(&members_path(&f.org), Some(&viewer.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = body.as_object().expect("page object");
        assert_eq!(
            page.keys().map(String::as_str).collect::<HashSet<_>>(),
            ["data", "nextCursor"].into()
        );
        assert_eq!(body["nextCursor"], Value::Null);
        let data = body["data"].as_array().expect("data");
        assert_eq!(data.len(), 3, "{body}");
        for (user, role) in [(&f.owner, "OWNER"), (&f.admin, "ADMIN"), (&f.member, "MEMBER")] {
            let found: Vec<&Value> =
                data.iter().filter(|m| m["userId"] == json!(user.id)).collect();
            assert_eq!(found.len(), 1, "{user:?} listed once: {body}");
            assert_member(found[0], &f.org, user, role);
        }
        // Newest first: createdAt never increases down the page.
        let times: Vec<chrono::DateTime<chrono::FixedOffset>> = data
            .iter()
            .map(|m| {
                chrono::DateTime::parse_from_rfc3339(m["createdAt"].as_str().expect("createdAt"))
                    .expect("RFC 3339")
            })
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {body}");
    }

    let (status, body) = app.get(&members_path(&f.org), Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let missing = uuid::Uuid::new_v4().to_string();
    let (status, body) = app.get(&members_path(&missing), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.get(&members_path("not-a-uuid"), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let (status, body) = app.get(&members_path(&f.org), None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app.get(&members_path(&f.org), Some("not-a-real-token")).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    app.stop().await;
}

async fn list_members_paginates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let dave = app.register("dave").await;
    let erin = app.register("erin").await;
    app.add_member(&f.org, &f.owner, &dave, "MEMBER").await;
    app.add_member(&f.org, &f.admin, &erin, "ADMIN").await;
    let everyone: Vec<String> = list_all(&app, &f.org, &f.member)
        .await
        .iter()
        .map(|m| m["userId"].as_str().expect("userId").to_owned())
        .collect();
    assert_eq!(everyone.len(), 5);
    let expected: HashSet<&str> =
        [&f.owner, &f.admin, &f.member, &dave, &erin].iter().map(|u| u.id.as_str()).collect();
    assert_eq!(everyone.iter().map(String::as_str).collect::<HashSet<_>>(), expected);

    for limit in [1usize, 2, 4, 5] {
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("{}?limit={limit}", members_path(&f.org));
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let (status, body) = app.get(&path, Some(&f.member.token)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            pages += 1;
            assert!(pages <= 5, "pagination ends: {body}");
            let data = body["data"].as_array().expect("data");
            assert!(!data.is_empty() && data.len() <= limit, "page size: {body}");
            seen.extend(data.iter().map(|m| m["userId"].as_str().expect("userId").to_owned()));
            match &body["nextCursor"] {
                Value::Null => break,
                Value::String(next) => cursor = Some(next.clone()),
                other => panic!("nextCursor is a string or null: {other}"),
            }
        }
        // Every member exactly once, in the same newest-first order as one big page.
        assert_eq!(seen, everyone, "limit {limit}");
        assert_eq!(pages, 5usize.div_ceil(limit), "limit {limit}");
    }

    for bad in [
        "***",
        "bm90LWEtY3Vyc29y",
        "MTIzfG5vdC1hLXV1aWQ",
        "YWJjfDAxOTAwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMA",
    ] {
        let (status, body) =
            app.get(&format!("{}?cursor={bad}", members_path(&f.org)), Some(&f.owner.token)).await;
        assert_validation(status, &body, &[BAD_CURSOR]);
    }
    let (status, body) =
        app.get(&format!("{}?limit=0", members_path(&f.org)), Some(&f.owner.token)).await;
    assert_validation(status, &body, &["limit must not be less than 1"]);
    let (status, body) =
        app.get(&format!("{}?limit=101", members_path(&f.org)), Some(&f.owner.token)).await;
    assert_validation(status, &body, &["limit must not be greater than 100"]);
    let (status, body) =
        app.get(&format!("{}?limit=abc", members_path(&f.org)), Some(&f.owner.token)).await;
    assert_validation(status, &body, &["limit must be an integer number"]);
    app.stop().await;
}

on_both_backends!(list_members, list_members_paginates);
