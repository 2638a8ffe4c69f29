//! Maskinporten scopes and their owners: registering a scope for an organisation, and the
//! resource registry's hooks that keep a resource's `MaskinportenScope` its owner's.

use systembruker_domain::OrgNumber;
use systembruker_domain::resource::{ReferenceType, ServiceResource};
use systembruker_storage::now_millis;
use systembruker_token::PortError;
use systembruker_token::ports::RegisteredScope;
use systembruker_token::scopes::{check_scope_name, is_reserved};

use crate::{App, AppError, AppResult};

/// A refused scope name (`MP-200`) in the field `path`.
fn bad_name(path: &str, message: impl Into<String>) -> AppError {
    AppError::InvalidField {
        code: "MP-200",
        path: path.into(),
        message: message.into(),
    }
}

/// Registers a scope for an owner (operator API, resource registry, demo). Platform names
/// are refused; the same scope by another owner is a conflict.
pub async fn register_owned_scope(
    app: &App,
    name: &str,
    owner: OrgNumber,
    description: Option<String>,
) -> AppResult<RegisteredScope> {
    check_scope_name(name).map_err(|e| bad_name("/name", e))?;
    if is_reserved(name) {
        return Err(bad_name(
            "/name",
            format!("{name} is a scope of the platform itself and cannot be registered"),
        ));
    }
    Ok(app
        .store
        .register_scope(&RegisteredScope {
            name: name.to_string(),
            owner_org: owner,
            description,
            created_at: now_millis(),
        })
        .await?)
}

/// Every `MaskinportenScope` a resource names.
fn resource_scopes(resource: &ServiceResource) -> impl Iterator<Item = &str> {
    resource
        .resource_references
        .iter()
        .filter(|r| r.reference_type == ReferenceType::MaskinportenScope)
        .map(|r| r.reference.as_str())
}

fn foreign_scope(scope: &str, owner: &str) -> AppError {
    AppError::Conflict(format!(
        "the MaskinportenScope {scope} belongs to {owner}; a resource may name only its owner's scopes"
    ))
}

/// The resource registry's check before a resource is stored: every `MaskinportenScope`
/// it names must be its owner's (or still free). A scope of the platform itself
/// (`systembruker:admin`, `altinn:authorization/authorize`, …) or one registered by
/// another organisation is a 409, so no resource can pose as the owner of a scope it
/// does not hold.
pub async fn check_resource_scopes(app: &App, resource: &ServiceResource) -> AppResult<()> {
    let owner = resource.has_competent_authority.organization;
    for scope in resource_scopes(resource) {
        check_scope_name(scope).map_err(|e| bad_name("/resourceReferences", e))?;
        if is_reserved(scope) {
            return Err(foreign_scope(scope, "the platform"));
        }
        if let Some(registered) = app.store.registered_scope(scope).await?
            && registered.owner_org != owner
        {
            return Err(foreign_scope(scope, "another organisation"));
        }
        // A scope under a prefix given to another organisation is that organisation's.
        let prefix = scope.split_once(':').map_or(scope, |(prefix, _)| prefix);
        let prefixes = app.store.scope_prefixes().await?;
        if prefixes
            .iter()
            .any(|p| p.prefix == prefix && p.owner_org != owner)
        {
            return Err(foreign_scope(scope, "the owner of its prefix"));
        }
    }
    Ok(())
}

/// The resource registry's hook: each `MaskinportenScope` a resource names is registered
/// with the resource's owner ([`check_resource_scopes`] ran before it was stored).
pub async fn register_resource_scope(app: &App, resource: &ServiceResource) -> AppResult<()> {
    let owner = resource.has_competent_authority.organization;
    for scope in resource_scopes(resource) {
        register_owned_scope(app, scope, owner, None)
            .await
            .map_err(|e| match e {
                AppError::Port(PortError::Conflict(_)) | AppError::Conflict(_) => {
                    foreign_scope(scope, "another organisation")
                }
                other => other,
            })?;
    }
    Ok(())
}
