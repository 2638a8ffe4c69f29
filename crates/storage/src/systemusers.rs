//! Vendor requests, system users and change requests (docs/rules.md#system-users,
//! #requests, #change-requests).
//!
//! What a system user may do lives in the delegation tables of migration 0003: rows from
//! the owner organisation to the system user's id, written in the same transaction as
//! the approval (so the PDP sees them at once) and removed with the system user.
//! Approval is atomic: a conditional status update decides which of two concurrent
//! approvals wins, and a partial unique index allows one live system user per
//! (system, owner, external ref).

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use systembruker_domain::system::{AccessPackageRef, Right};
use systembruker_domain::systemuser::{RequestStatus, SystemUserType};
use uuid::Uuid;

use crate::history::{Actor, record};
use crate::sql::parse_uuid;
use crate::{SqlStore, StoreError, StoreResult, now_millis};

/// A vendor's request for a system user, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredRequest {
    pub id: Uuid,
    pub user_type: SystemUserType,
    pub system_id: String,
    pub party_org: String,
    pub external_ref: String,
    pub integration_title: String,
    pub rights: Vec<Right>,
    pub access_packages: Vec<AccessPackageRef>,
    pub redirect_url: Option<String>,
    pub status: RequestStatus,
    pub escalated: bool,
    pub is_deleted: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub changed_by: String,
}

/// The live key of requests and system users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemUserKey {
    pub system_id: String,
    pub org: String,
    pub external_ref: String,
}

/// A system user, with its system's vendor and its owner's party id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredSystemUser {
    pub id: Uuid,
    pub system_id: String,
    pub vendor_org: String,
    pub owner_org: String,
    pub owner_party_uuid: Uuid,
    pub owner_party_id: i64,
    pub external_ref: String,
    pub integration_title: String,
    pub user_type: SystemUserType,
    /// Agent users only: the packages their clients must provide.
    pub access_packages: Vec<String>,
    pub request_id: Option<Uuid>,
    pub is_deleted: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub created_by: String,
    pub changed_by: String,
}

/// A system user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSystemUser {
    pub id: Uuid,
    pub key: SystemUserKey,
    pub owner_party_uuid: Uuid,
    pub integration_title: String,
    pub user_type: SystemUserType,
    pub access_packages: Vec<String>,
}

/// A right on one resource and action, as granted to a system user.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGrant {
    pub resource_id: String,
    pub action: String,
}

/// What a system user holds from its owner: package codes and resource rights.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Grants {
    pub packages: Vec<String>,
    pub rights: Vec<ResourceGrant>,
}

/// Changes to a system user's grants: packages and rights to add; packages and whole
/// resources (every action) to remove.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantChanges {
    pub add: Grants,
    pub remove_packages: Vec<String>,
    pub remove_resources: Vec<String>,
}

/// How an approval ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    Approved(Box<StoredSystemUser>),
    /// The request is not `New` (or no longer exists): someone else answered it first,
    /// or it timed out.
    NotNew,
    /// A live system user holds the key already.
    KeyTaken,
}

/// How creating a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestCreation {
    Created(StoredRequest),
    /// A live request of the same type had the key: it is returned unchanged.
    Existing(StoredRequest),
}

/// A change request, as stored (`id` = the vendor's correlation id).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredChangeRequest {
    pub id: Uuid,
    pub system_user_id: Uuid,
    pub system_id: String,
    pub party_org: String,
    pub external_ref: String,
    pub required_rights: Vec<Right>,
    pub unwanted_rights: Vec<Right>,
    pub required_packages: Vec<AccessPackageRef>,
    pub unwanted_packages: Vec<AccessPackageRef>,
    pub redirect_url: Option<String>,
    pub status: RequestStatus,
    pub is_deleted: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub changed_by: String,
}

