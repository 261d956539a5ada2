//! Queueing email: what its templates will see is sealed and written in the caller's
//! transaction, with its subject; the worker renders the bodies when it sends. Every template
//! was test-rendered at start, so none fails later for want of a value.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Message;
use super::templates::{Context, Templates, context_of};
use crate::crypto::SecretBox;
use crate::error::ApiResult;
use crate::store::Tx;
use crate::store::emails::{self, NewEmail};

/// What is sealed in an outbox row.
#[derive(Serialize, Deserialize)]
pub struct Body {
    /// What the templates see.
    pub context: Context,
    /// The email's link, for the log when no relay is configured.
    pub link: Option<String>,
}

#[derive(Clone)]
pub struct Outbox {
    templates: Arc<Templates>,
    secret_box: SecretBox,
    link_url: String,
}

impl Outbox {
    pub fn new(templates: Arc<Templates>, secret_box: SecretBox, link_url: String) -> Self {
        Self { templates, secret_box, link_url: link_url.trim_end_matches('/').to_owned() }
    }

    /// A link into the account pages: `path` under the configured link URL, with `token`.
    pub fn link(&self, path: &str, token: &str) -> String {
        format!("{}/{path}?token={token}", self.link_url)
    }

    /// Writes `message` to `recipient` into the outbox, to be sent once `tx` commits.
    pub async fn queue(
        &self,
        tx: &mut Tx,
        recipient: &str,
        message: &Message,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let context = context_of(message, recipient);
        let subject = self.templates.subject(message.template(), &context)?;
        let body = Body { context, link: message.link().map(str::to_owned) };
        let body = serde_json::to_string(&body).map_err(anyhow::Error::from)?;
        let sealed = self.secret_box.seal(&body)?;
        let email = NewEmail {
            id: Uuid::now_v7(),
            template: message.template(),
            recipient,
            subject: &subject,
            sealed_body: &sealed,
            created_at: now,
        };
        emails::insert(tx, &email).await?;
        Ok(())
    }

    /// An outbox row's sealed part, opened: its text and HTML bodies, and its link.
    pub fn open(&self, template: &str, sealed: &str) -> anyhow::Result<Opened> {
        let body: Body = serde_json::from_str(&self.secret_box.open(sealed)?)?;
        let (text, html) = self.templates.bodies(template, &body.context)?;
        Ok(Opened { text, html, link: body.link })
    }
}

/// An email ready to send.
pub struct Opened {
    pub text: String,
    pub html: String,
    pub link: Option<String>,
}
