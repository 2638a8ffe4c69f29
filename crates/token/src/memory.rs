//! The ports in memory, for unit tests and benchmarks (not for production: nothing is
//! shared between processes).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use systembruker_domain::OrgNumber;
use uuid::Uuid;

use crate::ports::{
    Client, ClientGrant, ClientKey, ClientRegistry, GrantLookup, RegisteredScope, ReplayGuard,
    ScopeAccess, ScopeRegistry, SigningKeyStore, StoredSigningKey, SystemUserDirectory,
    SystemUserMatch, SystemUserQuery,
};
use crate::{PortError, PortResult};

#[derive(Default)]
struct State {
    clients: BTreeMap<Uuid, Client>,
    keys: BTreeMap<String, ClientKey>,
    scopes: BTreeMap<String, RegisteredScope>,
    access: BTreeSet<(String, OrgNumber)>,
    jtis: HashMap<(Uuid, String), i64>,
    signing: Vec<StoredSigningKey>,
    system_users: Vec<(SystemUserQuery, SystemUserMatch)>,
}

#[derive(Default)]
pub struct MemoryStore(Mutex<State>);

impl MemoryStore {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> PortResult<T>) -> PortResult<T> {
        let mut state = self
            .0
            .lock()
            .map_err(|_| PortError::Backend("memory store poisoned".into()))?;
        f(&mut state)
    }

    /// Adds a system user that [`SystemUserDirectory::find_system_user`] finds for `query`.
    pub fn add_system_user(&self, query: SystemUserQuery, found: SystemUserMatch) {
        let _ = self.with(|s| {
            s.system_users.push((query, found));
            Ok(())
        });
    }
}

#[async_trait::async_trait]
impl ClientRegistry for MemoryStore {
    async fn create_client(&self, client: &Client) -> PortResult<()> {
        self.with(|s| {
            if s.clients.contains_key(&client.client_id) {
                return Err(PortError::Conflict(format!("client {}", client.client_id)));
            }
            s.clients.insert(client.client_id, client.clone());
            Ok(())
        })
    }

    async fn update_client(&self, client: &Client) -> PortResult<()> {
        self.with(|s| match s.clients.get_mut(&client.client_id) {
            Some(existing) => {
                *existing = client.clone();
                Ok(())
            }
            None => Err(PortError::NotFound(format!("client {}", client.client_id))),
        })
    }

    async fn client(&self, client_id: Uuid) -> PortResult<Option<Client>> {
        self.with(|s| Ok(s.clients.get(&client_id).cloned()))
    }

    async fn clients(&self) -> PortResult<Vec<Client>> {
        self.with(|s| Ok(s.clients.values().cloned().collect()))
    }

    async fn delete_client(&self, client_id: Uuid) -> PortResult<bool> {
        self.with(|s| {
            s.keys.retain(|_, k| k.client_id != client_id);
            Ok(s.clients.remove(&client_id).is_some())
        })
    }

    async fn add_client_keys(&self, keys: &[ClientKey]) -> PortResult<()> {
        self.with(|s| {
            if let Some(taken) = keys.iter().find(|k| s.keys.contains_key(&k.kid)) {
                return Err(PortError::Conflict(format!("kid {:?} is taken", taken.kid)));
            }
            for key in keys {
                s.keys.insert(key.kid.clone(), key.clone());
            }
            Ok(())
        })
    }

    async fn remove_client_key(&self, client_id: Uuid, kid: &str) -> PortResult<bool> {
        self.with(|s| {
            let owned = s.keys.get(kid).is_some_and(|k| k.client_id == client_id);
            Ok(owned && s.keys.remove(kid).is_some())
        })
    }

    async fn client_keys(&self, client_id: Uuid) -> PortResult<Vec<ClientKey>> {
        self.with(|s| {
            Ok(s.keys
                .values()
                .filter(|k| k.client_id == client_id)
                .cloned()
                .collect())
        })
    }

    async fn client_by_key(&self, kid: &str) -> PortResult<Option<(Client, ClientKey)>> {
        self.with(|s| Ok(key_and_client(s, kid).map(|(key, c)| (c.clone(), key.clone()))))
    }
}

/// The key with `kid` and the client it belongs to.
fn key_and_client<'a>(s: &'a State, kid: &str) -> Option<(&'a ClientKey, &'a Client)> {
    let key = s.keys.get(kid)?;
    s.clients.get(&key.client_id).map(|client| (key, client))
}

