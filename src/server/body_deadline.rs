//! A request's body must arrive within a deadline. hyper and tower-http only time out the
//! gap between two chunks, which a client sending a byte a second never exceeds; here the
//! body is read whole, up to one byte past the largest accepted, before the handler runs.
//! What is too large is left to the extractors, which answer 413 in their own shape.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;

use crate::error::ApiError;
use crate::http::extract::MAX_BODY_BYTES;

/// Buffers the request body within `timeout`; answers 408 when it does not arrive in time.
pub async fn enforce(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(timeout, read_capped(body)).await {
        Ok(Ok(bytes)) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Ok(Err(_)) => ApiError::bad_request("Request body could not be read").into_response(),
        Err(_) => {
            let mut response = ApiError::Status(
                StatusCode::REQUEST_TIMEOUT,
                format!("Request body must arrive within {}", humantime::format_duration(timeout)),
            )
            .into_response();
            // The rest of the body is never read: the connection cannot carry another request.
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            response
        }
    }
}

/// The body, or its first `MAX_BODY_BYTES + 1` bytes when it is longer.
async fn read_capped(mut body: Body) -> Result<Bytes, axum::Error> {
    let mut buffer = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            buffer.extend_from_slice(&data);
            if buffer.len() > MAX_BODY_BYTES {
                buffer.truncate(MAX_BODY_BYTES + 1);
                break;
            }
        }
    }
    Ok(Bytes::from(buffer))
}
