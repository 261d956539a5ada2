//! An acknowledged write survives a power loss: SQLite syncs its log at every commit.

use crate::common::Backend;
use crate::common::TestApp;

/// `PRAGMA synchronous` on the server's own connections is FULL (2), not NORMAL (1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_syncs_every_commit() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut conn = app.state.db.acquire().await.expect("connection");
    let level: i64 = roster::run!(&mut conn, fetch_one, sqlx::query_scalar("PRAGMA synchronous"))
        .expect("pragma");
    assert_eq!(level, 2, "synchronous = FULL");
    drop(conn);
    app.stop().await;
}
