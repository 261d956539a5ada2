//! Builds the server: state (see [`crate::state`]), router, middleware, listener and graceful
//! shutdown. It takes a bound `TcpListener`, so tests bind port 0 and never wait for readiness.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use tokio_util::sync::CancellationToken;

use crate::auth::password::Passwords;
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::SecretBox;
use crate::delivery::metrics::DeliveryMetrics;
use crate::delivery::sender::Sender;
use crate::delivery::worker::{Worker, WorkerSettings};
use crate::email::Outbox;
use crate::email::metrics::EmailMetrics;
use crate::email::templates::Templates;
use crate::email::transport::{self, Transport};
use crate::email::worker::{EmailWorker, EmailWorkerSettings};
use crate::error::ApiError;
use crate::http;
use crate::http::org_writes::WriteTurns;
use crate::metrics::{self, Metrics};
/// Kept at its old path for callers that name it here.
pub use crate::state::AppState;
use crate::store::Backend;
use crate::store::deliveries::HealthRules;

/// A server that is connected to its database and migrated, ready to serve.
pub struct App {
    state: AppState,
    /// Where the email worker sends, until [`Self::serve`] starts it.
    transport: Option<Transport>,
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Clock::system()).await
    }

    /// Like [`Self::build`], reading the time from `clock`, which tests hold and move.
    pub async fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<Self> {
        // The key first: a PostgreSQL start without one fails before touching the database.
        let secret_key = crate::keys::resolve(&config, Backend::from_url(&config.database_url)?)?;
        let db = config.connect_db().await?;
        db.migrate().await?;
        crate::store::db_time::follow(&db, &clock).await?;
        let metrics = Metrics::new()?;
        let delivery_metrics = DeliveryMetrics::register(metrics.registry())?;
        let email_metrics = EmailMetrics::register(metrics.registry())?;
        // Checked now, so that a bad template or relay URL stops the start.
        let templates = Templates::load(config.email.templates.as_deref())?;
        let transport = Transport::from_settings(&config.email)?;
        let secret_box = SecretBox::with_accepted(&secret_key, config.accepted_secret_key.as_ref());
        let outbox =
            Outbox::new(Arc::new(templates), secret_box.clone(), config.email.link_url.clone());
        let limits = &config.server_limits;
        let org_writes =
            Arc::new(WriteTurns::new(limits.org_writes_at_once, limits.org_writes_queued));
        Ok(Self {
            state: AppState {
                db,
                config: Arc::new(config),
                metrics: Arc::new(metrics),
                delivery_metrics: Arc::new(delivery_metrics),
                email_metrics: Arc::new(email_metrics),
                outbox,
                secret_box,
                passwords: Passwords::per_core(),
                clock,
                org_writes,
                compiled_schemas: Arc::default(),
                background: tokio_util::task::TaskTracker::new(),
            },
            transport: Some(transport),
        })
    }

    /// The delivery worker and, on PostgreSQL, the listener that wakes it for commits made by
    /// any instance. Both stop when `stop` is cancelled; the worker finishes its in-flight
    /// attempts first.
    fn spawn_delivery(
        &self,
        stop: CancellationToken,
    ) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        let state = &self.state;
        let config = &state.config;
        let sender = Sender::new(
            state.secret_box.clone(),
            config.webhook_timeout,
            config.webhook_allow_private,
            state.clock.clone(),
            config.webhook_health.retry_after_max,
        )?;
        let worker = Worker {
            db: state.db.clone(),
            sender: Arc::new(sender),
            clock: state.clock.clone(),
            metrics: state.delivery_metrics.clone(),
            settings: WorkerSettings {
                concurrency: config.delivery_limits.concurrency,
                per_webhook: config.delivery_limits.per_webhook,
                per_organization: config.delivery_limits.per_organization,
                batch: 256,
                // Long enough that a live attempt always finishes inside its lease.
                lease: config.webhook_timeout + config.webhook_lease_margin,
                attempt_timeout: config.webhook_timeout,
                poll: config.webhook_poll_interval,
                schedule: config.webhook_retry_schedule.clone(),
                health: HealthRules {
                    deliveries: config.webhook_health.disable_after_deliveries.into(),
                    after: chrono::Duration::from_std(config.webhook_health.disable_after)
                        .unwrap_or(chrono::Duration::MAX),
                },
            },
        };
        if state.db.backend() == Backend::Postgres {
            tokio::spawn(crate::store::announce(state.db.clone(), stop.clone()));
            tokio::spawn(crate::store::listen(state.db.clone(), stop.clone()));
        }
        Ok(tokio::spawn(worker.run(stop)))
    }

    /// The email worker; it stops when `stop` is cancelled, after its sends in flight.
    fn spawn_email(&mut self, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let state = &self.state;
        let settings = &state.config.email;
        let worker = EmailWorker {
            db: state.db.clone(),
            outbox: state.outbox.clone(),
            transport: self.transport.take().unwrap_or(Transport::Log),
            clock: state.clock.clone(),
            metrics: state.email_metrics.clone(),
            settings: EmailWorkerSettings {
                concurrency: 8,
                lease: transport::lease_for(settings),
                timeout: settings.timeout,
                poll: state.config.webhook_poll_interval,
                schedule: settings.retry_schedule.clone(),
            },
        };
        tokio::spawn(worker.run(stop))
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn router(&self) -> Router {
        http::router(&self.state)
            .layer(axum::middleware::from_fn_with_state(self.state.metrics.clone(), metrics::track))
            .layer(DefaultBodyLimit::max(http::extract::MAX_BODY_BYTES))
            .layer(axum::middleware::from_fn_with_state(
                self.state.config.server_limits.body_timeout,
                crate::server::body_deadline::enforce,
            ))
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(TraceLayer::new_for_http())
            .layer(axum::middleware::from_fn(run_to_completion))
            .with_state(self.state.clone())
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests and closes the pool.
    pub async fn serve(
        mut self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = listener.local_addr()?;
        let stop_delivery = CancellationToken::new();
        let delivery = self.spawn_delivery(stop_delivery.clone())?;
        let email = self.spawn_email(stop_delivery.clone());
        let config = &self.state.config;
        let maintenance = tokio::spawn(crate::maintenance::run(
            self.state.db.clone(),
            self.state.clock.clone(),
            config.clone(),
            stop_delivery.clone(),
        ));
        tokio::spawn(crate::store::db_time::keep_following(
            self.state.db.clone(),
            self.state.clock.clone(),
            stop_delivery.clone(),
        ));
        tracing::info!(%addr, backend = ?self.state.db.backend(), "roster listening");
        if self.state.config.public_url.is_none() {
            tracing::warn!(
                "ROSTER_PUBLIC_URL is not set: the OAuth issuer is taken from each request's Host \
                 header; set it in production"
            );
        }
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<tokio::time::Instant>();
        let stopping = stop_delivery.clone();
        let limits = self.state.config.server_limits.clone();
        let server = crate::server::serve(listener, self.router(), limits, async move {
            shutdown.await;
            // Requests and delivery attempts drain side by side, within one grace period.
            stopping.cancel();
            let _ = stopping_tx.send(tokio::time::Instant::now());
        });
        let grace = self.state.config.shutdown_grace;
        let (deadline_tx, deadline_rx) = tokio::sync::watch::channel(None);
        let deadline = async move {
            match stopping_rx.await {
                Ok(started) => {
                    let _ = deadline_tx.send(Some(started + grace));
                    tokio::time::sleep_until(started + grace).await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        // A hung client cannot hold the exit: past the grace period, connections are dropped.
        tokio::select! {
            () = server => {}
            () = deadline => tracing::warn!(?grace, "grace period over; closing open connections"),
        }
        stop_delivery.cancel();
        let until = (*deadline_rx.borrow()).unwrap_or_else(|| tokio::time::Instant::now() + grace);
        if tokio::time::timeout_at(until, delivery).await.is_err() {
            tracing::warn!(
                "delivery attempts still running at exit; their leases will expire and they will be retried"
            );
        }
        if tokio::time::timeout_at(until, email).await.is_err() {
            tracing::warn!(
                "emails still being sent at exit; they will be sent again after their lease"
            );
        }
        // A prune in progress finishes its batch; an unfinished one is simply done next time.
        let _ = tokio::time::timeout_at(until, maintenance).await;
        self.state.background.close();
        if tokio::time::timeout_at(until, self.state.background.wait()).await.is_err() {
            tracing::warn!("work left after some answers was still running at exit");
        }
        self.state.db.close().await;
        tracing::info!("roster stopped");
        Ok(())
    }
}

/// Runs each request in a task of its own, so a client that hangs up cannot cancel its handler
/// midway (hyper drops the connection's future, not the task): a change runs to the end,
/// including the worker wake-up after its commit, and only the answer is lost.
async fn run_to_completion(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(err) => {
            tracing::error!(error = %err, "request task failed");
            panic_response(Box::new(()))
        }
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
