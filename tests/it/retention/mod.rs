//! Background pruning: expired credentials, and the webhook log past its retention periods.

mod credentials;
mod idempotency_keys;
mod webhook_log;

use std::time::{Duration, Instant};

use roster::store::Db;

/// Rows left in each of `tables`.
pub async fn counts(db: &Db, tables: &[&'static str]) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for table in tables {
        let mut conn = db.acquire().await.expect("connection");
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let n: i64 = roster::run!(&mut conn, fetch_one, sqlx::query_scalar(&sql)).expect("count");
        out.push((*table, n));
    }
    out
}

/// Waits until the pass has left exactly `expected` rows in its tables.
pub async fn until_counts(db: &Db, expected: &[(&'static str, i64)]) {
    let tables: Vec<&'static str> = expected.iter().map(|(table, _)| *table).collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = counts(db, &tables).await;
        if now == expected {
            return;
        }
        assert!(Instant::now() < deadline, "not pruned in time: {now:?}, want {expected:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
