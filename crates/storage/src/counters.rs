//! The change counters: numbers the database triggers raise in the same transaction as
//! each change they count, so that a cache keyed by them is never stale. One statement
//! reads them all; concurrent readers share it (see `batch.rs`).

use sqlx::{AnyPool, Row};

use crate::StoreResult;
use crate::batch::Round;

/// The authorization change counters. Both only grow; the database bumps them in the
/// same transaction as every change (triggers in migration 0003).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuthzVersions {
    /// Roles, organisation forms and main units, package delegations, resource rights.
    pub facts: i64,
    /// Resource policies and resources.
    pub policies: i64,
}

/// Every change counter of the database, read in one statement. They only grow, and
/// triggers move them in the same transaction as the change they count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Counters {
    pub(crate) authz: AuthzVersions,
    /// Maskinporten clients, keys, scopes and scope access (migration 0006).
    pub(crate) maskinporten: i64,
}

/// Reads every change counter as `(id, version)` rows, for [`Counters::set`].
pub(crate) const COUNTERS_SQL: &str = "SELECT id, version FROM authz_versions \
     UNION ALL SELECT 3 AS id, version FROM mp_config_version";

impl Counters {
    /// Takes one row of [`COUNTERS_SQL`]: 1 facts, 2 policies, 3 Maskinporten.
    pub(crate) fn set(&mut self, id: i64, version: i64) {
        match id {
            1 => self.authz.facts = version,
            2 => self.authz.policies = version,
            _ => self.maskinporten = version,
        }
    }
}

pub(crate) fn counters_round(pool: AnyPool) -> Round<(), StoreResult<Counters>> {
    Box::new(move |callers: Vec<()>| {
        let pool = pool.clone();
        Box::pin(async move {
            let read = read_counters(&pool).await;
            callers.iter().map(|()| read.clone()).collect()
        })
    })
}

async fn read_counters(pool: &AnyPool) -> StoreResult<Counters> {
    let rows = sqlx::query(COUNTERS_SQL).fetch_all(pool).await?;
    let mut counters = Counters::default();
    for row in rows {
        counters.set(row.try_get("id")?, row.try_get("version")?);
    }
    Ok(counters)
}
