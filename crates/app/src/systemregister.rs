//! The system register: the systems vendors offer, as end users see them and as their
//! vendors keep them. Every vendor call checks ownership: a vendor reads and changes only
//! its own systems (a register admin or the operator may act for any vendor), every
//! change is validated against the catalogue and the other systems, and lands in the
//! system's change log.

use std::collections::{HashMap, HashSet};

use systembruker_domain::system::{
    AccessPackageRef, RegisteredSystem, Right, SystemFacts, SystemSummary, ValidationFailure,
    validate_system, vld,
};
use systembruker_domain::{OrgNumber, RuleError};
use systembruker_storage::{StoredSystem, SystemChange, SystemChangeType};
use uuid::Uuid;

use crate::caller::{actor, vendor_of};
use crate::{App, AppError, AppResult, Caller};

/// The scope that lets a caller keep the systems of every vendor.
const REGISTER_ADMIN_SCOPE: &str = "altinn:authentication/systemregister.admin";

/// A system that exists, deleted or not, or AUTH-00011.
async fn any_system(app: &App, system_id: &str) -> AppResult<StoredSystem> {
    app.store
        .system(system_id)
        .await?
        .ok_or_else(|| not_found(system_id))
}

fn not_found(system_id: &str) -> AppError {
    RuleError::SystemNotFound {
        system: system_id.to_string(),
    }
    .into()
}

/// A live (not deleted) system, or AUTH-00011.
pub async fn live_system(app: &App, system_id: &str) -> AppResult<StoredSystem> {
    let stored = any_system(app, system_id).await?;
    if stored.system.is_deleted {
        return Err(not_found(system_id));
    }
    Ok(stored)
}

/// Whether the caller may act for any vendor (register admin or operator).
fn is_register_admin(caller: &Caller) -> bool {
    caller.is_admin() || caller.has_scope(REGISTER_ADMIN_SCOPE)
}

/// The caller must be the system's vendor (or a register admin).
fn check_owner(caller: &Caller, vendor: Option<OrgNumber>, system_id: &str) -> AppResult<()> {
    if is_register_admin(caller) {
        return Ok(());
    }
    if vendor == Some(vendor_of(caller)?) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "system {system_id} belongs to another vendor; only its vendor may read or change it"
        )))
    }
}

/// A system as end users see it, with its vendor's name.
pub async fn summary(app: &App, stored: StoredSystem) -> AppResult<SystemSummary> {
    let system = stored.system;
    let vendor = system.vendor_org();
    let vendor_name = match vendor {
        Some(org) => app
            .store
            .organization(&org)
            .await?
            .map(|p| p.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(SystemSummary {
        system_id: system.id,
        system_vendor_org_number: vendor.map(|o| o.to_string()).unwrap_or_default(),
        system_vendor_org_name: vendor_name,
        name: system.name,
        description: system.description,
        rights: system.rights,
        access_packages: system.access_packages,
        is_visible: system.is_visible,
    })
}

/// The systems offered for end-user creation, with their vendors' names.
pub async fn visible_summaries(app: &App) -> AppResult<Vec<SystemSummary>> {
    let mut out = Vec::new();
    for stored in app.store.visible_systems().await? {
        out.push(summary(app, stored).await?);
    }
    Ok(out)
}

/// The calling vendor's systems.
pub async fn vendor_systems(app: &App, caller: &Caller) -> AppResult<Vec<RegisteredSystem>> {
    let vendor = vendor_of(caller)?;
    let systems = app.store.systems_by_vendor(vendor.as_str()).await?;
    Ok(systems.into_iter().map(|s| s.system).collect())
}

/// One of the caller's systems, deleted or not.
pub async fn vendor_system(
    app: &App,
    caller: &Caller,
    system_id: &str,
) -> AppResult<RegisteredSystem> {
    let stored = any_system(app, system_id).await?;
    check_owner(caller, stored.system.vendor_org(), system_id)?;
    Ok(stored.system)
}

/// The facts validation needs: which named resources exist (and their type), which of
/// the client ids other live systems hold, and (on create) whether the id is taken.
async fn facts_for(app: &App, system: &RegisteredSystem, creating: bool) -> AppResult<SystemFacts> {
    let mut resources = HashMap::new();
    for pair in system.rights.iter().flat_map(|r| &r.resource) {
        if let Some(stored) = app.store.resource(&pair.value).await? {
            resources.insert(pair.value.clone(), stored.resource.resource_type);
        }
    }
    let mut client_ids_taken = HashSet::new();
    let mut client_ids_foreign = HashSet::new();
    for client_id in &system.client_id {
        if let Some(owner) = app.store.system_of_client(client_id).await?
            && owner != system.id
        {
            client_ids_taken.insert(client_id.clone());
        }
        if is_foreign_client(app, client_id, system.vendor_org()).await? {
            client_ids_foreign.insert(client_id.clone());
        }
    }
    let id_taken = creating && app.store.system(&system.id).await?.is_some();
    Ok(SystemFacts {
        id_taken,
        resources,
        client_ids_taken,
        client_ids_foreign,
        dev: app.settings.dev,
    })
}

/// Whether `client_id` is a Maskinporten client of this platform whose consumer org is
/// not the system's vendor. Ids of no client here (the platform makes client ids as
/// random uuids, so none can be claimed before it exists) are the vendor's to name.
async fn is_foreign_client(
    app: &App,
    client_id: &str,
    vendor: Option<OrgNumber>,
) -> AppResult<bool> {
    let Ok(id) = Uuid::parse_str(client_id) else {
        return Ok(false);
    };
    Ok(app
        .store
        .client(id)
        .await?
        .is_some_and(|client| Some(client.consumer_org) != vendor))
}

/// One validation failure as the register reports it.
fn invalid(code: &'static str, title: String, path: &str) -> AppError {
    AppError::Validation(vec![ValidationFailure {
        code,
        title,
        paths: vec![path.into()],
    }])
}

/// The vendor in the body must be valid (VLD-00000) and the caller's own (403), before
/// any other validation error is returned.
fn check_body_vendor(caller: &Caller, system: &RegisteredSystem) -> AppResult<()> {
    let Some(vendor) = system.vendor_org() else {
        return Err(invalid(
            vld::VENDOR_PREFIX,
            "the vendor must be {\"authority\":\"iso6523-actorid-upis\",\"ID\":\"0192:<orgno>\"}"
                .into(),
            "/vendor/ID",
        ));
    };
    check_owner(caller, Some(vendor), &system.id)
}

async fn validated(app: &App, system: &RegisteredSystem, creating: bool) -> AppResult<()> {
    let facts = facts_for(app, system, creating).await?;
    let failures = validate_system(system, app.catalogue, &facts);
    if failures.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(failures))
    }
}

