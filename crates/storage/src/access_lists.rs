//! Access lists of the resource registry: an owner's named lists of organisations,
//! connected to resources with an optional action filter (migration 0009). Every change
//! raises the list's version and writes a history row (entity `access_list`, id
//! `{owner}/{identifier}`) in the same transaction.

use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use uuid::Uuid;

use crate::history::{Actor, record};
use crate::sql::parse_uuid;
use crate::{SqlStore, StoreError, StoreResult, now_millis};

/// An access list's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessList {
    pub id: Uuid,
    pub owner: String,
    pub identifier: String,
    pub name: String,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Raised by every change to the list, its members or its connections.
    pub version: i64,
}

/// An organisation on a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessListMember {
    pub party: Uuid,
    pub party_id: i64,
    pub org_number: Option<String>,
    /// When it was added (unix milliseconds).
    pub since: i64,
}

/// A list's connection to a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessListConnection {
    pub resource_id: String,
    /// The actions the list lets through; empty: every action.
    pub actions: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// How a list's members change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    /// Adds the parties not on the list yet.
    Add,
    /// Removes the parties on the list.
    Remove,
    /// Makes the list hold exactly these parties.
    Replace,
}

impl MemberChange {
    fn action(self) -> &'static str {
        match self {
            Self::Add => "members_added",
            Self::Remove => "members_removed",
            Self::Replace => "members_replaced",
        }
    }
}

/// Names a list: its owner and the owner's identifier for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListKey<'a> {
    pub owner: &'a str,
    pub identifier: &'a str,
}

impl ListKey<'_> {
    fn history_id(&self) -> String {
        format!("{}/{}", self.owner, self.identifier)
    }

    fn not_found(&self) -> StoreError {
        StoreError::NotFound(format!(
            "access list {:?} of {:?}",
            self.identifier, self.owner
        ))
    }
}

