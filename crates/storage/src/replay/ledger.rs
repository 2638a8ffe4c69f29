//! The replay guard on a SQLite file: a log of accepted assertion ids (`mp_jti_log`,
//! migration 0007) and, in each process, the live ones in memory.
//!
//! Why a log: with a table keyed by (client_id, jti) every token's row lands on a random
//! page of the key's b-tree, so every token writes a page of its own to the WAL, and its
//! purge later dirties another. That was about a tenth of the token endpoint's time. Rows
//! appended in arrival order share the last page: a round of jtis writes a page or two.
//!
//! Why it is still exact across processes: a round runs in a write transaction
//! (`BEGIN IMMEDIATE`), and SQLite lets one writer at a time hold the file. Inside it the
//! round first reads every row appended since its last round (other processes' first
//! uses), then decides against that complete picture and appends its own first uses,
//! then commits. Two processes can therefore never both accept one jti: the second to
//! take the lock reads the first one's row before it decides. A new process starts by
//! reading the whole log (its rows live at most as long as an assertion), so a restart
//! forgets nothing. Rows are numbered by SQLite (`seq`, the rowid: one more than the
//! largest), and the purge never deletes the largest, so numbers are never reused and
//! "read to here" stays true.
//!
//! The round runs on a blocking thread (`replay/mod.rs`), so its connection may wait
//! for the write lock (another process's round, an import, the checkpointer's restart).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::jti::{JTI_PURGE_EVERY, JTI_ROWS_PER_STATEMENT, JtiUse};

/// How long a round waits for another writer before it gives up (the token request then
/// fails with a server error, and nothing was recorded).
const WRITE_WAIT: Duration = Duration::from_secs(10);
/// Expired ids leave the memory at most this often (unix seconds).
const SWEEP_EVERY_SECS: i64 = 10;

pub(crate) struct JtiLedger {
    state: Mutex<Ledger>,
}

struct Ledger {
    connection: Connection,
    /// The uses read from the log or appended to it: `key(client_id, jti)` → expires_at.
    seen: HashMap<String, i64>,
    /// Every row of the log up to this seq is in `seen` (or was expired when read).
    read_to: i64,
    appended_since_purge: u64,
    next_sweep: i64,
}

impl JtiLedger {
    /// A ledger on `connection`, a connection of its own to a migrated database file
    /// (WAL, no checkpoints of its own: `direct.rs`).
    pub(crate) fn new(connection: Connection) -> rusqlite::Result<Self> {
        connection.busy_timeout(WRITE_WAIT)?;
        // One INSERT text per round size.
        connection.set_prepared_statement_cache_capacity(64);
        Ok(Self {
            state: Mutex::new(Ledger {
                connection,
                seen: HashMap::new(),
                read_to: 0,
                appended_since_purge: 0,
                next_sweep: 0,
            }),
        })
    }

    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        // A round that panicked rolled its transaction back (the guard drops it), and the
        // memory only changes after a commit, so the state stays consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records the uses of one round; for each, whether it was the first use of its
    /// (client_id, jti) among the live ones. `uses` holds no two equal pairs. A use is
    /// live until its `expires_at` (unix seconds) has passed `now`; a jti whose earlier
    /// use has expired may be used again.
    pub(crate) fn remember(&self, uses: &[&JtiUse], now: i64) -> rusqlite::Result<Vec<bool>> {
        let mut ledger = self.ledger();
        let Ledger {
            connection,
            seen,
            read_to,
            appended_since_purge,
            next_sweep,
        } = &mut *ledger;
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        read_new_rows(&transaction, seen, read_to, now)?;
        let keys: Vec<String> = uses
            .iter()
            .map(|one| key(&one.client_id, &one.jti))
            .collect();
        let first: Vec<bool> = keys.iter().map(|k| !is_live(seen, k, now)).collect();
        let (fresh, fresh_keys): (Vec<&JtiUse>, Vec<String>) = uses
            .iter()
            .zip(keys)
            .zip(&first)
            .filter(|(_, first)| **first)
            .map(|((one, key), _)| (*one, key))
            .unzip();
        let last_seq = append(&transaction, &fresh)?;
        let appended = u64::try_from(fresh.len()).unwrap_or(u64::MAX);
        let purge = *appended_since_purge + appended >= JTI_PURGE_EVERY;
        if purge {
            purge_expired(&transaction, now)?;
        }
        transaction.commit()?;
        // Only a committed round changes what this process knows.
        for (one, key) in fresh.iter().zip(fresh_keys) {
            note(seen, key, one.expires_at);
        }
        if let Some(last_seq) = last_seq {
            *read_to = last_seq;
        }
        *appended_since_purge = if purge {
            0
        } else {
            *appended_since_purge + appended
        };
        if now >= *next_sweep {
            seen.retain(|_, expires_at| *expires_at >= now);
            *next_sweep = now + SWEEP_EVERY_SECS;
        }
        Ok(first)
    }

