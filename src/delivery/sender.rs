//! Makes one attempt: signs the stored payload, POSTs it, and describes what happened.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::redirect::Policy;

use super::signature;
use super::ssrf::GuardedResolver;
use crate::clock::Clock;
use crate::crypto::SecretBox;
use crate::domain::webhook_url::{self, Refusal};
use crate::store::deliveries::{AttemptRecord, DueDelivery};

/// The first bytes of a receiver's answer kept in the attempt log.
pub const RESPONSE_EXCERPT_BYTES: usize = 4096;

pub const USER_AGENT: &str = concat!("Roster-Webhooks/", env!("CARGO_PKG_VERSION"));

pub struct Sender {
    client: reqwest::Client,
    secrets: SecretBox,
    allow_private: bool,
    clock: Clock,
}

impl Sender {
    /// One client for every attempt: connections to a receiver are pooled and reused.
    pub fn new(
        secrets: SecretBox,
        timeout: Duration,
        allow_private: bool,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            // A proxy would resolve and connect on our behalf, out of the SSRF guard's sight.
            .no_proxy();
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(GuardedResolver));
        }
        Ok(Self { client: builder.build()?, secrets, allow_private, clock })
    }

    pub async fn attempt(&self, delivery: &DueDelivery) -> AttemptRecord {
        let attempted_at = self.clock.now();
        let started = Instant::now();
        let mut record = AttemptRecord {
            delivery_id: delivery.id,
            lease_id: delivery.lease_id,
            chain_attempts: delivery.chain_attempts,
            total_attempts: delivery.total_attempts,
            attempted_at,
            duration_ms: 0,
            status_code: None,
            error: None,
            response_body: None,
            succeeded: false,
            abandon: false,
        };
        if !delivery.webhook_enabled {
            record.abandon = true;
            record.error = Some("webhook_disabled".into());
            return record;
        }
        let outcome = self.send(delivery, attempted_at.timestamp()).await;
        record.duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        match outcome {
            Ok((status, body)) => {
                record.status_code = Some(status);
                record.succeeded = (200..300).contains(&status);
                record.response_body = Some(body);
            }
            Err(kind) => record.error = Some(kind),
        }
        record
    }

    /// The response's status and first bytes, or the kind of failure.
    async fn send(&self, delivery: &DueDelivery, timestamp: i64) -> Result<(u16, String), String> {
        let url = reqwest::Url::parse(&delivery.url).map_err(|_| "invalid_url".to_owned())?;
        match webhook_url::check(&url, self.allow_private) {
            Ok(()) => {}
            Err(Refusal::Insecure) => return Err("insecure_url".into()),
            Err(Refusal::ForbiddenAddress) => return Err("forbidden_address".into()),
        }
        let headers = self.headers(delivery, timestamp).map_err(|e| {
            tracing::error!(delivery = %delivery.id, error = %e, "cannot sign delivery");
            "signing_failed".to_owned()
        })?;
        let response = self
            .client
            .post(url)
            .headers(headers)
            .body(delivery.payload.clone())
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let status = response.status().as_u16();
        Ok((status, excerpt(response).await))
    }

    fn headers(&self, delivery: &DueDelivery, timestamp: i64) -> anyhow::Result<HeaderMap> {
        let body = delivery.payload.as_bytes();
        let msg_id = delivery.id.to_string();
        let current = self.secrets.open(&delivery.secret_sealed)?;
        let mut standard = signature::standard(&current, &msg_id, timestamp, body);
        if let Some((sealed, until)) = &delivery.previous_secret
            && *until > self.clock.now()
        {
            let previous = self.secrets.open(sealed)?;
            standard.push(' ');
            standard.push_str(&signature::standard(&previous, &msg_id, timestamp, body));
        }
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert("x-webhook-signature", signature::legacy(&current, body).parse()?);
        headers.insert("x-webhook-event", delivery.event_type.parse()?);
        headers.insert("x-webhook-delivery", msg_id.parse()?);
        headers.insert("webhook-id", msg_id.parse()?);
        headers.insert("webhook-timestamp", HeaderValue::from(timestamp));
        headers.insert("webhook-signature", standard.parse()?);
        Ok(headers)
    }
}

fn classify(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        let text = format!("{err:?}");
        if text.contains("forbidden addresses") {
            "forbidden_address"
        } else if text.contains("dns error") || text.contains("failed to lookup") {
            "dns_failure"
        } else if text.contains("certificate") || text.contains("tls") || text.contains("Tls") {
            "tls_failure"
        } else {
            "connection_failed"
        }
    } else if err.is_request() || err.is_body() {
        "request_failed"
    } else {
        "error"
    };
    kind.to_owned()
}

/// Reads at most [`RESPONSE_EXCERPT_BYTES`] of the body and drops the rest.
async fn excerpt(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < RESPONSE_EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(RESPONSE_EXCERPT_BYTES);
    // PostgreSQL text cannot hold NUL; a receiver's answer must never make a record unstorable.
    String::from_utf8_lossy(&bytes).replace('\0', "\u{FFFD}")
}
