//! The arguments of `systembruker serve`: the server's settings, its limits and its
//! OpenID Connect login. They become the HTTP layer's `Config`.

use std::path::PathBuf;

use systembruker_http::oidc::{ClientAuth, OidcConfig};
use systembruker_http::{
    DEFAULT_PDP_MAX_DECISIONS, DEFAULT_REQUEST_TIMEOUT_DAYS, MetricsAccess, Rate, RateLimits,
};

use crate::cli::{DatabaseArgs, LogFormat};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SYSTEMBRUKER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The URL clients reach the platform at (default: http://<listen>).
    #[arg(long, env = "SYSTEMBRUKER_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Load the demo data (idempotent); implies --dev.
    #[arg(long, env = "SYSTEMBRUKER_DEMO")]
    pub demo: bool,
    /// Development mode: test tools and test login are available.
    #[arg(long, env = "SYSTEMBRUKER_DEV")]
    pub dev: bool,
    #[arg(
        long,
        env = "SYSTEMBRUKER_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    /// Days a system-user request may wait for an answer before it becomes Timedout.
    #[arg(long, env = "SYSTEMBRUKER_REQUEST_TIMEOUT_DAYS", default_value_t = DEFAULT_REQUEST_TIMEOUT_DAYS)]
    pub request_timeout_days: u32,
    /// Most individual decisions one PDP request may ask for; more is refused with 400.
    #[arg(long, env = "SYSTEMBRUKER_PDP_MAX_DECISIONS", default_value_t = DEFAULT_PDP_MAX_DECISIONS as u64, value_parser = clap::value_parser!(u64).range(1..))]
    pub pdp_max_decisions: u64,
    /// A static operator token accepted with scope systembruker:admin (never empty).
    #[arg(long, env = "SYSTEMBRUKER_ADMIN_TOKEN")]
    pub admin_token: Option<String>,
    /// 32 bytes in base64 that seal the token service's private keys in the database
    /// (`openssl rand -base64 32`); without it they are stored unencrypted.
    #[arg(long, env = "SYSTEMBRUKER_KEY_ENCRYPTION_KEY", hide_env_values = true)]
    pub key_encryption_key: Option<String>,
    #[command(flatten)]
    pub oidc: OidcArgs,
    #[command(flatten)]
    pub protection: ProtectionArgs,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    #[command(flatten)]
    pub audit: AuditArgs,
}

/// The webhook delivery worker (README, "Events for vendors").
#[derive(Debug, clap::Args)]
pub struct WebhookArgs {
    /// Run no webhook delivery worker in this process (another process delivers).
    #[arg(long, env = "SYSTEMBRUKER_NO_WEBHOOK_DELIVERY")]
    pub no_webhook_delivery: bool,
    /// Seconds a receiver may take to answer one delivery.
    #[arg(long, env = "SYSTEMBRUKER_WEBHOOK_TIMEOUT", default_value_t = 10.0)]
    pub webhook_timeout: f64,
    /// Seconds before the first retry of a failed delivery (the waits then double).
    #[arg(long, env = "SYSTEMBRUKER_WEBHOOK_RETRY_FIRST", default_value_t = 30.0)]
    pub webhook_retry_first: f64,
    /// Seconds a failing delivery is retried in all before it is given up (a day).
    #[arg(
        long,
        env = "SYSTEMBRUKER_WEBHOOK_RETRY_FOR",
        default_value_t = 86_400.0
    )]
    pub webhook_retry_for: f64,
    /// Seconds between the worker's looks for work.
    #[arg(long, env = "SYSTEMBRUKER_WEBHOOK_POLL", default_value_t = 0.5)]
    pub webhook_poll: f64,
}

