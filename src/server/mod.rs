//! The HTTP listener. `axum::serve` has no timeouts and no connection cap, so one client
//! sending a byte a second, or many keeping idle connections, could hold the server's sockets
//! for ever. Here each connection is served by hyper directly, with:
//! - a cap on open connections: past it, new ones wait in the kernel's accept queue;
//! - a deadline for each request's headers (hyper's header-read timeout);
//! - a deadline for an idle keep-alive connection ([`idle`]);
//! - a deadline for a request's body ([`body_deadline`], a middleware);
//! - hyper's own parse-error answers in the API's error shape ([`shaped_errors`]).

pub mod body_deadline;
mod idle;
mod shaped_errors;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::config::ServerLimits;
use idle::{Activity, Tracked};
use shaped_errors::ShapedErrors;

/// Serves `router` on `listener` until `shutdown` resolves, then waits for open connections
/// to finish their requests (the caller bounds that wait).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let stopping = CancellationToken::new();
    let connections = TaskTracker::new();
    let builder = Arc::new(connection_builder(&limits));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = Connection {
            builder: builder.clone(),
            router: router.clone(),
            idle_timeout: limits.idle_timeout,
            stopping: stopping.clone(),
        };
        connections.spawn(async move {
            connection.serve(stream, peer).await;
            drop(permit);
        });
    }
    drop(listener);
    stopping.cancel();
    connections.close();
    connections.wait().await;
}

/// HTTP/1.1 only: cleartext HTTP/2 has no header timeout to bound a slow client with, and
/// clients reach the server over HTTP/1.1 or through a proxy that speaks it.
fn connection_builder(limits: &ServerLimits) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    builder
}

/// What serving one connection needs.
struct Connection {
    builder: Arc<http1::Builder>,
    router: Router,
    idle_timeout: Duration,
    /// Cancelled when the server stops: the connection finishes its request and closes.
    stopping: CancellationToken,
}

impl Connection {
    async fn serve(self, stream: TcpStream, peer: SocketAddr) {
        let _ = stream.set_nodelay(true);
        let activity = Activity::new();
        let io = TokioIo::new(ShapedErrors::new(Tracked::new(stream, activity.clone())));
        let (router, in_flight) = (self.router, activity.clone());
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            let busy = in_flight.busy();
            async move {
                let response = router.oneshot(request).await;
                drop(busy);
                Ok::<_, Infallible>(match response {
                    Ok(response) => response,
                    Err(never) => match never {},
                })
            }
        });
        let connection = self.builder.serve_connection(io, service);
        tokio::pin!(connection);
        let mut closing = false;
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(%peer, error = %err, "connection ended with an error");
                    }
                    return;
                }
                () = activity.idle_for(self.idle_timeout), if !closing => {
                    tracing::debug!(%peer, "closing an idle connection");
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
                () = self.stopping.cancelled(), if !closing => {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Errors such as running out of file descriptors pass; keep accepting after a pause rather
/// than spinning or exiting.
async fn accept_failed(err: std::io::Error) {
    tracing::warn!(error = %err, "accepting a connection failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}
