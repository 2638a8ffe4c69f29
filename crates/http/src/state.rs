use std::sync::Arc;

use systembruker_domain::catalogue::Catalogue;
use systembruker_storage::Store;

use crate::auth::Authenticator;
use crate::metrics::Metrics;

/// Settings the HTTP layer needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The URL the platform is reached at, e.g. `http://localhost:8080` (no trailing slash).
    pub public_url: String,
    /// Development mode: test tools and test login are available.
    pub dev: bool,
}

impl Config {
    /// The Maskinporten-compatible issuer: `{public-url}/maskinporten/`.
    pub fn issuer(&self) -> String {
        format!("{}/maskinporten/", self.public_url.trim_end_matches('/'))
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub catalogue: &'static Catalogue,
    pub config: Arc<Config>,
    pub auth: Arc<Authenticator>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: Config, auth: Authenticator) -> Self {
        Self {
            store,
            catalogue: Catalogue::builtin(),
            config: Arc::new(config),
            auth: Arc::new(auth),
            metrics: Arc::new(Metrics::default()),
        }
    }
}
