//! Change requests for standard system users (docs/rules.md#change-requests). Unlike the
//! reference, the `{party}` of approve and reject must be the system user's owner, and
//! every vendor route checks that the vendor owns the system user's system.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use systembruker_app::changerequests::{
    self,
    vendor::{self, ChangeCreation, NewChange},
};
use systembruker_domain::system::{AccessPackageRef, Right};
use systembruker_domain::systemuser::RequestStatus;
use systembruker_storage::{StoredChangeRequest, SystemUserKey};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::requests::PageQuery;
use super::{Page, page, page_token, parse_id, resolve_org_party, timestamp};
use crate::AppState;
use crate::auth::{EndUserScope, Scoped, SystemUserRequestRead, SystemUserRequestWrite};
use crate::extract::Json;
use crate::problem::{ApiError, ApiResult};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(vendor_get, vendor_delete))
        .routes(routes!(vendor_by_external_ref))
        .routes(routes!(vendor_by_system))
        .routes(routes!(portal_get))
        .routes(routes!(party_get))
        .routes(routes!(approve))
        .routes(routes!(reject))
}

/// The body of `POST systemuser/changerequest/vendor`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeRequestBody {
    #[serde(default)]
    pub required_rights: Vec<Right>,
    #[serde(default)]
    pub unwanted_rights: Vec<Right>,
    #[serde(default)]
    pub required_access_packages: Vec<AccessPackageRef>,
    #[serde(default)]
    pub unwanted_access_packages: Vec<AccessPackageRef>,
    #[serde(default)]
    pub redirect_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeRequestDto {
    pub id: Uuid,
    pub system_user_id: Uuid,
    pub external_ref: String,
    pub system_id: String,
    pub party_org_no: String,
    pub required_rights: Vec<Right>,
    pub unwanted_rights: Vec<Right>,
    pub required_access_packages: Vec<AccessPackageRef>,
    pub unwanted_access_packages: Vec<AccessPackageRef>,
    pub status: RequestStatus,
    pub redirect_url: Option<String>,
    pub confirm_url: String,
    pub created: String,
    pub timed_out: bool,
}

pub(crate) fn to_dto(state: &AppState, request: StoredChangeRequest) -> ChangeRequestDto {
    let status = changerequests::effective_status(&state.app, &request);
    ChangeRequestDto {
        confirm_url: format!(
            "{}/accessmanagement/ui/systemuser/changerequest?id={}&DONTCHOOSEREPORTEE=true",
            state.config.public_url.trim_end_matches('/'),
            request.id
        ),
        id: request.id,
        system_user_id: request.system_user_id,
        external_ref: request.external_ref,
        system_id: request.system_id,
        party_org_no: request.party_org,
        required_rights: request.required_rights,
        unwanted_rights: request.unwanted_rights,
        required_access_packages: request.required_packages,
        unwanted_access_packages: request.unwanted_packages,
        status,
        redirect_url: request.redirect_url,
        created: timestamp(request.created_at),
        timed_out: status == RequestStatus::Timedout,
    }
}

#[derive(Debug, Deserialize)]
struct CreateQuery {
    #[serde(rename = "correlation-id")]
    correlation_id: Option<String>,
    #[serde(rename = "system-user-id")]
    system_user_id: Option<String>,
}

