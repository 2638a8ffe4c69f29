//! Vendor requests for a system user: storing, reading and answering them.

use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use systembruker_domain::lifecycle::Transition;
use systembruker_domain::system::{AccessPackageRef, Right};
use systembruker_domain::systemuser::{RequestStatus, SystemUserType};
use uuid::Uuid;

use super::lifecycle::{Record, Rows, apply};
use super::{
    Approval, Grants, NewSystemUser, SystemUserKey, after_bind, json_of, json_text, status_of,
    user_type_of,
};
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

/// How creating a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestCreation {
    Created(StoredRequest),
    /// A live request of the same type had the key: it is returned unchanged.
    Existing(StoredRequest),
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

async fn requests_where(
    store: &SqlStore,
    clause: &str,
    binds: &[String],
) -> StoreResult<Vec<StoredRequest>> {
    let mut query = sqlx::query(trusted_sql!(
        "SELECT {REQUEST_COLUMNS} FROM systemuser_requests WHERE {clause}"
    ));
    for value in binds {
        query = query.bind(value.clone());
    }
    let rows = query.fetch_all(store.pool()).await?;
    rows.iter().map(request_from_row).collect()
}

pub(super) async fn create(
    store: &SqlStore,
    request: &StoredRequest,
    actor: &Actor,
) -> StoreResult<RequestCreation> {
    let mut tx = store.begin_write().await?;
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
            return match by_key(store, &key, request.user_type).await? {
                Some(existing) => Ok(RequestCreation::Existing(existing)),
                None => Err(StoreError::conflict(format!(
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
    by_id(store, request.id)
        .await?
        .map(RequestCreation::Created)
        .ok_or_else(|| StoreError::NotFound(format!("request {id} right after creating it")))
}

pub(super) async fn by_id(store: &SqlStore, id: Uuid) -> StoreResult<Option<StoredRequest>> {
    Ok(requests_where(store, "id = $1", &[id.to_string()])
        .await?
        .pop())
}

pub(super) async fn by_key(
    store: &SqlStore,
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
    Ok(requests_where(store, clause, &binds).await?.pop())
}

pub(super) async fn of_system(
    store: &SqlStore,
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
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(request_from_row).collect()
}

pub(super) async fn pending(
    store: &SqlStore,
    party_org: &str,
    user_type: SystemUserType,
) -> StoreResult<Vec<StoredRequest>> {
    let clause = "party_org = $1 AND user_type = $2 AND status = 'New' AND escalated AND NOT is_deleted \
                  ORDER BY created_at, id";
    requests_where(
        store,
        clause,
        &[party_org.to_string(), user_type.as_str().to_string()],
    )
    .await
}

pub(super) async fn expire(store: &SqlStore, cutoff: i64, actor: &Actor) -> StoreResult<u64> {
    let mut tx = store.begin_write().await?;
    let rows = Rows::CreatedBefore(cutoff);
    let expired = apply(
        &mut tx,
        Record::Request,
        Transition::TimeOut,
        rows,
        None,
        actor,
    )
    .await?;
    tx.commit().await?;
    Ok(expired.len() as u64)
}

/// Accepts the request and creates its system user in one transaction.
pub(super) async fn approve(
    store: &SqlStore,
    request_id: Uuid,
    (user, grants): (&NewSystemUser, &Grants),
    cutoff: i64,
    actor: &Actor,
) -> StoreResult<Approval> {
    let mut tx = store.begin_write().await?;
    let rows = Rows::IdCreatedSince(request_id, cutoff);
    let note = json!({"systemUserId": user.id});
    let won = apply(
        &mut tx,
        Record::Request,
        Transition::Accept,
        rows,
        Some(note),
        actor,
    )
    .await?;
    if won.is_empty() {
        tx.rollback().await?;
        return Ok(Approval::NotNew);
    }
    super::users::insert_with_grants(store, tx, user, Some(request_id), grants, actor).await
}
