//! The operator API for scopes and who may use them. The rules (scope names, owners, the
//! resource registry's hooks) are `systembruker_app::scopes`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use systembruker_app::scopes;
use systembruker_domain::OrgNumber;
use systembruker_token::scopes::PLATFORM_SCOPES;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{AdminScope, Scoped};
use crate::extract::Json;
use crate::problem::{ApiError, ApiResult};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_scope, list_scopes))
        .routes(routes!(grant_access, revoke_access))
        .routes(routes!(give_prefix, list_prefixes))
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
    let description = request.description.clone();
    let scope = scopes::register_owned_scope(&state.app, &request.name, owner, description).await?;
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

/// Puts the consumer on (`grant`) or takes it off the scope's access list; the consumer,
/// and whether the list changed.
async fn change_access(
    state: &AppState,
    request: &ScopeAccessRequest,
    grant: bool,
) -> ApiResult<(OrgNumber, bool)> {
    let consumer = access_target(state, request).await?;
    let changed = if grant {
        state
            .store
            .grant_scope_access(&request.scope, &consumer)
            .await?
    } else {
        state
            .store
            .revoke_scope_access(&request.scope, &consumer)
            .await?
    };
    Ok((consumer, changed))
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
    let (_, added) = change_access(&state, &request, true).await?;
    Ok(if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    })
}

#[utoipa::path(delete, path = "/admin/api/v1/maskinporten/scopes/access", tag = "admin",
    params(ScopeAccessRequest), security(("bearer" = ["systembruker:admin"])),
    responses((status = 204), (status = 404, body = crate::problem::ProblemBody)))]
async fn revoke_access(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
    Query(request): Query<ScopeAccessRequest>,
) -> ApiResult<StatusCode> {
    let (consumer, removed) = change_access(&state, &request, false).await?;
    if !removed {
        return Err(ApiError::not_found(format!(
            "{consumer} is not on the access list of {}",
            request.scope
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}

// ----- operator API: scope prefixes (self-service) -----

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrefixBody {
    /// The prefix (`skatteetaten`): scopes `prefix:…` belong to the owner.
    pub prefix: String,
    pub owner_org: String,
}

#[utoipa::path(post, path = "/admin/api/v1/maskinporten/prefixes", tag = "admin",
    request_body = PrefixBody, security(("bearer" = ["systembruker:admin"])),
    responses((status = 201, body = PrefixBody, description = "Given"), (status = 200, body = PrefixBody, description = "The owner's already"),
        (status = 400, body = crate::problem::ProblemBody), (status = 409, body = crate::problem::ProblemBody)))]
async fn give_prefix(
    State(state): State<AppState>,
    caller: Scoped<AdminScope>,
    Json(body): Json<PrefixBody>,
) -> ApiResult<(StatusCode, axum::Json<PrefixBody>)> {
    let owner =
        OrgNumber::parse(&body.owner_org).map_err(|e| ApiError::invalid_id("/owner_org", &e))?;
    let given = systembruker_app::selfservice::scopes::give_prefix(
        &state.app,
        &body.prefix,
        owner,
        &systembruker_app::actor(&caller),
    )
    .await?;
    let status = if given {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(body)))
}

#[utoipa::path(get, path = "/admin/api/v1/maskinporten/prefixes", tag = "admin",
    security(("bearer" = ["systembruker:admin"])),
    responses((status = 200, body = Vec<PrefixBody>)))]
async fn list_prefixes(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
) -> ApiResult<axum::Json<Vec<PrefixBody>>> {
    let prefixes = systembruker_app::selfservice::scopes::prefixes(&state.app).await?;
    Ok(axum::Json(
        prefixes
            .into_iter()
            .map(|p| PrefixBody {
                prefix: p.prefix,
                owner_org: p.owner_org.to_string(),
            })
            .collect(),
    ))
}
