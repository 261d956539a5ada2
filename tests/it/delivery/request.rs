//! The exact body and headers of a delivery and both of its signatures, checked here and by
//! the seed page's own Node `verifySignature`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::json;
use sha2::Sha256;

use super::{WAIT, add_someone, finished, ms, owner_and_org};
use crate::common::receiver::Receiver;
use crate::common::{Backend, TestApp};

/// The seed page's verification function, verbatim.
const SEED_VERIFY_SIGNATURE: &str = r#"const crypto = require('crypto')

function verifySignature(payload, signature, secret) {
  const hmac = crypto.createHmac('sha256', secret)
  const digest = hmac.update(payload).digest('hex')
  return digest === signature
}"#;

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Runs the seed page's `verifySignature` in Node on the delivered body, signature and
/// secret, and on a wrong secret; expects `true false`.
fn seed_node_check(body: &[u8], signature: &str, secret: &str) {
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        if std::env::var_os("CI").is_some() {
            panic!(
                "`node` is not on PATH but CI is set: the seed's verifySignature check must run \
                 in CI; install Node.js"
            );
        }
        eprintln!("notice: `node` is not on PATH; skipping the seed verifySignature check");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let body_file = dir.path().join("body");
    let signature_file = dir.path().join("signature");
    let secret_file = dir.path().join("secret");
    std::fs::write(&body_file, body).expect("write body");
    std::fs::write(&signature_file, signature).expect("write signature");
    std::fs::write(&secret_file, secret).expect("write secret");
    let script = format!(
        "{SEED_VERIFY_SIGNATURE}\n\
         const fs = require('fs')\n\
         const payload = fs.readFileSync(process.env.ROSTER_BODY_FILE, 'utf8')\n\
         const signature = fs.readFileSync(process.env.ROSTER_SIGNATURE_FILE, 'utf8')\n\
         const secret = fs.readFileSync(process.env.ROSTER_SECRET_FILE, 'utf8')\n\
         console.log(verifySignature(payload, signature, secret), \
                     verifySignature(payload, signature, secret + 'x'))\n"
    );
    let out = std::process::Command::new("node")
        .arg("-e")
        .arg(&script)
        .env("ROSTER_BODY_FILE", &body_file)
        .env("ROSTER_SIGNATURE_FILE", &signature_file)
        .env("ROSTER_SECRET_FILE", &secret_file)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "node failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.trim(), "true false", "the seed's verifySignature rejects the delivery");
}

/// A member.added delivery: exact body, every header, both signatures, the seed's check.
async fn body_headers_and_signatures(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let (owner, org) = owner_and_org(&app).await;
    let (hook, secret) = app.create_webhook(&org, &owner, &receiver.url, &["member.added"]).await;
    let before = chrono::Utc::now();
    let bob = add_someone(&app, &org, &owner, "bob").await;

    let got = receiver.wait_for(1, WAIT).await;
    let request = &got[0];
    let body = request.json();

    let (status, org_body) =
        app.get(&format!("/api/organizations/{org}"), Some(&owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{org_body}");
    let timestamp = body["timestamp"].as_str().expect("timestamp").to_owned();
    assert_eq!(
        body,
        json!({
            "event": "member.added",
            "organization": {"id": org, "slug": org_body["slug"], "name": "Acme Corp"},
            "data": {
                "userId": bob.id,
                "email": bob.email,
                "role": "MEMBER",
                "actor": {"type": "user", "id": owner.id},
            },
            "timestamp": timestamp,
        })
    );
    let keys: Vec<&str> = body.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["event", "organization", "data", "timestamp"]);
    let at = chrono::DateTime::parse_from_rfc3339(&timestamp).expect("RFC 3339 timestamp");
    let skew = (at.with_timezone(&chrono::Utc) - before).num_seconds().abs();
    assert!(skew <= 30, "timestamp {timestamp} is not near now");

    assert_eq!(request.header("content-type"), "application/json");
    assert_eq!(
        request.header("user-agent"),
        format!("Roster-Webhooks/{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(request.header("x-webhook-event"), "member.added");
    let id = request.header("webhook-id");
    assert!(!id.is_empty());
    assert_eq!(request.header("x-webhook-delivery"), id);

    // The delivery ID is the one in the delivery log.
    let delivery = finished(&app, &org, &hook, &owner).await;
    assert_eq!(delivery["status"], "succeeded", "{delivery}");
    assert_eq!(delivery["id"], id);
    assert_eq!(delivery["event"], "member.added");

    let ts: i64 = request.header("webhook-timestamp").parse().expect("integer webhook-timestamp");
    assert!((ts - chrono::Utc::now().timestamp()).abs() <= 30, "webhook-timestamp {ts} not now");

    // X-Webhook-Signature: lowercase hex HMAC-SHA256 of the raw body keyed by the whole secret.
    assert!(secret.starts_with("whsec_"));
    let legacy = request.header("x-webhook-signature");
    assert_eq!(legacy, hex::encode(hmac_sha256(secret.as_bytes(), &request.body)));
    assert_eq!(legacy.len(), 64);
    assert!(legacy.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    assert!(roster::delivery::signature::verify_legacy(&secret, &request.body, legacy));

    // webhook-signature: Standard Webhooks v1.
    let key = STANDARD.decode(secret.trim_start_matches("whsec_")).expect("base64 secret");
    let mut signed = format!("{id}.{ts}.").into_bytes();
    signed.extend_from_slice(&request.body);
    let expected = format!("v1,{}", STANDARD.encode(hmac_sha256(&key, &signed)));
    let standard = request.header("webhook-signature");
    assert!(
        standard.split_whitespace().any(|s| s == expected),
        "webhook-signature {standard:?} lacks {expected:?}"
    );
    assert!(roster::delivery::signature::verify_standard(&secret, id, ts, &request.body, standard));

    seed_node_check(&request.body, legacy, &secret);
    receiver.assert_stays_at(1, ms(300)).await;
    app.stop().await;
}

on_both_backends!(body_headers_and_signatures);
