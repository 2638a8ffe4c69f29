//! System users: the owner's list, detail and delete, end-user-driven creation, the
//! vendor's lookups and Maskinporten's lookup by client, and the operator's history.

use std::fmt;

use systembruker_domain::party::Party;
use systembruker_domain::system::{AccessPackageRef, Right};
use systembruker_domain::systemuser::{SystemUserType, check_packages};
use systembruker_domain::{OrgNumber, RuleError};
use systembruker_storage::{
    Approval, HistoryEntry, HistoryFilter, NewSystemUser, StoredSystemUser, SystemUserKey,
};
use uuid::Uuid;

use crate::access::{self, Need};
use crate::approval::resource_ids;
use crate::caller::actor;
use crate::requests::{callers_system, live_system};
use crate::{App, AppError, AppResult, Caller};

/// A party as a route names it: by its id (as the reference) or by its uuid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartyKey {
    Id(i64),
    Uuid(Uuid),
}

impl fmt::Display for PartyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(id) => write!(f, "{id}"),
            Self::Uuid(uuid) => write!(f, "{uuid}"),
        }
    }
}

/// The party, which must be an organisation: only organisations own system users.
pub async fn owner_party(app: &App, key: PartyKey) -> AppResult<Party> {
    let party = match key {
        PartyKey::Id(id) => app.store.party_by_id(id).await?,
        PartyKey::Uuid(uuid) => app.store.party_by_uuid(uuid).await?,
    };
    let party =
        party.ok_or_else(|| AppError::NotFound(format!("party {key} is not in the register")))?;
    if party.org_number().is_none() {
        return Err(AppError::BadRequest(format!(
            "party {key} is a person; system users belong to organisations"
        )));
    }
    Ok(party)
}

/// The organisation number of a party known to be an organisation.
pub fn org_of(party: &Party) -> String {
    party
        .org_number()
        .map(|o| o.to_string())
        .unwrap_or_default()
}

/// What a system user holds now, as rights on resources and package references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holdings {
    pub rights: Vec<Right>,
    pub access_packages: Vec<AccessPackageRef>,
}

/// The live grants of a system user, and the packages an agent user keeps on itself
/// (its clients provide them).
async fn holdings(app: &App, user: &StoredSystemUser) -> AppResult<Holdings> {
    let grants = app.store.system_user_grants(user.id).await?;
    let mut resources: Vec<&str> = grants
        .rights
        .iter()
        .map(|r| r.resource_id.as_str())
        .collect();
    resources.dedup();
    let access_packages = grants
        .packages
        .iter()
        .chain(&user.access_packages)
        .map(|code| AccessPackageRef::new(code))
        .collect();
    Ok(Holdings {
        rights: resources.into_iter().map(Right::on_resource).collect(),
        access_packages,
    })
}

/// The party's own live system user, else AUTH-00015 (also for another party's).
async fn owned_user(app: &App, party: &Party, id: Uuid) -> AppResult<StoredSystemUser> {
    let org = org_of(party);
    app.store
        .system_user(id)
        .await?
        .filter(|u| !u.is_deleted && u.owner_org == org)
        .ok_or_else(|| RuleError::SystemUserNotFound { id: id.to_string() }.into())
}

/// The party, for a user the policy lets do what `need` names (AUTH-00066 otherwise).
async fn party_for(
    app: &App,
    caller: &Caller,
    party: PartyKey,
    need: Need,
) -> AppResult<(Party, access::Standing)> {
    let party = owner_party(app, party).await?;
    let standing = access::require(app, caller, party.uuid, need).await?;
    Ok((party, standing))
}

/// The party's system users of `kind`.
pub async fn list(
    app: &App,
    caller: &Caller,
    party: PartyKey,
    kind: SystemUserType,
) -> AppResult<Vec<StoredSystemUser>> {
    // The reference lists standard users to access managers ("AM read") and agent
    // users to whoever sees the overview, client administrators included.
    let need = match kind {
        SystemUserType::Standard => Need::ReadAccess,
        SystemUserType::Agent => Need::ReadOverview,
    };
    let (party, _) = party_for(app, caller, party, need).await?;
    Ok(app.store.system_users_of(&org_of(&party), kind).await?)
}

/// One of the party's system users with what it holds now, for a user who may see it.
pub async fn detail(
    app: &App,
    caller: &Caller,
    party: PartyKey,
    id: Uuid,
) -> AppResult<(StoredSystemUser, Holdings)> {
    let (party, _) = party_for(app, caller, party, Need::ReadOverview).await?;
    let user = owned_user(app, &party, id).await?;
    let holdings = holdings(app, &user).await?;
    Ok((user, holdings))
}

