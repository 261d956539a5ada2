//! `/console/organizations/{id}/webhooks/…`: adding a webhook with the event picker, its
//! secret shown once, deliveries to a real receiver appearing in the log, redelivering,
//! recovering, editing, rotating and deleting; the API's refusals for every role.

use reqwest::StatusCode;
use serde_json::json;

use super::assert_same_refusal;
use crate::common::console::{Console, Page};
use crate::common::receiver::{Receiver, Reply};
use crate::common::{Backend, TestApp};

fn webhooks_path(org: &str) -> String {
    format!("/console/organizations/{org}/webhooks")
}

/// The new webhook's page from its form's answer: its path and the secret shown.
fn created(page: &Page) -> String {
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    page.input("secret").expect("the secret is shown")
}

async fn webhook_path_of(app: &TestApp, org: &str, token: &str) -> (String, String) {
    let hooks = app.list_all(&format!("/api/organizations/{org}/webhooks"), token).await;
    let id = hooks[0]["id"].as_str().expect("an id").to_owned();
    (format!("{}/{id}", webhooks_path(org)), id)
}

async fn a_webhook_added_in_the_console_is_signed_and_its_log_shows_deliveries(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let admin = Console::signed_in(&app, &f.admin).await;
    let list = admin.get(&webhooks_path(&f.org)).await;
    assert!(list.shows("No webhooks yet"), "{}", list.body);
    assert!(list.body.contains("value=\"member.added\""), "the picker offers the catalogue");

    let page = admin
        .post(
            &webhooks_path(&f.org),
            &[("url", &receiver.url), ("events", "member.added"), ("events", "member.removed")],
        )
        .await;
    let secret = created(&page);
    assert!(secret.starts_with("whsec_"), "{secret}");
    let (path, _) = webhook_path_of(&app, &f.org, &f.owner.token).await;
    let again = admin.get(&path).await;
    assert!(!again.body.contains(&secret), "the secret is shown once");
    assert!(again.shows("Nothing delivered yet"));
    assert!(again.shows("No deliveries in the last 24 hours"), "the chart's empty state");

    // A member added through the console is delivered, signed with the secret shown.
    let bob = app.register("bob").await;
    admin
        .post(
            &format!("/console/organizations/{}/members", f.org),
            &[("email", &bob.email), ("role", "MEMBER")],
        )
        .await;
    app.drain().await;
    let got = receiver.wait_for(1, std::time::Duration::from_secs(10)).await;
    let body = &got[0].body;
    let signature = got[0].header("x-webhook-signature");
    assert!(roster::delivery::signature::verify_legacy(&secret, body, signature), "{signature}");
    assert_eq!(got[0].json()["event"], json!("member.added"));

    let log = admin.get(&format!("{path}/deliveries")).await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(log.shows("member.added") && log.shows("Succeeded"), "{}", log.body);
    assert!(log.shows("HTTP 200"), "each attempt's answer: {}", log.body);
    let page = admin.get(&path).await;
    assert!(page.shows("Succeeded") && page.body.contains("data-refresh="), "{}", page.body);
    app.stop().await;
}

