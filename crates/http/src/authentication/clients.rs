//! Client delegation for agent system users (docs/rules.md#clients):
//! the firm's client administrator adds the firm's clients to its agent system user, and
//! the agent may then act for each client with the packages the client provides.
//!
//! Two ways in, one set of rules: the end-user routes under `systemuser/agent/{party}/…`
//! (portal style, the party is the firm) and the vendor API under `enduser/systemuser/…`,
//! which the vendor's system calls for a logged-in client administrator with an end-user
//! token carrying `altinn:clientdelegations.read`/`.write` and naming the vendor
//! (`consumer`, or a client id registered on the agent's system). A vendor only ever
//! reaches the agents of its own systems.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use systembruker_domain::RuleError;
use systembruker_domain::clients::{ClientRelation, ProvidedPackage, plan_client, plan_self};
use systembruker_domain::party::Party;
use systembruker_domain::systemuser::SystemUserType;
use systembruker_storage::{
    ClientCandidate, DelegatedClient, NewClientDelegation, StoredSystemUser,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::access::{Action, Need, access_manager, catalogue_mismatch, require};
use super::systemusers::SystemUserDto;
use super::{actor, org_of, parse_id, problem, resolve_org_party};
use crate::AppState;
use crate::auth::{Caller, ClientDelegationRead, ClientDelegationWrite, EndUserScope, Scoped};
use crate::problem::{ApiError, ApiResult, ValidationError};
use crate::state::ListCache;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(party_clients))
        .routes(routes!(available_for_agent))
        .routes(routes!(agent_delegations))
        .routes(routes!(add_for_party, delete_agent))
        .routes(routes!(remove_for_party))
        .routes(routes!(self_status, add_self, remove_self))
        .routes(routes!(vendor_agents))
        .routes(routes!(vendor_available))
        .routes(routes!(vendor_delegated, vendor_add, vendor_remove))
}

// ----- the rules, shared by both APIs and the portal -----

/// One client as the APIs show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientDto {
    /// The client's party uuid: what `client=` takes.
    pub client_id: Uuid,
    pub client_organization_number: String,
    pub client_organization_name: String,
}

impl ClientDto {
    fn from_candidate(candidate: &ClientCandidate) -> Self {
        Self {
            client_id: candidate.party,
            client_organization_number: candidate.org_number.clone(),
            client_organization_name: candidate.name.clone(),
        }
    }

    fn from_delegated(client: &DelegatedClient) -> Self {
        Self {
            client_id: client.client,
            client_organization_number: client.org_number.clone(),
            client_organization_name: client.name.clone(),
        }
    }
}

/// The agent system user `id` of `owner`, or the reference's errors: AUTH-00015 (404)
/// when there is no such live user of the party, AUTH-00034 when it is a standard user.
pub(crate) async fn owned_agent(
    state: &AppState,
    owner: &Party,
    id: Uuid,
) -> ApiResult<StoredSystemUser> {
    let user = state
        .store
        .system_user(id)
        .await?
        .filter(|u| !u.is_deleted && u.owner_party_uuid == owner.uuid)
        .ok_or_else(|| {
            problem(
                15,
                format!("system user {id} does not exist for this party"),
            )
        })?;
    if user.user_type != SystemUserType::Agent {
        return Err(problem(
            34,
            "this is a standard system user: clients can only be added to agent system users",
        ));
    }
    Ok(user)
}

/// The PDP must let the logged-in user read or change the firm's clients
/// (`altinn_client_administration`; 403 otherwise).
pub(crate) async fn client_administrator(
    state: &AppState,
    caller: &Caller,
    firm: Uuid,
    action: Action,
) -> ApiResult<()> {
    let need = match action {
        Action::Read => Need::ReadClients,
        Action::Write => Need::ManageClients,
    };
    require(state, caller, firm, need).await.map(|_| ())
}

/// A client's (organisation form, relations): clients of one shape provide the same.
type Shape<'c> = (Option<&'c str>, &'c [ClientRelation]);

fn shape_of(candidate: &ClientCandidate) -> Shape<'_> {
    (candidate.unit_type.as_deref(), &candidate.relations)
}

