//! Direct SQLite connections for the two statements on every hot path: reading the
//! change counters (every decision, every token) and remembering a jti (every token).
//!
//! sqlx runs each SQLite connection on a worker thread of its own, so every statement
//! costs two thread hand-overs; on the token endpoint that was about a third of the time
//! per token. SQLite is a library in this process, so these statements run here.
//! The counters are read on the calling thread, in a few microseconds, and never wait:
//! that connection's busy timeout is zero, and when SQLite says busy the caller gets
//! `None` and takes the ordinary pooled path. The jtis go to a [`JtiLedger`] on a
//! connection of its own, called from a blocking thread, which may wait for the write
//! lock. Both work on the same file as the pool, so what they see and decide is the same
//! (WAL: a read sees every commit that finished before it began).
//!
//! The direct connections never checkpoint the WAL themselves: a checkpoint ends in
//! fsync, and an fsync on a request's path would stall every request behind it (on a
//! disk it cost the token endpoint about a tenth of its rate). A [`Checkpointer`] thread
//! with a connection of its own does it instead. Durability is unchanged: a commit is in
//! the WAL before the statement returns (it survives the process), and the WAL reaches
//! the disk at the next checkpoint, as with `synchronous = NORMAL` anyway.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::jti::JtiUse;
use super::ledger::JtiLedger;
use crate::counters::{COUNTERS_SQL, Counters};
use crate::{StoreError, StoreResult};

pub(crate) struct DirectSqlite {
    connection: Mutex<Connection>,
    jtis: JtiLedger,
    checkpointer: Checkpointer,
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
        let connection = connect_without_checkpoints(&path)?;
        connection
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 0;")
            .map_err(direct_error)?;
        Ok(Some(Self {
            connection: Mutex::new(connection),
            jtis: JtiLedger::new(connect_without_checkpoints(&path)?).map_err(direct_error)?,
            checkpointer: Checkpointer::start(&path)?,
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

    /// Records the jtis of one round (no two equal pairs); for each, whether it was the
    /// first use. May wait for the write lock: call it from a blocking thread.
    pub(crate) fn remember_jtis(&self, uses: &[&JtiUse], now: i64) -> StoreResult<Vec<bool>> {
        let first = self.jtis.remember(uses, now).map_err(direct_error)?;
        self.checkpointer.committed();
        Ok(first)
    }

    /// Deletes the expired jtis; returns how many.
    pub(crate) fn purge_jtis(&self, now: i64) -> StoreResult<u64> {
        self.jtis.purge(now).map_err(direct_error)
    }
}

/// Whether the SQLite file of `url` takes writes: a `mode=ro` URL, a file the process
/// may not write, or a read-only file system all say no. Takes the write lock for a
/// moment without waiting (a writer holding it proves the file writable) and writes
/// nothing. Blocking: call it from a blocking thread.
pub(crate) fn check_writable(url: &str) -> StoreResult<()> {
    if url.contains("mode=ro") {
        return Err(StoreError::ReadOnly("the URL asks for mode=ro".into()));
    }
    let Some(path) = file_of(url) else {
        return Ok(());
    };
    let probe = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(direct_error)?;
    let read_only = |why: &str| StoreError::ReadOnly(format!("{}: {why}", path.display()));
    if probe.is_readonly(rusqlite::MAIN_DB).map_err(direct_error)? {
        return Err(read_only("SQLite opened it read-only"));
    }
    probe.busy_timeout(Duration::ZERO).map_err(direct_error)?;
    match probe.execute_batch("BEGIN IMMEDIATE; ROLLBACK;") {
        Ok(()) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(failure, _))
            if matches!(
                failure.code,
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked
            ) =>
        {
            Ok(())
        }
        Err(rusqlite::Error::SqliteFailure(failure, _)) if failure.code == ErrorCode::ReadOnly => {
            Err(read_only("writes are refused"))
        }
        Err(other) => Err(direct_error(other)),
    }
}

fn connect(path: &Path) -> StoreResult<Connection> {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(direct_error)
}

/// A connection that commits to the WAL and leaves checkpoints to the [`Checkpointer`].
fn connect_without_checkpoints(path: &Path) -> StoreResult<Connection> {
    let connection = connect(path)?;
    connection
        .execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA wal_autocheckpoint = 0;",
        )
        .map_err(direct_error)?;
    Ok(connection)
}

/// Direct commits between two nudges of the checkpointer. A round of jtis adds about three
/// pages to the WAL, so this is near SQLite's own default of a checkpoint per 1000 pages.
const COMMITS_PER_CHECKPOINT: u32 = 300;
/// A checkpoint also runs this often without a nudge, for what smaller batches left.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);
/// WAL frames (pages) above which the checkpointer also restarts the WAL (see below).
const RESTART_ABOVE_FRAMES: i64 = 2000;
/// How long a restart may wait for readers to leave the old WAL.
const RESTART_WAIT: Duration = Duration::from_secs(1);

/// Copies the WAL into the database file on a thread of its own (see the module docs).
/// The thread ends when the checkpointer is dropped.
struct Checkpointer {
    commits: AtomicU32,
    nudge: SyncSender<()>,
}

impl Checkpointer {
    fn start(path: &Path) -> StoreResult<Self> {
        let connection = connect(path)?;
        connection
            .busy_timeout(RESTART_WAIT)
            .map_err(direct_error)?;
        let (nudge, nudged) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint_when_nudged(&connection, &nudged))
            .map_err(|err| StoreError::Corrupt(format!("cannot start the checkpointer: {err}")))?;
        Ok(Self {
            commits: AtomicU32::new(0),
            nudge,
        })
    }

    fn committed(&self) {
        let commits = self.commits.fetch_add(1, Ordering::Relaxed) + 1;
        if commits.is_multiple_of(COMMITS_PER_CHECKPOINT) {
            // Full: a nudge is already waiting. Disconnected: the thread is gone (it
            // never returns while we hold the sender), and SQLite's readers still work.
            let _ = self.nudge.try_send(());
        }
    }
}

fn checkpoint_when_nudged(connection: &Connection, nudged: &Receiver<()>) {
    loop {
        match nudged.recv_timeout(CHECKPOINT_INTERVAL) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        // A failure loses nothing (the pages stay in the WAL), so it is only logged and
        // the next round tries again.
        if let Err(err) = checkpoint(connection) {
            tracing::warn!(%err, "WAL checkpoint failed; the next one retries");
        }
    }
}

/// PASSIVE copies what it can without making anyone wait. But SQLite only starts the
/// WAL over when a writer finds *every* frame copied, which under a steady stream of
/// commits never happens, so the file would grow without end; once it is long, RESTART
/// copies the few frames written meanwhile while it holds the write lock (a round of
/// jtis waits for it meanwhile), and the WAL starts over.
fn checkpoint(connection: &Connection) -> rusqlite::Result<()> {
    let frames: i64 =
        connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))?;
    if frames > RESTART_ABOVE_FRAMES {
        connection.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))?;
    }
    Ok(())
}
/// `None` when SQLite said busy or locked: take the pooled path.
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
