//! "Ask for access" (docs/rules.md#asking-for-access): a person asks a party's access
//! managers for exactly what they lack (access packages and single rights); an access
//! manager grants (one step gives everything asked, under the same delegation check as
//! giving it by hand) or declines; the person sees the answer.

use std::collections::BTreeSet;

use systembruker_domain::catalogue::packages_held;
use systembruker_storage::{
    AccessAsk, AskFilter, AskStatus, AskedThing, StoreError, SubjectFacts, now_millis,
};
use uuid::Uuid;

use crate::access::{Action, Standing, catalogue_mismatch, delegation_failures, end_user};
use crate::delegations::{Acting, Param, acting, audit_name, check_acts_for, package_arg, resolve};
use crate::people_access::give_all;
use crate::resources::rights;
use crate::{App, AppError, AppResult, Caller};

/// The package that makes someone an access manager of a party.
pub const ACCESS_MANAGER_PACKAGE: &str = "tilgangsstyrer";

/// What a person asks for, as given: package URNs or codes, and (resource, action) pairs.
#[derive(Debug, Clone, Default)]
pub struct AskArgs {
    pub party: Param,
    pub packages: Vec<String>,
    pub rights: Vec<(String, String)>,
}

/// The things asked for, checked against the catalogue and the resources' policies,
/// without repeats.
async fn things(app: &App, args: &AskArgs) -> AppResult<Vec<AskedThing>> {
    let mut out = BTreeSet::new();
    for value in &args.packages {
        let package = package_arg(app, "packages", value)?;
        out.insert(AskedThing::Package {
            code: package.code.clone(),
        });
    }
    for (resource_id, action) in &args.rights {
        let actions: Vec<String> = rights(app, resource_id)
            .await?
            .iter()
            .map(|right| right.action.clone())
            .collect();
        if !actions.iter().any(|a| a.eq_ignore_ascii_case(action)) {
            return Err(AppError::invalid_field(
                "rights",
                format!("the policy of {resource_id} gives no right to {action:?}"),
            ));
        }
        out.insert(AskedThing::Right {
            resource_id: resource_id.clone(),
            action: action.to_lowercase(),
        });
    }
    if out.is_empty() {
        return Err(AppError::InvalidField {
            code: "STD-00013",
            path: "packages".into(),
            message: "name at least one access package or right to ask for".into(),
        });
    }
    Ok(out.into_iter().collect())
}

/// Does the person have some relation to the party (a role, a package, a right)? Only
/// they may ask its access managers; anyone else would be a stranger knocking.
fn related(app: &App, person: Uuid, party: Uuid, facts: &SubjectFacts) -> AppResult<bool> {
    let held = packages_held(app.catalogue, person, party, facts).map_err(catalogue_mismatch)?;
    Ok(!held.is_empty() || facts.direct_roles().next().is_some() || !facts.rights.is_empty())
}

/// The logged-in person asks the party's access managers for the things in `args`.
pub async fn ask(app: &App, caller: &Caller, args: &AskArgs) -> AppResult<AccessAsk> {
    let person = end_user(app, caller).await?;
    let party = resolve(app, &args.party).await?;
    if person == party {
        return Err(AppError::invalid_field(
            "party",
            "you cannot ask yourself for access",
        ));
    }
    let facts = app.store.subject_facts(person, party).await?;
    if !related(app, person, party, &facts)? {
        return Err(AppError::Forbidden(
            "you can ask only a party you already have some access to (a role, a package or a right)"
                .into(),
        ));
    }
    let things = things(app, args).await?;
    store_ask(app, person, party, things).await
}

async fn store_ask(
    app: &App,
    person: Uuid,
    party: Uuid,
    things: Vec<AskedThing>,
) -> AppResult<AccessAsk> {
    let ask = AccessAsk {
        id: Uuid::new_v4(),
        person,
        party,
        things,
        status: AskStatus::Pending,
        created_at: now_millis(),
        answered_by: None,
        answered_at: None,
    };
    match app.store.create_ask(&ask).await {
        Ok(()) => Ok(ask),
        Err(StoreError::Conflict(conflict)) => Err(AppError::Conflict(conflict.detail)),
        Err(e) => Err(e.into()),
    }
}

