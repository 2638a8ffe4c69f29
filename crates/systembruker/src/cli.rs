//! Command-line interface.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::serve;

#[derive(Debug, Parser)]
#[command(
    name = "systembruker",
    version,
    about = "System users for the Norwegian public sector"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct DatabaseArgs {
    /// `sqlite://PATH` (created if missing) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "SYSTEMBRUKER_DATABASE_URL",
        default_value = "sqlite://systembruker.db"
    )]
    pub database_url: String,
}

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
    #[arg(long, env = "SYSTEMBRUKER_REQUEST_TIMEOUT_DAYS", default_value_t = systembruker_http::DEFAULT_REQUEST_TIMEOUT_DAYS)]
    pub request_timeout_days: u32,
    /// A static operator token accepted with scope systembruker:admin (never empty).
    #[arg(long, env = "SYSTEMBRUKER_ADMIN_TOKEN")]
    pub admin_token: Option<String>,
    /// 32 bytes in base64 that seal the token service's private keys in the database
    /// (`openssl rand -base64 32`); without it they are stored unencrypted.
    #[arg(long, env = "SYSTEMBRUKER_KEY_ENCRYPTION_KEY", hide_env_values = true)]
    pub key_encryption_key: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Import data offline, as the operator API does.
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
    /// Make an RSA-2048 key pair for a Maskinporten client: private PEM and public JWK.
    Keygen(crate::tokens::KeygenArgs),
    /// Maskinporten clients (through the operator API).
    Client {
        #[command(subcommand)]
        what: ClientCommand,
    },
    /// Get an access token from a running platform, as a vendor's client would.
    Token(crate::tokens::TokenArgs),
    /// The token service's signing keys.
    Keys {
        #[command(subcommand)]
        what: KeysCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import parties from a CSV (columns of test-parties.csv) or JSON file, all or nothing.
    Parties {
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Create a client (POST /admin/api/v1/maskinporten/clients); prints it as JSON.
    Create(crate::tokens::ClientCreateArgs),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key that becomes the active one.
    Rotate(crate::tokens::KeysArgs),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Import {
            what: ImportCommand::Parties { file, database },
        } => serve::import_parties(&file, &database.database_url).await,
        Command::Keygen(args) => crate::tokens::keygen(&args),
        Command::Client {
            what: ClientCommand::Create(args),
        } => crate::tokens::client_create(&args).await,
        Command::Token(args) => crate::tokens::token(&args).await,
        Command::Keys {
            what: KeysCommand::Rotate(args),
        } => crate::tokens::rotate(&args).await,
    }
}
