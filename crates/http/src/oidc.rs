//! OpenID Connect relying party for the portal's login, used the way ID-porten is used:
//! authorization code flow with PKCE (S256), `state` and `nonce`, the person identified
//! by the `pid` claim of the id_token.
//!
//! The flow, as the portal drives it:
//!
//! 1. [`OidcClient::discover`] once at start: reads the provider's metadata and checks
//!    that it names exactly the configured issuer (a mix-up guard: tokens are only ever
//!    accepted from the issuer the operator configured).
//! 2. [`OidcClient::begin`] per login: a fresh `state`, `nonce` and PKCE verifier. The
//!    [`PendingLogin`] goes into the user's session (server side or sealed), the browser
//!    goes to the authorization URL.
//! 3. [`OidcClient::complete`] on the callback: checks `state`, exchanges the code (with
//!    the PKCE verifier and client authentication), verifies the id_token (RS256 only,
//!    signature against the provider's JWKS, `iss`, `aud`, `exp`, `iat`, `nonce`) and reads
//!    `pid`.
//!
//! Every check that fails gives an [`OidcError`] that says what was wrong; none of them is
//! skipped for convenience, because the id_token is the only thing that tells the portal
//! who the user is.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use systembruker_domain::PersonNumber;

/// Clock skew tolerated on `exp`, `nbf` and `iat` of the id_token.
pub const CLOCK_LEEWAY_SECS: u64 = 30;

/// An id_token whose `iat` is older than this is refused: it comes straight from the
/// token endpoint, so an old one can only be a replay or a badly wrong clock.
pub const MAX_ID_TOKEN_AGE_SECS: i64 = 600;

/// A login not completed within this time is refused: the user must start again. Long
/// enough for a slow BankID login, short enough that a stale session cannot be used.
pub const PENDING_LOGIN_MAX_AGE_SECS: i64 = 30 * 60;

/// Lifetime of the `private_key_jwt` client assertion (ID-porten allows at most 120 s).
const CLIENT_ASSERTION_LIFETIME_SECS: i64 = 60;

/// Timeout of each request to the provider, so a hanging provider cannot hang a login.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(15);

/// Random bytes in `state`, `nonce`, the PKCE verifier and `jti`: 256 bits each.
const RANDOM_BYTES: usize = 32;

/// The relying party's settings.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The provider's issuer identifier, exactly as its metadata states it, e.g.
    /// `https://test.idporten.no`.
    pub issuer: String,
    pub client_id: String,
    pub client_auth: ClientAuth,
    /// Where the provider sends the browser back: `{public-url}/accessmanagement/ui/login/callback`.
    pub redirect_uri: String,
    /// Scopes asked for; must include `openid`. Default `["openid", "profile"]`.
    pub scopes: Vec<String>,
}

impl OidcConfig {
    /// Settings with the default scopes (`openid profile`).
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        client_auth: ClientAuth,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            client_id: client_id.into(),
            client_auth,
            redirect_uri: redirect_uri.into(),
            scopes: Self::default_scopes(),
        }
    }

    pub fn default_scopes() -> Vec<String> {
        vec!["openid".to_string(), "profile".to_string()]
    }

    /// Checks what can be checked without asking the provider: URLs, scopes and the
    /// client key. The program calls it at start so a wrong setting stops it at once,
    /// not at the first login.
    pub fn check(&self) -> Result<(), OidcError> {
        self.assertion_key().map(|_| ())
    }

    /// Does the checks of [`OidcConfig::check`] and returns the parsed client key, if any.
    fn assertion_key(&self) -> Result<Option<AssertionKey>, OidcError> {
        checked_url("the issuer (--oidc-issuer)", &self.issuer)?;
        checked_url("the redirect URI", &self.redirect_uri)?;
        if self.client_id.trim().is_empty() {
            return Err(OidcError::Config(
                "the client id is empty; set --oidc-client-id to the id the provider gave this client".into(),
            ));
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return Err(OidcError::Config(format!(
                "the scopes {:?} lack \"openid\", without which there is no id_token",
                self.scopes
            )));
        }
        match &self.client_auth {
            ClientAuth::Secret(secret) if secret.is_empty() => Err(OidcError::Config(
                "the client secret is empty; set --oidc-client-secret".into(),
            )),
            ClientAuth::Secret(_) => Ok(None),
            ClientAuth::PrivateKeyJwt { key_pem, kid } => {
                AssertionKey::parse(key_pem, kid.clone()).map(Some)
            }
        }
    }
}

