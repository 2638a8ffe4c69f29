//! The system register (docs/rules.md#system-register): systems, their Maskinporten client ids
//! and the change log. Every write also appends to the history (see [`crate::history`]).

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use systembruker_domain::lifecycle::Transition;
use systembruker_domain::system::RegisteredSystem;
use uuid::Uuid;

use crate::history::{Actor, record};
use crate::sql::parse_uuid;
use crate::systemusers::lifecycle::{Record, Rows, apply};
use crate::{SqlStore, StoreError, StoreResult, now_millis};

/// A system as stored, with its internal id and timestamps.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSystem {
    pub internal_id: Uuid,
    /// `is_deleted` is filled from the row.
    pub system: RegisteredSystem,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What kind of change a change-log entry records (the reference's enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemChangeType {
    Create,
    Update,
    RightsUpdate,
    AccessPackageUpdate,
    Delete,
}

impl SystemChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::RightsUpdate => "rights_update",
            Self::AccessPackageUpdate => "access_package_update",
            Self::Delete => "delete",
        }
    }
}

/// One entry of a system's change log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemChange {
    pub id: Uuid,
    pub system_internal_id: Uuid,
    pub change_type: String,
    pub changed_by_org_number: Option<String>,
    pub client_id: Option<String>,
    pub changed_data: serde_json::Value,
    /// Unix milliseconds.
    pub created: i64,
}

#[async_trait::async_trait]
pub trait SystemRegisterStore {
    /// Stores a new system and claims its client ids. A taken system id or client id is
    /// a `Conflict` naming which.
    async fn create_system(&self, system: &RegisteredSystem, actor: &Actor) -> StoreResult<Uuid>;
    /// Replaces a live system and its client ids; `NotFound` when missing or deleted.
    async fn update_system(
        &self,
        system: &RegisteredSystem,
        change: SystemChangeType,
        actor: &Actor,
    ) -> StoreResult<()>;
    /// Soft-deletes a system, frees its client ids and denies its open requests.
    /// `Ok(false)` when there was no live system with that id.
    async fn delete_system(&self, system_id: &str, actor: &Actor) -> StoreResult<bool>;
    /// A system by id, deleted ones included.
    async fn system(&self, system_id: &str) -> StoreResult<Option<StoredSystem>>;
    /// The vendor's live systems.
    async fn systems_by_vendor(&self, vendor_org: &str) -> StoreResult<Vec<StoredSystem>>;
    /// Visible, live systems (the portal's list).
    async fn visible_systems(&self) -> StoreResult<Vec<StoredSystem>>;
    /// The live system that holds `client_id`, if any.
    async fn system_of_client(&self, client_id: &str) -> StoreResult<Option<String>>;
    async fn system_changelog(&self, system_id: &str) -> StoreResult<Vec<SystemChange>>;
}

const SYSTEM_COLUMNS: &str = "system_internal_id, body, is_deleted, created_at, updated_at";

