//! The Maskinporten-compatible token service over HTTP: the token endpoint, the public
//! keys and metadata, the operator API for clients, keys and scopes, and the verifier
//! that lets every API accept the platform's tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use serde::{Deserialize, Serialize};
use systembruker_domain::{OrgNumber, PersonNumber};
use systembruker_storage::Store;
use systembruker_token::jwk::{Jwks, RsaJwk};
use systembruker_token::ports::{Client, ClientKey, RegisteredScope};
use systembruker_token::scopes::{
    PLATFORM_SCOPES, check_scope_name, is_platform_only, is_reserved,
};
use systembruker_token::{
    AccessToken, DEFAULT_ACCESS_TOKEN_LIFETIME, GrantError, JWT_BEARER_GRANT,
    MAX_ACCESS_TOKEN_LIFETIME, OAuthError, PortError, TokenService, TokenSettings, VerifyError,
};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{AdminScope, AuthError, Caller, Scoped, TokenVerifier};
use crate::extract::Json;
use crate::limits::SourceAddress;
use crate::problem::{ApiError, ApiResult};
use crate::{AppState, Config};

/// Client keys expire this long after upload, as in Maskinporten (MP-121 after that).
const CLIENT_KEY_LIFETIME_MS: i64 = 365 * 24 * 3600 * 1000;
/// The token endpoint reads at most this much; the assertion itself is bounded lower.
const TOKEN_BODY_LIMIT: usize = 64 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    let token_endpoint = OpenApiRouter::new()
        .routes(routes!(token))
        .layer(DefaultBodyLimit::max(TOKEN_BODY_LIMIT));
    OpenApiRouter::new()
        .merge(token_endpoint)
        .routes(routes!(jwk))
        .routes(routes!(metadata))
        .routes(routes!(create_client, list_clients))
        .routes(routes!(get_client, update_client, delete_client))
        .routes(routes!(add_keys, list_keys))
        .routes(routes!(delete_key))
        .routes(routes!(register_scope, list_scopes))
        .routes(routes!(grant_access, revoke_access))
}

/// The service for `AppState::new`: keys stored unencrypted (serve.rs sets up encryption).
pub(crate) fn default_token_service(store: &Arc<dyn Store>, config: &Config) -> Arc<TokenService> {
    Arc::new(TokenService::new(
        store.clone(),
        TokenSettings {
            issuer: config.issuer(),
            key_encryption: None,
        },
    ))
}

// ----- metrics -----

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenOutcome {
    /// `issued`, or the MP code of the refusal.
    pub outcome: String,
}

/// Token requests answered, by outcome.
#[derive(Clone, Default)]
pub struct TokenMetrics(pub Family<TokenOutcome, Counter>);

impl TokenMetrics {
    fn count(&self, outcome: &str) {
        self.0
            .get_or_create(&TokenOutcome {
                outcome: outcome.to_string(),
            })
            .inc();
    }
}

// ----- verifying our tokens for every API -----

/// Accepts the platform's own tokens in `Authorization: Bearer`.
pub struct PlatformTokens {
    service: Arc<TokenService>,
    /// Tokens verified before, by their exact text, with the caller they gave and their
    /// `exp`. A token's signature and claims cannot change, so a repeated call with the
    /// same token only needs its expiry checked again, not an RSA verification.
    verified: Mutex<HashMap<String, (Caller, i64)>>,
}

/// Verified tokens kept before the cache starts over.
const VERIFIED_TOKENS: usize = 10_000;

impl PlatformTokens {
    pub fn new(service: Arc<TokenService>) -> Self {
        Self {
            service,
            verified: Mutex::default(),
        }
    }