/// How the client authenticates at the token endpoint.
#[derive(Clone)]
pub enum ClientAuth {
    /// `client_secret_basic`: the secret in an HTTP Basic `Authorization` header.
    Secret(String),
    /// `private_key_jwt`: a short-lived RS256 assertion signed with this key (PEM, PKCS#8
    /// or PKCS#1). `kid` names the key as registered at the provider.
    PrivateKeyJwt {
        key_pem: String,
        kid: Option<String>,
    },
}

impl ClientAuth {
    /// The `token_endpoint_auth_method` name of this method.
    pub fn method(&self) -> &'static str {
        match self {
            Self::Secret(_) => "client_secret_basic",
            Self::PrivateKeyJwt { .. } => "private_key_jwt",
        }
    }
}

impl fmt::Debug for ClientAuth {
    // Secrets and private keys never reach logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Secret(_) => f.write_str("Secret(…)"),
            Self::PrivateKeyJwt { kid, .. } => f
                .debug_struct("PrivateKeyJwt")
                .field("kid", kid)
                .finish_non_exhaustive(),
        }
    }
}

/// What the portal keeps in the session between [`OidcClient::begin`] and
/// [`OidcClient::complete`]. Every value is single-use.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    /// The PKCE verifier; only its S256 hash left this server.
    pub code_verifier: String,
    /// Unix seconds when the login began.
    pub created_at: i64,
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("state", &self.state)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// A verified login.
#[derive(Clone)]
pub struct LoggedIn {
    /// The person, from the `pid` claim.
    pub pid: PersonNumber,
    /// The raw id_token, kept for the logout (`id_token_hint`).
    pub id_token: String,
    /// The `name` claim, when the provider gives one (ID-porten does not).
    pub name: Option<String>,
}

impl fmt::Debug for LoggedIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoggedIn")
            .field("pid", &self.pid)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Why a discovery or a login failed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("OpenID Connect is misconfigured: {0}")]
    Config(String),
    #[error(
        "cannot read the OpenID provider's metadata at {url}: {reason}; check --oidc-issuer and that the provider is reachable"
    )]
    Discovery { url: String, reason: String },
    #[error(
        "the OpenID provider's metadata names the issuer {actual:?}, not the configured {configured:?}; set --oidc-issuer to exactly the provider's issuer (trailing slash included or not, as the provider writes it)"
    )]
    IssuerMismatch { configured: String, actual: String },
    #[error("the OpenID provider's metadata is unusable: {0}")]
    Metadata(String),
    #[error(
        "the login was started more than {} minutes ago; start the login again",
        PENDING_LOGIN_MAX_AGE_SECS / 60
    )]
    LoginExpired,
    #[error(
        "the login answer does not belong to this browser session (state mismatch): start the login again; if it keeps happening, cookies may be blocked"
    )]
    StateMismatch,
    #[error("cannot reach the OpenID provider's {endpoint}: {reason}; try again")]
    Provider {
        endpoint: &'static str,
        reason: String,
    },
    #[error(
        "the OpenID provider refused the code exchange ({status}): {error}{}; start the login again, and if it keeps happening check the client id and its credentials",
        description.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
    )]
    TokenRefused {
        status: u16,
        error: String,
        description: Option<String>,
    },
    #[error("the id_token from the OpenID provider is not acceptable: {0}")]
    InvalidIdToken(String),
    #[error("the id_token is signed with {0:?}; only RS256 is accepted")]
    Algorithm(String),
    #[error("the id_token was not issued for this login (nonce mismatch); start the login again")]
    NonceMismatch,
    #[error(
        "the id_token has no pid claim (the person's national identity number); the provider must release pid to this client"
    )]
    MissingPid,
    #[error("the id_token's pid claim is not a valid national identity number: {0}")]
    InvalidPid(String),
    #[error("cannot sign the client assertion: {0}")]
    ClientAssertion(String),
}

