//! The end user's side of a request (docs/rules.md#approval), as HTTP routes over
//! `app::approval`: view, approve, reject, escalate, and the access managers' pending
//! list, for standard and agent requests alike.

use axum::extract::{Path, State};
use systembruker_app as app;
use systembruker_app::approval::RequestRef;
use systembruker_domain::systemuser::SystemUserType;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::requests::{RequestDto, to_dto};
use super::{parse_id, party_key};
use crate::AppState;
use crate::auth::{Caller, EndUserScope, Scoped};
use crate::problem::ApiResult;

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
async fn portal_view(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    kind: SystemUserType,
) -> ApiResult<RequestDto> {
    let view = app::approval::view(&state.app, caller, id, kind).await?;
    let mut dto = to_dto(state, view.request);
    dto.party_id = Some(view.party.id);
    dto.party_uuid = Some(view.party.uuid);
    dto.user_may_escalate_but_not_approve = Some(view.may_escalate_only);
    dto.system_user_type = Some(kind);
    Ok(dto)
}

/// What the end user does with a request, by route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Approve,
    Reject,
    Escalate,
}

/// Answers the request `id` of `party` (route segments): `true` when done; an escalation
/// by a user with no relation to the party answers `false`, as the reference.
async fn answer(
    state: &AppState,
    caller: &Caller,
    (party, id): (&str, &str),
    kind: SystemUserType,
    answer: Answer,
) -> ApiResult<axum::Json<bool>> {
    let target = RequestRef {
        party: party_key(party)?,
        id: parse_id("requestId", id)?,
        kind,
    };
    let app = &state.app;
    let done = match answer {
        Answer::Approve => app::approval::approve(app, caller, target)
            .await
            .map(|()| true)?,
        Answer::Reject => app::approval::reject(app, caller, target)
            .await
            .map(|()| true)?,
        Answer::Escalate => app::approval::escalate(app, caller, target).await?,
    };
    Ok(axum::Json(done))
}

/// Escalated `New` requests for the organisation, for its access managers.
async fn pending_list(
    state: &AppState,
    caller: &Caller,
    party: &str,
    org: &str,
    kind: SystemUserType,
) -> ApiResult<axum::Json<Vec<RequestDto>>> {
    let party = party_key(party)?;
    let (party, rows) = app::approval::pending(&state.app, caller, party, org, kind).await?;
    let dtos = rows
        .into_iter()
        .map(|request| {
            let mut dto = to_dto(state, request);
            dto.party_id = Some(party.id);
            dto.party_uuid = Some(party.uuid);
            dto.system_user_type = Some(kind);
            dto
        })
        .collect();
    Ok(axum::Json(dtos))
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
    let target = RequestRef {
        party: party_key(&party)?,
        id: parse_id("requestId", &id)?,
        kind: SystemUserType::Standard,
    };
    let request = app::approval::for_party(&state.app, &caller, target).await?;
    Ok(axum::Json(to_dto(&state, request)))
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
    answer(
        &state,
        &caller,
        (&party, &id),
        SystemUserType::Standard,
        Answer::Approve,
    )
    .await
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
    answer(
        &state,
        &caller,
        (&party, &id),
        SystemUserType::Agent,
        Answer::Approve,
    )
    .await
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
    answer(
        &state,
        &caller,
        (&party, &id),
        SystemUserType::Standard,
        Answer::Reject,
    )
    .await
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
    answer(
        &state,
        &caller,
        (&party, &id),
        SystemUserType::Agent,
        Answer::Reject,
    )
    .await
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
    answer(
        &state,
        &caller,
        (&party, &id),
        SystemUserType::Standard,
        Answer::Escalate,
    )
    .await
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/request/agent/{party}/{requestId}/escalate", tag = "systemuser-request",
    params(("party" = String, Path), ("requestId" = String, Path)), security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = bool), (status = 404, body = crate::problem::ProblemBody)))]
async fn escalate_agent(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<bool>> {
    answer(
        &state,
        &caller,
        (&party, &id),
        SystemUserType::Agent,
        Answer::Escalate,
    )
    .await
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