    fn verified(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Caller, i64)>> {
        // A plain map behind the lock: usable after a panic elsewhere.
        self.verified.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait::async_trait]
impl TokenVerifier for PlatformTokens {
    async fn verify(&self, token: &str) -> Result<Option<Caller>, AuthError> {
        if token.split('.').count() != 3 {
            return Ok(None);
        }
        let now = Utc::now().timestamp();
        if let Some((caller, exp)) = self.verified().get(token)
            && now < *exp
        {
            return Ok(Some(caller.clone()));
        }
        match self.service.verify_access_token(token).await {
            Ok(verified) => {
                let exp = verified.claims.exp;
                let caller = caller_from(verified)?;
                let mut cache = self.verified();
                if cache.len() >= VERIFIED_TOKENS {
                    cache.retain(|_, (_, exp)| now < *exp);
                    if cache.len() >= VERIFIED_TOKENS {
                        cache.clear();
                    }
                }
                cache.insert(token.to_string(), (caller.clone(), exp));
                Ok(Some(caller))
            }
            Err(VerifyError::NotOurs(why)) => {
                tracing::debug!(%why, "bearer token not issued by this platform");
                Ok(None)
            }
            Err(VerifyError::Keys(why)) => {
                tracing::error!(%why, "cannot verify tokens: signing keys unavailable");
                Err(AuthError::Invalid(
                    "the platform cannot check tokens right now; try again later".into(),
                ))
            }
            Err(other) => Err(AuthError::Invalid(other.to_string())),
        }
    }
}

fn numeric_id(value: Option<&str>, name: &str) -> Result<Option<i64>, AuthError> {
    value
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| AuthError::Invalid(format!("claim {name} is not a number")))
        })
        .transpose()
}

/// Maps token claims to the caller the handlers see.
fn caller_from(token: AccessToken) -> Result<Caller, AuthError> {
    let claims = token.claims;
    let consumer_org = claims
        .consumer
        .as_ref()
        .map(|c| c.org())
        .transpose()
        .map_err(|e| AuthError::Invalid(format!("claim consumer: {e}")))?;
    let pid = claims
        .pid
        .as_deref()
        .map(PersonNumber::parse)
        .transpose()
        .map_err(|e| AuthError::Invalid(format!("claim pid: {e}")))?;
    Ok(Caller {
        scopes: claims.scopes().map(str::to_string).collect(),
        consumer_org,
        client_id: claims.client_id.clone(),
        pid,
        user_id: numeric_id(claims.user_id.as_deref(), "urn:altinn:userid")?,
        party_id: numeric_id(claims.party_id.as_deref(), "urn:altinn:partyid")?,
        claims: token.raw,
    })
}

// ----- the token endpoint -----

/// The form of a token request (RFC 7523). For the OpenAPI document: `read_form` reads it.
#[allow(dead_code)]
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenForm {
    /// `urn:ietf:params:oauth:grant-type:jwt-bearer`
    pub grant_type: String,
    /// The client's signed JWT.
    pub assertion: String,
}

/// A successful token response.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponseBody {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u32,
    pub scope: String,
}

/// An OAuth2 error (RFC 6749 §5.2); `error_description` starts with the MP code.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthErrorBody {
    pub error: String,
    pub error_description: String,
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn oauth_error(err: &GrantError) -> Response {
    let status = match err.error {
        OAuthError::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        OAuthError::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = OAuthErrorBody {
        error: err.error.as_str().to_string(),
        error_description: err.error_description(),
    };
    no_store((status, axum::Json(body)).into_response())
}

fn bad_form(description: impl Into<String>) -> GrantError {
    GrantError::new(OAuthError::InvalidRequest, "MP-011", description)
}

/// Reads `grant_type` and `assertion` from a form-encoded body; each exactly once.
fn read_form(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<String, GrantError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return Err(bad_form(
            "the token request must be a form (Content-Type: application/x-www-form-urlencoded)",
        ));
    }
    let body = body.map_err(|e| {
        bad_form(format!(
            "the request body cannot be read (at most {TOKEN_BODY_LIMIT} bytes): {e}"
        ))
    })?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|e| bad_form(format!("the form cannot be read: {e}")))?;
    let single = |name: &str| -> Result<Option<String>, GrantError> {
        let mut values = pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
        let first = values.next();
        if values.next().is_some() {
            return Err(bad_form(format!(
                "parameter {name} is given more than once"
            )));
        }
        Ok(first)
    };
    match single("grant_type")?.as_deref() {
        Some(JWT_BEARER_GRANT) => {}
        Some(other) => {
            return Err(GrantError::new(
                OAuthError::UnsupportedGrantType,
                "MP-011",
                format!("grant_type {other:?} is not supported; use {JWT_BEARER_GRANT}"),
            ));
        }
        None => {
            return Err(bad_form(format!(
                "grant_type is missing; use {JWT_BEARER_GRANT}"
            )));
        }
    }
    single("assertion")?
        .filter(|a| !a.is_empty())
        .ok_or_else(|| bad_form("assertion is missing: send the signed JWT as assertion"))
}

