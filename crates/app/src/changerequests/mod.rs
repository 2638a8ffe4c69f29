//! Change requests for standard system users: what the owner's access manager sees and
//! answers. Unlike the reference, the party that answers must own the system user, and
//! approving runs the delegation check on what would be added. The vendor's side (asking
//! for a change, looking requests up) is [`vendor`].

pub mod vendor;

use systembruker_domain::RuleError;
use systembruker_domain::party::Party;
use systembruker_domain::system::{AccessPackageRef, Right};
use systembruker_domain::systemuser::{ChangeDiff, ChangeInput, RequestStatus, change_diff};
use systembruker_storage::{GrantChanges, StoredChangeRequest, StoredSystemUser};
use uuid::Uuid;

use crate::access::{Need, access_manager, delegation_check, require};
use crate::caller::actor;
use crate::lifecycle::{self, Record, Transition};
use crate::{App, AppResult, Caller};

/// The status a reader sees: a `New` request older than the timeout has timed out.
pub fn effective_status(app: &App, request: &StoredChangeRequest) -> RequestStatus {
    let cutoff = app
        .settings
        .request_cutoff_millis(systembruker_storage::now_millis());
    let timed_out = request.status == RequestStatus::Timedout
        || (request.status == RequestStatus::New && request.created_at < cutoff);
    if timed_out {
        RequestStatus::Timedout
    } else {
        request.status
    }
}

/// A change request that is not deleted, else AUTH-00010.
pub async fn live(app: &App, id: Uuid) -> AppResult<StoredChangeRequest> {
    Ok(app
        .store
        .change_request(id)
        .await?
        .filter(|r| !r.is_deleted)
        .ok_or_else(|| RuleError::ChangeRequestNotFound { id: id.to_string() })?)
}

/// A change request and its system user, for a user who may read the owner's access.
pub async fn for_reader(
    app: &App,
    caller: &Caller,
    id: Uuid,
) -> AppResult<(StoredChangeRequest, StoredSystemUser)> {
    let request = live(app, id).await?;
    let user = app
        .store
        .system_user(request.system_user_id)
        .await?
        .ok_or_else(|| RuleError::SystemUserNotFound {
            id: request.system_user_id.to_string(),
        })?;
    // Change requests cannot be escalated (unlike creation requests), so only those
    // who may read the organisation's system access see them.
    require(app, caller, user.owner_party_uuid, Need::ReadAccess).await?;
    Ok((request, user))
}

/// The change request in `party`'s name: the party must own the system user.
pub async fn for_party(app: &App, party: &Party, id: Uuid) -> AppResult<StoredChangeRequest> {
    let request = live(app, id).await?;
    let owner = party
        .org_number()
        .map(|o| o.to_string())
        .unwrap_or_default();
    if request.party_org != owner {
        return Err(RuleError::NotForParty {
            what: format!("change request {}", request.id),
            party: party.id.to_string(),
            agent: false,
        }
        .into());
    }
    Ok(request)
}

/// The change request in `party`'s name, for a user who may read the party's access.
pub async fn for_party_reader(
    app: &App,
    caller: &Caller,
    party: &Party,
    id: Uuid,
) -> AppResult<StoredChangeRequest> {
    require(app, caller, party.uuid, Need::ReadAccess).await?;
    for_party(app, party, id).await
}

fn codes(app: &App, packages: &[AccessPackageRef]) -> Vec<String> {
    packages
        .iter()
        .filter_map(|p| app.catalogue.package(&p.urn).ok())
        .map(|p| p.code.clone())
        .collect()
}

fn resources(rights: &[Right]) -> Vec<String> {
    rights
        .iter()
        .filter_map(|r| r.resource_id().map(str::to_string))
        .collect()
}

/// What approving the change request would add and remove now (only additions need
/// the approver's delegation check).
pub async fn plan(app: &App, request: &StoredChangeRequest) -> AppResult<ChangeDiff> {
    let held = app.store.system_user_grants(request.system_user_id).await?;
    let held_rights: Vec<String> = held.rights.iter().map(|r| r.resource_id.clone()).collect();
    let (required_packages, unwanted_packages) = (
        codes(app, &request.required_packages),
        codes(app, &request.unwanted_packages),
    );
    let (required_rights, unwanted_rights) = (
        resources(&request.required_rights),
        resources(&request.unwanted_rights),
    );
    Ok(change_diff(&ChangeInput {
        held_packages: &held.packages,
        held_rights: &held_rights,
        required_packages: &required_packages,
        unwanted_packages: &unwanted_packages,
        required_rights: &required_rights,
        unwanted_rights: &unwanted_rights,
    }))
}

/// Approves a change request in the party's name; the caller must be access manager
/// and may add only what they may delegate.
pub async fn approve(app: &App, caller: &Caller, party: &Party, id: Uuid) -> AppResult<()> {
    let standing = access_manager(app, caller, party.uuid).await?;
    let request = for_party(app, party, id).await?;
    lifecycle::check(
        Record::ChangeRequest,
        request.status,
        Transition::Accept,
        lifecycle::Party::EndUser,
    )?;
    let diff = plan(app, &request).await?;
    // Only what is added needs the approver's delegation check.
    let add = delegation_check(app, &standing, &diff.add_rights, &diff.add_packages).await?;
    let changes = GrantChanges {
        add,
        remove_packages: diff.remove_packages,
        remove_resources: diff.remove_rights,
    };
    if !app
        .store
        .approve_change_request(request.id, &changes, &actor(caller))
        .await?
    {
        return Err(RuleError::ChangeRequestAnswered.into());
    }
    Ok(())
}

/// Rejects a change request in the party's name; the caller must be access manager.
pub async fn reject(app: &App, caller: &Caller, party: &Party, id: Uuid) -> AppResult<()> {
    access_manager(app, caller, party.uuid).await?;
    let request = for_party(app, party, id).await?;
    lifecycle::check(
        Record::ChangeRequest,
        request.status,
        Transition::Reject,
        lifecycle::Party::EndUser,
    )?;
    if !app
        .store
        .close_change_request(request.id, RequestStatus::Rejected, &actor(caller))
        .await?
    {
        return Err(RuleError::ChangeRequestNotNew {
            status: request.status,
        }
        .into());
    }
    Ok(())
}
