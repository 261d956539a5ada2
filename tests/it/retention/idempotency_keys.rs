//! Idempotency keys are pruned once their 24 hours are over; live ones stay.

use std::time::Duration;

use serde_json::json;

use super::until_counts;
use crate::common::{Backend, TestApp};
use crate::idempotency::post;

async fn expired_idempotency_keys_are_pruned(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.prune_interval = Duration::from_millis(200);
        c.access_token_ttl = Duration::from_secs(3 * 24 * 3600);
    })
    .await;
    let owner = app.register("owner").await;
    for key in ["old", "new"] {
        let body = json!({"name": key});
        let made = post(&app, "/api/organizations", Some(&owner.token), Some(key), &body).await;
        assert!(made.status.is_success(), "{}", made.body);
        app.advance(Duration::from_secs(12 * 3600));
    }
    // "old" is 24 hours old, "new" 12: several passes go by.
    app.advance(Duration::from_secs(1));
    until_counts(&app.state.db, &[("idempotency_keys", 1)]).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    until_counts(&app.state.db, &[("idempotency_keys", 1)]).await;
    app.stop().await;
}

on_both_backends!(expired_idempotency_keys_are_pruned);