#[utoipa::path(post, path = "/maskinporten/token", tag = "maskinporten",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = TokenResponseBody), (status = 400, body = OAuthErrorBody),
        (status = 429, body = OAuthErrorBody), (status = 500, body = OAuthErrorBody)))]
async fn token(
    State(state): State<AppState>,
    SourceAddress(address): SourceAddress,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(refused) = state.limits.token_address(address) {
        state.token_metrics.count("rate_limited");
        return no_store(refused.oauth());
    }
    let result = match read_form(&headers, body) {
        Ok(assertion) => state.tokens.issue(&assertion).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(issued) => {
            // Counted once the assertion is verified: a client's allowance cannot be
            // spent by others who merely name it.
            if let Err(refused) = state.limits.token_client(&issued.client_id.to_string()) {
                state.token_metrics.count("rate_limited");
                return no_store(refused.oauth());
            }
            state.token_metrics.count("issued");
            no_store(
                axum::Json(TokenResponseBody {
                    access_token: issued.access_token,
                    token_type: issued.token_type.to_string(),
                    expires_in: issued.expires_in,
                    scope: issued.scope,
                })
                .into_response(),
            )
        }
        Err(err) => {
            state.token_metrics.count(err.code);
            tracing::info!(error = %err.error, code = err.code, "token request refused");
            oauth_error(&err)
        }
    }
}

#[utoipa::path(get, path = "/maskinporten/jwk", tag = "maskinporten",
    responses((status = 200, description = "The JWK set of the platform's signing keys", body = Object)))]
async fn jwk(State(state): State<AppState>) -> ApiResult<axum::Json<Jwks>> {
    let jwks = state.tokens.jwks().await.map_err(|e| {
        tracing::error!(error = %e, "signing keys unavailable");
        ApiError::internal("the signing keys cannot be read; try again later")
    })?;
    Ok(axum::Json(jwks))
}

#[utoipa::path(get, path = "/maskinporten/.well-known/oauth-authorization-server", tag = "maskinporten",
    responses((status = 200, description = "RFC 8414 authorization-server metadata", body = Object)))]
async fn metadata(State(state): State<AppState>) -> axum::Json<serde_json::Value> {
    axum::Json(state.tokens.metadata())
}

// ----- operator API: clients -----

