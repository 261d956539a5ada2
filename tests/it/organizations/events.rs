//! The event log.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{assert_utc_timestamp, events, ids, keys, org_path, set, unknown_id};
use crate::common::messages::ORG_NOT_FOUND;
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error, assert_validation, str_of};

const EVENTS_DENIED: &str = "Access denied. Only owners and admins can view the event log.";
const EVENT_CATALOG: &str = "organization.created, organization.updated, organization.deleted, \
     member.added, member.removed, member.role_updated, invite.created, invite.accepted, \
     invite.cancelled, oauth_app.created, oauth_app.revoked, webhook.created";

/// The events recorded in the log only, after the catalog.
const LOG_ONLY_EVENTS: &str = "webhook.test, webhook.updated, webhook.deleted, \
     webhook.secret_rotated, oauth_app.updated, oauth_app.secret_rotated";

async fn event_log_access_shape_filter_and_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = format!("{}/events", org_path(&f.org));

    for user in [&f.owner, &f.admin] {
        let (status, body) = app.get(&path, Some(&user.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(keys(&body), set(&["data", "nextCursor", "retainedSince"]));
        // How far back the log reaches: the retention period before now.
        let since =
            chrono::DateTime::parse_from_rfc3339(str_of(&body, "retainedSince")).expect("RFC 3339");
        let age = chrono::Utc::now() - since.to_utc();
        assert!((364..=366).contains(&age.num_days()), "{body}");
    }
    let (status, body) = app.get(&path, Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, EVENTS_DENIED);
    let (status, body) = app.get(&path, Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) =
        app.get(&format!("{}/events", org_path(&unknown_id())), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.get("/api/organizations/abc/events", Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "Validation failed (uuid is expected)");
    let (status, body) = app.get(&path, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);

    assert_eq!(
        app.event_types(&f.org, &f.owner).await,
        vec!["organization.created", "member.added", "member.added"]
    );
    let log = events(&app, &f.org, &f.owner, "").await;
    assert_eq!(log["nextCursor"], Value::Null);
    let entries = log["data"].as_array().expect("data");
    assert_eq!(entries.len(), 3);
    let org_ref = json!({"id": f.org, "slug": "acme-corp", "name": "Acme Corp"});
    let owner_actor = json!({"type": "user", "id": f.owner.id});
    for entry in entries {
        assert_eq!(keys(entry), set(&["id", "event", "organization", "data", "timestamp"]));
        uuid::Uuid::parse_str(entry["id"].as_str().expect("id")).expect("event id is a UUID");
        assert_eq!(entry["organization"], org_ref);
        assert_eq!(entry["data"]["actor"], owner_actor);
        assert_utc_timestamp(&entry["timestamp"]);
    }
    // Newest first: the member, the admin, then the creation.
    assert_eq!(
        entries[0]["data"],
        json!({"userId": f.member.id, "email": f.member.email, "role": "MEMBER", "actor": owner_actor})
    );
    assert_eq!(
        entries[1]["data"],
        json!({"userId": f.admin.id, "email": f.admin.email, "role": "ADMIN", "actor": owner_actor})
    );
    let created = &entries[2];
    assert_eq!(created["event"], "organization.created");
    assert_eq!(created["data"], json!({"actor": owner_actor}));
    assert!(created["timestamp"].as_str() <= entries[0]["timestamp"].as_str());

    // Filtering by type.
    let added = events(&app, &f.org, &f.admin, "?event=member.added").await;
    assert_eq!(ids(&added), vec![ids(&log)[0].clone(), ids(&log)[1].clone()]);
    assert_eq!(added["nextCursor"], Value::Null);
    let created_only = events(&app, &f.org, &f.owner, "?event=organization.created").await;
    assert_eq!(created_only["data"], json!([created]));
    let none = events(&app, &f.org, &f.owner, "?event=webhook.created").await;
    assert_eq!((&none["data"], &none["nextCursor"]), (&json!([]), &Value::Null));
    let message = format!(
        "event must be one of the following values: {EVENT_CATALOG}, webhook.disabled, \
             delivery.exhausted, {LOG_ONLY_EVENTS}"
    );
    for bad in ["nope", "", "webhook.testing", "MEMBER.ADDED"] {
        let (status, body) = app.get(&format!("{path}?event={bad}"), Some(&f.owner.token)).await;
        assert_validation(status, &body, &[message.as_str()]);
    }

    // Pages.
    let page1 = events(&app, &f.org, &f.owner, "?limit=2").await;
    assert_eq!(ids(&page1), ids(&log)[..2].to_vec());
    let cursor = page1["nextCursor"].as_str().expect("next cursor").to_owned();
    let page2 = events(&app, &f.org, &f.owner, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(ids(&page2), ids(&log)[2..].to_vec());
    assert_eq!(page2["nextCursor"], Value::Null);
    // Pages of a filtered log.
    let page1 = events(&app, &f.org, &f.owner, "?event=member.added&limit=1").await;
    assert_eq!(ids(&page1), ids(&log)[..1].to_vec());
    let cursor = page1["nextCursor"].as_str().expect("next cursor").to_owned();
    let page2 =
        events(&app, &f.org, &f.owner, &format!("?event=member.added&limit=1&cursor={cursor}"))
            .await;
    assert_eq!(ids(&page2), ids(&log)[1..2].to_vec());
    assert_eq!(page2["nextCursor"], Value::Null);
    for (query, message) in [
        ("limit=0", "limit must not be less than 1"),
        ("limit=1000", "limit must not be greater than 100"),
        ("cursor=Zm9v", "cursor must be a cursor returned by a previous page"),
    ] {
        let (status, body) = app.get(&format!("{path}?{query}"), Some(&f.owner.token)).await;
        assert_validation(status, &body, &[message]);
    }

    // A rename shows up in later entries only; earlier ones keep the name they had.
    let (status, _) =
        app.patch(&org_path(&f.org), Some(&f.owner.token), json!({"slug": "acme-two"})).await;
    assert_eq!(status, StatusCode::OK);
    let log = events(&app, &f.org, &f.owner, "").await;
    assert_eq!(log["data"][0]["organization"]["slug"], "acme-two");
    assert_eq!(log["data"][3]["organization"]["slug"], "acme-corp");
    assert_eq!(log["data"][3]["event"], "organization.created");
    app.stop().await;
}

on_both_backends!(event_log_access_shape_filter_and_pages);