#[async_trait::async_trait]
pub trait AccessListStore {
    /// The owner's lists, by identifier.
    async fn access_lists(&self, owner: &str) -> StoreResult<Vec<AccessList>>;
    async fn access_list(&self, key: ListKey<'_>) -> StoreResult<Option<AccessList>>;
    /// Creates the list, or changes its name and description; `true` when created.
    async fn upsert_access_list(
        &self,
        key: ListKey<'_>,
        name: &str,
        description: &str,
        actor: &Actor,
    ) -> StoreResult<(AccessList, bool)>;
    /// Deletes the list with its members and connections; `None` when there was none.
    async fn delete_access_list(
        &self,
        key: ListKey<'_>,
        actor: &Actor,
    ) -> StoreResult<Option<AccessList>>;
    /// The list's members, by party uuid.
    async fn access_list_members(&self, list: Uuid) -> StoreResult<Vec<AccessListMember>>;
    /// Adds, removes or replaces members (registered parties); `NotFound` without the list.
    async fn change_access_list_members(
        &self,
        key: ListKey<'_>,
        change: MemberChange,
        parties: &[Uuid],
        actor: &Actor,
    ) -> StoreResult<AccessList>;
    /// The list's resource connections, by resource.
    async fn access_list_connections(&self, list: Uuid) -> StoreResult<Vec<AccessListConnection>>;
    /// Connects the list to a resource, or replaces the connection's action filter.
    async fn upsert_access_list_connection(
        &self,
        key: ListKey<'_>,
        resource_id: &str,
        actions: &[String],
        actor: &Actor,
    ) -> StoreResult<(AccessList, AccessListConnection)>;
    /// Removes a connection; `None` when there was none (the list must exist).
    async fn delete_access_list_connection(
        &self,
        key: ListKey<'_>,
        resource_id: &str,
        actor: &Actor,
    ) -> StoreResult<Option<(AccessList, AccessListConnection)>>;
    /// For the PDP: the action filter of every list connected to `resource_id` that
    /// `party` is on (one indexed query; an empty filter lets every action through).
    async fn access_list_filters(
        &self,
        resource_id: &str,
        party: Uuid,
    ) -> StoreResult<Vec<Vec<String>>>;
    /// For the PDP: `{owner}:{identifier}` of every list `party` is on.
    async fn access_list_memberships(&self, party: Uuid) -> StoreResult<Vec<String>>;
}

const LIST_COLUMNS: &str =
    "id, owner, identifier, name, description, created_at, updated_at, version";

fn list_from_row(row: &AnyRow) -> StoreResult<AccessList> {
    Ok(AccessList {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        owner: row.try_get("owner")?,
        identifier: row.try_get("identifier")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
    })
}

fn connection_from_row(row: &AnyRow) -> StoreResult<AccessListConnection> {
    let actions: String = row.try_get("actions")?;
    Ok(AccessListConnection {
        resource_id: row.try_get("resource_id")?,
        actions: serde_json::from_str(&actions)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn list_json(list: &AccessList) -> serde_json::Value {
    json!({"identifier": list.identifier, "name": list.name, "description": list.description})
}

fn connection_json(connection: &AccessListConnection) -> serde_json::Value {
    json!({"resourceIdentifier": connection.resource_id, "actionFilters": connection.actions})
}

async fn load_list(
    tx: &mut Transaction<'_, Any>,
    key: ListKey<'_>,
) -> StoreResult<Option<AccessList>> {
    let row = sqlx::query(trusted_sql!(
        "SELECT {LIST_COLUMNS} FROM access_lists WHERE owner = $1 AND identifier = $2"
    ))
    .bind(key.owner)
    .bind(key.identifier)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(list_from_row).transpose()
}

/// Raises the list's version: every change to it or what hangs on it moves it.
async fn touch(tx: &mut Transaction<'_, Any>, list: Uuid, now: i64) -> StoreResult<AccessList> {
    let row = sqlx::query(trusted_sql!(
        "UPDATE access_lists SET updated_at = $2, version = version + 1 WHERE id = $1 \
         RETURNING {LIST_COLUMNS}"
    ))
    .bind(list.to_string())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    list_from_row(&row)
}

async fn member_uuids(tx: &mut Transaction<'_, Any>, list: Uuid) -> StoreResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT party_uuid FROM access_list_members WHERE list_id = $1 ORDER BY party_uuid",
    )
    .bind(list.to_string())
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String, _>("party_uuid")?))
        .collect()
}

async fn connection_in(
    tx: &mut Transaction<'_, Any>,
    list: Uuid,
    resource_id: &str,
) -> StoreResult<Option<AccessListConnection>> {
    let row = sqlx::query(
        "SELECT resource_id, actions, created_at, updated_at FROM access_list_resources \
         WHERE list_id = $1 AND resource_id = $2",
    )
    .bind(list.to_string())
    .bind(resource_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(connection_from_row).transpose()
}

#[async_trait::async_trait]
impl AccessListStore for SqlStore {
    async fn access_lists(&self, owner: &str) -> StoreResult<Vec<AccessList>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {LIST_COLUMNS} FROM access_lists WHERE owner = $1 ORDER BY identifier"
        ))
        .bind(owner)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(list_from_row).collect()
    }

    async fn access_list(&self, key: ListKey<'_>) -> StoreResult<Option<AccessList>> {
        let row = sqlx::query(trusted_sql!(
            "SELECT {LIST_COLUMNS} FROM access_lists WHERE owner = $1 AND identifier = $2"
        ))
        .bind(key.owner)
        .bind(key.identifier)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(list_from_row).transpose()
    }

    async fn upsert_access_list(
        &self,
        key: ListKey<'_>,
        name: &str,
        description: &str,
        actor: &Actor,
    ) -> StoreResult<(AccessList, bool)> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let before = load_list(&mut tx, key).await?;
        let row = match &before {
            Some(list) => {
                sqlx::query(trusted_sql!(
                    "UPDATE access_lists SET name = $2, description = $3, updated_at = $4, \
                     version = version + 1 WHERE id = $1 RETURNING {LIST_COLUMNS}"
                ))
                .bind(list.id.to_string())
                .bind(name)
                .bind(description)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
            }
            None => {
                sqlx::query(trusted_sql!(
                    "INSERT INTO access_lists ({LIST_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6, 1) RETURNING {LIST_COLUMNS}"
                ))
                .bind(Uuid::new_v4().to_string())
                .bind(key.owner)
                .bind(key.identifier)
                .bind(name)
                .bind(description)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        let list = list_from_row(&row)?;
        let (action, before_json) = match &before {
            Some(old) => ("updated", Some(list_json(old))),
            None => ("created", None),
        };
        record(
            &mut tx,
            actor,
            ("access_list", &key.history_id()),
            action,
            before_json.as_ref(),
            Some(&list_json(&list)),
        )
        .await?;
        tx.commit().await?;
        Ok((list, before.is_none()))
    }

    async fn delete_access_list(
        &self,
        key: ListKey<'_>,
        actor: &Actor,
    ) -> StoreResult<Option<AccessList>> {
        let mut tx = self.begin_write().await?;
        let Some(list) = load_list(&mut tx, key).await? else {
            return Ok(None);
        };
        let members = member_uuids(&mut tx, list.id).await?;
        // Children first: the cascade needs foreign keys, which an operator may have
        // switched off on a SQLite file.
        for table in ["access_list_members", "access_list_resources"] {
            sqlx::query(trusted_sql!("DELETE FROM {table} WHERE list_id = $1"))
                .bind(list.id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM access_lists WHERE id = $1")
            .bind(list.id.to_string())
            .execute(&mut *tx)
            .await?;
        let mut before = list_json(&list);
        before["members"] = json!(members);
        record(
            &mut tx,
            actor,
            ("access_list", &key.history_id()),
            "deleted",
            Some(&before),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(Some(list))
    }

    async fn access_list_members(&self, list: Uuid) -> StoreResult<Vec<AccessListMember>> {
        let rows = sqlx::query(
            "SELECT m.party_uuid, m.since, p.party_id, p.org_number FROM access_list_members m \
             JOIN parties p ON p.party_uuid = m.party_uuid WHERE m.list_id = $1 \
             ORDER BY m.party_uuid",
        )
        .bind(list.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AccessListMember {
                    party: parse_uuid(&row.try_get::<String, _>("party_uuid")?)?,
                    party_id: row.try_get("party_id")?,
                    org_number: row.try_get("org_number")?,
                    since: row.try_get("since")?,
                })
            })
            .collect()
    }

    async fn change_access_list_members(
        &self,
        key: ListKey<'_>,
        change: MemberChange,
        parties: &[Uuid],
        actor: &Actor,
    ) -> StoreResult<AccessList> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let list = load_list(&mut tx, key)
            .await?
            .ok_or_else(|| key.not_found())?;
        let before = member_uuids(&mut tx, list.id).await?;
        let wanted: Vec<String> = parties.iter().map(Uuid::to_string).collect();
        let (add, remove): (Vec<&String>, Vec<&String>) = match change {
            MemberChange::Add => (wanted.iter().collect(), Vec::new()),
            MemberChange::Remove => (Vec::new(), wanted.iter().collect()),
            // Members that stay keep their `since`.
            MemberChange::Replace => (
                wanted.iter().collect(),
                before.iter().filter(|p| !wanted.contains(p)).collect(),
            ),
        };
        for party in remove {
            sqlx::query("DELETE FROM access_list_members WHERE list_id = $1 AND party_uuid = $2")
                .bind(list.id.to_string())
                .bind(party)
                .execute(&mut *tx)
                .await?;
        }
        for party in add {
            sqlx::query(
                "INSERT INTO access_list_members (list_id, party_uuid, since) VALUES ($1, $2, $3) \
                 ON CONFLICT (list_id, party_uuid) DO NOTHING",
            )
            .bind(list.id.to_string())
            .bind(party)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let after = member_uuids(&mut tx, list.id).await?;
        let list = touch(&mut tx, list.id, now).await?;
        record(
            &mut tx,
            actor,
            ("access_list", &key.history_id()),
            change.action(),
            Some(&json!({"members": before})),
            Some(&json!({"members": after})),
        )
        .await?;
        tx.commit().await?;
        Ok(list)
    }

    async fn access_list_connections(&self, list: Uuid) -> StoreResult<Vec<AccessListConnection>> {
        let rows = sqlx::query(
            "SELECT resource_id, actions, created_at, updated_at FROM access_list_resources \
             WHERE list_id = $1 ORDER BY resource_id",
        )
        .bind(list.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(connection_from_row).collect()
    }

    async fn upsert_access_list_connection(
        &self,
        key: ListKey<'_>,
        resource_id: &str,
        actions: &[String],
        actor: &Actor,
    ) -> StoreResult<(AccessList, AccessListConnection)> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let list = load_list(&mut tx, key)
            .await?
            .ok_or_else(|| key.not_found())?;
        let before = connection_in(&mut tx, list.id, resource_id).await?;
        let row = sqlx::query(
            "INSERT INTO access_list_resources (list_id, resource_id, actions, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (list_id, resource_id) DO UPDATE \
             SET actions = excluded.actions, updated_at = excluded.updated_at \
             RETURNING resource_id, actions, created_at, updated_at",
        )
        .bind(list.id.to_string())
        .bind(resource_id)
        .bind(serde_json::to_string(actions)?)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let connection = connection_from_row(&row)?;
        let list = touch(&mut tx, list.id, now).await?;
        record(
            &mut tx,
            actor,
            ("access_list", &key.history_id()),
            "resource_connected",
            before.as_ref().map(connection_json).as_ref(),
            Some(&connection_json(&connection)),
        )
        .await?;
        tx.commit().await?;
        Ok((list, connection))
    }

    async fn delete_access_list_connection(
        &self,
        key: ListKey<'_>,
        resource_id: &str,
        actor: &Actor,
    ) -> StoreResult<Option<(AccessList, AccessListConnection)>> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let list = load_list(&mut tx, key)
            .await?
            .ok_or_else(|| key.not_found())?;
        let Some(connection) = connection_in(&mut tx, list.id, resource_id).await? else {
            return Ok(None);
        };
        sqlx::query("DELETE FROM access_list_resources WHERE list_id = $1 AND resource_id = $2")
            .bind(list.id.to_string())
            .bind(resource_id)
            .execute(&mut *tx)
            .await?;
        let list = touch(&mut tx, list.id, now).await?;
        record(
            &mut tx,
            actor,
            ("access_list", &key.history_id()),
            "resource_disconnected",
            Some(&connection_json(&connection)),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(Some((list, connection)))
    }

    async fn access_list_filters(
        &self,
        resource_id: &str,
        party: Uuid,
    ) -> StoreResult<Vec<Vec<String>>> {
        let rows = sqlx::query(
            "SELECT c.actions FROM access_list_resources c JOIN access_list_members m \
             ON m.list_id = c.list_id WHERE c.resource_id = $1 AND m.party_uuid = $2",
        )
        .bind(resource_id)
        .bind(party.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok(serde_json::from_str(&row.try_get::<String, _>("actions")?)?))
            .collect()
    }

    async fn access_list_memberships(&self, party: Uuid) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT l.owner, l.identifier FROM access_list_members m JOIN access_lists l \
             ON l.id = m.list_id WHERE m.party_uuid = $1 ORDER BY l.owner, l.identifier",
        )
        .bind(party.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let owner: String = row.try_get("owner")?;
                let identifier: String = row.try_get("identifier")?;
                Ok(format!("{owner}:{identifier}"))
            })
            .collect()
    }
}
