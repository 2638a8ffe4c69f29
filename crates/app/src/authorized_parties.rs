//! The parties a caller may act for (`accessmanagement/api/v1/enduser/authorizedparties`,
//! docs/rules.md#authorized-parties): for a person, themselves, every organisation they
//! hold a role in or received a package from, and (through a key role such as daglig
//! leder) what their organisation holds for others; for a standard system user, its
//! owner with what it was given; for an agent system user, its delegated clients.

use std::collections::{BTreeMap, BTreeSet};

use systembruker_domain::catalogue::Catalogue;
use systembruker_domain::party::{Party, PartyKind};
use systembruker_domain::systemuser::SystemUserType;
use systembruker_storage::DelegationFilter;
use uuid::Uuid;

use crate::clients::agent_clients;
use crate::{App, AppError, AppResult, Caller};

/// What makes a party one the caller may act for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// A role (catalogue code) held in the party.
    Role(String),
    /// An access package (catalogue code) received from the party.
    Package(String),
    /// A right on a resource (its identifier) received from the party.
    Resource(String),
    /// The party owns the (standard) system user that calls.
    Owner,
}

/// One grant for one party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub party: Uuid,
    pub grant: Grant,
}

impl Access {
    fn new(party: Uuid, grant: Grant) -> Self {
        Self { party, grant }
    }
}

/// A party the caller may act for, with the roles (legacy codes in upper case, as the
/// PDP names them), packages and resources that make it so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedParty {
    pub party: Party,
    pub roles: BTreeSet<String>,
    pub packages: BTreeSet<String>,
    pub resources: BTreeSet<String>,
}

/// The code a role is shown with: its legacy code in upper case (`DAGL`), else its code.
fn role_name(catalogue: &Catalogue, code: &str) -> String {
    catalogue
        .role(code)
        .ok()
        .and_then(|r| r.legacy_code.as_deref())
        .map(str::to_uppercase)
        .unwrap_or_else(|| code.to_string())
}

fn variant_of(party: &Party) -> Option<&str> {
    match &party.kind {
        PartyKind::Organization { unit_type, .. } => unit_type.as_deref(),
        PartyKind::Person { .. } => None,
    }
}

/// The packages a role gives in a party of its organisation form.
fn packages_of_role(catalogue: &Catalogue, code: &str, party: &Party) -> Vec<String> {
    let Ok(rows) = catalogue.packages_for_role(code, None) else {
        return Vec::new();
    };
    rows.into_iter()
        .filter(|row| row.has_access && row.applies_to_variant(variant_of(party)))
        .map(|row| row.package.code.clone())
        .collect()
}

/// Groups the grants by party, in the order the parties are given; a role brings the
/// packages it gives. Grants for parties not in `parties` are left out.
pub fn assemble(
    catalogue: &Catalogue,
    parties: &[Party],
    access: &[Access],
) -> Vec<AuthorizedParty> {
    let mut out: Vec<AuthorizedParty> = parties
        .iter()
        .map(|party| AuthorizedParty {
            party: party.clone(),
            roles: BTreeSet::new(),
            packages: BTreeSet::new(),
            resources: BTreeSet::new(),
        })
        .collect();
    let index: BTreeMap<Uuid, usize> = parties
        .iter()
        .enumerate()
        .map(|(i, p)| (p.uuid, i))
        .collect();
    for a in access {
        let Some(entry) = index.get(&a.party).and_then(|&i| out.get_mut(i)) else {
            continue;
        };
        match &a.grant {
            Grant::Role(code) => {
                entry.roles.insert(role_name(catalogue, code));
                let packages = packages_of_role(catalogue, code, &entry.party);
                entry.packages.extend(packages);
            }
            Grant::Package(code) => {
                entry.packages.insert(code.clone());
            }
            Grant::Resource(id) => {
                entry.resources.insert(id.clone());
            }
            Grant::Owner => {}
        }
    }
    out
}

/// Who the caller is, for this list: a person (their party) or a system user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Person(Uuid),
    SystemUser(Uuid),
}

/// The system user a Maskinporten system-user token names (`authorization_details`).
pub fn system_user_of(caller: &Caller) -> Option<Uuid> {
    caller
        .claims
        .get("authorization_details")?
        .as_array()?
        .iter()
        .filter(|d| d.get("type").and_then(|t| t.as_str()) == Some("urn:altinn:systemuser"))
        .find_map(|d| {
            d.get("systemuser_id")?
                .as_array()?
                .first()?
                .as_str()?
                .parse()
                .ok()
        })
}

/// The subject of the caller's token: a person's `pid`, else a system user; anything
/// else (a plain enterprise or operator token) has no parties of its own (403).
pub async fn subject_of(app: &App, caller: &Caller) -> AppResult<Subject> {
    if let Some(pid) = &caller.pid {
        let person = app.store.person(pid).await?.ok_or_else(|| {
            AppError::Forbidden("the logged-in person is not in the register".into())
        })?;
        return Ok(Subject::Person(person.uuid));
    }
    system_user_of(caller)
        .map(Subject::SystemUser)
        .ok_or_else(|| {
            AppError::Forbidden(
                "only a person's or a system user's token has parties to act for".into(),
            )
        })
}

