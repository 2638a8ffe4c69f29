use std::sync::Arc;

use systembruker_domain::catalogue::Catalogue;
use systembruker_storage::Store;

use crate::auth::Authenticator;
use crate::maskinporten::{PlatformTokens, TokenMetrics};
use crate::metrics::Metrics;
use crate::pdp::ContextHandler;

/// Settings the HTTP layer needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The URL the platform is reached at, e.g. `http://localhost:8080` (no trailing slash).
    pub public_url: String,
    /// Development mode: test tools and test login are available.
    pub dev: bool,
    /// A system-user request not answered within this many days becomes `Timedout`.
    pub request_timeout_days: u32,
    /// The portal's OpenID Connect login (as ID-porten); `None` leaves only the dev login.
    pub oidc: Option<crate::oidc::OidcConfig>,
    /// Most individual decisions one PDP request may ask for (its `MultiRequests`
    /// references, or the product of its repeated categories); more is refused unevaluated.
    pub pdp_max_decisions: usize,
    /// Rate limits on tokens, failed bearer tokens and logins.
    pub rate_limits: crate::limits::RateLimits,
    /// Who may read `/metrics` on this listener.
    pub metrics: MetricsAccess,
    /// The audit of tokens and decisions: on or off, its queue, its retention.
    pub audit: systembruker_app::audit::AuditSettings,
}

/// Where `/metrics` is served and to whom. By default the main listener serves it to
/// operators only (a bearer token with `systembruker:admin`, or the metrics token).
#[derive(Debug, Clone, Default)]
pub struct MetricsAccess {
    /// A bearer token that may read `/metrics` (`--metrics-token`), e.g. for Prometheus.
    pub token: Option<String>,
    /// Served on a listener of its own (`--metrics-listen`): the main one answers 404.
    pub separate_listener: bool,
}

/// The reference's request lifetime: 180 days.
pub const DEFAULT_REQUEST_TIMEOUT_DAYS: u32 = 180;

/// Default of [`Config::pdp_max_decisions`].
pub const DEFAULT_PDP_MAX_DECISIONS: usize = 1000;

impl Config {
    /// Settings with the defaults for everything but the URL and dev mode.
    pub fn new(public_url: impl Into<String>, dev: bool) -> Self {
        Self {
            public_url: public_url.into(),
            dev,
            request_timeout_days: DEFAULT_REQUEST_TIMEOUT_DAYS,
            oidc: None,
            pdp_max_decisions: DEFAULT_PDP_MAX_DECISIONS,
            rate_limits: crate::limits::RateLimits::default(),
            metrics: MetricsAccess::default(),
            audit: systembruker_app::audit::AuditSettings::default(),
        }
    }

    /// Requests created before this moment (unix milliseconds) have timed out.
    pub fn request_cutoff_millis(&self, now_millis: i64) -> i64 {
        now_millis - i64::from(self.request_timeout_days) * 24 * 3600 * 1000
    }

    /// The Maskinporten-compatible issuer: `{public-url}/maskinporten/`.
    pub fn issuer(&self) -> String {
        format!("{}/maskinporten/", self.public_url.trim_end_matches('/'))
    }
}

/// The audit's counters (README, "Audit"): written, dropped by reason, queued.
fn register_audit_metrics(metrics: &Metrics, audit: &systembruker_app::audit::Recorder) {
    let audit = audit.metrics();
    metrics.register(
        "audit_records_written",
        "Audit records appended to the database",
        audit.written,
    );
    metrics.register(
        "audit_records_dropped",
        "Audit records lost, by reason (full: the queue stayed full; closed: after shutdown; write_failed: the database refused the batch)",
        audit.dropped,
    );
    metrics.register(
        "audit_records_queued",
        "Audit records waiting in the queue",
        audit.queued,
    );
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The application layer: the use cases run against it.
    pub app: systembruker_app::App,
    pub store: Arc<dyn Store>,
    pub catalogue: &'static Catalogue,
    pub config: Arc<Config>,
    pub auth: Arc<Authenticator>,
    pub metrics: Arc<Metrics>,
    /// The PDP's context handler, with its compiled-policy and PIP caches.
    pub pdp: Arc<ContextHandler>,
    /// The Maskinporten-compatible token service (also verifies tokens for every API).
    pub tokens: Arc<systembruker_token::TokenService>,
    /// Token requests answered, by outcome (`systembruker_maskinporten_token_requests`).
    pub token_metrics: TokenMetrics,
    /// The rate limiters (`config.rate_limits`).
    pub limits: Arc<crate::limits::Limiters>,
}

impl AppState {
    /// State with a token service whose signing keys are stored unencrypted.
    pub fn new(store: Arc<dyn Store>, config: Config, auth: Authenticator) -> Self {
        let tokens = crate::maskinporten::default_token_service(&store, &config);
        Self::with_token_service(store, config, auth, tokens)
    }

    /// State with the caller's token service (e.g. with key encryption). Its verifier is
    /// added to `auth`, so every `Scoped<…>` extractor accepts the platform's tokens.
    pub fn with_token_service(
        store: Arc<dyn Store>,
        config: Config,
        mut auth: Authenticator,
        tokens: Arc<systembruker_token::TokenService>,
    ) -> Self {
        auth.add(Arc::new(PlatformTokens::new(tokens.clone())));
        let token_metrics = TokenMetrics::default();
        let catalogue = Catalogue::builtin();
        let metrics = Arc::new(Metrics::default());
        let app = systembruker_app::App::new(
            store.clone(),
            catalogue,
            systembruker_app::Settings {
                public_url: config.public_url.clone(),
                request_timeout_days: config.request_timeout_days,
                dev: config.dev,
            },
        )
        .with_audit(&config.audit);
        register_audit_metrics(&metrics, &app.audit);
        let pdp = app.pdp.clone();
        metrics.register(
            "authorization_decisions",
            "PDP decisions, by result",
            pdp.decision_counter(),
        );
        metrics.register(
            "maskinporten_token_requests",
            "Token requests answered by the token endpoint, by outcome (issued or MP code)",
            token_metrics.0.clone(),
        );
        let limits = Arc::new(crate::limits::Limiters::new(
            &config.rate_limits,
            metrics.refusals(),
        ));
        Self {
            app,
            limits,
            store,
            catalogue,
            config: Arc::new(config),
            auth: Arc::new(auth),
            metrics,
            pdp,
            tokens,
            token_metrics,
        }
    }
}
