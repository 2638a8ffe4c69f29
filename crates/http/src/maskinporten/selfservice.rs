//! Maskinporten self-service over HTTP, compatible with the reference's two self-service
//! APIs: an organisation's own clients and keys (tokens with `idporten:dcr.read` /
//! `idporten:dcr.write`), and an API owner's own scopes and their access lists (tokens
//! with `idporten:scopes.write`). The organisation is the token's `consumer`. Thin
//! adapters over `systembruker_app::selfservice`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use systembruker_app::selfservice::Developer;
use systembruker_app::selfservice::clients::{self, ClientInput, OwnClient};
use systembruker_app::selfservice::scopes::{self, OwnScope, ScopeSettings};
use systembruker_domain::OrgNumber;
use systembruker_storage::ScopeGrant;
use systembruker_token::JWT_BEARER_GRANT;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::clients::{ClientResponse, JwksBody, KeyResponse, client_response, key_response, time};
use crate::AppState;
use crate::auth::{
    Scoped, SelfServiceClientsRead, SelfServiceClientsWrite, SelfServiceScopesWrite,
};
use crate::extract::Json;
use crate::problem::{ApiError, ApiResult};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_client, list_clients))
        .routes(routes!(get_client, update_client, delete_client))
        .routes(routes!(add_keys, list_keys))
        .routes(routes!(delete_key))
        .routes(routes!(create_scope, list_scopes, update_scope))
        .routes(routes!(own_prefixes))
        .routes(routes!(scope_access))
        .routes(routes!(grant_access, revoke_access))
}

// ----- clients -----

/// A client as the self-service API takes it (Maskinporten's field names). The fixed
/// fields may be sent, but only with the one value this platform supports.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfServiceClientRequest {
    pub client_name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Seconds; default 120.
    #[serde(default)]
    pub access_token_lifetime: Option<u32>,
    /// `maskinporten` (the only one).
    #[serde(default)]
    pub integration_type: Option<String>,
    /// `private_key_jwt` (the only one).
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    /// `["urn:ietf:params:oauth:grant-type:jwt-bearer"]` (the only one).
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    /// Public keys to register with the client (create only).
    #[serde(default)]
    pub jwks: Option<JwksBody>,
}

impl SelfServiceClientRequest {
    fn input(&self) -> ApiResult<ClientInput> {
        if let Some(kind) = self
            .integration_type
            .as_deref()
            .filter(|k| *k != "maskinporten")
        {
            return Err(fixed_field("/integration_type", kind, "maskinporten"));
        }
        if let Some(method) = self
            .token_endpoint_auth_method
            .as_deref()
            .filter(|m| *m != "private_key_jwt")
        {
            return Err(fixed_field(
                "/token_endpoint_auth_method",
                method,
                "private_key_jwt",
            ));
        }
        if let Some(grants) = &self.grant_types
            && grants.iter().any(|g| g != JWT_BEARER_GRANT)
        {
            return Err(fixed_field(
                "/grant_types",
                &grants.join(" "),
                JWT_BEARER_GRANT,
            ));
        }
        Ok(ClientInput {
            name: self.client_name.clone(),
            description: self.description.clone(),
            scopes: self.scopes.clone(),
            access_token_lifetime: self.access_token_lifetime,
        })
    }
}

fn fixed_field(path: &str, sent: &str, supported: &str) -> ApiError {
    ApiError::invalid_field(
        "STD-00010",
        path,
        format!("{sent:?} is not supported; the only value is {supported:?}"),
    )
}

fn own_client_response(own: OwnClient) -> ClientResponse {
    client_response(own.client, own.keys)
}

fn developer(caller: &crate::auth::Caller) -> ApiResult<Developer> {
    Ok(Developer::from_token(caller)?)
}

#[utoipa::path(post, path = "/maskinporten/api/v1/clients", tag = "maskinporten-selfservice", operation_id = "selfservice_create_client",
    request_body = SelfServiceClientRequest, security(("bearer" = ["idporten:dcr.write"])),
    responses((status = 201, body = ClientResponse), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 409, body = crate::problem::ProblemBody)))]
