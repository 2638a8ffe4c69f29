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
            _ => StoreError::Database(Arc::new(err)),
        }
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
