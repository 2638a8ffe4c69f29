//! An API owner's own scopes and who may use them. A scope is `prefix:subscope` under a
//! prefix the operator gave the owner (the database refuses any other owner too); an
//! owner sees and changes only its own scopes, and another's is "not found".

use systembruker_domain::OrgNumber;
use systembruker_domain::selfservice::{
    check_integration_types, check_prefix, check_prefix_owner, scope_name,
};
use systembruker_storage::{Actor, ScopeDetails, ScopeGrant, ScopePrefix, now_millis};
use systembruker_token::MAX_ACCESS_TOKEN_LIFETIME;
use systembruker_token::scopes::is_reserved;

use super::Developer;
use crate::{App, AppError, AppResult};

/// The owner's settings of a scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSettings {
    pub description: String,
    pub long_description: Option<String>,
    /// Empty: `maskinporten`.
    pub allowed_integration_types: Vec<String>,
    /// Seconds; caps the lifetime of tokens with the scope.
    pub at_max_age: Option<u32>,
    pub accessible_for_all: bool,
    pub delegation_source: Option<String>,
}

/// A scope with its access list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnScope {
    pub scope: ScopeDetails,
    pub access: Vec<ScopeGrant>,
}

fn optional_text(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// Checks the settings and fills in a scope's fields.
fn checked_scope(
    name: String,
    owner: OrgNumber,
    settings: &ScopeSettings,
    created_at: i64,
) -> AppResult<ScopeDetails> {
    let description = settings.description.trim();
    if description.is_empty() || description.chars().count() > 500 {
        return Err(AppError::invalid_field(
            "/description",
            "description must be 1 to 500 characters",
        ));
    }
    let integration_types = if settings.allowed_integration_types.is_empty() {
        vec!["maskinporten".to_string()]
    } else {
        settings.allowed_integration_types.clone()
    };
    check_integration_types(&integration_types)?;
    if let Some(age) = settings.at_max_age
        && !(1..=MAX_ACCESS_TOKEN_LIFETIME).contains(&age)
    {
        return Err(AppError::invalid_field(
            "/at_max_age",
            format!("at_max_age must be 1 to {MAX_ACCESS_TOKEN_LIFETIME} seconds"),
        ));
    }
    let delegation_source = optional_text(settings.delegation_source.as_deref());
    if let Some(source) = &delegation_source
        && !(source.starts_with("https://") || source.starts_with("http://"))
    {
        return Err(AppError::invalid_field(
            "/delegation_source",
            "delegation_source must be the URL of a delegation register (https://…)",
        ));
    }
    Ok(ScopeDetails {
        name,
        owner_org: owner,
        description: Some(description.to_string()),
        long_description: optional_text(settings.long_description.as_deref()),
        integration_types,
        at_max_age: settings.at_max_age,
        accessible_for_all: settings.accessible_for_all,
        delegation_source,
        created_at,
        updated_at: Some(now_millis()),
    })
}

/// The prefixes the operator gave the developer's organisation.
pub async fn own_prefixes(app: &App, developer: &Developer) -> AppResult<Vec<String>> {
    Ok(app
        .store
        .scope_prefixes()
        .await?
        .into_iter()
        .filter(|p| p.owner_org == developer.org)
        .map(|p| p.prefix)
        .collect())
}

/// Creates `prefix:subscope` for the developer's organisation.
pub async fn create(
    app: &App,
    developer: &Developer,
    prefix: &str,
    subscope: &str,
    settings: &ScopeSettings,
) -> AppResult<OwnScope> {
    let name = scope_name(prefix, subscope)?;
    if is_reserved(&name) {
        return Err(AppError::Forbidden(format!(
            "{name} is a scope of the platform itself"
        )));
    }
    let prefix_owner = app
        .store
        .scope_prefixes()
        .await?
        .into_iter()
        .find(|p| p.prefix == prefix)
        .map(|p| p.owner_org);
    check_prefix_owner(prefix, prefix_owner, developer.org)?;
    let scope = checked_scope(name, developer.org, settings, now_millis())?;
    app.store
        .create_scope_recorded(&scope, &developer.actor)
        .await?;
    Ok(OwnScope {
        scope,
        access: Vec::new(),
    })
}

/// The organisation's scopes with their access lists.
pub async fn list(app: &App, developer: &Developer) -> AppResult<Vec<OwnScope>> {
    let mut out = Vec::new();
    for scope in app.store.owned_scopes(&developer.org).await? {
        let access = app.store.scope_grants(&scope.name).await?;
        out.push(OwnScope { scope, access });
    }
    Ok(out)
}

/// One of the organisation's scopes; another's is "not found".
pub async fn get(app: &App, developer: &Developer, name: &str) -> AppResult<OwnScope> {
    let scope = own_scope(app, developer, name).await?;
    let access = app.store.scope_grants(name).await?;
    Ok(OwnScope { scope, access })
}

async fn own_scope(app: &App, developer: &Developer, name: &str) -> AppResult<ScopeDetails> {
    match app.store.scope_details(name).await? {
        Some(scope) if scope.owner_org == developer.org => Ok(scope),
        _ => Err(AppError::NotFound(format!(
            "your organisation owns no scope {name}"
        ))),
    }
}

/// Changes the settings of an own scope.
pub async fn update(
    app: &App,
    developer: &Developer,
    name: &str,
    settings: &ScopeSettings,
) -> AppResult<OwnScope> {
    let existing = own_scope(app, developer, name).await?;
    let scope = checked_scope(
        existing.name.clone(),
        developer.org,
        settings,
        existing.created_at,
    )?;
    app.store
        .update_scope_recorded(&scope, &developer.actor)
        .await?;
    let access = app.store.scope_grants(name).await?;
    Ok(OwnScope { scope, access })
}

/// Gives `consumer` access to an own scope; `false` when it had it already.
pub async fn grant(
    app: &App,
    developer: &Developer,
    name: &str,
    consumer: OrgNumber,
) -> AppResult<bool> {
    own_scope(app, developer, name).await?;
    if app.store.organization(&consumer).await?.is_none() {
        return Err(AppError::invalid_field(
            "/consumer_orgno",
            format!("organisation {consumer} is not in the register"),
        ));
    }
    Ok(app
        .store
        .grant_scope_access_recorded(name, &consumer, &developer.actor)
        .await?)
}

/// Takes `consumer`'s access away: its next token request for the scope is refused.
pub async fn revoke(
    app: &App,
    developer: &Developer,
    name: &str,
    consumer: OrgNumber,
) -> AppResult<()> {
    own_scope(app, developer, name).await?;
    if app
        .store
        .revoke_scope_access_recorded(name, &consumer, &developer.actor)
        .await?
    {
        Ok(())
    } else {
        Err(AppError::NotFound(format!(
            "{consumer} has no access to {name}"
        )))
    }
}

/// Who has access to an own scope.
pub async fn access(app: &App, developer: &Developer, name: &str) -> AppResult<Vec<ScopeGrant>> {
    own_scope(app, developer, name).await?;
    Ok(app.store.scope_grants(name).await?)
}

/// The operator gives `prefix` to `owner` (the operator API and the demo data).
pub async fn give_prefix(
    app: &App,
    prefix: &str,
    owner: OrgNumber,
    actor: &Actor,
) -> AppResult<bool> {
    check_prefix(prefix)?;
    Ok(app.store.give_scope_prefix(prefix, &owner, actor).await?)
}

/// Every prefix and its owner (operator API).
pub async fn prefixes(app: &App) -> AppResult<Vec<ScopePrefix>> {
    Ok(app.store.scope_prefixes().await?)
}