/// A JWK set in a request: `{"keys": [ {kty, kid, n, e, …} ]}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct JwksBody {
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientRequest {
    pub client_name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The organisation number of the client's owner (`consumer` of its tokens).
    pub consumer_org: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Public keys to register with the client (create only).
    #[serde(default)]
    pub jwks: Option<JwksBody>,
    /// Seconds; default 120.
    #[serde(default)]
    pub access_token_lifetime: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyResponse {
    pub kid: String,
    pub created: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub jwk: RsaJwk,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientResponse {
    pub client_id: Uuid,
    pub client_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub consumer_org: String,
    pub scopes: Vec<String>,
    pub access_token_lifetime: u32,
    pub integration_type: &'static str,
    pub token_endpoint_auth_method: &'static str,
    pub grant_types: Vec<&'static str>,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
    pub keys: Vec<KeyResponse>,
}

fn time(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

fn key_response(key: ClientKey) -> KeyResponse {
    KeyResponse {
        kid: key.kid,
        created: time(key.created_at),
        expires: time(key.expires_at),
        jwk: key.jwk,
    }
}

fn client_response(client: Client, keys: Vec<ClientKey>) -> ClientResponse {
    ClientResponse {
        client_id: client.client_id,
        client_name: client.client_name,
        description: client.description,
        consumer_org: client.consumer_org.to_string(),
        scopes: client.scopes,
        access_token_lifetime: client.access_token_lifetime,
        integration_type: "maskinporten",
        token_endpoint_auth_method: "private_key_jwt",
        grant_types: vec![JWT_BEARER_GRANT],
        created: time(client.created_at),
        last_updated: time(client.updated_at),
        keys: keys.into_iter().map(key_response).collect(),
    }
}

impl From<PortError> for ApiError {
    fn from(err: PortError) -> Self {
        match err {
            PortError::NotFound(what) => ApiError::not_found(format!("{what} was not found")),
            PortError::Conflict(what) => ApiError::conflict(what),
            PortError::Invalid(what) => ApiError::bad_request(what),
            PortError::Unavailable(what) => {
                tracing::warn!(error = %what, "database unavailable");
                ApiError::unavailable("the database does not answer now; try again shortly")
            }
            PortError::Backend(what) => {
                tracing::error!(error = %what, "storage failure");
                ApiError::internal("the request could not be completed; try again later")
            }
        }
    }
}

/// A scope a client may be given: well-formed, not platform-only, and known.
async fn check_client_scope(state: &AppState, scope: &str) -> ApiResult<()> {
    check_scope_name(scope).map_err(|e| ApiError::invalid_field("MP-200", "/scopes", e))?;
    if is_platform_only(scope) {
        return Err(ApiError::invalid_field(
            "MP-200",
            "/scopes",
            format!(
                "{scope} is only in tokens the platform issues itself; a client cannot have it"
            ),
        ));
    }
    let known = systembruker_token::scopes::platform_scope(scope).is_some()
        || state.store.registered_scope(scope).await?.is_some();
    if !known {
        return Err(ApiError::invalid_field(
            "MP-200",
            "/scopes",
            format!(
                "scope {scope} does not exist; it is registered with a resource (MaskinportenScope reference) or by an operator"
            ),
        ));
    }
    Ok(())
}

/// Checks a create/update request and turns it into a client.
async fn client_from_request(
    state: &AppState,
    client_id: Uuid,
    request: &ClientRequest,
    created_at: i64,
) -> ApiResult<Client> {
    let name = request.client_name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::invalid_field(
            "STD-00010",
            "/client_name",
            "client_name must be 1 to 200 characters",
        ));
    }
    let consumer_org = OrgNumber::parse(&request.consumer_org)
        .map_err(|e| ApiError::invalid_id("/consumer_org", &e))?;
    for scope in &request.scopes {
        check_client_scope(state, scope).await?;
    }
    let lifetime = request
        .access_token_lifetime
        .unwrap_or(DEFAULT_ACCESS_TOKEN_LIFETIME);
    if !(1..=MAX_ACCESS_TOKEN_LIFETIME).contains(&lifetime) {
        return Err(ApiError::invalid_field(
            "STD-00010",
            "/access_token_lifetime",
            format!("access_token_lifetime must be 1 to {MAX_ACCESS_TOKEN_LIFETIME} seconds"),
        ));
    }
    let mut scopes = request.scopes.clone();
    scopes.sort();
    scopes.dedup();
    Ok(Client {
        client_id,
        client_name: name.to_string(),
        description: request.description.clone(),
        consumer_org,
        scopes,
        access_token_lifetime: lifetime,
        created_at,
        updated_at: systembruker_storage::now_millis(),
    })
}

/// Reads uploaded JWKs as keys of `client_id`, expiring one year from now.
fn keys_from_jwks(client_id: Uuid, jwks: &JwksBody) -> ApiResult<Vec<ClientKey>> {
    if jwks.keys.is_empty() || jwks.keys.len() > 10 {
        return Err(ApiError::invalid_field(
            "STD-00010",
            "/keys",
            "send 1 to 10 keys",
        ));
    }
    let now = systembruker_storage::now_millis();
    jwks.keys
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let jwk = RsaJwk::from_json(value).map_err(|e| {
                ApiError::invalid_field("STD-00010", &format!("/keys/{i}"), e.to_string())
            })?;
            Ok(ClientKey {
                kid: jwk.kid.clone(),
                client_id,
                jwk,
                created_at: now,
                expires_at: now + CLIENT_KEY_LIFETIME_MS,
            })
        })
        .collect()
}

async fn existing_client(state: &AppState, id: Uuid) -> ApiResult<Client> {
    state
        .store
        .client(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("client {id} does not exist")))
}

#[utoipa::path(post, path = "/admin/api/v1/maskinporten/clients", tag = "admin",
    request_body = ClientRequest, security(("bearer" = ["systembruker:admin"])),
    responses((status = 201, body = ClientResponse), (status = 400, body = crate::problem::ProblemBody),
        (status = 409, body = crate::problem::ProblemBody)))]
