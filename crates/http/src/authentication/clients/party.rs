//! The end-user routes under `systemuser/agent/{party}/…` (portal style: the party is
//! the firm), and the access manager adding or removing the firm itself.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use systembruker_app::access::Action;
use systembruker_app::clients;
use systembruker_domain::party::Party;
use systembruker_storage::{DelegatedClient, StoredSystemUser};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::*;
use crate::AppState;
use crate::auth::{Caller, EndUserScope, Scoped};
use crate::problem::{ApiError, ApiResult, ValidationError};
use systembruker_app::clients::{
    add_client, agent_clients, available_clients, clients_providing, owned_agent, remove_client,
};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(party_clients))
        .routes(routes!(available_for_agent))
        .routes(routes!(agent_delegations))
        .routes(routes!(add_for_party, delete_agent))
        .routes(routes!(remove_for_party))
        .routes(routes!(self_status, add_self, remove_self))
}

/// `?packages=` on the party's client list: URNs or codes, comma-separated.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PackagesQuery {
    #[serde(default)]
    pub packages: Option<String>,
}

/// A client with the relations it has given the firm.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartyClientDto {
    #[serde(flatten)]
    pub client: ClientDto,
    pub relations: Vec<systembruker_domain::clients::ClientRelation>,
    /// The delegable packages the client provides, as catalogue codes.
    pub packages: Vec<String>,
}

/// The firm (`{party}`), for a user who is its client administrator.
async fn firm_for_client_admin(
    state: &AppState,
    caller: &Caller,
    party: &str,
    action: Action,
) -> ApiResult<Party> {
    Ok(clients::firm_for_client_admin(&state.app, caller, party_key(party)?, action).await?)
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/agent/{party}/clients", tag = "systemuser-clients",
    params(("party" = String, Path, description = "The firm: party id or uuid"), PackagesQuery),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<PartyClientDto>), (status = 403, body = crate::problem::ProblemBody)))]
async fn party_clients(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path(party): Path<String>,
    Query(query): Query<PackagesQuery>,
) -> ApiResult<axum::Json<Vec<PartyClientDto>>> {
    let firm = firm_for_client_admin(&state, &caller, &party, Action::Read).await?;
    let wanted: Vec<String> = query
        .packages
        .iter()
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            state
                .catalogue
                .package(p)
                .map(|package| package.code.clone())
                .map_err(|e| ApiError::invalid_field("STD-00010", "packages", e.to_string()))
        })
        .collect::<ApiResult<_>>()?;
    let clients = clients_providing(&state.app, firm.uuid, &wanted).await?;
    let out = clients
        .into_iter()
        .map(|(candidate, packages)| PartyClientDto {
            client: ClientDto::from_candidate(&candidate),
            relations: candidate.relations,
            packages,
        })
        .collect();
    Ok(axum::Json(out))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/clients/available", tag = "systemuser-clients",
    params(("party" = String, Path), ("systemUserId" = String, Path)),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<ClientDto>), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn available_for_agent(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<Vec<ClientDto>>> {
    let firm = firm_for_client_admin(&state, &caller, &party, Action::Read).await?;
    let agent = owned_agent(&state.app, &firm, parse_id("systemUserId", &id)?).await?;
    let clients = available_clients(&state.app, &agent).await?;
    Ok(axum::Json(
        clients.iter().map(ClientDto::from_candidate).collect(),
    ))
}

/// A client delegated to an agent system user.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentDelegationDto {
    pub agent_system_user_id: Uuid,
    #[serde(flatten)]
    pub client: ClientDto,
    pub access_packages: Vec<String>,
    pub created: String,
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/delegations", tag = "systemuser-clients",
    params(("party" = String, Path), ("systemUserId" = String, Path)),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<AgentDelegationDto>), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn agent_delegations(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<Vec<AgentDelegationDto>>> {
    let firm = firm_for_client_admin(&state, &caller, &party, Action::Read).await?;
    let agent = owned_agent(&state.app, &firm, parse_id("systemUserId", &id)?).await?;
    let clients = agent_clients(&state.app, agent.id).await?;
    Ok(axum::Json(
        clients
            .iter()
            .map(|c| delegation_dto(agent.id, c))
            .collect(),
    ))
}

/// `?client=` (party uuid). The reference's `provider` parameter is accepted and ignored:
/// the provider is always the firm in the path.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ClientQuery {
    #[serde(default)]
    pub client: Option<String>,
}

