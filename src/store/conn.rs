//! Connections the store's functions run on. A function that only reads takes
//! `&mut dyn Conn` (a pooled connection or a transaction); one that writes takes `&mut Tx`, so
//! that a change always runs inside a transaction. A locking read (`lock`, `hold`) takes
//! `&mut dyn Conn` too: its lock lasts to the end of the caller's transaction, and means
//! nothing outside one. Each query is written once and compiled for
//! both backends by [`dispatch!`](crate::dispatch), which hands its body the backend's own
//! connection type: binds and rows then use native types (`uuid`, `timestamptz`, `boolean`,
//! `text[]` on PostgreSQL; BLOB, RFC 3339 text, integers and JSON text on SQLite).

use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, Sqlite, SqliteConnection, Transaction};
use tokio::sync::OwnedMutexGuard;

use super::Backend;
use super::wakeup::Wakeups;

/// A connection borrowed as the backend's own type.
pub enum Native<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// Anything the store can run a query on.
pub trait Conn: Send {
    fn native(&mut self) -> Native<'_>;

    fn backend(&self) -> Backend;
}

/// Runs `$body` with `$c` bound to the backend's own `&mut` connection; the body is compiled
/// once per backend, so the same SQL text and the same Rust types serve both.
#[macro_export]
macro_rules! dispatch {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $crate::store::Conn::native(&mut *$conn) {
            $crate::store::Native::Sqlite($c) => $body,
            $crate::store::Native::Postgres($c) => $body,
        }
    };
}

/// Runs one query on `$conn` with `$method` (`fetch_one`, `fetch_optional`, `fetch_all`, or
/// `execute`, which answers the number of rows affected). `$query` is built once per
/// backend, so its binds and its row type are that backend's.
#[macro_export]
macro_rules! run {
    ($conn:expr, execute, $query:expr) => {
        $crate::dispatch!($conn, |c| $query.execute(&mut *c).await.map(|done| done.rows_affected()))
    };
    ($conn:expr, $method:ident, $query:expr) => {
        $crate::dispatch!($conn, |c| $query.$method(&mut *c).await)
    };
}

/// A pooled connection, for reads outside a write transaction.
pub enum Pooled {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
    /// Through a connection pooler in transaction mode: a read-only transaction, the only way
    /// to keep one server connection from statement to statement.
    PostgresRead(Transaction<'static, Postgres>),
}

impl Conn for Pooled {
    fn native(&mut self) -> Native<'_> {
        match self {
            Pooled::Sqlite(c) => Native::Sqlite(c),
            Pooled::Postgres(c) => Native::Postgres(c),
            Pooled::PostgresRead(tx) => Native::Postgres(tx),
        }
    }

    fn backend(&self) -> Backend {
        match self {
            Pooled::Sqlite(_) => Backend::Sqlite,
            Pooled::Postgres(_) | Pooled::PostgresRead(_) => Backend::Postgres,
        }
    }
}

pub(super) enum Inner {
    /// On SQLite the transaction also holds this process's writer slot, so writers queue in
    /// order here instead of in SQLite's busy handler, whose sleeps (up to 100 ms a turn)
    /// would otherwise add their length to every contended write.
    Sqlite(Transaction<'static, Sqlite>, OwnedMutexGuard<()>),
    Postgres(Transaction<'static, Postgres>),
}

/// A write transaction. Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    pub(super) inner: Inner,
    pub(super) wakeups: Arc<Wakeups>,
    /// Set when the transaction queued work for the delivery worker, and for the email worker.
    pub(super) queued: bool,
    pub(super) queued_email: bool,
}

impl Tx {
    /// Marks this transaction as having queued work: its commit then wakes the workers of
    /// every instance. Only the inserts of deliveries call this.
    pub(super) fn queued_work(&mut self) {
        self.queued = true;
    }

    /// Like [`Self::queued_work`], for the email worker. Only the inserts of emails call this.
    pub(super) fn queued_email(&mut self) {
        self.queued_email = true;
    }

    /// Commits. If the transaction queued work, every instance's worker is woken once the
    /// commit has succeeded: this process's directly, the others' by a NOTIFY sent after it
    /// (see `wakeup`). Nothing depends on the wake-up arriving: the workers also poll.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let Tx { inner, wakeups, queued, queued_email } = self;
        match inner {
            Inner::Sqlite(tx, _writer) => tx.commit().await?,
            Inner::Postgres(tx) => {
                tx.commit().await?;
                if queued {
                    wakeups.peers.notify_one();
                }
            }
        }
        if queued {
            wakeups.local.notify_one();
        }
        if queued_email {
            wakeups.emails.notify_one();
        }
        Ok(())
    }
}

impl Conn for Tx {
    fn native(&mut self) -> Native<'_> {
        match &mut self.inner {
            Inner::Sqlite(tx, _) => Native::Sqlite(tx),
            Inner::Postgres(tx) => Native::Postgres(tx),
        }
    }

    fn backend(&self) -> Backend {
        match self.inner {
            Inner::Sqlite(..) => Backend::Sqlite,
            Inner::Postgres(_) => Backend::Postgres,
        }
    }
}

/// ` FOR NO KEY UPDATE` on PostgreSQL, to end a `SELECT` that locks the rows it reads against
/// every other change; nothing on SQLite, where a write transaction already holds the
/// database's one write lock. `NO KEY` because no key changes: the lock then leaves alone the
/// share locks that inserts of child rows take for their foreign keys (a delivery of a locked
/// webhook, an app of a locked organization), exactly like an `UPDATE` of a non-key column.
pub fn for_update(conn: &dyn Conn) -> &'static str {
    match conn.backend() {
        Backend::Postgres => " FOR NO KEY UPDATE",
        Backend::Sqlite => "",
    }
}

/// ` FOR KEY SHARE` on PostgreSQL: the row may change but not be deleted while the lock is
/// held; nothing on SQLite, as for [`for_update`].
pub fn for_key_share(conn: &dyn Conn) -> &'static str {
    match conn.backend() {
        Backend::Postgres => " FOR KEY SHARE",
        Backend::Sqlite => "",
    }
}

/// ` FOR SHARE` on PostgreSQL (others may read-lock the row too, no one may change it);
/// nothing on SQLite, as for [`for_update`].
pub fn for_share(conn: &dyn Conn) -> &'static str {
    match conn.backend() {
        Backend::Postgres => " FOR SHARE",
        Backend::Sqlite => "",
    }
}

/// `column` is one of the names of the list bound as `param` (a [`TextList`](super::TextList)):
/// `= ANY` of the array on PostgreSQL, a value of the JSON array on SQLite.
pub fn in_text_list(conn: &dyn Conn, column: &str, param: &str) -> String {
    match conn.backend() {
        Backend::Postgres => format!("{column} = ANY ({param})"),
        Backend::Sqlite => format!("{column} IN (SELECT value FROM json_each({param}))"),
    }
}

/// `column` is not among the IDs of the [`IdList`](super::IdList) bound at `param`.
pub fn not_in_id_list(backend: Backend, column: &str, param: &str) -> String {
    match backend {
        Backend::Postgres => format!("NOT ({column} = ANY ({param}))"),
        Backend::Sqlite => {
            format!("{column} NOT IN (SELECT unhex(value) FROM json_each({param}))")
        }
    }
}
