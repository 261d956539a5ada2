//! A real HTTP receiver on 127.0.0.1 for delivery tests. It records every request and answers
//! from a script of responses (status and delay), repeating the last one.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use tokio::net::TcpListener;
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("delivery body is JSON")
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self { status, delay: Duration::ZERO }
    }

    pub fn slow(status: u16, delay: Duration) -> Self {
        Self { status, delay }
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    script: Mutex<Vec<Reply>>,
    /// Headers added to every answer, such as `Retry-After`.
    answer_headers: Mutex<Vec<(String, String)>>,
    arrived: Notify,
}

pub struct Receiver {
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// A receiver answering 200 to everything.
    pub async fn start() -> Self {
        Self::scripted(vec![Reply::status(200)]).await
    }

    /// A receiver answering with `script` in order, then its last reply forever.
    pub async fn scripted(script: Vec<Reply>) -> Self {
        let shared = Arc::new(Shared::default());
        *shared.script.lock().expect("script lock") = script;
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
        let url = format!("http://{}/hook", listener.local_addr().expect("receiver addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, shared, task }
    }

    /// Adds `name: value` to every answer from now on.
    pub fn answer_with_header(&self, name: &str, value: &str) {
        let mut headers = self.shared.answer_headers.lock().expect("headers lock");
        headers.push((name.to_owned(), value.to_owned()));
    }

    /// Replaces the replies still to come.
    pub fn set_script(&self, script: Vec<Reply>) {
        *self.shared.script.lock().expect("script lock") = script;
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("received lock").clone()
    }

    /// Waits until at least `n` requests have arrived; panics after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if tokio::time::timeout(left, notified).await.is_err() {
                panic!("expected {n} deliveries within {timeout:?}, got {}", self.received().len());
            }
        }
    }

    /// Asserts that no more than `n` requests arrive within `window`.
    pub async fn assert_stays_at(&self, n: usize, window: Duration) {
        let _ = tokio::time::timeout(window, async {
            loop {
                let notified = self.shared.arrived.notified();
                if self.received().len() > n {
                    return;
                }
                notified.await;
            }
        })
        .await;
        assert_eq!(self.received().len(), n, "unexpected extra deliveries");
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let reply = {
        let mut script = shared.script.lock().expect("script lock");
        if script.len() > 1 {
            script.remove(0)
        } else {
            script.first().copied().unwrap_or(Reply::status(200))
        }
    };
    shared.received.lock().expect("received lock").push(Received {
        headers,
        body,
        at: Instant::now(),
    });
    shared.arrived.notify_waiters();
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut answer_headers = HeaderMap::new();
    for (name, value) in shared.answer_headers.lock().expect("headers lock").iter() {
        let name = axum::http::HeaderName::from_bytes(name.as_bytes()).expect("header name");
        answer_headers.insert(name, value.parse().expect("header value"));
    }
    (
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK),
        answer_headers,
        "receiver says hi",
    )
}
