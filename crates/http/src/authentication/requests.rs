//! Vendor-driven system-user requests (docs/rules.md#requests), as HTTP routes over
//! `app::requests`: create, look up, list and delete, for standard and agent requests.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use systembruker_app as app;
use systembruker_app::requests::NewRequest;
use systembruker_domain::system::{AccessPackageRef, Right};
use systembruker_domain::systemuser::{RequestStatus, SystemUserType};
use systembruker_storage::{RequestCreation, StoredRequest, SystemUserKey};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{PREFIX, Page, page, page_token, parse_id, timestamp};
use crate::AppState;
use crate::auth::{Caller, Scoped, SystemUserRequestRead, SystemUserRequestWrite};
use crate::extract::Json;
use crate::problem::ApiResult;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_standard))
        .routes(routes!(create_agent))
        .routes(routes!(get_standard, delete_request))
        .routes(routes!(get_agent))
        .routes(routes!(by_external_ref))
        .routes(routes!(agent_by_external_ref))
        .routes(routes!(by_system))
        .routes(routes!(agent_by_system))
}

/// `POST systemuser/request/vendor[/agent]` (`CreateRequestSystemUser`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequestBody {
    pub system_id: String,
    pub party_org_no: String,
    #[serde(default)]
    pub external_ref: Option<String>,
    #[serde(default)]
    pub rights: Option<Vec<Right>>,
    #[serde(default)]
    pub access_packages: Option<Vec<AccessPackageRef>>,
    #[serde(default)]
    pub redirect_url: Option<String>,
    #[serde(default)]
    pub integration_title: Option<String>,
}

/// `RequestSystemResponse` (vendor view); the portal view adds the optional fields.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestDto {
    pub id: Uuid,
    pub integration_title: String,
    pub external_ref: String,
    pub system_id: String,
    pub party_org_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rights: Option<Vec<Right>>,
    pub access_packages: Vec<AccessPackageRef>,
    pub status: RequestStatus,
    pub redirect_url: Option<String>,
    pub confirm_url: String,
    pub escalated: bool,
    pub created: String,
    pub timed_out: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party_uuid: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_may_escalate_but_not_approve: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_user_type: Option<SystemUserType>,
}

/// Where the customer approves: our portal's request page.
pub(crate) fn confirm_url(state: &AppState, kind: SystemUserType, id: Uuid) -> String {
    let page = match kind {
        SystemUserType::Standard => "request",
        SystemUserType::Agent => "agentrequest",
    };
    format!(
        "{}/accessmanagement/ui/systemuser/{page}?id={id}&DONTCHOOSEREPORTEE=true",
        state.config.public_url.trim_end_matches('/')
    )
}

pub(crate) fn to_dto(state: &AppState, request: StoredRequest) -> RequestDto {
    let timed_out = app::requests::is_timed_out(&state.app.settings, &request);
    let status = if timed_out {
        RequestStatus::Timedout
    } else {
        request.status
    };
    RequestDto {
        confirm_url: confirm_url(state, request.user_type, request.id),
        id: request.id,
        integration_title: request.integration_title,
        external_ref: request.external_ref,
        system_id: request.system_id,
        party_org_no: request.party_org,
        rights: (request.user_type == SystemUserType::Standard).then_some(request.rights),
        access_packages: request.access_packages,
        status,
        redirect_url: request.redirect_url,
        escalated: request.escalated,
        created: timestamp(request.created_at),
        timed_out,
        party_id: None,
        party_uuid: None,
        user_may_escalate_but_not_approve: None,
        system_user_type: None,
    }
}

