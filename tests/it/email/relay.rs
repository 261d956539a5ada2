//! What reaches the relay, and what becomes of what it defers or rejects.

use std::time::Duration;

use super::{app_with_smtp, register_for_mail};
use crate::common::smtp::SmtpSink;
use crate::common::{Backend, TestApp};

async fn metric(app: &TestApp, line_start: &str) -> f64 {
    let res = reqwest::get(format!("{}/metrics", app.base)).await.expect("metrics");
    let text = res.text().await.expect("metrics text");
    text.lines()
        .find_map(|l| l.strip_prefix(line_start).map(|v| v.trim().parse::<f64>().expect("number")))
        .unwrap_or(0.0)
}

async fn a_verification_email_arrives_whole(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    let (user, mail) = register_for_mail(&app, &sink, "ada").await;

    assert_eq!(mail.to, vec![user.email.clone()]);
    assert_eq!(mail.from, "no-reply@roster.test");
    assert_eq!(mail.header("from"), "Roster Test <no-reply@roster.test>");
    assert_eq!(mail.header("to"), user.email);
    assert_eq!(mail.subject(), "Confirm your email address");
    assert!(mail.header("message-id").ends_with("@roster>"), "{:?}", mail.headers);
    assert!(!mail.header("date").is_empty());
    assert!(mail.header("content-type").starts_with("multipart/alternative"));
    assert!(mail.link().starts_with("http://roster.test/verify-email?token=rst_ve_"));
    assert!(mail.text.contains("Hello ada,"));
    assert!(mail.text.contains(&user.email));
    assert!(mail.text.contains("for 24 hours"), "how long the link works: {}", mail.text);
    let html_link = format!("href=\"{}\"", mail.link());
    assert!(mail.html.contains(&html_link), "{}", mail.html);
    assert_eq!(sink.received().len(), 1, "sent once");
    // The send is recorded just after the relay took it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while metric(&app, "roster_email_pending").await > 0.0 {
        assert!(tokio::time::Instant::now() < deadline, "the send is recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(metric(&app, "roster_email_sends_total{outcome=\"sent\"}").await, 1.0);
}

async fn a_deferred_email_is_retried_on_the_schedule(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    // The relay answers 451 to the first try.
    let user = app.register("greylist-ada").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while metric(&app, "roster_email_sends_total{outcome=\"retrying\"}").await < 1.0 {
        assert!(tokio::time::Instant::now() < deadline, "the first attempt is deferred");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(metric(&app, "roster_email_pending").await, 1.0);
    assert!(sink.received().is_empty());
    // The first retry comes 10 s later.
    app.advance(Duration::from_secs(10));
    let mail = sink.mail_to(&user.email).await;
    assert_eq!(mail.subject(), "Confirm your email address");
    // The relay has the mail before the worker records the send.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while metric(&app, "roster_email_sends_total{outcome=\"sent\"}").await < 1.0 {
        assert!(tokio::time::Instant::now() < deadline, "the send is recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(metric(&app, "roster_email_sends_total{outcome=\"sent\"}").await, 1.0);
}

async fn a_rejected_email_fails_and_is_not_retried(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = app_with_smtp(backend, &sink, |_| {}).await;
    app.register("reject-ada").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while metric(&app, "roster_email_sends_total{outcome=\"failed\"}").await < 1.0 {
        assert!(tokio::time::Instant::now() < deadline, "the 550 fails the email");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(metric(&app, "roster_email_pending").await, 0.0);
    app.advance(Duration::from_secs(3600));
    // Another email arriving shows the worker ran on past the rejected one.
    let (_, mail) = register_for_mail(&app, &sink, "grace").await;
    assert_eq!(mail.to, vec!["grace@example.com"]);
    assert_eq!(sink.received().len(), 1);
    assert_eq!(metric(&app, "roster_email_sends_total{outcome=\"failed\"}").await, 1.0);
}

async fn a_relay_that_cannot_be_reached_is_retried(backend: Backend) {
    // Nothing listens here: the try fails to connect, and the email waits for the next.
    let closed = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        probe.local_addr().expect("addr").port()
    };
    let app = TestApp::spawn_with(backend, |c| {
        c.email.smtp_url = Some(roster::config::SmtpUrl(format!("smtp://127.0.0.1:{closed}")));
    })
    .await;
    app.register("ada").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while metric(&app, "roster_email_sends_total{outcome=\"retrying\"}").await < 1.0 {
        assert!(tokio::time::Instant::now() < deadline, "the first attempt fails to connect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(metric(&app, "roster_email_pending").await, 1.0);
    assert_eq!(metric(&app, "roster_email_sends_total{outcome=\"failed\"}").await, 0.0);
}

on_both_backends!(
    a_verification_email_arrives_whole,
    a_deferred_email_is_retried_on_the_schedule,
    a_rejected_email_fails_and_is_not_retried,
    a_relay_that_cannot_be_reached_is_retried,
);
