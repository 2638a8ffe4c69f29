//! The resource registry: service resources and their XACML policies.

use sqlx::Row;
use sqlx::any::AnyRow;
use systembruker_domain::resource::ServiceResource;

use crate::{SqlStore, StoreError, StoreResult, now_millis};

#[derive(Debug, Clone, PartialEq)]
pub struct StoredResource {
    pub resource: ServiceResource,
    pub created_at: i64,
    pub updated_at: i64,
    /// Incremented on every change, so caches can tell a stale copy.
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPolicy {
    pub resource_id: String,
    pub xml: String,
    pub updated_at: i64,
    pub version: i64,
}

#[async_trait::async_trait]
pub trait ResourceStore {
    /// Stores a new resource; a taken identifier is a `Conflict`.
    async fn create_resource(&self, resource: &ServiceResource) -> StoreResult<StoredResource>;
    /// Replaces a resource; `NotFound` when there is none with that identifier.
    async fn update_resource(&self, resource: &ServiceResource) -> StoreResult<StoredResource>;
    async fn resource(&self, identifier: &str) -> StoreResult<Option<StoredResource>>;
    async fn resources(&self) -> StoreResult<Vec<StoredResource>>;
    /// Deletes a resource and its policy; `Ok(false)` when there was none.
    async fn delete_resource(&self, identifier: &str) -> StoreResult<bool>;
    /// Stores (or replaces) the policy of an existing resource.
    async fn put_policy(&self, identifier: &str, xml: &str) -> StoreResult<StoredPolicy>;
    async fn policy(&self, identifier: &str) -> StoreResult<Option<StoredPolicy>>;
}

const RESOURCE_COLUMNS: &str = "body, created_at, updated_at, version";

fn resource_from_row(row: &AnyRow) -> StoreResult<StoredResource> {
    let body: String = row.try_get("body")?;
    Ok(StoredResource {
        resource: serde_json::from_str(&body)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
    })
}

#[async_trait::async_trait]
impl ResourceStore for SqlStore {
    async fn create_resource(&self, resource: &ServiceResource) -> StoreResult<StoredResource> {
        let now = now_millis();
        sqlx::query(
            "INSERT INTO resources (identifier, owner_org, resource_type, delegable, \
             maskinporten_scope, body, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1)",
        )
        .bind(&resource.identifier)
        .bind(resource.has_competent_authority.organization.to_string())
        .bind(
            serde_json::to_value(resource.resource_type)?
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
        .bind(resource.delegable)
        .bind(resource.maskinporten_scope())
        .bind(serde_json::to_string(resource)?)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(taken) => StoreError::Conflict(taken.worded(format!(
                "a resource with identifier {:?} already exists",
                resource.identifier
            ))),
            other => other,
        })?;
        Ok(StoredResource {
            resource: resource.clone(),
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    async fn update_resource(&self, resource: &ServiceResource) -> StoreResult<StoredResource> {
        let now = now_millis();
        let row = sqlx::query(trusted_sql!(
            "UPDATE resources SET owner_org = $2, resource_type = $3, delegable = $4, \
             maskinporten_scope = $5, body = $6, updated_at = $7, version = version + 1 \
             WHERE identifier = $1 RETURNING {RESOURCE_COLUMNS}"
        ))
        .bind(&resource.identifier)
        .bind(resource.has_competent_authority.organization.to_string())
        .bind(
            serde_json::to_value(resource.resource_type)?
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
        .bind(resource.delegable)
        .bind(resource.maskinporten_scope())
        .bind(serde_json::to_string(resource)?)
        .bind(now)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("resource {:?}", resource.identifier)))?;
        resource_from_row(&row)
    }

    async fn resource(&self, identifier: &str) -> StoreResult<Option<StoredResource>> {
        let row = sqlx::query(trusted_sql!(
            "SELECT {RESOURCE_COLUMNS} FROM resources WHERE identifier = $1"
        ))
        .bind(identifier)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(resource_from_row).transpose()
    }

    async fn resources(&self) -> StoreResult<Vec<StoredResource>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {RESOURCE_COLUMNS} FROM resources ORDER BY identifier"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(resource_from_row).collect()
    }

    async fn delete_resource(&self, identifier: &str) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        // Deleted explicitly too: the cascade needs foreign keys, which an
        // operator may have switched off on a SQLite file.
        sqlx::query("DELETE FROM resource_policies WHERE resource_id = $1")
            .bind(identifier)
            .execute(&mut *tx)
            .await?;
        let deleted = sqlx::query("DELETE FROM resources WHERE identifier = $1")
            .bind(identifier)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(deleted)
    }

    async fn put_policy(&self, identifier: &str, xml: &str) -> StoreResult<StoredPolicy> {
        let now = now_millis();
        let row = sqlx::query(
            "INSERT INTO resource_policies (resource_id, policy_xml, updated_at, version) \
             SELECT identifier, $2, $3, 1 FROM resources WHERE identifier = $1 \
             ON CONFLICT (resource_id) DO UPDATE SET policy_xml = excluded.policy_xml, \
             updated_at = excluded.updated_at, version = resource_policies.version + 1 \
             RETURNING version",
        )
        .bind(identifier)
        .bind(xml)
        .bind(now)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("resource {identifier:?}")))?;
        Ok(StoredPolicy {
            resource_id: identifier.to_string(),
            xml: xml.to_string(),
            updated_at: now,
            version: row.try_get("version")?,
        })
    }

    async fn policy(&self, identifier: &str) -> StoreResult<Option<StoredPolicy>> {
        let row = sqlx::query(
            "SELECT resource_id, policy_xml, updated_at, version FROM resource_policies \
             WHERE resource_id = $1",
        )
        .bind(identifier)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(StoredPolicy {
                resource_id: row.try_get("resource_id")?,
                xml: row.try_get("policy_xml")?,
                updated_at: row.try_get("updated_at")?,
                version: row.try_get("version")?,
            })
        })
        .transpose()
    }
}
