//! An endpoint that accepts connections and never answers: what a hung receiver looks like to
//! the sender. It keeps every connection open and counts them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::Notify;

pub struct Tarpit {
    pub url: String,
    accepted: Arc<AtomicUsize>,
    arrived: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Tarpit {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind tarpit");
        let url = format!("http://{}/hook", listener.local_addr().expect("tarpit addr"));
        let (accepted, arrived) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
        let (count, notify) = (accepted.clone(), arrived.clone());
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
                count.fetch_add(1, Ordering::SeqCst);
                notify.notify_waiters();
            }
        });
        Self { url, accepted, arrived, task }
    }

    /// Connections accepted so far: each is one attempt left hanging.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Waits until `n` connections are held; panics after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.arrived.notified();
            if self.accepted() >= n {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if tokio::time::timeout(left, notified).await.is_err() {
                panic!("expected {n} held connections within {timeout:?}, got {}", self.accepted());
            }
        }
    }
}

impl Drop for Tarpit {
    fn drop(&mut self) {
        self.task.abort();
    }
}
