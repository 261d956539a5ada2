//! Tools for people building a webhook receiver: `roster listen`, a local receiver that checks
//! both signatures and prints each delivery, and `roster verify`, which checks one signature.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use crate::delivery::signature;

/// Signatures older or newer than this are refused, as Standard Webhooks recommends.
const TOLERANCE_SECS: i64 = 5 * 60;

#[derive(Debug, PartialEq, Eq)]
pub struct Verdict {
    /// `X-Webhook-Signature` matched.
    pub legacy: bool,
    /// `webhook-signature` matched within the timestamp tolerance.
    pub standard: bool,
}

impl Verdict {
    pub fn valid(&self) -> bool {
        self.legacy && self.standard
    }
}

/// Checks a delivery's two signatures against `secret`.
pub fn check(secret: &str, headers: &HeaderMap, body: &[u8], now: i64) -> Verdict {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let legacy = signature::verify_legacy(secret, body, get("x-webhook-signature"));
    let standard = get("webhook-timestamp")
        .parse::<i64>()
        .ok()
        .filter(|ts| (now - ts).abs() <= TOLERANCE_SECS)
        .is_some_and(|ts| {
            signature::verify_standard(
                secret,
                get("webhook-id"),
                ts,
                body,
                get("webhook-signature"),
            )
        });
    Verdict { legacy, standard }
}

/// Serves on 127.0.0.1:`port` until interrupted, printing each delivery.
pub async fn listen(
    secret: String,
    port: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!(
        "Listening on http://{}/ — point a webhook here (with ROSTER_WEBHOOK_ALLOW_PRIVATE=true).",
        listener.local_addr()?
    );
    let app = Router::new().fallback(receive).with_state(Arc::new(secret));
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    Ok(())
}

async fn receive(State(secret): State<Arc<String>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let verdict = check(&secret, &headers, &body, chrono::Utc::now().timestamp());
    let get =
        |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
    let mark = |ok: bool| if ok { "valid" } else { "INVALID" };
    println!(
        "{} delivery {}  X-Webhook-Signature: {}  webhook-signature: {}",
        get("x-webhook-event"),
        get("x-webhook-delivery"),
        mark(verdict.legacy),
        mark(verdict.standard),
    );
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(json) => println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default()),
        Err(_) => println!("{}", String::from_utf8_lossy(&body)),
    }
    if verdict.valid() { StatusCode::OK } else { StatusCode::UNAUTHORIZED }
}

/// Reads a body from stdin and checks `signature` (hex `X-Webhook-Signature`, or a
/// `v1,…` `webhook-signature` with its `id` and `timestamp`). Returns whether it matches.
pub fn verify(
    secret: &str,
    signature_value: &str,
    id: Option<&str>,
    timestamp: Option<i64>,
) -> anyhow::Result<bool> {
    let mut body = Vec::new();
    std::io::stdin().read_to_end(&mut body)?;
    if signature_value.trim_start().starts_with("v1,") {
        let (Some(id), Some(ts)) = (id, timestamp) else {
            anyhow::bail!(
                "a v1,… signature needs --id and --timestamp (the webhook-id and webhook-timestamp headers)"
            );
        };
        Ok(signature::verify_standard(secret, id, ts, &body, signature_value))
    } else {
        Ok(signature::verify_legacy(secret, &body, signature_value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_both_signatures_and_the_clock() {
        let secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
        let body = br#"{"event":"member.added"}"#;
        let mut headers = HeaderMap::new();
        headers.insert("x-webhook-signature", signature::legacy(secret, body).parse().expect("hv"));
        headers.insert("webhook-id", "d1".parse().expect("hv"));
        headers.insert("webhook-timestamp", "1000".parse().expect("hv"));
        headers.insert(
            "webhook-signature",
            signature::standard(secret, "d1", 1000, body).parse().expect("hv"),
        );
        assert!(check(secret, &headers, body, 1000).valid());
        assert_eq!(
            check(secret, &headers, body, 1000 + 3600),
            Verdict { legacy: true, standard: false }
        );
        assert_eq!(
            check("whsec_b3RoZXI=", &headers, body, 1000),
            Verdict { legacy: false, standard: false }
        );
        assert!(!check(secret, &headers, b"tampered", 1000).legacy);
    }
}
