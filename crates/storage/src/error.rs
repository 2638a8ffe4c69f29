use std::sync::Arc;

/// What went wrong in storage, in terms the HTTP layer can map to a status code.
///
/// Cloneable, because one failed statement of a batched round answers every caller.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("{0} was not found")]
    NotFound(String),
    /// A uniqueness rule refused the change: which one, and what is taken.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// The data was refused by a rule of the domain.
    #[error("invalid data: {0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Database(Arc<sqlx::Error>),
    /// The database cannot be reached now (no connection within the acquire timeout,
    /// the connection broke, the server is starting or shutting down). Nothing was
    /// decided; the HTTP layer answers 503 so that clients retry.
    #[error("database unavailable: {0}")]
    Unavailable(Arc<sqlx::Error>),
    /// The database file was opened read-only (by the URL, its permissions or its file
    /// system): it cannot take the platform's writes.
    #[error("the database is read-only: {0}")]
    ReadOnly(String),
    #[error("database migration failed: {0}")]
    Migrate(Arc<sqlx::migrate::MigrateError>),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    /// A batched statement was lost before it answered (see `batch.rs`); nothing was
    /// decided for this caller, so trying again is safe.
    #[error("the database round was interrupted; try again")]
    Interrupted,
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err.as_database_error() {
            Some(db) if db.is_unique_violation() => StoreError::Conflict(Conflict {
                constraint: on_constraint(db),
                detail: db.message().to_string(),
            }),
            Some(db) if db.is_foreign_key_violation() => {
                StoreError::Invalid(format!("reference to a missing row: {}", db.message()))
            }
            _ if is_unavailable(&err) => StoreError::Unavailable(Arc::new(err)),
            _ => StoreError::Database(Arc::new(err)),
        }
    }
}

/// SQLSTATE classes of PostgreSQL that mean "the server cannot work now": 08 connection
/// exceptions, 57P01–57P03 shutdown and start-up.
const UNAVAILABLE_SQLSTATES: [&str; 4] = ["08", "57P01", "57P02", "57P03"];

/// SQLite's busy and locked codes (extended ones included): a write waited the whole
/// busy timeout for another writer. PostgreSQL codes have five characters, so these
/// never match one of its codes.
const SQLITE_BUSY_CODES: [&str; 6] = ["5", "261", "517", "773", "6", "262"];

/// Whether `err` says the database is out of reach rather than that a statement failed.
fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            SQLITE_BUSY_CODES.contains(&code.as_ref())
                || UNAVAILABLE_SQLSTATES
                    .iter()
                    .any(|prefix| code.starts_with(prefix))
        }),
        _ => false,
    }
}

impl StoreError {
    /// A conflict the code found itself (no database rule named).
    pub fn conflict(detail: impl Into<String>) -> Self {
        StoreError::Conflict(Conflict {
            constraint: None,
            detail: detail.into(),
        })
    }

    /// The rule behind a [`StoreError::Conflict`], when the database named one.
    pub fn constraint(&self) -> Option<Constraint> {
        match self {
            StoreError::Conflict(conflict) => conflict.constraint,
            _ => None,
        }
    }

    /// Whether the database cannot serve the platform now ([`StoreError::Unavailable`],
    /// [`StoreError::ReadOnly`]): the HTTP layer answers 503.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::ReadOnly(_))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(Arc::new(err))
    }
}