#[async_trait::async_trait]
impl ScopeRegistry for MemoryStore {
    async fn register_scope(&self, scope: &RegisteredScope) -> PortResult<RegisteredScope> {
        self.with(|s| match s.scopes.get(&scope.name) {
            Some(existing) if existing.owner_org == scope.owner_org => Ok(existing.clone()),
            Some(existing) => Err(PortError::Conflict(format!(
                "scope {} belongs to {}",
                scope.name, existing.owner_org
            ))),
            None => {
                s.scopes.insert(scope.name.clone(), scope.clone());
                Ok(scope.clone())
            }
        })
    }

    async fn registered_scope(&self, name: &str) -> PortResult<Option<RegisteredScope>> {
        self.with(|s| Ok(s.scopes.get(name).cloned()))
    }

    async fn registered_scopes(&self) -> PortResult<Vec<RegisteredScope>> {
        self.with(|s| Ok(s.scopes.values().cloned().collect()))
    }

    async fn delete_scope(&self, name: &str) -> PortResult<bool> {
        self.with(|s| {
            s.access.retain(|(scope, _)| scope != name);
            Ok(s.scopes.remove(name).is_some())
        })
    }

    async fn grant_scope_access(&self, scope: &str, consumer: &OrgNumber) -> PortResult<bool> {
        self.with(|s| Ok(s.access.insert((scope.to_string(), *consumer))))
    }

    async fn revoke_scope_access(&self, scope: &str, consumer: &OrgNumber) -> PortResult<bool> {
        self.with(|s| Ok(s.access.remove(&(scope.to_string(), *consumer))))
    }

    async fn scope_access_list(&self, scope: &str) -> PortResult<Vec<OrgNumber>> {
        self.with(|s| {
            Ok(s.access
                .iter()
                .filter(|(name, _)| name == scope)
                .map(|(_, org)| *org)
                .collect())
        })
    }

    async fn scope_access(
        &self,
        scopes: &[String],
        consumer: &OrgNumber,
    ) -> PortResult<Vec<ScopeAccess>> {
        self.with(|s| Ok(access_of(s, scopes, consumer)))
    }
}

fn access_of(s: &State, scopes: &[String], consumer: &OrgNumber) -> Vec<ScopeAccess> {
    scopes
        .iter()
        .filter_map(|name| {
            let granted = s.access.contains(&(name.clone(), *consumer));
            let owner = s.scopes.get(name).map(|r| r.owner_org);
            (owner.is_some() || granted).then(|| ScopeAccess {
                name: name.clone(),
                owner_org: owner,
                granted,
                open_to_all: false,
                max_age: None,
            })
        })
        .collect()
}

#[async_trait::async_trait]
impl GrantLookup for MemoryStore {
    async fn client_for_grant(&self, kid: &str) -> PortResult<Option<ClientGrant>> {
        self.with(|s| {
            Ok(key_and_client(s, kid).map(|(key, client)| ClientGrant {
                access: access_of(s, &client.scopes, &client.consumer_org),
                client: client.clone(),
                key: key.clone(),
            }))
        })
    }
}

#[async_trait::async_trait]
impl ReplayGuard for MemoryStore {
    async fn remember_jti(&self, client_id: Uuid, jti: &str, expires_at: i64) -> PortResult<bool> {
        let now = crate::now_seconds();
        self.with(|s| {
            let key = (client_id, jti.to_string());
            match s.jtis.get(&key) {
                Some(expiry) if *expiry >= now => Ok(false),
                _ => {
                    s.jtis.insert(key, expires_at);
                    Ok(true)
                }
            }
        })
    }
}

#[async_trait::async_trait]
impl SigningKeyStore for MemoryStore {
    async fn signing_keys(&self) -> PortResult<Vec<StoredSigningKey>> {
        self.with(|s| Ok(s.signing.clone()))
    }

    async fn add_signing_key(&self, key: &StoredSigningKey) -> PortResult<()> {
        self.with(|s| {
            s.signing.push(key.clone());
            Ok(())
        })
    }

    async fn delete_signing_key(&self, kid: &str) -> PortResult<bool> {
        self.with(|s| {
            let before = s.signing.len();
            s.signing.retain(|k| k.kid != kid);
            Ok(s.signing.len() < before)
        })
    }
}

#[async_trait::async_trait]
impl SystemUserDirectory for MemoryStore {
    async fn find_system_user(
        &self,
        query: &SystemUserQuery,
    ) -> PortResult<Option<SystemUserMatch>> {
        self.with(|s| {
            Ok(s.system_users
                .iter()
                .find(|(q, _)| q == query)
                .map(|(_, m)| m.clone()))
        })
    }
}
