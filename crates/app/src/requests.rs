//! Vendor-driven system-user requests: create, look up, list and delete, for standard and
//! agent requests. Every use case checks that the calling vendor owns the request's
//! system; another vendor's request is "not found" (AUTH-00011), so vendors cannot probe
//! each other's customers.

use systembruker_domain::system::{AccessPackageRef, RegisteredSystem, Right};
use systembruker_domain::systemuser::{
    RequestStatus, SystemUserType, check_packages, check_redirect_url, check_rights_subset,
    check_standard_request,
};
use systembruker_domain::{OrgNumber, RuleError};
use systembruker_storage::{RequestCreation, StoredRequest, SystemUserKey, now_millis};
use uuid::Uuid;

use crate::caller::{actor, vendor_of};
use crate::lifecycle::{self, Record, Transition};
use crate::{App, AppError, AppResult, Caller, Settings};

/// A system that exists and is not deleted, else AUTH-00011.
pub async fn live_system(app: &App, system_id: &str) -> AppResult<RegisteredSystem> {
    app.store
        .system(system_id)
        .await?
        .filter(|s| !s.system.is_deleted)
        .map(|s| s.system)
        .ok_or_else(|| {
            RuleError::SystemNotFound {
                system: system_id.to_string(),
            }
            .into()
        })
}

/// The vendor's own live system, else AUTH-00011 (also for another vendor's system, so
/// its existence stays hidden).
pub async fn own_system(
    app: &App,
    vendor: &OrgNumber,
    system_id: &str,
) -> AppResult<RegisteredSystem> {
    let system = live_system(app, system_id).await?;
    if system.vendor_org().as_ref() != Some(vendor) {
        return Err(RuleError::SystemNotOfVendor {
            system: system_id.to_string(),
            vendor: vendor.to_string(),
        }
        .into());
    }
    Ok(system)
}

/// The calling vendor's own live system (see [`own_system`]).
pub async fn callers_system(
    app: &App,
    caller: &Caller,
    system_id: &str,
) -> AppResult<RegisteredSystem> {
    own_system(app, &vendor_of(caller)?, system_id).await
}

/// Whether a request has passed the configured answer time.
pub fn is_timed_out(settings: &Settings, request: &StoredRequest) -> bool {
    request.status == RequestStatus::Timedout
        || (request.status == RequestStatus::New
            && request.created_at < settings.request_cutoff_millis(now_millis()))
}

/// A live request of `kind`, with a timed-out `New` stored as `Timedout` on the way.
/// Missing, deleted or of the other kind: AUTH-00010 (AUTH-00030 for agent).
pub async fn live_request(app: &App, id: Uuid, kind: SystemUserType) -> AppResult<StoredRequest> {
    let mut request = app
        .store
        .request(id)
        .await?
        .filter(|r| !r.is_deleted && r.user_type == kind)
        .ok_or_else(|| RuleError::RequestNotFound {
            id: id.to_string(),
            agent: kind == SystemUserType::Agent,
        })?;
    if request.status == RequestStatus::New && is_timed_out(&app.settings, &request) {
        let status = lifecycle::check(
            Record::Request,
            request.status,
            Transition::TimeOut,
            lifecycle::Party::Clock,
        )?;
        let system = actor(&Caller::default());
        app.store.close_request(id, status, &system).await?;
        request.status = status;
    }
    Ok(request)
}

/// The vendor must own the request's system: otherwise the request "does not exist".
async fn owned_request(
    app: &App,
    caller: &Caller,
    id: Uuid,
    kind: SystemUserType,
) -> AppResult<StoredRequest> {
    let vendor = vendor_of(caller)?;
    let request = live_request(app, id, kind).await?;
    let owner = app
        .store
        .system(&request.system_id)
        .await?
        .and_then(|s| s.system.vendor_org());
    if owner != Some(vendor) {
        return Err(RuleError::RequestNotOfVendor {
            id: id.to_string(),
            vendor: vendor.to_string(),
        }
        .into());
    }
    Ok(request)
}

/// What a vendor asks for (`CreateRequestSystemUser`), as sent.
#[derive(Debug, Clone, Default)]
pub struct NewRequest {
    pub system_id: String,
    pub party_org: String,
    pub external_ref: Option<String>,
    pub rights: Option<Vec<Right>>,
    pub access_packages: Option<Vec<AccessPackageRef>>,
    pub redirect_url: Option<String>,
    pub integration_title: Option<String>,
}

