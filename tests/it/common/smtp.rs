//! A real SMTP server on loopback (aiosmtpd, `tests/support/smtp_sink.py`), one per test, and
//! what it received. It refuses recipients named `reject…` with 550 and greylists those named
//! `greylist…` with 451 once. `ROSTER_TEST_PYTHON` names the Python with aiosmtpd (by default
//! Debian's, where `python3-aiosmtpd` installs it).

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Notify;

#[derive(Debug, Clone, Deserialize)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// Lowercase names.
    pub headers: HashMap<String, String>,
    pub text: String,
    pub html: String,
}

impl Mail {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    pub fn subject(&self) -> &str {
        self.header("subject")
    }

    /// The first link in the text part.
    pub fn link(&self) -> &str {
        let start = self.text.find("http").unwrap_or_else(|| panic!("no link in {}", self.text));
        let rest = &self.text[start..];
        &rest[..rest.find(char::is_whitespace).unwrap_or(rest.len())]
    }

    /// The token the link carries.
    pub fn token(&self) -> String {
        let url = url::Url::parse(self.link()).expect("the link is a URL");
        url.query_pairs().find(|(k, _)| k == "token").expect("a token in the link").1.into_owned()
    }
}

pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<Mail>>>,
    arrived: Arc<Notify>,
    _child: Child,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let python =
            std::env::var("ROSTER_TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
        let mut child = Command::new(&python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {python} {script}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the SMTP server starts within 20 s (is python3-aiosmtpd installed?)")
            .expect("reads the SMTP server's output")
            .expect("the SMTP server says its port (is python3-aiosmtpd installed?)");
        let port = serde_json::from_str::<serde_json::Value>(&first).expect("JSON")["port"]
            .as_u64()
            .expect("a port") as u16;
        let received = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let (sink, notify) = (received.clone(), arrived.clone());
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let mail: Mail = serde_json::from_str(&line).expect("a received mail");
                sink.lock().expect("lock").push(mail);
                notify.notify_waiters();
            }
        });
        Self { port, received, arrived, _child: child }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Mail> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits up to 10 s for `n` mails to have arrived in all; returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        self.wait_until(|mails| mails.len() >= n).await
    }

    /// Waits up to 10 s for a mail to `to`; returns the last one.
    pub async fn mail_to(&self, to: &str) -> Mail {
        let is_to = |m: &Mail| m.to.iter().any(|r| r.eq_ignore_ascii_case(to));
        let mails = self.wait_until(|m| m.iter().any(is_to)).await;
        mails.into_iter().rfind(is_to).expect("a mail")
    }

    async fn wait_until(&self, done: impl Fn(&[Mail]) -> bool) -> Vec<Mail> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let arrived = self.arrived.notified();
            let mails = self.received();
            if done(&mails) {
                return mails;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("the expected mail did not arrive within 10 s; received: {mails:#?}");
            }
        }
    }
}
