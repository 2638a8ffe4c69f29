//! Vendor-driven system-user requests (docs/rules.md#requests): create, look up,
//! list and delete, for standard and agent requests. Every route checks that the calling
//! vendor owns the request's system; another vendor's request is "not found" (AUTH-00011),
//! so vendors cannot probe each other's customers.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use systembruker_domain::OrgNumber;
use systembruker_domain::system::{AccessPackageRef, RegisteredSystem, Right};
use systembruker_domain::systemuser::{
    RequestStatus, SystemUserType, check_packages, check_redirect_url, check_rights_subset,
    check_standard_request,
};
use systembruker_storage::{RequestCreation, StoredRequest, SystemUserKey};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::systemregister::live_system;
use super::{
    PREFIX, Page, actor, auth_problem, page, page_token, parse_id, problem, timestamp, vendor_of,
};
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

/// Whether a request has passed the configured answer time.
pub(crate) fn is_timed_out(state: &AppState, request: &StoredRequest) -> bool {
    request.status == RequestStatus::Timedout
        || (request.status == RequestStatus::New
            && request.created_at
                < state
                    .config
                    .request_cutoff_millis(systembruker_storage::now_millis()))
}

pub(crate) fn to_dto(state: &AppState, request: StoredRequest) -> RequestDto {
    let timed_out = is_timed_out(state, &request);
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

/// A live request of `kind`, with a timed-out `New` stored as `Timedout` on the way.
/// Missing, deleted or of the other kind: AUTH-00010 (AUTH-00030 for agent).
pub(crate) async fn live_request(
    state: &AppState,
    id: Uuid,
    kind: SystemUserType,
) -> ApiResult<StoredRequest> {
    let missing = || match kind {
        SystemUserType::Standard => problem(10, format!("request {id} does not exist")),
        SystemUserType::Agent => problem(30, format!("agent request {id} does not exist")),
    };
    let mut request = state
        .store
        .request(id)
        .await?
        .filter(|r| !r.is_deleted && r.user_type == kind)
        .ok_or_else(missing)?;
    if request.status == RequestStatus::New && is_timed_out(state, &request) {
        let system = crate::authentication::actor(&Caller::default());
        state
            .store
            .close_request(id, RequestStatus::Timedout, &system)
            .await?;
        request.status = RequestStatus::Timedout;
    }
    Ok(request)
}

/// The vendor must own the request's system: otherwise the request "does not exist".
async fn owned_request(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    kind: SystemUserType,
) -> ApiResult<StoredRequest> {
    let vendor = vendor_of(caller)?;
    let request = live_request(state, id, kind).await?;
    let owner = state
        .store
        .system(&request.system_id)
        .await?
        .and_then(|s| s.system.vendor_org());
    if owner != Some(vendor) {
        return Err(problem(
            11,
            format!("request {id} is not for a system of vendor {vendor}"),
        ));
    }
    Ok(request)
}

/// The vendor's own live system, else AUTH-00011 (also for another vendor's system, so
/// its existence stays hidden).
pub(crate) async fn own_system(
    state: &AppState,
    vendor: &OrgNumber,
    system_id: &str,
) -> ApiResult<RegisteredSystem> {
    let system = live_system(state, system_id).await?.system;
    if system.vendor_org().as_ref() != Some(vendor) {
        return Err(problem(
            11,
            format!("system {system_id} does not exist for vendor {vendor}"),
        ));
    }
    Ok(system)
}

/// The request rules on the request's content (docs/rules.md#requests, steps 5–9).
async fn check_content(
    state: &AppState,
    body: &CreateRequestBody,
    system: &RegisteredSystem,
    kind: SystemUserType,
) -> ApiResult<()> {
    let party = OrgNumber::parse(&body.party_org_no).ok();
    let known = match party {
        Some(org) => state.store.organization(&org).await?.is_some(),
        None => false,
    };
    if !known {
        return Err(problem(
            0,
            format!(
                "organisation {:?} is not in the register",
                body.party_org_no
            ),
        ));
    }
    check_redirect_url(body.redirect_url.as_deref(), system).map_err(auth_problem)?;
    let packages = body.access_packages.as_deref().unwrap_or_default();
    match kind {
        SystemUserType::Standard => {
            check_standard_request(
                body.rights.as_deref(),
                body.access_packages.as_deref(),
                system,
            )
            .map_err(auth_problem)?;
        }
        SystemUserType::Agent => {
            if packages.is_empty() {
                return Err(problem(
                    58,
                    "an agent request must name at least one access package",
                ));
            }
            check_rights_subset(&[], system).map_err(auth_problem)?;
        }
    }
    check_packages(packages, system, kind, state.catalogue).map_err(auth_problem)?;
    Ok(())
}

async fn create(
    state: &AppState,
    caller: &Caller,
    body: CreateRequestBody,
    kind: SystemUserType,
) -> ApiResult<(StatusCode, HeaderMap, axum::Json<RequestDto>)> {
    let vendor = vendor_of(caller)?;
    let system = own_system(state, &vendor, body.system_id.trim()).await?;
    let party_org = body.party_org_no.trim().to_string();
    let external_ref = body
        .external_ref
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or(&party_org)
        .to_string();
    let key = SystemUserKey {
        system_id: system.id.clone(),
        org: party_org.clone(),
        external_ref,
    };
    if state.store.system_user_by_key(&key).await?.is_some() {
        return Err(problem(
            4,
            "a system user exists for this system, organisation and external reference",
        ));
    }
    if let Some(existing) = state.store.request_by_key(&key, kind).await? {
        // Idempotent re-post: the live request, whatever its status.
        return Ok((
            StatusCode::OK,
            HeaderMap::new(),
            axum::Json(to_dto(state, existing)),
        ));
    }
    check_content(state, &body, &system, kind).await?;
    let request = StoredRequest {
        id: Uuid::new_v4(),
        user_type: kind,
        system_id: key.system_id,
        party_org: key.org,
        external_ref: key.external_ref,
        integration_title: body
            .integration_title
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| system.name_nb().to_string()),
        rights: match kind {
            SystemUserType::Standard => body.rights.unwrap_or_default(),
            SystemUserType::Agent => Vec::new(),
        },
        access_packages: body.access_packages.unwrap_or_default(),
        redirect_url: body
            .redirect_url
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty()),
        status: RequestStatus::New,
        escalated: false,
        is_deleted: false,
        created_at: 0,
        updated_at: 0,
        changed_by: String::new(),
    };
    match state.store.create_request(&request, &actor(caller)).await? {
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
        // Lost a race with an identical post: answer as the re-post would.
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
    let request = owned_request(
        &state,
        &caller,
        parse_id("requestId", &id)?,
        SystemUserType::Standard,
    )
    .await?;
    Ok(axum::Json(to_dto(&state, request)))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/vendor/agent/{requestId}", tag = "systemuser-request",
    params(("requestId" = String, Path)), security(("bearer" = ["altinn:authentication/systemuser.request.read"])),
    responses((status = 200, body = RequestDto), (status = 404, body = crate::problem::ProblemBody)))]
