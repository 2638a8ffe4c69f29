//! Change requests for standard system users (docs/rules.md#change-requests). Unlike the
//! reference, the `{party}` of approve and reject must be the system user's owner, and
//! every vendor route checks that the vendor owns the system user's system.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use systembruker_domain::OrgNumber;
use systembruker_domain::system::{AccessPackageRef, Right};
use systembruker_domain::systemuser::{
    ChangeInput, RequestStatus, SystemUserType, change_diff, check_packages, check_redirect_url,
    check_rights_subset,
};
use systembruker_storage::{GrantChanges, StoredChangeRequest, StoredSystemUser, SystemUserKey};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::access::{Need, access_manager, delegation_check, require};
use super::requests::{PageQuery, own_system};
use super::{
    Page, actor, auth_problem, org_of, page, page_token, parse_id, problem, resolve_org_party,
    timestamp, vendor_of,
};
use crate::AppState;
use crate::auth::{Caller, EndUserScope, Scoped, SystemUserRequestRead, SystemUserRequestWrite};
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
    let cutoff = state
        .config
        .request_cutoff_millis(systembruker_storage::now_millis());
    let timed_out = request.status == RequestStatus::Timedout
        || (request.status == RequestStatus::New && request.created_at < cutoff);
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
        status: if timed_out {
            RequestStatus::Timedout
        } else {
            request.status
        },
        redirect_url: request.redirect_url,
        created: timestamp(request.created_at),
        timed_out,
    }
}

#[derive(Debug, Deserialize)]
struct CreateQuery {
    #[serde(rename = "correlation-id")]
    correlation_id: Option<String>,
    #[serde(rename = "system-user-id")]
    system_user_id: Option<String>,
}

/// The vendor's own live standard system user, else AUTH-00015.
async fn vendor_user(
    state: &AppState,
    vendor: &OrgNumber,
    id: Uuid,
) -> ApiResult<StoredSystemUser> {
    state
        .store
        .system_user(id)
        .await?
        .filter(|u| {
            !u.is_deleted
                && u.user_type == SystemUserType::Standard
                && u.vendor_org == vendor.as_str()
        })
        .ok_or_else(|| {
            problem(
                15,
                format!("standard system user {id} does not exist for vendor {vendor}"),
            )
        })
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
    let vendor = vendor_of(&caller)?;
    let id = required_id("correlation-id", query.correlation_id.as_deref())?;
    let user_id = required_id("system-user-id", query.system_user_id.as_deref())?;
    if id == user_id {
        return Err(ApiError::invalid_field(
            "STD-00010",
            "correlation-id",
            "correlation-id must differ from system-user-id",
        ));
    }
    let user = vendor_user(&state, &vendor, user_id).await?;
    let nothing = body.required_rights.is_empty()
        && body.unwanted_rights.is_empty()
        && body.required_access_packages.is_empty()
        && body.unwanted_access_packages.is_empty();
    let mut request = StoredChangeRequest {
        id,
        system_user_id: user.id,
        system_id: user.system_id.clone(),
        party_org: user.owner_org.clone(),
        external_ref: user.external_ref.clone(),
        required_rights: body.required_rights,
        unwanted_rights: body.unwanted_rights,
        required_packages: body.required_access_packages,
        unwanted_packages: body.unwanted_access_packages,
        redirect_url: body
            .redirect_url
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty()),
        status: RequestStatus::New,
        is_deleted: false,
        created_at: systembruker_storage::now_millis(),
        updated_at: 0,
        changed_by: String::new(),
    };
    if nothing {
        let mut dto = to_dto(&state, request);
        dto.status = RequestStatus::NoChangeNeeded;
        dto.confirm_url = String::new();
        return Ok((StatusCode::OK, axum::Json(dto)));
    }
    if let Some(existing) = state.store.change_request(id).await? {
        if existing.system_user_id != user.id {
            return Err(ApiError::conflict(format!(
                "correlation id {id} is used for another system user"
            )));
        }
        return Ok((StatusCode::OK, axum::Json(to_dto(&state, existing))));
    }
    let system = own_system(&state, &vendor, &user.system_id).await?;
    check_redirect_url(request.redirect_url.as_deref(), &system).map_err(auth_problem)?;
    check_rights_subset(&request.required_rights, &system).map_err(auth_problem)?;
    check_packages(
        &request.required_packages,
        &system,
        SystemUserType::Standard,
        state.catalogue,
    )
    .map_err(auth_problem)?;
    state
        .store
        .create_change_request(&request, &actor(&caller))
        .await?;
    request = state
        .store
        .change_request(id)
        .await?
        .ok_or_else(|| ApiError::internal("the change request was not stored"))?;
    Ok((StatusCode::CREATED, axum::Json(to_dto(&state, request))))
}

