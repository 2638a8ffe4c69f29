//! A direct SQLite connection for the two statements on every hot path: reading the
//! change counters (every decision, every token) and remembering a jti (every token).
//!
//! sqlx runs each SQLite connection on a worker thread of its own, so every statement
//! costs two thread hand-overs; on the token endpoint that was about a third of the time
//! per token. SQLite is a library in this process, so these two small statements run
//! here, synchronously, on the calling thread, in a few microseconds. They never wait:
//! the connection's busy timeout is zero, and when another connection holds the write
//! lock (an import, a batch of client delegations) the caller gets `None` and takes the
//! ordinary pooled path, which waits its turn. The statements are the same as there, on
//! the same file, so what they see and decide is the same (WAL: a read sees every commit
//! that finished before it began; the primary key decides "first use").

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::maskinporten::{JtiUse, jti_upsert};
use crate::sql::{COUNTERS_SQL, Counters};
use crate::{StoreError, StoreResult};

pub(crate) struct DirectSqlite {
    connection: Mutex<Connection>,
}

/// The answer, or `None` when the database was busy and the caller should take the
/// pooled path instead.
pub(crate) type Attempt<T> = Option<StoreResult<T>>;

impl DirectSqlite {
    /// Opens the file of a `sqlite://PATH?…` URL; `None` for in-memory databases (a second
    /// connection would see another database) or a URL that names no file.
    pub(crate) fn open(url: &str) -> StoreResult<Option<Self>> {
        let Some(path) = file_of(url) else {
            return Ok(None);
        };
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(direct_error)?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 0;",
            )
            .map_err(direct_error)?;
        // One statement text per round size (see `jti_upsert`).
        connection.set_prepared_statement_cache_capacity(64);
        Ok(Some(Self {
            connection: Mutex::new(connection),
        }))
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        // The connection holds no half-done state between calls (each statement commits
        // on its own), so it stays usable after a panic elsewhere.
        self.connection.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn counters(&self) -> Attempt<Counters> {
        let connection = self.connection();
        let read = || -> rusqlite::Result<Counters> {
            let mut statement = connection.prepare_cached(COUNTERS_SQL)?;
            let mut rows = statement.query([])?;
            let mut counters = Counters::default();
            while let Some(row) = rows.next()? {
                counters.set(row.get(0)?, row.get(1)?);
            }
            Ok(counters)
        };
        attempt(read())
    }

    /// Records the jtis of one round in one statement; returns the (client_id, jti) pairs
    /// that were a first use (see `remember_jtis` for the rule). `uses` holds no two
    /// equal pairs.
    pub(crate) fn remember_jtis(
        &self,
        uses: &[&JtiUse],
        now: i64,
    ) -> Attempt<Vec<(String, String)>> {
        let connection = self.connection();
        let insert = || -> rusqlite::Result<Vec<(String, String)>> {
            // rusqlite binds by position; in SQLite `$N` is a *named* parameter numbered by
            // first appearance, while `?N` keeps the number as written.
            let sql = jti_upsert(uses.len()).replace('$', "?");
            let mut statement = connection.prepare_cached(&sql)?;
            let mut values: Vec<&dyn rusqlite::ToSql> = vec![&now];
            for one in uses {
                values.extend([
                    &one.client_id as &dyn rusqlite::ToSql,
                    &one.jti,
                    &one.expires_at,
                ]);
            }
            let rows =
                statement.query_map(values.as_slice(), |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect()
        };
        attempt(insert())
    }
}

/// `None` when SQLite said busy or locked: someone else writes, take the pooled path.
fn attempt<T>(result: rusqlite::Result<T>) -> Attempt<T> {
    match result {
        Ok(value) => Some(Ok(value)),
        Err(rusqlite::Error::SqliteFailure(failure, _))
            if matches!(
                failure.code,
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked
            ) =>
        {
            None
        }
        Err(other) => Some(Err(direct_error(other))),
    }
}

fn direct_error(err: rusqlite::Error) -> StoreError {
    StoreError::Corrupt(format!("direct SQLite statement failed: {err}"))
}

/// The file path of a `sqlite:` URL as [`crate::SqlStore::connect`] accepts it.
fn file_of(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    let unusable = ["mode=memory", "mode=ro"]
        .iter()
        .any(|mode| url.contains(mode));
    if path.is_empty() || path.contains(":memory:") || unusable {
        return None;
    }
    Some(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::file_of;
    use std::path::PathBuf;

    #[test]
    fn file_urls_name_their_file_and_memory_urls_none() {
        assert_eq!(
            file_of("sqlite:///tmp/x.db?mode=rwc"),
            Some(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(file_of("sqlite://data.db"), Some(PathBuf::from("data.db")));
        assert_eq!(file_of("sqlite:data.db"), Some(PathBuf::from("data.db")));
        assert_eq!(file_of("sqlite::memory:"), None);
        assert_eq!(file_of("sqlite://x.db?mode=memory&cache=shared"), None);
        assert_eq!(file_of("sqlite://x.db?mode=ro"), None);
        assert_eq!(file_of("postgres://localhost/test"), None);
    }
}
