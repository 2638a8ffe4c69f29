//! The end user's side of a request (docs/rules.md#approval): view, approve, reject,
//! escalate, and the access managers' pending list. Approval runs the delegation check
//! for every requested right and package (all or nothing) and then creates the system
//! user in one transaction; of two simultaneous approvals one wins, the other gets 409.

use axum::extract::{Path, State};
use systembruker_domain::party::Party;
use systembruker_domain::systemuser::{
    RequestStatus, SystemUserType, check_packages, check_rights_subset,
};
use systembruker_storage::{
    Approval, Grants, NewSystemUser, StoredRequest, SystemUserKey, now_millis,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::access::{Need, access_manager, delegation_check, end_user, require, standing};
use super::requests::{RequestDto, live_request, to_dto};
use super::systemregister::live_system;
use super::{actor, auth_problem, org_of, parse_id, problem, resolve_org_party};
use crate::AppState;
use crate::auth::{Caller, EndUserScope, Scoped};
use crate::problem::{ApiError, ApiResult};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(view_request))
        .routes(routes!(view_agent_request))
        .routes(routes!(party_request))
        .routes(routes!(approve))
        .routes(routes!(approve_agent))
        .routes(routes!(reject))
        .routes(routes!(reject_agent))
        .routes(routes!(escalate))
        .routes(routes!(escalate_agent))
        .routes(routes!(pending))
        .routes(routes!(pending_agent))
}

/// The portal view: the request plus who it is for and what the user may do.
pub(crate) async fn portal_view(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    kind: SystemUserType,
) -> ApiResult<RequestDto> {
    let request = live_request(state, id, kind).await?;
    let party = party_of_request(state, &request).await?;
    let user = end_user(state, caller).await?;
    let standing = standing(state, user, party.uuid).await?;
    let may_escalate_only = if standing.access_manager {
        false
    } else if standing.related {
        true
    } else {
        return Err(problem(
            66,
            "the logged-in user has no access to the organisation the request is for",
        ));
    };
    let mut dto = to_dto(state, request);
    dto.party_id = Some(party.id);
    dto.party_uuid = Some(party.uuid);
    dto.user_may_escalate_but_not_approve = Some(may_escalate_only);
    dto.system_user_type = Some(kind);
    Ok(dto)
}

