//! The replay guard: each assertion id (jti) a client uses is remembered until its
//! assertion expires, and only its first use counts. On a SQLite file the ids go to a
//! log through a direct connection (`direct.rs`, `ledger.rs`); on PostgreSQL and
//! in-memory SQLite, to a table keyed by (client_id, jti). Concurrent token requests
//! share one round of writes (see `batch.rs`).

pub(crate) mod direct;
mod jti;
mod ledger;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{AnyPool, Row};

use crate::batch::Round;
use crate::{StoreError, StoreResult, now_millis};
use direct::DirectSqlite;
pub(crate) use jti::JtiUse;
use jti::{JTI_PURGE_EVERY, JTI_ROWS_PER_STATEMENT};

static JTI_INSERTS: AtomicU64 = AtomicU64::new(0);

/// Deletes expired jtis from the keyed table once every [`JTI_PURGE_EVERY`] inserts.
async fn purge_now_and_then(pool: &AnyPool, inserted: usize, now: i64) {
    let inserted = u64::try_from(inserted).unwrap_or(u64::MAX);
    let before = JTI_INSERTS.fetch_add(inserted, Ordering::Relaxed);
    if before / JTI_PURGE_EVERY != (before + inserted) / JTI_PURGE_EVERY
        && let Err(err) = purge_expired_jtis(pool, now).await
    {
        // The rows stay until the next purge; nothing is decided by their presence.
        tracing::warn!(error = %err, "expired assertion ids could not be purged");
    }
}

/// The round that remembers jtis: on a SQLite file in the ledger (`ledger.rs`), else
/// (PostgreSQL, in-memory SQLite) by an upsert on the table keyed by (client_id, jti).
pub(crate) fn jti_round(
    pool: AnyPool,
    direct: Option<Arc<DirectSqlite>>,
) -> Round<JtiUse, StoreResult<bool>> {
    Box::new(move |uses: Vec<JtiUse>| {
        let (pool, direct) = (pool.clone(), direct.clone());
        Box::pin(async move { remember_jtis(&pool, direct, uses).await })
    })
}

/// Records every jti of a round; for each use, whether it was the first. Within one round
/// only the first of two equal uses can be first.
async fn remember_jtis(
    pool: &AnyPool,
    direct: Option<Arc<DirectSqlite>>,
    uses: Vec<JtiUse>,
) -> Vec<StoreResult<bool>> {
    let now = now_millis() / 1000;
    let uses = Arc::new(uses);
    let distinct = distinct_uses(&uses);
    let first_uses = match direct {
        Some(direct) => first_uses_in_ledger(direct, uses.clone(), distinct, now).await,
        None => first_uses_by_upsert(pool, &uses, &distinct, now).await,
    };
    match first_uses {
        Ok(first_uses) => (0..uses.len())
            .map(|i| Ok(first_uses.contains(&i)))
            .collect(),
        Err(err) => uses.iter().map(|_| Err(err.clone())).collect(),
    }
}

/// The index of the first use of each distinct (client_id, jti) of a round, ordered by
/// that pair so that concurrent rounds meet their rows in one order.
fn distinct_uses(uses: &[JtiUse]) -> Vec<usize> {
    let mut distinct: Vec<usize> = (0..uses.len()).collect();
    // Stable: among equal pairs the first use stays first, and dedup keeps it.
    distinct.sort_by_key(|&i| (&uses[i].client_id, &uses[i].jti));
    distinct.dedup_by_key(|i| (&uses[*i].client_id, &uses[*i].jti));
    distinct
}

/// Runs `work` on the ledger on a blocking thread: its write may wait for the disk or for
/// another writer, and the runtime's threads meanwhile verify and sign the next requests.
async fn on_ledger_thread<T: Send + 'static>(
    work: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| StoreError::Corrupt(format!("a jti write was lost: {err}")))?
}

async fn first_uses_in_ledger(
    direct: Arc<DirectSqlite>,
    uses: Arc<Vec<JtiUse>>,
    distinct: Vec<usize>,
    now: i64,
) -> StoreResult<HashSet<usize>> {
    on_ledger_thread(move || {
        let round: Vec<&JtiUse> = distinct.iter().map(|&i| &uses[i]).collect();
        let first = direct.remember_jtis(&round, now)?;
        Ok(distinct
            .iter()
            .zip(first)
            .filter_map(|(&i, first)| first.then_some(i))
            .collect())
    })
    .await
}

/// A new row, or an expired row taken over, is a first use; a live row is left alone and
/// not returned by the statement. The primary key makes this hold across processes.
async fn first_uses_by_upsert(
    pool: &AnyPool,
    uses: &[JtiUse],
    distinct: &[usize],
    now: i64,
) -> StoreResult<HashSet<usize>> {
    let mut inserted = Vec::new();
    for chunk in distinct.chunks(JTI_ROWS_PER_STATEMENT) {
        let rows: Vec<&JtiUse> = chunk.iter().map(|&i| &uses[i]).collect();
        inserted.extend(insert_jtis(pool, &rows, now).await?);
    }
    purge_now_and_then(pool, distinct.len(), now).await;
    // The statements return the rows they wrote; each stands for the first use of its pair.
    let first_of: HashMap<(&str, &str), usize> = distinct
        .iter()
        .map(|&i| ((uses[i].client_id.as_str(), uses[i].jti.as_str()), i))
        .collect();
    Ok(inserted
        .iter()
        .filter_map(|(client_id, jti)| first_of.get(&(client_id.as_str(), jti.as_str())))
        .copied()
        .collect())
}

/// The multi-row upsert for `rows` jtis: `$1` is now, then client_id, jti, expires_at
/// per row. Returns the (client_id, jti) rows it inserted or took over.
fn jti_upsert(rows: usize) -> String {
    let values = (0..rows)
        .map(|r| format!("(${}, ${}, ${})", 3 * r + 2, 3 * r + 3, 3 * r + 4))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO mp_used_jti (client_id, jti, expires_at) VALUES {values} \
         ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at \
         WHERE mp_used_jti.expires_at < $1 RETURNING client_id, jti"
    )
}

/// [`jti_upsert`] through the pool.
async fn insert_jtis(
    pool: &AnyPool,
    rows: &[&JtiUse],
    now: i64,
) -> StoreResult<Vec<(String, String)>> {
    let sql = jti_upsert(rows.len());
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
    for row in rows {
        query = query
            .bind(row.client_id.as_str())
            .bind(row.jti.as_str())
            .bind(row.expires_at);
    }
    let returned = query.fetch_all(pool).await?;
    returned
        .iter()
        .map(|row| Ok((row.try_get("client_id")?, row.try_get("jti")?)))
        .collect()
}

async fn purge_expired_jtis(pool: &AnyPool, now: i64) -> StoreResult<u64> {
    Ok(sqlx::query("DELETE FROM mp_used_jti WHERE expires_at < $1")
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected())
}

/// Deletes the assertion ids that expired before `now` (unix seconds); returns how many.
/// On a SQLite file the newest id stays, expired or not (see `ledger.rs`).
pub(crate) async fn purge(
    pool: &AnyPool,
    direct: Option<Arc<DirectSqlite>>,
    now: i64,
) -> StoreResult<u64> {
    match direct {
        Some(direct) => on_ledger_thread(move || direct.purge_jtis(now)).await,
        None => purge_expired_jtis(pool, now).await,
    }
}
