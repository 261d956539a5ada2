//! The server holds at most `max_connections` open; the next client waits for a free one.

use std::time::Duration;

use reqwest::StatusCode;

use super::{connect, spawn_with_limits};
use crate::common::Backend;

async fn clients_past_the_cap_wait_for_a_free_connection(backend: Backend) {
    let app = spawn_with_limits(backend, |l| l.max_connections = 2).await;
    let first = connect(&app).await;
    let second = connect(&app).await;
    // Give the server a moment to accept both before the third client arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let fresh = reqwest::Client::new();
    let url = format!("{}/api/health", app.base);
    let waiting = fresh.get(&url).timeout(Duration::from_secs(1)).send().await;
    assert!(
        waiting.as_ref().is_err_and(reqwest::Error::is_timeout),
        "a third connection was served past a cap of two: {waiting:?}"
    );

    drop(first);
    let served = fresh.get(&url).timeout(Duration::from_secs(10)).send().await;
    let served = served.expect("served once a connection is free");
    assert_eq!(served.status(), StatusCode::OK);
    drop(second);
}

on_both_backends!(clients_past_the_cap_wait_for_a_free_connection);
