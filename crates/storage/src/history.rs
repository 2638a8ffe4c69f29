//! The append-only history of systems, requests, system users and their grants: who,
//! when, what, before and after. Rows are written in the same transaction as the change
//! they describe; database triggers refuse UPDATE and DELETE on the table.

use sqlx::{Any, Row, Transaction};

use crate::{SqlStore, StoreResult, now_millis};

/// Who makes a change, for the history and the system change log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// `userId:<id>`, `org:<orgno>`, `operator`, …
    pub name: String,
    /// The organisation behind a Maskinporten token (the vendor).
    pub org: Option<String>,
    /// The Maskinporten client the change came through.
    pub client_id: Option<String>,
}

impl Actor {
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_string(),
            ..Self::default()
        }
    }
}

/// One history row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub seq: i64,
    /// Unix milliseconds.
    pub at: i64,
    pub actor: String,
    /// `system`, `request`, `system_user`, `change_request`.
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Which history rows to read; `None` matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// Only rows with a sequence number above this.
    pub after: i64,
    pub limit: i64,
}

#[async_trait::async_trait]
pub trait HistoryStore {
    /// History rows matching `filter`, oldest first.
    async fn history(&self, filter: &HistoryFilter) -> StoreResult<Vec<HistoryEntry>>;
}

/// Appends one history row inside the caller's transaction.
pub(crate) async fn record(
    tx: &mut Transaction<'_, Any>,
    actor: &Actor,
    (entity, entity_id): (&str, &str),
    action: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO history (at, actor, entity, entity_id, action, before, after) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(now_millis())
    .bind(&actor.name)
    .bind(entity)
    .bind(entity_id)
    .bind(action)
    .bind(before.map(|v| v.to_string()))
    .bind(after.map(|v| v.to_string()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn json_column(value: Option<String>) -> StoreResult<Option<serde_json::Value>> {
    Ok(value.map(|text| serde_json::from_str(&text)).transpose()?)
}

#[async_trait::async_trait]
impl HistoryStore for SqlStore {
    async fn history(&self, filter: &HistoryFilter) -> StoreResult<Vec<HistoryEntry>> {
        // NULL binds switch a condition off, so one statement serves every filter.
        let rows = sqlx::query(
            "SELECT seq, at, actor, entity, entity_id, action, before, after FROM history \
             WHERE ($1 IS NULL OR entity = $1) AND ($2 IS NULL OR entity_id = $2) AND seq > $3 \
             ORDER BY seq LIMIT $4",
        )
        .bind(filter.entity.clone())
        .bind(filter.entity_id.clone())
        .bind(filter.after)
        .bind(filter.limit.clamp(1, 1000))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(HistoryEntry {
                    seq: row.try_get("seq")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    entity: row.try_get("entity")?,
                    entity_id: row.try_get("entity_id")?,
                    action: row.try_get("action")?,
                    before: json_column(row.try_get("before")?)?,
                    after: json_column(row.try_get("after")?)?,
                })
            })
            .collect()
    }
}

/// Reads a flag column: BOOLEAN on PostgreSQL, INTEGER 0/1 on SQLite (the Any driver
/// cannot decode SQLite's BOOLEAN type).
pub(crate) fn flag(row: &sqlx::any::AnyRow, column: &str) -> StoreResult<bool> {
    match row.try_get::<bool, _>(column) {
        Ok(value) => Ok(value),
        Err(_) => Ok(row.try_get::<i64, _>(column)? != 0),
    }
}
