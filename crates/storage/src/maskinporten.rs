//! The token service's ports on SQL: Maskinporten clients and keys, scopes and their
//! access lists, used assertion ids, and the service's signing keys.

use sqlx::Row;
use sqlx::any::AnyRow;
use systembruker_domain::OrgNumber;
use systembruker_token::jwk::RsaJwk;
use systembruker_token::ports::{
    Client, ClientGrant, ClientKey, ClientRegistry, GrantLookup, RegisteredScope, ReplayGuard,
    ScopeAccess, ScopeRegistry, SigningKeyStore, StoredSigningKey, SystemUserDirectory,
    SystemUserMatch, SystemUserQuery,
};
use systembruker_token::{PortError, PortResult};
use uuid::Uuid;

use crate::replay::JtiUse;
use crate::sql::parse_uuid;
use crate::{SqlStore, StoreError, StoreResult, now_millis};

impl From<StoreError> for PortError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => PortError::NotFound(what),
            StoreError::Conflict(what) => PortError::Conflict(what.detail),
            StoreError::Invalid(what) => PortError::Invalid(what),
            other if other.is_unavailable() => PortError::Unavailable(other.to_string()),
            other => PortError::Backend(other.to_string()),
        }
    }
}

fn port(err: sqlx::Error) -> PortError {
    StoreError::from(err).into()
}

pub(crate) fn parse_org(text: &str) -> StoreResult<OrgNumber> {
    OrgNumber::parse(text).map_err(|e| StoreError::Corrupt(format!("org number {text:?}: {e}")))
}

pub(crate) const CLIENT_COLUMNS: &str = "c.client_id, c.client_name, c.description, c.consumer_org, \
    c.scopes, c.access_token_lifetime, c.created_at, c.updated_at";
const KEY_COLUMNS: &str =
    "k.kid, k.client_id AS key_client_id, k.jwk, k.created_at AS key_created_at, k.expires_at";

