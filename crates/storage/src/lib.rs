//! Storage of systembruker.
//!
//! The ports are traits ([`RegisterStore`], [`ResourceStore`], …) so that the HTTP layer
//! and the services depend on capabilities, not on a database. [`SqlStore`] implements
//! all of them with one set of SQL statements that runs on both SQLite (the embedded
//! default) and PostgreSQL (production); only the migrations differ per backend.

/// Formats SQL whose interpolated parts are constants of this crate (column lists,
/// column names chosen by code), never user input; values always go through binds.
macro_rules! trusted_sql {
    ($($arg:tt)*) => { sqlx::AssertSqlSafe(format!($($arg)*)) };
}

mod access_asks;
mod access_lists;
mod audit;
mod batch;
mod clients;
mod counters;
mod delegations;
mod error;
mod events;
mod history;
mod maskinporten;
mod pip;
mod register;
mod replay;
mod resources;
mod selfservice;
mod sessions;
mod sql;
mod systems;
mod systemusers;
pub mod testing;
mod versioned;

pub use access_asks::{AccessAsk, AccessAskStore, AskFilter, AskStatus, AskedThing};
pub use access_lists::{
    AccessList, AccessListConnection, AccessListMember, AccessListStore, ListKey, MemberChange,
};
pub use audit::{AuditFilter, AuditKind, AuditRecord, AuditStore, MAX_AUDIT_PAGE, NewAuditRecord};
pub use clients::{ClientCandidate, ClientDelegationStore, DelegatedClient, NewClientDelegation};
pub use counters::AuthzVersions;
pub use delegations::{DelegationFilter, DelegationStore, ResourceRight, StoredPackageDelegation};
pub use error::{Conflict, Constraint, StoreError, StoreResult};
pub use events::{
    Attempt, BrokenEntry, ChainReport, Delivery, EventStore, NewSubscription, Outcome, Redelivery,
    StoredEvent, StoredSubscription,
};
pub use history::{Actor, HistoryEntry, HistoryFilter, HistoryStore};
pub use pip::{PipStore, SubjectFacts};
pub use register::{ImportReport, RegisterStore, RoleAssignment, RoleChange, RoleChangeKind};
pub use resources::{ResourceStore, StoredPolicy, StoredResource};
pub use selfservice::{ScopeDetails, ScopeGrant, ScopePrefix, SelfServiceStore};
pub use sessions::{SessionStore, StoredSession, session_key};
pub use sql::{Backend, DEFAULT_ACQUIRE_TIMEOUT, SetupLock, SqlStore, StoreSettings};
pub use systembruker_token::ports::TokenStore;
pub use systems::{StoredSystem, SystemChange, SystemChangeType, SystemRegisterStore};
pub use systemusers::{
    Approval, GrantChanges, Grants, NewSystemUser, RequestCreation, ResourceGrant,
    StoredChangeRequest, StoredRequest, StoredSystemUser, SystemUserKey, SystemUserStore,
};
pub use versioned::VersionedCache;

/// Everything the platform stores, as one object the HTTP layer can hold.
pub trait Store:
    RegisterStore
    + ResourceStore
    + AccessListStore
    + AccessAskStore
    + DelegationStore
    + ClientDelegationStore
    + PipStore
    + TokenStore
    + SystemRegisterStore
    + SystemUserStore
    + HistoryStore
    + EventStore
    + SessionStore
    + SelfServiceStore
    + AuditStore
    + HealthCheck
    + Send
    + Sync
{
}

impl<
    T: RegisterStore
        + ResourceStore
        + AccessListStore
        + AccessAskStore
        + DelegationStore
        + ClientDelegationStore
        + PipStore
        + TokenStore
        + SystemRegisterStore
        + SystemUserStore
        + HistoryStore
        + EventStore
        + SessionStore
        + SelfServiceStore
        + AuditStore
        + HealthCheck
        + Send
        + Sync,
> Store for T
{
}

/// Whether the database answers (for `/health/ready`).
#[async_trait::async_trait]
pub trait HealthCheck {
    async fn ping(&self) -> StoreResult<()>;
}

/// Milliseconds since the Unix epoch, the storage's time format.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