impl WebhookArgs {
    /// The worker's settings, or `None` with --no-webhook-delivery.
    pub fn settings(&self) -> anyhow::Result<Option<systembruker_http::webhooks::WebhookSettings>> {
        if self.no_webhook_delivery {
            return Ok(None);
        }
        let seconds = |value: f64, flag: &str| {
            std::time::Duration::try_from_secs_f64(value)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| anyhow::anyhow!("{flag} must be a positive number of seconds"))
        };
        Ok(Some(systembruker_http::webhooks::WebhookSettings {
            poll: seconds(self.webhook_poll, "--webhook-poll")?,
            timeout: seconds(self.webhook_timeout, "--webhook-timeout")?,
            retry_schedule: systembruker_domain::events::retry_schedule(
                seconds(self.webhook_retry_first, "--webhook-retry-first")?,
                seconds(self.webhook_retry_for, "--webhook-retry-for")?,
            ),
        }))
    }
}

/// The audit of tokens and decisions (README, "Audit").
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Record tokens issued for system users and the PDP's decisions (`on` or `off`).
    #[arg(
        long = "audit",
        env = "SYSTEMBRUKER_AUDIT",
        value_enum,
        default_value = "on"
    )]
    pub audit: Switch,
    /// Days an audit record is kept; older ones are purged hourly.
    #[arg(long, env = "SYSTEMBRUKER_AUDIT_RETENTION_DAYS", default_value_t = systembruker_app::audit::DEFAULT_RETENTION_DAYS,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub audit_retention_days: u32,
    /// Records the audit's queue holds at most; when it is full a record waits 5 ms,
    /// then is dropped and counted.
    #[arg(long, env = "SYSTEMBRUKER_AUDIT_QUEUE", default_value_t = 65_536,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub audit_queue: u32,
}

/// On or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

impl AuditArgs {
    pub fn settings(&self) -> systembruker_app::audit::AuditSettings {
        systembruker_app::audit::AuditSettings {
            enabled: self.audit == Switch::On,
            retention_days: self.audit_retention_days,
            queue_capacity: self.audit_queue as usize,
            ..systembruker_app::audit::AuditSettings::default()
        }
    }
}

/// Rate limits and who may read `/metrics` (README, "Limits and protection"). A rate is
/// COUNT/s, COUNT/min or COUNT/h (bursts of up to COUNT), or `off`.
#[derive(Debug, clap::Args)]
pub struct ProtectionArgs {
    /// Serve /metrics without a token on this address only (e.g. 127.0.0.1:9090); the
    /// main listener then has no /metrics.
    #[arg(long, env = "SYSTEMBRUKER_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// A bearer token that may read /metrics on the main listener (besides operators).
    #[arg(long, env = "SYSTEMBRUKER_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Tokens issued to one Maskinporten client.
    #[arg(long, env = "SYSTEMBRUKER_RATE_LIMIT_TOKEN_CLIENT",
        default_value_t = RateLimits::default().token_per_client)]
    pub rate_limit_token_client: Rate,
    /// Token requests from one source address.
    #[arg(long, env = "SYSTEMBRUKER_RATE_LIMIT_TOKEN_ADDRESS",
        default_value_t = RateLimits::default().token_per_address)]
    pub rate_limit_token_address: Rate,
    /// Refused bearer tokens from one source address.
    #[arg(long, env = "SYSTEMBRUKER_RATE_LIMIT_FAILED_AUTH",
        default_value_t = RateLimits::default().failed_auth_per_address)]
    pub rate_limit_failed_auth: Rate,
    /// Dev-mode test logins and test tokens from one source address.
    #[arg(long, env = "SYSTEMBRUKER_RATE_LIMIT_TEST_LOGIN",
        default_value_t = RateLimits::default().test_login_per_address)]
    pub rate_limit_test_login: Rate,
    /// Portal logins (the login and its callback) from one source address.
    #[arg(long, env = "SYSTEMBRUKER_RATE_LIMIT_PORTAL_LOGIN",
        default_value_t = RateLimits::default().portal_login_per_address)]
    pub rate_limit_portal_login: Rate,
    /// Count by the last X-Forwarded-For address (only behind a proxy that sets it);
    /// without it, clients behind a proxy share the proxy's limits.
    #[arg(long, env = "SYSTEMBRUKER_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
}