/// The parts of the provider's metadata the relying party uses.
#[derive(Debug, Clone, Deserialize)]
struct ProviderMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    end_session_endpoint: Option<String>,
    #[serde(default)]
    id_token_signing_alg_values_supported: Option<Vec<String>>,
    #[serde(default)]
    code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

/// The client's private key for `private_key_jwt`, parsed once.
struct AssertionKey {
    key: EncodingKey,
    kid: Option<String>,
}

impl AssertionKey {
    fn parse(pem: &str, kid: Option<String>) -> Result<Self, OidcError> {
        let bad = |detail: String| {
            OidcError::Config(format!(
                "the private key for private_key_jwt (--oidc-private-key) is not usable: {detail}; it must be an RSA private key in PEM (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)"
            ))
        };
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| bad(e.to_string()))?;
        // The PEM reader only unwraps the key; a trial signature proves it is a valid RSA
        // key, so a broken file is found at start rather than at the first login.
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &serde_json::json!({}), &key)
            .map_err(|e| bad(e.to_string()))?;
        Ok(Self { key, kid })
    }
}

/// An RSA signing key from the provider's JWKS.
#[derive(Clone)]
struct ProviderKey {
    kid: Option<String>,
    key: DecodingKey,
}

struct Inner {
    config: OidcConfig,
    metadata: ProviderMetadata,
    /// Parsed once in `discover`, so `begin` and `end_session_url` cannot fail.
    authorization_endpoint: Url,
    end_session_endpoint: Option<Url>,
    http: reqwest::Client,
    assertion_key: Option<AssertionKey>,
    /// The provider's signing keys as last fetched; empty until the first login.
    jwks: tokio::sync::RwLock<Arc<Vec<ProviderKey>>>,
    /// Held while the JWKS is refetched, so concurrent logins fetch it once.
    jwks_refresh: tokio::sync::Mutex<()>,
}

/// The relying party: the provider's metadata and a cache of its signing keys. Cheap to
/// clone (shared inside).
#[derive(Clone)]
pub struct OidcClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcClient")
            .field("issuer", &self.inner.config.issuer)
            .field("client_id", &self.inner.config.client_id)
            .finish_non_exhaustive()
    }
}

