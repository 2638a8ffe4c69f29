//! The system register (docs/rules.md#system-register): the portal's list and the vendor API.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use systembruker_domain::OrgNumber;
use systembruker_domain::system::{
    AccessPackageRef, AttributePair, RegisteredSystem, Right, SystemFacts, SystemSummary,
    ValidationFailure, validate_system, vld,
};
use systembruker_storage::{StoredSystem, SystemChangeType};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{actor, problem, validation, vendor_of};
use crate::AppState;
use crate::auth::{EndUserScope, Scoped, SystemRegisterWrite};
use crate::extract::Json;
use crate::problem::{ApiError, ApiResult};

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
    state
        .store
        .system(system_id)
        .await?
        .filter(|s| !s.system.is_deleted)
        .ok_or_else(|| problem(11, format!("system {system_id} does not exist")))
}

/// Whether the caller may act for any vendor (`systemregister.admin` or operator).
fn is_register_admin(caller: &Scoped<SystemRegisterWrite>) -> bool {
    caller.is_admin() || caller.has_scope("altinn:authentication/systemregister.admin")
}

/// The caller must be the system's vendor (or a register admin): 403 otherwise.
fn check_owner(
    caller: &Scoped<SystemRegisterWrite>,
    vendor: Option<OrgNumber>,
    system_id: &str,
) -> ApiResult<()> {
    if is_register_admin(caller) {
        return Ok(());
    }
    let me = vendor_of(caller)?;
    if vendor == Some(me) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "system {system_id} belongs to another vendor; only its vendor may read or change it"
        )))
    }
}

