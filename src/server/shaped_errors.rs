//! The answers hyper gives by itself, in the API's shape.
//!
//! hyper answers a request it cannot parse — too many or too large header fields (431), a URI
//! over 64 KiB (414), a control byte in a header or a malformed request line (400) — before
//! any router sees it, with an empty body, and offers no hook to change that. So every
//! connection's writes pass through [`ShapedErrors`], which recognises exactly that answer
//! (status 400, 414 or 431, `content-length: 0`, `connection: close`, nothing else) and sends
//! it with the API's `{statusCode, message}` body instead. Roster's own error answers always
//! have a body, so none of them can be mistaken for it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::http::StatusCode;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection whose parse-error answers from hyper carry the API's error body.
pub struct ShapedErrors<T> {
    inner: T,
    /// The rest of a rewritten answer, written before anything else.
    pending: Vec<u8>,
}

impl<T> ShapedErrors<T> {
    pub fn new(inner: T) -> Self {
        Self { inner, pending: Vec::new() }
    }
}

impl<T: AsyncWrite + Unpin> ShapedErrors<T> {
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let written = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending.drain(..written);
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ShapedErrors<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ShapedErrors<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if let Some(answer) = shaped(buf) {
            self.pending = answer;
            // What cannot be written now goes out on the flush that follows.
            if let Poll::Ready(Err(err)) = self.poll_pending(cx) {
                return Poll::Ready(Err(err));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    /// No vectored writes: hyper then hands over each answer's head in one buffer, which is
    /// what [`shaped`] needs to see.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// hyper's own parse-error answer, with the API's body; `None` for anything else.
fn shaped(written: &[u8]) -> Option<Vec<u8>> {
    let head = std::str::from_utf8(written).ok()?.strip_suffix("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?.strip_prefix("HTTP/1.1 ")?;
    let status = StatusCode::from_bytes(status_line.get(..3)?.as_bytes()).ok()?;
    let message = match status {
        StatusCode::BAD_REQUEST => "Malformed request: a header or the request line is invalid",
        StatusCode::URI_TOO_LONG => "URI is too long",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "Request header fields are too large",
        _ => return None,
    };
    let (mut empty, mut closes, mut date) = (false, false, None);
    for line in lines {
        let (name, value) = line.split_once(": ")?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" if value == "0" => empty = true,
            "connection" if value.eq_ignore_ascii_case("close") => closes = true,
            "date" => date = Some(line),
            _ => return None,
        }
    }
    if !(empty && closes) {
        return None;
    }
    let body = crate::error::body(status, json!(message)).to_string();
    let date = date.map(|d| format!("{d}\r\n")).unwrap_or_default();
    Some(
        format!(
            "HTTP/1.1 {status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n{date}\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::shaped;

    #[test]
    fn only_hypers_empty_parse_error_answers_are_reshaped() {
        let hyper = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\n\
                      content-length: 0\r\ndate: Tue, 01 Dec 2026 12:00:00 GMT\r\n\r\n";
        let answer = String::from_utf8(shaped(hyper).expect("reshaped")).expect("text");
        let body = r#"{"statusCode":431,"message":"Request header fields are too large"}"#;
        assert_eq!(
            answer,
            format!(
                "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\ndate: Tue, 01 Dec 2026 12:00:00 GMT\
                 \r\n\r\n{body}",
                body.len()
            )
        );
        // Anything with a body, another status, or other headers is left alone.
        for other in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}"[..],
            b"HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\nx-a: b\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
        ] {
            assert!(shaped(other).is_none(), "{}", String::from_utf8_lossy(other));
        }
    }
}