impl OidcClient {
    /// Reads `{issuer}/.well-known/openid-configuration` and checks that it is for exactly
    /// the configured issuer and supports what this client needs (code flow with S256
    /// PKCE, RS256 id_tokens, the configured client authentication).
    pub async fn discover(config: OidcConfig, http: reqwest::Client) -> Result<Self, OidcError> {
        let assertion_key = config.assertion_key()?;
        let url = format!(
            "{}/.well-known/openid-configuration",
            config.issuer.trim_end_matches('/')
        );
        let discovery = |reason: String| OidcError::Discovery {
            url: url.clone(),
            reason,
        };
        let response = http
            .get(&url)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(PROVIDER_TIMEOUT)
            .send()
            .await
            .map_err(|e| discovery(e.to_string()))?;
        if !response.status().is_success() {
            return Err(discovery(format!("HTTP status {}", response.status())));
        }
        let metadata: ProviderMetadata = response
            .json()
            .await
            .map_err(|e| discovery(format!("not OpenID provider metadata: {e}")))?;
        if metadata.issuer != config.issuer {
            return Err(OidcError::IssuerMismatch {
                configured: config.issuer,
                actual: metadata.issuer,
            });
        }
        check_metadata(&metadata, &config.client_auth)?;
        let authorization_endpoint =
            checked_url("authorization_endpoint", &metadata.authorization_endpoint)?;
        let end_session_endpoint = metadata
            .end_session_endpoint
            .as_deref()
            .map(|url| checked_url("end_session_endpoint", url))
            .transpose()?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                metadata,
                authorization_endpoint,
                end_session_endpoint,
                http,
                assertion_key,
                jwks: tokio::sync::RwLock::new(Arc::new(Vec::new())),
                jwks_refresh: tokio::sync::Mutex::new(()),
            }),
        })
    }

    pub fn config(&self) -> &OidcConfig {
        &self.inner.config
    }

    /// Starts a login: the URL to send the browser to, and what to keep in the session.
    pub fn begin(&self) -> (String, PendingLogin) {
        let pending = PendingLogin {
            state: random_token(),
            nonce: random_token(),
            code_verifier: random_token(),
            created_at: now_secs(),
        };
        let challenge = URL_SAFE_NO_PAD.encode(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, pending.code_verifier.as_bytes())
                .as_ref(),
        );
        let config = &self.inner.config;
        let scope = config.scopes.join(" ");
        let mut url = self.inner.authorization_endpoint.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &config.client_id)
            .append_pair("redirect_uri", &config.redirect_uri)
            .append_pair("scope", &scope)
            .append_pair("state", &pending.state)
            .append_pair("nonce", &pending.nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        (url.into(), pending)
    }

    /// Completes a login from the callback's `code` and `state`: checks the state,
    /// exchanges the code, verifies the id_token and reads the person's `pid`.
    pub async fn complete(
        &self,
        code: &str,
        returned_state: &str,
        pending: &PendingLogin,
    ) -> Result<LoggedIn, OidcError> {
        let age = now_secs() - pending.created_at;
        if !(-(CLOCK_LEEWAY_SECS as i64)..=PENDING_LOGIN_MAX_AGE_SECS).contains(&age) {
            return Err(OidcError::LoginExpired);
        }
        if !constant_time_eq(returned_state.as_bytes(), pending.state.as_bytes()) {
            return Err(OidcError::StateMismatch);
        }
        let id_token = self.exchange_code(code, &pending.code_verifier).await?;
        let claims = self.verify_id_token(&id_token).await?;
        let nonce = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
        if !constant_time_eq(nonce.as_bytes(), pending.nonce.as_bytes()) {
            return Err(OidcError::NonceMismatch);
        }
        let pid = match claims.get("pid") {
            None | Some(Value::Null) => return Err(OidcError::MissingPid),
            Some(Value::String(pid)) => {
                PersonNumber::parse(pid).map_err(|e| OidcError::InvalidPid(e.to_string()))?
            }
            Some(other) => {
                return Err(OidcError::InvalidPid(format!(
                    "{other} is not a string of 11 digits"
                )));
            }
        };
        let name = claims
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(LoggedIn {
            pid,
            id_token,
            name,
        })
    }

    /// The provider's logout URL (RP-initiated logout), when it has one. The portal clears
    /// its own session first and then sends the browser here, so the provider's single
    /// sign-on session ends too.
    pub fn end_session_url(
        &self,
        id_token_hint: Option<&str>,
        post_logout_redirect_uri: &str,
    ) -> Option<String> {
        let mut url = self.inner.end_session_endpoint.clone()?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(hint) = id_token_hint {
                query.append_pair("id_token_hint", hint);
            }
            query
                .append_pair("client_id", &self.inner.config.client_id)
                .append_pair("post_logout_redirect_uri", post_logout_redirect_uri);
        }
        Some(url.into())
    }

    /// The token request: returns the id_token.
    async fn exchange_code(&self, code: &str, code_verifier: &str) -> Result<String, OidcError> {
        let config = &self.inner.config;
        let endpoint = self.inner.metadata.token_endpoint.as_str();
        let mut form: Vec<(&str, String)> = vec![
            ("grant_type", "authorization_code".into()),
            ("code", code.into()),
            ("redirect_uri", config.redirect_uri.clone()),
            ("code_verifier", code_verifier.into()),
        ];
        let mut request = self
            .inner
            .http
            .post(endpoint)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(PROVIDER_TIMEOUT);
        match (&config.client_auth, &self.inner.assertion_key) {
            (ClientAuth::Secret(secret), _) => {
                // RFC 6749 §2.3.1: both parts are form-encoded before base64.
                let credentials =
                    format!("{}:{}", form_encode(&config.client_id), form_encode(secret));
                request = request.header(
                    reqwest::header::AUTHORIZATION,
                    format!("Basic {}", STANDARD.encode(credentials)),
                );
            }
            (ClientAuth::PrivateKeyJwt { .. }, Some(key)) => {
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ));
                form.push(("client_assertion", self.client_assertion(key)?));
            }
            (ClientAuth::PrivateKeyJwt { .. }, None) => {
                return Err(OidcError::ClientAssertion(
                    "the client key was not loaded".into(),
                ));
            }
        }
        let response = request
            .form(&form)
            .send()
            .await
            .map_err(|e| OidcError::Provider {
                endpoint: "token endpoint",
                reason: e.to_string(),
            })?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|e| OidcError::Provider {
            endpoint: "token endpoint",
            reason: format!("the answer (HTTP {status}) is not JSON: {e}"),
        })?;
        if !status.is_success() {
            return Err(OidcError::TokenRefused {
                status: status.as_u16(),
                error: body
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown error")
                    .to_string(),
                description: body
                    .get("error_description")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        }
        body.get("id_token")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                OidcError::InvalidIdToken(
                    "the token response has no id_token (was the openid scope granted?)".into(),
                )
            })
    }

    /// A `private_key_jwt` assertion as ID-porten wants it: `aud` is the issuer.
    fn client_assertion(&self, key: &AssertionKey) -> Result<String, OidcError> {
        let config = &self.inner.config;
        let now = now_secs();
        let claims = serde_json::json!({
            "iss": config.client_id,
            "sub": config.client_id,
            "aud": config.issuer,
            "jti": random_token(),
            "iat": now,
            "exp": now + CLIENT_ASSERTION_LIFETIME_SECS,
        });
        let mut header = Header::new(Algorithm::RS256);
        header.kid = key.kid.clone();
        jsonwebtoken::encode(&header, &claims, &key.key)
            .map_err(|e| OidcError::ClientAssertion(e.to_string()))
    }

    /// Verifies the id_token's signature and standard claims; returns its claims.
    async fn verify_id_token(&self, id_token: &str) -> Result<Value, OidcError> {
        let header = raw_header(id_token)?;
        // Pinned before any key is looked up: `none`, HS256 (with the public key as the
        // secret) and every other algorithm are refused outright.
        match header.get("alg").and_then(Value::as_str) {
            Some("RS256") => {}
            Some(other) => return Err(OidcError::Algorithm(other.to_string())),
            None => return Err(OidcError::Algorithm("no alg".to_string())),
        }
        let kid = header.get("kid").and_then(Value::as_str);
        let key = self.signing_key(kid).await?;

        let config = &self.inner.config;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = CLOCK_LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
            .map_err(|e| OidcError::InvalidIdToken(describe_jwt_error(e.kind(), config)))?
            .claims;

        let iat = claims
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or_else(|| OidcError::InvalidIdToken("it has no iat (issued at)".into()))?;
        let now = now_secs();
        if iat > now + CLOCK_LEEWAY_SECS as i64 {
            return Err(OidcError::InvalidIdToken(format!(
                "it was issued {} s in the future (iat); check the clocks",
                iat - now
            )));
        }
        if iat < now - MAX_ID_TOKEN_AGE_SECS {
            return Err(OidcError::InvalidIdToken(format!(
                "it was issued {} s ago (iat), too long ago for a fresh login",
                now - iat
            )));
        }
        // OpenID Connect Core §3.1.3.7: several audiences need an azp naming this client.
        let several_audiences = claims
            .get("aud")
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() > 1);
        match claims.get("azp").and_then(Value::as_str) {
            Some(azp) if azp != config.client_id => {
                return Err(OidcError::InvalidIdToken(format!(
                    "it was issued to another client (azp {azp:?})"
                )));
            }
            None if several_audiences => {
                return Err(OidcError::InvalidIdToken(
                    "it has several audiences and no azp naming this client".into(),
                ));
            }
            _ => {}
        }
        Ok(claims)
    }

    /// The provider key for `kid`: from the cache, or after one refetch of the JWKS when
    /// the kid is unknown (the provider rotated its keys).
    async fn signing_key(&self, kid: Option<&str>) -> Result<DecodingKey, OidcError> {
        let cached = self.inner.jwks.read().await.clone();
        if let Some(key) = select_key(&cached, kid) {
            return Ok(key);
        }
        let _refreshing = self.inner.jwks_refresh.lock().await;
        // Another login may have refetched while this one waited for the lock.
        let current = self.inner.jwks.read().await.clone();
        let keys = if Arc::ptr_eq(&current, &cached) {
            let fresh = Arc::new(self.fetch_jwks().await?);
            *self.inner.jwks.write().await = fresh.clone();
            fresh
        } else {
            current
        };
        select_key(&keys, kid).ok_or_else(|| {
            OidcError::InvalidIdToken(match kid {
                Some(kid) => format!(
                    "it is signed with the key {kid:?}, which the provider's JWKS does not contain"
                ),
                None => format!(
                    "it names no key (kid) and the provider's JWKS has {} RS256 keys",
                    keys.len()
                ),
            })
        })
    }

    async fn fetch_jwks(&self) -> Result<Vec<ProviderKey>, OidcError> {
        let failed = |reason: String| OidcError::Provider {
            endpoint: "JWKS (jwks_uri)",
            reason,
        };
        let response = self
            .inner
            .http
            .get(&self.inner.metadata.jwks_uri)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(PROVIDER_TIMEOUT)
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
        if !response.status().is_success() {
            return Err(failed(format!("HTTP status {}", response.status())));
        }
        let jwks: Value = response
            .json()
            .await
            .map_err(|e| failed(format!("not a JWKS: {e}")))?;
        let keys = jwks
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| failed("not a JWKS: no keys array".into()))?;
        Ok(keys.iter().filter_map(provider_key).collect())
    }
}