/// The parties the caller may act for, with what.
pub async fn authorized_parties(app: &App, caller: &Caller) -> AppResult<Vec<AuthorizedParty>> {
    let access = match subject_of(app, caller).await? {
        Subject::Person(person) => person_access(app, person).await?,
        Subject::SystemUser(id) => system_user_access(app, id).await?,
    };
    let mut parties = Vec::new();
    let mut seen = BTreeSet::new();
    for a in &access {
        if seen.insert(a.party)
            && let Some(party) = app.store.party_by_uuid(a.party).await?
        {
            parties.push(party);
        }
    }
    Ok(assemble(app.catalogue, &parties, &access))
}

/// What a party holds in others: its roles there and the packages it received.
async fn held_by(app: &App, holder: Uuid) -> AppResult<Vec<Access>> {
    let mut access: Vec<Access> = app
        .store
        .roles_held_by(holder)
        .await?
        .into_iter()
        .map(|r| Access::new(r.from, Grant::Role(r.role_code)))
        .collect();
    let filter = DelegationFilter {
        to: Some(holder),
        ..DelegationFilter::default()
    };
    access.extend(
        app.store
            .package_delegations(&filter)
            .await?
            .into_iter()
            .map(|d| Access::new(d.from, Grant::Package(d.package_code))),
    );
    Ok(access)
}

async fn person_access(app: &App, person: Uuid) -> AppResult<Vec<Access>> {
    // A person is always a party of their own, as a private person.
    let mut access = vec![Access::new(person, Grant::Role("privatperson".into()))];
    let own = held_by(app, person).await?;
    let key_orgs: BTreeSet<Uuid> = own
        .iter()
        .filter_map(|a| match &a.grant {
            Grant::Role(code) if app.catalogue.role(code).is_ok_and(|r| r.is_key_role) => {
                Some(a.party)
            }
            _ => None,
        })
        .collect();
    access.extend(own);
    // A key role's holder acts for the organisation in what it received from others.
    for org in key_orgs {
        access.extend(held_by(app, org).await?);
    }
    Ok(access)
}

async fn system_user_access(app: &App, id: Uuid) -> AppResult<Vec<Access>> {
    let user = app
        .store
        .system_user(id)
        .await?
        .filter(|u| !u.is_deleted)
        .ok_or_else(|| AppError::Forbidden(format!("system user {id} no longer exists")))?;
    if user.user_type == SystemUserType::Agent {
        let clients = agent_clients(app, user.id).await?;
        return Ok(clients
            .iter()
            .flat_map(|c| {
                c.packages
                    .iter()
                    .map(|p| Access::new(c.client, Grant::Package(p.clone())))
            })
            .collect());
    }
    let grants = app.store.system_user_grants(user.id).await?;
    let owner = user.owner_party_uuid;
    let mut access = vec![Access::new(owner, Grant::Owner)];
    access.extend(
        grants
            .packages
            .into_iter()
            .map(|p| Access::new(owner, Grant::Package(p))),
    );
    access.extend(
        grants
            .rights
            .into_iter()
            .map(|r| Access::new(owner, Grant::Resource(r.resource_id))),
    );
    Ok(access)
}

#[cfg(test)]
mod tests {
    use super::*;
    use systembruker_domain::{OrgNumber, PersonNumber};

    fn org(n: u128, number: &str, form: &str) -> Party {
        Party {
            uuid: Uuid::from_u128(n),
            id: n as i64,
            name: format!("org {n}"),
            kind: PartyKind::Organization {
                org_number: OrgNumber::parse(number).unwrap_or_else(|e| panic!("{e}")),
                unit_type: Some(form.into()),
                unit_status: None,
                main_unit: None,
            },
        }
    }

    fn person(n: u128) -> Party {
        Party {
            uuid: Uuid::from_u128(n),
            id: n as i64,
            name: "Pia".into(),
            kind: PartyKind::Person {
                person_number: PersonNumber::parse("14857510098").unwrap_or_else(|e| panic!("{e}")),
            },
        }
    }

    #[test]
    fn a_role_brings_its_legacy_name_and_its_packages() {
        let catalogue = Catalogue::builtin();
        let firm = org(1, "315000009", "AS");
        let out = assemble(
            catalogue,
            &[firm],
            &[Access::new(
                Uuid::from_u128(1),
                Grant::Role("daglig-leder".into()),
            )],
        );
        assert_eq!(out.len(), 1);
        assert!(out[0].roles.contains("DAGL"), "{:?}", out[0].roles);
        assert!(!out[0].packages.is_empty());
    }

    #[test]
    fn grants_are_grouped_by_party_and_unknown_parties_left_out() {
        let catalogue = Catalogue::builtin();
        let (a, b) = (org(1, "315000009", "AS"), person(2));
        let access = [
            Access::new(a.uuid, Grant::Package("skatt-naering".into())),
            Access::new(b.uuid, Grant::Role("privatperson".into())),
            Access::new(a.uuid, Grant::Resource("krav".into())),
            Access::new(Uuid::from_u128(9), Grant::Package("x".into())),
        ];
        let out = assemble(catalogue, &[a, b], &access);
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[0].packages,
            BTreeSet::from(["skatt-naering".to_string()])
        );
        assert_eq!(out[0].resources, BTreeSet::from(["krav".to_string()]));
        assert!(out[1].roles.contains("PRIV"), "{:?}", out[1].roles);
    }

    #[test]
    fn a_system_user_token_names_its_system_user() {
        let id = Uuid::from_u128(5);
        let caller = Caller {
            claims: serde_json::json!({"authorization_details": [
                {"type": "urn:altinn:systemuser", "systemuser_id": [id.to_string()]}
            ]}),
            ..Caller::default()
        };
        assert_eq!(system_user_of(&caller), Some(id));
        assert_eq!(system_user_of(&Caller::default()), None);
    }
}
