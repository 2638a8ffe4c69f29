//! The audit of what system users and persons did: tokens issued for system users and
//! the PDP's answered decisions (README, "Audit"). Records are appended in batches by one
//! writer (`systembruker_app::audit`), read newest first with keyset paging (the sequence
//! number), and removed only by the retention purge. A trigger refuses UPDATE.

use sqlx::Row;
use uuid::Uuid;

use crate::{SqlStore, StoreError, StoreResult};

/// What a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditKind {
    /// A token issued for a system user.
    Token,
    /// A decision the PDP answered.
    Decision,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Decision => "decision",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "token" => Some(Self::Token),
            "decision" => Some(Self::Decision),
            _ => None,
        }
    }
}

/// One record to append. `at` is unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditRecord {
    pub at: i64,
    pub kind: AuditKind,
    /// The system user the record is about, when the subject is one.
    pub system_user_id: Option<Uuid>,
    /// The subject as named: `systemuser:<uuid>`, `party:<uuid>`, or the attribute given.
    pub subject: String,
    /// The party acted for (a token's system-user owner, a decision's resource party).
    pub party: Option<Uuid>,
    pub resource: Option<String>,
    pub action: Option<String>,
    /// `Permit`, `Deny`, `NotApplicable` or `Indeterminate` (decisions only).
    pub decision: Option<String>,
    /// The policy, delegation or access list that decided (decisions only).
    pub decided_by: Option<String>,
    /// Who asked: the PDP's caller, the token's client.
    pub caller: String,
    pub client_id: Option<String>,
    pub system_id: Option<String>,
    pub scopes: Option<String>,
    /// The issued token's id (tokens only).
    pub jti: Option<String>,
}

/// One stored record: its sequence number and what was appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub record: NewAuditRecord,
}

/// Which records to read, newest first; `None` matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub system_user_id: Option<Uuid>,
    pub party: Option<Uuid>,
    pub kind: Option<AuditKind>,
    pub resource: Option<String>,
    pub decision: Option<String>,
    /// From this moment (unix milliseconds), inclusive.
    pub from: Option<i64>,
    /// Until this moment, exclusive.
    pub to: Option<i64>,
    /// Keyset paging: only records with a sequence number below this.
    pub before: Option<i64>,
    /// At most this many (clamped to 1..=[`MAX_AUDIT_PAGE`]).
    pub limit: i64,
}

/// The most records one read returns.
pub const MAX_AUDIT_PAGE: i64 = 1000;

/// Columns of a record, in the order [`AuditStore::append_audit`] binds them.
const COLUMNS: &str = "at, kind, system_user_id, subject, party_uuid, resource, action, \
     decision, decided_by, caller, client_id, system_id, scopes, jti";
const COLUMN_COUNT: usize = 14;
/// Rows per INSERT: far below both backends' limits on bound parameters.
const ROWS_PER_STATEMENT: usize = 200;
/// Rows per DELETE of the purge, so neither backend holds one huge transaction.
const PURGE_CHUNK: i64 = 10_000;

#[async_trait::async_trait]
pub trait AuditStore {
    /// Appends `records` in one transaction.
    async fn append_audit(&self, records: &[NewAuditRecord]) -> StoreResult<()>;
    /// Records matching `filter`, newest first.
    async fn audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>>;
    /// Removes the records older than `before` (unix milliseconds); returns how many.
    async fn purge_audit(&self, before: i64) -> StoreResult<u64>;
}

