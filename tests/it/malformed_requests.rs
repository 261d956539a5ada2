//! Requests the HTTP parser refuses before any route sees them — too many or too large header
//! fields, an overlong URI, a control byte in a header — answer in the API's error shape, over
//! raw TCP since no HTTP client sends them.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{Backend, TestApp};

/// Writes `request` on a fresh connection and reads until the server closes it.
async fn exchange(app: &TestApp, request: &[u8]) -> String {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("request written");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("answer read");
    String::from_utf8(answer).expect("UTF-8 answer")
}

/// The status, lower-cased header lines and JSON body of the last answer in `answers`.
fn last_answer(answers: &str) -> (u16, Vec<String>, Value) {
    let start = answers.rfind("HTTP/1.1 ").expect("an answer");
    let (head, body) = answers[start..].split_once("\r\n\r\n").expect("a head");
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.get(9..12)).and_then(|c| c.parse().ok());
    let headers = lines.map(str::to_ascii_lowercase).collect();
    let body = serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON body: {answers}"));
    (status.expect("status code"), headers, body)
}

fn assert_shaped(answers: &str, status: u16, message: &str) {
    let (got, headers, body) = last_answer(answers);
    assert_eq!(got, status, "{answers}");
    assert!(headers.iter().any(|h| h == "content-type: application/json"), "{answers}");
    assert_eq!(body, json!({"statusCode": status, "message": message}), "{answers}");
}

async fn parser_refusals_have_the_error_shape(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let request = |extra: &str, path: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: roster\r\n{extra}\r\n").into_bytes()
    };

    let many: String = (0..120).map(|i| format!("X-Header-{i}: v\r\n")).collect();
    let answer = exchange(&app, &request(&many, "/api/health")).await;
    assert_shaped(&answer, 431, "Request header fields are too large");

    let large = format!("X-Large: {}\r\n", "a".repeat(512 * 1024));
    let answer = exchange(&app, &request(&large, "/api/health")).await;
    assert_shaped(&answer, 431, "Request header fields are too large");

    let long_uri = format!("/api/health?q={}", "a".repeat(70_000));
    let answer = exchange(&app, &request("", &long_uri)).await;
    assert_shaped(&answer, 414, "URI is too long");

    let malformed = "Malformed request: a header or the request line is invalid";
    let mut control = request("", "/api/health");
    control.splice(control.len() - 2..control.len() - 2, *b"X-Control: a\x01b\r\n");
    let answer = exchange(&app, &control).await;
    assert_shaped(&answer, 400, malformed);

    // After a good answer on the same connection, too.
    let mut both = request("Connection: keep-alive\r\n", "/api/health");
    both.extend_from_slice(&control);
    let answers = exchange(&app, &both).await;
    assert!(answers.starts_with("HTTP/1.1 200 OK\r\n"), "{answers}");
    assert!(answers.contains(r#"{"status":"ok"}"#), "{answers}");
    assert_shaped(&answers, 400, malformed);

    // The server's own answers are untouched.
    let (status, body) = app.get("/api/nothing-here", None).await;
    assert_eq!(
        (status.as_u16(), body["message"].clone()),
        (404, json!("Cannot GET /api/nothing-here"))
    );
    app.stop().await;
}

on_both_backends!(parser_refusals_have_the_error_shape);
