//! Change requests: a vendor's wish to change what a system user holds, answered by
//! its owner (`id` is the vendor's correlation id).

use sqlx::Row;
use sqlx::any::AnyRow;
use systembruker_domain::lifecycle::Transition;
use systembruker_domain::system::{AccessPackageRef, Right};
use systembruker_domain::systemuser::RequestStatus;
use uuid::Uuid;

use super::grants::{GrantChanges, add_grants, remove_grants};
use super::lifecycle::{Record, Rows, apply};
use super::{SystemUserKey, after_bind, json_of, json_text, status_of};
use crate::history::{Actor, record};
use crate::sql::parse_uuid;
use crate::{SqlStore, StoreError, StoreResult, now_millis};

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

pub(super) async fn create(
    store: &SqlStore,
    request: &StoredChangeRequest,
    actor: &Actor,
) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
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

pub(super) async fn by_id(store: &SqlStore, id: Uuid) -> StoreResult<Option<StoredChangeRequest>> {
    let row = sqlx::query(trusted_sql!(
        "SELECT {CHANGE_COLUMNS} FROM change_requests WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(store.pool())
    .await?;
    row.as_ref().map(change_from_row).transpose()
}

pub(super) async fn by_key(
    store: &SqlStore,
    key: &SystemUserKey,
) -> StoreResult<Option<StoredChangeRequest>> {
    let row = sqlx::query(trusted_sql!(
        "SELECT {CHANGE_COLUMNS} FROM change_requests WHERE system_id = $1 AND party_org = $2 \
         AND external_ref = $3 AND NOT is_deleted ORDER BY created_at DESC, id LIMIT 1"
    ))
    .bind(&key.system_id)
    .bind(&key.org)
    .bind(&key.external_ref)
    .fetch_optional(store.pool())
    .await?;
    row.as_ref().map(change_from_row).transpose()
}

pub(super) async fn of_system(
    store: &SqlStore,
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
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(change_from_row).collect()
}

pub(super) async fn approve(
    store: &SqlStore,
    id: Uuid,
    changes: &GrantChanges,
    actor: &Actor,
) -> StoreResult<bool> {
    let mut tx = store.begin_write().await?;
    let accepted = apply(
        &mut tx,
        Record::ChangeRequest,
        Transition::Accept,
        Rows::Id(id),
        None,
        actor,
    )
    .await?;
    if accepted.is_empty() {
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
