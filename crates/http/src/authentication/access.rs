//! Who the end user is, what they may do for a party, and the delegation check that
//! approval and end-user creation run for every right and package (authentication.md
//! §4.4, §5; authorization.md §4). All or nothing: the check returns every failure.

use serde::Serialize;
use systembruker_domain::catalogue::{can_delegate, packages_held};
use systembruker_domain::resource::ResourceType;
use systembruker_storage::{Grants, ResourceGrant, SubjectFacts};
use systembruker_xacml::Policy;
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem;
use crate::AppState;
use crate::auth::Caller;
use crate::connections::{ReasonCode, right_reasons};
use crate::pdp::Enrichment;
use crate::problem::{ApiError, ApiResult};
use crate::resources::PolicyRight;

/// The package whose holders manage access for an organisation.
pub const ACCESS_MANAGER_PACKAGE: &str = "tilgangsstyrer";

/// The package whose holders manage a firm's clients.
pub const CLIENT_ADMIN_PACKAGE: &str = "klientadministrator";

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

/// What the user may do for a party.
pub(crate) struct Standing {
    pub user: Uuid,
    pub party: Uuid,
    /// Holds `tilgangsstyrer` for the party: may approve, reject, create and delete.
    pub access_manager: bool,
    /// Holds `klientadministrator` for the party: may add and remove its clients.
    pub client_administrator: bool,
    /// Has some relation to the party (a role, a package or a right): may escalate.
    pub related: bool,
    pub facts: SubjectFacts,
}

pub(crate) async fn standing(state: &AppState, user: Uuid, party: Uuid) -> ApiResult<Standing> {
    let facts = state.store.subject_facts(user, party).await?;
    let held = packages_held(state.catalogue, user, party, &facts).map_err(catalogue_mismatch)?;
    let holds = |code: &str| held.iter().any(|p| p.package.code == code);
    let access_manager = holds(ACCESS_MANAGER_PACKAGE);
    let client_administrator = holds(CLIENT_ADMIN_PACKAGE);
    let related = access_manager
        || !held.is_empty()
        || facts.direct_roles().next().is_some()
        || !facts.rights.is_empty();
    Ok(Standing {
        user,
        party,
        access_manager,
        client_administrator,
        related,
        facts,
    })
}

/// The user must be access manager for the party: AUTH-00066 (403) otherwise.
pub(crate) async fn access_manager(
    state: &AppState,
    caller: &Caller,
    party: Uuid,
) -> ApiResult<Standing> {
    let user = end_user(state, caller).await?;
    let standing = standing(state, user, party).await?;
    if !standing.access_manager {
        return Err(problem(
            66,
            "the logged-in user is not access manager (tilgangsstyrer) for the party; ask an access manager, or escalate the request",
        ));
    }
    Ok(standing)
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
