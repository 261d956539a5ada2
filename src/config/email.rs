//! Email: where it is sent from and through, what its links point at, and who must have a
//! verified address.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::values::{RetrySchedule, parse_duration, parse_public_url, parse_schedule};

#[derive(Debug, Clone, Args)]
pub struct EmailArgs {
    /// The SMTP relay, e.g. `smtps://user:pass@smtp.example.com` (TLS from the start),
    /// `smtp://user:pass@smtp.example.com:587?tls=required` (STARTTLS) or
    /// `smtp://localhost:25` (no TLS). Without it, email is written to the log instead of
    /// sent. A password in it is better given through the environment.
    #[arg(long, env = "ROSTER_SMTP_URL", hide_env_values = true, value_parser = parse_smtp_url,
          global = true)]
    pub smtp_url: Option<SmtpUrl>,

    /// The sender of every email, e.g. `Acme <no-reply@acme.example>`.
    #[arg(long, env = "ROSTER_EMAIL_FROM", default_value = "Roster <no-reply@localhost>",
          value_parser = parse_mailbox, global = true)]
    pub email_from: String,

    /// A directory whose files replace the built-in email templates of the same name.
    #[arg(long, env = "ROSTER_EMAIL_TEMPLATES", global = true)]
    pub email_templates: Option<PathBuf>,

    /// Where the links in emails point, e.g. an application's own pages
    /// (`https://app.example.com/account`). Defaults to the console's pages, ROSTER_PUBLIC_URL
    /// followed by /console.
    #[arg(long, env = "ROSTER_EMAIL_LINK_URL", value_parser = parse_public_url, global = true)]
    pub email_link_url: Option<String>,

    /// Delays before each retry of an email the relay could not take.
    #[arg(long, env = "ROSTER_EMAIL_RETRY_SCHEDULE", default_value = "10s,1m,5m,30m,2h,6h",
          value_parser = parse_schedule, global = true)]
    pub email_retry_schedule: RetrySchedule,

    /// Timeout of one SMTP conversation.
    #[arg(long, env = "ROSTER_EMAIL_TIMEOUT", default_value = "30s",
          value_parser = parse_duration, global = true)]
    pub email_timeout: Duration,

    /// Whether an address must be verified before its account can sign in with a password or
    /// accept an invite.
    #[arg(long, env = "ROSTER_REQUIRE_VERIFIED_EMAIL", default_value = "true",
          action = clap::ArgAction::Set, global = true)]
    pub require_verified_email: bool,

    /// Whether creating an invite emails the invitee (a request may still say no).
    #[arg(long, env = "ROSTER_INVITE_EMAILS", default_value = "true",
          action = clap::ArgAction::Set, global = true)]
    pub invite_emails: bool,
}

/// The checked email settings.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    pub smtp_url: Option<SmtpUrl>,
    pub from: String,
    pub templates: Option<PathBuf>,
    /// Links in emails start with this, without a trailing slash.
    pub link_url: String,
    pub retry_schedule: RetrySchedule,
    pub timeout: Duration,
    pub require_verified_email: bool,
    pub invite_emails: bool,
    pub verification_ttl: Duration,
    pub password_reset_ttl: Duration,
    /// Emailed-link requests (password reset, a new verification link) allowed per address
    /// within the sign-in window; a client network may make four times as many.
    pub link_requests_max: i64,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "Roster <no-reply@localhost>".into(),
            templates: None,
            link_url: "http://127.0.0.1:3001".into(),
            retry_schedule: RetrySchedule(
                [10, 60, 300, 1800, 7200, 21600].map(Duration::from_secs).to_vec(),
            ),
            timeout: Duration::from_secs(30),
            require_verified_email: true,
            invite_emails: true,
            verification_ttl: Duration::from_secs(24 * 3600),
            password_reset_ttl: Duration::from_secs(3600),
            link_requests_max: 5,
        }
    }
}

impl EmailArgs {
    /// The settings, with links pointing at `link_url`, else at the console's own pages on
    /// `public_url`, else on `fallback`.
    pub fn into_settings(self, public_url: Option<&str>, fallback: String) -> EmailSettings {
        let link_url = self.email_link_url.unwrap_or_else(|| {
            format!("{}/console", public_url.unwrap_or(&fallback).trim_end_matches('/'))
        });
        EmailSettings {
            smtp_url: self.smtp_url,
            from: self.email_from,
            templates: self.email_templates,
            link_url,
            retry_schedule: self.email_retry_schedule,
            timeout: self.email_timeout,
            require_verified_email: self.require_verified_email,
            invite_emails: self.invite_emails,
            ..EmailSettings::default()
        }
    }
}

/// An SMTP URL; `Debug` hides its credentials.
#[derive(Clone)]
pub struct SmtpUrl(pub String);

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match url::Url::parse(&self.0) {
            Ok(url) => {
                write!(f, "{}://{}:{:?}", url.scheme(), url.host_str().unwrap_or(""), url.port())
            }
            Err(_) => f.write_str("<invalid>"),
        }
    }
}

fn parse_smtp_url(s: &str) -> Result<SmtpUrl, String> {
    let url = url::Url::parse(s.trim()).map_err(|e| format!("invalid SMTP URL: {e}"))?;
    if !matches!(url.scheme(), "smtp" | "smtps") {
        return Err("an SMTP URL starts with smtp:// or smtps://".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("an SMTP URL names a host".into());
    }
    // lettre reads the same URL; checking here turns a typo into a start-up error.
    lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url.as_str())
        .map_err(|e| format!("invalid SMTP URL: {e}"))?;
    Ok(SmtpUrl(url.into()))
}

fn parse_mailbox(s: &str) -> Result<String, String> {
    s.trim()
        .parse::<lettre::message::Mailbox>()
        .map(|_| s.trim().to_owned())
        .map_err(|e| format!("invalid sender address {s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_are_checked_and_their_credentials_hidden() {
        let url = parse_smtp_url("smtps://me:hunter2@smtp.example.com").expect("parses");
        assert!(!format!("{url:?}").contains("hunter2"));
        assert!(parse_smtp_url("smtp://localhost:2525?tls=required").is_ok());
        assert!(parse_smtp_url("http://smtp.example.com").is_err());
        assert!(parse_smtp_url("smtp://").is_err());
    }

    #[test]
    fn senders_must_be_mailboxes() {
        assert!(parse_mailbox("Acme <no-reply@acme.example>").is_ok());
        assert!(parse_mailbox("not an address").is_err());
    }
}
