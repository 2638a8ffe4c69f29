//! The platform's own resources that gate the end-user APIs, as in the reference: who may
//! read or change a party's system users, requests, change requests and delegations
//! (`altinn_access_management`), see one system user in detail
//! (`altinn_system_user_overview`), and read or change a firm's clients
//! (`altinn_client_administration`). The PDP decides on them like on any resource, so
//! the rule lives in a policy an operator can read and replace, not in code.
//!
//! They are created at every start-up, with or without `--demo`: without them every
//! decision is NotApplicable and no end user could manage anything. What exists is left
//! alone, so an operator's replaced policy survives a restart.

use systembruker_domain::resource::ServiceResource;
use systembruker_storage::{Store, StoreError};

/// Managing a party's access: its system users, requests, change requests, delegations.
pub const ACCESS_MANAGEMENT: &str = "altinn_access_management";
/// Seeing one of a party's system users in detail.
pub const SYSTEM_USER_OVERVIEW: &str = "altinn_system_user_overview";
/// Administering a firm's clients.
pub const CLIENT_ADMINISTRATION: &str = "altinn_client_administration";

/// (identifier, nb / nn / en title, policy).
const RESOURCES: [(&str, [&str; 3], &str); 3] = [
    (
        ACCESS_MANAGEMENT,
        ["Tilgangsstyring", "Tilgangsstyring", "Access management"],
        include_str!("../data/system-resources/altinn_access_management.xml"),
    ),
    (
        SYSTEM_USER_OVERVIEW,
        [
            "Oversikt over systemtilganger",
            "Oversikt over systemtilgangar",
            "System access overview",
        ],
        include_str!("../data/system-resources/altinn_system_user_overview.xml"),
    ),
    (
        CLIENT_ADMINISTRATION,
        [
            "Klientadministrasjon",
            "Klientadministrasjon",
            "Client administration",
        ],
        include_str!("../data/system-resources/altinn_client_administration.xml"),
    ),
];

/// Not delegable and not visible: the platform decides with them, nobody hands them on.
fn resource(
    identifier: &str,
    [nb, nn, en]: [&str; 3],
) -> Result<ServiceResource, serde_json::Error> {
    serde_json::from_value(serde_json::json!({
        "identifier": identifier,
        "title": {"nb": nb, "nn": nn, "en": en},
        "description": {
            "nb": "Systemressurs som avgjør hvem som har tilgang til denne delen av plattformen.",
            "nn": "Systemressurs som avgjer kven som har tilgang til denne delen av plattforma.",
            "en": "System resource that decides who may use this part of the platform."
        },
        "resourceType": "Systemresource",
        "delegable": false,
        "visible": false,
        "hasCompetentAuthority": {"organization": "991825827", "orgcode": "digdir",
            "name": {"nb": "Digitaliseringsdirektoratet", "nn": "Digitaliseringsdirektoratet",
                "en": "Norwegian Digitalisation Agency"}}
    }))
}

/// Why the system resources could not be put in place.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("the built-in system resource {0} does not load: {1}")]
    Invalid(&'static str, serde_json::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates each system resource and its policy unless it exists; a second call
/// changes nothing.
pub async fn ensure(store: &dyn Store) -> Result<(), BootstrapError> {
    for (identifier, titles, policy) in RESOURCES {
        let resource =
            resource(identifier, titles).map_err(|e| BootstrapError::Invalid(identifier, e))?;
        match store.create_resource(&resource).await {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
        if store.policy(identifier).await?.is_none() {
            store.put_policy(identifier, policy).await?;
        }
    }
    Ok(())
}
