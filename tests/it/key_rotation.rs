//! Rotating `ROSTER_SECRET_KEY` with real servers and receivers: a server given the new key
//! and the old one accepted reads what the old key sealed, `roster reseal` seals it all again
//! under the new key, and after that the old key can go. No secret is unreadable midway.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::receiver::{Received, Receiver};
use crate::common::{Backend, TestDb, TestUser};
use crate::durability::crash::ChildServer;

const WAIT: Duration = Duration::from_secs(10);

fn key(byte: u8) -> String {
    roster::config::SecretKey([byte; 32]).to_base64()
}

fn reseal(database_url: &str, key: &str, accepted: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
    command.arg("reseal").env("ROSTER_DATABASE_URL", database_url).env("ROSTER_SECRET_KEY", key);
    match accepted {
        Some(accepted) => command.env("ROSTER_SECRET_KEY_ACCEPT", accepted),
        None => command.env_remove("ROSTER_SECRET_KEY_ACCEPT"),
    };
    command.output().expect("roster reseal runs")
}

fn said(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

async fn start(db: &TestDb, dir: &Path, name: &str, env: &[(&str, &str)]) -> ChildServer {
    ChildServer::start_with(&db.url, dir, name, env).await
}

/// Renames the organization and returns what `receiver` gets for it.
async fn rename(
    server: &ChildServer,
    org: &str,
    owner: &TestUser,
    receiver: &Receiver,
    n: usize,
) -> Received {
    let body = json!({"name": format!("Acme {n}")});
    let (status, answer) =
        server.api.patch(&format!("/api/organizations/{org}"), Some(&owner.token), body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    receiver.wait_for(n, WAIT).await.swap_remove(n - 1)
}

fn assert_signed(got: &Received, secret: &str) {
    let signature = got.header("x-webhook-signature");
    assert!(
        roster::delivery::signature::verify_legacy(secret, &got.body, signature),
        "{signature}"
    );
    assert_eq!(got.header("x-tenant"), "acme", "the sealed custom header");
}

async fn the_key_is_rotated_with_every_secret_readable_throughout(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (old, new) = (key(1), key(2));
    let receiver = Receiver::start().await;

    // Under the old key: a webhook with a secret and a custom header, both sealed.
    let server = start(&db, dir.path(), "old", &[("ROSTER_SECRET_KEY", &old)]).await;
    let owner = server.api.register("owner").await;
    let org = server.api.create_org(&owner, "Acme").await;
    let body = json!({"url": receiver.url, "events": ["organization.updated"],
                      "headers": {"X-Tenant": "acme"}});
    let (status, created) = server
        .api
        .post(&format!("/api/organizations/{org}/webhooks"), Some(&owner.token), body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["secret"].as_str().expect("secret").to_owned();
    assert_signed(&rename(&server, &org, &owner, &receiver, 1).await, &secret);
    drop(server);

    // The new key with the old one accepted: what the old key sealed is read.
    let both = [("ROSTER_SECRET_KEY", new.as_str()), ("ROSTER_SECRET_KEY_ACCEPT", old.as_str())];
    let server = start(&db, dir.path(), "rotating", &both).await;
    assert_signed(&rename(&server, &org, &owner, &receiver, 2).await, &secret);

    // Resealing beside the running server: the secret and the header, and nothing unreadable.
    let out = reseal(&db.url, &new, Some(&old));
    assert!(out.status.success(), "{}", said(&out));
    let line = said(&out);
    assert!(line.starts_with("resealed 2, "), "{line}");
    assert!(line.contains("unreadable 0"), "{line}");
    assert_signed(&rename(&server, &org, &owner, &receiver, 3).await, &secret);
    let again = reseal(&db.url, &new, Some(&old));
    assert!(said(&again).starts_with("resealed 0, "), "runs again: {}", said(&again));
    drop(server);

    // The old key is gone: everything still opens.
    let server = start(&db, dir.path(), "new", &[("ROSTER_SECRET_KEY", &new)]).await;
    assert_signed(&rename(&server, &org, &owner, &receiver, 4).await, &secret);
    drop(server);
    let out = reseal(&db.url, &new, None);
    assert!(out.status.success() && said(&out).starts_with("resealed 0, "), "{}", said(&out));

    // A key that sealed none of it says so, and fails.
    let out = reseal(&db.url, &key(3), None);
    assert!(!out.status.success());
    let line = said(&out);
    assert!(line.contains("resealed 0, already under the current key 0, unreadable 2"), "{line}");
    assert!(
        line.contains("open under neither ROSTER_SECRET_KEY nor ROSTER_SECRET_KEY_ACCEPT"),
        "{line}"
    );
}

on_both_backends!(the_key_is_rotated_with_every_secret_readable_throughout);
