//! Builds the server: state, router, middleware, listener and graceful shutdown. It takes a
//! bound `TcpListener`, so tests bind port 0 and never wait for readiness.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::config::{Config, SecretKey};
use crate::error::ApiError;
use crate::http;
use crate::metrics::{self, Metrics};
use crate::store::Db;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub secret_key: Arc<SecretKey>,
}

/// A server that is connected to its database and migrated, ready to serve.
pub struct App {
    state: AppState,
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = Db::connect(&config.database_url).await?;
        db.migrate().await?;
        let secret_key = crate::keys::resolve(&config, db.backend())?;
        let metrics = Metrics::new()?;
        Ok(Self {
            state: AppState {
                db,
                config: Arc::new(config),
                metrics: Arc::new(metrics),
                secret_key: Arc::new(secret_key),
            },
        })
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn router(&self) -> Router {
        http::router()
            .layer(axum::middleware::from_fn_with_state(self.state.metrics.clone(), metrics::track))
            .layer(DefaultBodyLimit::max(http::extract::MAX_BODY_BYTES))
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(TraceLayer::new_for_http())
            .with_state(self.state.clone())
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests and closes the pool.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = listener.local_addr()?;
        tracing::info!(%addr, backend = ?self.state.db.backend(), "roster listening");
        let service = self.router().into_make_service_with_connect_info::<SocketAddr>();
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let server = axum::serve(listener, service).with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stopping_tx.send(());
        });
        // In-flight requests get a bounded grace period; a hung client cannot hold the exit.
        let grace = self.state.config.shutdown_grace;
        let deadline = async move {
            if stopping_rx.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            result = server => result?,
            () = deadline => tracing::warn!(?grace, "grace period over; closing open connections"),
        }
        self.state.db.close().await;
        tracing::info!("roster stopped");
        Ok(())
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error".into())
        .into_response()
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}
