//! Maskinporten self-service: an organisation's own clients and keys, an API owner's
//! scopes and who may use them, and the scope prefixes the operator gives out. Every
//! change writes its history row in the same transaction (entities `mp_client`,
//! `mp_client_key`, `mp_scope`, `mp_scope_access`, `mp_scope_prefix`); the triggers of
//! migration 0006 move the Maskinporten counter, so the token endpoint sees each change
//! at its next request.

use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;
use systembruker_domain::OrgNumber;
use systembruker_token::ports::{Client, ClientKey};
use uuid::Uuid;

use crate::history::{Actor, flag, record};
use crate::maskinporten::{CLIENT_COLUMNS, client_from_row, parse_org};
use crate::{SqlStore, StoreError, StoreResult, now_millis};

/// A registered scope with the settings its owner manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeDetails {
    pub name: String,
    pub owner_org: OrgNumber,
    pub description: Option<String>,
    pub long_description: Option<String>,
    /// Integration types that may use the scope (`maskinporten`).
    pub integration_types: Vec<String>,
    /// Cap on the lifetime of tokens with the scope, in seconds.
    pub at_max_age: Option<u32>,
    /// Every organisation may use it without being on the access list.
    pub accessible_for_all: bool,
    /// Where consumers may delegate their access onward, if allowed.
    pub delegation_source: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

/// A consumer on a scope's access list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeGrant {
    pub scope: String,
    pub consumer_org: OrgNumber,
    /// Unix milliseconds.
    pub since: i64,
}

/// A scope prefix and the organisation it was given to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopePrefix {
    pub prefix: String,
    pub owner_org: OrgNumber,
    pub created_at: i64,
}

#[async_trait::async_trait]
pub trait SelfServiceStore {
    /// The clients whose consumer is `consumer`, oldest first.
    async fn consumer_clients(&self, consumer: &OrgNumber) -> StoreResult<Vec<Client>>;
    /// Creates the client with its keys, all or nothing.
    async fn create_client_recorded(
        &self,
        client: &Client,
        keys: &[ClientKey],
        actor: &Actor,
    ) -> StoreResult<()>;
    /// Replaces name, description, scopes and lifetime.
    async fn update_client_recorded(&self, client: &Client, actor: &Actor) -> StoreResult<()>;
    /// Deletes the client and its keys; `false` when there was none.
    async fn delete_client_recorded(&self, client_id: Uuid, actor: &Actor) -> StoreResult<bool>;
    /// Adds keys unless the client would then have more than `max_active` keys that have
    /// not expired at `now`: `Ok(Err(active))` with the number it has then.
    async fn add_client_keys_recorded(
        &self,
        client_id: Uuid,
        keys: &[ClientKey],
        max_active: usize,
        actor: &Actor,
    ) -> StoreResult<Result<(), usize>>;
    async fn remove_client_key_recorded(
        &self,
        client_id: Uuid,
        kid: &str,
        actor: &Actor,
    ) -> StoreResult<bool>;

    async fn scope_prefixes(&self) -> StoreResult<Vec<ScopePrefix>>;
    /// Gives `prefix` to `owner`; `false` when it was the owner's already, `Conflict`
    /// when it is another organisation's (or scopes under it are).
    async fn give_scope_prefix(
        &self,
        prefix: &str,
        owner: &OrgNumber,
        actor: &Actor,
    ) -> StoreResult<bool>;

    async fn scope_details(&self, name: &str) -> StoreResult<Option<ScopeDetails>>;
    async fn owned_scopes(&self, owner: &OrgNumber) -> StoreResult<Vec<ScopeDetails>>;
    /// Registered scopes `consumer` may use: its own, those it was given access to, and
    /// those open to all.
    async fn scopes_usable_by(&self, consumer: &OrgNumber) -> StoreResult<Vec<ScopeDetails>>;
    /// Creates the scope; `Conflict` when the name is taken.
    async fn create_scope_recorded(&self, scope: &ScopeDetails, actor: &Actor) -> StoreResult<()>;
    /// Replaces the owner's settings of the scope (not its name or owner).
    async fn update_scope_recorded(&self, scope: &ScopeDetails, actor: &Actor) -> StoreResult<()>;
    /// Who is on the scope's access list.
    async fn scope_grants(&self, scope: &str) -> StoreResult<Vec<ScopeGrant>>;
    /// Puts `consumer` on the list; `false` when it was there already.
    async fn grant_scope_access_recorded(
        &self,
        scope: &str,
        consumer: &OrgNumber,
        actor: &Actor,
    ) -> StoreResult<bool>;
    /// Takes `consumer` off the list; `false` when it was not on it.
    async fn revoke_scope_access_recorded(
        &self,
        scope: &str,
        consumer: &OrgNumber,
        actor: &Actor,
    ) -> StoreResult<bool>;
}