/// An RSA key usable for RS256 signatures, or `None` for any other key in the set
/// (encryption keys, EC keys, keys for other algorithms).
fn provider_key(jwk: &Value) -> Option<ProviderKey> {
    let field = |name: &str| jwk.get(name).and_then(Value::as_str);
    if field("kty") != Some("RSA") {
        return None;
    }
    if field("use").is_some_and(|u| u != "sig") || field("alg").is_some_and(|a| a != "RS256") {
        return None;
    }
    let key = DecodingKey::from_rsa_components(field("n")?, field("e")?).ok()?;
    Some(ProviderKey {
        kid: field("kid").map(str::to_string),
        key,
    })
}

fn select_key(keys: &[ProviderKey], kid: Option<&str>) -> Option<DecodingKey> {
    match kid {
        Some(kid) => keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
        // Without a kid only an unambiguous set will do.
        None if keys.len() == 1 => keys.first(),
        None => None,
    }
    .map(|k| k.key.clone())
}

/// The JOSE header as JSON, read before verification only to pick the key and refuse
/// other algorithms with a clear message.
fn raw_header(token: &str) -> Result<Value, OidcError> {
    let malformed =
        || OidcError::InvalidIdToken("it is not a signed JWT (header.payload.signature)".into());
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let bytes = URL_SAFE_NO_PAD.decode(header).map_err(|_| malformed())?;
    let header: Value = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
    if header.is_object() {
        Ok(header)
    } else {
        Err(malformed())
    }
}

