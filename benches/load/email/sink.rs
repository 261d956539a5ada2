//! SMTP relays on loopback for the server to send to. [`SmtpSink::start`] takes every message
//! and keeps none: 220 on connect, 250 to EHLO, MAIL, RCPT and anything else, 354 to DATA and
//! 250 after its final `.`, 221 to QUIT. [`SmtpSink::silent`] accepts and never answers, so
//! the server's sends hang until the relay is dropped, which closes every connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

pub struct SmtpSink {
    /// `smtp://127.0.0.1:PORT`, plain SMTP (no TLS), for `ROSTER_SMTP_URL`.
    pub url: String,
    counts: Arc<Counts>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Counts {
    connections: AtomicUsize,
    messages: AtomicUsize,
}

impl SmtpSink {
    pub async fn start() -> anyhow::Result<Self> {
        Self::listen(true).await
    }

    pub async fn silent() -> anyhow::Result<Self> {
        Self::listen(false).await
    }

    async fn listen(answer: bool) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("smtp://{}", listener.local_addr()?);
        let counts = Arc::new(Counts::default());
        let shared = counts.clone();
        let task = tokio::spawn(async move {
            // Dropped with the accepting task, closing every conversation.
            let mut conversations = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                shared.connections.fetch_add(1, Ordering::Relaxed);
                let counts = shared.clone();
                // A conversation cut short is the client's business, not the figures'.
                conversations.spawn(async move {
                    let _ =
                        if answer { converse(stream, &counts).await } else { hold(stream).await };
                });
            }
        });
        Ok(Self { url, counts, task })
    }

    /// Messages taken so far (each acknowledged after its DATA).
    pub fn received(&self) -> usize {
        self.counts.messages.load(Ordering::Relaxed)
    }

    pub fn connections(&self) -> usize {
        self.counts.connections.load(Ordering::Relaxed)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn hold(mut stream: TcpStream) -> std::io::Result<()> {
    tokio::io::copy(&mut stream, &mut tokio::io::sink()).await.map(drop)
}

async fn converse(stream: TcpStream, counts: &Counts) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut line = Vec::new();
    write.write_all(b"220 sink ESMTP\r\n").await?;
    // Raw bytes, not text: a body need not be UTF-8.
    while read.read_until(b'\n', &mut line).await? > 0 {
        let answer: &[u8] = match line.get(..4).unwrap_or(&line).to_ascii_uppercase().as_slice() {
            b"DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                loop {
                    line.clear();
                    if read.read_until(b'\n', &mut line).await? == 0 {
                        return Ok(());
                    }
                    if line.trim_ascii_end() == b"." {
                        break;
                    }
                }
                counts.messages.fetch_add(1, Ordering::Relaxed);
                b"250 queued\r\n"
            }
            b"QUIT" => return write.write_all(b"221 bye\r\n").await,
            _ => b"250 ok\r\n",
        };
        write.write_all(answer).await?;
        line.clear();
    }
    Ok(())
}