async fn party_of_request(state: &AppState, request: &StoredRequest) -> ApiResult<Party> {
    let org = systembruker_domain::OrgNumber::parse(&request.party_org)
        .map_err(|e| ApiError::internal(format!("stored request has a bad org number: {e}")))?;
    state.store.organization(&org).await?.ok_or_else(|| {
        problem(
            49,
            format!("organisation {org} is no longer in the register"),
        )
    })
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/{requestId}", tag = "systemuser-request",
    params(("requestId" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = RequestDto), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn view_request(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RequestDto>> {
    let id = parse_id("requestId", &id)?;
    Ok(axum::Json(
        portal_view(&state, &caller, id, SystemUserType::Standard).await?,
    ))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/agent/{requestId}", tag = "systemuser-request",
    params(("requestId" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = RequestDto), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn view_agent_request(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RequestDto>> {
    let id = parse_id("requestId", &id)?;
    Ok(axum::Json(
        portal_view(&state, &caller, id, SystemUserType::Agent).await?,
    ))
}

/// The request in `{party}`'s name: the party must be the request's organisation
/// (AUTH-00041 / 00042 otherwise).
async fn request_for_party(
    state: &AppState,
    party: &Party,
    id: &str,
    kind: SystemUserType,
) -> ApiResult<StoredRequest> {
    let request = live_request(state, parse_id("requestId", id)?, kind).await?;
    if request.party_org != org_of(party) {
        let number = match kind {
            SystemUserType::Standard => 41,
            SystemUserType::Agent => 42,
        };
        return Err(problem(
            number,
            format!("request {} is not for party {}", request.id, party.id),
        ));
    }
    Ok(request)
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/{party}/{requestId}", tag = "systemuser-request",
    params(("party" = String, Path, description = "Party id (or party uuid)"), ("requestId" = String, Path)),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = RequestDto), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn party_request(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<RequestDto>> {
    let party = resolve_org_party(&state, &party).await?;
    require(&state, &caller, party.uuid, Need::ReadAccess).await?;
    let request = request_for_party(&state, &party, &id, SystemUserType::Standard).await?;
    Ok(axum::Json(to_dto(&state, request)))
}

/// A request that is not `New` any more: 409 AUTH-00013 naming its status.
fn not_new(status: RequestStatus) -> ApiError {
    problem(
        13,
        format!(
            "the request is {}, not New, so it can no longer be answered",
            status.as_str()
        ),
    )
}

pub(crate) async fn answer_approve(
    state: &AppState,
    caller: &Caller,
    party: &str,
    id: &str,
    kind: SystemUserType,
) -> ApiResult<axum::Json<bool>> {
    let party = resolve_org_party(state, party).await?;
    let standing = access_manager(state, caller, party.uuid).await?;
    let request = request_for_party(state, &party, id, kind).await?;
    if request.status != RequestStatus::New {
        return Err(not_new(request.status));
    }
    let system = live_system(state, &request.system_id).await?.system;
    check_rights_subset(&request.rights, &system).map_err(auth_problem)?;
    let codes = check_packages(&request.access_packages, &system, kind, state.catalogue)
        .map_err(auth_problem)?;
    let key = SystemUserKey {
        system_id: request.system_id.clone(),
        org: request.party_org.clone(),
        external_ref: request.external_ref.clone(),
    };
    if let Some(existing) = state.store.system_user_by_key(&key).await? {
        return Err(key_taken(state, request.id, existing.id == request.id, kind).await);
    }
    let grants = match kind {
        SystemUserType::Standard => {
            let resources: Vec<String> = request
                .rights
                .iter()
                .filter_map(|r| r.resource_id().map(str::to_string))
                .collect();
            delegation_check(state, &standing, &resources, &codes).await?
        }
        // Agent users get their packages through client delegations, later.
        SystemUserType::Agent => Grants::default(),
    };
    let user = NewSystemUser {
        id: request.id,
        key,
        owner_party_uuid: party.uuid,
        integration_title: request.integration_title.clone(),
        user_type: kind,
        access_packages: if kind == SystemUserType::Agent {
            codes
        } else {
            Vec::new()
        },
    };
    let cutoff = state.config.request_cutoff_millis(now_millis());
    match state
        .store
        .approve_request(request.id, &user, &grants, cutoff, &actor(caller))
        .await?
    {
        Approval::Approved(_) => Ok(axum::Json(true)),
        Approval::KeyTaken => Err(key_taken(state, request.id, false, kind).await),
        Approval::NotNew => {
            let now = live_request(state, request.id, kind).await?;
            Err(not_new(now.status))
        }
    }
}

/// The key already has a system user. When this very request created it (a concurrent
/// approval won the race), the answer is the request's new status (409), not AUTH-00004.
async fn key_taken(
    state: &AppState,
    request_id: Uuid,
    from_this_request: bool,
    kind: SystemUserType,
) -> ApiError {
    if from_this_request {
        return match live_request(state, request_id, kind).await {
            Ok(now) if now.status != RequestStatus::New => not_new(now.status),
            Ok(_) => not_new(RequestStatus::Accepted),
            Err(e) => e,
        };
    }
    problem(
        4,
        "a system user exists for this system, organisation and external reference",
    )
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/request/{party}/{requestId}/approve", tag = "systemuser-request",
    params(("party" = String, Path, description = "Party id (or party uuid)"), ("requestId" = String, Path)),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = bool), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody),
        (status = 409, body = crate::problem::ProblemBody)))]
async fn approve(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<bool>> {
    answer_approve(&state, &caller, &party, &id, SystemUserType::Standard).await
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/request/agent/{party}/{requestId}/approve", tag = "systemuser-request",
    params(("party" = String, Path), ("requestId" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = bool), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody), (status = 409, body = crate::problem::ProblemBody)))]
async fn approve_agent(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<bool>> {
    answer_approve(&state, &caller, &party, &id, SystemUserType::Agent).await
}

pub(crate) async fn answer_reject(
    state: &AppState,
    caller: &Caller,
    party: &str,
    id: &str,
    kind: SystemUserType,
) -> ApiResult<axum::Json<bool>> {
    let party = resolve_org_party(state, party).await?;
    access_manager(state, caller, party.uuid).await?;
    let request = request_for_party(state, &party, id, kind).await?;
    if request.status != RequestStatus::New {
        return Err(not_new(request.status));
    }
    if !state
        .store
        .close_request(request.id, RequestStatus::Rejected, &actor(caller))
        .await?
    {
        let now = live_request(state, request.id, kind).await?;
        return Err(not_new(now.status));
    }
    Ok(axum::Json(true))
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/request/{party}/{requestId}/reject", tag = "systemuser-request",
    params(("party" = String, Path), ("requestId" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = bool), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody), (status = 409, body = crate::problem::ProblemBody)))]
async fn reject(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<bool>> {
    answer_reject(&state, &caller, &party, &id, SystemUserType::Standard).await
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/request/agent/{party}/{requestId}/reject", tag = "systemuser-request",
    params(("party" = String, Path), ("requestId" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = bool), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody), (status = 409, body = crate::problem::ProblemBody)))]