/// Deletes one of the party's standard system users; the caller must be access manager.
pub async fn delete(app: &App, caller: &Caller, party: PartyKey, id: Uuid) -> AppResult<()> {
    let (party, _) = party_for(app, caller, party, Need::ManageAccess).await?;
    let missing = || RuleError::SystemUserNotFound { id: id.to_string() };
    let user = app
        .store
        .system_user(id)
        .await?
        .filter(|u| !u.is_deleted)
        .ok_or_else(missing)?;
    if user.owner_org != org_of(&party) {
        return Err(RuleError::SystemUserNotOwned {
            id: id.to_string(),
            party: party.id.to_string(),
        }
        .into());
    }
    if user.user_type != SystemUserType::Standard {
        return Err(RuleError::ExpectedStandard.into());
    }
    if !app.store.delete_system_user(id, &actor(caller)).await? {
        return Err(missing().into());
    }
    Ok(())
}

/// End-user-driven creation: a standard system user with every right and package of the
/// system, after the same checks as an approval; the caller must be access manager.
pub async fn create(
    app: &App,
    caller: &Caller,
    party: PartyKey,
    system_id: &str,
    integration_title: Option<String>,
) -> AppResult<StoredSystemUser> {
    let (party, standing) = party_for(app, caller, party, Need::ManageAccess).await?;
    let system = live_system(app, system_id.trim()).await?;
    let org = org_of(&party);
    let key = SystemUserKey {
        system_id: system.id.clone(),
        org: org.clone(),
        external_ref: org,
    };
    if app.store.system_user_by_key(&key).await?.is_some() {
        return Err(RuleError::SystemUserExists.into());
    }
    let codes = check_packages(
        &system.access_packages,
        &system,
        SystemUserType::Standard,
        app.catalogue,
    )?;
    let resources = resource_ids(&system.rights);
    let grants = access::delegation_check(app, &standing, &resources, &codes).await?;
    let user = NewSystemUser {
        id: Uuid::new_v4(),
        key,
        owner_party_uuid: party.uuid,
        integration_title: integration_title
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| system.name_nb().to_string()),
        user_type: SystemUserType::Standard,
        access_packages: Vec::new(),
    };
    match app
        .store
        .create_system_user(&user, &grants, &actor(caller))
        .await?
    {
        Approval::Approved(stored) => Ok(*stored),
        Approval::KeyTaken | Approval::NotNew => Err(RuleError::SystemUserExists.into()),
    }
}

/// Maskinporten's lookup: the system user a client acts as for the vendor and owner;
/// the external reference defaults to the owner's organisation number.
pub async fn for_client(
    app: &App,
    client_id: &str,
    vendor: &OrgNumber,
    owner: &OrgNumber,
    external_ref: Option<&str>,
) -> AppResult<StoredSystemUser> {
    let external_ref = external_ref.unwrap_or(owner.as_str());
    app.store
        .system_user_for_client(client_id, vendor.as_str(), owner.as_str(), external_ref)
        .await?
        .ok_or_else(|| {
            RuleError::NoSystemUserForKey {
                key: "client, vendor, owner and external reference".into(),
            }
            .into()
        })
}

/// The vendor's lookup of a system user of its own system by key; the external
/// reference defaults to the organisation number.
pub async fn by_key(
    app: &App,
    caller: &Caller,
    system_id: String,
    org: &OrgNumber,
    external_ref: Option<String>,
) -> AppResult<StoredSystemUser> {
    callers_system(app, caller, &system_id).await?;
    let key = SystemUserKey {
        system_id,
        org: org.to_string(),
        external_ref: external_ref.unwrap_or_else(|| org.to_string()),
    };
    app.store.system_user_by_key(&key).await?.ok_or_else(|| {
        RuleError::NoSystemUserForKey {
            key: "system, organisation and external reference".into(),
        }
        .into()
    })
}

/// Up to `limit` of the system users of the vendor's system, after the user `after`.
pub async fn by_system(
    app: &App,
    caller: &Caller,
    system_id: &str,
    after: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<StoredSystemUser>> {
    callers_system(app, caller, system_id).await?;
    Ok(app
        .store
        .system_users_by_system(system_id, after, limit)
        .await?)
}

/// The append-only history of systems, requests, system users and their grants.
pub async fn history(app: &App, filter: &HistoryFilter) -> AppResult<Vec<HistoryEntry>> {
    Ok(app.store.history(filter).await?)
}
