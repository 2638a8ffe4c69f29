//! The vendor API under `enduser/systemuser/…`: the vendor's system acts for a logged-in
//! client administrator, and only ever reaches the agents of its own systems.

use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use systembruker_app::access::Action;
use systembruker_app::clients::{self, AgentRefusal};
use systembruker_domain::system::AccessPackageRef;
use systembruker_storage::StoredSystemUser;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::party::client_param;
use super::*;
use crate::AppState;
use crate::auth::{Caller, ClientDelegationRead, ClientDelegationWrite, Scoped};
use crate::problem::{ApiError, ApiResult, ValidationError};
use systembruker_app::clients::{add_client, agent_clients, available_clients, remove_client};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(vendor_agents))
        .routes(routes!(vendor_available))
        .routes(routes!(vendor_delegated, vendor_add, vendor_remove))
}

/// AUTH.VLD-00014 (400): no `agent` parameter, or no such agent for this vendor. Another
/// vendor's agent gets the same answer, so its existence is not revealed.
fn unknown_agent(detail: &str) -> ApiError {
    ApiError::validation(vec![ValidationError {
        code: "AUTH.VLD-00014".into(),
        title: "The agent parameter is missing or names no system user".into(),
        paths: vec!["?agent".into()],
        detail: Some(detail.into()),
    }])
}

/// The agent named by `?agent=`, checked against the calling vendor and the caller's
/// client-administrator standing in the agent's owner.
async fn vendor_agent(
    state: &AppState,
    caller: &Caller,
    agent: Option<&str>,
    action: Action,
) -> ApiResult<StoredSystemUser> {
    let id = agent
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| unknown_agent("add ?agent=<system user id>"))?;
    let id = Uuid::parse_str(id).map_err(|_| unknown_agent("agent is not a uuid"))?;
    match clients::vendor_agent(&state.app, caller, id, action).await? {
        Ok(user) => Ok(user),
        Err(AgentRefusal::Unknown) => Err(unknown_agent("no system user with this id")),
        Err(AgentRefusal::NotAnAgent) => Err(ApiError::validation(vec![ValidationError {
            code: "AUTH.VLD-00015".into(),
            title: "The system user is not an agent system user".into(),
            paths: vec!["?agent".into()],
            detail: None,
        }])),
    }
}

/// `?party=` on the vendor's agent list: the firm's organisation number.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AgentsQuery {
    #[serde(default)]
    pub party: Option<String>,
}

/// `?agent=&client=` on the vendor API.
#[derive(Debug, Deserialize, IntoParams)]
pub struct VendorClientQuery {
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub client: Option<String>,
}

#[utoipa::path(get, path = "/authentication/api/v1/enduser/systemuser/agents", tag = "systemuser-clients",
    params(AgentsQuery), security(("bearer" = ["altinn:clientdelegations.read"])),
    responses((status = 200, body = Vec<SystemUserDto>), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody)))]
async fn vendor_agents(
    State(state): State<AppState>,
    caller: Scoped<ClientDelegationRead>,
    Query(query): Query<AgentsQuery>,
) -> ApiResult<axum::Json<Vec<SystemUserDto>>> {
    let org = query
        .party
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            ApiError::invalid_field("STD-00010", "party", "add ?party=<organisation number>")
        })?;
    let org = systembruker_domain::OrgNumber::parse(org)
        .map_err(|e| ApiError::invalid_id("party", &e))?;
    let agents = clients::vendor_agents(&state.app, &caller, &org)
        .await?
        .into_iter()
        .map(|user| {
            let packages = user.access_packages.clone();
            let mut dto = SystemUserDto::external(user);
            dto.access_packages = Some(packages.iter().map(|c| AccessPackageRef::new(c)).collect());
            dto
        })
        .collect();
    Ok(axum::Json(agents))
}

/// The vendor API's client lists: the agent and its clients.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientListDto {
    pub system_user_information: SystemUserInformation,
    pub data: Vec<ClientDto>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemUserInformation {
    pub system_user_id: Uuid,
    pub system_user_owner_org: String,
}