async fn get_agent(
    State(state): State<AppState>,
    caller: Scoped<SystemUserRequestRead>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RequestDto>> {
    let request = owned_request(
        &state,
        &caller,
        parse_id("requestId", &id)?,
        SystemUserType::Agent,
    )
    .await?;
    Ok(axum::Json(to_dto(&state, request)))
}

async fn find_by_key(
    state: &AppState,
    caller: &Caller,
    (system_id, org, external_ref): (String, String, String),
    kind: SystemUserType,
) -> ApiResult<axum::Json<RequestDto>> {
    let vendor = vendor_of(caller)?;
    own_system(state, &vendor, &system_id).await?;
    let key = SystemUserKey {
        system_id,
        org,
        external_ref,
    };
    let request = state
        .store
        .request_by_key(&key, kind)
        .await?
        .ok_or_else(|| {
            problem(
                10,
                "there is no live request for this system, organisation and external reference",
            )
        })?;
    let request = live_request(state, request.id, kind).await?;
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
    let vendor = vendor_of(caller)?;
    own_system(state, &vendor, system_id).await?;
    let after = page_token(token)?;
    let rows = state
        .store
        .requests_by_system(system_id, kind, after, super::PAGE_SIZE + 1)
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
    // Unlike the reference, only the vendor of the request's system may delete it.
    let request = match owned_request(&state, &caller, id, SystemUserType::Standard).await {
        Err(e) if e.code == "AUTH-00010" => {
            owned_request(&state, &caller, id, SystemUserType::Agent).await?
        }
        other => other?,
    };
    if !state
        .store
        .delete_request(request.id, &actor(&caller))
        .await?
    {
        return Err(problem(10, format!("request {id} does not exist")));
    }
    Ok(StatusCode::ACCEPTED)
}
