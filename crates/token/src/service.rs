//! The token service: issuing tokens for assertions, minting platform tokens, verifying
//! our own tokens, and the signing keys behind them.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::task::Poll;
use std::time::{Duration, Instant};

use aws_lc_rs::signature::ParsedPublicKey;
use serde::Serialize;
use serde_json::Value;
use systembruker_domain::OrgNumber;
use uuid::Uuid;

use crate::assertion::{self, CheckedAssertion, SystemUserRequest};
use crate::claims::{AccessTokenClaims, OrgClaim, SystemUserDetails};
use crate::jwk::{Jwks, RsaJwk};
use crate::jws::{self, RsaAlgorithm};
use crate::keys::{KeyEncryptionKey, SigningKey, open_private_key, seal_private_key};
use crate::ports::{
    Client, ClientGrant, ClientKey, ScopeAccess, StoredSigningKey, SystemUserQuery, TokenStore,
};
use crate::scopes::{is_platform_only, platform_scope};
use crate::{
    GrantError, JWT_BEARER_GRANT, KeyError, SYSTEMUSER_DETAILS_TYPE, VerifyError, now_seconds,
};

/// Longest access-token lifetime a client may be given, in seconds.
pub const MAX_ACCESS_TOKEN_LIFETIME: u32 = 24 * 3600;
/// How long a process signs with the keys it loaded before it looks for a newer one.
const KEY_REFRESH: Duration = Duration::from_secs(60);
/// An unknown `kid` makes a reload at most this often (a key made by another process).
const UNKNOWN_KID_RELOAD: Duration = Duration::from_secs(1);
/// How long a superseded key stays published: until every token it may have signed has
/// expired (another process may sign with it for up to `KEY_REFRESH` after a rotation).
const RETIRED_KEY_RETENTION_SECS: i64 =
    MAX_ACCESS_TOKEN_LIFETIME as i64 + KEY_REFRESH.as_secs() as i64 + 60;

/// How the service is set up.
#[derive(Debug, Default)]
pub struct TokenSettings {
    /// `{public-url}/maskinporten/`, with the trailing slash.
    pub issuer: String,
    /// Seals the private signing keys in the database; without it they are stored plain.
    pub key_encryption: Option<KeyEncryptionKey>,
}

/// The token endpoint's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenResponse {
    /// The client the token was issued to (its assertion verified); not part of the
    /// answer, for the caller's own bookkeeping such as per-client rate limits.
    #[serde(skip)]
    pub client_id: Uuid,
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u32,
    pub scope: String,
    /// The issued token's `jti`, for the audit; not part of the answer.
    #[serde(skip)]
    pub jti: String,
    /// The system user the token is for, for the audit; not part of the answer.
    #[serde(skip)]
    pub system_user: Option<IssuedFor>,
    /// The client's organisation (`consumer`), for the audit; not part of the answer.
    #[serde(skip)]
    pub consumer_org: String,
}

/// The system user a token was issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedFor {
    pub system_user_id: Uuid,
    pub system_id: String,
    /// The system user's owner.
    pub owner_party: Uuid,
}

/// A verified access token: typed claims and the raw JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessToken {
    pub claims: AccessTokenClaims,
    pub raw: Value,
}

/// A token the platform issues without an assertion: test tools, operator and end-user
/// tokens after login.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MintRequest {
    pub scopes: Vec<String>,
    pub consumer_org: Option<OrgNumber>,
    pub client_id: Option<String>,
    pub pid: Option<String>,
    pub user_id: Option<i64>,
    pub party_id: Option<i64>,
    pub authorization_details: Option<Vec<SystemUserDetails>>,
    /// Seconds.
    pub lifetime: u32,
    /// Unix seconds; `None` is now.
    pub issued_at: Option<i64>,
}

impl MintRequest {
    /// A Maskinporten-style token for an organisation.
    pub fn enterprise(org: OrgNumber, scopes: Vec<String>) -> Self {
        Self {
            scopes,
            consumer_org: Some(org),
            lifetime: crate::DEFAULT_ACCESS_TOKEN_LIFETIME,
            ..Self::default()
        }
    }

    /// An end-user token (scope `altinn:portal/enduser` is added).
    pub fn person(pid: &str, user_id: i64, party_id: i64, mut scopes: Vec<String>) -> Self {
        if !scopes.iter().any(|s| s == crate::scopes::ENDUSER_SCOPE) {
            scopes.insert(0, crate::scopes::ENDUSER_SCOPE.to_string());
        }
        Self {
            scopes,
            pid: Some(pid.to_string()),
            user_id: Some(user_id),
            party_id: Some(party_id),
            lifetime: 1800,
            ..Self::default()
        }
    }

