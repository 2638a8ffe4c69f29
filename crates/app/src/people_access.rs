//! Access management for people (docs/rules.md#access-management-for-people): who has
//! access to a party and what they hold ("connections"), finding a person by national
//! id number and last name, and giving or revoking single rights of a resource. Access
//! packages are given and revoked by [`crate::delegations`]; the same rule decides both:
//! only the party's access managers change anything, and they give only what they may
//! delegate themselves.

use std::collections::BTreeMap;

use systembruker_domain::catalogue::AccessPackage;
use systembruker_domain::delegation::ReasonCode;
use systembruker_domain::party::Party;
use systembruker_domain::people::{RightRefusal, last_name_matches};
use systembruker_domain::{PartyIdentifier, PersonNumber};
use systembruker_storage::{
    AskedThing, DelegationFilter, ResourceRight, RoleAssignment, StoredPackageDelegation,
    now_millis,
};
use uuid::Uuid;

use crate::access::Action;
use crate::delegations::{
    Acting, Param, acting, audit_name, check_acts_for, ensure_may_give_package, give_package,
    package_arg, resolve, right_checks,
};
use crate::{App, AppError, AppResult, Caller};

/// A party at the other end of a connection and what passes between them.
#[derive(Debug, Clone)]
pub struct Connection {
    pub party: Party,
    /// Role codes from the register (read-only here): roles the other party holds in
    /// the acting party, or the acting party in it.
    pub roles: Vec<String>,
    pub packages: Vec<StoredPackageDelegation>,
    pub rights: Vec<ResourceRight>,
}

/// What the party has given (with the register's roles in it) and what it received.
#[derive(Debug, Clone, Default)]
pub struct Connections {
    pub given: Vec<Connection>,
    pub received: Vec<Connection>,
}

#[derive(Default)]
struct Gathered {
    roles: Vec<String>,
    packages: Vec<StoredPackageDelegation>,
    rights: Vec<ResourceRight>,
}

/// The gathered connections with their parties, by name; counterparts that are not in
/// the register (system users) are left out: they have pages of their own.
async fn with_parties(app: &App, gathered: BTreeMap<Uuid, Gathered>) -> AppResult<Vec<Connection>> {
    let mut out = Vec::new();
    for (uuid, found) in gathered {
        if let Some(party) = app.store.party_by_uuid(uuid).await? {
            out.push(Connection {
                party,
                roles: found.roles,
                packages: found.packages,
                rights: found.rights,
            });
        }
    }
    out.sort_by(|a, b| a.party.name.cmp(&b.party.name));
    Ok(out)
}

/// Everyone with access to the party through it (roles, packages, single rights), and
/// everyone the party received access from. Needs `read` on the party's access.
pub async fn connections(app: &App, caller: &Caller, party: &Param) -> AppResult<Connections> {
    let acting = acting(app, caller, party).await?;
    check_acts_for(app, &acting, Action::Read).await?;
    connections_of(app, acting.party).await
}

/// The connections of `party`, for a caller already checked.
pub async fn connections_of(app: &App, party: Uuid) -> AppResult<Connections> {
    let mut given: BTreeMap<Uuid, Gathered> = BTreeMap::new();
    let mut received: BTreeMap<Uuid, Gathered> = BTreeMap::new();
    for RoleAssignment { to, role_code, .. } in app.store.roles_in(party).await? {
        given.entry(to).or_default().roles.push(role_code);
    }
    for RoleAssignment {
        from, role_code, ..
    } in app.store.roles_held_by(party).await?
    {
        received.entry(from).or_default().roles.push(role_code);
    }
    let gave = DelegationFilter {
        from: Some(party),
        ..DelegationFilter::default()
    };
    for d in app.store.package_delegations(&gave).await? {
        given.entry(d.to).or_default().packages.push(d);
    }
    let got = DelegationFilter {
        to: Some(party),
        ..DelegationFilter::default()
    };
    for d in app.store.package_delegations(&got).await? {
        received.entry(d.from).or_default().packages.push(d);
    }
    for r in app
        .store
        .resource_rights_matching(Some(party), None)
        .await?
    {
        given.entry(r.to).or_default().rights.push(r);
    }
    for r in app
        .store
        .resource_rights_matching(None, Some(party))
        .await?
    {
        received.entry(r.from).or_default().rights.push(r);
    }
    Ok(Connections {
        given: with_parties(app, given).await?,
        received: with_parties(app, received).await?,
    })
}

