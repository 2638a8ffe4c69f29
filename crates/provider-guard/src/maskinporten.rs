//! The client side of Maskinporten, as a vendor's or an API provider's program uses it:
//! sign a JWT-bearer grant with the client's key, post it to `{platform}/maskinporten/token`,
//! keep the token until shortly before it expires. A system-user token is cached per
//! (scope, owner organisation, externalRef), so one customer's token is never used for
//! another.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Deserialize;
use systembruker_domain::OrgNumber;
use systembruker_token::client::AssertionRequest;
use systembruker_token::keys::SigningKey;
use tokio::sync::Mutex;

/// Where the guard gets the bearer token it shows the PDP.
#[async_trait::async_trait]
pub trait TokenSource: Send + Sync {
    async fn token(&self) -> Result<String, TokenError>;
}

/// A fixed token (tests, or a token another part of the program keeps fresh).
pub struct StaticToken(String);

impl StaticToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }
}

#[async_trait::async_trait]
impl TokenSource for StaticToken {
    async fn token(&self) -> Result<String, TokenError> {
        Ok(self.0.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token service answered with an OAuth2 error (`error`, `error_description`).
    #[error("{error}: {description}")]
    Refused {
        status: u16,
        error: String,
        description: String,
    },
    #[error("the token service does not answer: {0}")]
    Unreachable(String),
    #[error("{0}")]
    Other(String),
}

impl TokenError {
    /// The Maskinporten code at the start of the description (`MP-303`), if any.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { description, .. } => description
                .split(':')
                .next()
                .filter(|c| c.starts_with("MP-")),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    scope: String,
    owner: Option<String>,
    external_ref: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

#[derive(Debug, Deserialize)]
struct OAuthErrorAnswer {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// A Maskinporten client of the platform: its id and private key.
pub struct MaskinportenClient {
    http: reqwest::Client,
    platform: String,
    client_id: String,
    key: SigningKey,
    /// The scope `token()` (the [`TokenSource`]) asks for.
    default_scope: String,
    cache: Mutex<HashMap<CacheKey, (String, Instant)>>,
}

/// Tokens are renewed this long before they expire.
const RENEW_MARGIN: Duration = Duration::from_secs(10);

impl MaskinportenClient {
    pub fn new(platform: &str, client_id: &str, key: SigningKey, default_scope: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            platform: platform.trim_end_matches('/').to_string(),
            client_id: client_id.to_string(),
            key,
            default_scope: default_scope.to_string(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Makes a key pair and registers a client with its public key through the operator
    /// API (`POST /admin/api/v1/maskinporten/clients`): what an operator does once for a
    /// vendor; the demo programs do it at start so no private key is ever stored.
    pub async fn register(
        platform: &str,
        admin_token: &str,
        name: &str,
        consumer_org: &str,
        scopes: &[&str],
    ) -> Result<Self, TokenError> {
        let kid = format!("{}-{}", name.to_lowercase(), uuid::Uuid::new_v4());
        let key = SigningKey::generate(Some(&kid)).map_err(|e| TokenError::Other(e.to_string()))?;
        let platform = platform.trim_end_matches('/');
        let url = format!("{platform}/admin/api/v1/maskinporten/clients");
        let response = reqwest::Client::new()
            .post(&url)
            .bearer_auth(admin_token)
            .json(&serde_json::json!({
                "client_name": name,
                "consumer_org": consumer_org,
                "scopes": scopes,
                "jwks": {"keys": [key.public_jwk()]},
            }))
            .send()
            .await
            .map_err(|e| TokenError::Unreachable(format!("{url}: {e}")))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        let client_id = body["client_id"]
            .as_str()
            .filter(|_| status.is_success())
            .ok_or_else(|| TokenError::Other(format!("{url} answered {status}: {body}")))?;
        Ok(Self::new(
            platform,
            client_id,
            key,
            scopes.first().copied().unwrap_or(""),
        ))
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// A plain token for `scope` (the client's own organisation).
    pub async fn scope_token(&self, scope: &str) -> Result<String, TokenError> {
        self.cached_or_fetch(CacheKey {
            scope: scope.to_string(),
            owner: None,
            external_ref: None,
        })
        .await
    }

    /// A system-user token: the system user of this client's system owned by `owner`
    /// (with `external_ref`, when the vendor made it with one).
    pub async fn system_user_token(
        &self,
        scope: &str,
        owner: &str,
        external_ref: Option<&str>,
    ) -> Result<String, TokenError> {
        self.cached_or_fetch(CacheKey {
            scope: scope.to_string(),
            owner: Some(owner.to_string()),
            external_ref: external_ref.map(str::to_string),
        })
        .await
    }

    /// Drops the cached system-user tokens for `owner` and `external_ref` (e.g. after an
    /// API said the system user no longer may act).
    pub async fn forget(&self, owner: &str, external_ref: Option<&str>) {
        self.cache.lock().await.retain(|key, _| {
            !(key.owner.as_deref() == Some(owner) && key.external_ref.as_deref() == external_ref)
        });
    }

    async fn cached_or_fetch(&self, key: CacheKey) -> Result<String, TokenError> {
        if let Some((token, until)) = self.cache.lock().await.get(&key)
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let (token, lifetime) = self.fetch(&key).await?;
        let until = Instant::now() + lifetime.saturating_sub(RENEW_MARGIN);
        self.cache.lock().await.insert(key, (token.clone(), until));
        Ok(token)
    }

    async fn fetch(&self, key: &CacheKey) -> Result<(String, Duration), TokenError> {
        let issuer = format!("{}/maskinporten/", self.platform);
        let mut request = AssertionRequest::new(&self.client_id, &issuer, &key.scope);
        if let Some(owner) = &key.owner {
            let owner = OrgNumber::parse(owner).map_err(|e| TokenError::Other(e.to_string()))?;
            request = request.system_user(&owner, key.external_ref.as_deref());
        }
        let assertion = request
            .sign(&self.key)
            .map_err(|e| TokenError::Other(e.to_string()))?;
        let url = format!("{issuer}token");
        let response = self
            .http
            .post(&url)
            .form(&[
                ("grant_type", systembruker_token::JWT_BEARER_GRANT),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(|e| TokenError::Unreachable(format!("{url}: {e}")))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| TokenError::Unreachable(e.to_string()))?;
        if status.is_success() {
            let answer: TokenAnswer = serde_json::from_str(&text)
                .map_err(|e| TokenError::Other(format!("unreadable token answer: {e}")))?;
            return Ok((answer.access_token, Duration::from_secs(answer.expires_in)));
        }
        Err(match serde_json::from_str::<OAuthErrorAnswer>(&text) {
            Ok(error) => TokenError::Refused {
                status: status.as_u16(),
                error: error.error,
                description: error.error_description,
            },
            Err(_) => TokenError::Unreachable(format!("{url} answered {status}")),
        })
    }
}

#[async_trait::async_trait]
impl TokenSource for MaskinportenClient {
    async fn token(&self) -> Result<String, TokenError> {
        self.scope_token(&self.default_scope).await
    }
}
