//! The application layer of systembruker: one module per use-case area, below the HTTP
//! API and the portal, above the domain rules, the policy engine, storage and the token
//! service.
//!
//! A use case takes typed values (an `OrgNumber`, a system user's id, the [`Caller`]),
//! checks who calls and for whom, applies the domain's rules, calls storage, and returns
//! a domain result or an [`AppError`]. It knows nothing of HTTP: the API and the portal
//! parse their input, call a use case and map its result (see docs/architecture.md).

pub mod access;
pub mod access_asks;
pub mod access_lists;
pub mod audit;
pub mod authorized_parties;
mod caller;
pub mod catalogue_browse;
pub mod changerequests;
pub mod clients;
pub mod delegations;
pub mod demo;
mod error;
pub mod events;
pub mod facilitator;
mod lifecycle;
pub mod pdp;
pub mod people_access;
pub mod register;
pub mod registry_browse;
pub mod resources;
pub mod scopes;
pub mod selfservice;
pub mod system_resources;
pub mod systemregister;
pub mod systemuser_stream;

use std::sync::Arc;

use systembruker_domain::catalogue::Catalogue;
use systembruker_storage::{Store, VersionedCache};

pub use caller::{ADMIN_SCOPE, Caller, actor, vendor_of};
pub use error::{AppError, AppResult};

/// Settings the use cases need.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The URL the platform is reached at, e.g. `http://localhost:8080` (no trailing slash).
    pub public_url: String,
    /// A system-user request not answered within this many days becomes `Timedout`.
    pub request_timeout_days: u32,
    /// Development mode: e.g. `http://localhost` redirect URLs are allowed.
    pub dev: bool,
}

impl Settings {
    /// Requests created before this moment (unix milliseconds) have timed out.
    pub fn request_cutoff_millis(&self, now_millis: i64) -> i64 {
        now_millis - i64::from(self.request_timeout_days) * 24 * 3600 * 1000
    }
}

/// What every use case works with: storage, the catalogue of roles and access packages,
/// and the settings. Cheap to clone (shared parts).
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub catalogue: &'static Catalogue,
    pub settings: Arc<Settings>,
    /// Client lists of accounting firms, by firm, valid while the facts counter stands still.
    pub client_lists: Arc<clients::ListCache<systembruker_storage::ClientCandidate>>,
    /// Delegated clients, by agent system user, likewise.
    pub delegated_lists: Arc<clients::ListCache<systembruker_storage::DelegatedClient>>,
    /// The PDP's context handler, with its compiled-policy and PIP caches (one per
    /// process: every clone of the `App` shares it).
    pub pdp: Arc<pdp::ContextHandler>,
    /// The audit's recorder (disabled until [`App::with_audit`] starts it).
    pub audit: audit::Recorder,
}

impl App {
    pub fn new(store: Arc<dyn Store>, catalogue: &'static Catalogue, settings: Settings) -> Self {
        let pdp = Arc::new(pdp::ContextHandler::new(
            store.clone(),
            catalogue,
            pdp::CacheLimits::default(),
        ));
        Self {
            store,
            catalogue,
            settings: Arc::new(settings),
            client_lists: Arc::new(VersionedCache::new(clients::lists::CACHED_LISTS)),
            delegated_lists: Arc::new(VersionedCache::new(clients::lists::CACHED_LISTS)),
            pdp,
            audit: audit::Recorder::disabled(),
        }
    }

    /// The same, recording tokens and decisions with the audit's writer started by
    /// `settings` (on the current Tokio runtime).
    pub fn with_audit(mut self, settings: &audit::AuditSettings) -> Self {
        self.audit = audit::Recorder::start(self.store.clone(), settings);
        self
    }
}

pub mod approval;
pub mod requests;
pub mod systemusers;