fn describe_jwt_error(kind: &ErrorKind, config: &OidcConfig) -> String {
    match kind {
        ErrorKind::InvalidSignature => {
            "its signature does not verify against the provider's key".into()
        }
        ErrorKind::ExpiredSignature => "it has expired (exp)".into(),
        ErrorKind::ImmatureSignature => "it is not valid yet (nbf)".into(),
        ErrorKind::InvalidIssuer => format!("its issuer (iss) is not {:?}", config.issuer),
        ErrorKind::InvalidAudience => format!(
            "it was issued for another client: its audience (aud) does not contain {:?}",
            config.client_id
        ),
        ErrorKind::MissingRequiredClaim(claim) => format!("it has no {claim} claim"),
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            "it is not signed with RS256".into()
        }
        other => format!("it cannot be read: {other:?}"),
    }
}

/// Checks the metadata for what this client relies on.
fn check_metadata(metadata: &ProviderMetadata, auth: &ClientAuth) -> Result<(), OidcError> {
    checked_url("token_endpoint", &metadata.token_endpoint)?;
    checked_url("jwks_uri", &metadata.jwks_uri)?;
    let lacks = |list: &Option<Vec<String>>, value: &str| {
        list.as_ref()
            .is_some_and(|values| !values.iter().any(|v| v == value))
    };
    if lacks(&metadata.code_challenge_methods_supported, "S256") {
        return Err(OidcError::Metadata(
            "the provider does not support PKCE with S256 (code_challenge_methods_supported)"
                .into(),
        ));
    }
    if lacks(&metadata.id_token_signing_alg_values_supported, "RS256") {
        return Err(OidcError::Metadata(
            "the provider does not sign id_tokens with RS256 (id_token_signing_alg_values_supported)"
                .into(),
        ));
    }
    if lacks(
        &metadata.token_endpoint_auth_methods_supported,
        auth.method(),
    ) {
        return Err(OidcError::Metadata(format!(
            "the provider does not accept {} at the token endpoint (token_endpoint_auth_methods_supported); use the other client authentication",
            auth.method()
        )));
    }
    Ok(())
}