/// A live change request whose system user belongs to the vendor, else AUTH-00010.
async fn vendor_change(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<StoredChangeRequest> {
    let vendor = vendor_of(caller)?;
    let id = parse_id("id", id)?;
    let request = state
        .store
        .change_request(id)
        .await?
        .filter(|r| !r.is_deleted)
        .ok_or_else(|| problem(10, format!("change request {id} does not exist")))?;
    own_system(state, &vendor, &request.system_id)
        .await
        .map_err(|_| problem(10, format!("change request {id} does not exist")))?;
    Ok(request)
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/changerequest/vendor/{id}", tag = "systemuser-changerequest",
    params(("id" = String, Path)), security(("bearer" = ["altinn:authentication/systemuser.request.read"])),
    responses((status = 200, body = ChangeRequestDto), (status = 404, body = crate::problem::ProblemBody)))]
async fn vendor_get(
    State(state): State<AppState>,
    caller: Scoped<SystemUserRequestRead>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ChangeRequestDto>> {
    Ok(axum::Json(to_dto(
        &state,
        vendor_change(&state, &caller, &id).await?,
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
    let request = vendor_change(&state, &caller, &id).await?;
    state
        .store
        .delete_change_request(request.id, &actor(&caller))
        .await?;
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
    let vendor = vendor_of(&caller)?;
    own_system(&state, &vendor, &system_id).await?;
    let key = SystemUserKey {
        system_id,
        org,
        external_ref,
    };
    let request = state
        .store
        .change_request_by_key(&key)
        .await?
        .ok_or_else(|| problem(10, "there is no live change request for this key"))?;
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
    let vendor = vendor_of(&caller)?;
    own_system(&state, &vendor, &system_id).await?;
    let after = page_token(query.token.as_deref())?;
    let rows = state
        .store
        .change_requests_by_system(&system_id, after, super::PAGE_SIZE + 1)
        .await?;
    let path = format!("systemuser/changerequest/vendor/bysystem/{system_id}");
    Ok(axum::Json(page(
        &state,
        &path,
        rows,
        |r| r.id,
        |r| to_dto(&state, r),
    )))
}

pub(crate) async fn live_change(state: &AppState, id: &str) -> ApiResult<StoredChangeRequest> {
    let id = parse_id("id", id)?;
    state
        .store
        .change_request(id)
        .await?
        .filter(|r| !r.is_deleted)
        .ok_or_else(|| problem(10, format!("change request {id} does not exist")))
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
    let (request, _) = portal_change(&state, &caller, &id).await?;
    Ok(axum::Json(to_dto(&state, request)))
}

/// A change request and its system user, for a user related to the system user's owner.
pub(crate) async fn portal_change(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<(StoredChangeRequest, StoredSystemUser)> {
    let request = live_change(state, id).await?;
    let user = state
        .store
        .system_user(request.system_user_id)
        .await?
        .ok_or_else(|| problem(15, "the change request's system user does not exist"))?;
    // Change requests cannot be escalated (unlike creation requests), so only those
    // who may read the organisation's system access see them.
    require(state, caller, user.owner_party_uuid, Need::ReadAccess).await?;
    Ok((request, user))
}

/// The change request in `{party}`'s name: the party must own the system user.
async fn change_for_party(
    state: &AppState,
    party: &systembruker_domain::party::Party,
    id: &str,
) -> ApiResult<StoredChangeRequest> {
    let request = live_change(state, id).await?;
    if request.party_org != org_of(party) {
        return Err(problem(
            41,
            format!(
                "change request {} is not for party {}",
                request.id, party.id
            ),
        ));
    }
    Ok(request)
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
    require(&state, &caller, party.uuid, Need::ReadAccess).await?;
    Ok(axum::Json(to_dto(
        &state,
        change_for_party(&state, &party, &id).await?,
    )))
}

fn codes(state: &AppState, packages: &[AccessPackageRef]) -> Vec<String> {
    packages
        .iter()
        .filter_map(|p| state.catalogue.package(&p.urn).ok())
        .map(|p| p.code.clone())
        .collect()
}

fn resources(rights: &[Right]) -> Vec<String> {
    rights
        .iter()
        .filter_map(|r| r.resource_id().map(str::to_string))
        .collect()
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
    answer_change_approve(&state, &caller, &party, &id).await?;
    Ok(axum::Json(true))
}

/// What approving the change request would add and remove now (only additions need
/// the approver's delegation check).
pub(crate) async fn change_plan(
    state: &AppState,
    request: &StoredChangeRequest,
) -> ApiResult<systembruker_domain::systemuser::ChangeDiff> {
    let held = state
        .store
        .system_user_grants(request.system_user_id)
        .await?;
    let held_rights: Vec<String> = held.rights.iter().map(|r| r.resource_id.clone()).collect();
    let (required_packages, unwanted_packages) = (
        codes(state, &request.required_packages),
        codes(state, &request.unwanted_packages),
    );
    let (required_rights, unwanted_rights) = (
        resources(&request.required_rights),
        resources(&request.unwanted_rights),
    );
    Ok(change_diff(&ChangeInput {
        held_packages: &held.packages,
        held_rights: &held_rights,
        required_packages: &required_packages,
        unwanted_packages: &unwanted_packages,
        required_rights: &required_rights,
        unwanted_rights: &unwanted_rights,
    }))
}

/// Approves a change request in the party's name; the caller must be access manager.
pub(crate) async fn answer_change_approve(
    state: &AppState,
    caller: &Caller,
    party: &str,
    id: &str,
) -> ApiResult<()> {
    let party = resolve_org_party(state, party).await?;
    let standing = access_manager(state, caller, party.uuid).await?;
    let request = change_for_party(state, &party, id).await?;
    if request.status != RequestStatus::New {
        return Err(problem(
            61,
            format!(
                "the change request is {}; send a new one with a new correlation id",
                request.status.as_str()
            ),
        ));
    }
    let diff = change_plan(state, &request).await?;
    // Only what is added needs the approver's delegation check.
    let add = delegation_check(state, &standing, &diff.add_rights, &diff.add_packages).await?;
    let changes = GrantChanges {
        add,
        remove_packages: diff.remove_packages,
        remove_resources: diff.remove_rights,
    };
    if !state
        .store
        .approve_change_request(request.id, &changes, &actor(caller))
        .await?
    {
        return Err(problem(
            61,
            "the change request was answered by someone else",
        ));
    }
    Ok(())
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
    answer_change_reject(&state, &caller, &party, &id).await?;
    Ok(axum::Json(true))
}

/// Rejects a change request in the party's name; the caller must be access manager.
pub(crate) async fn answer_change_reject(
    state: &AppState,
    caller: &Caller,
    party: &str,
    id: &str,
) -> ApiResult<()> {
    let party = resolve_org_party(state, party).await?;
    access_manager(state, caller, party.uuid).await?;
    let request = change_for_party(state, &party, id).await?;
    if !state
        .store
        .close_change_request(request.id, RequestStatus::Rejected, &actor(caller))
        .await?
    {
        return Err(problem(
            61,
            format!("the change request is {}, not New", request.status.as_str()),
        ));
    }
    Ok(())
}