fn placeholders(rows: usize) -> String {
    (0..rows)
        .map(|row| {
            let params: Vec<String> = (1..=COLUMN_COUNT)
                .map(|col| format!("${}", row * COLUMN_COUNT + col))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn text(uuid: Option<Uuid>) -> Option<String> {
    uuid.map(|u| u.to_string())
}

fn uuid_column(row: &sqlx::any::AnyRow, column: &str) -> StoreResult<Option<Uuid>> {
    let value: Option<String> = row.try_get(column)?;
    value
        .map(|text| {
            Uuid::parse_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("audit {column} {text:?}: {e}")))
        })
        .transpose()
}

fn record_of(row: &sqlx::any::AnyRow) -> StoreResult<AuditRecord> {
    let kind: String = row.try_get("kind")?;
    let kind = AuditKind::parse(&kind)
        .ok_or_else(|| StoreError::Corrupt(format!("audit kind {kind:?}")))?;
    Ok(AuditRecord {
        seq: row.try_get("seq")?,
        record: NewAuditRecord {
            at: row.try_get("at")?,
            kind,
            system_user_id: uuid_column(row, "system_user_id")?,
            subject: row.try_get("subject")?,
            party: uuid_column(row, "party_uuid")?,
            resource: row.try_get("resource")?,
            action: row.try_get("action")?,
            decision: row.try_get("decision")?,
            decided_by: row.try_get("decided_by")?,
            caller: row.try_get("caller")?,
            client_id: row.try_get("client_id")?,
            system_id: row.try_get("system_id")?,
            scopes: row.try_get("scopes")?,
            jti: row.try_get("jti")?,
        },
    })
}

#[async_trait::async_trait]
impl AuditStore for SqlStore {
    async fn append_audit(&self, records: &[NewAuditRecord]) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool().begin().await?;
        for chunk in records.chunks(ROWS_PER_STATEMENT) {
            let sql = trusted_sql!(
                "INSERT INTO audit_records ({COLUMNS}) VALUES {}",
                placeholders(chunk.len())
            );
            let mut query = sqlx::query(sql);
            for r in chunk {
                query = query
                    .bind(r.at)
                    .bind(r.kind.as_str())
                    .bind(text(r.system_user_id))
                    .bind(r.subject.clone())
                    .bind(text(r.party))
                    .bind(r.resource.clone())
                    .bind(r.action.clone())
                    .bind(r.decision.clone())
                    .bind(r.decided_by.clone())
                    .bind(r.caller.clone())
                    .bind(r.client_id.clone())
                    .bind(r.system_id.clone())
                    .bind(r.scopes.clone())
                    .bind(r.jti.clone());
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        // NULL binds switch a condition off, so one statement serves every filter; the
        // time and keyset bounds default to values every row passes.
        let sql = trusted_sql!(
            "SELECT seq, {COLUMNS} FROM audit_records \
             WHERE ($1 IS NULL OR system_user_id = $1) AND ($2 IS NULL OR party_uuid = $2) \
             AND ($3 IS NULL OR kind = $3) AND ($4 IS NULL OR resource = $4) \
             AND ($5 IS NULL OR decision = $5) \
             AND at >= $6 AND at < $7 AND seq < $8 \
             ORDER BY seq DESC LIMIT $9"
        );
        let rows = sqlx::query(sql)
            .bind(text(filter.system_user_id))
            .bind(text(filter.party))
            .bind(filter.kind.map(|k| k.as_str().to_string()))
            .bind(filter.resource.clone())
            .bind(filter.decision.clone())
            .bind(filter.from.unwrap_or(i64::MIN))
            .bind(filter.to.unwrap_or(i64::MAX))
            .bind(filter.before.unwrap_or(i64::MAX))
            .bind(filter.limit.clamp(1, MAX_AUDIT_PAGE))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(record_of).collect()
    }

    async fn purge_audit(&self, before: i64) -> StoreResult<u64> {
        let mut purged = 0;
        loop {
            let done = sqlx::query(
                "DELETE FROM audit_records WHERE seq IN \
                 (SELECT seq FROM audit_records WHERE at < $1 ORDER BY seq LIMIT $2)",
            )
            .bind(before)
            .bind(PURGE_CHUNK)
            .execute(self.pool())
            .await?
            .rows_affected();
            purged += done;
            if done < PURGE_CHUNK as u64 {
                return Ok(purged);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_row_of_a_batch_insert_gets_its_own_numbered_parameters() {
        let two = placeholders(2);
        assert!(two.starts_with("($1, $2,"));
        assert!(two.contains("$14), ($15,"));
        assert!(two.ends_with("$28)"));
    }
}
