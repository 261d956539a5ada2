//! The server answers its health and readiness probes.

use reqwest::StatusCode;

use crate::common::{Backend, TestApp};

async fn health_and_ready(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.get("/api/health", None).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (status, _) = app.get("/api/ready", None).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

on_both_backends!(health_and_ready);