pub(crate) fn client_from_row(row: &AnyRow) -> StoreResult<Client> {
    let scopes: String = row.try_get("scopes")?;
    let lifetime: i64 = row.try_get("access_token_lifetime")?;
    Ok(Client {
        client_id: parse_uuid(&row.try_get::<String, _>("client_id")?)?,
        client_name: row.try_get("client_name")?,
        description: row.try_get("description")?,
        consumer_org: parse_org(&row.try_get::<String, _>("consumer_org")?)?,
        scopes: serde_json::from_str(&scopes)?,
        access_token_lifetime: u32::try_from(lifetime)
            .map_err(|_| StoreError::Corrupt(format!("access_token_lifetime {lifetime}")))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(crate) fn key_from_row(row: &AnyRow) -> StoreResult<ClientKey> {
    let jwk: String = row.try_get("jwk")?;
    Ok(ClientKey {
        kid: row.try_get("kid")?,
        client_id: parse_uuid(&row.try_get::<String, _>("key_client_id")?)?,
        jwk: serde_json::from_str::<RsaJwk>(&jwk)?,
        created_at: row.try_get("key_created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

#[async_trait::async_trait]
impl ClientRegistry for SqlStore {
    async fn create_client(&self, client: &Client) -> PortResult<()> {
        sqlx::query(
            "INSERT INTO mp_clients (client_id, client_name, description, consumer_org, scopes, \
             access_token_lifetime, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(client.client_id.to_string())
        .bind(&client.client_name)
        .bind(client.description.as_deref())
        .bind(client.consumer_org.to_string())
        .bind(serde_json::to_string(&client.scopes).map_err(StoreError::from)?)
        .bind(i64::from(client.access_token_lifetime))
        .bind(client.created_at)
        .bind(client.updated_at)
        .execute(self.pool())
        .await
        .map_err(port)?;
        Ok(())
    }

    async fn update_client(&self, client: &Client) -> PortResult<()> {
        let updated = sqlx::query(
            "UPDATE mp_clients SET client_name = $2, description = $3, consumer_org = $4, \
             scopes = $5, access_token_lifetime = $6, updated_at = $7 WHERE client_id = $1",
        )
        .bind(client.client_id.to_string())
        .bind(&client.client_name)
        .bind(client.description.as_deref())
        .bind(client.consumer_org.to_string())
        .bind(serde_json::to_string(&client.scopes).map_err(StoreError::from)?)
        .bind(i64::from(client.access_token_lifetime))
        .bind(client.updated_at)
        .execute(self.pool())
        .await
        .map_err(port)?
        .rows_affected();
        if updated == 0 {
            return Err(PortError::NotFound(format!("client {}", client.client_id)));
        }
        Ok(())
    }

    async fn client(&self, client_id: Uuid) -> PortResult<Option<Client>> {
        let row = sqlx::query(trusted_sql!(
            "SELECT {CLIENT_COLUMNS} FROM mp_clients c WHERE c.client_id = $1"
        ))
        .bind(client_id.to_string())
        .fetch_optional(self.pool())
        .await
        .map_err(port)?;
        Ok(row.as_ref().map(client_from_row).transpose()?)
    }

    async fn clients(&self) -> PortResult<Vec<Client>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {CLIENT_COLUMNS} FROM mp_clients c ORDER BY c.created_at, c.client_id"
        ))
        .fetch_all(self.pool())
        .await
        .map_err(port)?;
        Ok(rows
            .iter()
            .map(client_from_row)
            .collect::<StoreResult<_>>()?)
    }

    async fn delete_client(&self, client_id: Uuid) -> PortResult<bool> {
        let mut tx = self.begin_write().await.map_err(port)?;
        // Keys are deleted explicitly too: the cascade needs foreign keys switched on.
        sqlx::query("DELETE FROM mp_client_keys WHERE client_id = $1")
            .bind(client_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(port)?;
        let deleted = sqlx::query("DELETE FROM mp_clients WHERE client_id = $1")
            .bind(client_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(port)?
            .rows_affected()
            == 1;
        tx.commit().await.map_err(port)?;
        Ok(deleted)
    }

    async fn add_client_keys(&self, keys: &[ClientKey]) -> PortResult<()> {
        let mut tx = self.begin_write().await.map_err(port)?;
        for key in keys {
            sqlx::query(
                "INSERT INTO mp_client_keys (kid, client_id, jwk, created_at, expires_at) \
                 SELECT $1, client_id, $3, $4, $5 FROM mp_clients WHERE client_id = $2",
            )
            .bind(&key.kid)
            .bind(key.client_id.to_string())
            .bind(serde_json::to_string(&key.jwk).map_err(StoreError::from)?)
            .bind(key.created_at)
            .bind(key.expires_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => PortError::Conflict(format!(
                    "kid {:?} is already used by a key; key ids must be unique across all clients",
                    key.kid
                )),
                other => other.into(),
            })
            .and_then(|done| {
                if done.rows_affected() == 1 {
                    Ok(())
                } else {
                    Err(PortError::NotFound(format!("client {}", key.client_id)))
                }
            })?;
        }
        tx.commit().await.map_err(port)?;
        Ok(())
    }

    async fn remove_client_key(&self, client_id: Uuid, kid: &str) -> PortResult<bool> {
        Ok(
            sqlx::query("DELETE FROM mp_client_keys WHERE client_id = $1 AND kid = $2")
                .bind(client_id.to_string())
                .bind(kid)
                .execute(self.pool())
                .await
                .map_err(port)?
                .rows_affected()
                == 1,
        )
    }

    async fn client_keys(&self, client_id: Uuid) -> PortResult<Vec<ClientKey>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {KEY_COLUMNS} FROM mp_client_keys k WHERE k.client_id = $1 ORDER BY k.created_at, k.kid"
        ))
        .bind(client_id.to_string())
        .fetch_all(self.pool())
        .await
        .map_err(port)?;
        Ok(rows.iter().map(key_from_row).collect::<StoreResult<_>>()?)
    }

    async fn client_by_key(&self, kid: &str) -> PortResult<Option<(Client, ClientKey)>> {
        let version = self.counters().await?.maskinporten;
        self.client_by_key_at(kid, version).await
    }
}

#[async_trait::async_trait]
impl GrantLookup for SqlStore {
    async fn client_for_grant(&self, kid: &str) -> PortResult<Option<ClientGrant>> {
        let version = self.counters().await?.maskinporten;
        let Some((client, key)) = self.client_by_key_at(kid, version).await? else {
            return Ok(None);
        };
        let access = self
            .scope_access_at(&client.scopes, &client.consumer_org, version)
            .await?;
        Ok(Some(ClientGrant {
            client,
            key,
            access,
        }))
    }
}

impl SqlStore {
    /// [`ClientRegistry::client_by_key`] as of Maskinporten counter `version`.
    async fn client_by_key_at(
        &self,
        kid: &str,
        version: i64,
    ) -> PortResult<Option<(Client, ClientKey)>> {
        if let Some(hit) = self.mp_keys.get(kid, version) {
            return Ok(hit);
        }
        let found = self.client_by_key_uncached(kid).await?;
        self.mp_keys.put(kid.to_string(), version, found.clone());
        Ok(found)
    }

    async fn client_by_key_uncached(&self, kid: &str) -> PortResult<Option<(Client, ClientKey)>> {
        let row = sqlx::query(trusted_sql!(
            "SELECT {CLIENT_COLUMNS}, {KEY_COLUMNS} FROM mp_client_keys k \
             JOIN mp_clients c ON c.client_id = k.client_id WHERE k.kid = $1"
        ))
        .bind(kid)
        .fetch_optional(self.pool())
        .await
        .map_err(port)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((client_from_row(&row)?, key_from_row(&row)?)))
    }
}

fn scope_from_row(row: &AnyRow) -> StoreResult<RegisteredScope> {
    Ok(RegisteredScope {
        name: row.try_get("scope")?,
        owner_org: parse_org(&row.try_get::<String, _>("owner_org")?)?,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
    })
}

/// `$first, $first+1, …` for an IN list of `count` values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait::async_trait]
impl ScopeRegistry for SqlStore {
    async fn register_scope(&self, scope: &RegisteredScope) -> PortResult<RegisteredScope> {
        sqlx::query(
            "INSERT INTO mp_scopes (scope, owner_org, description, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (scope) DO NOTHING",
        )
        .bind(&scope.name)
        .bind(scope.owner_org.to_string())
        .bind(scope.description.as_deref())
        .bind(scope.created_at)
        .execute(self.pool())
        .await
        .map_err(port)?;
        let stored = self
            .registered_scope(&scope.name)
            .await?
            .ok_or_else(|| PortError::NotFound(format!("scope {}", scope.name)))?;
        if stored.owner_org != scope.owner_org {
            return Err(PortError::Conflict(format!(
                "scope {} is registered by another organisation ({})",
                scope.name, stored.owner_org
            )));
        }
        Ok(stored)
    }

    async fn registered_scope(&self, name: &str) -> PortResult<Option<RegisteredScope>> {
        let row = sqlx::query(
            "SELECT scope, owner_org, description, created_at FROM mp_scopes WHERE scope = $1",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await
        .map_err(port)?;
        Ok(row.as_ref().map(scope_from_row).transpose()?)
    }

    async fn registered_scopes(&self) -> PortResult<Vec<RegisteredScope>> {
        let rows = sqlx::query(
            "SELECT scope, owner_org, description, created_at FROM mp_scopes ORDER BY scope",
        )
        .fetch_all(self.pool())
        .await
        .map_err(port)?;
        Ok(rows
            .iter()
            .map(scope_from_row)
            .collect::<StoreResult<_>>()?)
    }

    async fn delete_scope(&self, name: &str) -> PortResult<bool> {
        let mut tx = self.begin_write().await.map_err(port)?;
        sqlx::query("DELETE FROM mp_scope_access WHERE scope = $1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(port)?;
        let deleted = sqlx::query("DELETE FROM mp_scopes WHERE scope = $1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(port)?
            .rows_affected()
            == 1;
        tx.commit().await.map_err(port)?;
        Ok(deleted)
    }

    async fn grant_scope_access(&self, scope: &str, consumer: &OrgNumber) -> PortResult<bool> {
        Ok(sqlx::query(
            "INSERT INTO mp_scope_access (scope, consumer_org, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (scope, consumer_org) DO NOTHING",
        )
        .bind(scope)
        .bind(consumer.to_string())
        .bind(now_millis())
        .execute(self.pool())
        .await
        .map_err(port)?
        .rows_affected()
            == 1)
    }

    async fn revoke_scope_access(&self, scope: &str, consumer: &OrgNumber) -> PortResult<bool> {
        Ok(
            sqlx::query("DELETE FROM mp_scope_access WHERE scope = $1 AND consumer_org = $2")
                .bind(scope)
                .bind(consumer.to_string())
                .execute(self.pool())
                .await
                .map_err(port)?
                .rows_affected()
                == 1,
        )
    }

    async fn scope_access_list(&self, scope: &str) -> PortResult<Vec<OrgNumber>> {
        let orgs: Vec<String> = sqlx::query_scalar(
            "SELECT consumer_org FROM mp_scope_access WHERE scope = $1 ORDER BY consumer_org",
        )
        .bind(scope)
        .fetch_all(self.pool())
        .await
        .map_err(port)?;
        Ok(orgs
            .iter()
            .map(|o| parse_org(o))
            .collect::<StoreResult<_>>()?)
    }

    async fn scope_access(
        &self,
        scopes: &[String],
        consumer: &OrgNumber,
    ) -> PortResult<Vec<ScopeAccess>> {
        let version = self.counters().await?.maskinporten;
        self.scope_access_at(scopes, consumer, version).await
    }
}

impl SqlStore {
    /// [`ScopeRegistry::scope_access`] as of Maskinporten counter `version`.
    async fn scope_access_at(
        &self,
        scopes: &[String],
        consumer: &OrgNumber,
        version: i64,
    ) -> PortResult<Vec<ScopeAccess>> {
        if scopes.is_empty() {
            return Ok(Vec::new());
        }
        let key = (consumer.to_string(), scopes.to_vec());
        if let Some(hit) = self.mp_access.get(&key, version) {
            return Ok(hit);
        }
        let access = self.scope_access_uncached(scopes, consumer).await?;
        self.mp_access.put(key, version, access.clone());
        Ok(access)
    }

    async fn scope_access_uncached(
        &self,
        scopes: &[String],
        consumer: &OrgNumber,
    ) -> PortResult<Vec<ScopeAccess>> {
        let mut owners = sqlx::query(trusted_sql!(
            "SELECT scope, owner_org, accessible_for_all, at_max_age FROM mp_scopes WHERE scope IN ({})",
            placeholders(1, scopes.len())
        ));
        for scope in scopes {
            owners = owners.bind(scope);
        }
        let owners = owners.fetch_all(self.pool()).await.map_err(port)?;
        let mut granted = sqlx::query_scalar::<_, String>(trusted_sql!(
            "SELECT scope FROM mp_scope_access WHERE consumer_org = $1 AND scope IN ({})",
            placeholders(2, scopes.len())
        ))
        .bind(consumer.to_string());
        for scope in scopes {
            granted = granted.bind(scope);
        }
        let granted = granted.fetch_all(self.pool()).await.map_err(port)?;
        let mut access = Vec::new();
        for scope in scopes {
            let row = owners
                .iter()
                .find(|row| row.try_get::<String, _>("scope").is_ok_and(|s| s == *scope));
            let owner = row
                .map(|row| row.try_get::<String, _>("owner_org"))
                .transpose()
                .map_err(port)?
                .map(|o| parse_org(&o))
                .transpose()?;
            let open_to_all = match row {
                Some(row) => crate::history::flag(row, "accessible_for_all")?,
                None => false,
            };
            let max_age = row
                .map(|row| row.try_get::<Option<i64>, _>("at_max_age"))
                .transpose()
                .map_err(port)?
                .flatten()
                .map(|age| u32::try_from(age).unwrap_or(u32::MAX));
            let is_granted = granted.contains(scope);
            if owner.is_some() || is_granted {
                access.push(ScopeAccess {
                    name: scope.clone(),
                    owner_org: owner,
                    granted: is_granted,
                    open_to_all,
                    max_age,
                });
            }
        }
        Ok(access)
    }
}

#[async_trait::async_trait]
impl ReplayGuard for SqlStore {
    async fn remember_jti(&self, client_id: Uuid, jti: &str, expires_at: i64) -> PortResult<bool> {
        let first_use = JtiUse {
            client_id: client_id.to_string(),
            jti: jti.to_string(),
            expires_at,
        };
        Ok(self.jtis.run(first_use).await.map_err(StoreError::from)??)
    }
}

impl SqlStore {
    /// Deletes assertion ids that expired before `now` (unix seconds); returns how many.
    /// On a SQLite file the newest id stays, expired or not (see `ledger.rs`).
    pub async fn purge_expired_jtis(&self, now: i64) -> PortResult<u64> {
        Ok(crate::replay::purge(self.pool(), self.direct(), now).await?)
    }
}

fn signing_key_from_row(row: &AnyRow) -> StoreResult<StoredSigningKey> {
    Ok(StoredSigningKey {
        kid: row.try_get("kid")?,
        algorithm: row.try_get("algorithm")?,
        public_jwk: row.try_get("public_jwk")?,
        private_key: row.try_get("private_key")?,
        created_at: row.try_get("created_at")?,
        activated_at: row.try_get("activated_at")?,
    })
}

#[async_trait::async_trait]
impl SigningKeyStore for SqlStore {
    async fn signing_keys(&self) -> PortResult<Vec<StoredSigningKey>> {
        let rows = sqlx::query(
            "SELECT kid, algorithm, public_jwk, private_key, created_at, activated_at \
             FROM mp_signing_keys ORDER BY activated_at, kid",
        )
        .fetch_all(self.pool())
        .await
        .map_err(port)?;
        Ok(rows
            .iter()
            .map(signing_key_from_row)
            .collect::<StoreResult<_>>()?)
    }

    async fn add_signing_key(&self, key: &StoredSigningKey) -> PortResult<()> {
        sqlx::query(
            "INSERT INTO mp_signing_keys (kid, algorithm, public_jwk, private_key, created_at, \
             activated_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key.kid)
        .bind(&key.algorithm)
        .bind(&key.public_jwk)
        .bind(&key.private_key)
        .bind(key.created_at)
        .bind(key.activated_at)
        .execute(self.pool())
        .await
        .map_err(port)?;
        Ok(())
    }

    async fn delete_signing_key(&self, kid: &str) -> PortResult<bool> {
        Ok(sqlx::query("DELETE FROM mp_signing_keys WHERE kid = $1")
            .bind(kid)
            .execute(self.pool())
            .await
            .map_err(port)?
            .rows_affected()
            == 1)
    }
}

#[async_trait::async_trait]
impl SystemUserDirectory for SqlStore {
    /// The reference's `systemuser/byExternalId` match
    /// (docs/rules.md#maskinporten-lookup), answered by the system-user store.
    async fn find_system_user(
        &self,
        query: &SystemUserQuery,
    ) -> PortResult<Option<SystemUserMatch>> {
        let user = crate::SystemUserStore::system_user_for_client(
            self,
            &query.client_id.to_string(),
            query.vendor_org.as_str(),
            query.owner_org.as_str(),
            &query.external_ref,
        )
        .await?;
        Ok(user.map(|user| SystemUserMatch {
            system_user_id: user.id,
            owner_party: user.owner_party_uuid,
            system_id: user.system_id,
            external_ref: user.external_ref,
        }))
    }
}
