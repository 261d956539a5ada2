//! Liveness, readiness and metrics for operators.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use super::views::ErrorBody;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct HealthStatus {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/api/health", tag = "operations",
    responses((status = 200, body = HealthStatus)))]
pub async fn health() -> Json<HealthStatus> {
    Json(HealthStatus { status: "ok" })
}

/// The database answers and takes writes: during a PostgreSQL failover, while there is no
/// primary, this says not ready.
#[utoipa::path(get, path = "/api/ready", tag = "operations",
    responses((status = 200, body = HealthStatus),
              (status = 503, body = ErrorBody,
               description = "Database unreachable, or read-only (no primary)")))]
pub async fn ready(State(state): State<AppState>) -> Result<Json<HealthStatus>, ApiError> {
    let unready = |message: &'static str| ApiError::Unavailable { message, retry_after_secs: 2 };
    match state.db.writable().await {
        Ok(true) => Ok(Json(HealthStatus { status: "ok" })),
        Ok(false) => {
            tracing::warn!("readiness check: the database is read-only");
            Err(unready("Database is read-only: there is no primary to write to"))
        }
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            Err(unready("Database unreachable"))
        }
    }
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    // The backlog is shared by every instance, so it is read from the database.
    let backlog = async {
        let mut conn = state.db.acquire().await?;
        crate::store::deliveries::backlog(&mut conn).await
    }
    .await;
    match backlog {
        Ok((pending, oldest)) => {
            let m = &state.delivery_metrics;
            m.pending.set(pending);
            let age = oldest.map(|t| (state.clock.now() - t).num_milliseconds() as f64 / 1000.0);
            m.oldest_pending_age.set(age.unwrap_or(0.0).max(0.0));
        }
        Err(err) => tracing::warn!(error = %err, "cannot read the delivery backlog for metrics"),
    }
    let emails = async {
        let mut conn = state.db.acquire().await?;
        crate::store::emails::backlog(&mut conn).await
    }
    .await;
    match emails {
        Ok((pending, oldest)) => {
            let m = &state.email_metrics;
            m.pending.set(pending);
            let age = oldest.map(|t| (state.clock.now() - t).num_milliseconds() as f64 / 1000.0);
            m.oldest_pending_age.set(age.unwrap_or(0.0).max(0.0));
        }
        Err(err) => tracing::warn!(error = %err, "cannot read the email backlog for metrics"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}