/// Parses a URL the client will send users or credentials to: `https`, or plain `http`
/// only on this machine (tests, local development).
fn checked_url(what: &str, value: &str) -> Result<Url, OidcError> {
    let url = Url::parse(value)
        .map_err(|e| OidcError::Config(format!("{what} {value:?} is not a URL: {e}")))?;
    let loopback = url.host_str().is_some_and(|host| {
        host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(OidcError::Config(format!(
            "{what} {value:?} must use https (plain http only on localhost)"
        ))),
    }
}

/// 256 random bits, base64url without padding (43 characters).
fn random_token() -> String {
    let mut bytes = [0u8; RANDOM_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Equality whose time does not depend on where the inputs differ, so a guessed `state`
/// or `nonce` cannot be learnt byte by byte from timing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// `application/x-www-form-urlencoded` encoding of one value (RFC 6749 §2.3.1 asks for it
/// on the client id and secret before they go into the Basic header).
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_have_256_bits_and_differ() {
        let a = random_token();
        let b = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn urls_must_be_https_except_on_loopback() {
        assert!(checked_url("x", "https://idporten.no").is_ok());
        assert!(checked_url("x", "http://localhost:3000").is_ok());
        assert!(checked_url("x", "http://127.0.0.1:3000/cb").is_ok());
        assert!(checked_url("x", "http://[::1]:3000/cb").is_ok());
        assert!(checked_url("x", "http://idporten.no").is_err());
        assert!(checked_url("x", "ftp://localhost").is_err());
        assert!(checked_url("x", "not a url").is_err());
    }

    #[test]
    fn form_encoding_escapes_reserved_characters() {
        assert_eq!(form_encode("a b:c%"), "a+b%3Ac%25");
        assert_eq!(form_encode("plain-id_1.x~"), "plain-id_1.x%7E");
    }

    #[test]
    fn config_check_names_the_problem() {
        let mut config = OidcConfig::new(
            "https://idporten.no",
            "client",
            ClientAuth::Secret("s".into()),
            "https://example.no/accessmanagement/ui/login/callback",
        );
        assert!(config.check().is_ok());
        config.scopes = vec!["profile".into()];
        assert!(config.check().unwrap_err().to_string().contains("openid"));
        config.scopes = OidcConfig::default_scopes();
        config.client_auth = ClientAuth::PrivateKeyJwt {
            key_pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into(),
            kid: None,
        };
        assert!(
            config
                .check()
                .unwrap_err()
                .to_string()
                .contains("--oidc-private-key")
        );
        config.client_auth = ClientAuth::Secret(String::new());
        assert!(config.check().is_err());
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let auth = ClientAuth::Secret("very-secret".into());
        assert!(!format!("{auth:?}").contains("very-secret"));
        let pending = PendingLogin {
            state: "s".into(),
            nonce: "n".into(),
            code_verifier: "verifier-value".into(),
            created_at: 1,
        };
        assert!(!format!("{pending:?}").contains("verifier-value"));
    }

    #[test]
    fn headers_are_read_only_from_three_part_tokens() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        assert!(raw_header(&format!("{header}.e30.")).is_ok());
        assert!(raw_header(&format!("{header}.e30")).is_err());
        assert!(raw_header("a.b.c.d").is_err());
    }
}
