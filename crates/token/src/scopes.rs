//! The platform's own scopes.
//!
//! Platform scopes are built in rather than registered: they exist on every installation
//! and no resource owner may take their names. Most are open to every consumer
//! organisation, as in Maskinporten where any organisation may get the Altinn vendor
//! scopes; what an API then allows is decided by the API (ownership checks, system-user
//! rights). The few scopes that bypass those checks are restricted: a consumer needs an
//! explicit entry in the scope's access list, granted by an operator.

/// A built-in scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformScope {
    pub name: &'static str,
    pub description: &'static str,
    /// Every consumer may use it; otherwise only those on its access list.
    pub open: bool,
}

const fn open(name: &'static str, description: &'static str) -> PlatformScope {
    PlatformScope {
        name,
        description,
        open: true,
    }
}

const fn restricted(name: &'static str, description: &'static str) -> PlatformScope {
    PlatformScope {
        name,
        description,
        open: false,
    }
}

pub const PLATFORM_SCOPES: &[PlatformScope] = &[
    open(
        "altinn:authentication/systemregister.write",
        "Register and change the caller's own systems in the system register",
    ),
    restricted(
        "altinn:authentication/systemregister.admin",
        "Change any system in the system register (bypasses vendor ownership)",
    ),
    open(
        "altinn:authentication/systemuser.request.read",
        "Read the status of the caller's system-user requests",
    ),
    open(
        "altinn:authentication/systemuser.request.write",
        "Create system-user requests for the caller's systems",
    ),
    restricted(
        "altinn:authentication/systemuser.admin",
        "Internal administration of system users",
    ),
    open(
        "altinn:authorization/authorize",
        "Ask the policy decision point for decisions",
    ),
    open(
        "altinn:resourceregistry/resource.read",
        "Read the resource registry",
    ),
    open(
        "altinn:resourceregistry/resource.write",
        "Write the caller's own resources in the resource registry",
    ),
    open(
        "altinn:clientdelegations.read",
        "Read client delegations of agent system users",
    ),
    open(
        "altinn:clientdelegations.write",
        "Delegate clients to agent system users",
    ),
    restricted(
        "altinn:maskinporten/systemuser.read",
        "Look up system users by client id (Maskinporten's own lookup)",
    ),
    open(
        "altinn:accessmanagement/authorizedparties",
        "List the parties the caller (a person or a system user) may act for",
    ),
    open(
        "altinn:systembruker.demo",
        "The demo API of the system-user walkthrough",
    ),
    // Maskinporten self-service: an organisation's administration client manages the
    // organisation's own clients and scopes (ownership is checked per client and scope).
    open(
        SELF_SERVICE_CLIENTS_READ,
        "Read the caller's own Maskinporten clients and their keys",
    ),
    open(
        SELF_SERVICE_CLIENTS_WRITE,
        "Create, change and delete the caller's own Maskinporten clients and keys",
    ),
    open(
        SELF_SERVICE_SCOPES_WRITE,
        "Create and change the caller's own scopes and who has access to them",
    ),
];

/// Self-service scopes of the reference (`idporten:dcr.*` for clients, `idporten:scopes.write`
/// for an API owner's scopes).
pub const SELF_SERVICE_CLIENTS_READ: &str = "idporten:dcr.read";
pub const SELF_SERVICE_CLIENTS_WRITE: &str = "idporten:dcr.write";
pub const SELF_SERVICE_SCOPES_WRITE: &str = "idporten:scopes.write";

/// Scopes that only tokens issued by the platform itself carry (operator and end-user
/// tokens); no Maskinporten client may ask for them.
pub const PLATFORM_ONLY_SCOPES: &[&str] = &["systembruker:admin", "altinn:portal/enduser"];

/// The end-user scope of portal tokens.
pub const ENDUSER_SCOPE: &str = "altinn:portal/enduser";

pub fn platform_scope(name: &str) -> Option<&'static PlatformScope> {
    PLATFORM_SCOPES.iter().find(|s| s.name == name)
}

pub fn is_platform_only(name: &str) -> bool {
    PLATFORM_ONLY_SCOPES.contains(&name)
}

/// Whether a name belongs to the platform (built in or platform-only): resource owners
/// cannot register it.
pub fn is_reserved(name: &str) -> bool {
    platform_scope(name).is_some() || is_platform_only(name)
}

/// Checks the form of a scope name: `prefix:name`, printable ASCII without spaces.
pub fn check_scope_name(name: &str) -> Result<(), String> {
    let well_formed = name.len() <= 200
        && name.bytes().all(|b| b.is_ascii_graphic())
        && name
            .split_once(':')
            .is_some_and(|(prefix, rest)| !prefix.is_empty() && !rest.is_empty());
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "scope {name:?} must look like prefix:name (printable ASCII, no spaces, at most 200 characters)"
        ))
    }
}

/// Splits a scope list on spaces (the OAuth2 form) or commas (the test tools' form).
pub fn split_scopes(text: &str) -> Vec<String> {
    let mut scopes: Vec<String> = text
        .split([' ', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    scopes.dedup();
    scopes
}