async fn create_client(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
    Json(request): Json<ClientRequest>,
) -> ApiResult<(StatusCode, axum::Json<ClientResponse>)> {
    let client_id = Uuid::new_v4();
    let now = systembruker_storage::now_millis();
    let client = client_from_request(&state, client_id, &request, now).await?;
    let keys = match &request.jwks {
        Some(jwks) => keys_from_jwks(client_id, jwks)?,
        None => Vec::new(),
    };
    state.store.create_client(&client).await?;
    if !keys.is_empty()
        && let Err(e) = state.store.add_client_keys(&keys).await
    {
        // All or nothing: a refused key leaves no client behind.
        let _ = state.store.delete_client(client_id).await;
        return Err(e.into());
    }
    Ok((
        StatusCode::CREATED,
        axum::Json(client_response(client, keys)),
    ))
}

#[utoipa::path(get, path = "/admin/api/v1/maskinporten/clients", tag = "admin",
    security(("bearer" = ["systembruker:admin"])),
    responses((status = 200, body = Vec<ClientResponse>)))]
async fn list_clients(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
) -> ApiResult<axum::Json<Vec<ClientResponse>>> {
    let mut out = Vec::new();
    for client in state.store.clients().await? {
        let keys = state.store.client_keys(client.client_id).await?;
        out.push(client_response(client, keys));
    }
    Ok(axum::Json(out))
}

#[utoipa::path(get, path = "/admin/api/v1/maskinporten/clients/{id}", tag = "admin",
    params(("id" = Uuid, Path)), security(("bearer" = ["systembruker:admin"])),
    responses((status = 200, body = ClientResponse), (status = 404, body = crate::problem::ProblemBody)))]
async fn get_client(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<ClientResponse>> {
    let client = existing_client(&state, id).await?;
    let keys = state.store.client_keys(id).await?;
    Ok(axum::Json(client_response(client, keys)))
}

#[utoipa::path(put, path = "/admin/api/v1/maskinporten/clients/{id}", tag = "admin",
    params(("id" = Uuid, Path)), request_body = ClientRequest,
    security(("bearer" = ["systembruker:admin"])),
    responses((status = 200, body = ClientResponse), (status = 400, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn update_client(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
    Path(id): Path<Uuid>,
    Json(request): Json<ClientRequest>,
) -> ApiResult<axum::Json<ClientResponse>> {
    if request.jwks.is_some() {
        return Err(ApiError::invalid_field(
            "STD-00010",
            "/jwks",
            "keys are managed with POST and DELETE …/clients/{id}/jwks, not with PUT",
        ));
    }
    let existing = existing_client(&state, id).await?;
    let client = client_from_request(&state, id, &request, existing.created_at).await?;
    state.store.update_client(&client).await?;
    let keys = state.store.client_keys(id).await?;
    Ok(axum::Json(client_response(client, keys)))
}

#[utoipa::path(delete, path = "/admin/api/v1/maskinporten/clients/{id}", tag = "admin",
    params(("id" = Uuid, Path)), security(("bearer" = ["systembruker:admin"])),
    responses((status = 204), (status = 404, body = crate::problem::ProblemBody)))]
async fn delete_client(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    if state.store.delete_client(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("client {id} does not exist")))
    }
}

#[utoipa::path(post, path = "/admin/api/v1/maskinporten/clients/{id}/jwks", tag = "admin",
    params(("id" = Uuid, Path)), request_body = JwksBody,
    security(("bearer" = ["systembruker:admin"])),
    responses((status = 201, body = Vec<KeyResponse>), (status = 400, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody), (status = 409, body = crate::problem::ProblemBody)))]
async fn add_keys(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
    Path(id): Path<Uuid>,
    Json(jwks): Json<JwksBody>,
) -> ApiResult<(StatusCode, axum::Json<Vec<KeyResponse>>)> {
    existing_client(&state, id).await?;
    let keys = keys_from_jwks(id, &jwks)?;
    state.store.add_client_keys(&keys).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(keys.into_iter().map(key_response).collect()),
    ))
}

#[utoipa::path(get, path = "/admin/api/v1/maskinporten/clients/{id}/jwks", tag = "admin",
    params(("id" = Uuid, Path)), security(("bearer" = ["systembruker:admin"])),
    responses((status = 200, body = Vec<KeyResponse>), (status = 404, body = crate::problem::ProblemBody)))]