#[async_trait::async_trait]
pub trait SystemUserStore {
    /// Stores a request (status `New`), or returns the live one of the same type and key.
    async fn create_request(
        &self,
        request: &StoredRequest,
        actor: &Actor,
    ) -> StoreResult<RequestCreation>;
    /// A request by id, deleted ones included.
    async fn request(&self, id: Uuid) -> StoreResult<Option<StoredRequest>>;
    /// The live request of `user_type` for `key`.
    async fn request_by_key(
        &self,
        key: &SystemUserKey,
        user_type: SystemUserType,
    ) -> StoreResult<Option<StoredRequest>>;
    /// Live requests of a system, ordered by id, after `after` (keyset paging).
    async fn requests_by_system(
        &self,
        system_id: &str,
        user_type: SystemUserType,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<StoredRequest>>;
    /// Live, `New`, escalated requests for `party_org` (the access managers' pending list).
    async fn pending_requests(
        &self,
        party_org: &str,
        user_type: SystemUserType,
    ) -> StoreResult<Vec<StoredRequest>>;
    /// Soft-deletes a live request; `Ok(false)` when there was none.
    async fn delete_request(&self, id: Uuid, actor: &Actor) -> StoreResult<bool>;
    /// Marks a live `New` request escalated; `Ok(false)` when it is not live and `New`.
    async fn escalate_request(&self, id: Uuid, actor: &Actor) -> StoreResult<bool>;
    /// Moves a live `New` request to `status` (Rejected, Timedout); `Ok(false)` when it
    /// was not `New` any more.
    async fn close_request(
        &self,
        id: Uuid,
        status: RequestStatus,
        actor: &Actor,
    ) -> StoreResult<bool>;
    /// Marks every live `New` request created before `cutoff` `Timedout`; returns how many.
    async fn expire_requests(&self, cutoff: i64, actor: &Actor) -> StoreResult<u64>;
    /// Accepts a `New` request created at or after `cutoff` and creates its system user
    /// (id = request id) with `grants` from the owner, all in one transaction.
    async fn approve_request(
        &self,
        request_id: Uuid,
        user: &NewSystemUser,
        grants: &Grants,
        cutoff: i64,
        actor: &Actor,
    ) -> StoreResult<Approval>;
    /// Creates a system user without a request (end-user-driven), with `grants`.
    /// `Approval::KeyTaken` when a live user holds the key.
    async fn create_system_user(
        &self,
        user: &NewSystemUser,
        grants: &Grants,
        actor: &Actor,
    ) -> StoreResult<Approval>;
    /// A system user by id, deleted ones included.
    async fn system_user(&self, id: Uuid) -> StoreResult<Option<StoredSystemUser>>;
    /// Live system users owned by `owner_org` of `user_type`.
    async fn system_users_of(
        &self,
        owner_org: &str,
        user_type: SystemUserType,
    ) -> StoreResult<Vec<StoredSystemUser>>;
    /// Live system users of a system, ordered by id, after `after`.
    async fn system_users_by_system(
        &self,
        system_id: &str,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<StoredSystemUser>>;
    async fn system_user_by_key(
        &self,
        key: &SystemUserKey,
    ) -> StoreResult<Option<StoredSystemUser>>;
    /// The Maskinporten lookup (docs/rules.md#maskinporten-lookup): a live user of a live
    /// system that lists `client_id`
    /// and belongs to `vendor_org`, owned by `key.org` with `key.external_ref`.
    async fn system_user_for_client(
        &self,
        client_id: &str,
        vendor_org: &str,
        owner_org: &str,
        external_ref: &str,
    ) -> StoreResult<Option<StoredSystemUser>>;
    /// Soft-deletes a live system user, revokes everything it holds and releases its
    /// request, so the key can be requested again. `Ok(false)` when there was none.
    async fn delete_system_user(&self, id: Uuid, actor: &Actor) -> StoreResult<bool>;
    /// What the system user holds from its owner now.
    async fn system_user_grants(&self, id: Uuid) -> StoreResult<Grants>;
    /// Stores a change request; `Conflict` when the id is taken.
    async fn create_change_request(
        &self,
        request: &StoredChangeRequest,
        actor: &Actor,
    ) -> StoreResult<()>;
    async fn change_request(&self, id: Uuid) -> StoreResult<Option<StoredChangeRequest>>;
    /// The newest live change request for `key`.
    async fn change_request_by_key(
        &self,
        key: &SystemUserKey,
    ) -> StoreResult<Option<StoredChangeRequest>>;
    async fn change_requests_by_system(
        &self,
        system_id: &str,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<StoredChangeRequest>>;
    async fn delete_change_request(&self, id: Uuid, actor: &Actor) -> StoreResult<bool>;
    /// Moves a live `New` change request to `status` without changing grants.
    async fn close_change_request(
        &self,
        id: Uuid,
        status: RequestStatus,
        actor: &Actor,
    ) -> StoreResult<bool>;
    /// Accepts a live `New` change request and applies `changes` to its system user in
    /// one transaction; `Ok(false)` when it was not `New` any more.
    async fn approve_change_request(
        &self,
        id: Uuid,
        changes: &GrantChanges,
        actor: &Actor,
    ) -> StoreResult<bool>;
}

// ----- rows -----

fn json_text<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    Ok(serde_json::to_string(value)?)
}

fn status_of(row: &AnyRow) -> StoreResult<RequestStatus> {
    let text: String = row.try_get("status")?;
    RequestStatus::parse(&text)
        .ok_or_else(|| StoreError::Corrupt(format!("request status {text:?}")))
}

fn user_type_of(row: &AnyRow) -> StoreResult<SystemUserType> {
    let text: String = row.try_get("user_type")?;
    SystemUserType::parse(&text)
        .ok_or_else(|| StoreError::Corrupt(format!("system user type {text:?}")))
}

fn json_of<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &str) -> StoreResult<T> {
    Ok(serde_json::from_str(&row.try_get::<String, _>(column)?)?)
}

const REQUEST_COLUMNS: &str = "id, user_type, system_id, party_org, external_ref, integration_title, \
     rights, access_packages, redirect_url, status, escalated, is_deleted, created_at, updated_at, changed_by";

fn request_from_row(row: &AnyRow) -> StoreResult<StoredRequest> {
    Ok(StoredRequest {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        user_type: user_type_of(row)?,
        system_id: row.try_get("system_id")?,
        party_org: row.try_get("party_org")?,
        external_ref: row.try_get("external_ref")?,
        integration_title: row.try_get("integration_title")?,
        rights: json_of(row, "rights")?,
        access_packages: json_of(row, "access_packages")?,
        redirect_url: row.try_get("redirect_url")?,
        status: status_of(row)?,
        escalated: crate::history::flag(row, "escalated")?,
        is_deleted: crate::history::flag(row, "is_deleted")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        changed_by: row.try_get("changed_by")?,
    })
}

const USER_SELECT: &str = "SELECT u.id, u.system_id, s.vendor_org, u.owner_org, u.owner_party_uuid, \
     p.party_id, u.external_ref, u.integration_title, u.user_type, u.access_packages, u.request_id, \
     u.is_deleted, u.created_at, u.updated_at, u.created_by, u.changed_by FROM system_users u \
     JOIN systems s ON s.system_id = u.system_id JOIN parties p ON p.party_uuid = u.owner_party_uuid";

fn user_from_row(row: &AnyRow) -> StoreResult<StoredSystemUser> {
    Ok(StoredSystemUser {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        system_id: row.try_get("system_id")?,
        vendor_org: row.try_get("vendor_org")?,
        owner_org: row.try_get("owner_org")?,
        owner_party_uuid: parse_uuid(&row.try_get::<String, _>("owner_party_uuid")?)?,
        owner_party_id: row.try_get("party_id")?,
        external_ref: row.try_get("external_ref")?,
        integration_title: row.try_get("integration_title")?,
        user_type: user_type_of(row)?,
        access_packages: json_of(row, "access_packages")?,
        request_id: row
            .try_get::<Option<String>, _>("request_id")?
            .map(|s| parse_uuid(&s))
            .transpose()?,
        is_deleted: crate::history::flag(row, "is_deleted")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        created_by: row.try_get("created_by")?,
        changed_by: row.try_get("changed_by")?,
    })
}

const CHANGE_COLUMNS: &str = "id, system_user_id, system_id, party_org, external_ref, required_rights, \
     unwanted_rights, required_packages, unwanted_packages, redirect_url, status, is_deleted, \
     created_at, updated_at, changed_by";

fn change_from_row(row: &AnyRow) -> StoreResult<StoredChangeRequest> {
    Ok(StoredChangeRequest {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        system_user_id: parse_uuid(&row.try_get::<String, _>("system_user_id")?)?,
        system_id: row.try_get("system_id")?,
        party_org: row.try_get("party_org")?,
        external_ref: row.try_get("external_ref")?,
        required_rights: json_of(row, "required_rights")?,
        unwanted_rights: json_of(row, "unwanted_rights")?,
        required_packages: json_of(row, "required_packages")?,
        unwanted_packages: json_of(row, "unwanted_packages")?,
        redirect_url: row.try_get("redirect_url")?,
        status: status_of(row)?,
        is_deleted: crate::history::flag(row, "is_deleted")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        changed_by: row.try_get("changed_by")?,
    })
}

// ----- grants in the delegation tables -----

/// Appends to the delegation tables' own history (`delegation_changes`).
async fn delegation_change(
    tx: &mut Transaction<'_, Any>,
    (kind, from, to): (&str, Uuid, Uuid),
    subject: &str,
    change: &str,
    actor: &Actor,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO delegation_changes (kind, from_party, to_party, subject, change, changed_at, \
         changed_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(kind)
    .bind(from.to_string())
    .bind(to.to_string())
    .bind(subject)
    .bind(change)
    .bind(now_millis())
    .bind(&actor.name)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Grants `grants` from `owner` to `user`; what exists already is left as it is.
async fn add_grants(
    tx: &mut Transaction<'_, Any>,
    owner: Uuid,
    user: Uuid,
    grants: &Grants,
    actor: &Actor,
) -> StoreResult<()> {
    let now = now_millis();
    for package in &grants.packages {
        let added = sqlx::query(
            "INSERT INTO package_delegations (from_party, to_party, package_code, can_delegate, \
             created_at, created_by) VALUES ($1, $2, $3, FALSE, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(owner.to_string())
        .bind(user.to_string())
        .bind(package)
        .bind(now)
        .bind(&actor.name)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if added == 1 {
            delegation_change(tx, ("package", owner, user), package, "added", actor).await?;
        }
    }
    for right in &grants.rights {
        let added = sqlx::query(
            "INSERT INTO resource_rights (from_party, to_party, resource_id, action, created_at, \
             created_by) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(owner.to_string())
        .bind(user.to_string())
        .bind(&right.resource_id)
        .bind(&right.action)
        .bind(now)
        .bind(&actor.name)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if added == 1 {
            let subject = format!("{}:{}", right.resource_id, right.action);
            delegation_change(tx, ("right", owner, user), &subject, "added", actor).await?;
        }
    }
    Ok(())
}

async fn grants_in(conn: &mut sqlx::AnyConnection, user: Uuid) -> StoreResult<Grants> {
    let packages: Vec<String> = sqlx::query_scalar(
        "SELECT d.package_code FROM package_delegations d JOIN system_users u \
         ON u.id = d.to_party AND u.owner_party_uuid = d.from_party WHERE d.to_party = $1 \
         ORDER BY d.package_code",
    )
    .bind(user.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let rows = sqlx::query(
        "SELECT r.resource_id, r.action FROM resource_rights r JOIN system_users u \
         ON u.id = r.to_party AND u.owner_party_uuid = r.from_party WHERE r.to_party = $1 \
         ORDER BY r.resource_id, r.action",
    )
    .bind(user.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let rights = rows
        .iter()
        .map(|row| {
            Ok(ResourceGrant {
                resource_id: row.try_get("resource_id")?,
                action: row.try_get("action")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Grants { packages, rights })
}

/// Removes packages and whole resources from `user`, recording each removal.
async fn remove_grants(
    tx: &mut Transaction<'_, Any>,
    owner: Uuid,
    user: Uuid,
    packages: &[String],
    resources: &[String],
    actor: &Actor,
) -> StoreResult<()> {
    for package in packages {
        let removed = sqlx::query(
            "DELETE FROM package_delegations WHERE from_party = $1 AND to_party = $2 AND package_code = $3",
        )
        .bind(owner.to_string())
        .bind(user.to_string())
        .bind(package)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if removed > 0 {
            delegation_change(tx, ("package", owner, user), package, "removed", actor).await?;
        }
    }
    for resource in resources {
        let actions: Vec<String> = sqlx::query_scalar(
            "DELETE FROM resource_rights WHERE from_party = $1 AND to_party = $2 AND resource_id = $3 \
             RETURNING action",
        )
        .bind(owner.to_string())
        .bind(user.to_string())
        .bind(resource)
        .fetch_all(&mut **tx)
        .await?;
        for action in actions {
            let subject = format!("{resource}:{action}");
            delegation_change(tx, ("right", owner, user), &subject, "removed", actor).await?;
        }
    }
    Ok(())
}

// ----- system users -----

/// Inserts the user; `Ok(false)` when a live user holds the key (the partial unique index).
async fn insert_user(
    tx: &mut Transaction<'_, Any>,
    user: &NewSystemUser,
    request_id: Option<Uuid>,
    actor: &Actor,
) -> StoreResult<bool> {
    let now = now_millis();
    let result = sqlx::query(
        "INSERT INTO system_users (id, system_id, owner_org, owner_party_uuid, external_ref, \
         integration_title, user_type, access_packages, request_id, is_deleted, created_at, \
         updated_at, created_by, changed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, FALSE, $10, $10, $11, $11)",
    )
    .bind(user.id.to_string())
    .bind(&user.key.system_id)
    .bind(&user.key.org)
    .bind(user.owner_party_uuid.to_string())
    .bind(&user.key.external_ref)
    .bind(&user.integration_title)
    .bind(user.user_type.as_str())
    .bind(json_text(&user.access_packages)?)
    .bind(request_id.map(|id| id.to_string()))
    .bind(now)
    .bind(&actor.name)
    .execute(&mut **tx)
    .await;
    match result.map_err(StoreError::from) {
        Ok(_) => Ok(true),
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(other) => Err(other),
    }
}

impl SqlStore {
    /// Inserts the user and its grants, with history; `Approval::KeyTaken` on a live key.
    async fn insert_user_with_grants(
        &self,
        mut tx: Transaction<'_, Any>,
        user: &NewSystemUser,
        request_id: Option<Uuid>,
        grants: &Grants,
        actor: &Actor,
    ) -> StoreResult<Approval> {
        if !insert_user(&mut tx, user, request_id, actor).await? {
            tx.rollback().await?;
            return Ok(Approval::KeyTaken);
        }
        add_grants(&mut tx, user.owner_party_uuid, user.id, grants, actor).await?;
        let id = user.id.to_string();
        let created = serde_json::json!({
            "systemId": user.key.system_id, "ownerOrg": user.key.org, "externalRef": user.key.external_ref,
            "integrationTitle": user.integration_title, "userType": user.user_type.as_str(),
            "requestId": request_id, "grants": grants,
        });
        record(
            &mut tx,
            actor,
            ("system_user", &id),
            "create",
            None,
            Some(&created),
        )
        .await?;
        tx.commit().await?;
        self.system_user(user.id)
            .await?
            .map(|user| Approval::Approved(Box::new(user)))
            .ok_or_else(|| {
                StoreError::NotFound(format!("system user {id} right after creating it"))
            })
    }

    async fn users_where(
        &self,
        clause: &str,
        binds: &[String],
    ) -> StoreResult<Vec<StoredSystemUser>> {
        let mut query = sqlx::query(trusted_sql!("{USER_SELECT} WHERE {clause}"));
        for value in binds {
            query = query.bind(value.clone());
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn requests_where(
        &self,
        clause: &str,
        binds: &[String],
    ) -> StoreResult<Vec<StoredRequest>> {
        let mut query = sqlx::query(trusted_sql!(
            "SELECT {REQUEST_COLUMNS} FROM systemuser_requests WHERE {clause}"
        ));
        for value in binds {
            query = query.bind(value.clone());
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter().map(request_from_row).collect()
    }

    /// Sets a request's status when it is live and `New`; records it. Returns whether it changed.
    async fn set_request_status(
        tx: &mut Transaction<'_, Any>,
        id: &str,
        status: RequestStatus,
        actor: &Actor,
    ) -> StoreResult<bool> {
        let changed = sqlx::query(
            "UPDATE systemuser_requests SET status = $1, updated_at = $2, changed_by = $3 \
             WHERE id = $4 AND status = 'New' AND NOT is_deleted",
        )
        .bind(status.as_str())
        .bind(now_millis())
        .bind(&actor.name)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected()
            == 1;
        if changed {
            let before = serde_json::json!({"status": "New"});
            let after = serde_json::json!({"status": status.as_str()});
            record(
                tx,
                actor,
                ("request", id),
                "status",
                Some(&before),
                Some(&after),
            )
            .await?;
        }
        Ok(changed)
    }
}

fn after_bind(after: Option<Uuid>) -> String {
    // Uuids as text sort the same way as the ids themselves; "" sorts before all of them.
    after.map(|id| id.to_string()).unwrap_or_default()
}

#[async_trait::async_trait]
impl SystemUserStore for SqlStore {
    async fn create_request(
        &self,
        request: &StoredRequest,
        actor: &Actor,
    ) -> StoreResult<RequestCreation> {
        let mut tx = self.begin_write().await?;
        let result = sqlx::query(trusted_sql!(
            "INSERT INTO systemuser_requests ({REQUEST_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'New', FALSE, FALSE, $10, $10, $11)"
        ))
        .bind(request.id.to_string())
        .bind(request.user_type.as_str())
        .bind(&request.system_id)
        .bind(&request.party_org)
        .bind(&request.external_ref)
        .bind(&request.integration_title)
        .bind(json_text(&request.rights)?)
        .bind(json_text(&request.access_packages)?)
        .bind(request.redirect_url.clone())
        .bind(now_millis())
        .bind(&actor.name)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from);
        match result {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => {
                tx.rollback().await?;
                let key = SystemUserKey {
                    system_id: request.system_id.clone(),
                    org: request.party_org.clone(),
                    external_ref: request.external_ref.clone(),
                };
                return match self.request_by_key(&key, request.user_type).await? {
                    Some(existing) => Ok(RequestCreation::Existing(existing)),
                    None => Err(StoreError::Conflict(format!(
                        "request id {} is taken",
                        request.id
                    ))),
                };
            }
            Err(other) => return Err(other),
        }
        let id = request.id.to_string();
        let after = serde_json::to_value(request)?;
        record(
            &mut tx,
            actor,
            ("request", &id),
            "create",
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        self.request(request.id)
            .await?
            .map(RequestCreation::Created)
            .ok_or_else(|| StoreError::NotFound(format!("request {id} right after creating it")))
    }

    async fn request(&self, id: Uuid) -> StoreResult<Option<StoredRequest>> {
        Ok(self
            .requests_where("id = $1", &[id.to_string()])
            .await?
            .pop())
    }

    async fn request_by_key(
        &self,
        key: &SystemUserKey,
        user_type: SystemUserType,
    ) -> StoreResult<Option<StoredRequest>> {
        let binds = [
            key.system_id.clone(),
            key.org.clone(),
            key.external_ref.clone(),
            user_type.as_str().to_string(),
        ];
        let clause = "system_id = $1 AND party_org = $2 AND external_ref = $3 AND user_type = $4 AND NOT is_deleted";
        Ok(self.requests_where(clause, &binds).await?.pop())
    }

    async fn requests_by_system(
        &self,
        system_id: &str,
        user_type: SystemUserType,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<StoredRequest>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {REQUEST_COLUMNS} FROM systemuser_requests WHERE system_id = $1 AND user_type = $2 \
             AND NOT is_deleted AND id > $3 ORDER BY id LIMIT $4"
        ))
        .bind(system_id)
        .bind(user_type.as_str())
        .bind(after_bind(after))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(request_from_row).collect()
    }

    async fn pending_requests(
        &self,
        party_org: &str,
        user_type: SystemUserType,
    ) -> StoreResult<Vec<StoredRequest>> {
        let clause = "party_org = $1 AND user_type = $2 AND status = 'New' AND escalated AND NOT is_deleted \
                      ORDER BY created_at, id";
        self.requests_where(
            clause,
            &[party_org.to_string(), user_type.as_str().to_string()],
        )
        .await
    }

    async fn delete_request(&self, id: Uuid, actor: &Actor) -> StoreResult<bool> {
        self.soft_delete("systemuser_requests", "request", id, actor)
            .await
    }

    async fn escalate_request(&self, id: Uuid, actor: &Actor) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE systemuser_requests SET escalated = TRUE, updated_at = $1, changed_by = $2 \
             WHERE id = $3 AND status = 'New' AND NOT is_deleted",
        )
        .bind(now_millis())
        .bind(&actor.name)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if changed {
            let after = serde_json::json!({"escalated": true});
            record(
                &mut tx,
                actor,
                ("request", &id.to_string()),
                "escalate",
                None,
                Some(&after),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn close_request(
        &self,
        id: Uuid,
        status: RequestStatus,
        actor: &Actor,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = Self::set_request_status(&mut tx, &id.to_string(), status, actor).await?;
        tx.commit().await?;
        Ok(changed)
    }

    async fn expire_requests(&self, cutoff: i64, actor: &Actor) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let expired: Vec<String> = sqlx::query_scalar(
            "UPDATE systemuser_requests SET status = 'Timedout', updated_at = $1, changed_by = $2 \
             WHERE status = 'New' AND NOT is_deleted AND created_at < $3 RETURNING id",
        )
        .bind(now_millis())
        .bind(&actor.name)
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await?;
        for id in &expired {
            let before = serde_json::json!({"status": "New"});
            let after = serde_json::json!({"status": "Timedout"});
            record(
                &mut tx,
                actor,
                ("request", id),
                "status",
                Some(&before),
                Some(&after),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(expired.len() as u64)
    }

    async fn approve_request(
        &self,
        request_id: Uuid,
        user: &NewSystemUser,
        grants: &Grants,
        cutoff: i64,
        actor: &Actor,
    ) -> StoreResult<Approval> {
        let mut tx = self.begin_write().await?;
        // The conditional update decides the race: the loser matches no row.
        let won = sqlx::query(
            "UPDATE systemuser_requests SET status = 'Accepted', updated_at = $1, changed_by = $2 \
             WHERE id = $3 AND status = 'New' AND NOT is_deleted AND created_at >= $4",
        )
        .bind(now_millis())
        .bind(&actor.name)
        .bind(request_id.to_string())
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !won {
            tx.rollback().await?;
            return Ok(Approval::NotNew);
        }
        let before = serde_json::json!({"status": "New"});
        let after = serde_json::json!({"status": "Accepted", "systemUserId": user.id});
        record(
            &mut tx,
            actor,
            ("request", &request_id.to_string()),
            "approve",
            Some(&before),
            Some(&after),
        )
        .await?;
        self.insert_user_with_grants(tx, user, Some(request_id), grants, actor)
            .await
    }

    async fn create_system_user(
        &self,
        user: &NewSystemUser,
        grants: &Grants,
        actor: &Actor,
    ) -> StoreResult<Approval> {
        let tx = self.begin_write().await?;
        self.insert_user_with_grants(tx, user, None, grants, actor)
            .await
    }

    async fn system_user(&self, id: Uuid) -> StoreResult<Option<StoredSystemUser>> {
        Ok(self
            .users_where("u.id = $1", &[id.to_string()])
            .await?
            .pop())
    }

    async fn system_users_of(
        &self,
        owner_org: &str,
        user_type: SystemUserType,
    ) -> StoreResult<Vec<StoredSystemUser>> {
        let clause = "u.owner_org = $1 AND u.user_type = $2 AND NOT u.is_deleted ORDER BY u.created_at, u.id";
        self.users_where(
            clause,
            &[owner_org.to_string(), user_type.as_str().to_string()],
        )
        .await
    }

    async fn system_users_by_system(
        &self,
        system_id: &str,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<StoredSystemUser>> {
        let rows = sqlx::query(trusted_sql!(
            "{USER_SELECT} WHERE u.system_id = $1 AND NOT u.is_deleted AND u.id > $2 ORDER BY u.id LIMIT $3"
        ))
        .bind(system_id)
        .bind(after_bind(after))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn system_user_by_key(
        &self,
        key: &SystemUserKey,
    ) -> StoreResult<Option<StoredSystemUser>> {
        let clause =
            "u.system_id = $1 AND u.owner_org = $2 AND u.external_ref = $3 AND NOT u.is_deleted";
        let binds = [
            key.system_id.clone(),
            key.org.clone(),
            key.external_ref.clone(),
        ];
        Ok(self.users_where(clause, &binds).await?.pop())
    }

    async fn system_user_for_client(
        &self,
        client_id: &str,
        vendor_org: &str,
        owner_org: &str,
        external_ref: &str,
    ) -> StoreResult<Option<StoredSystemUser>> {
        let clause = "u.owner_org = $1 AND u.external_ref = $2 AND s.vendor_org = $3 \
             AND NOT u.is_deleted AND NOT s.is_deleted AND EXISTS (SELECT 1 FROM system_clients c \
             WHERE c.system_internal_id = s.system_internal_id AND c.client_id = $4)";
        let binds = [
            owner_org.to_string(),
            external_ref.to_string(),
            vendor_org.to_string(),
            client_id.to_string(),
        ];
        Ok(self.users_where(clause, &binds).await?.pop())
    }

    async fn delete_system_user(&self, id: Uuid, actor: &Actor) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        // The soft delete's trigger removes an agent's client delegations; marking them
        // first lets the history name who removed them.
        sqlx::query("UPDATE client_delegations SET removed_by = $1 WHERE system_user_id = $2")
            .bind(&actor.name)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let deleted = sqlx::query(
            "UPDATE system_users SET is_deleted = TRUE, updated_at = $1, changed_by = $2 \
             WHERE id = $3 AND NOT is_deleted",
        )
        .bind(now_millis())
        .bind(&actor.name)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !deleted {
            tx.rollback().await?;
            return Ok(false);
        }
        let row =
            sqlx::query("SELECT owner_party_uuid, request_id FROM system_users WHERE id = $1")
                .bind(id.to_string())
                .fetch_one(&mut *tx)
                .await?;
        let owner = parse_uuid(&row.try_get::<String, _>("owner_party_uuid")?)?;
        let request_id: Option<String> = row.try_get("request_id")?;
        let held = grants_in(&mut tx, id).await?;
        let resources: Vec<String> = held.rights.iter().map(|r| r.resource_id.clone()).collect();
        remove_grants(&mut tx, owner, id, &held.packages, &resources, actor).await?;
        // Releasing the request and change requests lets the vendor ask for the key again.
        if let Some(request_id) = request_id {
            sqlx::query(
                "UPDATE systemuser_requests SET is_deleted = TRUE, updated_at = $1 WHERE id = $2",
            )
            .bind(now_millis())
            .bind(&request_id)
            .execute(&mut *tx)
            .await?;
            record(
                &mut tx,
                actor,
                ("request", &request_id),
                "delete",
                None,
                None,
            )
            .await?;
        }
        sqlx::query("UPDATE change_requests SET is_deleted = TRUE, updated_at = $1 WHERE system_user_id = $2")
            .bind(now_millis())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let before = serde_json::json!({"grants": held});
        record(
            &mut tx,
            actor,
            ("system_user", &id.to_string()),
            "delete",
            Some(&before),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn system_user_grants(&self, id: Uuid) -> StoreResult<Grants> {
        let mut conn = self.pool().acquire().await?;
        grants_in(&mut conn, id).await
    }

    async fn create_change_request(
        &self,
        request: &StoredChangeRequest,
        actor: &Actor,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(trusted_sql!(
            "INSERT INTO change_requests ({CHANGE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'New', FALSE, $11, $11, $12)"
        ))
        .bind(request.id.to_string())
        .bind(request.system_user_id.to_string())
        .bind(&request.system_id)
        .bind(&request.party_org)
        .bind(&request.external_ref)
        .bind(json_text(&request.required_rights)?)
        .bind(json_text(&request.unwanted_rights)?)
        .bind(json_text(&request.required_packages)?)
        .bind(json_text(&request.unwanted_packages)?)
        .bind(request.redirect_url.clone())
        .bind(now_millis())
        .bind(&actor.name)
        .execute(&mut *tx)
        .await?;
        let after = serde_json::to_value(request)?;
        record(
            &mut tx,
            actor,
            ("change_request", &request.id.to_string()),
            "create",
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn change_request(&self, id: Uuid) -> StoreResult<Option<StoredChangeRequest>> {
        let row = sqlx::query(trusted_sql!(
            "SELECT {CHANGE_COLUMNS} FROM change_requests WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(change_from_row).transpose()
    }

    async fn change_request_by_key(
        &self,
        key: &SystemUserKey,
    ) -> StoreResult<Option<StoredChangeRequest>> {
        let row = sqlx::query(trusted_sql!(
            "SELECT {CHANGE_COLUMNS} FROM change_requests WHERE system_id = $1 AND party_org = $2 \
             AND external_ref = $3 AND NOT is_deleted ORDER BY created_at DESC, id LIMIT 1"
        ))
        .bind(&key.system_id)
        .bind(&key.org)
        .bind(&key.external_ref)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(change_from_row).transpose()
    }

    async fn change_requests_by_system(
        &self,
        system_id: &str,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<StoredChangeRequest>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {CHANGE_COLUMNS} FROM change_requests WHERE system_id = $1 AND NOT is_deleted \
             AND id > $2 ORDER BY id LIMIT $3"
        ))
        .bind(system_id)
        .bind(after_bind(after))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(change_from_row).collect()
    }

    async fn delete_change_request(&self, id: Uuid, actor: &Actor) -> StoreResult<bool> {
        self.soft_delete("change_requests", "change_request", id, actor)
            .await
    }

    async fn close_change_request(
        &self,
        id: Uuid,
        status: RequestStatus,
        actor: &Actor,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = set_change_status(&mut tx, id, status, actor).await?;
        tx.commit().await?;
        Ok(changed)
    }

    async fn approve_change_request(
        &self,
        id: Uuid,
        changes: &GrantChanges,
        actor: &Actor,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        if !set_change_status(&mut tx, id, RequestStatus::Accepted, actor).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        let row = sqlx::query(
            "SELECT u.id, u.owner_party_uuid FROM change_requests c JOIN system_users u \
             ON u.id = c.system_user_id WHERE c.id = $1 AND NOT u.is_deleted",
        )
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Err(StoreError::NotFound(format!(
                "the system user of change request {id}"
            )));
        };
        let user = parse_uuid(&row.try_get::<String, _>("id")?)?;
        let owner = parse_uuid(&row.try_get::<String, _>("owner_party_uuid")?)?;
        add_grants(&mut tx, owner, user, &changes.add, actor).await?;
        remove_grants(
            &mut tx,
            owner,
            user,
            &changes.remove_packages,
            &changes.remove_resources,
            actor,
        )
        .await?;
        sqlx::query("UPDATE system_users SET updated_at = $1, changed_by = $2 WHERE id = $3")
            .bind(now_millis())
            .bind(&actor.name)
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        let after = serde_json::to_value(changes)?;
        record(
            &mut tx,
            actor,
            ("system_user", &user.to_string()),
            "change",
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

async fn set_change_status(
    tx: &mut Transaction<'_, Any>,
    id: Uuid,
    status: RequestStatus,
    actor: &Actor,
) -> StoreResult<bool> {
    let changed = sqlx::query(
        "UPDATE change_requests SET status = $1, updated_at = $2, changed_by = $3 \
         WHERE id = $4 AND status = 'New' AND NOT is_deleted",
    )
    .bind(status.as_str())
    .bind(now_millis())
    .bind(&actor.name)
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    if changed {
        let after = serde_json::json!({"status": status.as_str()});
        record(
            tx,
            actor,
            ("change_request", &id.to_string()),
            "status",
            None,
            Some(&after),
        )
        .await?;
    }
    Ok(changed)
}

impl SqlStore {
    /// Marks a row of `table` deleted (once) and records it in the history, in one
    /// transaction. `table` and `entity` are constants of this module, never input.
    async fn soft_delete(
        &self,
        table: &'static str,
        entity: &'static str,
        id: Uuid,
        actor: &Actor,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(trusted_sql!(
            "UPDATE {table} SET is_deleted = TRUE, updated_at = $1, changed_by = $2 \
             WHERE id = $3 AND NOT is_deleted"
        ))
        .bind(now_millis())
        .bind(&actor.name)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if deleted {
            record(
                &mut tx,
                actor,
                (entity, &id.to_string()),
                "delete",
                None,
                None,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