async fn create(
    state: &AppState,
    caller: &Caller,
    body: CreateRequestBody,
    kind: SystemUserType,
) -> ApiResult<Created> {
    let new = NewRequest {
        system_id: body.system_id,
        party_org: body.party_org_no,
        external_ref: body.external_ref,
        rights: body.rights,
        access_packages: body.access_packages,
        redirect_url: body.redirect_url,
        integration_title: body.integration_title,
    };
    match app::requests::create(&state.app, caller, new, kind).await? {
        RequestCreation::Created(stored) => {
            let mut headers = HeaderMap::new();
            let location = format!(
                "{}{PREFIX}/systemuser/request/{}",
                state.config.public_url.trim_end_matches('/'),
                stored.id
            );
            if let Ok(value) = HeaderValue::from_str(&location) {
                headers.insert(header::LOCATION, value);
            }
            Ok((
                StatusCode::CREATED,
                headers,
                axum::Json(to_dto(state, stored)),
            ))
        }
        // A re-post, or a lost race with an identical post: the live request for the key.
        RequestCreation::Existing(existing) => Ok((
            StatusCode::OK,
            HeaderMap::new(),
            axum::Json(to_dto(state, existing)),
        )),
    }
}

type Created = (StatusCode, HeaderMap, axum::Json<RequestDto>);

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/request/vendor", tag = "systemuser-request",
    request_body = CreateRequestBody, security(("bearer" = ["altinn:authentication/systemuser.request.write"])),
    responses((status = 201, body = RequestDto), (status = 200, description = "The live request for the key", body = RequestDto),
        (status = 400, body = crate::problem::ProblemBody), (status = 401, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn create_standard(
    State(state): State<AppState>,
    caller: Scoped<SystemUserRequestWrite>,
    Json(body): Json<CreateRequestBody>,
) -> ApiResult<Created> {
    create(&state, &caller, body, SystemUserType::Standard).await
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/request/vendor/agent", tag = "systemuser-request",
    request_body = CreateRequestBody, security(("bearer" = ["altinn:authentication/systemuser.request.write"])),
    responses((status = 201, body = RequestDto), (status = 200, body = RequestDto),
        (status = 400, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn create_agent(
    State(state): State<AppState>,
    caller: Scoped<SystemUserRequestWrite>,
    Json(body): Json<CreateRequestBody>,
) -> ApiResult<Created> {
    create(&state, &caller, body, SystemUserType::Agent).await
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/vendor/{requestId}", tag = "systemuser-request",
    params(("requestId" = String, Path)), security(("bearer" = ["altinn:authentication/systemuser.request.read"])),
    responses((status = 200, body = RequestDto), (status = 404, body = crate::problem::ProblemBody)))]
async fn get_standard(
    State(state): State<AppState>,
    caller: Scoped<SystemUserRequestRead>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RequestDto>> {
    get_one(&state, &caller, &id, SystemUserType::Standard).await
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/vendor/agent/{requestId}", tag = "systemuser-request",
    params(("requestId" = String, Path)), security(("bearer" = ["altinn:authentication/systemuser.request.read"])),
    responses((status = 200, body = RequestDto), (status = 404, body = crate::problem::ProblemBody)))]
async fn get_agent(
    State(state): State<AppState>,
    caller: Scoped<SystemUserRequestRead>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RequestDto>> {
    get_one(&state, &caller, &id, SystemUserType::Agent).await
}

async fn get_one(
    state: &AppState,
    caller: &Caller,
    id: &str,
    kind: SystemUserType,
) -> ApiResult<axum::Json<RequestDto>> {
    let id = parse_id("requestId", id)?;
    let request = app::requests::get(&state.app, caller, id, kind).await?;
    Ok(axum::Json(to_dto(state, request)))
}

async fn find_by_key(
    state: &AppState,
    caller: &Caller,
    (system_id, org, external_ref): (String, String, String),
    kind: SystemUserType,
) -> ApiResult<axum::Json<RequestDto>> {
    let key = SystemUserKey {
        system_id,
        org,
        external_ref,
    };
    let request = app::requests::by_key(&state.app, caller, key, kind).await?;
    Ok(axum::Json(to_dto(state, request)))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/vendor/byexternalref/{systemId}/{orgNo}/{externalRef}",
    tag = "systemuser-request",
    params(("systemId" = String, Path), ("orgNo" = String, Path), ("externalRef" = String, Path)),
    security(("bearer" = ["altinn:authentication/systemuser.request.read"])),
    responses((status = 200, body = RequestDto), (status = 404, body = crate::problem::ProblemBody)))]
async fn by_external_ref(
    State(state): State<AppState>,
    caller: Scoped<SystemUserRequestRead>,
    Path(key): Path<(String, String, String)>,
) -> ApiResult<axum::Json<RequestDto>> {
    find_by_key(&state, &caller, key, SystemUserType::Standard).await
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/vendor/agent/byexternalref/{systemId}/{orgNo}/{externalRef}",
    tag = "systemuser-request",
    params(("systemId" = String, Path), ("orgNo" = String, Path), ("externalRef" = String, Path)),
    security(("bearer" = ["altinn:authentication/systemuser.request.read"])),
    responses((status = 200, body = RequestDto), (status = 404, body = crate::problem::ProblemBody)))]
async fn agent_by_external_ref(
    State(state): State<AppState>,
    caller: Scoped<SystemUserRequestRead>,
    Path(key): Path<(String, String, String)>,
) -> ApiResult<axum::Json<RequestDto>> {
    find_by_key(&state, &caller, key, SystemUserType::Agent).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct PageQuery {
    pub token: Option<String>,
}

async fn list_by_system(
    state: &AppState,
    caller: &Caller,
    system_id: &str,
    token: Option<&str>,
    kind: SystemUserType,
) -> ApiResult<axum::Json<Page<RequestDto>>> {
    let after = page_token(token)?;
    let rows = app::requests::by_system(
        &state.app,
        caller,
        system_id,
        after,
        super::PAGE_SIZE + 1,
        kind,
    )
    .await?;
    let path = match kind {
        SystemUserType::Standard => format!("systemuser/request/vendor/bysystem/{system_id}"),
        SystemUserType::Agent => format!("systemuser/request/vendor/agent/bysystem/{system_id}"),
    };
    Ok(axum::Json(page(
        state,
        &path,
        rows,
        |r| r.id,
        |r| to_dto(state, r),
    )))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/vendor/bysystem/{systemId}", tag = "systemuser-request",
    params(("systemId" = String, Path), ("token" = Option<String>, Query, description = "Paging token from links.next")),
    security(("bearer" = ["altinn:authentication/systemuser.request.read"])),
    responses((status = 200, body = Page<RequestDto>), (status = 404, body = crate::problem::ProblemBody)))]
async fn by_system(
    State(state): State<AppState>,
    caller: Scoped<SystemUserRequestRead>,
    Path(system_id): Path<String>,
    Query(query): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<RequestDto>>> {
    list_by_system(
        &state,
        &caller,
        &system_id,
        query.token.as_deref(),
        SystemUserType::Standard,
    )
    .await
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/vendor/agent/bysystem/{systemId}", tag = "systemuser-request",
    params(("systemId" = String, Path), ("token" = Option<String>, Query)),
    security(("bearer" = ["altinn:authentication/systemuser.request.read"])),
    responses((status = 200, body = Page<RequestDto>), (status = 404, body = crate::problem::ProblemBody)))]
async fn agent_by_system(
    State(state): State<AppState>,
    caller: Scoped<SystemUserRequestRead>,
    Path(system_id): Path<String>,
    Query(query): Query<PageQuery>,
) -> ApiResult<axum::Json<Page<RequestDto>>> {
    list_by_system(
        &state,
        &caller,
        &system_id,
        query.token.as_deref(),
        SystemUserType::Agent,
    )
    .await
}

#[utoipa::path(delete, path = "/authentication/api/v1/systemuser/request/vendor/{requestId}", tag = "systemuser-request",
    params(("requestId" = String, Path)), security(("bearer" = ["altinn:authentication/systemuser.request.write"])),
    responses((status = 202), (status = 404, body = crate::problem::ProblemBody)))]
async fn delete_request(
    State(state): State<AppState>,
    caller: Scoped<SystemUserRequestWrite>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id("requestId", &id)?;
    app::requests::delete(&state.app, &caller, id).await?;
    Ok(StatusCode::ACCEPTED)
}
