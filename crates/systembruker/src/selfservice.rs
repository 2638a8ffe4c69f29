//! `systembruker scope create|grant|revoke`: an API owner's own scopes through the
//! self-service API, with the owner's own Maskinporten token (`idporten:scopes.write`).

use anyhow::Context;
use clap::Subcommand;

use crate::tokens::RemoteArgs;

#[derive(Debug, clap::Args)]
pub struct OwnerArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// The owner's Maskinporten token with `idporten:scopes.write`.
    #[arg(long, env = "SYSTEMBRUKER_TOKEN")]
    pub token: String,
}

#[derive(Debug, Subcommand)]
pub enum ScopeCommand {
    /// Create `prefix:subscope` under a prefix the operator gave the organisation.
    Create {
        #[command(flatten)]
        owner: OwnerArgs,
        #[arg(long)]
        prefix: String,
        #[arg(long)]
        subscope: String,
        #[arg(long)]
        description: String,
        /// Cap on the lifetime of tokens with the scope, in seconds.
        #[arg(long)]
        at_max_age: Option<u32>,
        /// Every organisation may use the scope.
        #[arg(long)]
        accessible_for_all: bool,
    },
    /// Give an organisation access to one of the owner's scopes.
    Grant {
        #[command(flatten)]
        owner: OwnerArgs,
        #[arg(long)]
        scope: String,
        /// The organisation number of the consumer.
        #[arg(long)]
        consumer_org: String,
    },
    /// Take an organisation's access away (its next token request is refused).
    Revoke {
        #[command(flatten)]
        owner: OwnerArgs,
        #[arg(long)]
        scope: String,
        #[arg(long)]
        consumer_org: String,
    },
}

pub async fn run(command: ScopeCommand) -> anyhow::Result<()> {
    let (owner, method, path, scope, body) = match command {
        ScopeCommand::Create {
            owner,
            prefix,
            subscope,
            description,
            at_max_age,
            accessible_for_all,
        } => (
            owner,
            reqwest::Method::POST,
            "scopes".to_string(),
            None,
            Some(serde_json::json!({
                "prefix": prefix, "subscope": subscope, "description": description,
                "at_max_age": at_max_age, "accessible_for_all": accessible_for_all,
            })),
        ),
        ScopeCommand::Grant {
            owner,
            scope,
            consumer_org,
        } => (
            owner,
            reqwest::Method::PUT,
            access_path(&consumer_org)?,
            Some(scope),
            None,
        ),
        ScopeCommand::Revoke {
            owner,
            scope,
            consumer_org,
        } => (
            owner,
            reqwest::Method::DELETE,
            access_path(&consumer_org)?,
            Some(scope),
            None,
        ),
    };
    let url = format!(
        "{}/maskinporten/api/v1/{path}",
        owner.remote.url.trim_end_matches('/')
    );
    let mut request = reqwest::Client::new()
        .request(method, &url)
        .bearer_auth(&owner.token);
    if let Some(scope) = scope {
        request = request.query(&[("scope", scope)]);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let text = response.text().await?;
    anyhow::ensure!(status.is_success(), "{url} answered {status}: {text}");
    if !text.is_empty() {
        println!("{text}");
    }
    Ok(())
}

/// `scopes/access/{consumer}` (the scope goes in the query).
fn access_path(consumer: &str) -> anyhow::Result<String> {
    let consumer = systembruker_domain::OrgNumber::parse(consumer).context("--consumer-org")?;
    Ok(format!("scopes/access/{consumer}"))
}