async fn create_client(
    State(state): State<AppState>,
    caller: Scoped<SelfServiceClientsWrite>,
    Json(request): Json<SelfServiceClientRequest>,
) -> ApiResult<(StatusCode, axum::Json<ClientResponse>)> {
    let developer = developer(&caller)?;
    let input = request.input()?;
    let keys = match &request.jwks {
        Some(jwks) => clients::keys_from_jwks(&jwks.keys)?,
        None => Vec::new(),
    };
    let created = clients::create(&state.app, &developer, &input, keys).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(own_client_response(created)),
    ))
}

#[utoipa::path(get, path = "/maskinporten/api/v1/clients", tag = "maskinporten-selfservice", operation_id = "selfservice_list_clients",
    security(("bearer" = ["idporten:dcr.read"])),
    responses((status = 200, body = Vec<ClientResponse>)))]
async fn list_clients(
    State(state): State<AppState>,
    caller: Scoped<SelfServiceClientsRead>,
) -> ApiResult<axum::Json<Vec<ClientResponse>>> {
    let developer = developer(&caller)?;
    let own = clients::list(&state.app, &developer).await?;
    Ok(axum::Json(
        own.into_iter().map(own_client_response).collect(),
    ))
}

#[utoipa::path(get, path = "/maskinporten/api/v1/clients/{client_id}", tag = "maskinporten-selfservice", operation_id = "selfservice_get_client",
    params(("client_id" = Uuid, Path)), security(("bearer" = ["idporten:dcr.read"])),
    responses((status = 200, body = ClientResponse), (status = 404, body = crate::problem::ProblemBody)))]
async fn get_client(
    State(state): State<AppState>,
    caller: Scoped<SelfServiceClientsRead>,
    Path(client_id): Path<Uuid>,
) -> ApiResult<axum::Json<ClientResponse>> {
    let developer = developer(&caller)?;
    let own = clients::get(&state.app, &developer, client_id).await?;
    Ok(axum::Json(own_client_response(own)))
}

#[utoipa::path(put, path = "/maskinporten/api/v1/clients/{client_id}", tag = "maskinporten-selfservice", operation_id = "selfservice_update_client",
    params(("client_id" = Uuid, Path)), request_body = SelfServiceClientRequest,
    security(("bearer" = ["idporten:dcr.write"])),
    responses((status = 200, body = ClientResponse), (status = 400, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn update_client(
    State(state): State<AppState>,
    caller: Scoped<SelfServiceClientsWrite>,
    Path(client_id): Path<Uuid>,
    Json(request): Json<SelfServiceClientRequest>,
) -> ApiResult<axum::Json<ClientResponse>> {
    if request.jwks.is_some() {
        return Err(ApiError::invalid_field(
            "STD-00010",
            "/jwks",
            "keys are managed with POST and DELETE …/clients/{client_id}/jwks, not with PUT",
        ));
    }
    let developer = developer(&caller)?;
    let updated = clients::update(&state.app, &developer, client_id, &request.input()?).await?;
    Ok(axum::Json(own_client_response(updated)))
}

#[utoipa::path(delete, path = "/maskinporten/api/v1/clients/{client_id}", tag = "maskinporten-selfservice", operation_id = "selfservice_delete_client",
    params(("client_id" = Uuid, Path)), security(("bearer" = ["idporten:dcr.write"])),
    responses((status = 204), (status = 404, body = crate::problem::ProblemBody)))]