    /// An operator token (`systembruker:admin`).
    pub fn admin() -> Self {
        Self {
            scopes: vec!["systembruker:admin".to_string()],
            lifetime: 1800,
            ..Self::default()
        }
    }
}

/// The keys in use: the one that signs, and all whose tokens may still be alive.
struct KeyRing {
    active: Arc<SigningKey>,
    verifiers: HashMap<String, jsonwebtoken::DecodingKey>,
    published: Vec<RsaJwk>,
    loaded_at: Instant,
}

pub struct TokenService {
    store: Arc<dyn TokenStore>,
    issuer: String,
    kek: Option<KeyEncryptionKey>,
    ring: RwLock<Option<Arc<KeyRing>>>,
    loading: tokio::sync::Mutex<()>,
    client_keys: ClientVerifiers,
}

/// Client keys parsed for verification, by kid. The store stays the authority: an entry
/// serves only while the stored key still has the same modulus and exponent (a kid
/// removed and registered again with new material is parsed anew) and the assertion uses
/// the algorithm it was parsed for (a client that switches is parsed again).
#[derive(Default)]
struct ClientVerifiers {
    parsed: Mutex<HashMap<String, ParsedClientKey>>,
}

struct ParsedClientKey {
    jwk: RsaJwk,
    algorithm: RsaAlgorithm,
    verifier: Arc<ParsedPublicKey>,
}

/// Parsed client keys kept; past this the map starts over.
const CLIENT_VERIFIERS_KEPT: usize = 10_000;

impl ClientVerifiers {
    fn verifier(
        &self,
        key: &ClientKey,
        algorithm: RsaAlgorithm,
    ) -> Result<Arc<ParsedPublicKey>, GrantError> {
        if let Some(kept) = self.parsed().get(&key.kid)
            && kept.algorithm == algorithm
            && kept.jwk.n == key.jwk.n
            && kept.jwk.e == key.jwk.e
        {
            return Ok(kept.verifier.clone());
        }
        let verifier = Arc::new(
            key.jwk
                .verifier(algorithm)
                .map_err(|e| GrantError::server(&e))?,
        );
        let mut parsed = self.parsed();
        if parsed.len() >= CLIENT_VERIFIERS_KEPT {
            parsed.clear();
        }
        parsed.insert(
            key.kid.clone(),
            ParsedClientKey {
                jwk: key.jwk.clone(),
                algorithm,
                verifier: verifier.clone(),
            },
        );
        Ok(verifier)
    }

