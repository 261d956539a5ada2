//! An email committed but not yet sent when its server is SIGKILLed is sent after restart.

use std::time::Duration;

use super::crash::ChildServer;
use crate::common::smtp::SmtpSink;
use crate::common::tarpit::Tarpit;
use crate::common::{Backend, TestDb};

async fn an_email_mid_send_at_a_kill_is_sent_after_restart(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    // The first server's relay takes the connection and never answers: the email is claimed
    // and its send is in flight when the kill lands.
    let hung = Tarpit::start().await;
    let hung_url = hung.url.replace("http://", "smtp://").replace("/hook", "");
    let env = [("ROSTER_SMTP_URL", hung_url.as_str()), ("ROSTER_EMAIL_TIMEOUT", "1s")];
    let mut first = ChildServer::start_with(&db.url, dir.path(), "first", &env).await;
    let user = first.api.register("ada").await;
    hung.wait_for(1, Duration::from_secs(10)).await;
    first.kill();

    let sink = SmtpSink::start().await;
    let url = sink.url();
    let env = [("ROSTER_SMTP_URL", url.as_str()), ("ROSTER_EMAIL_TIMEOUT", "1s")];
    let _second = ChildServer::start_with(&db.url, dir.path(), "second", &env).await;
    // The dead claim's lease (twice the timeout) runs out, and the email is sent.
    let mail = sink.mail_to(&user.email).await;
    assert_eq!(mail.subject(), "Confirm your email address");
    assert!(mail.link().contains("token=rst_ve_"));
    assert_eq!(sink.received().len(), 1);
}

on_both_backends!(an_email_mid_send_at_a_kill_is_sent_after_restart);
