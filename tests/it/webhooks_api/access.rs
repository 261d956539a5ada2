//! Who may call each route.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{
    WAIT, WEBHOOK_NOT_FOUND, all_have, deliveries_path, deliveries_when, hook_path, hooks_path,
    redeliver_path,
};
use crate::common::messages::{ORG_NOT_FOUND, denied};
use crate::common::receiver::Receiver;
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error};

async fn every_route_is_for_owners_and_admins_of_the_organization(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let (hook, _) = app.create_webhook(&f.org, &f.owner, &receiver.url, &["webhook.created"]).await;
    receiver.wait_for(1, WAIT).await;
    let log = deliveries_when(&app, &f.org, &hook, &f.owner, "a succeeded delivery", |d| {
        all_have(d, 1, "succeeded", 1)
    })
    .await;
    let delivery = log[0]["id"].as_str().expect("id").to_owned();
    let hp = hook_path(&f.org, &hook);
    let since = json!({"since": "2000-01-01T00:00:00Z"});

    // (method, path, body, action, what an ADMIN gets); DELETE last.
    let routes: Vec<(Method, String, Option<Value>, &str, StatusCode)> = vec![
        (
            Method::POST,
            hooks_path(&f.org),
            Some(json!({"url": "https://example.com/new", "events": ["member.added"]})),
            "create webhooks",
            StatusCode::CREATED,
        ),
        (Method::GET, hooks_path(&f.org), None, "view webhooks", StatusCode::OK),
        (Method::GET, hp.clone(), None, "view webhooks", StatusCode::OK),
        (
            Method::PATCH,
            hp.clone(),
            Some(json!({"isActive": true})),
            "update webhooks",
            StatusCode::OK,
        ),
        (
            Method::POST,
            format!("{hp}/rotate-secret"),
            Some(json!({})),
            "rotate webhook secrets",
            StatusCode::OK,
        ),
        (
            Method::POST,
            format!("{hp}/test"),
            Some(json!({})),
            "test webhooks",
            StatusCode::ACCEPTED,
        ),
        (
            Method::GET,
            deliveries_path(&f.org, &hook),
            None,
            "view webhook deliveries",
            StatusCode::OK,
        ),
        (
            Method::GET,
            format!("{hp}/delivery-stats"),
            None,
            "view webhook deliveries",
            StatusCode::OK,
        ),
        (
            Method::POST,
            redeliver_path(&f.org, &hook, &delivery),
            Some(json!({})),
            "redeliver webhooks",
            StatusCode::ACCEPTED,
        ),
        (
            Method::POST,
            format!("{hp}/recover"),
            Some(since.clone()),
            "recover webhook deliveries",
            StatusCode::ACCEPTED,
        ),
        (Method::DELETE, hp.clone(), None, "delete webhooks", StatusCode::NO_CONTENT),
    ];

    let other_org = app.create_org(&f.outsider, "Other Corp").await;
    for (method, path, body, action, ok) in &routes {
        let what = format!("{method} {path}");
        let (status, res) = app.call(method.clone(), path, None, body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {res}");
        assert_error(status, &res, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
        let (status, res) = app.call(method.clone(), path, Some("garbage"), body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {res}");
        assert_error(status, &res, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);

        let (status, res) =
            app.call(method.clone(), path, Some(&f.member.token), body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {res}");
        assert_error(status, &res, StatusCode::FORBIDDEN, &denied(action));

        let (status, res) =
            app.call(method.clone(), path, Some(&f.outsider.token), body.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{what}: {res}");
        assert_error(status, &res, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

        // Through an organization the caller does manage, another's webhook is not found.
        if path.starts_with(&hp) {
            let foreign = path.replacen(&f.org, &other_org, 1);
            let (status, res) =
                app.call(method.clone(), &foreign, Some(&f.outsider.token), body.clone()).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{what} via another org: {res}");
            assert_error(status, &res, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
        }

        if *ok == StatusCode::ACCEPTED && path.ends_with("/redeliver") {
            // The delivery must have finished its previous chain to be redelivered.
            deliveries_when(&app, &f.org, &hook, &f.owner, "no pending delivery", |d| {
                d.iter().all(|d| d["status"] != "pending")
            })
            .await;
        }
        let (status, res) =
            app.call(method.clone(), path, Some(&f.admin.token), body.clone()).await;
        assert_eq!(status, *ok, "{what} as ADMIN: {res}");
    }

    // An OWNER of another organization sees none of it either.
    let (status, res) = app.get(&hooks_path(&f.org), Some(&f.outsider.token)).await;
    assert_error(status, &res, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
}

on_both_backends!(every_route_is_for_owners_and_admins_of_the_organization);