async fn delete_client(
    State(state): State<AppState>,
    caller: Scoped<SelfServiceClientsWrite>,
    Path(client_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let developer = developer(&caller)?;
    clients::delete(&state.app, &developer, client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/maskinporten/api/v1/clients/{client_id}/jwks", tag = "maskinporten-selfservice", operation_id = "selfservice_add_keys",
    params(("client_id" = Uuid, Path)), request_body = JwksBody,
    security(("bearer" = ["idporten:dcr.write"])),
    responses((status = 201, body = Vec<KeyResponse>), (status = 400, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody), (status = 409, body = crate::problem::ProblemBody)))]
async fn add_keys(
    State(state): State<AppState>,
    caller: Scoped<SelfServiceClientsWrite>,
    Path(client_id): Path<Uuid>,
    Json(jwks): Json<JwksBody>,
) -> ApiResult<(StatusCode, axum::Json<Vec<KeyResponse>>)> {
    let developer = developer(&caller)?;
    let keys = clients::keys_from_jwks(&jwks.keys)?;
    let added = clients::add_keys(&state.app, &developer, client_id, keys).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(added.into_iter().map(key_response).collect()),
    ))
}

#[utoipa::path(get, path = "/maskinporten/api/v1/clients/{client_id}/jwks", tag = "maskinporten-selfservice", operation_id = "selfservice_list_keys",
    params(("client_id" = Uuid, Path)), security(("bearer" = ["idporten:dcr.read"])),
    responses((status = 200, body = Vec<KeyResponse>), (status = 404, body = crate::problem::ProblemBody)))]
async fn list_keys(
    State(state): State<AppState>,
    caller: Scoped<SelfServiceClientsRead>,
    Path(client_id): Path<Uuid>,
) -> ApiResult<axum::Json<Vec<KeyResponse>>> {
    let developer = developer(&caller)?;
    let own = clients::get(&state.app, &developer, client_id).await?;
    Ok(axum::Json(own.keys.into_iter().map(key_response).collect()))
}

#[utoipa::path(delete, path = "/maskinporten/api/v1/clients/{client_id}/jwks/{kid}", tag = "maskinporten-selfservice", operation_id = "selfservice_delete_key",
    params(("client_id" = Uuid, Path), ("kid" = String, Path)), security(("bearer" = ["idporten:dcr.write"])),
    responses((status = 204), (status = 404, body = crate::problem::ProblemBody)))]
async fn delete_key(
    State(state): State<AppState>,
    caller: Scoped<SelfServiceClientsWrite>,
    Path((client_id, kid)): Path<(Uuid, String)>,
) -> ApiResult<StatusCode> {
    let developer = developer(&caller)?;
    clients::remove_key(&state.app, &developer, client_id, &kid).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- scopes -----

/// A new scope: `prefix:subscope` under a prefix the operator gave the caller.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ScopeCreateRequest {
    pub prefix: String,
    pub subscope: String,
    #[serde(flatten)]
    pub settings: ScopeSettingsBody,
}

/// The owner's settings of a scope.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ScopeSettingsBody {
    pub description: String,
    #[serde(default)]
    pub long_description: Option<String>,
    /// Default `["maskinporten"]`.
    #[serde(default)]
    pub allowed_integration_types: Vec<String>,
    /// Cap on the lifetime of tokens with the scope, in seconds.
    #[serde(default)]
    pub at_max_age: Option<u32>,
    /// Every organisation may use the scope without being granted access.
    #[serde(default)]
    pub accessible_for_all: bool,
    /// The URL of a delegation register where consumers may delegate their access onward.
    #[serde(default)]
    pub delegation_source: Option<String>,
}