async fn reject_agent(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<bool>> {
    answer_reject(&state, &caller, &party, &id, SystemUserType::Agent).await
}

/// A user related to the party may pass the request to its access managers: `true`
/// when escalated, `false` when the user has no relation to the party (as the reference).
pub(crate) async fn answer_escalate(
    state: &AppState,
    caller: &Caller,
    party: &str,
    id: &str,
    kind: SystemUserType,
) -> ApiResult<axum::Json<bool>> {
    let party = resolve_org_party(state, party).await?;
    let user = end_user(state, caller).await?;
    let request = request_for_party(state, &party, id, kind).await?;
    if !standing(state, user, party.uuid).await?.related {
        return Ok(axum::Json(false));
    }
    if request.status != RequestStatus::New {
        return Err(not_new(request.status));
    }
    Ok(axum::Json(
        state
            .store
            .escalate_request(request.id, &actor(caller))
            .await?,
    ))
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/request/{party}/{requestId}/escalate", tag = "systemuser-request",
    params(("party" = String, Path), ("requestId" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = bool), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody), (status = 409, body = crate::problem::ProblemBody)))]
async fn escalate(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<bool>> {
    answer_escalate(&state, &caller, &party, &id, SystemUserType::Standard).await
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/request/agent/{party}/{requestId}/escalate", tag = "systemuser-request",
    params(("party" = String, Path), ("requestId" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = bool), (status = 404, body = crate::problem::ProblemBody)))]
async fn escalate_agent(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<bool>> {
    answer_escalate(&state, &caller, &party, &id, SystemUserType::Agent).await
}

/// Escalated `New` requests for the organisation, for its access managers (the reference's
/// standard list ignored `escalated`; the portal shows escalated requests only).
pub(crate) async fn pending_list(
    state: &AppState,
    caller: &Caller,
    party: &str,
    org: &str,
    kind: SystemUserType,
) -> ApiResult<axum::Json<Vec<RequestDto>>> {
    let party = resolve_org_party(state, party).await?;
    access_manager(state, caller, party.uuid).await?;
    if org_of(&party) != org.trim() {
        return Err(problem(
            41,
            format!("organisation {org} is not party {}", party.id),
        ));
    }
    let rows = state.store.pending_requests(org.trim(), kind).await?;
    let mut out = Vec::new();
    for request in rows {
        if super::requests::is_timed_out(state, &request) {
            continue;
        }
        let mut dto = to_dto(state, request);
        dto.party_id = Some(party.id);
        dto.party_uuid = Some(party.uuid);
        dto.system_user_type = Some(kind);
        out.push(dto);
    }
    Ok(axum::Json(out))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/{party}/{requestId}/pending", tag = "systemuser-request",
    params(("party" = String, Path, description = "Party id (or party uuid)"),
        ("requestId" = String, Path, description = "The party's organisation number (named as the sibling routes' segment)")),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<RequestDto>), (status = 403, body = crate::problem::ProblemBody)))]
async fn pending(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, org)): Path<(String, String)>,
) -> ApiResult<axum::Json<Vec<RequestDto>>> {
    pending_list(&state, &caller, &party, &org, SystemUserType::Standard).await
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/agent/{party}/{requestId}/pending", tag = "systemuser-request",
    params(("party" = String, Path), ("requestId" = String, Path, description = "The party's organisation number")),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<RequestDto>), (status = 403, body = crate::problem::ProblemBody)))]
async fn pending_agent(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, org)): Path<(String, String)>,
) -> ApiResult<axum::Json<Vec<RequestDto>>> {
    pending_list(&state, &caller, &party, &org, SystemUserType::Agent).await
}
