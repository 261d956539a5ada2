//! The per-webhook rate limit: deliveries above it wait their turn, none is dropped.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{WAIT, hook_path, hooks_path, owner_and_org, view};
use crate::common::receiver::Receiver;
use crate::common::{Backend, TestApp, assert_validation};

/// Six test deliveries to a webhook limited to two a second arrive over about three seconds,
/// two at a time; an unlimited webhook of the same organization gets its own at once.
async fn deliveries_wait_their_turn(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let limited = Receiver::start().await;
    let (owner, org) = owner_and_org(&app).await;
    let (status, body) = app
        .post(
            &hooks_path(&org),
            Some(&owner.token),
            json!({"url": limited.url, "events": ["member.added"], "rateLimit": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let hook = body["id"].as_str().expect("id").to_owned();
    assert_eq!(view(&app, &org, &hook, &owner).await["rateLimit"], 2);

    let test_path = format!("{}/test", hook_path(&org, &hook));
    for _ in 0..6 {
        let (status, body) = app.post(&test_path, Some(&owner.token), json!({})).await;
        assert!(status.is_success(), "{body}");
    }
    let got = limited.wait_for(6, WAIT).await;
    limited.assert_stays_at(6, Duration::from_millis(200)).await;
    // At most two a second: the third is claimed a second after the first, the fifth two
    // seconds after. (Arrivals jitter by however long a claimed attempt takes to start.)
    for i in 2..got.len() {
        let apart = got[i].at - got[i - 2].at;
        assert!(
            apart >= Duration::from_millis(400),
            "deliveries {} and {i} {apart:?} apart",
            i - 2
        );
    }
    let span = got[4].at - got[0].at;
    assert!(span >= Duration::from_millis(1400), "five deliveries within {span:?}");
    let log = app.deliveries(&org, &hook, &owner).await;
    assert_eq!(log.len(), 6);
    assert!(log.iter().all(|d| d["status"] == "succeeded"), "{log:?}");

    // Lifting the limit: null.
    let (status, body) =
        app.patch(&hook_path(&org, &hook), Some(&owner.token), json!({"rateLimit": null})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["rateLimit"], Value::Null, "{body}");
    app.stop().await;
}

async fn rate_limits_are_whole_numbers_from_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (owner, org) = owner_and_org(&app).await;
    let url = "https://hooks.example.com/in";
    let (hook, _) = app.create_webhook(&org, &owner, url, &["member.added"]).await;
    for (limit, message) in [
        (json!(0), "rateLimit must not be less than 1"),
        (json!(-3), "rateLimit must not be less than 1"),
        (json!(10001), "rateLimit must not be greater than 10000"),
        (json!(1.5), "rateLimit must be an integer number"),
        (json!("5"), "rateLimit must be an integer number"),
    ] {
        let body = json!({"url": url, "events": ["member.added"], "rateLimit": limit});
        let (status, answer) = app.post(&hooks_path(&org), Some(&owner.token), body).await;
        assert_validation(status, &answer, &[message]);
        let body = json!({"rateLimit": limit});
        let (status, answer) = app.patch(&hook_path(&org, &hook), Some(&owner.token), body).await;
        assert_validation(status, &answer, &[message]);
    }
    // Absent or null on create: no limit; the seed's body is still all it takes.
    let body = json!({"url": url, "events": ["member.added"], "rateLimit": null});
    let (status, created) = app.post(&hooks_path(&org), Some(&owner.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id");
    assert_eq!(view(&app, &org, id, &owner).await["rateLimit"], Value::Null);
    app.stop().await;
}

on_both_backends!(deliveries_wait_their_turn, rate_limits_are_whole_numbers_from_one);
