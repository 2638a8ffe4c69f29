//! The end user's side of a request: view, approve, reject, escalate, and the access
//! managers' pending list. Approval runs the delegation check for every requested right
//! and package (all or nothing) and then creates the system user in one transaction; of
//! two simultaneous approvals one wins, the other is told the request is no longer New.
//! Standard and agent requests share every use case, parameterised by their type.

use systembruker_domain::party::Party;
use systembruker_domain::systemuser::{
    RequestStatus, SystemUserType, check_packages, check_rights_subset,
};
use systembruker_domain::{OrgNumber, RuleError};
use systembruker_storage::{
    Approval, Grants, NewSystemUser, StoreError, StoredRequest, SystemUserKey, now_millis,
};
use uuid::Uuid;

use crate::access::{self, Need};
use crate::caller::actor;
use crate::lifecycle::{self, Record, Transition};
use crate::requests::{is_timed_out, live_request, live_system};
use crate::systemusers::{PartyKey, org_of, owner_party};
use crate::{App, AppError, AppResult, Caller};

/// A request of a party as a route names it: the party, the request's id and its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestRef {
    pub party: PartyKey,
    pub id: Uuid,
    pub kind: SystemUserType,
}

/// A request as the logged-in user sees it on the request page.
#[derive(Debug, Clone)]
pub struct RequestView {
    pub request: StoredRequest,
    /// The organisation the request is for.
    pub party: Party,
    /// The user may pass the request on to the access managers, but not answer it.
    pub may_escalate_only: bool,
}

/// The request for the user who opens the vendor's link: access managers may answer
/// it, others related to the organisation may escalate it, anyone else is refused.
pub async fn view(
    app: &App,
    caller: &Caller,
    id: Uuid,
    kind: SystemUserType,
) -> AppResult<RequestView> {
    let request = live_request(app, id, kind).await?;
    let party = party_of_request(app, &request).await?;
    let user = access::end_user(app, caller).await?;
    let relation = access::standing(app, user, party.uuid).await?;
    if !relation.access_manager && !relation.related {
        return Err(RuleError::NotAccessManager {
            detail: "the logged-in user has no access to the organisation the request is for"
                .into(),
        }
        .into());
    }
    Ok(RequestView {
        request,
        party,
        may_escalate_only: !relation.access_manager,
    })
}

/// The organisation a request is for; AUTH-00049 if it has left the register.
async fn party_of_request(app: &App, request: &StoredRequest) -> AppResult<Party> {
    let org = OrgNumber::parse(&request.party_org)
        .map_err(|e| StoreError::Corrupt(format!("stored request has a bad org number: {e}")))?;
    app.store.organization(&org).await?.ok_or_else(|| {
        RuleError::PartyLeftRegister {
            org: org.to_string(),
        }
        .into()
    })
}

/// The request in `party`'s name: the party must be the request's organisation
/// (AUTH-00041 / 00042 otherwise).
pub async fn request_for_party(
    app: &App,
    party: &Party,
    id: Uuid,
    kind: SystemUserType,
) -> AppResult<StoredRequest> {
    let request = live_request(app, id, kind).await?;
    if request.party_org != org_of(party) {
        return Err(RuleError::NotForParty {
            what: format!("request {}", request.id),
            party: party.id.to_string(),
            agent: kind == SystemUserType::Agent,
        }
        .into());
    }
    Ok(request)
}

/// One of the party's requests, for a user who may read the party's system access.
pub async fn for_party(app: &App, caller: &Caller, target: RequestRef) -> AppResult<StoredRequest> {
    let party = owner_party(app, target.party).await?;
    access::require(app, caller, party.uuid, Need::ReadAccess).await?;
    request_for_party(app, &party, target.id, target.kind).await
}

/// A request that is not `New` any more: AUTH-00013 naming its status.
fn not_new(status: RequestStatus) -> AppError {
    RuleError::RequestNotNew { status }.into()
}

/// The party and its request, for its access manager, if the lifecycle lets the end
/// user make `answer` (the request is still `New`).
async fn answerable(
    app: &App,
    caller: &Caller,
    target: RequestRef,
    answer: Transition,
) -> AppResult<(Party, access::Standing, StoredRequest)> {
    let party = owner_party(app, target.party).await?;
    let standing = access::require(app, caller, party.uuid, Need::ManageAccess).await?;
    let request = request_for_party(app, &party, target.id, target.kind).await?;
    lifecycle::check(
        Record::Request,
        request.status,
        answer,
        lifecycle::Party::EndUser,
    )?;
    Ok((party, standing, request))
}

