//! Who the end user is, what they may do for a party, and the delegation check that
//! approval and end-user creation run for every right and package. The check's rule is
//! `systembruker_domain::delegation`; this module reads what it needs.

use systembruker_domain::RuleError;
use systembruker_domain::catalogue::packages_held;
use systembruker_domain::delegation::{
    self, Approver, CheckError, Checked, DelegatedRight, PolicyRule, ResourceFacts,
};
use systembruker_domain::resource::ResourceType;
use systembruker_domain::rules::DelegationFailure;
use systembruker_storage::{Grants, ResourceGrant, SubjectFacts};
use systembruker_xacml::{Decision, Policy, Request, Right};
use uuid::Uuid;

use crate::{App, AppError, AppResult, Caller};

/// The platform's own resources whose policies say who may manage a party's access.
pub const ACCESS_MANAGEMENT: &str = "altinn_access_management";
/// Who may see a party's system users.
pub const SYSTEM_USER_OVERVIEW: &str = "altinn_system_user_overview";
/// Who may manage a party's clients.
pub const CLIENT_ADMINISTRATION: &str = "altinn_client_administration";

/// The attribute ids the access checks ask the PDP about.
const PARTY_UUID: &str = "urn:altinn:party:uuid";
const RESOURCE_ID: &str = "urn:altinn:resource";

/// A 500 for stored facts the catalogue does not know (a package or role code that
/// was valid when written).
pub fn catalogue_mismatch(err: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("stored data do not match the catalogue: {err}"))
}

/// The logged-in person's party uuid; a token without `pid` is refused.
pub async fn end_user(app: &App, caller: &Caller) -> AppResult<Uuid> {
    let pid = caller.pid.ok_or_else(|| {
        AppError::Forbidden(
            "this endpoint acts for a logged-in person: use an end-user token with a pid".into(),
        )
    })?;
    let person =
        app.store.person(&pid).await?.ok_or_else(|| {
            AppError::Forbidden("the logged-in person is not in the register".into())
        })?;
    Ok(person.uuid)
}

/// What a user asks to do with one of the platform's system resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Write,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Write => "write",
        }
    }
}

/// The PDP's verdict on `user` doing `action` on the system resource `resource` for
/// `party`: the same decision `POST /authorization/api/v1/authorize` gives, so the
/// policy in the resource registry is the one rule.
pub async fn permitted(
    app: &App,
    user: Uuid,
    party: Uuid,
    resource: &str,
    action: Action,
) -> AppResult<bool> {
    let request = Request::builder()
        .subject(PARTY_UUID, user.to_string())
        .resource(RESOURCE_ID, resource)
        .resource(PARTY_UUID, party.to_string())
        .action(action.as_str())
        .build();
    let results = app.pdp.authorize(&request).await;
    match results.first().map(|r| (r.decision, r)) {
        Some((Decision::Permit, _)) => Ok(true),
        // Undecided is not "no": a broken policy or an unreachable PIP is our fault.
        Some((Decision::Indeterminate, result)) => Err(AppError::Internal(format!(
            "the access decision on {resource} could not be made: {}",
            result.status.message.as_deref().unwrap_or("indeterminate")
        ))),
        _ => Ok(false),
    }
}

