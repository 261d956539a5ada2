//! Listing invites: who may, pages, the status filter, and expiry.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    accept, assert_created, assert_invite, events_of, ids, invite, invite_path, invites_path,
    list_all, member_roles, time_of,
};
use crate::common::messages::{BAD_CURSOR, BAD_UUID, ORG_NOT_FOUND};
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error, assert_validation, str_of};

const VIEW_DENIED: &str = "Access denied. Only owners and admins can view invites.";
const HAS_EXPIRED: &str = "Invite has expired";
const BAD_STATUS: &str =
    "status must be one of the following values: pending, accepted, cancelled, expired";

async fn list_invites_permissions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let created = invite(&app, &f.org, &f.owner, "x@example.com", "MEMBER").await;

    for viewer in [&f.owner, &f.admin] {
        let (status, body) = app.get(&invites_path(&f.org), Some(&viewer.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = body.as_object().expect("page");
        assert_eq!(
            page.keys().map(String::as_str).collect::<HashSet<_>>(),
            ["data", "nextCursor"].into()
        );
        assert_eq!(body["nextCursor"], Value::Null);
        assert_eq!(body["data"].as_array().expect("data").len(), 1);
        assert_invite(&body["data"][0], &f.org, "x@example.com", "MEMBER", "pending", &f.owner);
        assert_eq!(body["data"][0]["id"], created["id"]);
    }
    let (status, body) = app.get(&invites_path(&f.org), Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, VIEW_DENIED);
    let (status, body) =
        app.get(&format!("{}?status=pending", invites_path(&f.org)), Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, VIEW_DENIED);
    let (status, body) = app.get(&invites_path(&f.org), Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let missing = uuid::Uuid::new_v4().to_string();
    let (status, body) = app.get(&invites_path(&missing), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.get(&invites_path("not-a-uuid"), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let (status, body) = app.get(&invites_path(&f.org), None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    app.stop().await;
}

async fn list_invites_paginates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let mut created = Vec::new();
    for i in 0..5 {
        let body = invite(&app, &f.org, &f.admin, &format!("p{i}@example.com"), "MEMBER").await;
        created.push(str_of(&body, "id").to_owned());
    }
    let everyone = list_all(&app, &f.org, &f.owner, None).await;
    created.reverse();
    assert_eq!(ids(&everyone), created, "newest first");
    let times: Vec<_> = everyone.iter().map(|i| time_of(i, "createdAt")).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // Without ?limit= a page holds up to 20.
    let (status, body) = app.get(&invites_path(&f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(body["data"].as_array().expect("data")), created);

    for limit in [1usize, 2, 4, 5] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("{}?limit={limit}", invites_path(&f.org));
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let (status, body) = app.get(&path, Some(&f.admin.token)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            pages += 1;
            assert!(pages <= 5, "pagination ends: {body}");
            let data = body["data"].as_array().expect("data");
            assert!(!data.is_empty() && data.len() <= limit, "page size: {body}");
            seen.extend(ids(data));
            match &body["nextCursor"] {
                Value::Null => break,
                Value::String(next) => cursor = Some(next.clone()),
                other => panic!("nextCursor is a string or null: {other}"),
            }
        }
        assert_eq!(seen, created, "limit {limit}");
        assert_eq!(pages, 5usize.div_ceil(limit), "limit {limit}");
    }
    // Pagination composes with the status filter.
    let (status, body) = app
        .get(&format!("{}?status=pending&limit=2", invites_path(&f.org)), Some(&f.owner.token))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(body["data"].as_array().expect("data")), created[..2]);
    let next = body["nextCursor"].as_str().expect("another page");
    let (status, body) = app
        .get(
            &format!("{}?status=pending&limit=2&cursor={next}", invites_path(&f.org)),
            Some(&f.owner.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(body["data"].as_array().expect("data")), created[2..4]);

    for bad in ["***", "bm90LWEtY3Vyc29y"] {
        let (status, body) =
            app.get(&format!("{}?cursor={bad}", invites_path(&f.org)), Some(&f.owner.token)).await;
        assert_validation(status, &body, &[BAD_CURSOR]);
    }
    let (status, body) =
        app.get(&format!("{}?limit=0", invites_path(&f.org)), Some(&f.owner.token)).await;
    assert_validation(status, &body, &["limit must not be less than 1"]);
    let (status, body) =
        app.get(&format!("{}?limit=101", invites_path(&f.org)), Some(&f.owner.token)).await;
    assert_validation(status, &body, &["limit must not be greater than 100"]);
    app.stop().await;
}

async fn list_invites_filters_by_status(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let accepted = invite(&app, &f.org, &f.owner, "acc@example.com", "ADMIN").await;
    let cancelled = invite(&app, &f.org, &f.owner, "can@example.com", "MEMBER").await;
    let pending = invite(&app, &f.org, &f.admin, "pen@example.com", "MEMBER").await;
    let acc = app.register("acc").await;
    let (status, body) = accept(&app, &acc, str_of(&accepted, "token")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        app.delete(&invite_path(&f.org, str_of(&cancelled, "id")), Some(&f.admin.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let all = list_all(&app, &f.org, &f.owner, None).await;
    assert_eq!(
        ids(&all),
        [str_of(&pending, "id"), str_of(&cancelled, "id"), str_of(&accepted, "id")]
    );
    assert_invite(&all[0], &f.org, "pen@example.com", "MEMBER", "pending", &f.admin);
    assert_invite(&all[1], &f.org, "can@example.com", "MEMBER", "cancelled", &f.owner);
    assert_invite(&all[2], &f.org, "acc@example.com", "ADMIN", "accepted", &f.owner);
    for (status, expected) in
        [("pending", &pending), ("accepted", &accepted), ("cancelled", &cancelled)]
    {
        let listed = list_all(&app, &f.org, &f.admin, Some(status)).await;
        assert_eq!(ids(&listed), [str_of(expected, "id")], "status={status}");
        assert_eq!(listed[0]["status"], json!(status));
    }
    assert!(list_all(&app, &f.org, &f.owner, Some("expired")).await.is_empty());

    for bad in ["PENDING", "active", "", "pending,accepted"] {
        let (status, body) =
            app.get(&format!("{}?status={bad}", invites_path(&f.org)), Some(&f.owner.token)).await;
        assert_validation(status, &body, &[BAD_STATUS]);
    }
    app.stop().await;
}

async fn expired_invites(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.invite_ttl = Duration::from_secs(300)).await;
    let f = app.org_with_roles().await;
    let late = app.register("late").await;
    let old = invite(&app, &f.org, &f.owner, "late@example.com", "ADMIN").await;
    assert_created(&old, &f.org, "late@example.com", "ADMIN", &f.owner, 300_000);
    let other = invite(&app, &f.org, &f.admin, "other@example.com", "MEMBER").await;
    app.advance(Duration::from_secs(301));

    let all = list_all(&app, &f.org, &f.owner, None).await;
    assert_eq!(ids(&all), [str_of(&other, "id"), str_of(&old, "id")]);
    assert_invite(&all[0], &f.org, "other@example.com", "MEMBER", "expired", &f.admin);
    assert_invite(&all[1], &f.org, "late@example.com", "ADMIN", "expired", &f.owner);
    assert_eq!(ids(&list_all(&app, &f.org, &f.owner, Some("expired")).await), ids(&all));
    for status in ["pending", "accepted", "cancelled"] {
        assert!(list_all(&app, &f.org, &f.owner, Some(status)).await.is_empty(), "{status}");
    }

    // Neither accepted nor cancelled once expired.
    let (status, body) = accept(&app, &late, str_of(&old, "token")).await;
    assert_error(status, &body, StatusCode::GONE, HAS_EXPIRED);
    let (status, body) =
        app.delete(&invite_path(&f.org, str_of(&old, "id")), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Invite is expired");
    assert!(!member_roles(&app, &f.org, &f.owner).await.iter().any(|(id, _)| *id == late.id));

    // A new invite to the same address is allowed, in any case; the old one stays expired.
    let before = events_of(&app, &f.org, &f.owner, "invite.created").await.len();
    let fresh = invite(&app, &f.org, &f.owner, "LATE@example.com", "MEMBER").await;
    assert_created(&fresh, &f.org, "LATE@example.com", "MEMBER", &f.owner, 300_000);
    assert_ne!(fresh["id"], old["id"]);
    assert_eq!(events_of(&app, &f.org, &f.owner, "invite.created").await.len(), before + 1);
    let all = list_all(&app, &f.org, &f.owner, None).await;
    assert_eq!(ids(&all), [str_of(&fresh, "id"), str_of(&other, "id"), str_of(&old, "id")]);
    assert_eq!(all[2]["status"], json!("expired"));
    // The expired invite's token still answers 410, not the new invite.
    let (status, body) = accept(&app, &late, str_of(&old, "token")).await;
    assert_error(status, &body, StatusCode::GONE, HAS_EXPIRED);
    assert!(events_of(&app, &f.org, &f.owner, "invite.accepted").await.is_empty());
    app.stop().await;
}

on_both_backends!(
    list_invites_permissions,
    list_invites_paginates,
    list_invites_filters_by_status,
    expired_invites
);