impl ScopeSettingsBody {
    fn settings(&self) -> ScopeSettings {
        ScopeSettings {
            description: self.description.clone(),
            long_description: self.long_description.clone(),
            allowed_integration_types: self.allowed_integration_types.clone(),
            at_max_age: self.at_max_age,
            accessible_for_all: self.accessible_for_all,
            delegation_source: self.delegation_source.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScopeAccessResponse {
    pub scope: String,
    pub consumer_orgno: String,
    /// `APPROVED` while the consumer has access.
    pub state: &'static str,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SelfServiceScopeResponse {
    pub scope: String,
    pub prefix: String,
    pub subscope: String,
    pub owner_orgno: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_description: Option<String>,
    pub allowed_integration_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_max_age: Option<u32>,
    pub accessible_for_all: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegation_source: Option<String>,
    pub active: bool,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
    /// Who has been given access.
    pub access: Vec<ScopeAccessResponse>,
}

fn access_response(grant: ScopeGrant) -> ScopeAccessResponse {
    ScopeAccessResponse {
        scope: grant.scope,
        consumer_orgno: grant.consumer_org.to_string(),
        state: "APPROVED",
        created: time(grant.since),
    }
}

fn scope_response(own: OwnScope) -> SelfServiceScopeResponse {
    let scope = own.scope;
    let (prefix, subscope) = scope
        .name
        .split_once(':')
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .unwrap_or_default();
    SelfServiceScopeResponse {
        prefix,
        subscope,
        owner_orgno: scope.owner_org.to_string(),
        description: scope.description,
        long_description: scope.long_description,
        allowed_integration_types: scope.integration_types,
        at_max_age: scope.at_max_age,
        accessible_for_all: scope.accessible_for_all,
        delegation_source: scope.delegation_source,
        active: true,
        created: time(scope.created_at),
        last_updated: time(scope.updated_at.unwrap_or(scope.created_at)),
        access: own.access.into_iter().map(access_response).collect(),
        scope: scope.name,
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ScopeQuery {
    /// The scope, `prefix:subscope`.
    pub scope: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OptionalScopeQuery {
    /// Only this scope (`prefix:subscope`).
    #[serde(default)]
    pub scope: Option<String>,
}

#[utoipa::path(post, path = "/maskinporten/api/v1/scopes", tag = "maskinporten-selfservice", operation_id = "selfservice_create_scope",
    request_body = ScopeCreateRequest, security(("bearer" = ["idporten:scopes.write"])),
    responses((status = 201, body = SelfServiceScopeResponse), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 409, body = crate::problem::ProblemBody)))]
async fn create_scope(
    State(state): State<AppState>,
    caller: Scoped<SelfServiceScopesWrite>,
    Json(request): Json<ScopeCreateRequest>,
) -> ApiResult<(StatusCode, axum::Json<SelfServiceScopeResponse>)> {
    let developer = developer(&caller)?;
    let created = scopes::create(
        &state.app,
        &developer,
        &request.prefix,
        &request.subscope,
        &request.settings.settings(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(scope_response(created))))
}

#[utoipa::path(get, path = "/maskinporten/api/v1/scopes", tag = "maskinporten-selfservice", operation_id = "selfservice_list_scopes",
    params(OptionalScopeQuery), security(("bearer" = ["idporten:scopes.write"])),
    responses((status = 200, body = Vec<SelfServiceScopeResponse>), (status = 404, body = crate::problem::ProblemBody)))]
async fn list_scopes(
    State(state): State<AppState>,
    caller: Scoped<SelfServiceScopesWrite>,
    Query(query): Query<OptionalScopeQuery>,
) -> ApiResult<axum::Json<Vec<SelfServiceScopeResponse>>> {
    let developer = developer(&caller)?;
    let own = match &query.scope {
        Some(name) => vec![scopes::get(&state.app, &developer, name).await?],
        None => scopes::list(&state.app, &developer).await?,
    };
    Ok(axum::Json(own.into_iter().map(scope_response).collect()))
}

#[utoipa::path(put, path = "/maskinporten/api/v1/scopes", tag = "maskinporten-selfservice", operation_id = "selfservice_update_scope",
    params(ScopeQuery), request_body = ScopeSettingsBody,
    security(("bearer" = ["idporten:scopes.write"])),
    responses((status = 200, body = SelfServiceScopeResponse), (status = 400, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn update_scope(
    State(state): State<AppState>,
    caller: Scoped<SelfServiceScopesWrite>,
    Query(query): Query<ScopeQuery>,
    Json(body): Json<ScopeSettingsBody>,
) -> ApiResult<axum::Json<SelfServiceScopeResponse>> {
    let developer = developer(&caller)?;
    let updated = scopes::update(&state.app, &developer, &query.scope, &body.settings()).await?;
    Ok(axum::Json(scope_response(updated)))
}

#[utoipa::path(get, path = "/maskinporten/api/v1/scopes/prefixes", tag = "maskinporten-selfservice", operation_id = "selfservice_own_prefixes",
    security(("bearer" = ["idporten:scopes.write"])),
    responses((status = 200, body = Vec<String>)))]
async fn own_prefixes(
    State(state): State<AppState>,
    caller: Scoped<SelfServiceScopesWrite>,
) -> ApiResult<axum::Json<Vec<String>>> {
    let developer = developer(&caller)?;
    Ok(axum::Json(
        scopes::own_prefixes(&state.app, &developer).await?,
    ))
}

#[utoipa::path(get, path = "/maskinporten/api/v1/scopes/access", tag = "maskinporten-selfservice", operation_id = "selfservice_scope_access",
    params(ScopeQuery), security(("bearer" = ["idporten:scopes.write"])),
    responses((status = 200, body = Vec<ScopeAccessResponse>), (status = 404, body = crate::problem::ProblemBody)))]