async fn a_failed_delivery_shows_why_and_is_redelivered(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.webhook_retry_schedule =
            roster::config::RetrySchedule(vec![std::time::Duration::from_millis(50)]);
    })
    .await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::scripted(vec![Reply::status(500)]).await;
    let owner = Console::signed_in(&app, &f.owner).await;
    owner.get(&webhooks_path(&f.org)).await;
    created(
        &owner
            .post(&webhooks_path(&f.org), &[("url", &receiver.url), ("events", "member.added")])
            .await,
    );
    let (path, hook) = webhook_path_of(&app, &f.org, &f.owner.token).await;
    owner.post(&format!("{path}/test"), &[]).await.assert_redirect(&path);
    app.drain().await;

    let page = owner.get(&format!("{path}?done=test")).await;
    assert_eq!(page.notice().as_deref(), Some("Test event queued: its delivery appears below."));
    assert!(page.shows("Failed") && page.shows("HTTP 500"), "{}", page.body);
    assert!(page.shows("receiver says hi"), "the answer's start: {}", page.body);
    assert!(page.shows("2 attempts"), "{}", page.body);

    // The chart of the last day counts it, and the log's filters find it.
    assert!(!page.shows("No deliveries in the last 24 hours"), "{}", page.body);
    assert!(
        page.shows("Deliveries per hour over the last 24 hours: 0 succeeded, 1 failed, 0 pending"),
        "{}",
        page.body
    );
    assert!(page.shows("This hour: 0 succeeded, 1 failed, 0 pending"), "{}", page.body);
    let failed = owner.get(&format!("{path}?status=failed")).await;
    assert!(failed.shows("HTTP 500"), "{}", failed.body);
    assert!(failed.body.contains("aria-current=\"page\">Failed<"), "{}", failed.body);
    let succeeded = owner.get(&format!("{path}?status=succeeded")).await;
    assert!(succeeded.shows("No succeeded deliveries"), "{}", succeeded.body);
    let succeeded = owner.get(&format!("{path}/deliveries?status=succeeded")).await;
    assert!(!succeeded.shows("HTTP 500"), "the log alone, filtered: {}", succeeded.body);
    let fragment = owner.get(&format!("{path}/deliveries?status=pending")).await;
    assert!(fragment.shows("No pending deliveries"), "{}", fragment.body);
    let bogus = owner.get(&format!("{path}?status=bogus")).await;
    bogus.assert_refused(
        StatusCode::BAD_REQUEST,
        "status must be one of the following values: pending, succeeded, failed",
    );

    // Recovering since a time sends the failed delivery again (and it fails again).
    let page = owner.post(&format!("{path}/recover"), &[("since", "2020-01-01T00:00")]).await;
    assert_eq!(page.assert_redirect(&path), "done=recovered");
    app.drain().await;
    let log = owner.get(&format!("{path}/deliveries")).await;
    assert!(log.shows("Failed") && log.shows("4 attempts"), "{}", log.body);

    let delivery =
        app.deliveries(&f.org, &hook, &f.owner).await[0]["id"].as_str().expect("id").to_owned();
    receiver.set_script(vec![Reply::status(200)]);
    let redeliver = format!("{path}/deliveries/{delivery}/redeliver");
    assert_eq!(owner.post(&redeliver, &[]).await.assert_redirect(&path), "done=redelivered");
    app.drain().await;
    let log = owner.get(&format!("{path}/deliveries")).await;
    assert!(log.shows("Succeeded") && log.shows("5 attempts"), "{}", log.body);
    let page = owner.get(&path).await;
    assert!(page.shows("This hour: 1 succeeded, 0 failed, 0 pending"), "{}", page.body);

    let page = owner.post(&format!("{path}/recover"), &[("since", "whenever")]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert_eq!(page.input("recover-since").as_deref(), Some("whenever"), "kept as typed");
    assert_eq!(page.input("webhook-url").as_deref(), Some(receiver.url.as_str()), "settings kept");
    app.stop().await;
}

