//! With no relay configured (the default), an email goes to the log: one INFO line with its
//! recipient, subject and link, so every flow can be followed on a developer's machine.

use std::time::{Duration, Instant};

use crate::common::{Backend, TestDb};
use crate::durability::crash::ChildServer;

async fn without_a_relay_the_email_is_logged_with_its_link(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ChildServer::start_with(&db.url, dir.path(), "roster", &[]).await;
    server.api.register("ada").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let log = server.log_text();
        if let Some(line) = log.lines().find(|l| l.contains("no SMTP relay is configured")) {
            break line.to_owned();
        }
        assert!(Instant::now() < deadline, "no email in the log:\n{log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(line.contains("INFO"), "{line}");
    assert!(line.contains("to=ada@example.com"), "{line}");
    assert!(line.contains("subject=Confirm your email address"), "{line}");
    // Links open the console's pages at the listen address when no public or link URL is set.
    let link = format!("link={}/console/verify-email?token=rst_ve_", server.api.base);
    assert!(line.contains(&link), "{line}");
}

on_both_backends!(without_a_relay_the_email_is_logged_with_its_link);
