//! End-user delegations: business-to-business package delegations, and the delegation
//! checks for packages and resource rights that tell a user what they may pass on.
//!
//! Listing a party's delegations needs the PDP to permit `read`, changing them `write`,
//! on the system resource `altinn_access_management` for the party; a delegation check
//! only answers about the caller.

use systembruker_domain::PartyIdentifier;
use systembruker_domain::catalogue::{AccessPackage, DelegationCheck, can_delegate};
use systembruker_domain::delegation::{self, ReasonCode, RightReason};
use systembruker_storage::{DelegationFilter, StoredPackageDelegation, SubjectFacts, now_millis};
use uuid::Uuid;

use crate::access::{ACCESS_MANAGEMENT, Action, as_approver, permitted, policy_rule};
use crate::resources::{PolicyRight, rights};
use crate::{App, AppError, AppResult, Caller};

/// One query parameter as given (trimmed, empty as absent). The use cases read and
/// check them in the reference's order, so the first problem a caller sees stays the same.
#[derive(Debug, Clone, Default)]
pub struct Param {
    pub name: &'static str,
    pub value: Option<String>,
}

impl Param {
    pub fn new(name: &'static str, value: Option<&str>) -> Self {
        Self {
            name,
            value: value.map(str::to_string),
        }
    }

    /// The value, or `STD-00013` naming the parameter.
    pub fn required(&self) -> AppResult<&str> {
        self.value.as_deref().ok_or_else(|| AppError::InvalidField {
            code: "STD-00013",
            path: self.name.into(),
            message: format!("the query parameter {} is required", self.name),
        })
    }
}

/// A party given as party uuid, organisation number or person number.
fn party_ref(name: &str, value: &str) -> AppResult<PartyRef> {
    if let Ok(uuid) = Uuid::parse_str(value) {
        return Ok(PartyRef::Uuid(uuid));
    }
    PartyIdentifier::parse(value).map(PartyRef::Id).map_err(|_| {
        AppError::invalid_field(
            name,
            format!(
                "{name} must be a party uuid, an organisation number or a person number; got {value:?}"
            ),
        )
    })
}

enum PartyRef {
    Uuid(Uuid),
    Id(PartyIdentifier),
}

/// An access package named in parameter `name` (URN, code or id).
pub fn package_arg(app: &App, name: &str, value: &str) -> AppResult<&'static AccessPackage> {
    let catalogue: &'static systembruker_domain::catalogue::Catalogue = app.catalogue;
    catalogue
        .package(value)
        .map_err(|_| AppError::InvalidField {
            code: "DelegationCheckFailureInvalidPackage",
            path: name.into(),
            message: format!("{value} is not an access package (give its URN, code or id)"),
        })
}

fn std_field(code: &'static str, path: &str, message: &str) -> AppError {
    AppError::InvalidField {
        code,
        path: path.into(),
        message: message.into(),
    }
}

/// The party a required parameter names, or 400/404 naming the parameter.
pub(crate) async fn resolve(app: &App, param: &Param) -> AppResult<Uuid> {
    let (name, value) = (param.name, param.required()?);
    let found = match party_ref(name, value)? {
        PartyRef::Uuid(uuid) => app.store.party_by_uuid(uuid).await?,
        PartyRef::Id(PartyIdentifier::Org(org)) => app.store.organization(&org).await?,
        PartyRef::Id(PartyIdentifier::Person(pid)) => app.store.person(&pid).await?,
    };
    found.map(|p| p.uuid).ok_or_else(|| {
        AppError::NotFound(format!(
            "the party in {name} ({value}) is not in the register"
        ))
    })
}

async fn resolve_optional(app: &App, param: &Param) -> AppResult<Option<Uuid>> {
    match param.value {
        Some(_) => Ok(Some(resolve(app, param).await?)),
        None => Ok(None),
    }
}

/// The caller, the party they act for, and the PIP's facts about the two.
pub struct Acting {
    pub caller: Uuid,
    pub party: Uuid,
    pub facts: SubjectFacts,
}

/// The logged-in person acting for `party`; other callers are refused.
pub async fn acting(app: &App, caller: &Caller, party: &Param) -> AppResult<Acting> {
    let pid = caller.pid.as_ref().ok_or_else(|| {
        AppError::Forbidden("this endpoint needs an end-user token (a logged-in person)".into())
    })?;
    let me = app
        .store
        .person(pid)
        .await?
        .ok_or_else(|| AppError::Forbidden("the logged-in person is not in the register".into()))?
        .uuid;
    let party = resolve(app, party).await?;
    let facts = app.store.subject_facts(me, party).await?;
    Ok(Acting {
        caller: me,
        party,
        facts,
    })
}

