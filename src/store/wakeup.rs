//! Waking the delivery and email workers when work is queued. A transaction that queued work wakes this
//! process's worker when it commits, and on PostgreSQL every instance's worker through
//! `LISTEN/NOTIFY`. Wake-ups are an optimisation only: workers also poll.
//!
//! The NOTIFY is sent after the commit, by one task, never inside the transaction: PostgreSQL
//! serialises the commits of notifying transactions under one database-wide lock, held
//! through each one's WAL flush, which would make every write queue behind every other and
//! defeat group commit. Commits that land while a NOTIFY is on its way share the next one.

use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::Db;
use crate::run;

/// The PostgreSQL channel a commit that queued deliveries notifies. Email sends no NOTIFY: a
/// commit wakes its own instance's email worker, which sends at once, and the other instances
/// find what a dead one left at their next poll. Each NOTIFY costs a commit under a
/// database-wide lock, which the request that queued the email would pay for.
pub const NOTIFY_CHANNEL: &str = "roster_deliveries";

/// This process's wake-up signals: for its worker, and from it.
#[derive(Debug, Default)]
pub struct Wakeups {
    pub(super) local: Notify,
    /// The email worker's, raised by commits that queued email.
    pub(super) emails: Notify,
    /// Raised by commits that queued work, for [`announce`] to tell the other instances.
    pub(super) peers: Notify,
    /// Raised each time the worker has recorded a batch of attempts.
    recorded: Notify,
}

impl Wakeups {
    /// Wakes the worker (or its next wait, if it is busy).
    pub fn wake(&self) {
        self.local.notify_one();
    }

    /// Resolves at the next wake-up.
    pub async fn woken(&self) {
        self.local.notified().await;
    }

    /// Resolves at the email worker's next wake-up.
    pub async fn emails_woken(&self) {
        self.emails.notified().await;
    }

    /// Says that attempts were recorded, to whoever waits for the queue to drain.
    pub fn recorded(&self) {
        self.recorded.notify_waiters();
    }

    /// Resolves the next time attempts are recorded after this call (even if it is polled
    /// only later).
    pub fn next_record(&self) -> tokio::sync::futures::Notified<'_> {
        self.recorded.notified()
    }
}

/// Tells every instance's worker, through `NOTIFY`, about work this process's commits
/// queued: once per burst of commits, until `stop`. A failed notification is only logged:
/// the workers' polls find the work anyway.
pub async fn announce(db: Db, stop: CancellationToken) {
    let wakeups = db.wakeups();
    loop {
        tokio::select! {
            () = wakeups.peers.notified() => {}
            () = stop.cancelled() => return,
        }
        // A transaction of its own: a notification is sent when its transaction commits.
        let sent = async {
            let mut tx = db.begin_write().await?;
            run!(&mut tx, execute, sqlx::query("SELECT pg_notify($1, '')").bind(NOTIFY_CHANNEL))?;
            tx.commit().await
        };
        if let Err(err) = sent.await {
            tracing::warn!(error = %err, "could not notify other instances of queued deliveries");
        }
    }
}

/// Wakes this process's worker whenever any instance commits queued work, until `stop`.
/// Reconnects after errors; polling covers any notification lost meanwhile. On SQLite it
/// returns at once.
pub async fn listen(db: Db, stop: CancellationToken) {
    let Some(options) = db.session_options() else { return };
    let wakeups = db.wakeups();
    let mut backoff = Duration::from_millis(100);
    while !stop.is_cancelled() {
        let session = async {
            // A pool of one, which the listener reconnects through after a lost connection.
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .max_lifetime(None)
                .idle_timeout(None)
                .connect_lazy_with(options.clone());
            let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
            listener.ignore_pool_close_event(true);
            listener.listen(NOTIFY_CHANNEL).await?;
            // Anything committed while we were not listening is picked up now.
            wakeups.wake();
            backoff = Duration::from_millis(100);
            loop {
                listener.recv().await?;
                wakeups.wake();
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
        // Capped low: after a failover, wake-ups across instances resume within 2 s of the
        // new primary, and an attempt is one connection.
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}