fn required_id(name: &str, value: Option<&str>) -> ApiResult<Uuid> {
    let value = value
        .ok_or_else(|| ApiError::invalid_field("STD-00010", name, format!("{name} is required")))?;
    parse_id(name, value)
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/changerequest/vendor", tag = "systemuser-changerequest",
    params(("correlation-id" = String, Query), ("system-user-id" = String, Query)), request_body = ChangeRequestBody,
    security(("bearer" = ["altinn:authentication/systemuser.request.write"])),
    responses((status = 201, body = ChangeRequestDto), (status = 200, body = ChangeRequestDto),
        (status = 400, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn create(
    State(state): State<AppState>,
    caller: Scoped<SystemUserRequestWrite>,
    Query(query): Query<CreateQuery>,
    Json(body): Json<ChangeRequestBody>,
) -> ApiResult<(StatusCode, axum::Json<ChangeRequestDto>)> {
    let new = NewChange {
        id: required_id("correlation-id", query.correlation_id.as_deref())?,
        system_user_id: required_id("system-user-id", query.system_user_id.as_deref())?,
        required_rights: body.required_rights,
        unwanted_rights: body.unwanted_rights,
        required_packages: body.required_access_packages,
        unwanted_packages: body.unwanted_access_packages,
        redirect_url: body.redirect_url,
    };
    Ok(match vendor::create(&state.app, &caller, new).await? {
        ChangeCreation::NoChangeNeeded(request) => {
            let mut dto = to_dto(&state, request);
            dto.status = RequestStatus::NoChangeNeeded;
            dto.confirm_url = String::new();
            (StatusCode::OK, axum::Json(dto))
        }
        ChangeCreation::Existing(request) => (StatusCode::OK, axum::Json(to_dto(&state, request))),
        ChangeCreation::Created(request) => {
            (StatusCode::CREATED, axum::Json(to_dto(&state, request)))
        }
    })
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/changerequest/vendor/{id}", tag = "systemuser-changerequest",
    params(("id" = String, Path)), security(("bearer" = ["altinn:authentication/systemuser.request.read"])),
    responses((status = 200, body = ChangeRequestDto), (status = 404, body = crate::problem::ProblemBody)))]
async fn vendor_get(
    State(state): State<AppState>,
    caller: Scoped<SystemUserRequestRead>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ChangeRequestDto>> {
    let id = parse_id("id", &id)?;
    Ok(axum::Json(to_dto(
        &state,
        vendor::get(&state.app, &caller, id).await?,
    )))
}

#[utoipa::path(delete, path = "/authentication/api/v1/systemuser/changerequest/vendor/{id}", tag = "systemuser-changerequest",
    params(("id" = String, Path)), security(("bearer" = ["altinn:authentication/systemuser.request.write"])),
    responses((status = 202), (status = 404, body = crate::problem::ProblemBody)))]
async fn vendor_delete(
    State(state): State<AppState>,
    caller: Scoped<SystemUserRequestWrite>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id("id", &id)?;
    vendor::delete(&state.app, &caller, id).await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/changerequest/vendor/byexternalref/{systemId}/{orgNo}/{externalRef}",
    tag = "systemuser-changerequest",
    params(("systemId" = String, Path), ("orgNo" = String, Path), ("externalRef" = String, Path)),
    security(("bearer" = ["altinn:authentication/systemuser.request.read"])),
    responses((status = 200, body = ChangeRequestDto), (status = 404, body = crate::problem::ProblemBody)))]
async fn vendor_by_external_ref(
    State(state): State<AppState>,
    caller: Scoped<SystemUserRequestRead>,
    Path((system_id, org, external_ref)): Path<(String, String, String)>,
) -> ApiResult<axum::Json<ChangeRequestDto>> {
    let key = SystemUserKey {
        system_id,
        org,
        external_ref,
    };
    let request = vendor::by_key(&state.app, &caller, &key).await?;
    Ok(axum::Json(to_dto(&state, request)))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/changerequest/vendor/bysystem/{systemId}", tag = "systemuser-changerequest", operation_id = "change_requests_by_system",
    params(("systemId" = String, Path), ("token" = Option<String>, Query)),
    security(("bearer" = ["altinn:authentication/systemuser.request.read"])),
    responses((status = 200, body = Page<ChangeRequestDto>), (status = 404, body = crate::problem::ProblemBody)))]
async fn vendor_by_system(
    State(state): State<AppState>,
    caller: Scoped<SystemUserRequestRead>,
    Path(system_id): Path<String>,
    Query(query): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<ChangeRequestDto>>> {
    let after = page_token(query.token.as_deref())?;
    let rows =
        vendor::by_system(&state.app, &caller, &system_id, after, super::PAGE_SIZE + 1).await?;
    let path = format!("systemuser/changerequest/vendor/bysystem/{system_id}");
    Ok(axum::Json(page(
        &state,
        &path,
        rows,
        |r| r.id,
        |r| to_dto(&state, r),
    )))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/changerequest/{id}", tag = "systemuser-changerequest",
    params(("id" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = ChangeRequestDto), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn portal_get(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ChangeRequestDto>> {
    let id = parse_id("id", &id)?;
    let (request, _) = changerequests::for_reader(&state.app, &caller, id).await?;
    Ok(axum::Json(to_dto(&state, request)))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/changerequest/{party}/{id}", tag = "systemuser-changerequest",
    params(("party" = String, Path), ("id" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = ChangeRequestDto), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn party_get(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<ChangeRequestDto>> {
    let party = resolve_org_party(&state, &party).await?;
    let id = parse_id("id", &id)?;
    let request = changerequests::for_party_reader(&state.app, &caller, &party, id).await?;
    Ok(axum::Json(to_dto(&state, request)))
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/changerequest/{party}/{id}/approve", tag = "systemuser-changerequest", operation_id = "approve_change_request",
    params(("party" = String, Path), ("id" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = bool), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody), (status = 409, body = crate::problem::ProblemBody)))]
async fn approve(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<bool>> {
    let party = resolve_org_party(&state, &party).await?;
    let id = parse_id("id", &id)?;
    changerequests::approve(&state.app, &caller, &party, id).await?;
    Ok(axum::Json(true))
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/changerequest/{party}/{id}/reject", tag = "systemuser-changerequest", operation_id = "reject_change_request",
    params(("party" = String, Path), ("id" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = bool), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody), (status = 409, body = crate::problem::ProblemBody)))]
async fn reject(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<bool>> {
    let party = resolve_org_party(&state, &party).await?;
    let id = parse_id("id", &id)?;
    changerequests::reject(&state.app, &caller, &party, id).await?;
    Ok(axum::Json(true))
}
