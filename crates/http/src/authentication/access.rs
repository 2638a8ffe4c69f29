//! Who the end user is, what they may do for a party, and the delegation check that
//! approval and end-user creation run for every right and package (docs/rules.md#approval,
//! docs/rules.md#delegation-check). All or nothing: the check returns every failure.

use serde::Serialize;
use systembruker_domain::catalogue::{can_delegate, packages_held};
use systembruker_domain::resource::ResourceType;
use systembruker_storage::{Grants, ResourceGrant, SubjectFacts};
use systembruker_xacml::{Decision, Policy, Request};
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem;
use crate::AppState;
use crate::auth::Caller;
use crate::connections::{ReasonCode, right_reasons};
use crate::pdp::{Enrichment, attr};
use crate::problem::{ApiError, ApiResult};
use crate::resources::PolicyRight;
use crate::system_resources::{ACCESS_MANAGEMENT, CLIENT_ADMINISTRATION, SYSTEM_USER_OVERVIEW};

/// A 500 for stored facts the catalogue does not know (a package or role code that
/// was valid when written).
pub(crate) fn catalogue_mismatch(err: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("stored data do not match the catalogue: {err}"))
}

/// The logged-in person's party uuid; a token without `pid` is refused.
pub(crate) async fn end_user(state: &AppState, caller: &Caller) -> ApiResult<Uuid> {
    let pid = caller.pid.ok_or_else(|| {
        ApiError::forbidden(
            "this endpoint acts for a logged-in person: use an end-user token with a pid",
        )
    })?;
    let person = state
        .store
        .person(&pid)
        .await?
        .ok_or_else(|| ApiError::forbidden("the logged-in person is not in the register"))?;
    Ok(person.uuid)
}

/// What a user asks to do with one of the platform's system resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Read,
    Write,
}

impl Action {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Write => "write",
        }
    }
}

/// The PDP's verdict on `user` doing `action` on the system resource `resource` for
/// `party`: the same decision `POST /authorization/api/v1/authorize` gives, so the
/// policy in the resource registry is the one rule.
pub(crate) async fn permitted(
    state: &AppState,
    user: Uuid,
    party: Uuid,
    resource: &str,
    action: Action,
) -> ApiResult<bool> {
    let request = Request::builder()
        .subject(attr::PARTY_UUID, user.to_string())
        .resource(attr::RESOURCE, resource)
        .resource(attr::PARTY_UUID, party.to_string())
        .action(action.as_str())
        .build();
    let results = state.pdp.authorize(&request).await;
    match results.first().map(|r| (r.decision, r)) {
        Some((Decision::Permit, _)) => Ok(true),
        // Undecided is not "no": a broken policy or an unreachable PIP is our fault.
        Some((Decision::Indeterminate, result)) => Err(ApiError::internal(format!(
            "the access decision on {resource} could not be made: {}",
            result.status.message.as_deref().unwrap_or("indeterminate")
        ))),
        _ => Ok(false),
    }
}

/// What the user may do for a party. Every flag but `related` is a PDP decision on
/// one of the platform's system resources (see `crate::system_resources`).
pub(crate) struct Standing {
    pub user: Uuid,
    pub party: Uuid,
    /// `write` on `altinn_access_management`: may approve, reject, create and delete.
    pub access_manager: bool,
    /// `read` on `altinn_access_management`: may list the party's system users, requests,
    /// change requests and delegations.
    pub reads_access: bool,
    /// `read` on `altinn_system_user_overview`: may see one system user in detail and
    /// list the agent system users.
    pub reads_overview: bool,
    /// `write` on `altinn_client_administration`: may add and remove the party's clients.
    pub client_administrator: bool,
    /// `read` on `altinn_client_administration`: may read the party's clients.
    pub reads_clients: bool,
    /// Has some relation to the party (a role, a package or a right): may escalate.
    pub related: bool,
    pub facts: SubjectFacts,
}

pub(crate) async fn standing(state: &AppState, user: Uuid, party: Uuid) -> ApiResult<Standing> {
    let facts = state.store.subject_facts(user, party).await?;
    let held = packages_held(state.catalogue, user, party, &facts).map_err(catalogue_mismatch)?;
    let decide = |resource, action| permitted(state, user, party, resource, action);
    let access_manager = decide(ACCESS_MANAGEMENT, Action::Write).await?;
    let related = access_manager
        || !held.is_empty()
        || facts.direct_roles().next().is_some()
        || !facts.rights.is_empty();
    Ok(Standing {
        user,
        party,
        access_manager,
        reads_access: decide(ACCESS_MANAGEMENT, Action::Read).await?,
        reads_overview: decide(SYSTEM_USER_OVERVIEW, Action::Read).await?,
        client_administrator: decide(CLIENT_ADMINISTRATION, Action::Write).await?,
        reads_clients: decide(CLIENT_ADMINISTRATION, Action::Read).await?,
        related,
        facts,
    })
}