    fn parsed(&self) -> MutexGuard<'_, HashMap<String, ParsedClientKey>> {
        // Plain data behind the lock: usable after a panic elsewhere.
        self.parsed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Every scope must be on the client, and usable by its consumer org: platform scopes
/// that are open, scopes their owner opened to all, or scopes whose access list has the
/// consumer (owners always may). Returns the lowest lifetime cap (`at_max_age`) of the
/// scopes asked for, if any has one.
fn check_scopes(
    client: &Client,
    access: &[ScopeAccess],
    scopes: &[String],
) -> Result<Option<u32>, GrantError> {
    if let Some(missing) = scopes.iter().find(|s| !client.scopes.contains(s)) {
        return Err(GrantError::scope(
            "MP-200",
            format!(
                "Token request contains invalid scopes for client: {missing:?} is not registered on the client"
            ),
        ));
    }
    for scope in scopes {
        let entry = access.iter().find(|a| &a.name == scope);
        let allowed = match (platform_scope(scope), entry) {
            (Some(platform), entry) => platform.open || entry.is_some_and(|e| e.granted),
            (None, _) if is_platform_only(scope) => false,
            (None, Some(e)) => {
                e.granted || e.open_to_all || e.owner_org.as_ref() == Some(&client.consumer_org)
            }
            (None, None) => {
                return Err(GrantError::scope(
                    "MP-200",
                    format!(
                        "Token request contains invalid scopes for client: {scope:?} does not exist"
                    ),
                ));
            }
        };
        if !allowed {
            return Err(GrantError::scope(
                "MP-250",
                format!(
                    "Consumer has not been granted access to the scope {scope} (consumer {})",
                    client.consumer_org
                ),
            ));
        }
    }
    Ok(access
        .iter()
        .filter(|a| scopes.contains(&a.name))
        .filter_map(|a| a.max_age)
        .min())
}

/// Polls `future` once, so that its work begins (a queued write is queued), and returns
/// its output if that first poll already had it.
async fn start<F: Future + Unpin>(future: &mut F) -> Option<F::Output> {
    std::future::poll_fn(|cx| match Pin::new(&mut *future).poll(cx) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

fn jti() -> String {
    let mut bytes = [0u8; 32];
    // The system RNG does not fail on supported platforms; a v4 uuid is the fallback.
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        return Uuid::new_v4().simple().to_string();
    }
    jws::b64url(&bytes)
}

impl TokenService {
    pub fn new(store: Arc<dyn TokenStore>, settings: TokenSettings) -> Self {
        Self {
            store,
            issuer: settings.issuer,
            kek: settings.key_encryption,
            ring: RwLock::new(None),
            loading: tokio::sync::Mutex::new(()),
            client_keys: ClientVerifiers::default(),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn token_endpoint(&self) -> String {
        format!("{}token", self.issuer)
    }

    pub fn jwks_uri(&self) -> String {
        format!("{}jwk", self.issuer)
    }

    /// The RFC 8414 authorization-server metadata.
    pub fn metadata(&self) -> Value {
        serde_json::json!({
            "issuer": self.issuer,
            "token_endpoint": self.token_endpoint(),
            "jwks_uri": self.jwks_uri(),
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "grant_types_supported": [JWT_BEARER_GRANT],
            "token_endpoint_auth_signing_alg_values_supported": assertion::ACCEPTED_ALGORITHMS,
            "authorization_details_types_supported": [SYSTEMUSER_DETAILS_TYPE],
        })
    }

    // ----- issuing -----

    /// Checks a JWT-bearer assertion and issues an access token.
    pub async fn issue(&self, assertion: &str) -> Result<TokenResponse, GrantError> {
        self.issue_at(assertion, now_seconds()).await
    }

    /// [`Self::issue`] at a given time (unix seconds), for tests and benchmarks.
    pub async fn issue_at(&self, assertion: &str, now: i64) -> Result<TokenResponse, GrantError> {
        let header = assertion::read_header(assertion)?;
        let ClientGrant {
            client,
            key,
            access,
        } = self
            .store
            .client_for_grant(&header.kid)
            .await?
            .ok_or_else(|| {
                GrantError::grant(
                    "MP-100",
                    format!(
                        "Invalid assertion. Client authentication failed: no client has a key with kid {:?}",
                        header.kid
                    ),
                )
            })?;
        if key.expires_at <= now.saturating_mul(1000) {
            return Err(GrantError::grant(
                "MP-121",
                format!(
                    "Invalid assertion. Client authentication failed. Expired key: key {:?} expired; upload a new key",
                    key.kid
                ),
            ));
        }
        let verifier = self.client_keys.verifier(&key, header.alg)?;
        let claims = assertion::verify_signature(assertion, &header, &verifier)?;
        let checked = assertion::check_claims(claims, client.client_id, &self.issuer, now)?;
        let lifetime_cap = check_scopes(&client, &access, &checked.scopes)?;
        let (details, issued_for) = match &checked.system_user {
            Some(request) => {
                let (details, issued_for) = self.resolve_system_user(&client, request).await?;
                (Some(vec![details]), Some(issued_for))
            }
            None => (None, None),
        };
        // The jti write starts first and the token is signed while it is under way (on
        // SQLite it may wait for the disk, on PostgreSQL for the network); the token
        // leaves only if this was the jti's first use. A replay thus costs one signature,
        // as much as a fresh request does.
        let jti = checked.jti.clone();
        let mut first_use = self.store.remember_jti(client.client_id, &jti, checked.exp);
        let started = start(&mut first_use).await;
        let token = self
            .sign_for_client(&client, lifetime_cap, checked, details, now)
            .await
            .map(|token| TokenResponse {
                system_user: issued_for,
                ..token
            });
        let first_use = match started {
            Some(answer) => answer,
            None => first_use.await,
        };
        if !first_use? {
            return Err(GrantError::grant(
                "MP-012",
                "Invalid assertion. Grant is used before: this jti was used already; make a new assertion with a new jti for each request",
            ));
        }
        token
    }

    async fn sign_for_client(
        &self,
        client: &Client,
        lifetime_cap: Option<u32>,
        checked: CheckedAssertion,
        details: Option<Vec<SystemUserDetails>>,
        now: i64,
    ) -> Result<TokenResponse, GrantError> {
        // The lowest of the client's lifetime, the platform's maximum and the scopes' caps.
        let lifetime = client
            .access_token_lifetime
            .min(MAX_ACCESS_TOKEN_LIFETIME)
            .min(lifetime_cap.unwrap_or(u32::MAX));
        let scope = checked.scopes.join(" ");
        let token_id = jti();
        let claims = AccessTokenClaims {
            authorization_details: details,
            scope: scope.clone(),
            iss: self.issuer.clone(),
            client_amr: Some("private_key_jwt".into()),
            token_type: "Bearer".into(),
            exp: now + i64::from(lifetime),
            iat: now,
            client_id: Some(client.client_id.to_string()),
            jti: token_id.clone(),
            consumer: Some(OrgClaim::new(&client.consumer_org)),
            aud: checked.resource,
            pid: None,
            user_id: None,
            party_id: None,
        };
        let ring = self.keyring().await?;
        let access_token = jws::sign(&ring.active, RsaAlgorithm::RS256, None, &claims)?;
        Ok(TokenResponse {
            client_id: client.client_id,
            access_token,
            token_type: "Bearer",
            expires_in: lifetime,
            scope,
            jti: token_id,
            system_user: None,
            consumer_org: client.consumer_org.to_string(),
        })
    }

    async fn resolve_system_user(
        &self,
        client: &Client,
        request: &SystemUserRequest,
    ) -> Result<(SystemUserDetails, IssuedFor), GrantError> {
        let external_ref = request
            .external_ref
            .clone()
            .unwrap_or_else(|| request.owner_org.to_string());
        let found = self
            .store
            .find_system_user(&SystemUserQuery {
                client_id: client.client_id,
                vendor_org: client.consumer_org,
                owner_org: request.owner_org,
                external_ref,
            })
            .await?
            .ok_or_else(|| assertion::no_system_user(request, client.client_id))?;
        let issued_for = IssuedFor {
            system_user_id: found.system_user_id,
            system_id: found.system_id.clone(),
            owner_party: found.owner_party,
        };
        let details = SystemUserDetails {
            details_type: SYSTEMUSER_DETAILS_TYPE.to_string(),
            systemuser_org: OrgClaim::new(&request.owner_org),
            systemuser_id: vec![found.system_user_id],
            system_id: found.system_id,
            external_ref: found.external_ref,
        };
        Ok((details, issued_for))
    }

    /// Signs a platform token (test tools, operator, end users after login).
    pub async fn mint(&self, request: MintRequest) -> Result<String, KeyError> {
        let now = request.issued_at.unwrap_or_else(now_seconds);
        let claims = AccessTokenClaims {
            authorization_details: request.authorization_details,
            scope: request.scopes.join(" "),
            iss: self.issuer.clone(),
            client_amr: request
                .consumer_org
                .as_ref()
                .map(|_| "private_key_jwt".to_string()),
            token_type: "Bearer".into(),
            exp: now + i64::from(request.lifetime.min(MAX_ACCESS_TOKEN_LIFETIME)),
            iat: now,
            client_id: request.client_id,
            jti: jti(),
            consumer: request.consumer_org.as_ref().map(OrgClaim::new),
            aud: None,
            pid: request.pid,
            user_id: request.user_id.map(|id| id.to_string()),
            party_id: request.party_id.map(|id| id.to_string()),
        };
        let ring = self.keyring().await?;
        jws::sign(&ring.active, RsaAlgorithm::RS256, None, &claims)
    }

    // ----- verifying -----

    /// Verifies one of our access tokens: RS256 only, signature by `kid`, `iss`, `exp`.
    pub async fn verify_access_token(&self, token: &str) -> Result<AccessToken, VerifyError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| VerifyError::NotOurs("not a JWT of this platform".into()))?;
        if header.alg != jsonwebtoken::Algorithm::RS256 {
            return Err(VerifyError::NotOurs(format!(
                "algorithm {:?} is not the platform's (RS256)",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| VerifyError::NotOurs("the JWT header has no kid".into()))?;
        let ring = self.ring_with_kid(&kid).await?;
        let key = ring.verifiers.get(&kid).ok_or_else(|| {
            VerifyError::NotOurs(format!("kid {kid:?} is not a key of this platform"))
        })?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iat", "iss"]);
        validation.validate_aud = false;
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Value>(token, key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => VerifyError::Expired,
                ErrorKind::InvalidSignature => {
                    VerifyError::NotOurs("the signature does not verify".into())
                }
                ErrorKind::InvalidIssuer => VerifyError::Invalid("iss is not this platform".into()),
                other => VerifyError::Invalid(format!("{other:?}")),
            }
        })?;
        let claims: AccessTokenClaims = serde_json::from_value(data.claims.clone())
            .map_err(|e| VerifyError::Invalid(e.to_string()))?;
        check_meant_for_platform(claims.aud.as_ref(), &self.issuer)?;
        Ok(AccessToken {
            claims,
            raw: data.claims,
        })
    }

    async fn ring_with_kid(&self, kid: &str) -> Result<Arc<KeyRing>, VerifyError> {
        let ring = self
            .keyring()
            .await
            .map_err(|e| VerifyError::Keys(e.to_string()))?;
        if ring.verifiers.contains_key(kid) || ring.loaded_at.elapsed() < UNKNOWN_KID_RELOAD {
            return Ok(ring);
        }
        // Maybe a key another process made since we loaded ours.
        self.reload(Some(&ring))
            .await
            .map_err(|e| VerifyError::Keys(e.to_string()))
    }

    // ----- keys -----

    /// The public keys of every signing key whose tokens may still be valid.
    pub async fn jwks(&self) -> Result<Jwks, KeyError> {
        Ok(Jwks {
            keys: self.keyring().await?.published.clone(),
        })
    }

    /// Loads the signing keys, creating the first one if the database has none. Called at
    /// start so that a broken key-encryption key stops the server early.
    pub async fn ensure_signing_key(&self) -> Result<String, KeyError> {
        Ok(self.keyring().await?.active.kid().to_string())
    }

    /// Adds a new signing key that becomes the active one; old keys stay published until
    /// their tokens have expired, and keys retired long ago are deleted. Returns the kid.
    pub async fn rotate_signing_key(&self) -> Result<String, KeyError> {
        let kid = self.create_signing_key().await?;
        self.prune_retired_keys().await?;
        let current = self.ring.read().ok().and_then(|r| r.clone());
        self.reload(current.as_ref()).await?;
        Ok(kid)
    }

    async fn keyring(&self) -> Result<Arc<KeyRing>, KeyError> {
        let current = self.ring.read().ok().and_then(|r| r.clone());
        match current {
            Some(ring) if ring.loaded_at.elapsed() < KEY_REFRESH => Ok(ring),
            other => self.reload(other.as_ref()).await,
        }
    }

    /// Loads the keys again unless another task did since `seen`. On a database failure a
    /// ring already loaded is kept, so verification goes on during an outage.
    async fn reload(&self, seen: Option<&Arc<KeyRing>>) -> Result<Arc<KeyRing>, KeyError> {
        let _guard = self.loading.lock().await;
        let current = self.ring.read().ok().and_then(|r| r.clone());
        if let (Some(current), Some(seen)) = (&current, seen)
            && !Arc::ptr_eq(current, seen)
        {
            return Ok(current.clone());
        }
        let ring = match self.load_ring().await {
            Ok(ring) => Arc::new(ring),
            Err(e) => match current {
                Some(old) => {
                    tracing::warn!(error = %e, "signing keys could not be reloaded; keeping the loaded ones");
                    return Ok(old);
                }
                None => return Err(e),
            },
        };
        if let Ok(mut slot) = self.ring.write() {
            *slot = Some(ring.clone());
        }
        Ok(ring)
    }

    async fn load_ring(&self) -> Result<KeyRing, KeyError> {
        let mut stored = self.store.signing_keys().await?;
        if stored.is_empty() {
            self.create_signing_key().await?;
            stored = self.store.signing_keys().await?;
        }
        stored.sort_by(|a, b| (a.activated_at, &a.kid).cmp(&(b.activated_at, &b.kid)));
        let newest = stored
            .last()
            .ok_or_else(|| KeyError::Crypto("no signing key could be created".into()))?;
        let active = Arc::new(open_private_key(
            &newest.kid,
            &newest.private_key,
            self.kek.as_ref(),
        )?);
        let now_ms = crate::now_seconds() * 1000;
        let mut verifiers = HashMap::new();
        let mut published = Vec::new();
        for (i, key) in stored.iter().enumerate() {
            let superseded_at = stored.get(i + 1).map(|next| next.activated_at);
            let alive =
                superseded_at.is_none_or(|t| t + RETIRED_KEY_RETENTION_SECS * 1000 > now_ms);
            if !alive {
                continue;
            }
            let jwk: RsaJwk = serde_json::from_str(&key.public_jwk)
                .map_err(|e| KeyError::InvalidJwk(format!("stored key {}: {e}", key.kid)))?;
            verifiers.insert(key.kid.clone(), jwk.decoding_key()?);
            published.push(jwk);
        }
        Ok(KeyRing {
            active,
            verifiers,
            published,
            loaded_at: Instant::now(),
        })
    }

    async fn create_signing_key(&self) -> Result<String, KeyError> {
        // RSA key generation takes long enough to keep it off the async workers.
        let key = tokio::task::spawn_blocking(|| SigningKey::generate(None))
            .await
            .map_err(|e| KeyError::Crypto(format!("key generation task failed: {e}")))??;
        let now = chrono::Utc::now().timestamp_millis();
        let stored = StoredSigningKey {
            kid: key.kid().to_string(),
            algorithm: "RS256".into(),
            public_jwk: serde_json::to_string(key.public_jwk())
                .map_err(|e| KeyError::Crypto(e.to_string()))?,
            private_key: seal_private_key(&key, self.kek.as_ref())?,
            created_at: now,
            activated_at: now,
        };
        self.store.add_signing_key(&stored).await?;
        tracing::info!(
            kid = key.kid(),
            sealed = self.kek.is_some(),
            "signing key created"
        );
        Ok(stored.kid)
    }

    async fn prune_retired_keys(&self) -> Result<(), KeyError> {
        let mut stored = self.store.signing_keys().await?;
        stored.sort_by(|a, b| (a.activated_at, &a.kid).cmp(&(b.activated_at, &b.kid)));
        let cutoff = crate::now_seconds() * 1000 - 2 * RETIRED_KEY_RETENTION_SECS * 1000;
        for pair in stored.windows(2) {
            if pair[1].activated_at < cutoff {
                self.store.delete_signing_key(&pair[0].kid).await?;
            }
        }
        Ok(())
    }
}

/// The `aud` values naming the platform's own APIs: its public URL, with or without the
/// trailing slash (the issuer is `{public-url}/maskinporten/`).
pub fn platform_audiences(issuer: &str) -> [String; 2] {
    let base = issuer.trim_end_matches('/');
    let base = base.strip_suffix("/maskinporten").unwrap_or(base);
    [base.to_string(), format!("{base}/")]
}

/// A token asked for another resource server (`resource` in the token request becomes
/// `aud`) is that server's, not a key to the platform's APIs: it is accepted only when
/// `aud` is absent (as Maskinporten issues without `resource`) or names the platform.
fn check_meant_for_platform(aud: Option<&Value>, issuer: &str) -> Result<(), VerifyError> {
    let Some(aud) = aud else {
        return Ok(());
    };
    let ours = platform_audiences(issuer);
    let names_us = |v: &Value| v.as_str().is_some_and(|a| ours.iter().any(|o| o == a));
    let meant_for_us = match aud {
        Value::Array(items) => items.iter().any(names_us),
        single => names_us(single),
    };
    if meant_for_us {
        Ok(())
    } else {
        Err(VerifyError::Invalid(format!(
            "the token is meant for another resource server (aud {aud}), not for {}",
            ours[0]
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISSUER: &str = "https://platform.example/maskinporten/";

    #[test]
    fn only_tokens_for_the_platform_are_accepted() {
        for ours in [
            None,
            Some(json!("https://platform.example")),
            Some(json!("https://platform.example/")),
            Some(json!([
                "https://other.example/api",
                "https://platform.example"
            ])),
        ] {
            assert!(
                check_meant_for_platform(ours.as_ref(), ISSUER).is_ok(),
                "{ours:?}"
            );
        }
        for theirs in [
            json!("https://other.example/api"),
            json!(["https://other.example/api"]),
            json!([]),
            json!("https://platform.example.evil"),
            json!(7),
        ] {
            assert!(
                matches!(
                    check_meant_for_platform(Some(&theirs), ISSUER),
                    Err(VerifyError::Invalid(_))
                ),
                "{theirs}"
            );
        }
    }
}