fn client_json(client: &Client) -> Value {
    json!({
        "clientId": client.client_id,
        "clientName": client.client_name,
        "description": client.description,
        "consumerOrg": client.consumer_org.to_string(),
        "scopes": client.scopes,
        "accessTokenLifetime": client.access_token_lifetime,
    })
}

fn key_json(key: &ClientKey) -> Value {
    json!({"clientId": key.client_id, "kid": key.kid, "expiresAt": key.expires_at})
}

fn scope_json(scope: &ScopeDetails) -> Value {
    json!({
        "scope": scope.name,
        "ownerOrg": scope.owner_org.to_string(),
        "description": scope.description,
        "longDescription": scope.long_description,
        "integrationTypes": scope.integration_types,
        "atMaxAge": scope.at_max_age,
        "accessibleForAll": scope.accessible_for_all,
        "delegationSource": scope.delegation_source,
    })
}

const SCOPE_COLUMNS: &str = "s.scope, s.owner_org, s.description, s.long_description, \
    s.integration_types, s.at_max_age, s.accessible_for_all, s.delegation_source, \
    s.created_at, s.updated_at";

fn scope_from_row(row: &AnyRow) -> StoreResult<ScopeDetails> {
    let types: String = row.try_get("integration_types")?;
    let max_age: Option<i64> = row.try_get("at_max_age")?;
    Ok(ScopeDetails {
        name: row.try_get("scope")?,
        owner_org: parse_org(&row.try_get::<String, _>("owner_org")?)?,
        description: row.try_get("description")?,
        long_description: row.try_get("long_description")?,
        integration_types: serde_json::from_str(&types)?,
        at_max_age: max_age
            .map(|age| {
                u32::try_from(age).map_err(|_| StoreError::Corrupt(format!("at_max_age {age}")))
            })
            .transpose()?,
        accessible_for_all: flag(row, "accessible_for_all")?,
        delegation_source: row.try_get("delegation_source")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Whether the prefix triggers of migration 0012 refused the statement.
fn is_prefix_refusal(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|db| db.message().contains("prefix"))
}

/// A refusal by the prefix triggers of migration 0012, as the conflict it is.
fn prefix_refusal(err: sqlx::Error) -> StoreError {
    if is_prefix_refusal(&err) {
        StoreError::conflict(
            "the scope's prefix belongs to another organisation; a scope under a prefix belongs to the prefix's owner",
        )
    } else {
        err.into()
    }
}

impl SqlStore {
    async fn client_in(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        client_id: Uuid,
    ) -> StoreResult<Option<Client>> {
        let row = sqlx::query(trusted_sql!(
            "SELECT {CLIENT_COLUMNS} FROM mp_clients c WHERE c.client_id = $1"
        ))
        .bind(client_id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref().map(client_from_row).transpose()
    }

    async fn insert_key(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        key: &ClientKey,
        actor: &Actor,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO mp_client_keys (kid, client_id, jwk, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.kid)
        .bind(key.client_id.to_string())
        .bind(serde_json::to_string(&key.jwk)?)
        .bind(key.created_at)
        .bind(key.expires_at)
        .execute(&mut **tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(conflict) => StoreError::Conflict(conflict.worded(format!(
                "kid {:?} is already used by a key; key ids must be unique across all clients",
                key.kid
            ))),
            other => other,
        })?;
        record(
            tx,
            actor,
            ("mp_client_key", &format!("{}/{}", key.client_id, key.kid)),
            "added",
            None,
            Some(&key_json(key)),
        )
        .await
    }

    async fn scope_in(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        name: &str,
    ) -> StoreResult<Option<ScopeDetails>> {
        let row = sqlx::query(trusted_sql!(
            "SELECT {SCOPE_COLUMNS} FROM mp_scopes s WHERE s.scope = $1"
        ))
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref().map(scope_from_row).transpose()
    }
}

#[async_trait::async_trait]
impl SelfServiceStore for SqlStore {
    async fn consumer_clients(&self, consumer: &OrgNumber) -> StoreResult<Vec<Client>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {CLIENT_COLUMNS} FROM mp_clients c WHERE c.consumer_org = $1 \
             ORDER BY c.created_at, c.client_id"
        ))
        .bind(consumer.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(client_from_row).collect()
    }

    async fn create_client_recorded(
        &self,
        client: &Client,
        keys: &[ClientKey],
        actor: &Actor,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO mp_clients (client_id, client_name, description, consumer_org, scopes, \
             access_token_lifetime, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(client.client_id.to_string())
        .bind(&client.client_name)
        .bind(client.description.as_deref())
        .bind(client.consumer_org.to_string())
        .bind(serde_json::to_string(&client.scopes)?)
        .bind(i64::from(client.access_token_lifetime))
        .bind(client.created_at)
        .bind(client.updated_at)
        .execute(&mut *tx)
        .await?;
        let id = client.client_id.to_string();
        record(
            &mut tx,
            actor,
            ("mp_client", &id),
            "created",
            None,
            Some(&client_json(client)),
        )
        .await?;
        for key in keys {
            Self::insert_key(&mut tx, key, actor).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn update_client_recorded(&self, client: &Client, actor: &Actor) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let before = Self::client_in(&mut tx, client.client_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("client {}", client.client_id)))?;
        sqlx::query(
            "UPDATE mp_clients SET client_name = $2, description = $3, scopes = $4, \
             access_token_lifetime = $5, updated_at = $6 WHERE client_id = $1",
        )
        .bind(client.client_id.to_string())
        .bind(&client.client_name)
        .bind(client.description.as_deref())
        .bind(serde_json::to_string(&client.scopes)?)
        .bind(i64::from(client.access_token_lifetime))
        .bind(client.updated_at)
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            actor,
            ("mp_client", &client.client_id.to_string()),
            "updated",
            Some(&client_json(&before)),
            Some(&client_json(client)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_client_recorded(&self, client_id: Uuid, actor: &Actor) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let Some(before) = Self::client_in(&mut tx, client_id).await? else {
            return Ok(false);
        };
        let id = client_id.to_string();
        // Keys are deleted explicitly too: the cascade needs foreign keys switched on.
        sqlx::query("DELETE FROM mp_client_keys WHERE client_id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM mp_clients WHERE client_id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        record(
            &mut tx,
            actor,
            ("mp_client", &id),
            "deleted",
            Some(&client_json(&before)),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn add_client_keys_recorded(
        &self,
        client_id: Uuid,
        keys: &[ClientKey],
        max_active: usize,
        actor: &Actor,
    ) -> StoreResult<Result<(), usize>> {
        let mut tx = self.begin_write().await?;
        let id = client_id.to_string();
        let now = now_millis();
        // Touching the client's row first makes concurrent key uploads for one client
        // wait for each other on PostgreSQL (SQLite's write transaction does it already),
        // so two of them cannot both pass the count below.
        let touched = sqlx::query("UPDATE mp_clients SET updated_at = $2 WHERE client_id = $1")
            .bind(&id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if touched == 0 {
            return Err(StoreError::NotFound(format!("client {client_id}")));
        }
        let active: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM mp_client_keys WHERE client_id = $1 AND expires_at > $2",
        )
        .bind(&id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let active = usize::try_from(active).unwrap_or(usize::MAX);
        if active + keys.len() > max_active {
            return Ok(Err(active));
        }
        for key in keys {
            Self::insert_key(&mut tx, key, actor).await?;
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    async fn remove_client_key_recorded(
        &self,
        client_id: Uuid,
        kid: &str,
        actor: &Actor,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query("DELETE FROM mp_client_keys WHERE client_id = $1 AND kid = $2")
            .bind(client_id.to_string())
            .bind(kid)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if removed {
            record(
                &mut tx,
                actor,
                ("mp_client_key", &format!("{client_id}/{kid}")),
                "removed",
                Some(&json!({"clientId": client_id, "kid": kid})),
                None,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(removed)
    }

    async fn scope_prefixes(&self) -> StoreResult<Vec<ScopePrefix>> {
        let rows = sqlx::query(
            "SELECT prefix, owner_org, created_at FROM mp_scope_prefixes ORDER BY prefix",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ScopePrefix {
                    prefix: row.try_get("prefix")?,
                    owner_org: parse_org(&row.try_get::<String, _>("owner_org")?)?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    async fn give_scope_prefix(
        &self,
        prefix: &str,
        owner: &OrgNumber,
        actor: &Actor,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let holder: Option<String> =
            sqlx::query_scalar("SELECT owner_org FROM mp_scope_prefixes WHERE prefix = $1")
                .bind(prefix)
                .fetch_optional(&mut *tx)
                .await?;
        match holder {
            Some(holder) if holder == owner.to_string() => return Ok(false),
            Some(_) => {
                return Err(StoreError::conflict(format!(
                    "the prefix {prefix:?} is another organisation's"
                )));
            }
            None => {}
        }
        sqlx::query(
            "INSERT INTO mp_scope_prefixes (prefix, owner_org, created_at) VALUES ($1, $2, $3)",
        )
        .bind(prefix)
        .bind(owner.to_string())
        .bind(now_millis())
        .execute(&mut *tx)
        .await
        .map_err(prefix_refusal)?;
        record(
            &mut tx,
            actor,
            ("mp_scope_prefix", prefix),
            "given",
            None,
            Some(&json!({"prefix": prefix, "ownerOrg": owner.to_string()})),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn scope_details(&self, name: &str) -> StoreResult<Option<ScopeDetails>> {
        let row = sqlx::query(trusted_sql!(
            "SELECT {SCOPE_COLUMNS} FROM mp_scopes s WHERE s.scope = $1"
        ))
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(scope_from_row).transpose()
    }

    async fn owned_scopes(&self, owner: &OrgNumber) -> StoreResult<Vec<ScopeDetails>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {SCOPE_COLUMNS} FROM mp_scopes s WHERE s.owner_org = $1 ORDER BY s.scope"
        ))
        .bind(owner.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(scope_from_row).collect()
    }

    async fn scopes_usable_by(&self, consumer: &OrgNumber) -> StoreResult<Vec<ScopeDetails>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {SCOPE_COLUMNS} FROM mp_scopes s WHERE s.owner_org = $1 \
             OR s.accessible_for_all \
             OR EXISTS (SELECT 1 FROM mp_scope_access a WHERE a.scope = s.scope AND a.consumer_org = $1) \
             ORDER BY s.scope"
        ))
        .bind(consumer.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(scope_from_row).collect()
    }

    async fn create_scope_recorded(&self, scope: &ScopeDetails, actor: &Actor) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO mp_scopes (scope, owner_org, description, long_description, \
             integration_types, at_max_age, accessible_for_all, delegation_source, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&scope.name)
        .bind(scope.owner_org.to_string())
        .bind(scope.description.as_deref())
        .bind(scope.long_description.as_deref())
        .bind(serde_json::to_string(&scope.integration_types)?)
        .bind(scope.at_max_age.map(i64::from))
        .bind(scope.accessible_for_all)
        .bind(scope.delegation_source.as_deref())
        .bind(scope.created_at)
        .bind(scope.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_prefix_refusal(&e) {
                return prefix_refusal(e);
            }
            match StoreError::from(e) {
                StoreError::Conflict(conflict) => StoreError::Conflict(
                    conflict.worded(format!("scope {} exists already", scope.name)),
                ),
                other => other,
            }
        })?;
        record(
            &mut tx,
            actor,
            ("mp_scope", &scope.name),
            "created",
            None,
            Some(&scope_json(scope)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_scope_recorded(&self, scope: &ScopeDetails, actor: &Actor) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let before = Self::scope_in(&mut tx, &scope.name)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("scope {}", scope.name)))?;
        sqlx::query(
            "UPDATE mp_scopes SET description = $2, long_description = $3, integration_types = $4, \
             at_max_age = $5, accessible_for_all = $6, delegation_source = $7, updated_at = $8 \
             WHERE scope = $1",
        )
        .bind(&scope.name)
        .bind(scope.description.as_deref())
        .bind(scope.long_description.as_deref())
        .bind(serde_json::to_string(&scope.integration_types)?)
        .bind(scope.at_max_age.map(i64::from))
        .bind(scope.accessible_for_all)
        .bind(scope.delegation_source.as_deref())
        .bind(scope.updated_at)
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            actor,
            ("mp_scope", &scope.name),
            "updated",
            Some(&scope_json(&before)),
            Some(&scope_json(scope)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn scope_grants(&self, scope: &str) -> StoreResult<Vec<ScopeGrant>> {
        let rows = sqlx::query(
            "SELECT scope, consumer_org, created_at FROM mp_scope_access WHERE scope = $1 \
             ORDER BY consumer_org",
        )
        .bind(scope)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ScopeGrant {
                    scope: row.try_get("scope")?,
                    consumer_org: parse_org(&row.try_get::<String, _>("consumer_org")?)?,
                    since: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    async fn grant_scope_access_recorded(
        &self,
        scope: &str,
        consumer: &OrgNumber,
        actor: &Actor,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let added = sqlx::query(
            "INSERT INTO mp_scope_access (scope, consumer_org, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (scope, consumer_org) DO NOTHING",
        )
        .bind(scope)
        .bind(consumer.to_string())
        .bind(now_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if added {
            record(
                &mut tx,
                actor,
                ("mp_scope_access", &format!("{scope}/{consumer}")),
                "granted",
                None,
                Some(&json!({"scope": scope, "consumerOrg": consumer.to_string()})),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(added)
    }

    async fn revoke_scope_access_recorded(
        &self,
        scope: &str,
        consumer: &OrgNumber,
        actor: &Actor,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let removed =
            sqlx::query("DELETE FROM mp_scope_access WHERE scope = $1 AND consumer_org = $2")
                .bind(scope)
                .bind(consumer.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        if removed {
            record(
                &mut tx,
                actor,
                ("mp_scope_access", &format!("{scope}/{consumer}")),
                "revoked",
                Some(&json!({"scope": scope, "consumerOrg": consumer.to_string()})),
                None,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(removed)
    }
}
