//! Makes one attempt: signs the stored payload, POSTs it, and describes what happened.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::redirect::Policy;

use super::signature;
use super::ssrf::GuardedResolver;
use crate::clock::Clock;
use crate::crypto::SecretBox;
use crate::domain::retry;
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
    retry_after_max: Duration,
}

impl Sender {
    /// One client for every attempt: connections to a receiver are pooled and reused.
    pub fn new(
        secrets: SecretBox,
        timeout: Duration,
        allow_private: bool,
        clock: Clock,
        retry_after_max: Duration,
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
        Ok(Self { client: builder.build()?, secrets, allow_private, clock, retry_after_max })
    }

    pub async fn attempt(&self, delivery: &DueDelivery) -> AttemptRecord {
        let attempted_at = self.clock.now();
        let started = Instant::now();
        let mut record = AttemptRecord {
            delivery_id: delivery.id,
            lease_id: delivery.lease_id,
            webhook_id: delivery.webhook_id,
            event_id: delivery.event_id,
            event_type: delivery.event_type.clone(),
            chain_attempts: delivery.chain_attempts,
            total_attempts: delivery.total_attempts,
            attempted_at,
            duration_ms: 0,
            status_code: None,
            error: None,
            response_body: None,
            succeeded: false,
            abandon: false,
            retry_after: None,
        };
        if !delivery.webhook_enabled {
            record.abandon = true;
            record.error = Some("webhook_disabled".into());
            return record;
        }
        let outcome = self.send(delivery, attempted_at.timestamp()).await;
        record.duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        match outcome {
            Ok(Answer { status, body, retry_after }) => {
                record.status_code = Some(status);
                record.retry_after = retry_after;
                record.succeeded = (200..300).contains(&status);
                record.response_body = Some(body);
            }
            Err(kind) => record.error = Some(kind),
        }
        record
    }

    /// The response's status and first bytes, or the kind of failure.
    async fn send(&self, delivery: &DueDelivery, timestamp: i64) -> Result<Answer, String> {
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
        // Only a receiver that is overloaded or down for a while may ask for a later retry.
        let retry_after = if matches!(status, 429 | 503) {
            let value = response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok());
            value.and_then(|v| retry::retry_after(v, self.clock.now(), self.retry_after_max))
        } else {
            None
        };
        Ok(Answer { status, body: excerpt(response).await, retry_after })
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
        let mut headers = self.custom_headers(delivery)?;
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

impl Sender {
    /// The webhook's own headers, which the API checked when they were set; Roster's are
    /// inserted after them and would win. Their values are never logged.
    fn custom_headers(&self, delivery: &DueDelivery) -> anyhow::Result<HeaderMap> {
        let mut headers = HeaderMap::new();
        let Some(sealed) = &delivery.headers_sealed else { return Ok(headers) };
        let map: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&self.secrets.open(sealed)?)?;
        for (name, value) in map {
            headers
                .append(HeaderName::from_bytes(name.as_bytes())?, HeaderValue::from_str(&value)?);
        }
        Ok(headers)
    }
}

/// What a receiver answered.
struct Answer {
    status: u16,
    body: String,
    retry_after: Option<Duration>,
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
