//! System users: creating one (from a request or directly), reading and deleting them.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use systembruker_domain::lifecycle::Transition;
use systembruker_domain::systemuser::SystemUserType;
use uuid::Uuid;

use super::grants::{add_grants, grants_in, remove_grants};
use super::lifecycle::{Record, Rows, apply};
use super::{Grants, after_bind, json_of, json_text, user_type_of};
use crate::history::{Actor, record};
use crate::sql::parse_uuid;
use crate::{Constraint, SqlStore, StoreError, StoreResult, now_millis};

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
        Err(taken) if taken.constraint() == Some(Constraint::LiveSystemUserKey) => Ok(false),
        Err(other) => Err(other),
    }
}

/// Inserts the user and its grants, with history; `Approval::KeyTaken` on a live key.
pub(super) async fn insert_with_grants(
    store: &SqlStore,
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
    by_id(store, user.id)
        .await?
        .map(|user| Approval::Approved(Box::new(user)))
        .ok_or_else(|| StoreError::NotFound(format!("system user {id} right after creating it")))
}

async fn users_where(
    store: &SqlStore,
    clause: &str,
    binds: &[String],
) -> StoreResult<Vec<StoredSystemUser>> {
    let mut query = sqlx::query(trusted_sql!("{USER_SELECT} WHERE {clause}"));
    for value in binds {
        query = query.bind(value.clone());
    }
    let rows = query.fetch_all(store.pool()).await?;
    rows.iter().map(user_from_row).collect()
}

pub(super) async fn create(
    store: &SqlStore,
    user: &NewSystemUser,
    grants: &Grants,
    actor: &Actor,
) -> StoreResult<Approval> {
    let tx = store.begin_write().await?;
    insert_with_grants(store, tx, user, None, grants, actor).await
}

pub(super) async fn by_id(store: &SqlStore, id: Uuid) -> StoreResult<Option<StoredSystemUser>> {
    Ok(users_where(store, "u.id = $1", &[id.to_string()])
        .await?
        .pop())
}

pub(super) async fn of_owner(
    store: &SqlStore,
    owner_org: &str,
    user_type: SystemUserType,
) -> StoreResult<Vec<StoredSystemUser>> {
    let clause =
        "u.owner_org = $1 AND u.user_type = $2 AND NOT u.is_deleted ORDER BY u.created_at, u.id";
    users_where(
        store,
        clause,
        &[owner_org.to_string(), user_type.as_str().to_string()],
    )
    .await
}

pub(super) async fn of_system(
    store: &SqlStore,
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
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(user_from_row).collect()
}

pub(super) async fn by_key(
    store: &SqlStore,
    key: &SystemUserKey,
) -> StoreResult<Option<StoredSystemUser>> {
    let clause =
        "u.system_id = $1 AND u.owner_org = $2 AND u.external_ref = $3 AND NOT u.is_deleted";
    let binds = [
        key.system_id.clone(),
        key.org.clone(),
        key.external_ref.clone(),
    ];
    Ok(users_where(store, clause, &binds).await?.pop())
}

pub(super) async fn for_client(
    store: &SqlStore,
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
    Ok(users_where(store, clause, &binds).await?.pop())
}

pub(super) async fn delete(store: &SqlStore, id: Uuid, actor: &Actor) -> StoreResult<bool> {
    let mut tx = store.begin_write().await?;
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
    let row = sqlx::query("SELECT owner_party_uuid, request_id FROM system_users WHERE id = $1")
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
        let rows = Rows::Id(parse_uuid(&request_id)?);
        apply(
            &mut tx,
            Record::Request,
            Transition::Release,
            rows,
            None,
            actor,
        )
        .await?;
    }
    let rows = Rows::OfSystemUser(id);
    apply(
        &mut tx,
        Record::ChangeRequest,
        Transition::Release,
        rows,
        None,
        actor,
    )
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