/// What an end-user route needs the PDP to permit for the party.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Change the party's system access (`write` on `altinn_access_management`).
    ManageAccess,
    /// List its system users, requests, change requests, delegations (`read` on it).
    ReadAccess,
    /// See one system user in detail (`read` on `altinn_system_user_overview`).
    ReadOverview,
    /// Add or remove clients (`write` on `altinn_client_administration`).
    ManageClients,
    /// Read clients (`read` on `altinn_client_administration`).
    ReadClients,
}

impl Need {
    fn met_by(self, standing: &Standing) -> bool {
        match self {
            Need::ManageAccess => standing.access_manager,
            Need::ReadAccess => standing.reads_access,
            Need::ReadOverview => standing.reads_overview,
            Need::ManageClients => standing.client_administrator,
            Need::ReadClients => standing.reads_clients,
        }
    }

    /// The 403 for a user who lacks it.
    fn refusal(self) -> ApiError {
        match self {
            Need::ManageAccess => problem(
                66,
                "the logged-in user is not access manager (tilgangsstyrer) for the party; ask an access manager, or escalate the request",
            ),
            Need::ReadAccess => problem(
                66,
                "the logged-in user may not read the party's system access: that needs read on altinn_access_management (access managers, daglig leder, hovedadministrator)",
            ),
            Need::ReadOverview => problem(
                66,
                "the logged-in user may not see the party's system users: that needs read on altinn_system_user_overview (access managers and client administrators)",
            ),
            Need::ManageClients | Need::ReadClients => ApiError::forbidden(
                "the logged-in user is not client administrator (klientadministrator) for the organisation; \
                 ask its managing director or an access manager to give you the package",
            ),
        }
    }
}

/// The logged-in user's standing in `party`, if it meets `need`; 403 otherwise.
pub(crate) async fn require(
    state: &AppState,
    caller: &Caller,
    party: Uuid,
    need: Need,
) -> ApiResult<Standing> {
    let user = end_user(state, caller).await?;
    let standing = standing(state, user, party).await?;
    if !need.met_by(&standing) {
        return Err(need.refusal());
    }
    Ok(standing)
}

/// The user must be access manager for the party: AUTH-00066 (403) otherwise.
pub(crate) async fn access_manager(
    state: &AppState,
    caller: &Caller,
    party: Uuid,
) -> ApiResult<Standing> {
    require(state, caller, party, Need::ManageAccess).await
}

/// One right or package the user may not delegate, and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DelegationFailure {
    /// `right` or `accessPackage`.
    pub kind: String,
    /// The resource id or package URN.
    pub name: String,
    /// The `AUTH-000NN` code for this failure.
    pub code: String,
    pub reason: String,
}

impl DelegationFailure {
    fn right(resource: &str, number: u8, reason: impl Into<String>) -> Self {
        Self {
            kind: "right".into(),
            name: resource.into(),
            code: format!("AUTH-{number:05}"),
            reason: reason.into(),
        }
    }
}

/// The delegation check for `resources` and `packages` (catalogue codes): the grants to
/// give when everything passes, else a 403/400 problem naming every failure.
pub(crate) async fn delegation_check(
    state: &AppState,
    standing: &Standing,
    resources: &[String],
    packages: &[String],
) -> ApiResult<Grants> {
    let (grants, failures) = delegation_failures(state, standing, resources, packages).await?;
    if failures.is_empty() {
        return Ok(grants);
    }
    Err(failed(failures))
}

/// The same check without the verdict: the grants that pass and every failure, so the
/// portal can show what the user lacks before they try.
pub(crate) async fn delegation_failures(
    state: &AppState,
    standing: &Standing,
    resources: &[String],
    packages: &[String],
) -> ApiResult<(Grants, Vec<DelegationFailure>)> {
    let mut grants = Grants::default();
    let mut failures = Vec::new();
    let enrichment = Enrichment::from_facts(state.catalogue, standing.facts.clone())
        .map_err(catalogue_mismatch)?;
    for resource in resources {
        match check_resource(state, standing, &enrichment, resource).await? {
            Ok(actions) => grants.rights.extend(actions),
            Err(failure) => failures.push(failure),
        }
    }
    for code in packages {
        let check = can_delegate(
            state.catalogue,
            standing.user,
            standing.party,
            code,
            &standing.facts,
        )
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
        if check.result {
            grants.packages.push(check.package.code);
        } else {
            failures.push(DelegationFailure {
                kind: "accessPackage".into(),
                name: check.package.urn,
                code: "AUTH-00053".into(),
                reason: "the user holds no role or delegation that lets them delegate this package for the party".into(),
            });
        }
    }
    Ok((grants, failures))
}

