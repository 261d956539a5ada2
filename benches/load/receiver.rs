//! The webhook receivers on loopback: one that answers 200 at once and records every arrival,
//! and a tarpit that accepts connections and never answers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::Value;
use tokio::sync::Notify;

/// One delivery as it first arrived.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    /// The write that caused it: `n` of the name `w-<n>` (a rename's new name, or a published
    /// tick's), or `None` for any other body.
    pub write: Option<usize>,
    pub at: Instant,
}

#[derive(Default)]
struct Log {
    /// First arrival of each delivery ID.
    first: HashMap<String, Arrival>,
    duplicates: usize,
    /// Requests that carried no delivery ID at all.
    anonymous: usize,
}

#[derive(Default)]
struct Shared {
    log: Mutex<Log>,
    distinct: AtomicUsize,
    arrived: Notify,
}

pub struct Receiver {
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

/// What the receiver saw, taken once the workload has drained.
pub struct Seen {
    pub arrivals: Vec<Arrival>,
    pub duplicates: usize,
    pub anonymous: usize,
}

impl Receiver {
    pub async fn start() -> anyhow::Result<Self> {
        let shared = Arc::new(Shared::default());
        let app = Router::new().fallback(receive).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                eprintln!("receiver stopped: {err}");
            }
        });
        Ok(Self { url, shared, task })
    }

    /// Distinct deliveries so far.
    pub fn distinct(&self) -> usize {
        self.shared.distinct.load(Ordering::SeqCst)
    }

    /// Waits until `expected` distinct deliveries have arrived or `timeout` has passed.
    pub async fn wait_for(&self, expected: usize, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            if self.distinct() >= expected {
                return;
            }
            // Woken by each arrival, and every 100 ms regardless, in case one slipped by
            // between the count and the registration above.
            let step = (tokio::time::Instant::now() + Duration::from_millis(100)).min(deadline);
            let _ = tokio::time::timeout_at(step, notified).await;
            if tokio::time::Instant::now() >= deadline {
                return;
            }
        }
    }

    pub fn seen(&self) -> Seen {
        match self.shared.log.lock() {
            Ok(log) => Seen {
                arrivals: log.first.values().copied().collect(),
                duplicates: log.duplicates,
                anonymous: log.anonymous,
            },
            Err(_) => Seen { arrivals: Vec::new(), duplicates: 0, anonymous: 0 },
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> &'static str {
    let at = Instant::now();
    let id = headers
        .get("x-webhook-delivery")
        .or_else(|| headers.get("webhook-id"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let write = serde_json::from_slice::<Value>(&body).ok().and_then(|json| {
        let renamed = &json["data"]["changes"]["name"]["current"];
        let published = &json["data"]["name"];
        renamed
            .as_str()
            .or_else(|| published.as_str())
            .and_then(|name| name.strip_prefix("w-"))
            .and_then(|n| n.parse().ok())
    });
    if let Ok(mut log) = shared.log.lock() {
        match id {
            None => log.anonymous += 1,
            Some(id) if log.first.contains_key(&id) => log.duplicates += 1,
            Some(id) => {
                log.first.insert(id, Arrival { write, at });
                shared.distinct.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    shared.arrived.notify_waiters();
    "ok"
}

/// Accepts connections and holds them open without reading or answering, so that every
/// attempt sent here lasts until the server's per-attempt timeout.
pub struct Tarpit {
    pub url: String,
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Tarpit {
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                held.push(socket);
            }
        });
        Ok(Self { url, accepted, task })
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Tarpit {
    fn drop(&mut self) {
        self.task.abort();
    }
}
