use std::sync::Arc;

/// What went wrong in storage, in terms the HTTP layer can map to a status code.
///
/// Cloneable, because one failed statement of a batched round answers every caller.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("{0} was not found")]
    NotFound(String),
    /// A uniqueness rule of the database refused the change.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The data was refused by a rule of the domain.
    #[error("invalid data: {0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Database(Arc<sqlx::Error>),
    /// The database cannot be reached now (no connection within the acquire timeout,
    /// the connection broke, the server is starting or shutting down). Nothing was
    /// decided; the HTTP layer answers 503 so that clients retry.
    #[error("database unavailable: {0}")]
    Unavailable(Arc<sqlx::Error>),
    /// The database file was opened read-only (by the URL, its permissions or its file
    /// system): it cannot take the platform's writes.
    #[error("the database is read-only: {0}")]
    ReadOnly(String),
    #[error("database migration failed: {0}")]
    Migrate(Arc<sqlx::migrate::MigrateError>),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    /// A batched statement was lost before it answered (see `batch.rs`); nothing was
    /// decided for this caller, so trying again is safe.
    #[error("the database round was interrupted; try again")]
    Interrupted,
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err.as_database_error() {
            Some(db) if db.is_unique_violation() => StoreError::Conflict(db.message().to_string()),
            Some(db) if db.is_foreign_key_violation() => {
                StoreError::Invalid(format!("reference to a missing row: {}", db.message()))
            }
            _ if is_unavailable(&err) => StoreError::Unavailable(Arc::new(err)),
            _ => StoreError::Database(Arc::new(err)),
        }
    }
}

/// SQLSTATE classes of PostgreSQL that mean "the server cannot work now": 08 connection
/// exceptions, 57P01–57P03 shutdown and start-up.
const UNAVAILABLE_SQLSTATES: [&str; 4] = ["08", "57P01", "57P02", "57P03"];

/// SQLite's busy and locked codes (extended ones included): a write waited the whole
/// busy timeout for another writer. PostgreSQL codes have five characters, so these
/// never match one of its codes.
const SQLITE_BUSY_CODES: [&str; 6] = ["5", "261", "517", "773", "6", "262"];

/// Whether `err` says the database is out of reach rather than that a statement failed.
fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            SQLITE_BUSY_CODES.contains(&code.as_ref())
                || UNAVAILABLE_SQLSTATES
                    .iter()
                    .any(|prefix| code.starts_with(prefix))
        }),
        _ => false,
    }
}

impl StoreError {
    /// Whether the database cannot serve the platform now ([`StoreError::Unavailable`],
    /// [`StoreError::ReadOnly`]): the HTTP layer answers 503.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::ReadOnly(_))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(Arc::new(err))
    }
}

impl From<crate::batch::RoundLost> for StoreError {
    fn from(_: crate::batch::RoundLost) -> Self {
        StoreError::Interrupted
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        StoreError::Corrupt(err.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
