//! The vendor's side of change requests: ask the owner of one of its standard system
//! users to add or remove rights and packages, look the requests up, delete them. A
//! vendor reaches only the change requests of its own systems; another vendor's is
//! "not found" (AUTH-00010), so vendors cannot probe each other's customers.

use systembruker_domain::system::{AccessPackageRef, Right};
use systembruker_domain::systemuser::{
    RequestStatus, SystemUserType, check_packages, check_redirect_url, check_rights_subset,
};
use systembruker_domain::{OrgNumber, RuleError};
use systembruker_storage::{StoredChangeRequest, StoredSystemUser, SystemUserKey, now_millis};
use uuid::Uuid;

use crate::caller::{actor, vendor_of};
use crate::lifecycle::{self, Record, Transition};
use crate::requests::{callers_system, own_system};
use crate::{App, AppError, AppResult, Caller};

/// What a vendor asks to change (`POST systemuser/changerequest/vendor`), as sent.
#[derive(Debug, Clone, Default)]
pub struct NewChange {
    /// The vendor's correlation id: the change request's id.
    pub id: Uuid,
    pub system_user_id: Uuid,
    pub required_rights: Vec<Right>,
    pub unwanted_rights: Vec<Right>,
    pub required_packages: Vec<AccessPackageRef>,
    pub unwanted_packages: Vec<AccessPackageRef>,
    pub redirect_url: Option<String>,
}

impl NewChange {
    fn asks_nothing(&self) -> bool {
        self.required_rights.is_empty()
            && self.unwanted_rights.is_empty()
            && self.required_packages.is_empty()
            && self.unwanted_packages.is_empty()
    }
}

/// What came of a vendor's change request.
#[derive(Debug, Clone)]
pub enum ChangeCreation {
    /// It asks for nothing: nothing is stored, the request is shown as it would be.
    NoChangeNeeded(StoredChangeRequest),
    /// A request with this correlation id exists for the same system user.
    Existing(StoredChangeRequest),
    Created(StoredChangeRequest),
}

/// The vendor's own live standard system user, else AUTH-00015.
async fn vendor_user(app: &App, vendor: &OrgNumber, id: Uuid) -> AppResult<StoredSystemUser> {
    app.store
        .system_user(id)
        .await?
        .filter(|u| {
            !u.is_deleted
                && u.user_type == SystemUserType::Standard
                && u.vendor_org == vendor.as_str()
        })
        .ok_or_else(|| RuleError::SystemUserNotFound { id: id.to_string() }.into())
}

/// The vendor asks the owner of its system user for a change. The correlation id makes
/// a re-post idempotent; the rights and packages asked for must be the system's.
pub async fn create(app: &App, caller: &Caller, new: NewChange) -> AppResult<ChangeCreation> {
    let vendor = vendor_of(caller)?;
    if new.id == new.system_user_id {
        return Err(AppError::invalid_field(
            "correlation-id",
            "correlation-id must differ from system-user-id",
        ));
    }
    let user = vendor_user(app, &vendor, new.system_user_id).await?;
    let nothing = new.asks_nothing();
    let request = StoredChangeRequest {
        id: new.id,
        system_user_id: user.id,
        system_id: user.system_id.clone(),
        party_org: user.owner_org.clone(),
        external_ref: user.external_ref.clone(),
        required_rights: new.required_rights,
        unwanted_rights: new.unwanted_rights,
        required_packages: new.required_packages,
        unwanted_packages: new.unwanted_packages,
        redirect_url: new
            .redirect_url
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty()),
        status: RequestStatus::New,
        is_deleted: false,
        created_at: now_millis(),
        updated_at: 0,
        changed_by: String::new(),
    };
    if nothing {
        return Ok(ChangeCreation::NoChangeNeeded(request));
    }
    if let Some(existing) = app.store.change_request(request.id).await? {
        if existing.system_user_id != user.id {
            return Err(AppError::Conflict(format!(
                "correlation id {} is used for another system user",
                request.id
            )));
        }
        return Ok(ChangeCreation::Existing(existing));
    }
    let system = own_system(app, &vendor, &user.system_id).await?;
    check_redirect_url(request.redirect_url.as_deref(), &system)?;
    check_rights_subset(&request.required_rights, &system)?;
    check_packages(
        &request.required_packages,
        &system,
        SystemUserType::Standard,
        app.catalogue,
    )?;
    app.store
        .create_change_request(&request, &actor(caller))
        .await?;
    let stored = app
        .store
        .change_request(request.id)
        .await?
        .ok_or_else(|| AppError::Internal("the change request was not stored".into()))?;
    Ok(ChangeCreation::Created(stored))
}

/// A live change request whose system user belongs to the vendor, else AUTH-00010.
pub async fn get(app: &App, caller: &Caller, id: Uuid) -> AppResult<StoredChangeRequest> {
    let vendor = vendor_of(caller)?;
    let not_found = || AppError::from(RuleError::ChangeRequestNotFound { id: id.to_string() });
    let request = app
        .store
        .change_request(id)
        .await?
        .filter(|r| !r.is_deleted)
        .ok_or_else(not_found)?;
    own_system(app, &vendor, &request.system_id)
        .await
        .map_err(|_| not_found())?;
    Ok(request)
}

/// Deletes one of the vendor's change requests.
pub async fn delete(app: &App, caller: &Caller, id: Uuid) -> AppResult<()> {
    let request = get(app, caller, id).await?;
    lifecycle::check(
        Record::ChangeRequest,
        request.status,
        Transition::Delete,
        lifecycle::Party::Vendor,
    )?;
    app.store
        .delete_change_request(request.id, &actor(caller))
        .await?;
    Ok(())
}

/// The change request for a system user's key, for the vendor of its system.
pub async fn by_key(
    app: &App,
    caller: &Caller,
    key: &SystemUserKey,
) -> AppResult<StoredChangeRequest> {
    callers_system(app, caller, &key.system_id).await?;
    Ok(app
        .store
        .change_request_by_key(key)
        .await?
        .ok_or(RuleError::NoChangeRequestForKey)?)
}

/// Up to `limit` of the change requests for the vendor's system, after `after`.
pub async fn by_system(
    app: &App,
    caller: &Caller,
    system_id: &str,
    after: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<StoredChangeRequest>> {
    callers_system(app, caller, system_id).await?;
    Ok(app
        .store
        .change_requests_by_system(system_id, after, limit)
        .await?)
}
