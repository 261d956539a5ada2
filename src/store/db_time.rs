//! On PostgreSQL every instance takes its time from the database, so that due times, leases
//! and expiries compared by several instances are compared against one clock: an instance
//! whose own clock runs ahead can then neither take over a live lease (delivering twice) nor
//! expire a token early. The database's time is read at start and every [`INTERVAL`]; between
//! readings the instance's monotonic clock carries it on (see [`Clock::follow`]).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::{Backend, Conn, Db, Native};
use crate::clock::Clock;

/// Often enough that the monotonic clock's drift (parts per million) stays far below a
/// millisecond between readings.
const INTERVAL: Duration = Duration::from_secs(10);

/// Readings per update: the one with the shortest round trip places the database's time best.
const SAMPLES: usize = 3;

/// Past this, the instance's own clock is far enough off to say so once.
const WORTH_A_WARNING: chrono::Duration = chrono::Duration::seconds(1);

/// Sets `clock` from the database's time. On SQLite (one machine, one clock) it does nothing.
pub async fn follow(db: &Db, clock: &Clock) -> Result<(), sqlx::Error> {
    let Some((reference, at)) = read(db).await? else { return Ok(()) };
    let ahead = clock.follow(reference, at);
    if ahead.abs() > WORTH_A_WARNING {
        tracing::warn!(
            ahead_ms = ahead.num_milliseconds(),
            "this machine's clock differs from the database's; Roster keeps the database's time"
        );
    }
    Ok(())
}

/// Keeps `clock` on the database's time until `stop`. A failed reading (a failover, say)
/// leaves the clock running on from the last one. On SQLite it returns at once.
pub async fn keep_following(db: Db, clock: Clock, stop: CancellationToken) {
    if db.backend() != Backend::Postgres {
        return;
    }
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(INTERVAL) => {}
        }
        if let Some(Ok((reference, at))) = read(&db).await.transpose() {
            clock.follow(reference, at);
        }
    }
}

/// The database's time and the instant it was read at (the middle of the quickest of a few
/// round trips); `None` on SQLite.
async fn read(db: &Db) -> Result<Option<(DateTime<Utc>, Instant)>, sqlx::Error> {
    if db.backend() != Backend::Postgres {
        return Ok(None);
    }
    let mut conn = db.acquire().await?;
    let Native::Postgres(conn) = conn.native() else { return Ok(None) };
    let mut best: Option<(Duration, DateTime<Utc>, Instant)> = None;
    for _ in 0..SAMPLES {
        let sent = Instant::now();
        let time: DateTime<Utc> =
            sqlx::query_scalar("SELECT clock_timestamp()").fetch_one(&mut *conn).await?;
        let round_trip = sent.elapsed();
        if best.is_none_or(|(quickest, ..)| round_trip < quickest) {
            best = Some((round_trip, time, sent + round_trip / 2));
        }
    }
    Ok(best.map(|(_, time, at)| (time, at)))
}
