//! `Idempotency-Key` on POSTs: a retry replays the first answer without doing the work again,
//! per credential, for 24 hours; misuse of a key is refused; answers that ask for a retry are
//! not kept; a claim left by a request that never finished is taken over after its lease.

mod in_progress;
mod refusals;
mod replay;
mod retries;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::TestApp;

pub const REPLAYED: &str = "idempotent-replayed";

/// One answer, with its headers.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn replayed(&self) -> bool {
        self.headers.get(REPLAYED).is_some_and(|v| v == "true")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// POSTs `body` to `path` as `token`, with `key` as the `Idempotency-Key` when given.
pub async fn post(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: &Value,
) -> Answer {
    let mut request = app.api.client.post(format!("{}{path}", app.api.base)).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.expect("answered");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body =
        if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON") };
    Answer { status, headers, body }
}

/// Rows of the key table, and of those the ones still in progress.
pub async fn stored_keys(app: &TestApp) -> (i64, i64) {
    let mut conn = app.state.db.acquire().await.expect("connection");
    roster::run!(
        &mut conn,
        fetch_one,
        sqlx::query_as("SELECT COUNT(*), COUNT(*) - COUNT(status) FROM idempotency_keys")
    )
    .expect("count")
}

/// Records `key` as claimed by a request of `token` to `path` with `body` that is still
/// running (or whose instance died), as the server itself would have.
pub async fn leave_claim(app: &TestApp, token: &str, key: &str, path: &str, body: &Value) {
    let credential = hex::encode(Sha256::digest(format!("Bearer {token}").as_bytes()));
    let uri: axum::http::Uri = path.parse().expect("path");
    let bytes = serde_json::to_vec(body).expect("body");
    let digest =
        roster::http::idempotency::key::request_digest(&axum::http::Method::POST, &uri, &bytes);
    let now = app.clock.now();
    let lease = chrono::Duration::from_std(app.state.config.idempotency_lease).expect("lease");
    let mut tx = app.state.db.begin_write().await.expect("transaction");
    roster::run!(
        &mut tx,
        execute,
        sqlx::query(
            "INSERT INTO idempotency_keys (credential_digest, idempotency_key, request_digest, \
               claim_id, locked_until, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(&credential)
        .bind(key)
        .bind(&digest)
        .bind(uuid::Uuid::now_v7())
        .bind(now + lease)
        .bind(now)
        .bind(now + chrono::Duration::hours(24))
    )
    .expect("claim");
    tx.commit().await.expect("commit");
}