impl From<crate::batch::RoundLost> for StoreError {
    fn from(_: crate::batch::RoundLost) -> Self {
        StoreError::Interrupted
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        StoreError::Corrupt(err.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A refused change: the uniqueness rule (when it is one of [`Constraint`]) and, in
/// words, what is taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub constraint: Option<Constraint>,
    pub detail: String,
}

impl Conflict {
    /// The same rule, said in the caller's words.
    pub fn worded(self, detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            ..self
        }
    }
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

/// The uniqueness rules of the migrations, by what each keeps unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Constraint {
    /// A party's uuid.
    PartyUuid,
    /// A party's numeric id.
    PartyId,
    PartyOrgNumber,
    PartyPersonNumber,
    /// One ER role of a kind from one party to another.
    ErRole,
    ResourceIdentifier,
    /// One policy per resource.
    ResourcePolicy,
    MaskinportenClientId,
    /// A key id, across all clients.
    ClientKeyId,
    Scope,
    /// One access row per scope and consumer.
    ScopeAccess,
    /// An assertion id of a client (the replay guard's table).
    UsedJti,
    SigningKeyId,
    /// One delegation of a package from one party to another.
    PackageDelegation,
    /// One right on a resource and action from one party to another.
    ResourceRight,
    SystemInternalId,
    /// A system id, deleted systems included: ids are never reused.
    SystemId,
    /// A Maskinporten client id belongs to one system.
    SystemClientId,
    RequestId,
    /// One live request per (system, party, external ref, type).
    LiveRequestKey,
    /// One system user per id; an approved request's user has the request's id, so
    /// this also keeps a request from being approved twice.
    OneApprovalPerRequest,
    /// One live system user per (system, owner, external ref).
    LiveSystemUserKey,
    ChangeRequestId,
    /// One client delegation per (agent system user, client, package).
    ClientDelegation,
    PortalSession,
    PortalLoginFlow,
}

/// Each rule with its name in PostgreSQL and the columns SQLite names instead (SQLite's
/// message says `UNIQUE constraint failed: table.column, …`, never the index name).
const CONSTRAINTS: [(Constraint, &str, &str); 26] = [
    (Constraint::PartyUuid, "parties_pkey", "parties.party_uuid"),
    (
        Constraint::PartyId,
        "parties_party_id_key",
        "parties.party_id",
    ),
    (
        Constraint::PartyOrgNumber,
        "parties_org_number_key",
        "parties.org_number",
    ),
    (
        Constraint::PartyPersonNumber,
        "parties_person_number_key",
        "parties.person_number",
    ),
    (
        Constraint::ErRole,
        "er_roles_pkey",
        "er_roles.from_party, er_roles.to_party, er_roles.role_code",
    ),
    (
        Constraint::ResourceIdentifier,
        "resources_pkey",
        "resources.identifier",
    ),
    (
        Constraint::ResourcePolicy,
        "resource_policies_pkey",
        "resource_policies.resource_id",
    ),
    (
        Constraint::MaskinportenClientId,
        "mp_clients_pkey",
        "mp_clients.client_id",
    ),
    (
        Constraint::ClientKeyId,
        "mp_client_keys_pkey",
        "mp_client_keys.kid",
    ),
    (Constraint::Scope, "mp_scopes_pkey", "mp_scopes.scope"),
    (
        Constraint::ScopeAccess,
        "mp_scope_access_pkey",
        "mp_scope_access.scope, mp_scope_access.consumer_org",
    ),
    (
        Constraint::UsedJti,
        "mp_used_jti_pkey",
        "mp_used_jti.client_id, mp_used_jti.jti",
    ),
    (
        Constraint::SigningKeyId,
        "mp_signing_keys_pkey",
        "mp_signing_keys.kid",
    ),
    (
        Constraint::PackageDelegation,
        "package_delegations_pkey",
        "package_delegations.from_party, package_delegations.to_party, package_delegations.package_code",
    ),
    (
        Constraint::ResourceRight,
        "resource_rights_pkey",
        "resource_rights.from_party, resource_rights.to_party, resource_rights.resource_id, resource_rights.action",
    ),
    (
        Constraint::SystemInternalId,
        "systems_pkey",
        "systems.system_internal_id",
    ),
    (
        Constraint::SystemId,
        "systems_system_id_key",
        "systems.system_id",
    ),
    (
        Constraint::SystemClientId,
        "system_clients_pkey",
        "system_clients.client_id",
    ),
    (
        Constraint::RequestId,
        "systemuser_requests_pkey",
        "systemuser_requests.id",
    ),
    (
        Constraint::LiveRequestKey,
        "systemuser_requests_live_key",
        "systemuser_requests.system_id, systemuser_requests.party_org, systemuser_requests.external_ref, systemuser_requests.user_type",
    ),
    (
        Constraint::OneApprovalPerRequest,
        "system_users_pkey",
        "system_users.id",
    ),
    (
        Constraint::LiveSystemUserKey,
        "system_users_live_key",
        "system_users.system_id, system_users.owner_org, system_users.external_ref",
    ),
    (
        Constraint::ChangeRequestId,
        "change_requests_pkey",
        "change_requests.id",
    ),
    (
        Constraint::ClientDelegation,
        "client_delegations_pkey",
        "client_delegations.system_user_id, client_delegations.client_party, client_delegations.package_code",
    ),
    (
        Constraint::PortalSession,
        "portal_sessions_pkey",
        "portal_sessions.id_hash",
    ),
    (
        Constraint::PortalLoginFlow,
        "portal_login_flows_pkey",
        "portal_login_flows.session_hash",
    ),
];

/// The prefix of SQLite's message for a uniqueness violation.
const SQLITE_UNIQUE: &str = "UNIQUE constraint failed: ";

/// Which rule a uniqueness violation broke: by the constraint's name on PostgreSQL, by
/// the columns of SQLite's message there. `None` for a rule not in [`Constraint`].
fn on_constraint(db: &dyn sqlx::error::DatabaseError) -> Option<Constraint> {
    let found = match db.constraint() {
        Some(name) => CONSTRAINTS.iter().find(|(_, pg, _)| *pg == name),
        None => {
            let columns = db.message().strip_prefix(SQLITE_UNIQUE)?;
            CONSTRAINTS.iter().find(|(_, _, sqlite)| *sqlite == columns)
        }
    };
    found.map(|(constraint, _, _)| *constraint)
}
