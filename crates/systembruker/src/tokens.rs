//! Token-service commands: `keygen`, `client create` (operator or self-service), `token`
//! and `keys rotate`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use systembruker_domain::OrgNumber;
use systembruker_token::client::AssertionRequest;
use systembruker_token::keys::{KeyEncryptionKey, SigningKey};
use systembruker_token::{TokenService, TokenSettings};

/// Where to reach a running platform.
#[derive(Debug, clap::Args)]
pub struct RemoteArgs {
    /// The platform's URL (as --public-url of `serve`).
    #[arg(
        long,
        env = "SYSTEMBRUKER_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
}

#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// The key id to register the public key under (unique across all clients).
    #[arg(long)]
    pub kid: String,
    /// Directory for `<kid>.pem` (private key) and `<kid>.jwk.json` (public JWK).
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ClientCreateArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// An operator token (systembruker:admin), e.g. the server's --admin-token.
    #[arg(
        long,
        env = "SYSTEMBRUKER_ADMIN_TOKEN",
        required_unless_present = "token"
    )]
    pub admin_token: Option<String>,
    /// The organisation's own Maskinporten token with `idporten:dcr.write`: the client is
    /// created through the self-service API for the token's organisation (no operator).
    /// Taken before --admin-token when both are given.
    #[arg(long, env = "SYSTEMBRUKER_TOKEN")]
    pub token: Option<String>,
    #[arg(long)]
    pub name: String,
    /// Organisation number of the client's owner (operator only; self-service clients
    /// belong to the token's organisation).
    #[arg(long, required_unless_present = "token")]
    pub consumer_org: Option<String>,
    /// A scope the client may ask for (repeat for more).
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// A public JWK file (as written by `keygen`) to register (repeat for more).
    #[arg(long = "jwk")]
    pub jwks: Vec<PathBuf>,
    /// Access-token lifetime in seconds (default 120).
    #[arg(long)]
    pub access_token_lifetime: Option<u32>,
}

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[arg(long)]
    pub client_id: String,
    /// The private key (PEM, PKCS#8 or PKCS#1).
    #[arg(long)]
    pub key: PathBuf,
    /// The key's kid (default: the key file's name without `.pem`).
    #[arg(long)]
    pub kid: Option<String>,
    /// Scopes, space-separated.
    #[arg(long)]
    pub scope: String,
    /// Ask for a system-user token of the system user this organisation owns.
    #[arg(long)]
    pub systemuser_org: Option<String>,
    /// The system user's externalRef (default: the owner's org number).
    #[arg(long, requires = "systemuser_org")]
    pub external_ref: Option<String>,
    /// Print the whole token response (JSON) instead of the token alone.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    #[command(flatten)]
    pub database: crate::cli::DatabaseArgs,
    /// 32 bytes in base64 that seal the signing keys at rest (`openssl rand -base64 32`).
    #[arg(long, env = "SYSTEMBRUKER_KEY_ENCRYPTION_KEY", hide_env_values = true)]
    pub key_encryption_key: Option<String>,
}

/// The key-encryption key from the option, if given.
pub fn key_encryption(text: Option<&str>) -> anyhow::Result<Option<KeyEncryptionKey>> {
    text.map(KeyEncryptionKey::from_base64)
        .transpose()
        .context("SYSTEMBRUKER_KEY_ENCRYPTION_KEY")
}

pub fn keygen(args: &KeygenArgs) -> anyhow::Result<()> {
    let key = SigningKey::generate(Some(&args.kid))?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let private = args.out.join(format!("{}.pem", args.kid));
    let public = args.out.join(format!("{}.jwk.json", args.kid));
    write_private(&private, &key.to_pem()?)?;
    let jwk = serde_json::to_string_pretty(key.public_jwk())?;
    std::fs::write(&public, format!("{jwk}\n"))
        .with_context(|| format!("cannot write {}", public.display()))?;
    eprintln!(
        "private key: {}\npublic JWK:  {}",
        private.display(),
        public.display()
    );
    println!("{jwk}");
    Ok(())
}

