//! Delegations: access packages and single resource rights one party gives another
//! (docs/rules.md#delegations), with who gave them and when.
//!
//! `to` is a plain uuid: a person, an organisation or a system user. Every change is
//! recorded in the append-only `delegation_changes` history, and the database's
//! triggers bump the authorization change counter in the same transaction (see
//! [`crate::PipStore::authz_versions`]).

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use uuid::Uuid;

use crate::history::{Actor, record};
use crate::sql::parse_uuid;
use crate::{SqlStore, StoreResult, now_millis};

/// A package `from` delegated to `to`, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredPackageDelegation {
    pub from: Uuid,
    pub to: Uuid,
    /// The catalogue's package code, e.g. `skatt-naering`.
    pub package_code: String,
    pub can_delegate: bool,
    pub created_at: i64,
    pub created_by: String,
}

/// A right on one resource (`resource_id` × `action`) `from` gave `to`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRight {
    pub from: Uuid,
    pub to: Uuid,
    pub resource_id: String,
    pub action: String,
    pub created_at: i64,
    pub created_by: String,
}

/// Which package delegations to list; `None` matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DelegationFilter {
    pub from: Option<Uuid>,
    pub to: Option<Uuid>,
    pub package_code: Option<String>,
}

#[async_trait::async_trait]
pub trait DelegationStore {
    /// Stores a package delegation; `Ok(false)` when it existed already (unchanged).
    async fn add_package_delegation(
        &self,
        delegation: &StoredPackageDelegation,
    ) -> StoreResult<bool>;
    /// Removes a package delegation; `Ok(false)` when there was none.
    async fn remove_package_delegation(
        &self,
        from: Uuid,
        to: Uuid,
        package_code: &str,
        changed_by: &str,
    ) -> StoreResult<bool>;
    /// Package delegations matching `filter`, oldest first.
    async fn package_delegations(
        &self,
        filter: &DelegationFilter,
    ) -> StoreResult<Vec<StoredPackageDelegation>>;
    /// Stores a resource right; `Ok(false)` when it existed already.
    async fn add_resource_right(&self, right: &ResourceRight) -> StoreResult<bool>;
    /// Removes a resource right; `Ok(false)` when there was none.
    async fn remove_resource_right(
        &self,
        from: Uuid,
        to: Uuid,
        resource_id: &str,
        action: &str,
        changed_by: &str,
    ) -> StoreResult<bool>;
    /// The resource rights `from` gave `to`.
    async fn resource_rights(&self, from: Uuid, to: Uuid) -> StoreResult<Vec<ResourceRight>>;
    /// Resource rights given by `from` and/or to `to` (`None` matches anything), oldest
    /// first.
    async fn resource_rights_matching(
        &self,
        from: Option<Uuid>,
        to: Option<Uuid>,
    ) -> StoreResult<Vec<ResourceRight>>;
}

pub(crate) fn package_delegation_from_row(row: &AnyRow) -> StoreResult<StoredPackageDelegation> {
    Ok(StoredPackageDelegation {
        from: parse_uuid(&row.try_get::<String, _>("from_party")?)?,
        to: parse_uuid(&row.try_get::<String, _>("to_party")?)?,
        package_code: row.try_get("package_code")?,
        can_delegate: row.try_get::<i64, _>("can_delegate")? != 0,
        created_at: row.try_get("created_at")?,
        created_by: row.try_get("created_by")?,
    })
}

pub(crate) fn resource_right_from_row(row: &AnyRow) -> StoreResult<ResourceRight> {
    Ok(ResourceRight {
        from: parse_uuid(&row.try_get::<String, _>("from_party")?)?,
        to: parse_uuid(&row.try_get::<String, _>("to_party")?)?,
        resource_id: row.try_get("resource_id")?,
        action: row.try_get("action")?,
        created_at: row.try_get("created_at")?,
        created_by: row.try_get("created_by")?,
    })
}

/// One history row: `kind` is `package` or `right`, `subject` the package code or
/// `resource_id:action`.
struct Change<'a> {
    kind: &'a str,
    from: Uuid,
    to: Uuid,
    subject: &'a str,
    change: &'a str,
    changed_by: &'a str,
}

async fn record_change(tx: &mut Transaction<'_, Any>, change: Change<'_>) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO delegation_changes (kind, from_party, to_party, subject, change, changed_at, \
         changed_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(change.kind)
    .bind(change.from.to_string())
    .bind(change.to.to_string())
    .bind(change.subject)
    .bind(change.change)
    .bind(now_millis())
    .bind(change.changed_by)
    .execute(&mut **tx)
    .await?;
    // The platform's history names every delegation change too, with the same actor.
    let entity = match change.kind {
        "package" => "package_delegation",
        _ => "resource_right",
    };
    let what = serde_json::json!({
        "from": change.from, "to": change.to, "subject": change.subject,
    });
    let (before, after) = match change.change {
        "added" => (None, Some(&what)),
        _ => (Some(&what), None),
    };
    record(
        tx,
        &Actor::named(change.changed_by),
        (
            entity,
            &format!("{}:{}:{}", change.from, change.to, change.subject),
        ),
        change.change,
        before,
        after,
    )
    .await?;
    Ok(())
}

