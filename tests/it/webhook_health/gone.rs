//! A `410 Gone` disables the webhook at once: no further attempt for any of its deliveries,
//! and `webhook.disabled` in the log and at the organization's other subscribed webhooks.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{WAIT, add_someone, attempts, logged, ms, owner_and_org, view, view_until};
use crate::common::oauth::{ALL_SCOPES, lacks};
use crate::common::receiver::{Receiver, Reply};
use crate::common::{Backend, TestApp, assert_error, assert_timestamp};

async fn gone_disables_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let gone = Receiver::scripted(vec![Reply::status(500), Reply::status(410)]).await;
    let watcher = Receiver::start().await;
    let (owner, org) = owner_and_org(&app).await;
    let (hook, _) = app.create_webhook(&org, &owner, &gone.url, &["member.added"]).await;
    let (watching, _) = app.create_webhook(&org, &owner, &watcher.url, &["webhook.disabled"]).await;

    // The first delivery fails and waits for its retry (1 s on the schedule); the second
    // gets the 410.
    add_someone(&app, &org, &owner, "bob").await;
    gone.wait_for(1, WAIT).await;
    add_someone(&app, &org, &owner, "carol").await;
    gone.wait_for(2, WAIT).await;

    let body = view_until(&app, &org, &hook, &owner, |v| v["isActive"] == false).await;
    assert_eq!(body["disabledReason"], "gone", "{body}");
    assert_eq!(body["lastError"], "HTTP 410", "{body}");
    assert_timestamp(&body["disabledAt"]);

    // The delivery that got the 410 is over; the one waiting for its retry gets none.
    app.drain().await;
    gone.assert_stays_at(2, ms(300)).await;
    let log = app.deliveries(&org, &hook, &owner).await;
    assert_eq!(log.len(), 2, "{log:?}");
    for delivery in &log {
        assert_eq!(delivery["status"], "failed", "{delivery}");
        assert_eq!(attempts(delivery).len(), 1, "{delivery}");
    }

    // webhook.disabled, from Roster itself, in the log and at the other webhook.
    let got = watcher.wait_for(1, WAIT).await;
    let delivered = got[0].json();
    assert_eq!(delivered["event"], "webhook.disabled");
    assert_eq!(
        delivered["data"],
        json!({"webhookId": hook, "url": gone.url, "reason": "gone", "lastError": "HTTP 410",
               "actor": {"type": "system"}})
    );
    let events = logged(&app, &org, &owner, "webhook.disabled").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"], delivered["data"]);

    // An OAuth token reads it with webhooks:read, and cannot subscribe to it without.
    let oauth = app.create_oauth_app(&org, &owner, &ALL_SCOPES).await;
    let reader =
        app.client_credentials_token(&oauth, Some("organization:read webhooks:read")).await;
    let other = app
        .client_credentials_token(&oauth, Some("organization:read members:read webhooks:write"))
        .await;
    let path = format!("/api/organizations/{org}/events");
    let read = |token: String| {
        let path = path.clone();
        let app = &app;
        async move {
            let events = app.list_all(&path, &token).await;
            events.iter().filter(|e| e["event"] == "webhook.disabled").count()
        }
    };
    assert_eq!(read(reader).await, 1);
    assert_eq!(read(other.clone()).await, 0);
    let (status, body) = app
        .post(
            &format!("/api/organizations/{org}/webhooks"),
            Some(&other),
            json!({"url": "https://ops.example.com/in", "events": ["webhook.disabled"]}),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &lacks("webhooks:read"));

    // Inactive now: a new event queues nothing for it.
    add_someone(&app, &org, &owner, "dave").await;
    app.drain().await;
    assert_eq!(app.deliveries(&org, &hook, &owner).await.len(), 2);
    gone.assert_stays_at(2, ms(100)).await;
    let watched = view(&app, &org, &watching, &owner).await;
    assert_eq!(watched["isActive"], true, "{watched}");
    assert_eq!(watched["disabledReason"], Value::Null);
    app.stop().await;
}

on_both_backends!(gone_disables_at_once);
