//! Queueing email: rendered at once (so a template problem fails the request, not the email
//! hours later), sealed, and written in the caller's transaction.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Message;
use super::templates::Templates;
use crate::crypto::SecretBox;
use crate::error::ApiResult;
use crate::store::Tx;
use crate::store::emails::{self, NewEmail};

/// What is sealed in an outbox row.
#[derive(Serialize, Deserialize)]
pub struct Body {
    pub text: String,
    pub html: String,
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
        let rendered = self.templates.render(message, recipient)?;
        let body = Body {
            text: rendered.text,
            html: rendered.html,
            link: message.link().map(str::to_owned),
        };
        let body = serde_json::to_string(&body).map_err(anyhow::Error::from)?;
        let sealed = self.secret_box.seal(&body)?;
        let email = NewEmail {
            id: Uuid::now_v7(),
            template: message.template(),
            recipient,
            subject: &rendered.subject,
            sealed_body: &sealed,
            created_at: now,
        };
        emails::insert(tx, &email).await?;
        Ok(())
    }

    pub fn open(&self, sealed: &str) -> anyhow::Result<Body> {
        Ok(serde_json::from_str(&self.secret_box.open(sealed)?)?)
    }
}
