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