/// The one answer for every miss, so a national id number cannot be probed.
fn no_such_person() -> AppError {
    AppError::NotFound("no person in the register has that national id number and last name".into())
}

/// The person with national id number `pid` whose last name is `last_name`, for a
/// caller who manages the party's access. A wrong number and a wrong name get the same
/// answer.
pub async fn find_person(
    app: &App,
    caller: &Caller,
    party: &Param,
    pid: &str,
    last_name: &str,
) -> AppResult<Party> {
    let acting = acting(app, caller, party).await?;
    check_acts_for(app, &acting, Action::Write).await?;
    let pid = PersonNumber::parse(pid.trim()).map_err(|_| {
        AppError::invalid_field(
            "personIdentifier",
            "a national id number has 11 digits (with a valid check sum)",
        )
    })?;
    if last_name.trim().is_empty() {
        return Err(AppError::invalid_field(
            "lastName",
            "give the person's last name",
        ));
    }
    let person = app.store.person(&pid).await?.ok_or_else(no_such_person)?;
    if last_name_matches(&person.name, last_name) {
        Ok(person)
    } else {
        Err(no_such_person())
    }
}

/// The receiver of a delegation: a party uuid or an organisation number. A person is
/// named by uuid (found first by [`find_person`]): a bare national id number is refused,
/// so numbers cannot be probed.
pub async fn receiver(app: &App, to: &Param) -> AppResult<Uuid> {
    let value = to.required()?;
    if matches!(
        PartyIdentifier::parse(value),
        Ok(PartyIdentifier::Person(_))
    ) {
        return Err(AppError::invalid_field(
            to.name,
            "name a person by party uuid: find it by national id number and last name first",
        ));
    }
    resolve(app, to).await
}

/// One single right to give or revoke: `to` gets `action` on `resource` from `party`.
pub struct RightArgs {
    pub party: Param,
    pub to: Param,
    pub resource: Param,
    pub action: Param,
}

