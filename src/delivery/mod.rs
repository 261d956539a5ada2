//! Webhook delivery: claim due deliveries from the database, sign, send, record the attempt,
//! schedule the retry. See `worker` for the loop and `store::deliveries` for the queue.

pub mod metrics;
pub mod sender;
pub mod signature;
pub mod ssrf;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::store::{Backend, Db};

/// Wakes this instance's worker whenever another instance (or this one) commits deliveries.
/// Reconnects after errors; polling covers any notification lost meanwhile.
pub async fn listen_for_notifications(url: String, wake: Arc<Notify>, stop: CancellationToken) {
    let mut backoff = Duration::from_millis(100);
    while !stop.is_cancelled() {
        let session = async {
            let mut listener = sqlx::postgres::PgListener::connect(&url).await?;
            listener.listen(worker::NOTIFY_CHANNEL).await?;
            // Anything committed while we were not listening is picked up now.
            wake.notify_one();
            loop {
                listener.recv().await?;
                wake.notify_one();
            }
            #[allow(unreachable_code)]
            Ok::<(), sqlx::Error>(())
        };
        tokio::select! {
            result = session => {
                if let Err(err) = result {
                    tracing::warn!(error = %err, "delivery notifications interrupted; reconnecting");
                }
            }
            () = stop.cancelled() => return,
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = stop.cancelled() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

/// Whether `db` can carry notifications between instances.
pub fn has_notifications(db: &Db) -> bool {
    db.backend() == Backend::Postgres
}
