//! PostgreSQL: two instances on one database share the email queue, and each email is sent
//! once, by whichever instance claims it.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::common::smtp::SmtpSink;
use crate::common::{Backend, TestApp, TestDb, test_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_instances_send_each_email_once() {
    if crate::common::postgres_disabled() {
        eprintln!("ROSTER_TEST_POSTGRES=off: not running on PostgreSQL");
        return;
    }
    const USERS: usize = 30;
    let sink = SmtpSink::start().await;
    let db = TestDb::new(Backend::Postgres).await;
    let instance = || {
        let mut config = test_config(&db.url);
        config.email.smtp_url = Some(roster::config::SmtpUrl(sink.url()));
        // Only a wake-up (local or NOTIFY) or a claim by the other explains a quick send.
        config.webhook_poll_interval = Duration::from_secs(30);
        TestApp::start(config)
    };
    let (a, b) = (instance().await, instance().await);
    let registrations = (0..USERS).map(|i| {
        let api = if i % 2 == 0 { &a.api } else { &b.api };
        async move { api.register(&format!("user-{i}")).await }
    });
    futures::future::join_all(registrations).await;

    let mails = sink.wait_for(USERS).await;
    let mut per_recipient: BTreeMap<String, usize> = BTreeMap::new();
    for mail in &mails {
        *per_recipient.entry(mail.to.join(",")).or_default() += 1;
    }
    assert_eq!(per_recipient.len(), USERS, "every user got their email: {per_recipient:?}");
    assert!(per_recipient.values().all(|n| *n == 1), "each once: {per_recipient:?}");
    let ids: std::collections::BTreeSet<&str> =
        mails.iter().map(|m| m.header("message-id")).collect();
    assert_eq!(ids.len(), USERS);
    // The two instances' counts add up to one send per email.
    let mut sent = 0.0;
    for app in [&a, &b] {
        let text = reqwest::get(format!("{}/metrics", app.base)).await.expect("metrics");
        let text = text.text().await.expect("metrics text");
        sent += text
            .lines()
            .find_map(|l| l.strip_prefix("roster_email_sends_total{outcome=\"sent\"}"))
            .map_or(0.0, |v| v.trim().parse::<f64>().expect("a number"));
    }
    assert_eq!(sent, USERS as f64);
}