impl ProtectionArgs {
    pub fn rate_limits(&self) -> RateLimits {
        RateLimits {
            token_per_client: self.rate_limit_token_client,
            token_per_address: self.rate_limit_token_address,
            failed_auth_per_address: self.rate_limit_failed_auth,
            test_login_per_address: self.rate_limit_test_login,
            portal_login_per_address: self.rate_limit_portal_login,
            trust_forwarded_for: self.trust_forwarded_for,
        }
    }

    /// Who may read /metrics; an empty token is refused, as an empty operator token is.
    pub fn metrics_access(&self) -> anyhow::Result<MetricsAccess> {
        let token = match self.metrics_token.as_deref().map(str::trim) {
            Some("") => anyhow::bail!("--metrics-token must not be empty"),
            other => other.map(str::to_string),
        };
        Ok(MetricsAccess {
            token,
            separate_listener: self.metrics_listen.is_some(),
        })
    }
}

/// The portal's OpenID Connect login (as ID-porten is used).
#[derive(Debug, clap::Args)]
pub struct OidcArgs {
    /// The OpenID provider's issuer, exactly as its metadata writes it, e.g.
    /// https://test.idporten.no; enables the portal's OpenID Connect login.
    #[arg(long, env = "SYSTEMBRUKER_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// The client id the provider gave this platform.
    #[arg(long, env = "SYSTEMBRUKER_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// Client secret (client_secret_basic); or use --oidc-private-key.
    #[arg(long, env = "SYSTEMBRUKER_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,
    /// PEM file with the client's RSA private key (private_key_jwt); or use --oidc-client-secret.
    #[arg(long, env = "SYSTEMBRUKER_OIDC_PRIVATE_KEY")]
    pub oidc_private_key: Option<PathBuf>,
    /// The key id (kid) the private key is registered under at the provider.
    #[arg(long, env = "SYSTEMBRUKER_OIDC_KEY_ID")]
    pub oidc_key_id: Option<String>,
}

impl OidcArgs {
    /// The relying-party settings, or `None` when no OpenID provider is configured. The
    /// provider redirects back to `{public_url}/accessmanagement/ui/login/callback`.
    pub fn config(&self, public_url: &str) -> anyhow::Result<Option<OidcConfig>> {
        let (issuer, client_id) = match (&self.oidc_issuer, &self.oidc_client_id) {
            (None, None) => {
                anyhow::ensure!(
                    self.oidc_client_secret.is_none()
                        && self.oidc_private_key.is_none()
                        && self.oidc_key_id.is_none(),
                    "--oidc-client-secret, --oidc-private-key and --oidc-key-id need \
                     --oidc-issuer and --oidc-client-id"
                );
                return Ok(None);
            }
            (Some(issuer), Some(client_id)) => (issuer, client_id),
            (Some(_), None) => {
                anyhow::bail!(
                    "--oidc-issuer needs --oidc-client-id (the provider's id for this client)"
                )
            }
            (None, Some(_)) => {
                anyhow::bail!("--oidc-client-id needs --oidc-issuer (the OpenID provider's issuer)")
            }
        };
        let client_auth = match (&self.oidc_client_secret, &self.oidc_private_key) {
            (Some(secret), None) => {
                anyhow::ensure!(
                    self.oidc_key_id.is_none(),
                    "--oidc-key-id belongs to --oidc-private-key, not to --oidc-client-secret"
                );
                ClientAuth::Secret(secret.clone())
            }
            (None, Some(path)) => ClientAuth::PrivateKeyJwt {
                key_pem: std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("cannot read --oidc-private-key {}: {e}", path.display())
                })?,
                kid: self.oidc_key_id.clone(),
            },
            (Some(_), Some(_)) => {
                anyhow::bail!("give either --oidc-client-secret or --oidc-private-key, not both")
            }
            (None, None) => anyhow::bail!(
                "the OpenID client needs credentials: --oidc-client-secret \
                 (client_secret_basic) or --oidc-private-key (private_key_jwt)"
            ),
        };
        let config = OidcConfig::new(
            issuer.clone(),
            client_id.clone(),
            client_auth,
            format!(
                "{}/accessmanagement/ui/login/callback",
                public_url.trim_end_matches('/')
            ),
        );
        config.check()?;
        Ok(Some(config))
    }
}
