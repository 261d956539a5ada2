//! Headers, bodies and idle keep-alive connections each have a deadline.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use super::{connect, read_response, read_until_closed, send, spawn_with_limits};
use crate::common::{Backend, PASSWORD, TestApp};

const GET_HEALTH: &str = "GET /api/health HTTP/1.1\r\nHost: roster\r\n\r\n";

async fn a_silent_connection_is_closed_after_the_header_timeout(backend: Backend) {
    let app = spawn_with_limits(backend, |l| l.header_timeout = Duration::from_secs(1)).await;
    let mut stream = connect(&app).await;
    let closed = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(closed.is_some(), "a connection that sent nothing was still open after 10 s");
    assert_still_serving(&app).await;
}

async fn headers_sent_a_byte_at_a_time_are_cut_off(backend: Backend) {
    let app = spawn_with_limits(backend, |l| l.header_timeout = Duration::from_secs(1)).await;
    let stream = connect(&app).await;
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        let request =
            "GET /api/health HTTP/1.1\r\nHost: roster\r\nX-Slow: ".to_owned() + &"a".repeat(100);
        for byte in request.bytes() {
            if writer.write_all(&[byte]).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    });
    let closed = tokio::time::timeout(Duration::from_secs(8), async {
        let mut buf = [0u8; 256];
        loop {
            match tokio::io::AsyncReadExt::read(&mut reader, &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    trickle.abort();
    assert!(closed.is_ok(), "headers trickling in for 8 s were still being read");
}

async fn an_idle_keep_alive_connection_is_closed(backend: Backend) {
    let app = spawn_with_limits(backend, |l| l.idle_timeout = Duration::from_secs(1)).await;
    let mut stream = connect(&app).await;
    for _ in 0..2 {
        send(&mut stream, GET_HEALTH).await;
        let (head, _) = read_response(&mut stream).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
    let rest = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert_eq!(rest.as_deref(), Some(""), "an idle connection was still open after 10 s");
}

async fn a_body_that_does_not_arrive_in_time_gets_a_408(backend: Backend) {
    let app = spawn_with_limits(backend, |l| l.body_timeout = Duration::from_secs(1)).await;
    let mut stream = connect(&app).await;
    send(
        &mut stream,
        "POST /api/auth/login HTTP/1.1\r\nHost: roster\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{\"email\":",
    )
    .await;
    let (head, body) = read_response(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
    let body: Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(body, json!({"statusCode": 408, "message": "Request body must arrive within 1s"}));
    let rest = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(rest.is_some(), "the connection stayed open with half a body unread");
}

async fn a_body_that_arrives_in_time_is_served(backend: Backend) {
    let app = spawn_with_limits(backend, |l| l.body_timeout = Duration::from_secs(5)).await;
    let user = app.register("slow").await;
    let login = json!({"email": user.email, "password": PASSWORD}).to_string();
    let (first, second) = login.split_at(10);
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: roster\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        login.len()
    );
    send(&mut stream, &(head + first)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    send(&mut stream, second).await;
    let (head, body) = read_response(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}\n{body}");
}

/// The server still answers others once a slow client is dealt with.
async fn assert_still_serving(app: &TestApp) {
    let (status, body) = app.get("/api/health", None).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
}

on_both_backends!(
    a_silent_connection_is_closed_after_the_header_timeout,
    headers_sent_a_byte_at_a_time_are_cut_off,
    an_idle_keep_alive_connection_is_closed,
    a_body_that_does_not_arrive_in_time_gets_a_408,
    a_body_that_arrives_in_time_is_served,
);