/// The logged-in person asks the party's access managers for exactly what they lack to
/// approve a request for these resources and packages ([`lacking_for_approval`]).
pub async fn ask_for_approval(
    app: &App,
    caller: &Caller,
    party: Uuid,
    resources: &[String],
    packages: &[String],
) -> AppResult<AccessAsk> {
    let person = end_user(app, caller).await?;
    let standing = crate::access::standing(app, person, party).await?;
    if !standing.related {
        return Err(AppError::Forbidden(
            "you can ask only a party you already have some access to".into(),
        ));
    }
    let things = lacking_for_approval(app, &standing, resources, packages).await?;
    if things.is_empty() {
        return Err(AppError::BadRequest(
            "you lack nothing to approve this request".into(),
        ));
    }
    store_ask(app, person, party, things).await
}

/// The asks the logged-in person sent, newest first.
pub async fn sent(app: &App, caller: &Caller) -> AppResult<Vec<AccessAsk>> {
    let person = end_user(app, caller).await?;
    let filter = AskFilter {
        person: Some(person),
        ..AskFilter::default()
    };
    Ok(app.store.asks(&filter).await?)
}

/// The asks the party received (optionally only those with `status`); needs `read` on
/// the party's access.
pub async fn received(
    app: &App,
    caller: &Caller,
    party: &Param,
    status: Option<AskStatus>,
) -> AppResult<Vec<AccessAsk>> {
    let acting = acting(app, caller, party).await?;
    check_acts_for(app, &acting, Action::Read).await?;
    let filter = AskFilter {
        party: Some(acting.party),
        status,
        ..AskFilter::default()
    };
    Ok(app.store.asks(&filter).await?)
}

/// The pending ask `id` to the party the caller manages (`write`).
async fn pending_ask(
    app: &App,
    caller: &Caller,
    party: &Param,
    id: Uuid,
) -> AppResult<(Acting, AccessAsk)> {
    let acting = acting(app, caller, party).await?;
    check_acts_for(app, &acting, Action::Write).await?;
    let ask = app
        .store
        .ask(id)
        .await?
        .filter(|ask| ask.party == acting.party)
        .ok_or_else(|| AppError::NotFound(format!("the party has no ask {id}")))?;
    if ask.status != AskStatus::Pending {
        return Err(AppError::Conflict(format!(
            "the ask is {} already",
            ask.status.as_str()
        )));
    }
    Ok((acting, ask))
}

/// Grants everything asked: every thing passes the delegation check first (nothing is
/// given unless all may be), then each is given and the ask marked granted.
pub async fn grant(app: &App, caller: &Caller, party: &Param, id: Uuid) -> AppResult<AccessAsk> {
    let (acting, ask) = pending_ask(app, caller, party, id).await?;
    give_all(app, caller, &acting, ask.person, &ask.things).await?;
    answer(app, caller, &acting, ask, AskStatus::Granted).await
}

/// Declines the ask: nothing is given.
pub async fn decline(app: &App, caller: &Caller, party: &Param, id: Uuid) -> AppResult<AccessAsk> {
    let (acting, ask) = pending_ask(app, caller, party, id).await?;
    answer(app, caller, &acting, ask, AskStatus::Declined).await
}

async fn answer(
    app: &App,
    caller: &Caller,
    acting: &Acting,
    mut ask: AccessAsk,
    status: AskStatus,
) -> AppResult<AccessAsk> {
    let by = audit_name(caller, acting.caller);
    let at = now_millis();
    if !app.store.answer_ask(ask.id, status, &by, at).await? {
        return Err(AppError::Conflict("the ask was answered meanwhile".into()));
    }
    ask.status = status;
    ask.answered_by = Some(by);
    ask.answered_at = Some(at);
    Ok(ask)
}

/// What the person needs to approve a request with these resources and packages, as
/// things to ask for: the access-manager package when they are no access manager, every
/// package they may not pass on, and every action of each resource they may not pass on.
pub async fn lacking_for_approval(
    app: &App,
    standing: &Standing,
    resources: &[String],
    packages: &[String],
) -> AppResult<Vec<AskedThing>> {
    let mut out = BTreeSet::new();
    if !standing.access_manager {
        out.insert(AskedThing::Package {
            code: ACCESS_MANAGER_PACKAGE.to_string(),
        });
    }
    let (_, failures) = delegation_failures(app, standing, resources, packages).await?;
    for failure in failures {
        if failure.kind == "accessPackage" {
            let package = app
                .catalogue
                .package(&failure.name)
                .map_err(catalogue_mismatch)?;
            out.insert(AskedThing::Package {
                code: package.code.clone(),
            });
        } else {
            for right in rights(app, &failure.name).await? {
                out.insert(AskedThing::Right {
                    resource_id: failure.name.clone(),
                    action: right.action.clone(),
                });
            }
        }
    }
    Ok(out.into_iter().collect())
}