/// The `client` parameter: AUTH.VLD-00016 when missing or not a uuid.
pub(super) fn client_param(value: Option<&str>) -> ApiResult<Uuid> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .and_then(|v| Uuid::parse_str(v).ok())
        .ok_or_else(|| {
            ApiError::validation(vec![ValidationError {
                code: "AUTH.VLD-00016".into(),
                title: "The client parameter is missing or is not a party uuid".into(),
                paths: vec!["?client".into()],
                detail: None,
            }])
        })
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/agent/{party}/{systemUserId}", tag = "systemuser-clients",
    params(("party" = String, Path), ("systemUserId" = String, Path), ClientQuery),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<AgentDelegationDto>), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn add_for_party(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
    Query(query): Query<ClientQuery>,
) -> ApiResult<axum::Json<Vec<AgentDelegationDto>>> {
    let firm = firm_for_client_admin(&state, &caller, &party, Action::Write).await?;
    let agent = owned_agent(&state.app, &firm, parse_id("systemUserId", &id)?).await?;
    let client = client_param(query.client.as_deref())?;
    add_client(&state.app, &caller, &agent, client).await?;
    let delegated = agent_clients(&state.app, agent.id).await?;
    Ok(axum::Json(
        delegated
            .iter()
            .filter(|c| c.client == client)
            .map(|c| delegation_dto(agent.id, c))
            .collect(),
    ))
}

fn delegation_dto(agent: Uuid, client: &DelegatedClient) -> AgentDelegationDto {
    AgentDelegationDto {
        agent_system_user_id: agent,
        client: ClientDto::from_delegated(client),
        access_packages: client.packages.clone(),
        created: crate::authentication::timestamp(client.created_at),
    }
}

#[utoipa::path(delete, path = "/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/client", tag = "systemuser-clients",
    params(("party" = String, Path), ("systemUserId" = String, Path), ClientQuery),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = bool), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn remove_for_party(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
    Query(query): Query<ClientQuery>,
) -> ApiResult<axum::Json<bool>> {
    let firm = firm_for_client_admin(&state, &caller, &party, Action::Write).await?;
    let agent = owned_agent(&state.app, &firm, parse_id("systemUserId", &id)?).await?;
    let client = client_param(query.client.as_deref())?;
    remove_client(&state.app, &caller, &agent, client).await?;
    Ok(axum::Json(true))
}

#[utoipa::path(delete, path = "/authentication/api/v1/systemuser/agent/{party}/{systemUserId}", tag = "systemuser-clients",
    params(("party" = String, Path), ("systemUserId" = String, Path)),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 202, body = i32), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn delete_agent(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, axum::Json<i32>)> {
    let firm = resolve_org_party(&state, &party).await?;
    clients::delete_agent(&state.app, &caller, &firm, parse_id("systemUserId", &id)?).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(1)))
}

/// Whether the firm itself is a "client" of its agent, and whether it may be.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SelfDelegationDto {
    pub agent_system_user_id: Uuid,
    pub party_uuid: Uuid,
    /// The firm is added to its own agent.
    pub delegated: bool,
    /// Every package of the agent is assignable, so the firm could add itself.
    pub possible: bool,
}

async fn self_dto(state: &AppState, agent: &StoredSystemUser) -> ApiResult<SelfDelegationDto> {
    let status = clients::self_status(&state.app, agent).await?;
    Ok(SelfDelegationDto {
        agent_system_user_id: agent.id,
        party_uuid: agent.owner_party_uuid,
        delegated: status.delegated,
        possible: status.possible,
    })
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/self", tag = "systemuser-clients",
    params(("party" = String, Path), ("systemUserId" = String, Path)),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = SelfDelegationDto), (status = 403, body = crate::problem::ProblemBody)))]
async fn self_status(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<SelfDelegationDto>> {
    let firm = firm_for_client_admin(&state, &caller, &party, Action::Read).await?;
    let agent = owned_agent(&state.app, &firm, parse_id("systemUserId", &id)?).await?;
    Ok(axum::Json(self_dto(&state, &agent).await?))
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/self", tag = "systemuser-clients",
    params(("party" = String, Path), ("systemUserId" = String, Path)),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = SelfDelegationDto), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody)))]
async fn add_self(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<SelfDelegationDto>> {
    let firm = resolve_org_party(&state, &party).await?;
    let id = parse_id("systemUserId", &id)?;
    let agent = clients::add_firm_itself(&state.app, &caller, &firm, id).await?;
    Ok(axum::Json(self_dto(&state, &agent).await?))
}

#[utoipa::path(delete, path = "/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/self", tag = "systemuser-clients",
    params(("party" = String, Path), ("systemUserId" = String, Path)),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = SelfDelegationDto), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody)))]
async fn remove_self(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<SelfDelegationDto>> {
    let firm = resolve_org_party(&state, &party).await?;
    let id = parse_id("systemUserId", &id)?;
    let agent = clients::remove_firm_itself(&state.app, &caller, &firm, id).await?;
    Ok(axum::Json(self_dto(&state, &agent).await?))
}