/// The first failure decides the code, as in the reference; every failure is listed.
fn failed(failures: Vec<DelegationFailure>) -> ApiError {
    let number = failures
        .first()
        .and_then(|f| f.code.strip_prefix("AUTH-"))
        .and_then(|n| n.parse::<u8>().ok())
        .unwrap_or(14);
    let summary: Vec<String> = failures
        .iter()
        .map(|f| format!("{} {}: {} ({})", f.kind, f.name, f.reason, f.code))
        .collect();
    problem(
        number,
        format!(
            "the delegation check failed, so nothing was created: {}",
            summary.join("; ")
        ),
    )
    .extension("failures", serde_json::json!(failures))
}

/// Every action of the resource's policy must be delegable by the user: the resource
/// is delegable and not a Maskinporten schema, and the user holds a role, a delegable
/// package or a direct right that the policy grants the action to.
async fn check_resource(
    state: &AppState,
    standing: &Standing,
    enrichment: &Enrichment,
    resource_id: &str,
) -> ApiResult<Result<Vec<ResourceGrant>, DelegationFailure>> {
    let Some(stored) = state.store.resource(resource_id).await? else {
        return Ok(Err(DelegationFailure::right(
            resource_id,
            1,
            "the resource does not exist",
        )));
    };
    if !stored.resource.delegable {
        return Ok(Err(DelegationFailure::right(
            resource_id,
            70,
            "the resource is not delegable",
        )));
    }
    if stored.resource.resource_type == ResourceType::MaskinportenSchema {
        return Ok(Err(DelegationFailure::right(
            resource_id,
            71,
            "Maskinporten schema resources are delegated as scopes, not to system users",
        )));
    }
    let Some(policy) = state.store.policy(resource_id).await? else {
        return Ok(Err(DelegationFailure::right(
            resource_id,
            1,
            "the resource has no policy, so it grants no rights",
        )));
    };
    let policy = Policy::from_xml(&policy.xml).map_err(|e| {
        ApiError::internal(format!("the policy of {resource_id} does not parse: {e}"))
    })?;
    let mut grants = Vec::new();
    for right in policy.rights().iter().map(PolicyRight::new) {
        if !right
            .resource
            .iter()
            .any(|m| m.attribute_id == "urn:altinn:resource" && m.value == resource_id)
        {
            continue;
        }
        if let Some(failure) = right_failure(state, standing, enrichment, resource_id, &right)? {
            return Ok(Err(failure));
        }
        grants.push(ResourceGrant {
            resource_id: resource_id.to_string(),
            action: right.action.clone(),
        });
    }
    if grants.is_empty() {
        return Ok(Err(DelegationFailure::right(
            resource_id,
            1,
            "the resource's policy grants no actions",
        )));
    }
    grants.sort();
    grants.dedup();
    Ok(Ok(grants))
}

fn right_failure(
    state: &AppState,
    standing: &Standing,
    enrichment: &Enrichment,
    resource_id: &str,
    right: &PolicyRight,
) -> ApiResult<Option<DelegationFailure>> {
    let reasons = right_reasons(
        state,
        (standing.user, standing.party, &standing.facts),
        enrichment,
        resource_id,
        right,
    )?;
    let has = |code: ReasonCode| reasons.iter().any(|r| r.code == code);
    if has(ReasonCode::RoleAccess)
        || has(ReasonCode::PackageAccess)
        || has(ReasonCode::DelegationAccess)
    {
        return Ok(None);
    }
    let (number, why) = if has(ReasonCode::MissingPackageAccess) {
        (68, "the user holds none of the access packages that give")
    } else if has(ReasonCode::MissingRoleAccess) {
        (16, "the user holds none of the roles that give")
    } else {
        (18, "nobody delegated to the user")
    };
    Ok(Some(DelegationFailure::right(
        resource_id,
        number,
        format!("{why} the action {:?}", right.action),
    )))
}