/// Registers a new system of the caller; returns its internal id.
pub async fn create_system(
    app: &App,
    caller: &Caller,
    system: RegisteredSystem,
) -> AppResult<Uuid> {
    let mut system = system.trimmed();
    system.is_deleted = false;
    check_body_vendor(caller, &system)?;
    validated(app, &system, true).await?;
    Ok(app.store.create_system(&system, &actor(caller)).await?)
}

/// The live system for an update: AUTH-00011 if missing, 403 if another vendor's, 400 if
/// deleted.
async fn system_to_change(
    app: &App,
    caller: &Caller,
    system_id: &str,
) -> AppResult<RegisteredSystem> {
    let system = vendor_system(app, caller, system_id).await?;
    if system.is_deleted {
        return Err(AppError::BadRequest(format!(
            "system {system_id} is deleted and cannot be changed"
        )));
    }
    Ok(system)
}

async fn store_change(
    app: &App,
    caller: &Caller,
    system: RegisteredSystem,
    change: SystemChangeType,
) -> AppResult<()> {
    validated(app, &system, false).await?;
    Ok(app
        .store
        .update_system(&system, change, &actor(caller))
        .await?)
}

/// Replaces the whole system; its id and vendor cannot change.
pub async fn replace_system(
    app: &App,
    caller: &Caller,
    system_id: &str,
    system: RegisteredSystem,
) -> AppResult<()> {
    let mut system = system.trimmed();
    system.is_deleted = false;
    let current = system_to_change(app, caller, system_id).await?;
    if system.id != system_id {
        return Err(invalid(
            vld::ID_MISMATCH,
            format!("the body's id must equal the path's ({system_id})"),
            "/id",
        ));
    }
    if system.vendor_org() != current.vendor_org() {
        return Err(RuleError::SystemNotOfVendor {
            system: system_id.to_string(),
            vendor: system.vendor.id,
        }
        .into());
    }
    store_change(app, caller, system, SystemChangeType::Update).await
}

/// Replaces the rights the system offers.
pub async fn replace_rights(
    app: &App,
    caller: &Caller,
    system_id: &str,
    rights: Vec<Right>,
) -> AppResult<()> {
    let change = SystemChangeType::RightsUpdate;
    replace_part(app, caller, system_id, change, |system| {
        system.rights = rights
    })
    .await
}

/// Replaces the access packages the system offers.
pub async fn replace_packages(
    app: &App,
    caller: &Caller,
    system_id: &str,
    packages: Vec<AccessPackageRef>,
) -> AppResult<()> {
    let change = SystemChangeType::AccessPackageUpdate;
    replace_part(app, caller, system_id, change, |system| {
        system.access_packages = packages;
    })
    .await
}

/// Changes one part of the live system and stores it, validated, as `change`.
async fn replace_part(
    app: &App,
    caller: &Caller,
    system_id: &str,
    change: SystemChangeType,
    edit: impl FnOnce(&mut RegisteredSystem),
) -> AppResult<()> {
    let mut system = system_to_change(app, caller, system_id).await?;
    edit(&mut system);
    store_change(app, caller, system.trimmed(), change).await
}

/// Deletes the system (softly: its id stays taken and its history kept).
pub async fn delete_system(app: &App, caller: &Caller, system_id: &str) -> AppResult<()> {
    system_to_change(app, caller, system_id).await?;
    if app.store.delete_system(system_id, &actor(caller)).await? {
        Ok(())
    } else {
        Err(not_found(system_id))
    }
}

/// The system's change log, oldest first.
pub async fn changelog(
    app: &App,
    caller: &Caller,
    system_id: &str,
) -> AppResult<Vec<SystemChange>> {
    vendor_system(app, caller, system_id).await?;
    Ok(app.store.system_changelog(system_id).await?)
}