/// Writes a private key readable by its owner only.
fn write_private(path: &Path, pem: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    file.write_all(pem.as_bytes())?;
    Ok(())
}

pub async fn client_create(args: &ClientCreateArgs) -> anyhow::Result<()> {
    let mut keys = Vec::new();
    for path in &args.jwks {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        keys.push(
            serde_json::from_str::<serde_json::Value>(&text)
                .with_context(|| format!("{} is not JSON", path.display()))?,
        );
    }
    let mut body = serde_json::json!({
        "client_name": args.name,
        "scopes": args.scopes,
        "access_token_lifetime": args.access_token_lifetime,
    });
    if !keys.is_empty() {
        body["jwks"] = serde_json::json!({ "keys": keys });
    }
    let base = args.remote.url.trim_end_matches('/');
    let (url, bearer) = match (&args.token, &args.admin_token) {
        (Some(token), _) => (format!("{base}/maskinporten/api/v1/clients"), token),
        (None, Some(admin)) => {
            let consumer = args
                .consumer_org
                .as_deref()
                .context("--consumer-org is needed with --admin-token")?;
            body["consumer_org"] = serde_json::json!(consumer);
            (format!("{base}/admin/api/v1/maskinporten/clients"), admin)
        }
        (None, None) => anyhow::bail!("give --token (self-service) or --admin-token (operator)"),
    };
    let response = reqwest::Client::new()
        .post(&url)
        .bearer_auth(bearer)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let text = response.text().await?;
    anyhow::ensure!(status.is_success(), "{url} answered {status}: {text}");
    println!("{text}");
    Ok(())
}

pub async fn token(args: &TokenArgs) -> anyhow::Result<()> {
    let pem = std::fs::read_to_string(&args.key)
        .with_context(|| format!("cannot read {}", args.key.display()))?;
    let kid = match &args.kid {
        Some(kid) => kid.clone(),
        None => args
            .key
            .file_name()
            .and_then(|n| n.to_str())
            .map(|n| n.trim_end_matches(".pem").to_string())
            .context("give --kid: the key file has no usable name")?,
    };
    let key = SigningKey::from_pem(Some(&kid), &pem)?;
    let base = args.remote.url.trim_end_matches('/');
    let issuer = format!("{base}/maskinporten/");
    let mut request = AssertionRequest::new(&args.client_id, &issuer, &args.scope);
    if let Some(org) = &args.systemuser_org {
        let org = OrgNumber::parse(org).context("--systemuser-org")?;
        request = request.system_user(&org, args.external_ref.as_deref());
    }
    let assertion = request.sign(&key)?;
    let url = format!("{issuer}token");
    let response = reqwest::Client::new()
        .post(&url)
        .form(&[
            ("grant_type", systembruker_token::JWT_BEARER_GRANT),
            ("assertion", assertion.as_str()),
        ])
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let body: serde_json::Value = response
        .json()
        .await
        .with_context(|| format!("{url} did not answer with JSON ({status})"))?;
    if !status.is_success() {
        anyhow::bail!(
            "{}: {}",
            body["error"].as_str().unwrap_or("error"),
            body["error_description"].as_str().unwrap_or("")
        );
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&body)?);
    } else {
        println!("{}", body["access_token"].as_str().unwrap_or_default());
    }
    Ok(())
}

pub async fn rotate(args: &KeysArgs) -> anyhow::Result<()> {
    let store = args.database.open().await?;
    let service = TokenService::new(
        Arc::new(store.clone()),
        TokenSettings {
            // The issuer is not used for rotation.
            issuer: String::new(),
            key_encryption: key_encryption(args.key_encryption_key.as_deref())?,
        },
    );
    let kid = service.rotate_signing_key().await?;
    store.close().await;
    eprintln!(
        "new signing key {kid} is active; running servers pick it up within a minute, and the old key stays published until its tokens have expired"
    );
    println!("{kid}");
    Ok(())
}