/// Refuses a caller the PDP does not let read (`Action::Read`) or change
/// (`Action::Write`) `party`'s access: the system resource `altinn_access_management`,
/// as the system-user routes. A person always acts for themselves.
pub(crate) async fn check_acts_for(app: &App, acting: &Acting, action: Action) -> AppResult<()> {
    let (caller, party) = (acting.caller, acting.party);
    if caller == party || permitted(app, caller, party, ACCESS_MANAGEMENT, action).await? {
        return Ok(());
    }
    Err(AppError::Forbidden(format!(
        "you do not manage access for party {party}: that needs {} on {ACCESS_MANAGEMENT} (the tilgangsstyrer or hovedadministrator package, or a role such as daglig leder)",
        action.as_str()
    )))
}

/// `changed_by` for the caller: the user id when the token has one, else the party.
pub(crate) fn audit_name(caller: &Caller, party: Uuid) -> String {
    match caller.user_id {
        Some(_) => caller.audit_name(),
        None => format!("party:{party}"),
    }
}

/// Which delegations to list: the party's, optionally narrowed.
pub struct ListQuery {
    pub party: Param,
    pub from: Param,
    pub to: Param,
    pub package: Param,
}

/// The package delegations the party gave or received (or those between `from` and
/// `to`, one of which must be the party).
pub async fn list(
    app: &App,
    caller: &Caller,
    query: &ListQuery,
) -> AppResult<Vec<StoredPackageDelegation>> {
    let acting = acting(app, caller, &query.party).await?;
    check_acts_for(app, &acting, Action::Read).await?;
    let from = resolve_optional(app, &query.from).await?;
    let to = resolve_optional(app, &query.to).await?;
    let package_code = match &query.package.value {
        Some(value) => Some(package_arg(app, query.package.name, value)?.code.clone()),
        None => None,
    };
    // Without from/to: what the party gave and what it received.
    let filters = match (from, to) {
        (None, None) => vec![(Some(acting.party), None), (None, Some(acting.party))],
        (from, to) => {
            if from != Some(acting.party) && to != Some(acting.party) {
                return Err(std_field(
                    "STD-00014",
                    "party",
                    "from or to must be the party you act for",
                ));
            }
            vec![(from, to)]
        }
    };
    let mut out = Vec::new();
    for (from, to) in filters {
        let filter = DelegationFilter {
            from,
            to,
            package_code: package_code.clone(),
        };
        out.extend(app.store.package_delegations(&filter).await?);
    }
    Ok(out)
}

/// One delegation to add or remove: from (default: the party) → to, package.
pub struct DelegationArgs {
    pub party: Param,
    pub from: Param,
    pub to: Param,
    pub package: Param,
}

/// The acting caller (with the PDP's permission to change the party's access) and the
/// two ends of the delegation.
async fn named(
    app: &App,
    caller: &Caller,
    args: &DelegationArgs,
) -> AppResult<(Acting, Uuid, Uuid, &'static AccessPackage)> {
    let acting = acting(app, caller, &args.party).await?;
    check_acts_for(app, &acting, Action::Write).await?;
    let from = resolve_optional(app, &args.from)
        .await?
        .unwrap_or(acting.party);
    let to = resolve(app, &args.to).await?;
    let package = package_arg(app, args.package.name, args.package.required()?)?;
    if from == to {
        return Err(std_field(
            "STD-00014",
            "to",
            "a party cannot delegate to itself",
        ));
    }
    Ok((acting, from, to, package))
}

/// Delegates the package from the party; the caller must be allowed to delegate it.
/// Returns whether it was created (false: it existed) and the stored delegation.
pub async fn add(
    app: &App,
    caller: &Caller,
    args: &DelegationArgs,
    can_pass_on: &Param,
) -> AppResult<(bool, StoredPackageDelegation)> {
    let (acting, from, to, package) = named(app, caller, args).await?;
    if from != acting.party {
        return Err(std_field(
            "STD-00014",
            "from",
            "you can only delegate from the party you act for",
        ));
    }
    let can_pass_on = match &can_pass_on.value {
        None => false,
        Some(v) => v.parse::<bool>().map_err(|_| AppError::InvalidField {
            code: "STD-00010",
            path: can_pass_on.name.into(),
            message: "canDelegate must be true or false".into(),
        })?,
    };
    give_package(app, caller, &acting, to, package, can_pass_on).await
}