/// What each shape among `candidates` would delegate of the agent's packages (`None`:
/// it lacks one). Thousands of clients share a handful of shapes, so the catalogue is
/// asked once per shape, not once per client.
fn plans_by_shape<'c>(
    state: &AppState,
    agent: &StoredSystemUser,
    candidates: &'c [ClientCandidate],
) -> ApiResult<HashMap<Shape<'c>, Option<Vec<ProvidedPackage>>>> {
    let mut plans = HashMap::new();
    for candidate in candidates {
        if let std::collections::hash_map::Entry::Vacant(slot) = plans.entry(shape_of(candidate)) {
            let (unit_type, relations) = *slot.key();
            let plan = plan_client(
                state.catalogue,
                unit_type,
                relations,
                &agent.access_packages,
            )
            .map_err(catalogue_mismatch)?
            .ok();
            slot.insert(plan);
        }
    }
    Ok(plans)
}

/// The firm's clients that provide *every* package of the agent.
pub(crate) async fn available_clients(
    state: &AppState,
    agent: &StoredSystemUser,
) -> ApiResult<Vec<ClientCandidate>> {
    let candidates = firm_clients(state, agent.owner_party_uuid).await?;
    let plans = plans_by_shape(state, agent, &candidates)?;
    Ok(candidates
        .iter()
        .filter(|c| plans.get(&shape_of(c)).is_some_and(Option::is_some))
        .cloned()
        .collect())
}

/// The firm's clients that provide every package of the agent, each with what adding it
/// would delegate: the portal's "add all" plans thousands of clients from one list
/// instead of asking [`plan_for`] once per client. Same rules as [`available_clients`].
pub(crate) async fn available_plans(
    state: &AppState,
    agent: &StoredSystemUser,
) -> ApiResult<Vec<(ClientCandidate, NewClientDelegation)>> {
    let candidates = firm_clients(state, agent.owner_party_uuid).await?;
    let plans = plans_by_shape(state, agent, &candidates)?;
    Ok(candidates
        .iter()
        .filter_map(|candidate| {
            let packages = plans.get(&shape_of(candidate))?.as_ref()?;
            let plan = NewClientDelegation {
                client: candidate.party,
                packages: packages.clone(),
            };
            Some((candidate.clone(), plan))
        })
        .collect())
}

/// Whether the firm could add itself to the agent: every package is assignable.
pub(crate) fn self_possible(state: &AppState, agent: &StoredSystemUser) -> ApiResult<bool> {
    Ok(plan_self(state.catalogue, &agent.access_packages)
        .map_err(catalogue_mismatch)?
        .is_some())
}

/// `key`'s entry of `cache` while the facts counter stands still, else `load`ed anew.
/// The counter is read before loading, so an entry is never tagged newer than it is.
async fn versioned<T, Load>(
    state: &AppState,
    cache: &ListCache<T>,
    key: Uuid,
    load: Load,
) -> ApiResult<Arc<Vec<T>>>
where
    Load: std::future::Future<Output = systembruker_storage::StoreResult<Vec<T>>>,
{
    let version = state.store.authz_versions().await?.facts;
    if let Some(entry) = cache.get(&key, version) {
        return Ok(entry);
    }
    let entry = Arc::new(load.await?);
    cache.put(key, version, entry.clone());
    Ok(entry)
}

/// Every client of `firm` (cached; every change of roles, delegations or party names
/// moves the facts counter).
pub(crate) async fn firm_clients(
    state: &AppState,
    firm: Uuid,
) -> ApiResult<Arc<Vec<ClientCandidate>>> {
    versioned(
        state,
        &state.client_lists,
        firm,
        state.store.clients_of(firm),
    )
    .await
}

/// The clients delegated to the agent (cached; every change of `client_delegations`
/// moves the facts counter).
pub(crate) async fn agent_clients(
    state: &AppState,
    agent: Uuid,
) -> ApiResult<Arc<Vec<DelegatedClient>>> {
    versioned(
        state,
        &state.delegated_lists,
        agent,
        state.store.delegated_clients(agent),
    )
    .await
}

