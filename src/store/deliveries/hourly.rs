//! How a webhook's recent deliveries turned out, counted per hour: the chart on its page and
//! the API's delivery stats.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::DeliveryStatus;
use crate::run;
use crate::store::{Backend, Conn, bad_value};

/// The deliveries made in one hour, by their status now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HourCounts {
    pub succeeded: i64,
    pub failed: i64,
    pub pending: i64,
}

impl HourCounts {
    fn add(&mut self, status: DeliveryStatus, count: i64) {
        match status {
            DeliveryStatus::Succeeded => self.succeeded += count,
            DeliveryStatus::Failed => self.failed += count,
            DeliveryStatus::Pending => self.pending += count,
        }
    }
}

/// How far an instance's clock may be behind the one that asks, for [`first_possible_id`].
const CLOCK_SKEW: Duration = Duration::hours(1);

/// The smallest ID a delivery made at or after `at` can have. Delivery IDs are UUIDv7, whose
/// first 48 bits are the milliseconds of the enqueuing instance's clock when it was made; so
/// a lower bound on the ID turns "made since" into a range of the index the delivery log
/// already uses, rather than a second index on every delivery written. `CLOCK_SKEW` allows
/// for instances' clocks, and the caller takes the earlier of its clock's and the system's
/// time, so a test clock moved ahead still sees IDs stamped by real time.
fn first_possible_id(at: DateTime<Utc>) -> Uuid {
    let millis = u64::try_from((at - CLOCK_SKEW).timestamp_millis()).unwrap_or(0);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    bytes[6] = 0x70;
    bytes[8] = 0x80;
    Uuid::from_bytes(bytes)
}

/// The webhook's deliveries made in each of the `hours` hours from `since`, by status:
/// element `i` counts those made in `[since + i h, since + (i + 1) h)`. `since` must fall on a
/// whole second, as hour starts do.
pub async fn by_hour(
    conn: &mut dyn Conn,
    webhook_id: Uuid,
    since: DateTime<Utc>,
    hours: usize,
) -> Result<Vec<HourCounts>, sqlx::Error> {
    // The hour a delivery falls in, counted from `since`; the dialects share no date function.
    let hour = match conn.backend() {
        Backend::Postgres => "floor(extract(epoch FROM created_at - $2) / 3600)::bigint",
        Backend::Sqlite => {
            "(CAST(strftime('%s', created_at) AS INTEGER) - CAST(strftime('%s', $2) AS INTEGER)) \
             / 3600"
        }
    };
    // The (webhook_id, id) index finds the rows from `first_id` on; `created_at` then decides.
    let sql = format!(
        "SELECT {hour} AS hour, status, COUNT(*) AS n FROM deliveries \
         WHERE webhook_id = $1 AND id >= $4 AND created_at >= $2 AND created_at < $3 \
         GROUP BY 1, 2"
    );
    let span = Duration::hours(hours as i64);
    let first_id = first_possible_id(since.min(Utc::now() - span));
    let rows: Vec<(i64, String, i64)> = run!(
        conn,
        fetch_all,
        sqlx::query_as(&sql).bind(webhook_id).bind(since).bind(since + span).bind(first_id)
    )?;
    let mut counts = vec![HourCounts::default(); hours];
    for (hour, status, n) in rows {
        let status = DeliveryStatus::parse(&status).ok_or_else(|| bad_value("status", &status))?;
        // The bounds above keep every row's hour in range.
        if let Some(slot) = usize::try_from(hour).ok().and_then(|h| counts.get_mut(h)) {
            slot.add(status, n);
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_possible_id_is_below_every_id_made_since_then() {
        let at = Utc::now();
        let bound = first_possible_id(at);
        assert!(bound < Uuid::now_v7(), "an ID made now");
        assert_eq!(bound.get_version_num(), 7);
        let made = |t: DateTime<Utc>| {
            let ts = uuid::Timestamp::from_unix(
                uuid::NoContext,
                t.timestamp() as u64,
                t.timestamp_subsec_nanos(),
            );
            Uuid::new_v7(ts)
        };
        assert!(bound <= made(at - CLOCK_SKEW), "an ID stamped by a clock an hour behind");
        assert!(bound > made(at - CLOCK_SKEW - Duration::seconds(1)), "an older one");
    }
}