async fn summary(state: &AppState, stored: StoredSystem) -> ApiResult<SystemSummary> {
    let system = stored.system;
    let vendor = system.vendor_org();
    let vendor_name = match vendor {
        Some(org) => state
            .store
            .organization(&org)
            .await?
            .map(|p| p.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(SystemSummary {
        system_id: system.id,
        system_vendor_org_number: vendor.map(|o| o.to_string()).unwrap_or_default(),
        system_vendor_org_name: vendor_name,
        name: system.name,
        description: system.description,
        rights: system.rights,
        access_packages: system.access_packages,
        is_visible: system.is_visible,
    })
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
    let mut out = Vec::new();
    for stored in state.store.visible_systems().await? {
        out.push(summary(state, stored).await?);
    }
    Ok(out)
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
    Ok(axum::Json(summary(&state, stored).await?))
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
    let vendor = vendor_of(&caller)?;
    let systems = state.store.systems_by_vendor(vendor.as_str()).await?;
    Ok(axum::Json(systems.into_iter().map(|s| s.system).collect()))
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
    let stored = state
        .store
        .system(&system_id)
        .await?
        .ok_or_else(|| problem(11, format!("system {system_id} does not exist")))?;
    check_owner(&caller, stored.system.vendor_org(), &system_id)?;
    Ok(axum::Json(stored.system))
}

/// The facts validation needs: which named resources exist (and their type), which of
/// the client ids other live systems hold, and (on create) whether the id is taken.
async fn facts_for(
    state: &AppState,
    system: &RegisteredSystem,
    creating: bool,
) -> ApiResult<SystemFacts> {
    let mut resources = HashMap::new();
    for pair in system.rights.iter().flat_map(|r| &r.resource) {
        if let Some(stored) = state.store.resource(&pair.value).await? {
            resources.insert(pair.value.clone(), stored.resource.resource_type);
        }
    }
    let mut client_ids_taken = std::collections::HashSet::new();
    let mut client_ids_foreign = std::collections::HashSet::new();
    for client_id in &system.client_id {
        if let Some(owner) = state.store.system_of_client(client_id).await?
            && owner != system.id
        {
            client_ids_taken.insert(client_id.clone());
        }
        if is_foreign_client(state, client_id, system.vendor_org()).await? {
            client_ids_foreign.insert(client_id.clone());
        }
    }
    let id_taken = creating && state.store.system(&system.id).await?.is_some();
    Ok(SystemFacts {
        id_taken,
        resources,
        client_ids_taken,
        client_ids_foreign,
        dev: state.config.dev,
    })
}

/// Whether `client_id` is a Maskinporten client of this platform whose consumer org is
/// not the system's vendor. Ids of no client here (the platform makes client ids as
/// random uuids, so none can be claimed before it exists) are the vendor's to name.
async fn is_foreign_client(
    state: &AppState,
    client_id: &str,
    vendor: Option<OrgNumber>,
) -> ApiResult<bool> {
    let Ok(id) = Uuid::parse_str(client_id) else {
        return Ok(false);
    };
    Ok(state
        .store
        .client(id)
        .await?
        .is_some_and(|client| Some(client.consumer_org) != vendor))
}

/// The vendor in the body must be valid (VLD-00000) and the caller's own (403), before
/// any other validation error is returned.
fn check_body_vendor(
    caller: &Scoped<SystemRegisterWrite>,
    system: &RegisteredSystem,
) -> ApiResult<()> {
    let Some(vendor) = system.vendor_org() else {
        return Err(validation(vec![ValidationFailure {
            code: vld::VENDOR_PREFIX,
            title: "the vendor must be {\"authority\":\"iso6523-actorid-upis\",\"ID\":\"0192:<orgno>\"}".into(),
            paths: vec!["/vendor/ID".into()],
        }]));
    };
    check_owner(caller, Some(vendor), &system.id)
}

async fn validated(state: &AppState, system: &RegisteredSystem, creating: bool) -> ApiResult<()> {
    let facts = facts_for(state, system, creating).await?;
    let failures = validate_system(system, state.catalogue, &facts);
    if failures.is_empty() {
        Ok(())
    } else {
        Err(validation(failures))
    }
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
    let mut system = system.trimmed();
    system.is_deleted = false;
    check_body_vendor(&caller, &system)?;
    validated(&state, &system, true).await?;
    let id = state.store.create_system(&system, &actor(&caller)).await?;
    Ok(axum::Json(id))
}

/// The live system for an update: 404 if missing, 403 if another vendor's, 400 if deleted.
async fn system_to_change(
    state: &AppState,
    caller: &Scoped<SystemRegisterWrite>,
    system_id: &str,
) -> ApiResult<RegisteredSystem> {
    let stored = state
        .store
        .system(system_id)
        .await?
        .ok_or_else(|| problem(11, format!("system {system_id} does not exist")))?;
    check_owner(caller, stored.system.vendor_org(), system_id)?;
    if stored.system.is_deleted {
        return Err(ApiError::bad_request(format!(
            "system {system_id} is deleted and cannot be changed"
        )));
    }
    Ok(stored.system)
}

async fn store_change(
    state: &AppState,
    caller: &Scoped<SystemRegisterWrite>,
    system: RegisteredSystem,
    change: SystemChangeType,
) -> ApiResult<axum::Json<Succeeded>> {
    validated(state, &system, false).await?;
    state
        .store
        .update_system(&system, change, &actor(caller))
        .await?;
    Ok(axum::Json(Succeeded { succeeded: true }))
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
    let mut system = system.trimmed();
    system.is_deleted = false;
    let current = system_to_change(&state, &caller, &system_id).await?;
    if system.id != system_id {
        return Err(validation(vec![ValidationFailure {
            code: vld::ID_MISMATCH,
            title: format!("the body's id must equal the path's ({system_id})"),
            paths: vec!["/id".into()],
        }]));
    }
    if system.vendor_org() != current.vendor_org() {
        return Err(problem(
            11,
            format!(
                "system {system_id} with vendor {} does not exist",
                system.vendor.id
            ),
        ));
    }
    store_change(&state, &caller, system, SystemChangeType::Update).await
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
    let mut system = system_to_change(&state, &caller, &system_id).await?;
    system.rights = rights;
    let system = system.trimmed();
    store_change(&state, &caller, system, SystemChangeType::RightsUpdate).await
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
    let mut system = system_to_change(&state, &caller, &system_id).await?;
    system.access_packages = packages;
    let system = system.trimmed();
    store_change(
        &state,
        &caller,
        system,
        SystemChangeType::AccessPackageUpdate,
    )
    .await
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
    system_to_change(&state, &caller, &system_id).await?;
    if !state
        .store
        .delete_system(&system_id, &actor(&caller))
        .await?
    {
        return Err(problem(11, format!("system {system_id} does not exist")));
    }
    Ok(axum::Json(Succeeded { succeeded: true }))
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
    let stored = state
        .store
        .system(&system_id)
        .await?
        .ok_or_else(|| problem(11, format!("system {system_id} does not exist")))?;
    check_owner(&caller, stored.system.vendor_org(), &system_id)?;
    let entries = state.store.system_changelog(&system_id).await?;
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
                created: super::timestamp(c.created),
            })
            .collect(),
    ))
}
