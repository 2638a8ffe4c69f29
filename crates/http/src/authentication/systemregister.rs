//! The system register (docs/rules.md#system-register): the portal's list and the vendor API.

use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use systembruker_domain::system::{
    AccessPackageRef, AttributePair, RegisteredSystem, Right, SystemSummary,
};
use systembruker_storage::StoredSystem;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::timestamp;
use crate::AppState;
use crate::auth::{EndUserScope, Scoped, SystemRegisterWrite};
use crate::extract::Json;
use crate::problem::ApiResult;
use systembruker_app::systemregister;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(portal_list))
        .routes(routes!(portal_system))
        .routes(routes!(portal_rights))
        .routes(routes!(portal_packages))
        .routes(routes!(vendor_list, create_system))
        .routes(routes!(vendor_system, replace_system, delete_system))
        .routes(routes!(replace_rights))
        .routes(routes!(replace_packages))
        .routes(routes!(changelog))
}

/// `{"succeeded": true}`, the reference's update result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Succeeded {
    pub succeeded: bool,
}

/// One change-log entry (`SystemChangeLog`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeLogDto {
    pub id: Uuid,
    pub system_internal_id: Uuid,
    pub change_type: String,
    pub changed_by_org_number: Option<String>,
    pub client_id: Option<String>,
    #[schema(value_type = Object)]
    pub changed_data: serde_json::Value,
    pub created: String,
}

/// A live system, or AUTH-00011 (404).
pub(crate) async fn live_system(state: &AppState, system_id: &str) -> ApiResult<StoredSystem> {
    Ok(systemregister::live_system(&state.app, system_id).await?)
}

#[utoipa::path(get, path = "/authentication/api/v1/systemregister", tag = "systemregister",
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<SystemSummary>)))]
async fn portal_list(
    State(state): State<AppState>,
    _caller: Scoped<EndUserScope>,
) -> ApiResult<axum::Json<Vec<SystemSummary>>> {
    Ok(axum::Json(visible_summaries(&state).await?))
}

/// The systems offered for end-user creation, with their vendors' names.
pub(crate) async fn visible_summaries(state: &AppState) -> ApiResult<Vec<SystemSummary>> {
    Ok(systemregister::visible_summaries(&state.app).await?)
}

#[utoipa::path(get, path = "/authentication/api/v1/systemregister/{systemId}", tag = "systemregister",
    params(("systemId" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = SystemSummary), (status = 404, body = crate::problem::ProblemBody)))]
async fn portal_system(
    State(state): State<AppState>,
    _caller: Scoped<EndUserScope>,
    Path(system_id): Path<String>,
) -> ApiResult<axum::Json<SystemSummary>> {
    let stored = live_system(&state, &system_id).await?;
    Ok(axum::Json(
        systemregister::summary(&state.app, stored).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RightsQuery {
    #[serde(default)]
    use_old_format_for_app: bool,
}

/// `app_<org>_<app>` as `urn:altinn:org` + `urn:altinn:app`, the old format for apps.
fn old_app_format(right: Right) -> Right {
    let mut pairs = Vec::new();
    for pair in right.resource {
        let app = pair
            .value
            .strip_prefix("app_")
            .and_then(|rest| rest.split_once('_'))
            .filter(|_| pair.id == "urn:altinn:resource");
        match app {
            Some((org, app)) => {
                pairs.push(AttributePair {
                    id: "urn:altinn:org".into(),
                    value: org.into(),
                });
                pairs.push(AttributePair {
                    id: "urn:altinn:app".into(),
                    value: app.into(),
                });
            }
            None => pairs.push(pair),
        }
    }
    Right {
        action: right.action,
        resource: pairs,
    }
}

#[utoipa::path(get, path = "/authentication/api/v1/systemregister/{systemId}/rights", tag = "systemregister",
    params(("systemId" = String, Path), ("useOldFormatForApp" = Option<bool>, Query)),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<Right>), (status = 404, body = crate::problem::ProblemBody)))]
async fn portal_rights(
    State(state): State<AppState>,
    _caller: Scoped<EndUserScope>,
    Path(system_id): Path<String>,
    Query(query): Query<RightsQuery>,
) -> ApiResult<axum::Json<Vec<Right>>> {
    let rights = live_system(&state, &system_id).await?.system.rights;
    Ok(axum::Json(if query.use_old_format_for_app {
        rights.into_iter().map(old_app_format).collect()
    } else {
        rights
    }))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemregister/{systemId}/accesspackages", tag = "systemregister",
    params(("systemId" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<AccessPackageRef>), (status = 404, body = crate::problem::ProblemBody)))]
async fn portal_packages(
    State(state): State<AppState>,
    _caller: Scoped<EndUserScope>,
    Path(system_id): Path<String>,
) -> ApiResult<axum::Json<Vec<AccessPackageRef>>> {
    Ok(axum::Json(
        live_system(&state, &system_id)
            .await?
            .system
            .access_packages,
    ))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemregister/vendor", tag = "systemregister",
    security(("bearer" = ["altinn:authentication/systemregister.write"])),
    responses((status = 200, body = Vec<RegisteredSystem>), (status = 401, body = crate::problem::ProblemBody)))]
