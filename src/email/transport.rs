//! Where emails go: an SMTP relay, or, with none configured, the log (one INFO line with the
//! recipient, subject and link, so every flow can be followed on a developer's machine).

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, header};
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::outbox::Opened;
use crate::config::EmailSettings;
use crate::store::emails::QueuedEmail;

/// Why an email was not sent.
#[derive(Debug)]
pub enum SendError {
    /// The relay may take it later: a 4xx answer, a timeout, a lost connection.
    Transient(String),
    /// It never will: a 5xx answer, or an address no email can go to.
    Permanent(String),
}

pub enum Transport {
    Smtp { mailer: AsyncSmtpTransport<Tokio1Executor>, from: Mailbox },
    Log,
}

impl Transport {
    pub fn from_settings(settings: &EmailSettings) -> anyhow::Result<Self> {
        let Some(url) = &settings.smtp_url else { return Ok(Transport::Log) };
        let mailer = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url.0)?
            .timeout(Some(settings.timeout))
            .build();
        Ok(Transport::Smtp { mailer, from: settings.from.parse()? })
    }

    /// Sends `email`, whose body is already opened.
    pub async fn send(&self, email: &QueuedEmail, body: Opened) -> Result<(), SendError> {
        match self {
            Transport::Log => {
                tracing::info!(
                    to = %email.recipient,
                    subject = %email.subject,
                    link = %body.link.as_deref().unwrap_or("-"),
                    "email not sent: no SMTP relay is configured (ROSTER_SMTP_URL)"
                );
                Ok(())
            }
            Transport::Smtp { mailer, from } => {
                let to: Mailbox = email
                    .recipient
                    .parse()
                    .map_err(|e| SendError::Permanent(format!("bad recipient: {e}")))?;
                let message = lettre::Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(&email.subject)
                    // The outbox ID: a relay or client can tell a resend after a crash.
                    .message_id(Some(format!("<{}@roster>", email.id)))
                    .header(header::Date::now())
                    .multipart(MultiPart::alternative_plain_html(body.text, body.html))
                    .map_err(|e| SendError::Permanent(format!("cannot build message: {e}")))?;
                mailer.send(message).await.map(drop).map_err(classify)
            }
        }
    }
}

fn classify(err: SmtpError) -> SendError {
    let message = err.to_string();
    if err.is_permanent() { SendError::Permanent(message) } else { SendError::Transient(message) }
}

/// How long a claim on an email lasts: its whole send is bounded by the timeout, and as long
/// again covers recording the result.
pub fn lease_for(settings: &EmailSettings) -> Duration {
    settings.timeout * 2
}