/// What the user may do for a party. Every flag but `related` is a PDP decision on
/// one of the platform's system resources.
pub struct Standing {
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

pub async fn standing(app: &App, user: Uuid, party: Uuid) -> AppResult<Standing> {
    let facts = app.store.subject_facts(user, party).await?;
    let held = packages_held(app.catalogue, user, party, &facts).map_err(catalogue_mismatch)?;
    let decide = |resource, action| permitted(app, user, party, resource, action);
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
pub enum Need {
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
    pub fn met_by(self, standing: &Standing) -> bool {
        match self {
            Need::ManageAccess => standing.access_manager,
            Need::ReadAccess => standing.reads_access,
            Need::ReadOverview => standing.reads_overview,
            Need::ManageClients => standing.client_administrator,
            Need::ReadClients => standing.reads_clients,
        }
    }

    /// The 403 for a user who lacks it.
    pub fn refusal(self) -> AppError {
        let not_access_manager = |detail: &str| {
            AppError::from(RuleError::NotAccessManager {
                detail: detail.into(),
            })
        };
        match self {
            Need::ManageAccess => not_access_manager(
                "the logged-in user is not access manager (tilgangsstyrer) for the party; ask an access manager, or escalate the request",
            ),
            Need::ReadAccess => not_access_manager(
                "the logged-in user may not read the party's system access: that needs read on altinn_access_management (access managers, daglig leder, hovedadministrator)",
            ),
            Need::ReadOverview => not_access_manager(
                "the logged-in user may not see the party's system users: that needs read on altinn_system_user_overview (access managers and client administrators)",
            ),
            Need::ManageClients | Need::ReadClients => AppError::Forbidden(
                "the logged-in user is not client administrator (klientadministrator) for the organisation; \
                 ask its managing director or an access manager to give you the package"
                    .into(),
            ),
        }
    }
}

/// The logged-in user's standing in `party`, if it meets `need`; 403 otherwise.
pub async fn require(app: &App, caller: &Caller, party: Uuid, need: Need) -> AppResult<Standing> {
    let user = end_user(app, caller).await?;
    let standing = standing(app, user, party).await?;
    if !need.met_by(&standing) {
        return Err(need.refusal());
    }
    Ok(standing)
}

/// The user must be access manager for the party: AUTH-00066 (403) otherwise.
pub async fn access_manager(app: &App, caller: &Caller, party: Uuid) -> AppResult<Standing> {
    require(app, caller, party, Need::ManageAccess).await
}

/// The delegation check for `resources` and `packages` (catalogue codes): the grants to
/// give when everything passes, else `ApproverLacksRights` naming every failure.
pub async fn delegation_check(
    app: &App,
    standing: &Standing,
    resources: &[String],
    packages: &[String],
) -> AppResult<Grants> {
    let (rights, packages) = checked(app, standing, resources, packages)
        .await?
        .verdict()?;
    Ok(grants(rights, packages))
}

/// The same check without the verdict: the grants that pass and every failure, so the
/// portal can show what the user lacks before they try.
pub async fn delegation_failures(
    app: &App,
    standing: &Standing,
    resources: &[String],
    packages: &[String],
) -> AppResult<(Grants, Vec<DelegationFailure>)> {
    let checked = checked(app, standing, resources, packages).await?;
    Ok((grants(checked.rights, checked.packages), checked.failures))
}

/// Reads what the rule needs, then runs it.
async fn checked(
    app: &App,
    standing: &Standing,
    resources: &[String],
    packages: &[String],
) -> AppResult<Checked> {
    let mut facts = Vec::with_capacity(resources.len());
    for id in resources {
        facts.push((id.clone(), resource_facts(app, id).await?));
    }
    as_approver(
        app,
        standing.user,
        standing.party,
        &standing.facts,
        |approver| delegation::check(app.catalogue, approver, &facts, packages),
    )?
    .map_err(|err| match err {
        CheckError::UnknownPackage(e) => AppError::BadRequest(e.to_string()),
        CheckError::Catalogue(e) => AppError::Internal(e.to_string()),
    })
}

/// Runs `rule` with `user` acting for `party` as the delegation rule sees them: their
/// facts, the role codes those give (implied roles included) and their direct rights.
pub(crate) fn as_approver<T>(
    app: &App,
    user: Uuid,
    party: Uuid,
    facts: &SubjectFacts,
    rule: impl FnOnce(&Approver<'_>) -> T,
) -> AppResult<T> {
    let role_codes = app.pdp.role_codes(facts).map_err(catalogue_mismatch)?;
    let holds_right = |resource: &str, action: &str| facts.has_right(resource, action);
    Ok(rule(&Approver {
        user,
        party,
        facts,
        role_codes: &role_codes,
        holds_right: &holds_right,
    }))
}

fn grants(rights: Vec<DelegatedRight>, packages: Vec<String>) -> Grants {
    Grants {
        packages,
        rights: rights
            .into_iter()
            .map(|r| ResourceGrant {
                resource_id: r.resource_id,
                action: r.action,
            })
            .collect(),
    }
}

/// What the register knows of a requested resource; the policy is read only for a
/// resource that may be delegated at all.
pub async fn resource_facts(app: &App, id: &str) -> AppResult<ResourceFacts> {
    let Some(stored) = app.store.resource(id).await? else {
        return Ok(ResourceFacts::Missing);
    };
    if !stored.resource.delegable {
        return Ok(ResourceFacts::NotDelegable);
    }
    if stored.resource.resource_type == ResourceType::MaskinportenSchema {
        return Ok(ResourceFacts::MaskinportenSchema);
    }
    let Some(policy) = app.store.policy(id).await? else {
        return Ok(ResourceFacts::NoPolicy);
    };
    let policy = Policy::from_xml(&policy.xml)
        .map_err(|e| AppError::Internal(format!("the policy of {id} does not parse: {e}")))?;
    Ok(ResourceFacts::Policy(
        policy.rights().iter().map(policy_rule).collect(),
    ))
}

/// One right of a policy as the delegation rule reads it.
pub fn policy_rule(right: &Right) -> PolicyRule {
    let values = |id: &str| -> Vec<String> {
        right
            .subjects
            .iter()
            .filter(|s| s.attribute_id.eq_ignore_ascii_case(id))
            .map(|s| s.value.clone())
            .collect()
    };
    PolicyRule {
        action: right.action.clone(),
        resources: right
            .resource
            .iter()
            .filter(|m| m.attribute_id == RESOURCE_ID)
            .map(|m| m.value.clone())
            .chain(crate::pdp::app_resource_id(&right.resource))
            .collect(),
        role_codes: values("urn:altinn:rolecode")
            .into_iter()
            .map(|c| c.to_uppercase())
            .collect(),
        access_packages: values("urn:altinn:accesspackage"),
    }
}