fn system_from_row(row: &AnyRow) -> StoreResult<StoredSystem> {
    let mut system: RegisteredSystem = serde_json::from_str(&row.try_get::<String, _>("body")?)?;
    system.is_deleted = crate::history::flag(row, "is_deleted")?;
    Ok(StoredSystem {
        internal_id: parse_uuid(&row.try_get::<String, _>("system_internal_id")?)?,
        system,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The stored JSON body: the system without its output-only flag.
fn body_of(system: &RegisteredSystem) -> StoreResult<String> {
    let mut body = system.clone();
    body.is_deleted = false;
    Ok(serde_json::to_string(&body)?)
}

async fn claim_client_ids(
    tx: &mut Transaction<'_, Any>,
    internal_id: Uuid,
    client_ids: &[String],
) -> StoreResult<()> {
    for client_id in client_ids {
        sqlx::query(
            "INSERT INTO system_clients (client_id, system_internal_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(client_id)
        .bind(internal_id.to_string())
        .bind(now_millis())
        .execute(&mut **tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(taken) => StoreError::Conflict(taken.worded(format!(
                "client id {client_id} belongs to another system; remove it there first"
            ))),
            other => other,
        })?;
    }
    Ok(())
}

async fn log_change(
    tx: &mut Transaction<'_, Any>,
    internal_id: Uuid,
    change: SystemChangeType,
    data: &serde_json::Value,
    actor: &Actor,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO system_change_log (id, system_internal_id, change_type, changed_by_org, \
         client_id, changed_data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(internal_id.to_string())
    .bind(change.as_str())
    .bind(actor.org.clone())
    .bind(actor.client_id.clone())
    .bind(data.to_string())
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl SqlStore {
    async fn system_in_tx(
        tx: &mut Transaction<'_, Any>,
        system_id: &str,
    ) -> StoreResult<Option<StoredSystem>> {
        let row = sqlx::query(trusted_sql!(
            "SELECT {SYSTEM_COLUMNS} FROM systems WHERE system_id = $1"
        ))
        .bind(system_id)
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref().map(system_from_row).transpose()
    }
}

#[async_trait::async_trait]
impl SystemRegisterStore for SqlStore {
    async fn create_system(&self, system: &RegisteredSystem, actor: &Actor) -> StoreResult<Uuid> {
        let internal_id = Uuid::new_v4();
        let now = now_millis();
        let vendor = system.vendor_org().ok_or_else(|| {
            StoreError::Invalid("the system's vendor is not a valid organisation".into())
        })?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO systems (system_internal_id, system_id, vendor_org, body, is_visible, \
             is_deleted, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6)",
        )
        .bind(internal_id.to_string())
        .bind(&system.id)
        .bind(vendor.to_string())
        .bind(body_of(system)?)
        .bind(system.is_visible)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(taken) => StoreError::Conflict(
                taken.worded(format!("a system with id {} exists already", system.id)),
            ),
            other => other,
        })?;
        claim_client_ids(&mut tx, internal_id, &system.client_id).await?;
        let data = serde_json::to_value(system)?;
        log_change(&mut tx, internal_id, SystemChangeType::Create, &data, actor).await?;
        record(
            &mut tx,
            actor,
            ("system", &system.id),
            "create",
            None,
            Some(&data),
        )
        .await?;
        tx.commit().await?;
        Ok(internal_id)
    }

    async fn update_system(
        &self,
        system: &RegisteredSystem,
        change: SystemChangeType,
        actor: &Actor,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // The write comes first so SQLite takes its write lock before reading.
        let updated = sqlx::query(
            "UPDATE systems SET body = $1, is_visible = $2, updated_at = $3 \
             WHERE system_id = $4 AND NOT is_deleted",
        )
        .bind(body_of(system)?)
        .bind(system.is_visible)
        .bind(now_millis())
        .bind(&system.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let before = Self::system_in_tx(&mut tx, &system.id).await?;
        let Some(stored) = before.filter(|_| updated == 1) else {
            return Err(StoreError::NotFound(format!("system {}", system.id)));
        };
        sqlx::query("DELETE FROM system_clients WHERE system_internal_id = $1")
            .bind(stored.internal_id.to_string())
            .execute(&mut *tx)
            .await?;
        claim_client_ids(&mut tx, stored.internal_id, &system.client_id).await?;
        let data = serde_json::to_value(system)?;
        log_change(&mut tx, stored.internal_id, change, &data, actor).await?;
        record(
            &mut tx,
            actor,
            ("system", &system.id),
            change.as_str(),
            None,
            Some(&data),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_system(&self, system_id: &str, actor: &Actor) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let now = now_millis();
        let deleted = sqlx::query(
            "UPDATE systems SET is_deleted = TRUE, updated_at = $1 WHERE system_id = $2 AND NOT is_deleted",
        )
        .bind(now)
        .bind(system_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let Some(stored) = Self::system_in_tx(&mut tx, system_id)
            .await?
            .filter(|_| deleted == 1)
        else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM system_clients WHERE system_internal_id = $1")
            .bind(stored.internal_id.to_string())
            .execute(&mut *tx)
            .await?;
        // Open requests can never be approved now: they become Denied, and say so.
        let note = serde_json::json!({"reason": "the system was deleted"});
        let rows = Rows::OfSystem(system_id);
        apply(
            &mut tx,
            Record::Request,
            Transition::Deny,
            rows,
            Some(note),
            actor,
        )
        .await?;
        let data = serde_json::json!({"id": system_id});
        log_change(
            &mut tx,
            stored.internal_id,
            SystemChangeType::Delete,
            &data,
            actor,
        )
        .await?;
        let before = serde_json::to_value(&stored.system)?;
        record(
            &mut tx,
            actor,
            ("system", system_id),
            "delete",
            Some(&before),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn system(&self, system_id: &str) -> StoreResult<Option<StoredSystem>> {
        let row = sqlx::query(trusted_sql!(
            "SELECT {SYSTEM_COLUMNS} FROM systems WHERE system_id = $1"
        ))
        .bind(system_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(system_from_row).transpose()
    }

    async fn systems_by_vendor(&self, vendor_org: &str) -> StoreResult<Vec<StoredSystem>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {SYSTEM_COLUMNS} FROM systems WHERE vendor_org = $1 AND NOT is_deleted \
             ORDER BY system_id"
        ))
        .bind(vendor_org)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(system_from_row).collect()
    }

    async fn visible_systems(&self) -> StoreResult<Vec<StoredSystem>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {SYSTEM_COLUMNS} FROM systems WHERE is_visible AND NOT is_deleted ORDER BY system_id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(system_from_row).collect()
    }

    async fn system_of_client(&self, client_id: &str) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT s.system_id FROM system_clients c \
             JOIN systems s ON s.system_internal_id = c.system_internal_id WHERE c.client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(self.pool())
        .await?)
    }

    async fn system_changelog(&self, system_id: &str) -> StoreResult<Vec<SystemChange>> {
        let rows = sqlx::query(
            "SELECT l.id, l.system_internal_id, l.change_type, l.changed_by_org, l.client_id, \
             l.changed_data, l.created_at FROM system_change_log l \
             JOIN systems s ON s.system_internal_id = l.system_internal_id \
             WHERE s.system_id = $1 ORDER BY l.created_at, l.id",
        )
        .bind(system_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SystemChange {
                    id: parse_uuid(&row.try_get::<String, _>("id")?)?,
                    system_internal_id: parse_uuid(
                        &row.try_get::<String, _>("system_internal_id")?,
                    )?,
                    change_type: row.try_get("change_type")?,
                    changed_by_org_number: row.try_get("changed_by_org")?,
                    client_id: row.try_get("client_id")?,
                    changed_data: serde_json::from_str(&row.try_get::<String, _>("changed_data")?)?,
                    created: row.try_get("created_at")?,
                })
            })
            .collect()
    }
}
