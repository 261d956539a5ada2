//! Durability of webhook delivery over real HTTP, on SQLite and PostgreSQL: a SIGKILLed
//! server loses no delivery, clients hanging up mid-request lose none and duplicate none,
//! graceful shutdown finishes and records in-flight attempts, and (PostgreSQL) several
//! instances on one database deliver each delivery exactly once and wake each other.

mod abandoned_requests;
pub(crate) mod crash;
mod email_crash;
mod graceful_shutdown;
mod power_loss;
mod scale_out;
mod skewed_clock;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use serde_json::Value;

use crate::common::receiver::Receiver;
use crate::common::{Api, TestUser};

pub(crate) const MEMBER_EVENTS: [&str; 2] = ["member.added", "member.removed"];

/// IDs of the logged events whose type is one of `types`.
pub(crate) fn event_ids_of(events: &[Value], types: &[&str]) -> BTreeSet<String> {
    events
        .iter()
        .filter(|e| types.contains(&e["event"].as_str().expect("event type")))
        .map(|e| e["id"].as_str().expect("event id").to_owned())
        .collect()
}

fn str_field(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap_or_else(|| panic!("{field} in {value}")).to_owned()
}

/// Checks that the delivery log holds exactly one delivery per event in `expected_events`
/// and nothing else; returns the delivery IDs.
pub(crate) fn assert_one_delivery_per_event(
    log: &[Value],
    expected_events: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut per_event: BTreeMap<String, usize> = BTreeMap::new();
    for d in log {
        *per_event.entry(str_field(d, "eventId")).or_default() += 1;
    }
    let duplicated: Vec<_> = per_event.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicated.is_empty(), "events with more than one delivery: {duplicated:?}");
    let logged: BTreeSet<String> = per_event.into_keys().collect();
    let missing: Vec<_> = expected_events.difference(&logged).collect();
    assert!(missing.is_empty(), "subscribed events without a delivery: {missing:?}");
    let extra: Vec<_> = logged.difference(expected_events).collect();
    assert!(extra.is_empty(), "deliveries of unexpected events: {extra:?}");
    log.iter().map(|d| str_field(d, "id")).collect()
}

/// How many times each delivery ID reached the receivers, checking that both ID headers agree.
pub(crate) fn received_counts<'a>(
    receivers: impl IntoIterator<Item = &'a Receiver>,
) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for receiver in receivers {
        for r in receiver.received() {
            let id = r.header("x-webhook-delivery").to_owned();
            assert!(!id.is_empty(), "a delivery without X-Webhook-Delivery: {:?}", r.headers);
            assert_eq!(r.header("webhook-id"), id, "webhook-id and X-Webhook-Delivery differ");
            *counts.entry(id).or_default() += 1;
        }
    }
    counts
}

/// What [`deliver_each_once_through`] set up, for further checks.
pub(crate) struct SharedOrg {
    pub org: String,
    pub owner: TestUser,
    pub receiver: Receiver,
    /// Member events so far, each delivered once.
    pub events: usize,
}

/// Two instances on one database: `users` users join one organization and leave it again,
/// `rounds` changes each, through `a` and `b` in turn, all users at once. Checks that every
/// event was delivered exactly once, in one attempt, and logged so.
pub(crate) async fn deliver_each_once_through(
    a: &Api,
    b: &Api,
    users: usize,
    rounds: usize,
) -> SharedOrg {
    let receiver = Receiver::start().await;
    let owner = a.register("owner").await;
    let members = b.register_many("member", users).await;
    let org = a.create_org(&owner, "Shared").await;
    let (webhook, _) = b.create_webhook(&org, &owner, &receiver.url, &MEMBER_EVENTS).await;
    let instances = [a, b];
    futures::future::join_all(members.iter().enumerate().map(|(u, user)| {
        let (org, owner) = (&org, &owner);
        async move {
            for k in 0..rounds {
                let api = instances[(u + k) % 2];
                if k % 2 == 0 {
                    api.add_member(org, owner, user, "MEMBER").await;
                } else {
                    api.remove_member(org, owner, user).await;
                }
            }
        }
    }))
    .await;
    let total = users * rounds;

    receiver.wait_for(total, Duration::from_secs(30)).await;
    receiver.assert_stays_at(total, Duration::from_secs(2)).await;
    let counts = received_counts([&receiver]);
    let twice: Vec<_> = counts.iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "deliveries made more than once: {twice:?}");
    assert_eq!(counts.len(), total);

    let events = a.events(&org, &owner).await;
    let subscribed = event_ids_of(&events, &MEMBER_EVENTS);
    assert_eq!(subscribed.len(), total);
    let log =
        b.wait_for_deliveries(&org, &webhook, &owner, Duration::from_secs(10), all_succeeded).await;
    let delivery_ids = assert_one_delivery_per_event(&log, &subscribed);
    let received: BTreeSet<String> = counts.into_keys().collect();
    assert_eq!(received, delivery_ids, "received deliveries differ from the delivery log");
    for d in &log {
        assert_eq!(d["attempts"].as_array().expect("attempts").len(), 1, "one attempt each: {d}");
    }
    SharedOrg { org, owner, receiver, events: total }
}

pub(crate) fn all_succeeded(log: &[Value]) -> bool {
    log.iter().all(|d| d["status"] == "succeeded")
}