async fn scope_access(
    State(state): State<AppState>,
    caller: Scoped<SelfServiceScopesWrite>,
    Query(query): Query<ScopeQuery>,
) -> ApiResult<axum::Json<Vec<ScopeAccessResponse>>> {
    let developer = developer(&caller)?;
    let grants = scopes::access(&state.app, &developer, &query.scope).await?;
    Ok(axum::Json(
        grants.into_iter().map(access_response).collect(),
    ))
}

fn consumer(text: &str) -> ApiResult<OrgNumber> {
    OrgNumber::parse(text).map_err(|e| ApiError::invalid_id("consumer_orgno", &e))
}

#[utoipa::path(put, path = "/maskinporten/api/v1/scopes/access/{consumer_orgno}", tag = "maskinporten-selfservice", operation_id = "selfservice_grant_access",
    params(("consumer_orgno" = String, Path), ScopeQuery), security(("bearer" = ["idporten:scopes.write"])),
    responses((status = 201, body = ScopeAccessResponse, description = "Access given"),
        (status = 200, body = ScopeAccessResponse, description = "Had access already"),
        (status = 400, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn grant_access(
    State(state): State<AppState>,
    caller: Scoped<SelfServiceScopesWrite>,
    Path(consumer_orgno): Path<String>,
    Query(query): Query<ScopeQuery>,
) -> ApiResult<(StatusCode, axum::Json<ScopeAccessResponse>)> {
    let developer = developer(&caller)?;
    let consumer = consumer(&consumer_orgno)?;
    let added = scopes::grant(&state.app, &developer, &query.scope, consumer).await?;
    let grant = scopes::access(&state.app, &developer, &query.scope)
        .await?
        .into_iter()
        .find(|g| g.consumer_org == consumer)
        .ok_or_else(|| ApiError::internal("the access just given is not on the list"))?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(access_response(grant))))
}

#[utoipa::path(delete, path = "/maskinporten/api/v1/scopes/access/{consumer_orgno}", tag = "maskinporten-selfservice", operation_id = "selfservice_revoke_access",
    params(("consumer_orgno" = String, Path), ScopeQuery), security(("bearer" = ["idporten:scopes.write"])),
    responses((status = 204), (status = 404, body = crate::problem::ProblemBody)))]
async fn revoke_access(
    State(state): State<AppState>,
    caller: Scoped<SelfServiceScopesWrite>,
    Path(consumer_orgno): Path<String>,
    Query(query): Query<ScopeQuery>,
) -> ApiResult<StatusCode> {
    let developer = developer(&caller)?;
    let consumer = consumer(&consumer_orgno)?;
    scopes::revoke(&state.app, &developer, &query.scope, consumer).await?;
    Ok(StatusCode::NO_CONTENT)
}