async fn editing_pausing_rotating_and_deleting(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let other = Receiver::start().await;
    let owner = Console::signed_in(&app, &f.owner).await;
    owner.get(&webhooks_path(&f.org)).await;
    let first = created(
        &owner
            .post(&webhooks_path(&f.org), &[("url", &receiver.url), ("events", "member.added")])
            .await,
    );
    let (path, hook) = webhook_path_of(&app, &f.org, &f.owner.token).await;
    let api_path = format!("/api/organizations/{}/webhooks/{hook}", f.org);

    let saved = owner
        .post(
            &format!("{path}/edit"),
            &[("url", &other.url), ("events", "invite.created"), ("rateLimit", "5")],
        )
        .await;
    assert_eq!(saved.assert_redirect(&path), "done=saved");
    let (_, webhook) = app.get(&api_path, Some(&f.owner.token)).await;
    assert_eq!(webhook["url"], json!(other.url));
    assert_eq!(webhook["events"], json!(["invite.created"]));
    assert_eq!(webhook["rateLimit"], json!(5));
    let page = owner.get(&path).await;
    assert_eq!(page.input("webhook-rate").as_deref(), Some("5"));
    // Emptied, the limit is removed; no events at all is the API's refusal.
    owner
        .post(
            &format!("{path}/edit"),
            &[("url", &other.url), ("events", "invite.created"), ("rateLimit", "")],
        )
        .await;
    assert_eq!(app.get(&api_path, Some(&f.owner.token)).await.1["rateLimit"], json!(null));
    let api =
        app.patch(&api_path, Some(&f.owner.token), json!({"url": other.url, "events": []})).await;
    let page = owner.post(&format!("{path}/edit"), &[("url", &other.url)]).await;
    assert_same_refusal(api, &page);

    assert_eq!(
        owner
            .post(&format!("{path}/active"), &[("isActive", "false")])
            .await
            .assert_redirect(&path),
        "done=inactive"
    );
    assert_eq!(app.get(&api_path, Some(&f.owner.token)).await.1["isActive"], json!(false));
    owner.post(&format!("{path}/active"), &[("isActive", "true")]).await;
    assert_eq!(app.get(&api_path, Some(&f.owner.token)).await.1["isActive"], json!(true));

    let rotated = owner.post(&format!("{path}/rotate"), &[]).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let second = rotated.input("secret").expect("the new secret");
    assert!(second.starts_with("whsec_") && second != first);

    let deleted = owner.post(&format!("{path}/delete"), &[]).await;
    assert_eq!(deleted.assert_redirect(&webhooks_path(&f.org)), "done=deleted");
    assert_eq!(app.get(&api_path, Some(&f.owner.token)).await.0, StatusCode::NOT_FOUND);
    let page = owner.get(&path).await;
    page.assert_refused(StatusCode::NOT_FOUND, "Webhook not found");
    let events: Vec<String> = app
        .events(&f.org, &f.owner)
        .await
        .iter()
        .map(|e| e["event"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(events.contains(&"webhook.created".to_owned()), "{events:?}");
    app.stop().await;
}

async fn webhooks_are_for_managers_of_the_organization_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let (hook, _) = app.create_webhook(&f.org, &f.owner, &receiver.url, &["member.added"]).await;
    let list = webhooks_path(&f.org);
    let path = format!("{list}/{hook}");
    let api_list = format!("/api/organizations/{}/webhooks", f.org);
    let api_path = format!("{api_list}/{hook}");
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        (list.clone(), vec![("url", receiver.url.as_str()), ("events", "member.added")]),
        (format!("{path}/edit"), vec![("url", receiver.url.as_str()), ("events", "member.added")]),
        (format!("{path}/active"), vec![("isActive", "false")]),
        (format!("{path}/test"), vec![]),
        (format!("{path}/rotate"), vec![]),
        (format!("{path}/delete"), vec![]),
        (format!("{path}/recover"), vec![("since", "2020-01-01T00:00")]),
    ];

    for (who, status) in [(&f.member, StatusCode::FORBIDDEN), (&f.outsider, StatusCode::NOT_FOUND)]
    {
        let console = Console::signed_in(&app, who).await;
        let api = app.get(&api_list, Some(&who.token)).await;
        assert_eq!(api.0, status);
        assert_same_refusal(api, &console.get(&list).await);
        let api = app.get(&api_path, Some(&who.token)).await;
        assert_same_refusal(api, &console.get(&path).await);
        assert_eq!(console.get(&format!("{path}/deliveries")).await.status, status);
        console.get("/console").await;
        for (form, fields) in &forms {
            let page = console.post(form, fields).await;
            assert_eq!(page.status, status, "{form}: {}", page.body);
        }
    }
    // Without the sign-in's token, or from another site, an OWNER's forms change nothing.
    let owner = Console::signed_in(&app, &f.owner).await;
    for (form, fields) in &forms {
        assert_eq!(
            owner.post_exactly(form, fields, &[]).await.status,
            StatusCode::FORBIDDEN,
            "{form}"
        );
        let page = owner.post_exactly(form, fields, &[("sec-fetch-site", "cross-site")]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{form}");
    }
    let hooks = app.list_all(&api_list, &f.owner.token).await;
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0]["isActive"], json!(true));
    assert!(app.deliveries(&f.org, &hook, &f.owner).await.is_empty(), "no test was sent");
    app.stop().await;
}

on_both_backends!(
    a_webhook_added_in_the_console_is_signed_and_its_log_shows_deliveries,
    a_failed_delivery_shows_why_and_is_redelivered,
    editing_pausing_rotating_and_deleting,
    webhooks_are_for_managers_of_the_organization_only,
);
