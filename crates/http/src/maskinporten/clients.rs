//! The operator API for Maskinporten clients and their public keys.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use systembruker_domain::OrgNumber;
use systembruker_token::jwk::RsaJwk;
use systembruker_token::ports::{Client, ClientKey};
use systembruker_token::scopes::{check_scope_name, is_platform_only};
use systembruker_token::{
    DEFAULT_ACCESS_TOKEN_LIFETIME, JWT_BEARER_GRANT, MAX_ACCESS_TOKEN_LIFETIME,
};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{AdminScope, Scoped};
use crate::extract::Json;
use crate::problem::{ApiError, ApiResult};

/// Client keys expire this long after upload, as in Maskinporten (MP-121 after that).
const CLIENT_KEY_LIFETIME_MS: i64 = 365 * 24 * 3600 * 1000;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_client, list_clients))
        .routes(routes!(get_client, update_client, delete_client))
        .routes(routes!(add_keys, list_keys))
        .routes(routes!(delete_key))
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

pub(super) fn time(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

pub(super) fn key_response(key: ClientKey) -> KeyResponse {
    KeyResponse {
        kid: key.kid,
        created: time(key.created_at),
        expires: time(key.expires_at),
        jwk: key.jwk,
    }
}

pub(super) fn client_response(client: Client, keys: Vec<ClientKey>) -> ClientResponse {
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
