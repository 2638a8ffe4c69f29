//! The party register: organisations, persons and the ER roles they hold. Everyone with a
//! token reads it; operators change roles and import parties ([`import`]).

pub mod import;

use systembruker_domain::catalogue::{Catalogue, Role};
use systembruker_domain::party::Party;
use systembruker_domain::{OrgNumber, PartyIdentifier, PersonNumber};
use systembruker_storage::RoleChange as StoredRoleChange;
use uuid::Uuid;

use crate::{App, AppError, AppResult, Caller};

/// The organisation with this number, or NotFound.
pub async fn organization(app: &App, org: &OrgNumber) -> AppResult<Party> {
    app.store
        .organization(org)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("organisation {org} is not in the register")))
}

/// The person with this number, or NotFound (which does not repeat the number: it is
/// personal data).
pub async fn person(app: &App, pid: &PersonNumber) -> AppResult<Party> {
    app.store
        .person(pid)
        .await?
        .ok_or_else(|| AppError::NotFound("no person with that number is in the register".into()))
}

/// The party with this org number or person number, or NotFound.
pub async fn party(app: &App, id: &PartyIdentifier) -> AppResult<Party> {
    let party = match id {
        PartyIdentifier::Org(org) => app.store.organization(org).await?,
        PartyIdentifier::Person(pid) => app.store.person(pid).await?,
    };
    party.ok_or_else(|| AppError::NotFound(format!("party {id} is not in the register")))
}

/// The party with this uuid, or NotFound.
pub async fn party_by_uuid(app: &App, uuid: Uuid) -> AppResult<Party> {
    app.store
        .party_by_uuid(uuid)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("party {uuid} is not in the register")))
}

/// One role held in an organisation: its stored code, the catalogue's role when the
/// catalogue knows the code, and who holds it.
pub struct RoleHolder {
    pub role_code: String,
    pub role: Option<&'static Role>,
    pub holder: Party,
}

/// Who holds which role in `org`. A holder no longer in the register is left out.
pub async fn role_holders(app: &App, org: &Party) -> AppResult<Vec<RoleHolder>> {
    let mut out = Vec::new();
    for assignment in app.store.roles_in(org.uuid).await? {
        let Some(holder) = app.store.party_by_uuid(assignment.to).await? else {
            continue;
        };
        out.push(RoleHolder {
            role: app.catalogue.role(&assignment.role_code).ok(),
            role_code: assignment.role_code,
            holder,
        });
    }
    Ok(out)
}

/// An ER role by code, URN or legacy code; other roles are refused (`path` names the
/// input field in the refusal).
pub fn er_role(catalogue: &'static Catalogue, path: &str, key: &str) -> AppResult<&'static Role> {
    let invalid = |message: String| AppError::InvalidField {
        code: "STD-00011",
        path: path.to_string(),
        message,
    };
    let role = catalogue.role(key).map_err(|e| invalid(e.to_string()))?;
    if !role.is_er_role() {
        return Err(invalid(format!(
            "{key} is not a role of the Central Coordinating Register (ER); only ER roles can be registered here"
        )));
    }
    Ok(role)
}

/// A role to give or take: `to` holds (or is to hold) `role` in the organisation `from`.
pub struct RoleChange {
    pub from: Party,
    pub to: Party,
    pub role: &'static Role,
}

impl RoleChange {
    /// Refuses a role an organisation would hold in itself.
    pub fn new(from: Party, to: Party, role: &'static Role) -> AppResult<Self> {
        if from.uuid == to.uuid {
            return Err(AppError::InvalidField {
                code: "STD-00012",
                path: "/to".into(),
                message: "an organisation cannot hold a role in itself".into(),
            });
        }
        Ok(Self { from, to, role })
    }
}

/// Registers the role; false when it was there already.
pub async fn add_role(app: &App, caller: &Caller, change: &RoleChange) -> AppResult<bool> {
    let RoleChange { from, to, role } = change;
    Ok(app
        .store
        .add_role(from.uuid, to.uuid, &role.code, &caller.audit_name())
        .await?)
}

/// Removes the role, or NotFound when it is not held.
pub async fn remove_role(app: &App, caller: &Caller, change: &RoleChange) -> AppResult<()> {
    let RoleChange { from, to, role } = change;
    let removed = app
        .store
        .remove_role(from.uuid, to.uuid, &role.code, &caller.audit_name())
        .await?;
    if !removed {
        return Err(AppError::NotFound(format!(
            "{} does not hold the role {} in {}",
            to.identifier(),
            role.code,
            from.identifier()
        )));
    }
    Ok(())
}

/// Role changes with a sequence number above `after`, at most `limit` (1 to 1000,
/// 100 when not given).
pub async fn role_changes(
    app: &App,
    after: Option<i64>,
    limit: Option<i64>,
) -> AppResult<Vec<StoredRoleChange>> {
    let limit = limit.unwrap_or(100).clamp(1, 1000);
    Ok(app
        .store
        .role_changes_since(after.unwrap_or(0), limit)
        .await?)
}
