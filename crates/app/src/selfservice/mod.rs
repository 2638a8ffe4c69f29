//! Maskinporten self-service: the journey's set-up phase without an operator. An
//! organisation manages its own Maskinporten clients and keys ([`clients`]); an API
//! owner its own scopes and who may use them ([`scopes`]). The rules are
//! `systembruker_domain::selfservice`; every change is written with its history row.
//!
//! Who may act for an organisation is a [`Developer`]: a Maskinporten token of the
//! organisation's own client with a self-service scope (the API), or a logged-in person
//! holding the access package `maskinporten-administrator` for it (the portal).

pub mod clients;
pub mod scopes;

use systembruker_domain::OrgNumber;
use systembruker_domain::catalogue::packages_held;
use systembruker_domain::selfservice::SelfServiceViolation;
use systembruker_storage::Actor;
use uuid::Uuid;

use crate::access::{catalogue_mismatch, end_user};
use crate::{App, AppError, AppResult, Caller, actor, vendor_of};

/// The access package that lets a person manage the organisation's Maskinporten clients
/// and scopes (daglig leder and the other main roles hold it through the role map).
pub const DEVELOPER_PACKAGE: &str = "maskinporten-administrator";

/// Someone acting for an organisation in self-service, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Developer {
    pub org: OrgNumber,
    pub actor: Actor,
}

impl Developer {
    /// The organisation a Maskinporten token was issued to (its `consumer`). The HTTP
    /// layer has checked the token's self-service scope.
    pub fn from_token(caller: &Caller) -> AppResult<Self> {
        Ok(Self {
            org: vendor_of(caller)?,
            actor: actor(caller),
        })
    }

    /// A logged-in person acting for `org`: 403 unless they hold
    /// [`DEVELOPER_PACKAGE`] for it.
    pub async fn from_person(app: &App, caller: &Caller, org: OrgNumber) -> AppResult<Self> {
        let user = end_user(app, caller).await?;
        let party = app.store.organization(&org).await?.ok_or_else(|| {
            AppError::NotFound(format!("organisation {org} is not in the register"))
        })?;
        if !holds_developer_package(app, user, party.uuid).await? {
            return Err(AppError::Forbidden(format!(
                "the logged-in user does not hold the access package {DEVELOPER_PACKAGE} for {org}; \
                 its daglig leder has it, and may delegate it"
            )));
        }
        let mut actor = actor(caller);
        actor.org = Some(org.to_string());
        Ok(Self { org, actor })
    }
}

/// Whether `user` holds the developer package for the organisation `party`.
pub async fn holds_developer_package(app: &App, user: Uuid, party: Uuid) -> AppResult<bool> {
    let facts = app.store.subject_facts(user, party).await?;
    let held = packages_held(app.catalogue, user, party, &facts).map_err(catalogue_mismatch)?;
    Ok(held.iter().any(|p| p.package.code == DEVELOPER_PACKAGE))
}

impl From<SelfServiceViolation> for AppError {
    fn from(violation: SelfServiceViolation) -> Self {
        match violation {
            SelfServiceViolation::Invalid { path, message } => {
                AppError::invalid_field(path, message)
            }
            SelfServiceViolation::NotYours(message) => AppError::Forbidden(message),
        }
    }
}