/// What adding `client` to the agent would delegate: AUTH-00079 when the organisation is
/// not a client of the firm, AUTH-00080 (naming the packages) when it lacks one.
pub(crate) async fn plan_for(
    state: &AppState,
    agent: &StoredSystemUser,
    client: Uuid,
) -> ApiResult<NewClientDelegation> {
    let candidate = state
        .store
        .client_of(agent.owner_party_uuid, client)
        .await?
        .ok_or_else(|| {
            problem(
                79,
                format!(
                    "{client} is not a client of the organisation: it has given it no \
                     accountant, auditor or business manager role and no access package"
                ),
            )
        })?;
    let plan = plan_client(
        state.catalogue,
        candidate.unit_type.as_deref(),
        &candidate.relations,
        &agent.access_packages,
    )
    .map_err(catalogue_mismatch)?;
    match plan {
        Ok(packages) => Ok(NewClientDelegation { client, packages }),
        Err(missing) => Err(RuleError::ClientLacksPackages {
            client: candidate.name.clone(),
            missing,
        }
        .into()),
    }
}

/// Adds clients to the agent, all or nothing; returns how many were new.
pub(crate) async fn add_clients(
    state: &AppState,
    caller: &Caller,
    agent: &StoredSystemUser,
    plans: &[NewClientDelegation],
) -> ApiResult<u64> {
    state
        .store
        .add_clients(agent.id, agent.owner_party_uuid, plans, &actor(caller))
        .await
        .map_err(|e| match e {
            // A relation ended between the plan and the insert: the foreign key said no.
            systembruker_storage::StoreError::Invalid(_) => problem(
                79,
                "a client relation ended while the client was being added; reload and try again",
            ),
            other => other.into(),
        })
}

/// Removes a client from the agent: AUTH-00038 (404-like 400) when it was not delegated.
pub(crate) async fn remove_client(
    state: &AppState,
    caller: &Caller,
    agent: &StoredSystemUser,
    client: Uuid,
) -> ApiResult<()> {
    if state
        .store
        .remove_client(agent.id, client, &actor(caller))
        .await?
    {
        Ok(())
    } else {
        Err(problem(
            38,
            format!("{client} is not a client of this system user"),
        ))
    }
}

// ----- end-user routes: systemuser/agent/{party}/… -----

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

/// The firm (`{party}`) and the caller's client-administrator standing in it.
async fn firm_for_client_admin(
    state: &AppState,
    caller: &Caller,
    party: &str,
    action: Action,
) -> ApiResult<Party> {
    let firm = resolve_org_party(state, party).await?;
    client_administrator(state, caller, firm.uuid, action).await?;
    Ok(firm)
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
    let mut out = Vec::new();
    for candidate in firm_clients(&state, firm.uuid).await?.iter() {
        let provided = systembruker_domain::clients::provided_packages(
            state.catalogue,
            candidate.unit_type.as_deref(),
            &candidate.relations,
        )
        .map_err(catalogue_mismatch)?;
        let packages: Vec<String> = provided.into_iter().map(|p| p.package).collect();
        if wanted.iter().all(|w| packages.contains(w)) {
            out.push(PartyClientDto {
                client: ClientDto::from_candidate(candidate),
                relations: candidate.relations.clone(),
                packages,
            });
        }
    }
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
    let agent = owned_agent(&state, &firm, parse_id("systemUserId", &id)?).await?;
    let clients = available_clients(&state, &agent).await?;
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
    let agent = owned_agent(&state, &firm, parse_id("systemUserId", &id)?).await?;
    let clients = agent_clients(&state, agent.id).await?;
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
fn client_param(value: Option<&str>) -> ApiResult<Uuid> {
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
    let agent = owned_agent(&state, &firm, parse_id("systemUserId", &id)?).await?;
    let client = client_param(query.client.as_deref())?;
    let plan = plan_for(&state, &agent, client).await?;
    add_clients(&state, &caller, &agent, std::slice::from_ref(&plan)).await?;
    let delegated = agent_clients(&state, agent.id).await?;
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
        created: super::timestamp(client.created_at),
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
    let agent = owned_agent(&state, &firm, parse_id("systemUserId", &id)?).await?;
    let client = client_param(query.client.as_deref())?;
    remove_client(&state, &caller, &agent, client).await?;
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
    delete_agent_of(&state, &caller, &firm, parse_id("systemUserId", &id)?).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(1)))
}