fn client_list(
    agent: &StoredSystemUser,
    data: impl Iterator<Item = ClientDto>,
) -> axum::Json<ClientListDto> {
    axum::Json(ClientListDto {
        system_user_information: SystemUserInformation {
            system_user_id: agent.id,
            system_user_owner_org: agent.owner_org.clone(),
        },
        data: data.collect(),
    })
}

#[utoipa::path(get, path = "/authentication/api/v1/enduser/systemuser/clients/available", tag = "systemuser-clients",
    params(VendorClientQuery), security(("bearer" = ["altinn:clientdelegations.read"])),
    responses((status = 200, body = ClientListDto), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody)))]
async fn vendor_available(
    State(state): State<AppState>,
    caller: Scoped<ClientDelegationRead>,
    Query(query): Query<VendorClientQuery>,
) -> ApiResult<axum::Json<ClientListDto>> {
    let agent = vendor_agent(&state, &caller, query.agent.as_deref(), Action::Read).await?;
    let data = available_clients(&state.app, &agent).await?;
    Ok(client_list(
        &agent,
        data.iter().map(ClientDto::from_candidate),
    ))
}

#[utoipa::path(get, path = "/authentication/api/v1/enduser/systemuser/clients", tag = "systemuser-clients",
    params(VendorClientQuery), security(("bearer" = ["altinn:clientdelegations.read"])),
    responses((status = 200, body = ClientListDto), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody)))]
async fn vendor_delegated(
    State(state): State<AppState>,
    caller: Scoped<ClientDelegationRead>,
    Query(query): Query<VendorClientQuery>,
) -> ApiResult<axum::Json<ClientListDto>> {
    let agent = vendor_agent(&state, &caller, query.agent.as_deref(), Action::Read).await?;
    let data = agent_clients(&state.app, agent.id).await?;
    Ok(client_list(
        &agent,
        data.iter().map(ClientDto::from_delegated),
    ))
}

/// What the vendor API answers on add and remove.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentClientDto {
    pub agent: Uuid,
    pub client: Uuid,
}

/// What the vendor does with a client of the agent.
enum Change {
    Add,
    Remove,
}

/// Adds or removes the client `?client=` of the agent `?agent=`.
async fn change_client(
    state: &AppState,
    caller: &Caller,
    query: &VendorClientQuery,
    change: Change,
) -> ApiResult<axum::Json<AgentClientDto>> {
    let agent = vendor_agent(state, caller, query.agent.as_deref(), Action::Write).await?;
    let client = client_param(query.client.as_deref())?;
    match change {
        Change::Add => add_client(&state.app, caller, &agent, client)
            .await
            .map(|_| ())?,
        Change::Remove => remove_client(&state.app, caller, &agent, client).await?,
    }
    Ok(axum::Json(AgentClientDto {
        agent: agent.id,
        client,
    }))
}

#[utoipa::path(post, path = "/authentication/api/v1/enduser/systemuser/clients", tag = "systemuser-clients",
    params(VendorClientQuery), security(("bearer" = ["altinn:clientdelegations.write"])),
    responses((status = 200, body = AgentClientDto), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody)))]
async fn vendor_add(
    State(state): State<AppState>,
    caller: Scoped<ClientDelegationWrite>,
    Query(query): Query<VendorClientQuery>,
) -> ApiResult<axum::Json<AgentClientDto>> {
    change_client(&state, &caller, &query, Change::Add).await
}

#[utoipa::path(delete, path = "/authentication/api/v1/enduser/systemuser/clients", tag = "systemuser-clients",
    params(VendorClientQuery), security(("bearer" = ["altinn:clientdelegations.write"])),
    responses((status = 200, body = AgentClientDto), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody)))]
async fn vendor_remove(
    State(state): State<AppState>,
    caller: Scoped<ClientDelegationWrite>,
    Query(query): Query<VendorClientQuery>,
) -> ApiResult<axum::Json<AgentClientDto>> {
    change_client(&state, &caller, &query, Change::Remove).await
}