/// The rules on the request's content: the party, the redirect URL, the rights and
/// the packages.
async fn check_content(
    app: &App,
    new: &NewRequest,
    system: &RegisteredSystem,
    kind: SystemUserType,
) -> AppResult<()> {
    let known = match OrgNumber::parse(&new.party_org).ok() {
        Some(org) => app.store.organization(&org).await?.is_some(),
        None => false,
    };
    if !known {
        return Err(RuleError::PartyNotInRegister {
            org: format!("{:?}", new.party_org),
        }
        .into());
    }
    check_redirect_url(new.redirect_url.as_deref(), system)?;
    let packages = new.access_packages.as_deref().unwrap_or_default();
    match kind {
        SystemUserType::Standard => {
            check_standard_request(
                new.rights.as_deref(),
                new.access_packages.as_deref(),
                system,
            )?;
        }
        SystemUserType::Agent => {
            if packages.is_empty() {
                return Err(RuleError::AgentNeedsPackage.into());
            }
            check_rights_subset(&[], system)?;
        }
    }
    check_packages(packages, system, kind, app.catalogue)?;
    Ok(())
}

/// Trimmed, and `None` when empty.
fn given(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// A vendor asks a customer for a system user. A re-post for a key with a live request
/// answers with that request, whatever its status (`Existing`).
pub async fn create(
    app: &App,
    caller: &Caller,
    new: NewRequest,
    kind: SystemUserType,
) -> AppResult<RequestCreation> {
    let vendor = vendor_of(caller)?;
    let system = own_system(app, &vendor, new.system_id.trim()).await?;
    let party_org = new.party_org.trim().to_string();
    let key = SystemUserKey {
        system_id: system.id.clone(),
        external_ref: given(new.external_ref.clone()).unwrap_or_else(|| party_org.clone()),
        org: party_org,
    };
    if app.store.system_user_by_key(&key).await?.is_some() {
        return Err(RuleError::SystemUserExists.into());
    }
    if let Some(existing) = app.store.request_by_key(&key, kind).await? {
        return Ok(RequestCreation::Existing(existing));
    }
    check_content(app, &new, &system, kind).await?;
    let request = StoredRequest {
        id: Uuid::new_v4(),
        user_type: kind,
        system_id: key.system_id,
        party_org: key.org,
        external_ref: key.external_ref,
        integration_title: given(new.integration_title)
            .unwrap_or_else(|| system.name_nb().to_string()),
        rights: match kind {
            SystemUserType::Standard => new.rights.unwrap_or_default(),
            SystemUserType::Agent => Vec::new(),
        },
        access_packages: new.access_packages.unwrap_or_default(),
        redirect_url: given(new.redirect_url),
        status: RequestStatus::New,
        escalated: false,
        is_deleted: false,
        created_at: 0,
        updated_at: 0,
        changed_by: String::new(),
    };
    Ok(app.store.create_request(&request, &actor(caller)).await?)
}

/// One of the vendor's requests.
pub async fn get(
    app: &App,
    caller: &Caller,
    id: Uuid,
    kind: SystemUserType,
) -> AppResult<StoredRequest> {
    owned_request(app, caller, id, kind).await
}

/// The vendor's live request for a key (AUTH-00010 when there is none).
pub async fn by_key(
    app: &App,
    caller: &Caller,
    key: SystemUserKey,
    kind: SystemUserType,
) -> AppResult<StoredRequest> {
    callers_system(app, caller, &key.system_id).await?;
    let request = app
        .store
        .request_by_key(&key, kind)
        .await?
        .ok_or(RuleError::NoRequestForKey)?;
    live_request(app, request.id, kind).await
}

/// Up to `limit` of the requests for the vendor's system, after the request `after`.
pub async fn by_system(
    app: &App,
    caller: &Caller,
    system_id: &str,
    after: Option<Uuid>,
    limit: i64,
    kind: SystemUserType,
) -> AppResult<Vec<StoredRequest>> {
    callers_system(app, caller, system_id).await?;
    Ok(app
        .store
        .requests_by_system(system_id, kind, after, limit)
        .await?)
}

/// Deletes one of the vendor's requests, standard or agent. Unlike the reference, only
/// the vendor of the request's system may delete it.
pub async fn delete(app: &App, caller: &Caller, id: Uuid) -> AppResult<()> {
    let request = match owned_request(app, caller, id, SystemUserType::Standard).await {
        Err(AppError::Rule(RuleError::RequestNotFound { agent: false, .. })) => {
            owned_request(app, caller, id, SystemUserType::Agent).await?
        }
        other => other?,
    };
    lifecycle::check(
        Record::Request,
        request.status,
        Transition::Delete,
        lifecycle::Party::Vendor,
    )?;
    if !app.store.delete_request(request.id, &actor(caller)).await? {
        return Err(RuleError::RequestNotFound {
            id: id.to_string(),
            agent: false,
        }
        .into());
    }
    Ok(())
}