/// Refuses a right the acting caller may not give, with the reason codes.
pub(crate) async fn ensure_may_give_right(
    app: &App,
    acting: &Acting,
    resource_id: &str,
    action: &str,
) -> AppResult<()> {
    let checks = right_checks(app, acting, resource_id).await?;
    let reasons: Vec<_> = checks
        .iter()
        .filter(|(right, _)| right.action.eq_ignore_ascii_case(action))
        .flat_map(|(_, reasons)| reasons.iter().map(|r| r.code))
        .collect();
    match RightRefusal::judge(&reasons) {
        None => Ok(()),
        Some(RightRefusal::NotInPolicy) => Err(AppError::invalid_field(
            "action",
            format!("the policy of {resource_id} gives no right to {action:?}"),
        )),
        Some(RightRefusal::Lacks(codes)) => Err(AppError::Forbidden(format!(
            "you may not delegate {action} on {resource_id} for this party ({})",
            codes
                .iter()
                .map(|c| format!("{c:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The acting caller gives `to` the right from the party they act for.
pub(crate) async fn give_right(
    app: &App,
    caller: &Caller,
    acting: &Acting,
    to: Uuid,
    resource_id: &str,
    action: &str,
) -> AppResult<(bool, ResourceRight)> {
    if to == acting.party {
        return Err(AppError::invalid_field(
            "to",
            "a party cannot delegate to itself",
        ));
    }
    ensure_may_give_right(app, acting, resource_id, action).await?;
    let right = ResourceRight {
        from: acting.party,
        to,
        resource_id: resource_id.to_string(),
        action: action.to_string(),
        created_at: now_millis(),
        created_by: audit_name(caller, acting.caller),
    };
    let created = app.store.add_resource_right(&right).await?;
    Ok((created, right))
}

/// Gives a single right from the party; the caller manages the party's access and may
/// delegate the right. Returns whether it was created (false: it existed).
pub async fn add_right(
    app: &App,
    caller: &Caller,
    args: &RightArgs,
) -> AppResult<(bool, ResourceRight)> {
    let acting = acting(app, caller, &args.party).await?;
    check_acts_for(app, &acting, Action::Write).await?;
    let to = receiver(app, &args.to).await?;
    let resource = args.resource.required()?;
    let action = args.action.required()?;
    give_right(app, caller, &acting, to, resource, action).await
}

/// Revokes a single right the party gave (or received); the caller manages its access.
pub async fn remove_right(app: &App, caller: &Caller, args: &RightArgs) -> AppResult<()> {
    let acting = acting(app, caller, &args.party).await?;
    check_acts_for(app, &acting, Action::Write).await?;
    let to = resolve(app, &args.to).await?;
    let resource = args.resource.required()?;
    let action = args.action.required()?;
    let who = audit_name(caller, acting.caller);
    if app
        .store
        .remove_resource_right(acting.party, to, resource, action, &who)
        .await?
    {
        Ok(())
    } else {
        Err(AppError::NotFound(format!(
            "the party has not given {action} on {resource} to {to}"
        )))
    }
}

/// The single rights the party gave `to` (or, with `to` absent, everyone).
pub async fn rights_given(
    app: &App,
    caller: &Caller,
    party: &Param,
    to: &Param,
) -> AppResult<Vec<ResourceRight>> {
    let acting = acting(app, caller, party).await?;
    check_acts_for(app, &acting, Action::Read).await?;
    let to = match to.value {
        Some(_) => Some(resolve(app, to).await?),
        None => None,
    };
    Ok(app
        .store
        .resource_rights_matching(Some(acting.party), to)
        .await?)
}

/// The acting caller gives `to` every thing, all or nothing: each passes the delegation
/// check first, then each is stored (giving what exists already changes nothing).
pub async fn give_all(
    app: &App,
    caller: &Caller,
    acting: &Acting,
    to: Uuid,
    things: &[AskedThing],
) -> AppResult<()> {
    if to == acting.party {
        return Err(AppError::invalid_field(
            "to",
            "a party cannot delegate to itself",
        ));
    }
    for thing in things {
        match thing {
            AskedThing::Package { code } => {
                ensure_may_give_package(app, acting, package_arg(app, "package", code)?)?
            }
            AskedThing::Right {
                resource_id,
                action,
            } => ensure_may_give_right(app, acting, resource_id, action).await?,
        }
    }
    for thing in things {
        match thing {
            AskedThing::Package { code } => {
                let package = package_arg(app, "package", code)?;
                give_package(app, caller, acting, to, package, false).await?;
            }
            AskedThing::Right {
                resource_id,
                action,
            } => {
                give_right(app, caller, acting, to, resource_id, action).await?;
            }
        }
    }
    Ok(())
}

/// The caller acting for `party` as its access manager (`write` on its access).
pub async fn as_manager(app: &App, caller: &Caller, party: Uuid) -> AppResult<Acting> {
    let acting = acting(
        app,
        caller,
        &Param::new("party", Some(party.to_string().as_str())),
    )
    .await?;
    check_acts_for(app, &acting, Action::Write).await?;
    Ok(acting)
}

/// The packages the acting caller may give for the party (the catalogue's delegation
/// check on every package), in catalogue order.
pub fn givable_packages(app: &App, acting: &Acting) -> Vec<&'static AccessPackage> {
    let catalogue: &'static systembruker_domain::catalogue::Catalogue = app.catalogue;
    catalogue
        .packages()
        .iter()
        .filter(|package| ensure_may_give_package(app, acting, package).is_ok())
        .collect()
}

/// One action of a resource's policy and whether the acting caller may give it.
#[derive(Debug, Clone)]
pub struct RightOption {
    pub action: String,
    pub may_give: bool,
    pub reasons: Vec<ReasonCode>,
}

/// The actions of the resource's policy, each with the acting caller's verdict.
pub async fn right_options(
    app: &App,
    acting: &Acting,
    resource_id: &str,
) -> AppResult<Vec<RightOption>> {
    let mut out: Vec<RightOption> = Vec::new();
    for (right, reasons) in right_checks(app, acting, resource_id).await? {
        let codes: Vec<ReasonCode> = reasons.iter().map(|r| r.code).collect();
        match out.iter_mut().find(|o| o.action == right.action) {
            Some(known) => known.reasons.extend(codes),
            None => out.push(RightOption {
                action: right.action.clone(),
                may_give: false,
                reasons: codes,
            }),
        }
    }
    for option in &mut out {
        option.may_give = RightRefusal::judge(&option.reasons).is_none();
    }
    Ok(out)
}
