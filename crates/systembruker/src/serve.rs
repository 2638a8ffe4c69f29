//! `systembruker serve`.

pub mod args;

use std::sync::Arc;

use anyhow::Context;
use systembruker_http::auth::{Authenticator, StaticAdminToken};
use systembruker_http::{AppState, Config};
use systembruker_token::{TokenService, TokenSettings};
use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;
use args::ServeArgs;

fn init_logging(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // `try_init`: a second initialisation (tests) is not an error worth stopping for.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    systembruker_domain::catalogue::Catalogue::builtin_checked()
        .map_err(|e| anyhow::anyhow!("the built-in access-package catalogue is broken: {e}"))?;
    let dev = args.dev || args.demo;
    let store = args.database.open().await?;
    // Processes starting at once on a fresh database take turns at the system resources, the
    // demo data and the first signing key (released below, once the key is there).
    let setup = store
        .setup_lock()
        .await
        .context("waiting for the setup lock")?;
    // Every server needs the system resources the end-user APIs are decided on.
    systembruker_app::system_resources::ensure(&store)
        .await
        .context("creating the platform's system resources")?;
    if args.demo {
        systembruker_app::demo::load(&store)
            .await
            .context("loading the demo data")?;
        tracing::info!("demo data loaded");
    }
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    let public_url = args
        .public_url
        .unwrap_or_else(|| format!("http://{local}"))
        .trim_end_matches('/')
        .to_string();
    let oidc = args.oidc.config(&public_url)?;
    let mut auth = Authenticator::default();
    match args.admin_token.as_deref().map(StaticAdminToken::new) {
        Some(Some(token)) => auth.add(Arc::new(token)),
        Some(None) => anyhow::bail!("--admin-token must not be empty"),
        None => {}
    }
    let tokens = Arc::new(TokenService::new(
        Arc::new(store.clone()),
        TokenSettings {
            issuer: format!("{public_url}/maskinporten/"),
            key_encryption: crate::tokens::key_encryption(args.key_encryption_key.as_deref())?,
        },
    ));
    // Creates the first signing key, and fails early on a wrong key-encryption key.
    let kid = tokens
        .ensure_signing_key()
        .await
        .context("loading the token service's signing keys")?;
    setup.release().await.context("releasing the setup lock")?;
    tracing::info!(%kid, sealed = args.key_encryption_key.is_some(), "token signing key ready");
    let state = AppState::with_token_service(
        Arc::new(store.clone()),
        Config {
            public_url: public_url.clone(),
            dev,
            request_timeout_days: args.request_timeout_days,
            oidc,
            pdp_max_decisions: usize::try_from(args.pdp_max_decisions).unwrap_or(usize::MAX),
            rate_limits: args.protection.rate_limits(),
            metrics: args.protection.metrics_access()?,
            audit: args.audit.settings(),
        },
        auth,
        tokens,
    );
    let metrics = serve_metrics(args.protection.metrics_listen.as_deref(), &state).await?;
    // Webhook delivery runs beside the server, never on a request (README, "Events").
    let webhooks = args
        .webhooks
        .settings()?
        .map(|settings| systembruker_http::webhooks::spawn(state.app.clone(), settings));
    let purge = state.app.audit.is_enabled().then(|| {
        tokio::spawn(systembruker_app::audit::purge_periodically(
            state.store.clone(),
            state.config.audit.clone(),
        ))
    });
    let audit = state.app.audit.clone();
    let app = systembruker_http::app(state);
    tracing::info!(%local, %public_url, dev, "systembruker listening");
    let served = systembruker_http::serve(listener, app, shutdown_signal()).await;
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    if let Some(webhooks) = webhooks {
        webhooks.abort();
    }
    if let Some(purge) = purge {
        purge.abort();
    }
    // Every request has been answered: write what the audit still holds.
    audit.close().await;
    served?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Starts the metrics listener when one is configured; it runs until aborted.
async fn serve_metrics(
    address: Option<&str>,
    state: &AppState,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(address) = address else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address} (--metrics-listen)"))?;
    let local = listener.local_addr()?;
    let app = systembruker_http::metrics_app(state.clone());
    tracing::info!(%local, "metrics listening");
    Ok(Some(tokio::spawn(async move {
        if let Err(err) = systembruker_http::serve(listener, app, std::future::pending()).await {
            tracing::error!(%err, "the metrics listener stopped");
        }
    })))
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down; finishing requests in flight");
}