/// The access manager deletes the firm's agent system user. Every client delegation
/// goes with it (a trigger of the soft delete), and each removal lands in the history.
pub(crate) async fn delete_agent_of(
    state: &AppState,
    caller: &Caller,
    firm: &Party,
    agent_id: Uuid,
) -> ApiResult<()> {
    access_manager(state, caller, firm.uuid).await?;
    let agent = owned_agent(state, firm, agent_id).await?;
    if !state
        .store
        .delete_system_user(agent.id, &actor(caller))
        .await?
    {
        return Err(problem(
            15,
            format!("system user {} does not exist", agent.id),
        ));
    }
    Ok(())
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

pub(crate) async fn self_dto(
    state: &AppState,
    agent: &StoredSystemUser,
) -> ApiResult<SelfDelegationDto> {
    let possible = plan_self(state.catalogue, &agent.access_packages)
        .map_err(catalogue_mismatch)?
        .is_some();
    let delegated = agent_clients(state, agent.id)
        .await?
        .iter()
        .any(|c| c.client == agent.owner_party_uuid);
    Ok(SelfDelegationDto {
        agent_system_user_id: agent.id,
        party_uuid: agent.owner_party_uuid,
        delegated,
        possible,
    })
}

/// The user must be able to delegate each of the firm's own packages: giving them to
/// the firm's agent is a delegation like any other (AUTH-00053 otherwise).
fn check_can_delegate_own(
    state: &AppState,
    standing: &super::access::Standing,
    packages: &[String],
) -> ApiResult<()> {
    for code in packages {
        let check = systembruker_domain::catalogue::can_delegate(
            state.catalogue,
            standing.user,
            standing.party,
            code,
            &standing.facts,
        )
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
        if !check.result {
            return Err(problem(
                53,
                format!("the logged-in user may not delegate {code} for the organisation"),
            ));
        }
    }
    Ok(())
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
    let agent = owned_agent(&state, &firm, parse_id("systemUserId", &id)?).await?;
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
    let agent = add_firm_itself(&state, &caller, &firm, parse_id("systemUserId", &id)?).await?;
    Ok(axum::Json(self_dto(&state, &agent).await?))
}

/// The firm adds itself to its own agent ("self"): the access manager gives the firm's
/// own packages, which must all be assignable (AUTH-00064) and delegable by the user
/// (AUTH-00053). Returns the agent.
pub(crate) async fn add_firm_itself(
    state: &AppState,
    caller: &Caller,
    firm: &Party,
    agent_id: Uuid,
) -> ApiResult<StoredSystemUser> {
    let standing = access_manager(state, caller, firm.uuid).await?;
    let agent = owned_agent(state, firm, agent_id).await?;
    let packages = plan_self(state.catalogue, &agent.access_packages)
        .map_err(catalogue_mismatch)?
        .ok_or_else(|| {
            problem(
                64,
                "the system user's access packages are for clients only: the organisation cannot add itself",
            )
        })?;
    check_can_delegate_own(state, &standing, &agent.access_packages)?;
    let plan = NewClientDelegation {
        client: firm.uuid,
        packages,
    };
    add_clients(state, caller, &agent, &[plan]).await?;
    Ok(agent)
}

/// The access manager takes the firm off its own agent. Returns the agent.
pub(crate) async fn remove_firm_itself(
    state: &AppState,
    caller: &Caller,
    firm: &Party,
    agent_id: Uuid,
) -> ApiResult<StoredSystemUser> {
    access_manager(state, caller, firm.uuid).await?;
    let agent = owned_agent(state, firm, agent_id).await?;
    remove_client(state, caller, &agent, firm.uuid).await?;
    Ok(agent)
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
    let agent = remove_firm_itself(&state, &caller, &firm, parse_id("systemUserId", &id)?).await?;
    Ok(axum::Json(self_dto(&state, &agent).await?))
}

// ----- the vendor API: enduser/systemuser/… -----

/// Whether the end-user token was issued through the agent's vendor: its `consumer`
/// organisation, or a client id that the agent's system lists (read only when needed).
async fn from_agents_vendor(
    state: &AppState,
    caller: &Caller,
    agent: &StoredSystemUser,
) -> ApiResult<bool> {
    if caller
        .consumer_org
        .is_some_and(|org| org.as_str() == agent.vendor_org)
    {
        return Ok(true);
    }
    let Some(client_id) = &caller.client_id else {
        return Ok(false);
    };
    let system = state.store.system(&agent.system_id).await?;
    Ok(system.is_some_and(|s| s.system.client_id.contains(client_id)))
}

/// AUTH-00023 (401) for an end-user token that names no vendor at all.
fn require_vendor(caller: &Caller) -> ApiResult<()> {
    if caller.consumer_org.is_none() && caller.client_id.is_none() {
        return Err(problem(
            23,
            "the token names no vendor: use a token issued through the vendor's client",
        ));
    }
    Ok(())
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
    let user = state
        .store
        .system_user(id)
        .await?
        .filter(|u| !u.is_deleted)
        .ok_or_else(|| unknown_agent("no system user with this id"))?;
    require_vendor(caller)?;
    if !from_agents_vendor(state, caller, &user).await? {
        return Err(unknown_agent("no system user with this id"));
    }
    if user.user_type != SystemUserType::Agent {
        return Err(ApiError::validation(vec![ValidationError {
            code: "AUTH.VLD-00015".into(),
            title: "The system user is not an agent system user".into(),
            paths: vec!["?agent".into()],
            detail: None,
        }]));
    }
    client_administrator(state, caller, user.owner_party_uuid, action).await?;
    Ok(user)
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
    let firm = state
        .store
        .organization(&org)
        .await?
        .ok_or_else(|| problem(0, format!("organisation {org} is not in the register")))?;
    require_vendor(&caller)?;
    client_administrator(&state, &caller, firm.uuid, Action::Read).await?;
    let mut agents = Vec::new();
    for user in state
        .store
        .system_users_of(&org_of(&firm), SystemUserType::Agent)
        .await?
    {
        if from_agents_vendor(&state, &caller, &user).await? {
            let packages = user.access_packages.clone();
            let mut dto = SystemUserDto::external(user);
            dto.access_packages = Some(
                packages
                    .iter()
                    .map(|code| systembruker_domain::system::AccessPackageRef::new(code))
                    .collect(),
            );
            agents.push(dto);
        }
    }
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

fn client_list(agent: &StoredSystemUser, data: Vec<ClientDto>) -> ClientListDto {
    ClientListDto {
        system_user_information: SystemUserInformation {
            system_user_id: agent.id,
            system_user_owner_org: agent.owner_org.clone(),
        },
        data,
    }
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
    let clients = available_clients(&state, &agent).await?;
    let data = clients.iter().map(ClientDto::from_candidate).collect();
    Ok(axum::Json(client_list(&agent, data)))
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
    let clients = agent_clients(&state, agent.id).await?;
    let data = clients.iter().map(ClientDto::from_delegated).collect();
    Ok(axum::Json(client_list(&agent, data)))
}

/// What the vendor API answers on add and remove.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentClientDto {
    pub agent: Uuid,
    pub client: Uuid,
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
    let agent = vendor_agent(&state, &caller, query.agent.as_deref(), Action::Write).await?;
    let client = client_param(query.client.as_deref())?;
    let plan = plan_for(&state, &agent, client).await?;
    add_clients(&state, &caller, &agent, &[plan]).await?;
    Ok(axum::Json(AgentClientDto {
        agent: agent.id,
        client,
    }))
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
    let agent = vendor_agent(&state, &caller, query.agent.as_deref(), Action::Write).await?;
    let client = client_param(query.client.as_deref())?;
    remove_client(&state, &caller, &agent, client).await?;
    Ok(axum::Json(AgentClientDto {
        agent: agent.id,
        client,
    }))
}
