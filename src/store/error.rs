//! What a store function reports.

/// A named unique constraint the caller may turn into a 409, or anything else, which is
/// internal.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint violated")]
    Conflict,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    pub fn from_unique(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict,
            _ => Self::Database(err),
        }
    }
}

/// A column whose stored text is not one of the values the code knows.
pub(crate) fn bad_value(column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: format!("unknown value {value:?}").into(),
    }
}

/// PostgreSQL's codes for "not now" rather than "not this": a read-only node (a replica, or a
/// primary being demoted), a server shutting down or starting, too many connections.
const TRANSIENT_POSTGRES: &[&str] = &["25006", "57P01", "57P02", "57P03", "53300"];

/// Whether `err` says the database cannot take work right now, rather than that the work is
/// wrong: a lost or refused connection, a failover in progress, overload. The caller may try
/// again: a transaction cut short is rolled back, and one cut during its commit either
/// committed whole or not at all.
pub fn is_transient(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // A conversation broken off, as when a proxy in front of PostgreSQL (HAProxy with no
        // primary to route to) accepts a connection and closes it at once.
        sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                let code = pg.code();
                // Class 08: connection exceptions.
                return code.starts_with("08") || TRANSIENT_POSTGRES.contains(&code);
            }
            // SQLite: the database stayed busy or locked past the busy timeout.
            db.code()
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(|code| matches!(code & 0xff, 5 | 6))
        }
        _ => false,
    }
}