/// Refuses a package the acting caller may not delegate for the party, with the
/// catalogue's check saying why.
pub(crate) fn ensure_may_give_package(
    app: &App,
    acting: &Acting,
    package: &AccessPackage,
) -> AppResult<()> {
    let check = can_delegate(
        app.catalogue,
        acting.caller,
        acting.party,
        &package.code,
        &acting.facts,
    )
    .map_err(|e| AppError::Internal(e.to_string()))?;
    if !check.result {
        let why = if package.is_assignable {
            "you hold no role or delegation that lets you delegate it"
        } else {
            "the package cannot be delegated (it follows from roles in the register only)"
        };
        return Err(AppError::MayNotDelegate {
            detail: format!("you may not delegate {} for this party: {why}", package.urn),
            check: Box::new(check),
        });
    }
    Ok(())
}

/// The acting caller gives `to` the package from the party they act for, after the
/// delegation check. Returns whether it was created and the stored delegation.
pub(crate) async fn give_package(
    app: &App,
    caller: &Caller,
    acting: &Acting,
    to: Uuid,
    package: &AccessPackage,
    can_pass_on: bool,
) -> AppResult<(bool, StoredPackageDelegation)> {
    let from = acting.party;
    ensure_may_give_package(app, acting, package)?;
    let stored = StoredPackageDelegation {
        from,
        to,
        package_code: package.code.clone(),
        can_delegate: can_pass_on,
        created_at: now_millis(),
        created_by: audit_name(caller, acting.caller),
    };
    let created = app.store.add_package_delegation(&stored).await?;
    let filter = DelegationFilter {
        from: Some(from),
        to: Some(to),
        package_code: Some(package.code.clone()),
    };
    let current = app
        .store
        .package_delegations(&filter)
        .await?
        .into_iter()
        .next()
        .unwrap_or(stored);
    Ok((created, current))
}

/// Removes a delegation the party gave or received.
pub async fn remove(app: &App, caller: &Caller, args: &DelegationArgs) -> AppResult<()> {
    let (acting, from, to, package) = named(app, caller, args).await?;
    if acting.party != from && acting.party != to {
        return Err(std_field(
            "STD-00014",
            "party",
            "the party you act for must be the giver or the receiver",
        ));
    }
    let who = audit_name(caller, acting.caller);
    if app
        .store
        .remove_package_delegation(from, to, &package.code, &who)
        .await?
    {
        Ok(())
    } else {
        Err(AppError::NotFound(format!(
            "{from} has not delegated {} to {to}",
            package.urn
        )))
    }
}

/// May the caller delegate each package for the party?
pub async fn package_checks(
    app: &App,
    caller: &Caller,
    party: &Param,
    packages: &[String],
) -> AppResult<Vec<DelegationCheck>> {
    let acting = acting(app, caller, party).await?;
    if packages.is_empty() {
        return Err(std_field(
            "STD-00013",
            "packages",
            "name at least one package in the query parameter packages",
        ));
    }
    packages
        .iter()
        .map(|value| {
            let package = package_arg(app, "packages", value)?;
            can_delegate(
                app.catalogue,
                acting.caller,
                acting.party,
                &package.code,
                &acting.facts,
            )
            .map_err(|e| AppError::Internal(e.to_string()))
        })
        .collect()
}

/// For every right of the resource's policy: why the caller may delegate it for the
/// party, or why not.
pub async fn resource_check(
    app: &App,
    caller: &Caller,
    party: &Param,
    resource_id: &str,
) -> AppResult<Vec<(PolicyRight, Vec<RightReason>)>> {
    let acting = acting(app, caller, party).await?;
    right_checks(app, &acting, resource_id).await
}

/// For every right of the resource's policy: why the acting caller may delegate it for
/// the party they act for, or why not.
pub(crate) async fn right_checks(
    app: &App,
    acting: &Acting,
    resource_id: &str,
) -> AppResult<Vec<(PolicyRight, Vec<RightReason>)>> {
    let resource = app
        .store
        .resource(resource_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("resource {resource_id:?} does not exist")))?
        .resource;
    let blocked = if !resource.delegable {
        Some(ReasonCode::ResourceNotDelegable)
    } else if resource.resource_type
        == systembruker_domain::resource::ResourceType::MaskinportenSchema
    {
        Some(ReasonCode::ResourceIsMaskinPortenSchema)
    } else {
        None
    };
    let rights = rights(app, resource_id).await?;
    as_approver(
        app,
        acting.caller,
        acting.party,
        &acting.facts,
        |approver| {
            rights
                .iter()
                .map(|right| {
                    let reasons = match blocked {
                        Some(code) => vec![RightReason::code(code)],
                        None => delegation::right_reasons(
                            app.catalogue,
                            approver,
                            resource_id,
                            &policy_rule(right),
                        )
                        .map_err(|e| AppError::Internal(e.to_string()))?,
                    };
                    Ok((PolicyRight::new(right), reasons))
                })
                .collect()
        },
    )?
}