async fn list_keys(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<Vec<KeyResponse>>> {
    existing_client(&state, id).await?;
    let keys = state.store.client_keys(id).await?;
    Ok(axum::Json(keys.into_iter().map(key_response).collect()))
}

#[utoipa::path(delete, path = "/admin/api/v1/maskinporten/clients/{id}/jwks/{kid}", tag = "admin",
    params(("id" = Uuid, Path), ("kid" = String, Path)), security(("bearer" = ["systembruker:admin"])),
    responses((status = 204), (status = 404, body = crate::problem::ProblemBody)))]
async fn delete_key(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
    Path((id, kid)): Path<(Uuid, String)>,
) -> ApiResult<StatusCode> {
    if state.store.remove_client_key(id, &kid).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "client {id} has no key {kid:?}"
        )))
    }
}

// ----- operator API: scopes -----

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeRequest {
    pub name: String,
    pub owner_org: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScopeResponse {
    pub name: String,
    /// `None` for the platform's own scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A built-in scope of the platform.
    pub platform: bool,
    /// Every consumer may use it (open platform scopes); otherwise the access list decides
    /// (the owner of a registered scope always may).
    pub open: bool,
    pub access: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ScopeAccessRequest {
    pub scope: String,
    pub consumer_org: String,
}

async fn access_list(state: &AppState, scope: &str) -> ApiResult<Vec<String>> {
    Ok(state
        .store
        .scope_access_list(scope)
        .await?
        .iter()
        .map(ToString::to_string)
        .collect())
}

#[utoipa::path(post, path = "/admin/api/v1/maskinporten/scopes", tag = "admin",
    request_body = ScopeRequest, security(("bearer" = ["systembruker:admin"])),
    responses((status = 201, body = ScopeResponse), (status = 400, body = crate::problem::ProblemBody),
        (status = 409, body = crate::problem::ProblemBody)))]
async fn register_scope(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
    Json(request): Json<ScopeRequest>,
) -> ApiResult<(StatusCode, axum::Json<ScopeResponse>)> {
    let owner =
        OrgNumber::parse(&request.owner_org).map_err(|e| ApiError::invalid_id("/owner_org", &e))?;
    let scope =
        register_owned_scope(&state, &request.name, owner, request.description.clone()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ScopeResponse {
            access: access_list(&state, &scope.name).await?,
            name: scope.name,
            owner_org: Some(scope.owner_org.to_string()),
            description: scope.description,
            platform: false,
            open: false,
        }),
    ))
}

#[utoipa::path(get, path = "/admin/api/v1/maskinporten/scopes", tag = "admin",
    security(("bearer" = ["systembruker:admin"])),
    responses((status = 200, body = Vec<ScopeResponse>)))]
async fn list_scopes(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
) -> ApiResult<axum::Json<Vec<ScopeResponse>>> {
    let mut out = Vec::new();
    for platform in PLATFORM_SCOPES {
        out.push(ScopeResponse {
            name: platform.name.to_string(),
            owner_org: None,
            description: Some(platform.description.to_string()),
            platform: true,
            open: platform.open,
            access: access_list(&state, platform.name).await?,
        });
    }
    for scope in state.store.registered_scopes().await? {
        out.push(ScopeResponse {
            access: access_list(&state, &scope.name).await?,
            name: scope.name,
            owner_org: Some(scope.owner_org.to_string()),
            description: scope.description,
            platform: false,
            open: false,
        });
    }
    Ok(axum::Json(out))
}

async fn access_target(state: &AppState, request: &ScopeAccessRequest) -> ApiResult<OrgNumber> {
    let consumer = OrgNumber::parse(&request.consumer_org)
        .map_err(|e| ApiError::invalid_id("consumer_org", &e))?;
    let known = systembruker_token::scopes::platform_scope(&request.scope).is_some()
        || state
            .store
            .registered_scope(&request.scope)
            .await?
            .is_some();
    if !known {
        return Err(ApiError::not_found(format!(
            "scope {} does not exist",
            request.scope
        )));
    }
    Ok(consumer)
}