/// The access manager approves: the system user is created with the requested rights
/// (standard) or packages (agent, which clients provide later).
pub async fn approve(app: &App, caller: &Caller, target: RequestRef) -> AppResult<()> {
    let kind = target.kind;
    let (party, standing, request) = answerable(app, caller, target, Transition::Accept).await?;
    let system = live_system(app, &request.system_id).await?;
    check_rights_subset(&request.rights, &system)?;
    let codes = check_packages(&request.access_packages, &system, kind, app.catalogue)?;
    let key = SystemUserKey {
        system_id: request.system_id.clone(),
        org: request.party_org.clone(),
        external_ref: request.external_ref.clone(),
    };
    if let Some(existing) = app.store.system_user_by_key(&key).await? {
        return Err(key_taken(app, request.id, existing.id == request.id, kind).await);
    }
    let (grants, access_packages) = match kind {
        SystemUserType::Standard => {
            let resources = resource_ids(&request.rights);
            let grants = access::delegation_check(app, &standing, &resources, &codes).await?;
            (grants, Vec::new())
        }
        // Agent users get their packages through client delegations, later.
        SystemUserType::Agent => (Grants::default(), codes),
    };
    let user = NewSystemUser {
        id: request.id,
        key,
        owner_party_uuid: party.uuid,
        integration_title: request.integration_title.clone(),
        user_type: kind,
        access_packages,
    };
    let cutoff = app.settings.request_cutoff_millis(now_millis());
    match app
        .store
        .approve_request(request.id, &user, &grants, cutoff, &actor(caller))
        .await?
    {
        Approval::Approved(_) => Ok(()),
        Approval::KeyTaken => Err(key_taken(app, request.id, false, kind).await),
        Approval::NotNew => Err(not_new(live_request(app, request.id, kind).await?.status)),
    }
}

/// The resource ids of rights, for the delegation check.
pub(crate) fn resource_ids(rights: &[systembruker_domain::system::Right]) -> Vec<String> {
    rights
        .iter()
        .filter_map(|r| r.resource_id().map(str::to_string))
        .collect()
}

/// The key already has a system user. When this very request created it (a concurrent
/// approval won the race), the answer is the request's new status (409), not AUTH-00004.
async fn key_taken(
    app: &App,
    request_id: Uuid,
    from_this_request: bool,
    kind: SystemUserType,
) -> AppError {
    if !from_this_request {
        return RuleError::SystemUserExists.into();
    }
    match live_request(app, request_id, kind).await {
        Ok(now) if now.status != RequestStatus::New => not_new(now.status),
        Ok(_) => not_new(RequestStatus::Accepted),
        Err(e) => e,
    }
}

/// The access manager rejects the request.
pub async fn reject(app: &App, caller: &Caller, target: RequestRef) -> AppResult<()> {
    let (_, _, request) = answerable(app, caller, target, Transition::Reject).await?;
    if !app
        .store
        .close_request(request.id, RequestStatus::Rejected, &actor(caller))
        .await?
    {
        let now = live_request(app, request.id, target.kind).await?;
        return Err(not_new(now.status));
    }
    Ok(())
}

/// A user related to the party may pass the request to its access managers: `true`
/// when escalated, `false` when the user has no relation to the party (as the reference).
pub async fn escalate(app: &App, caller: &Caller, target: RequestRef) -> AppResult<bool> {
    let party = owner_party(app, target.party).await?;
    let user = access::end_user(app, caller).await?;
    let request = request_for_party(app, &party, target.id, target.kind).await?;
    if !access::standing(app, user, party.uuid).await?.related {
        return Ok(false);
    }
    lifecycle::check(
        Record::Request,
        request.status,
        Transition::Escalate,
        lifecycle::Party::EndUser,
    )?;
    Ok(app
        .store
        .escalate_request(request.id, &actor(caller))
        .await?)
}

/// Escalated `New` requests for the organisation `org`, for its access managers (the
/// reference's standard list ignored `escalated`; the portal shows escalated ones only).
pub async fn pending(
    app: &App,
    caller: &Caller,
    party: PartyKey,
    org: &str,
    kind: SystemUserType,
) -> AppResult<(Party, Vec<StoredRequest>)> {
    let party = owner_party(app, party).await?;
    access::require(app, caller, party.uuid, Need::ManageAccess).await?;
    if org_of(&party) != org.trim() {
        return Err(RuleError::NotForParty {
            what: format!("organisation {org}"),
            party: party.id.to_string(),
            agent: false,
        }
        .into());
    }
    let rows = app.store.pending_requests(org.trim(), kind).await?;
    let live = rows
        .into_iter()
        .filter(|r| !is_timed_out(&app.settings, r))
        .collect();
    Ok((party, live))
}