async fn vendor_list(
    State(state): State<AppState>,
    caller: Scoped<SystemRegisterWrite>,
) -> ApiResult<axum::Json<Vec<RegisteredSystem>>> {
    Ok(axum::Json(
        systemregister::vendor_systems(&state.app, &caller).await?,
    ))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemregister/vendor/{systemId}", tag = "systemregister",
    params(("systemId" = String, Path)), security(("bearer" = ["altinn:authentication/systemregister.write"])),
    responses((status = 200, body = RegisteredSystem), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn vendor_system(
    State(state): State<AppState>,
    caller: Scoped<SystemRegisterWrite>,
    Path(system_id): Path<String>,
) -> ApiResult<axum::Json<RegisteredSystem>> {
    Ok(axum::Json(
        systemregister::vendor_system(&state.app, &caller, &system_id).await?,
    ))
}

#[utoipa::path(post, path = "/authentication/api/v1/systemregister/vendor", tag = "systemregister",
    request_body = RegisteredSystem, security(("bearer" = ["altinn:authentication/systemregister.write"])),
    responses((status = 200, description = "The system's internal id", body = Uuid),
        (status = 400, body = crate::problem::ProblemBody), (status = 403, body = crate::problem::ProblemBody),
        (status = 409, body = crate::problem::ProblemBody)))]
async fn create_system(
    State(state): State<AppState>,
    caller: Scoped<SystemRegisterWrite>,
    Json(system): Json<RegisteredSystem>,
) -> ApiResult<axum::Json<Uuid>> {
    Ok(axum::Json(
        systemregister::create_system(&state.app, &caller, system).await?,
    ))
}

/// `{"succeeded": true}` once a change is stored.
fn succeeded(_: ()) -> axum::Json<Succeeded> {
    axum::Json(Succeeded { succeeded: true })
}

#[utoipa::path(put, path = "/authentication/api/v1/systemregister/vendor/{systemId}", tag = "systemregister",
    params(("systemId" = String, Path)), request_body = RegisteredSystem,
    security(("bearer" = ["altinn:authentication/systemregister.write"])),
    responses((status = 200, body = Succeeded), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn replace_system(
    State(state): State<AppState>,
    caller: Scoped<SystemRegisterWrite>,
    Path(system_id): Path<String>,
    Json(system): Json<RegisteredSystem>,
) -> ApiResult<axum::Json<Succeeded>> {
    systemregister::replace_system(&state.app, &caller, &system_id, system)
        .await
        .map(succeeded)
        .map_err(Into::into)
}

#[utoipa::path(put, path = "/authentication/api/v1/systemregister/vendor/{systemId}/rights", tag = "systemregister",
    params(("systemId" = String, Path)), request_body = Vec<Right>,
    security(("bearer" = ["altinn:authentication/systemregister.write"])),
    responses((status = 200, body = Succeeded), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn replace_rights(
    State(state): State<AppState>,
    caller: Scoped<SystemRegisterWrite>,
    Path(system_id): Path<String>,
    Json(rights): Json<Vec<Right>>,
) -> ApiResult<axum::Json<Succeeded>> {
    systemregister::replace_rights(&state.app, &caller, &system_id, rights)
        .await
        .map(succeeded)
        .map_err(Into::into)
}

#[utoipa::path(put, path = "/authentication/api/v1/systemregister/vendor/{systemId}/accesspackages", tag = "systemregister",
    params(("systemId" = String, Path)), request_body = Vec<AccessPackageRef>,
    security(("bearer" = ["altinn:authentication/systemregister.write"])),
    responses((status = 200, body = Succeeded), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn replace_packages(
    State(state): State<AppState>,
    caller: Scoped<SystemRegisterWrite>,
    Path(system_id): Path<String>,
    Json(packages): Json<Vec<AccessPackageRef>>,
) -> ApiResult<axum::Json<Succeeded>> {
    systemregister::replace_packages(&state.app, &caller, &system_id, packages)
        .await
        .map(succeeded)
        .map_err(Into::into)
}

#[utoipa::path(delete, path = "/authentication/api/v1/systemregister/vendor/{systemId}", tag = "systemregister",
    params(("systemId" = String, Path)), security(("bearer" = ["altinn:authentication/systemregister.write"])),
    responses((status = 200, body = Succeeded), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn delete_system(
    State(state): State<AppState>,
    caller: Scoped<SystemRegisterWrite>,
    Path(system_id): Path<String>,
) -> ApiResult<axum::Json<Succeeded>> {
    systemregister::delete_system(&state.app, &caller, &system_id)
        .await
        .map(succeeded)
        .map_err(Into::into)
}

#[utoipa::path(get, path = "/authentication/api/v1/systemregister/vendor/{systemId}/changelog", tag = "systemregister",
    params(("systemId" = String, Path)), security(("bearer" = ["altinn:authentication/systemregister.write"])),
    responses((status = 200, body = Vec<ChangeLogDto>), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn changelog(
    State(state): State<AppState>,
    caller: Scoped<SystemRegisterWrite>,
    Path(system_id): Path<String>,
) -> ApiResult<axum::Json<Vec<ChangeLogDto>>> {
    let entries = systemregister::changelog(&state.app, &caller, &system_id).await?;
    Ok(axum::Json(
        entries
            .into_iter()
            .map(|c| ChangeLogDto {
                id: c.id,
                system_internal_id: c.system_internal_id,
                change_type: c.change_type,
                changed_by_org_number: c.changed_by_org_number,
                client_id: c.client_id,
                changed_data: c.changed_data,
                created: timestamp(c.created),
            })
            .collect(),
    ))
}