#[utoipa::path(post, path = "/admin/api/v1/maskinporten/scopes/access", tag = "admin",
    request_body = ScopeAccessRequest, security(("bearer" = ["systembruker:admin"])),
    responses((status = 201, description = "Added to the access list"), (status = 200, description = "Was on the list already"),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn grant_access(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
    Json(request): Json<ScopeAccessRequest>,
) -> ApiResult<StatusCode> {
    let consumer = access_target(&state, &request).await?;
    if state
        .store
        .grant_scope_access(&request.scope, &consumer)
        .await?
    {
        Ok(StatusCode::CREATED)
    } else {
        Ok(StatusCode::OK)
    }
}

#[utoipa::path(delete, path = "/admin/api/v1/maskinporten/scopes/access", tag = "admin",
    params(ScopeAccessRequest), security(("bearer" = ["systembruker:admin"])),
    responses((status = 204), (status = 404, body = crate::problem::ProblemBody)))]
async fn revoke_access(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
    Query(request): Query<ScopeAccessRequest>,
) -> ApiResult<StatusCode> {
    let consumer = access_target(&state, &request).await?;
    if state
        .store
        .revoke_scope_access(&request.scope, &consumer)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "{consumer} is not on the access list of {}",
            request.scope
        )))
    }
}

/// Registers a scope for an owner (operator API, resource registry, demo). Platform names
/// are refused; the same scope by another owner is a conflict.
pub(crate) async fn register_owned_scope(
    state: &AppState,
    name: &str,
    owner: OrgNumber,
    description: Option<String>,
) -> ApiResult<RegisteredScope> {
    check_scope_name(name).map_err(|e| ApiError::invalid_field("MP-200", "/name", e))?;
    if is_reserved(name) {
        return Err(ApiError::invalid_field(
            "MP-200",
            "/name",
            format!("{name} is a scope of the platform itself and cannot be registered"),
        ));
    }
    Ok(state
        .store
        .register_scope(&RegisteredScope {
            name: name.to_string(),
            owner_org: owner,
            description,
            created_at: systembruker_storage::now_millis(),
        })
        .await?)
}

/// Every `MaskinportenScope` a resource names.
fn resource_scopes(
    resource: &systembruker_domain::resource::ServiceResource,
) -> impl Iterator<Item = &str> {
    resource
        .resource_references
        .iter()
        .filter(|r| {
            r.reference_type == systembruker_domain::resource::ReferenceType::MaskinportenScope
        })
        .map(|r| r.reference.as_str())
}

fn foreign_scope(scope: &str, owner: &str) -> ApiError {
    ApiError::conflict(format!(
        "the MaskinportenScope {scope} belongs to {owner}; a resource may name only its owner's scopes"
    ))
}

/// The resource registry's check before a resource is stored: every `MaskinportenScope`
/// it names must be its owner's (or still free). A scope of the platform itself
/// (`systembruker:admin`, `altinn:authorization/authorize`, …) or one registered by
/// another organisation is a 409, so no resource can pose as the owner of a scope it
/// does not hold.
pub(crate) async fn check_resource_scopes(
    state: &AppState,
    resource: &systembruker_domain::resource::ServiceResource,
) -> ApiResult<()> {
    let owner = resource.has_competent_authority.organization;
    for scope in resource_scopes(resource) {
        check_scope_name(scope)
            .map_err(|e| ApiError::invalid_field("MP-200", "/resourceReferences", e))?;
        if is_reserved(scope) {
            return Err(foreign_scope(scope, "the platform"));
        }
        if let Some(registered) = state.store.registered_scope(scope).await?
            && registered.owner_org != owner
        {
            return Err(foreign_scope(scope, "another organisation"));
        }
    }
    Ok(())
}

/// The resource registry's hook: each `MaskinportenScope` a resource names is registered
/// with the resource's owner ([`check_resource_scopes`] ran before it was stored).
pub(crate) async fn register_resource_scope(
    state: &AppState,
    resource: &systembruker_domain::resource::ServiceResource,
) -> ApiResult<()> {
    let owner = resource.has_competent_authority.organization;
    for scope in resource_scopes(resource) {
        register_owned_scope(state, scope, owner, None)
            .await
            .map_err(|e| {
                if e.status == StatusCode::CONFLICT {
                    foreign_scope(scope, "another organisation")
                } else {
                    e
                }
            })?;
    }
    Ok(())
}
