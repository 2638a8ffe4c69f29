//! What the token service needs from storage, as small traits.

use serde::{Deserialize, Serialize};
use systembruker_domain::OrgNumber;
use uuid::Uuid;

use crate::PortResult;
use crate::jwk::RsaJwk;

/// A Maskinporten client: an organisation's integration that authenticates with its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub client_id: Uuid,
    pub client_name: String,
    pub description: Option<String>,
    /// The organisation the client belongs to; `consumer` of its tokens.
    pub consumer_org: OrgNumber,
    /// The scopes the client may ask for.
    pub scopes: Vec<String>,
    /// Lifetime of the access tokens issued to it, in seconds.
    pub access_token_lifetime: u32,
    /// Unix milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
}

/// A public key registered on a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey {
    pub kid: String,
    pub client_id: Uuid,
    pub jwk: RsaJwk,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds; the key is refused from then on (MP-121).
    pub expires_at: i64,
}

#[async_trait::async_trait]
pub trait ClientRegistry: Send + Sync {
    async fn create_client(&self, client: &Client) -> PortResult<()>;
    /// Replaces name, description, consumer org, scopes and lifetime; `NotFound` if absent.
    async fn update_client(&self, client: &Client) -> PortResult<()>;
    async fn client(&self, client_id: Uuid) -> PortResult<Option<Client>>;
    async fn clients(&self) -> PortResult<Vec<Client>>;
    /// Deletes the client and its keys; `Ok(false)` when there was none.
    async fn delete_client(&self, client_id: Uuid) -> PortResult<bool>;
    /// Adds keys, all or none; a `kid` already used by any client is a `Conflict`.
    async fn add_client_keys(&self, keys: &[ClientKey]) -> PortResult<()>;
    async fn remove_client_key(&self, client_id: Uuid, kid: &str) -> PortResult<bool>;
    async fn client_keys(&self, client_id: Uuid) -> PortResult<Vec<ClientKey>>;
    /// The key with this `kid` and the client it belongs to (the token endpoint's lookup).
    async fn client_by_key(&self, kid: &str) -> PortResult<Option<(Client, ClientKey)>>;
}

/// A scope registered by a resource owner (platform scopes are built in, see [`crate::scopes`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredScope {
    pub name: String,
    pub owner_org: OrgNumber,
    pub description: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// For the token endpoint: a registered scope and whether one consumer may use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeAccess {
    pub name: String,
    /// `None` for a platform scope (not registered, but with an access list).
    pub owner_org: Option<OrgNumber>,
    /// The consumer is on the scope's access list.
    pub granted: bool,
    /// The owner opened the scope to every organisation (`accessible_for_all`).
    pub open_to_all: bool,
    /// The owner's cap on the lifetime of tokens with this scope, in seconds (`at_max_age`).
    pub max_age: Option<u32>,
}

#[async_trait::async_trait]
pub trait ScopeRegistry: Send + Sync {
    /// Registers a scope; the same scope with the same owner is left as it is (returns the
    /// stored one); another owner is a `Conflict`.
    async fn register_scope(&self, scope: &RegisteredScope) -> PortResult<RegisteredScope>;
    async fn registered_scope(&self, name: &str) -> PortResult<Option<RegisteredScope>>;
    async fn registered_scopes(&self) -> PortResult<Vec<RegisteredScope>>;
    /// Deletes the scope and its access list; `Ok(false)` when there was none.
    async fn delete_scope(&self, name: &str) -> PortResult<bool>;
    /// Adds a consumer to a scope's access list; `Ok(false)` when it was there already.
    async fn grant_scope_access(&self, scope: &str, consumer: &OrgNumber) -> PortResult<bool>;
    async fn revoke_scope_access(&self, scope: &str, consumer: &OrgNumber) -> PortResult<bool>;
    async fn scope_access_list(&self, scope: &str) -> PortResult<Vec<OrgNumber>>;
    /// For each of `scopes` that is registered, or has an access list: owner and whether
    /// `consumer` is on the list. Unregistered scopes without a list are left out.
    async fn scope_access(
        &self,
        scopes: &[String],
        consumer: &OrgNumber,
    ) -> PortResult<Vec<ScopeAccess>>;
}

/// What the token endpoint knows about a key once it has looked it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientGrant {
    pub client: Client,
    pub key: ClientKey,
    /// [`ScopeRegistry::scope_access`] of the client's consumer org to the client's scopes.
    pub access: Vec<ScopeAccess>,
}

/// The token endpoint's one lookup per request.
#[async_trait::async_trait]
pub trait GrantLookup: Send + Sync {
    /// The key with this `kid`, its client, and what the client's consumer org may do with
    /// each of the client's scopes, all as of one moment (one read of the change counter
    /// on SQL, where a token request would otherwise read it twice).
    async fn client_for_grant(&self, kid: &str) -> PortResult<Option<ClientGrant>>;
}

/// Remembers assertion ids so that each is used once.
#[async_trait::async_trait]
pub trait ReplayGuard: Send + Sync {
    /// Records `jti` of `client_id` until `expires_at` (unix seconds). `Ok(true)` the first
    /// time; `Ok(false)` when it was recorded before and has not expired. Atomic across
    /// processes sharing the database.
    async fn remember_jti(&self, client_id: Uuid, jti: &str, expires_at: i64) -> PortResult<bool>;
}

/// A signing key of the service as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    pub kid: String,
    pub algorithm: String,
    /// The public JWK, JSON.
    pub public_jwk: String,
    /// The PKCS#8 private key, base64 or sealed (see [`crate::keys::KeyEncryptionKey`]).
    pub private_key: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds: from then on the key signs (the newest activated key is active).
    pub activated_at: i64,
}

#[async_trait::async_trait]
pub trait SigningKeyStore: Send + Sync {
    async fn signing_keys(&self) -> PortResult<Vec<StoredSigningKey>>;
    async fn add_signing_key(&self, key: &StoredSigningKey) -> PortResult<()>;
    async fn delete_signing_key(&self, kid: &str) -> PortResult<bool>;
}

/// The reference's `systemuser/byExternalId` lookup (docs/rules.md#maskinporten-lookup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemUserQuery {
    pub client_id: Uuid,
    /// The system's vendor: the client's consumer org.
    pub vendor_org: OrgNumber,
    /// The org that owns the system user (`systemuser_org`).
    pub owner_org: OrgNumber,
    /// Defaults to the owner's org number.
    pub external_ref: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemUserMatch {
    pub system_user_id: Uuid,
    /// The owner's party uuid (for the audit of issued tokens).
    pub owner_party: Uuid,
    pub system_id: String,
    pub external_ref: String,
}

#[async_trait::async_trait]
pub trait SystemUserDirectory: Send + Sync {
    /// A system user that is not deleted, of a system that is not deleted, whose system
    /// lists `client_id`, whose vendor is `vendor_org`, owned by `owner_org` with
    /// `external_ref`.
    async fn find_system_user(
        &self,
        query: &SystemUserQuery,
    ) -> PortResult<Option<SystemUserMatch>>;
}

/// Everything the token service stores.
pub trait TokenStore:
    ClientRegistry + ScopeRegistry + GrantLookup + ReplayGuard + SigningKeyStore + SystemUserDirectory
{
}

impl<T> TokenStore for T where
    T: ClientRegistry
        + ScopeRegistry
        + GrantLookup
        + ReplayGuard
        + SigningKeyStore
        + SystemUserDirectory
{
}
