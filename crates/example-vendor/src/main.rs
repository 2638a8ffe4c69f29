//! `example-vendor`: SmartRegnskap by SmartCloud AS. At start it registers SmartCloud's
//! Maskinporten client (with `--admin-token`, a key made at start) or uses a given one
//! (`--client-id` and `--key`), and adds the client id and its receipt URL to the system
//! `991825827_smartregnskap`, as a vendor does once in the system register.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use example_vendor::AppState;
use example_vendor::platform::{DEMO_SCOPE, Platform, SMARTCLOUD, VENDOR_SCOPES};
use systembruker_provider_guard::MaskinportenClient;
use systembruker_token::keys::SigningKey;

#[derive(Debug, Parser)]
#[command(about = "Demo vendor app: SmartRegnskap by SmartCloud AS")]
struct Args {
    /// Address to listen on (port 0: any free port; the chosen URL is printed).
    #[arg(long, env = "EXAMPLE_VENDOR_LISTEN", default_value = "127.0.0.1:8082")]
    listen: String,
    /// The URL browsers reach this app at (default: http://<listen address>).
    #[arg(long, env = "EXAMPLE_VENDOR_PUBLIC_URL")]
    public_url: Option<String>,
    /// The platform's public URL.
    #[arg(
        long,
        env = "SYSTEMBRUKER_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    platform_url: String,
    /// The provider's (example-provider's) URL.
    #[arg(
        long,
        env = "EXAMPLE_PROVIDER_URL",
        default_value = "http://127.0.0.1:8081"
    )]
    provider_url: String,
    /// An operator token of the platform: registers SmartCloud's client with a new key.
    #[arg(long, env = "SYSTEMBRUKER_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// SmartCloud's Maskinporten client id (instead of --admin-token).
    #[arg(long, requires = "key")]
    client_id: Option<String>,
    /// The client's private key, PEM (its file name without `.pem` is the kid).
    #[arg(long)]
    key: Option<std::path::PathBuf>,
    /// The system in the system register.
    #[arg(long, default_value = "991825827_smartregnskap")]
    system_id: String,
}

async fn client(args: &Args) -> anyhow::Result<MaskinportenClient> {
    let platform = &args.platform_url;
    if let (Some(client_id), Some(path)) = (&args.client_id, &args.key) {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let kid = path
            .file_stem()
            .and_then(|s| s.to_str())
            .context("the key file has no usable name")?;
        let key = SigningKey::from_pem(Some(kid), &pem)?;
        return Ok(MaskinportenClient::new(
            platform, client_id, key, DEMO_SCOPE,
        ));
    }
    let admin = args
        .admin_token
        .as_deref()
        .context("give --admin-token, or --client-id and --key")?;
    let mut scopes = vec![DEMO_SCOPE];
    scopes.extend(VENDOR_SCOPES.split(' '));
    Ok(MaskinportenClient::register(platform, admin, "smartcloud", SMARTCLOUD, &scopes).await?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = format!("http://{}", listener.local_addr()?);
    let public_url = args
        .public_url
        .clone()
        .unwrap_or(local)
        .trim_end_matches('/')
        .to_string();
    let platform = Platform {
        url: args.platform_url.trim_end_matches('/').to_string(),
        http: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(15))
            .build()?,
        client: client(&args).await?,
        system_id: args.system_id.clone(),
    };
    let receipt = format!("{public_url}/receipt");
    platform
        .register_on_system(&receipt)
        .await
        .map_err(|e| anyhow::anyhow!("cannot register on {}: {e}", args.system_id))?;
    let state = Arc::new(AppState {
        platform,
        public_url: public_url.clone(),
        provider_url: args.provider_url.trim_end_matches('/').to_string(),
        signups: tokio::sync::RwLock::new(HashMap::new()),
    });
    println!("example-vendor listening on {public_url}");
    axum::serve(listener, example_vendor::app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
