//! Clients hanging up mid-request: every committed event gets exactly one delivery.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{
    all_succeeded, assert_one_delivery_per_event, event_ids_of, received_counts, str_field,
};
use crate::common::receiver::Receiver;
use crate::common::{Backend, TestApp};

/// Waits until `receiver` has had at least `n` requests; false after `timeout`.
async fn wait_received(receiver: &Receiver, n: usize, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while receiver.received().len() < n {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

async fn abandoned_requests_lose_and_duplicate_no_delivery(backend: Backend) {
    const TYPES: [&str; 3] = ["member.added", "member.removed", "member.role_updated"];
    let app = TestApp::spawn(backend).await;
    let api = app.api.clone();
    let receiver = Receiver::start().await;
    let owner = api.register("owner").await;
    let users = api.register_many("member", 10).await;
    let org = api.create_org(&owner, "Hangups").await;
    let (webhook, _) = api.create_webhook(&org, &owner, &receiver.url, &TYPES).await;
    for user in &users {
        api.add_member(&org, &owner, user, "MEMBER").await;
    }

    // Clients that give up after 1 to 233 ms, most within 5 ms: requests are abandoned at every
    // stage, before the transaction, inside it, and between its commit and the response. One
    // in nineteen waits, so that some changes commit however loaded the machine is.
    let impatient: Vec<reqwest::Client> =
        [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 8, 13, 21, 34, 55, 89, 144, 233, 30_000]
            .into_iter()
            .map(|ms| {
                reqwest::Client::builder()
                    .timeout(Duration::from_millis(ms))
                    .build()
                    .expect("impatient client")
            })
            .collect();
    let requests = (0..200).map(|i| {
        let client = impatient[i % impatient.len()].clone();
        let user = &users[i % users.len()];
        let member = format!("{}/api/organizations/{org}/members/{}", app.base, user.id);
        let req = match (i / users.len()) % 4 {
            0 => client.patch(&member).json(&json!({"role": "ADMIN"})),
            1 => client.patch(&member).json(&json!({"role": "MEMBER"})),
            2 => client.delete(&member),
            _ => client
                .post(format!("{}/api/organizations/{org}/members", app.base))
                .json(&json!({"email": user.email, "role": "MEMBER"})),
        };
        req.bearer_auth(&owner.token).send()
    });
    let results = futures::future::join_all(requests).await;
    let abandoned = results.iter().filter(|r| r.is_err()).count();
    let answered = results.len() - abandoned;
    assert!(abandoned > 0, "no request was abandoned; the test proves nothing");

    // Handlers of abandoned requests may still be finishing: wait for the log to settle.
    let mut events = api.events(&org, &owner).await;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let again = api.events(&org, &owner).await;
        if again.len() == events.len() {
            break;
        }
        events = again;
    }
    let subscribed = event_ids_of(&events, &TYPES);
    let n = subscribed.len();
    assert!(n > users.len(), "no change of the burst committed; the test proves nothing");

    if !wait_received(&receiver, n, Duration::from_secs(20)).await {
        let log = api.deliveries(&org, &webhook, &owner).await;
        let counts = received_counts([&receiver]);
        let summary: Vec<String> = log
            .iter()
            .map(|d| {
                let times = counts.get(&str_field(d, "id")).copied().unwrap_or(0);
                format!(
                    "{} {} {} received={times} {}",
                    d["eventId"], d["event"], d["status"], d["attempts"]
                )
            })
            .collect();
        let delivered: BTreeSet<String> = log.iter().map(|d| str_field(d, "eventId")).collect();
        let orphans: Vec<&Value> = events
            .iter()
            .filter(|e| {
                subscribed.contains(&str_field(e, "id")) && !delivered.contains(&str_field(e, "id"))
            })
            .collect();
        panic!(
            "expected {n} deliveries, received {}; events without a delivery: {orphans:?}\nlog:\n{}",
            receiver.received().len(),
            summary.join("\n")
        );
    }
    // Longer than the fallback poll, so a delivery queued twice would show.
    receiver.assert_stays_at(n, Duration::from_millis(1500)).await;

    let events = api.events(&org, &owner).await;
    assert_eq!(event_ids_of(&events, &TYPES), subscribed, "the event log changed after settling");
    let log = api
        .wait_for_deliveries(&org, &webhook, &owner, Duration::from_secs(10), all_succeeded)
        .await;
    let delivery_ids = assert_one_delivery_per_event(&log, &subscribed);
    let counts = received_counts([&receiver]);
    let twice: Vec<_> = counts.iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "deliveries received more than once: {twice:?}");
    let received: BTreeSet<String> = counts.into_keys().collect();
    assert_eq!(received, delivery_ids, "received deliveries differ from the delivery log");
    eprintln!(
        "{backend:?}: {abandoned} requests abandoned, {answered} answered, {} events from the burst",
        n - users.len()
    );
    app.stop().await;
}

on_both_backends!(abandoned_requests_lose_and_duplicate_no_delivery);