    /// Deletes the log's expired rows (except the newest row, see the module docs);
    /// returns how many.
    pub(crate) fn purge(&self, now: i64) -> rusqlite::Result<u64> {
        let mut ledger = self.ledger();
        let transaction = ledger
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let purged = purge_expired(&transaction, now)?;
        transaction.commit()?;
        Ok(purged)
    }
}

/// The map key of a use: client ids are UUIDs (fixed length, no spaces), so the pair
/// cannot be confused with another.
fn key(client_id: &str, jti: &str) -> String {
    format!("{client_id} {jti}")
}

fn is_live(seen: &HashMap<String, i64>, key: &str, now: i64) -> bool {
    seen.get(key).is_some_and(|expires_at| *expires_at >= now)
}

/// A later use of a key (after an earlier one expired) lives longer; keep the longest.
fn note(seen: &mut HashMap<String, i64>, key: String, expires_at: i64) {
    let kept = seen.entry(key).or_insert(expires_at);
    *kept = (*kept).max(expires_at);
}

/// Reads the rows appended since `read_to` (by other processes, or all of them in a new
/// process) into `seen`.
fn read_new_rows(
    transaction: &Transaction<'_>,
    seen: &mut HashMap<String, i64>,
    read_to: &mut i64,
    now: i64,
) -> rusqlite::Result<()> {
    let mut statement = transaction.prepare_cached(
        "SELECT seq, client_id, jti, expires_at FROM mp_jti_log WHERE seq > ?1 ORDER BY seq",
    )?;
    let mut rows = statement.query([*read_to])?;
    while let Some(row) = rows.next()? {
        let expires_at: i64 = row.get(3)?;
        if expires_at >= now {
            let (client_id, jti): (String, String) = (row.get(1)?, row.get(2)?);
            note(seen, key(&client_id, &jti), expires_at);
        }
        *read_to = row.get(0)?;
    }
    Ok(())
}

/// Appends `fresh`; returns the seq of the last row appended.
fn append(transaction: &Transaction<'_>, fresh: &[&JtiUse]) -> rusqlite::Result<Option<i64>> {
    for chunk in fresh.chunks(JTI_ROWS_PER_STATEMENT) {
        let values = vec!["(?, ?, ?)"; chunk.len()].join(", ");
        let mut statement = transaction.prepare_cached(&format!(
            "INSERT INTO mp_jti_log (client_id, jti, expires_at) VALUES {values}"
        ))?;
        let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(3 * chunk.len());
        for one in chunk {
            params.extend([
                &one.client_id as &dyn rusqlite::ToSql,
                &one.jti,
                &one.expires_at,
            ]);
        }
        statement.execute(params.as_slice())?;
    }
    Ok((!fresh.is_empty()).then(|| transaction.last_insert_rowid()))
}

/// Deletes expired rows through the expiry index, keeping the newest row so that SQLite
/// never hands out a seq again.
fn purge_expired(transaction: &Transaction<'_>, now: i64) -> rusqlite::Result<u64> {
    let newest: Option<i64> = transaction
        .query_row("SELECT max(seq) FROM mp_jti_log", [], |row| row.get(0))
        .optional()?
        .flatten();
    let Some(newest) = newest else {
        return Ok(0);
    };
    let purged = transaction.execute(
        "DELETE FROM mp_jti_log WHERE expires_at < ?1 AND seq < ?2",
        [now, newest],
    )?;
    Ok(u64::try_from(purged).unwrap_or(u64::MAX))
}
