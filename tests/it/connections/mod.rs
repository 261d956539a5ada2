//! Slow and numerous clients: each connection is bounded in time (headers, body, idleness)
//! and the server holds a bounded number of them, so a handful of clients that send a byte a
//! second cannot take every socket. These timeouts are hyper's and the kernel's, on real
//! time: the tests shorten them to a second instead of moving the test clock.

mod cap;
mod slow_clients;

use std::time::Duration;

use roster::config::ServerLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{Backend, TestApp};

/// Short limits, so that a test waits a second where production waits ten.
async fn spawn_with_limits(backend: Backend, adjust: impl FnOnce(&mut ServerLimits)) -> TestApp {
    TestApp::spawn_with(backend, |config| {
        config.server_limits = ServerLimits {
            max_connections: 64,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(30),
            ..ServerLimits::default()
        };
        adjust(&mut config.server_limits);
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.base.trim_start_matches("http://");
    TcpStream::connect(addr).await.expect("connected")
}

/// Everything the server sends until it closes the connection, or `None` if it is still
/// open after `patience`.
async fn read_until_closed(stream: &mut TcpStream, patience: Duration) -> Option<String> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(patience, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| String::from_utf8_lossy(&received).into_owned())
}

/// One complete response: its head and body, read by its `content-length`.
async fn read_response(stream: &mut TcpStream) -> (String, String) {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = text[..end].to_owned();
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0usize);
            if received.len() >= end + 4 + length {
                let body = String::from_utf8_lossy(&received[end + 4..end + 4 + length]);
                return (head, body.into_owned());
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("a response within 10 s")
            .expect("read");
        assert!(n > 0, "connection closed mid-response: {text}");
        received.extend_from_slice(&buf[..n]);
    }
}

async fn send(stream: &mut TcpStream, bytes: &str) {
    stream.write_all(bytes.as_bytes()).await.expect("written");
}
