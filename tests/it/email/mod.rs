//! Email over a real SMTP server on loopback, on both backends: what arrives (recipient,
//! sender, subject, headers, both parts, the link), retries of what the relay defers, failure
//! of what it rejects, and the account flows that run through emailed links.

mod email_change;
mod invites;
mod log;
mod password_reset;
mod relay;
mod scale_out;
mod verification;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::smtp::{Mail, SmtpSink};
use crate::common::{Backend, TestApp, TestUser};

/// A server that sends through `sink`, with `adjust` applied to its configuration.
pub(crate) async fn app_with_smtp(
    backend: Backend,
    sink: &SmtpSink,
    adjust: impl FnOnce(&mut roster::config::Config),
) -> TestApp {
    let url = sink.url();
    TestApp::spawn_with(backend, move |c| {
        c.email.smtp_url = Some(roster::config::SmtpUrl(url));
        c.email.from = "Roster Test <no-reply@roster.test>".into();
        adjust(c);
    })
    .await
}

/// Registers `name` and returns the user and the verification email sent to them.
pub(crate) async fn register_for_mail(
    app: &TestApp,
    sink: &SmtpSink,
    name: &str,
) -> (TestUser, Mail) {
    let user = app.register(name).await;
    let mail = sink.mail_to(&user.email).await;
    (user, mail)
}

async fn verify(app: &TestApp, token: &str) -> (StatusCode, serde_json::Value) {
    app.post("/api/auth/verify-email", None, json!({"token": token})).await
}

/// How many emails to `to` the outbox holds, sent or not, once the links asked for have been
/// queued (that happens after the answer).
async fn queued_to(app: &TestApp, to: &str) -> i64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !app.state.background.is_empty() {
        assert!(std::time::Instant::now() < deadline, "work after the answer finishes");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let mut conn = app.state.db.acquire().await.expect("connection");
    let (n,): (i64,) = roster::run!(
        &mut conn,
        fetch_one,
        sqlx::query_as("SELECT COUNT(*) FROM emails WHERE recipient = $1").bind(to)
    )
    .expect("count");
    n
}
