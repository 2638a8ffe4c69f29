//! `example-provider`: Skatteetaten's demo API. Registers a Maskinporten client of its own
//! for the PDP (with `--admin-token`, a key made at start) or uses a given one
//! (`--client-id` and `--key`), then serves the API behind the provider guard.

use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use systembruker_provider_guard::{Guard, GuardConfig, MaskinportenClient, TokenSource};
use systembruker_token::keys::SigningKey;

/// Skatteetaten's organisation number.
const SKATTEETATEN: &str = "974761076";
const AUTHORIZE_SCOPE: &str = "altinn:authorization/authorize";

#[derive(Debug, Parser)]
#[command(about = "Demo API provider: Skatteetaten's \"Krav og betalinger\"")]
struct Args {
    /// Address to listen on (port 0: any free port; the chosen URL is printed).
    #[arg(
        long,
        env = "EXAMPLE_PROVIDER_LISTEN",
        default_value = "127.0.0.1:8081"
    )]
    listen: String,
    /// The platform's public URL.
    #[arg(
        long,
        env = "SYSTEMBRUKER_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    platform_url: String,
    /// An operator token of the platform: registers Skatteetaten's client with a new key.
    #[arg(long, env = "SYSTEMBRUKER_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Skatteetaten's Maskinporten client id (instead of --admin-token).
    #[arg(long, requires = "key")]
    client_id: Option<String>,
    /// The client's private key, PEM (its file name without `.pem` is the kid).
    #[arg(long)]
    key: Option<std::path::PathBuf>,
}

async fn credentials(args: &Args) -> anyhow::Result<MaskinportenClient> {
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
            platform,
            client_id,
            key,
            AUTHORIZE_SCOPE,
        ));
    }
    let admin = args
        .admin_token
        .as_deref()
        .context("give --admin-token, or --client-id and --key")?;
    Ok(MaskinportenClient::register(
        platform,
        admin,
        "skatteetaten",
        SKATTEETATEN,
        &[AUTHORIZE_SCOPE],
    )
    .await?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let client = credentials(&args).await?;
    // Fail at start, not at the first call, when the client cannot get a token.
    client
        .token()
        .await
        .context("Skatteetaten's client gets no token for the PDP")?;
    let config = GuardConfig::new(
        &args.platform_url,
        example_provider::SCOPE,
        example_provider::RESOURCE,
    );
    let guard = Guard::new(config, Arc::new(client), example_provider::party_of)?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    println!("example-provider listening on {url}");
    axum::serve(listener, example_provider::app(guard))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