const DELEGATION_COLUMNS: &str =
    "from_party, to_party, package_code, can_delegate, created_at, created_by";
/// `can_delegate` read as an integer: the `Any` driver cannot decode SQLite booleans.
const DELEGATION_SELECT: &str = "from_party, to_party, package_code, \
     CAST(CASE WHEN can_delegate THEN 1 ELSE 0 END AS BIGINT) AS can_delegate, created_at, created_by";
const RIGHT_COLUMNS: &str = "from_party, to_party, resource_id, action, created_at, created_by";

#[async_trait::async_trait]
impl DelegationStore for SqlStore {
    async fn add_package_delegation(&self, d: &StoredPackageDelegation) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(trusted_sql!(
            "INSERT INTO package_delegations ({DELEGATION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"
        ))
        .bind(d.from.to_string())
        .bind(d.to.to_string())
        .bind(&d.package_code)
        .bind(d.can_delegate)
        .bind(d.created_at)
        .bind(&d.created_by)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            let change = Change {
                kind: "package",
                from: d.from,
                to: d.to,
                subject: &d.package_code,
                change: "added",
                changed_by: &d.created_by,
            };
            record_change(&mut tx, change).await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    async fn remove_package_delegation(
        &self,
        from: Uuid,
        to: Uuid,
        package_code: &str,
        changed_by: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(
            "DELETE FROM package_delegations \
             WHERE from_party = $1 AND to_party = $2 AND package_code = $3",
        )
        .bind(from.to_string())
        .bind(to.to_string())
        .bind(package_code)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if deleted {
            let change = Change {
                kind: "package",
                from,
                to,
                subject: package_code,
                change: "removed",
                changed_by,
            };
            record_change(&mut tx, change).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }

    async fn package_delegations(
        &self,
        filter: &DelegationFilter,
    ) -> StoreResult<Vec<StoredPackageDelegation>> {
        // NULL binds switch a condition off, so one statement serves every filter.
        let rows = sqlx::query(trusted_sql!(
            "SELECT {DELEGATION_SELECT} FROM package_delegations \
             WHERE ($1 IS NULL OR from_party = $1) AND ($2 IS NULL OR to_party = $2) \
             AND ($3 IS NULL OR package_code = $3) ORDER BY created_at, package_code"
        ))
        .bind(filter.from.map(|u| u.to_string()))
        .bind(filter.to.map(|u| u.to_string()))
        .bind(filter.package_code.clone())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(package_delegation_from_row).collect()
    }

    async fn add_resource_right(&self, r: &ResourceRight) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(trusted_sql!(
            "INSERT INTO resource_rights ({RIGHT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"
        ))
        .bind(r.from.to_string())
        .bind(r.to.to_string())
        .bind(&r.resource_id)
        .bind(&r.action)
        .bind(r.created_at)
        .bind(&r.created_by)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            let subject = format!("{}:{}", r.resource_id, r.action);
            let change = Change {
                kind: "right",
                from: r.from,
                to: r.to,
                subject: &subject,
                change: "added",
                changed_by: &r.created_by,
            };
            record_change(&mut tx, change).await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    async fn remove_resource_right(
        &self,
        from: Uuid,
        to: Uuid,
        resource_id: &str,
        action: &str,
        changed_by: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(
            "DELETE FROM resource_rights \
             WHERE from_party = $1 AND to_party = $2 AND resource_id = $3 AND action = $4",
        )
        .bind(from.to_string())
        .bind(to.to_string())
        .bind(resource_id)
        .bind(action)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if deleted {
            let subject = format!("{resource_id}:{action}");
            let change = Change {
                kind: "right",
                from,
                to,
                subject: &subject,
                change: "removed",
                changed_by,
            };
            record_change(&mut tx, change).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }

    async fn resource_rights(&self, from: Uuid, to: Uuid) -> StoreResult<Vec<ResourceRight>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {RIGHT_COLUMNS} FROM resource_rights WHERE from_party = $1 AND to_party = $2 \
             ORDER BY resource_id, action"
        ))
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(resource_right_from_row).collect()
    }

    async fn resource_rights_matching(
        &self,
        from: Option<Uuid>,
        to: Option<Uuid>,
    ) -> StoreResult<Vec<ResourceRight>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {RIGHT_COLUMNS} FROM resource_rights \
             WHERE ($1 IS NULL OR from_party = $1) AND ($2 IS NULL OR to_party = $2) \
             ORDER BY created_at, resource_id, action"
        ))
        .bind(from.map(|u| u.to_string()))
        .bind(to.map(|u| u.to_string()))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(resource_right_from_row).collect()
    }
}
