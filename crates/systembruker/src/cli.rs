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
    /// At start, how long to keep trying a database that cannot be reached (with
    /// backoff) before giving up; 0 tries once.
    #[arg(long, env = "SYSTEMBRUKER_DATABASE_WAIT_SECONDS", default_value_t = 60)]
    pub database_wait_seconds: u64,
    /// How long a request waits for a database connection before it answers 503.
    #[arg(
        long,
        env = "SYSTEMBRUKER_DATABASE_ACQUIRE_TIMEOUT_MS",
        default_value_t = 2000
    )]
    pub database_acquire_timeout_ms: u64,
}

impl DatabaseArgs {
    /// Opens the store, waiting for the database as configured.
    pub async fn open(&self) -> anyhow::Result<systembruker_storage::SqlStore> {
        use anyhow::Context;
        let settings = systembruker_storage::StoreSettings {
            acquire_timeout: std::time::Duration::from_millis(self.database_acquire_timeout_ms),
        };
        let wait = std::time::Duration::from_secs(self.database_wait_seconds);
        systembruker_storage::SqlStore::open_waiting(&self.database_url, settings, wait)
            .await
            .with_context(|| format!("cannot open the database {}", self.database_url))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(Box<serve::args::ServeArgs>),
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
    /// An API owner's own scopes and who may use them (self-service, the owner's token).
    Scope {
        #[command(subcommand)]
        what: crate::selfservice::ScopeCommand,
    },
    /// Get an access token from a running platform, as a vendor's client would.
    Token(crate::tokens::TokenArgs),
    /// The token service's signing keys.
    Keys {
        #[command(subcommand)]
        what: KeysCommand,
    },
    /// The append-only history and its hash chain.
    History {
        #[command(subcommand)]
        what: HistoryCommand,
    },
    /// The audit of tokens and decisions.
    Audit {
        #[command(subcommand)]
        what: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Check the hash chain; names the first broken entry (exit status 1 if there is one).
    Verify {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Remove the records older than the retention (as the server does hourly).
    Purge {
        /// Keep this many days of records.
        #[arg(long, env = "SYSTEMBRUKER_AUDIT_RETENTION_DAYS", default_value_t = systembruker_app::audit::DEFAULT_RETENTION_DAYS,
            value_parser = clap::value_parser!(u32).range(1..))]
        retention_days: u32,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// `systembruker history verify`: reads the chain, changes nothing.
async fn verify_history(database: &DatabaseArgs) -> anyhow::Result<()> {
    use systembruker_storage::EventStore;
    let store = database.open().await?;
    let report = store.verify_history().await?;
    store.close().await;
    match report.broken {
        None => {
            println!(
                "history chain intact: {} entries checked, {} not sealed yet",
                report.checked, report.unsealed
            );
            Ok(())
        }
        Some(broken) => {
            let row = broken
                .seq
                .map(|seq| format!(" (history seq {seq})"))
                .unwrap_or_default();
            anyhow::bail!(
                "history chain broken at entry {}{row}: {}; {} entries before it are intact",
                broken.chain_seq,
                broken.reason,
                report.checked
            )
        }
    }
}

/// `systembruker audit purge`: prints how many records were removed.
async fn audit_purge(retention_days: u32, database: &DatabaseArgs) -> anyhow::Result<()> {
    let store = database.open().await?;
    let settings = systembruker_app::audit::AuditSettings {
        retention_days,
        ..systembruker_app::audit::AuditSettings::default()
    };
    let purged = systembruker_app::audit::purge(&store, &settings).await?;
    println!("{purged} audit records older than {retention_days} days removed");
    store.close().await;
    Ok(())
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
    /// Create a client, with the organisation's own token (POST /maskinporten/api/v1/clients)
    /// or the operator's (POST /admin/api/v1/maskinporten/clients); prints it as JSON.
    Create(crate::tokens::ClientCreateArgs),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key that becomes the active one.
    Rotate(crate::tokens::KeysArgs),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(*args).await,
        Command::Import {
            what: ImportCommand::Parties { file, database },
        } => crate::import::import_parties(&file, &database).await,
        Command::Keygen(args) => crate::tokens::keygen(&args),
        Command::Client {
            what: ClientCommand::Create(args),
        } => crate::tokens::client_create(&args).await,
        Command::Scope { what } => crate::selfservice::run(what).await,
        Command::Token(args) => crate::tokens::token(&args).await,
        Command::Keys {
            what: KeysCommand::Rotate(args),
        } => crate::tokens::rotate(&args).await,
        Command::History {
            what: HistoryCommand::Verify { database },
        } => verify_history(&database).await,
        Command::Audit {
            what:
                AuditCommand::Purge {
                    retention_days,
                    database,
                },
        } => audit_purge(retention_days, &database).await,
    }
}
