//! How a webhook's recent deliveries turned out, counted per hour: the chart on its page and
//! the API's delivery stats.

use chrono::{DateTime, Utc};
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
    let sql = format!(
        "SELECT {hour} AS hour, status, COUNT(*) AS n FROM deliveries \
         WHERE webhook_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY 1, 2"
    );
    let until = since + chrono::Duration::hours(hours as i64);
    let rows: Vec<(i64, String, i64)> =
        run!(conn, fetch_all, sqlx::query_as(&sql).bind(webhook_id).bind(since).bind(until))?;
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
