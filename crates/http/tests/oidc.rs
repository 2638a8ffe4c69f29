//! The OpenID Connect relying party (`systembruker_http::oidc`).
//!
//! Against a real OpenID provider: the npm package `oidc-provider`, started from
//! `tests/browser/oidc-provider.mjs` and logged in to through its development login form,
//! with both client authentications (client_secret_basic and private_key_jwt). Without
//! `tests/browser/node_modules` those tests are skipped with a message, except under
//! `CI=true`, where they fail.
//!
//! The id_token checks that a well-behaved provider never triggers (foreign keys, `alg`
//! none or HS256, wrong `iss`/`aud`, expiry, missing `pid`, key rotation) run against a
//! small provider served here, whose token endpoint returns id_tokens made by the test.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::Url;
use serde_json::{Value, json};
use systembruker_http::oidc::{ClientAuth, OidcClient, OidcConfig, OidcError, PendingLogin};
use systembruker_token::jws::{self, RsaAlgorithm};
use systembruker_token::keys::SigningKey;

const PIA: &str = "14857510098";
const TINA: &str = "21906810074";
const SECRET_CLIENT: &str = "systembruker";
const SECRET: &str = "systembruker-test-secret";
const JWT_CLIENT: &str = "systembruker-jwt";
const REDIRECT_URI: &str = "http://127.0.0.1:9/accessmanagement/ui/login/callback";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

// ---------------------------------------------------------------------------------------
// The real provider (node oidc-provider)
// ---------------------------------------------------------------------------------------

/// The node provider, shared by the tests of this binary. It is started with
/// `--exit-with-stdin`, and its stdin pipe lives as long as this process, so it stops
/// when the test binary ends (statics are never dropped).
struct NodeProvider {
    issuer: String,
    /// The private_key_jwt client's key; its public half was given to the provider.
    jwt_key_pem: String,
    jwt_kid: String,
    _child: Mutex<Child>,
}

static PROVIDER: OnceLock<Result<Option<NodeProvider>, String>> = OnceLock::new();

/// The running provider, or `None` when the node dependencies are missing outside CI.
fn node_provider() -> Option<&'static NodeProvider> {
    match PROVIDER.get_or_init(start_node_provider) {
        Ok(provider) => provider.as_ref(),
        Err(e) => panic!("{e}"),
    }
}

fn start_node_provider() -> Result<Option<NodeProvider>, String> {
    let browser = repo_root().join("tests/browser");
    let installed = browser
        .join("node_modules/oidc-provider/package.json")
        .exists();
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed || !node {
        let why = if node {
            "tests/browser/node_modules is missing: run `npm ci` in tests/browser (scripts/test.sh does)"
        } else {
            "node is not installed"
        };
        if std::env::var("CI").as_deref() == Ok("true") {
            return Err(format!(
                "the OpenID provider tests cannot run under CI: {why}"
            ));
        }
        eprintln!("skipping the tests against the real OpenID provider: {why}");
        return Ok(None);
    }

    let key = SigningKey::generate(Some("rp-test-key")).map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("sb-oidc-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let jwk_path = dir.join("client-jwk.json");
    std::fs::write(
        &jwk_path,
        serde_json::to_vec(key.public_jwk()).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;

    let mut child = Command::new("node")
        .arg(browser.join("oidc-provider.mjs"))
        .args(["--port", "0", "--exit-with-stdin"])
        .args(["--client-id", SECRET_CLIENT, "--client-secret", SECRET])
        .args(["--redirect-uri", REDIRECT_URI])
        .args(["--jwt-client-id", JWT_CLIENT])
        .arg("--jwt-client-jwk")
        .arg(&jwk_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start node: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(issuer) = line.strip_prefix("ready ") {
                let _ = tx.send(issuer.trim().to_string());
            }
        }
    });
    let issuer = rx.recv_timeout(Duration::from_secs(30)).map_err(|_| {
        "the OpenID provider did not print `ready <issuer>` within 30 s".to_string()
    })?;
    Ok(Some(NodeProvider {
        issuer,
        jwt_key_pem: key.to_pem().map_err(|e| e.to_string())?,
        jwt_kid: key.kid().to_string(),
        _child: Mutex::new(child),
    }))
}

fn secret_config(provider: &NodeProvider) -> OidcConfig {
    OidcConfig::new(
        provider.issuer.clone(),
        SECRET_CLIENT,
        ClientAuth::Secret(SECRET.into()),
        REDIRECT_URI,
    )
}

fn jwt_config(provider: &NodeProvider) -> OidcConfig {
    OidcConfig::new(
        provider.issuer.clone(),
        JWT_CLIENT,
        ClientAuth::PrivateKeyJwt {
            key_pem: provider.jwt_key_pem.clone(),
            kid: Some(provider.jwt_kid.clone()),
        },
        REDIRECT_URI,
    )
}

/// The `code` and `state` a browser would bring back to the callback.
#[derive(Debug)]
struct Callback {
    code: String,
    state: String,
}

/// Logs in at the provider as a browser would: follows redirects by hand (the redirect
/// URI has no server behind it), fills in the development login form with the person
/// number, and submits any further form (consent) as it is.
async fn browser_login(auth_url: &str, login: &str) -> anyhow::Result<Callback> {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut url = Url::parse(auth_url)?;
    let mut form: Option<Vec<(String, String)>> = None;
    for _ in 0..12 {
        let response = match form.take() {
            Some(fields) => browser.post(url.clone()).form(&fields).send().await?,
            None => browser.get(url.clone()).send().await?,
        };
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| anyhow::anyhow!("redirect without Location"))?;
            let next = url.join(location)?;
            if next.as_str().starts_with(REDIRECT_URI) {
                let query: std::collections::HashMap<_, _> =
                    next.query_pairs().into_owned().collect();
                if let Some(error) = query.get("error") {
                    anyhow::bail!("the provider answered with error {error}: {query:?}");
                }
                return Ok(Callback {
                    code: query.get("code").cloned().unwrap_or_default(),
                    state: query.get("state").cloned().unwrap_or_default(),
                });
            }
            url = next;
            continue;
        }
        let status = response.status();
        let body = response.text().await?;
        anyhow::ensure!(status.is_success(), "HTTP {status} at {url}: {body}");
        let (action, mut fields) =
            parse_form(&body).ok_or_else(|| anyhow::anyhow!("no form at {url}: {body}"))?;
        if body.contains("name=\"login\"") {
            fields.push(("login".into(), login.into()));
            fields.push(("password".into(), "any password".into()));
        }
        url = url.join(&action)?;
        form = Some(fields);
    }
    anyhow::bail!("the login did not come back to the redirect URI")
}

/// The first form's action and its hidden fields.
fn parse_form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let start = html.find("<form")?;
    let form = &html[start..];
    let form = &form[..form.find("</form>").unwrap_or(form.len())];
    let tag_end = form.find('>')?;
    let action = attribute(&form[..tag_end], "action")?;
    let fields = form
        .split("<input")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            (attribute(tag, "type").as_deref() == Some("hidden"))
                .then(|| Some((attribute(tag, "name")?, attribute(tag, "value")?)))?
        })
        .collect();
    Some((action, fields))
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].replace("&amp;", "&").replace("&#x2F;", "/"))
}

macro_rules! provider_or_skip {
    () => {
        match node_provider() {
            Some(provider) => provider,
            None => return Ok(()),
        }
    };
}

#[tokio::test]
async fn pia_logs_in_with_client_secret() -> anyhow::Result<()> {
    let provider = provider_or_skip!();
    let client = OidcClient::discover(secret_config(provider), reqwest::Client::new()).await?;
    let (auth_url, pending) = client.begin();
    let url = Url::parse(&auth_url)?;
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["state"], pending.state);
    assert_eq!(query["nonce"], pending.nonce);
    assert_eq!(query["scope"], "openid profile");
    assert_eq!(query["redirect_uri"], REDIRECT_URI);
    assert_eq!(pending.code_verifier.len(), 43, "256 bits in base64url");
    assert_ne!(query["code_challenge"], pending.code_verifier);

    let callback = browser_login(&auth_url, PIA).await?;
    let logged_in = client
        .complete(&callback.code, &callback.state, &pending)
        .await?;
    assert_eq!(logged_in.pid.as_str(), PIA);
    assert_eq!(logged_in.name.as_deref(), Some("Pia Rørlegger"));

    let logout = client
        .end_session_url(
            Some(&logged_in.id_token),
            "http://127.0.0.1:9/accessmanagement/ui/",
        )
        .ok_or_else(|| anyhow::anyhow!("the provider has an end_session_endpoint"))?;
    assert!(logout.starts_with(&format!("{}/session/end?", provider.issuer)));
    assert!(logout.contains("id_token_hint="));
    assert!(logout.contains("post_logout_redirect_uri="));
    Ok(())
}

#[tokio::test]
async fn tina_logs_in_with_private_key_jwt() -> anyhow::Result<()> {
    let provider = provider_or_skip!();
    let client = OidcClient::discover(jwt_config(provider), reqwest::Client::new()).await?;
    let (auth_url, pending) = client.begin();
    let callback = browser_login(&auth_url, TINA).await?;
    let logged_in = client
        .complete(&callback.code, &callback.state, &pending)
        .await?;
    assert_eq!(logged_in.pid.as_str(), TINA);
    assert_eq!(logged_in.name.as_deref(), Some("Tina Tallmaker"));
    Ok(())
}

#[tokio::test]
async fn a_private_key_the_provider_does_not_know_is_refused() -> anyhow::Result<()> {
    let provider = provider_or_skip!();
    let other = SigningKey::generate(Some("rp-test-key"))?;
    let mut config = jwt_config(provider);
    config.client_auth = ClientAuth::PrivateKeyJwt {
        key_pem: other.to_pem()?,
        kid: Some(provider.jwt_kid.clone()),
    };
    let client = OidcClient::discover(config, reqwest::Client::new()).await?;
    let (auth_url, pending) = client.begin();
    let callback = browser_login(&auth_url, PIA).await?;
    let err = client
        .complete(&callback.code, &callback.state, &pending)
        .await
        .expect_err("the assertion is signed by a foreign key");
    assert!(
        matches!(&err, OidcError::TokenRefused { error, .. } if error == "invalid_client"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn a_wrong_state_is_refused_before_the_code_is_used() -> anyhow::Result<()> {
    let provider = provider_or_skip!();
    let client = OidcClient::discover(secret_config(provider), reqwest::Client::new()).await?;
    let (auth_url, pending) = client.begin();
    let callback = browser_login(&auth_url, PIA).await?;
    let (_, other) = client.begin();
    let err = client
        .complete(&callback.code, &other.state, &pending)
        .await
        .expect_err("state of another login");
    assert!(matches!(err, OidcError::StateMismatch), "{err}");
    // Nothing was exchanged: the code still works with the right state.
    let logged_in = client
        .complete(&callback.code, &callback.state, &pending)
        .await?;
    assert_eq!(logged_in.pid.as_str(), PIA);
    Ok(())
}

#[tokio::test]
async fn a_tampered_nonce_is_refused() -> anyhow::Result<()> {
    let provider = provider_or_skip!();
    let client = OidcClient::discover(secret_config(provider), reqwest::Client::new()).await?;
    let (auth_url, pending) = client.begin();
    let callback = browser_login(&auth_url, PIA).await?;
    let tampered = PendingLogin {
        nonce: client.begin().1.nonce,
        ..pending
    };
    let err = client
        .complete(&callback.code, &callback.state, &tampered)
        .await
        .expect_err("the id_token carries the original nonce");
    assert!(matches!(err, OidcError::NonceMismatch), "{err}");
    Ok(())
}

#[tokio::test]
async fn the_provider_checks_the_pkce_verifier_and_single_use_codes() -> anyhow::Result<()> {
    let provider = provider_or_skip!();
    let client = OidcClient::discover(secret_config(provider), reqwest::Client::new()).await?;
    let (auth_url, pending) = client.begin();
    let callback = browser_login(&auth_url, PIA).await?;
    let wrong_verifier = PendingLogin {
        code_verifier: client.begin().1.code_verifier,
        ..pending.clone()
    };
    let err = client
        .complete(&callback.code, &callback.state, &wrong_verifier)
        .await
        .expect_err("the verifier does not match the challenge");
    assert!(
        matches!(&err, OidcError::TokenRefused { error, .. } if error == "invalid_grant"),
        "{err}"
    );
    assert!(err.to_string().contains("start the login again"), "{err}");
    // With the right verifier the same code works, once.
    client
        .complete(&callback.code, &callback.state, &pending)
        .await?;
    let err = client
        .complete(&callback.code, &callback.state, &pending)
        .await
        .expect_err("codes are single use");
    assert!(
        matches!(&err, OidcError::TokenRefused { error, .. } if error == "invalid_grant"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn the_provider_requires_pkce() -> anyhow::Result<()> {
    let provider = provider_or_skip!();
    let client = OidcClient::discover(secret_config(provider), reqwest::Client::new()).await?;
    let (auth_url, _) = client.begin();
    let mut without = Url::parse(&auth_url)?;
    let pairs: Vec<(String, String)> = without
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .collect();
    without.query_pairs_mut().clear().extend_pairs(pairs);
    let err = browser_login(without.as_str(), PIA)
        .await
        .expect_err("no code_challenge");
    assert!(err.to_string().contains("invalid_request"), "{err}");
    Ok(())
}

#[tokio::test]
async fn a_wrong_client_secret_is_refused() -> anyhow::Result<()> {
    let provider = provider_or_skip!();
    let mut config = secret_config(provider);
    config.client_auth = ClientAuth::Secret("not-the-secret".into());
    let client = OidcClient::discover(config, reqwest::Client::new()).await?;
    let (auth_url, pending) = client.begin();
    let callback = browser_login(&auth_url, PIA).await?;
    let err = client
        .complete(&callback.code, &callback.state, &pending)
        .await
        .expect_err("wrong secret");
    assert!(
        matches!(&err, OidcError::TokenRefused { error, .. } if error == "invalid_client"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn a_pid_with_a_wrong_check_digit_is_refused() -> anyhow::Result<()> {
    let provider = provider_or_skip!();
    let client = OidcClient::discover(secret_config(provider), reqwest::Client::new()).await?;
    let (auth_url, pending) = client.begin();
    // Pia's number with the last digit changed: eleven digits, but not a valid number.
    let callback = browser_login(&auth_url, "14857510099").await?;
    let err = client
        .complete(&callback.code, &callback.state, &pending)
        .await
        .expect_err("invalid pid");
    assert!(matches!(err, OidcError::InvalidPid(_)), "{err}");
    Ok(())
}

#[tokio::test]
async fn discovery_insists_on_the_exact_issuer() -> anyhow::Result<()> {
    let provider = provider_or_skip!();
    let mut config = secret_config(provider);
    config.issuer = format!("{}/", provider.issuer);
    let err = OidcClient::discover(config, reqwest::Client::new())
        .await
        .expect_err("a trailing slash is another issuer");
    assert!(matches!(err, OidcError::IssuerMismatch { .. }), "{err}");
    assert!(err.to_string().contains("--oidc-issuer"), "{err}");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// A provider served here, for id_tokens a real provider would never issue
// ---------------------------------------------------------------------------------------

/// A token request as the provider saw it: its Authorization header and form fields.
type TokenRequest = (Option<String>, Vec<(String, String)>);

#[derive(Default)]
struct FakeState {
    issuer: Mutex<String>,
    /// The issuer the metadata claims, when it should differ from the real one.
    claimed_issuer: Mutex<Option<String>>,
    jwks: Mutex<Value>,
    jwks_fetches: AtomicUsize,
    id_token: Mutex<String>,
    /// The last token request: its Authorization header and form fields.
    token_request: Mutex<Option<TokenRequest>>,
    extra_metadata: Mutex<Value>,
}

struct FakeProvider {
    issuer: String,
    state: Arc<FakeState>,
    key: SigningKey,
    _server: tokio::task::JoinHandle<()>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

async fn metadata(State(state): State<Arc<FakeState>>) -> Json<Value> {
    let issuer = lock(&state.issuer).clone();
    let claimed = lock(&state.claimed_issuer)
        .clone()
        .unwrap_or(issuer.clone());
    let mut doc = json!({
        "issuer": claimed,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    if let (Some(doc), Some(extra)) = (doc.as_object_mut(), lock(&state.extra_metadata).as_object())
    {
        for (k, v) in extra {
            doc.insert(k.clone(), v.clone());
        }
    }
    Json(doc)
}

async fn jwks(State(state): State<Arc<FakeState>>) -> Json<Value> {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    Json(lock(&state.jwks).clone())
}

async fn token(State(state): State<Arc<FakeState>>, headers: HeaderMap, body: String) -> Response {
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    *lock(&state.token_request) = Some((authorization, form));
    let id_token = lock(&state.id_token).clone();
    if id_token.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": "no such code"})),
        )
            .into_response();
    }
    Json(json!({"access_token": "at", "token_type": "Bearer", "expires_in": 60, "id_token": id_token}))
        .into_response()
}

impl FakeProvider {
    async fn start() -> anyhow::Result<Self> {
        Self::start_on(tokio::net::TcpListener::bind("127.0.0.1:0").await?).await
    }

    async fn start_on(listener: tokio::net::TcpListener) -> anyhow::Result<Self> {
        let key = SigningKey::generate(Some("op-key-1"))?;
        let state = Arc::new(FakeState::default());
        *lock(&state.jwks) = json!({"keys": [key.public_jwk()]});
        let addr: SocketAddr = listener.local_addr()?;
        let issuer = format!("http://{addr}");
        *lock(&state.issuer) = issuer.clone();
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(metadata))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            issuer,
            state,
            key,
            _server: server,
        })
    }

    fn config(&self) -> OidcConfig {
        OidcConfig::new(
            self.issuer.clone(),
            SECRET_CLIENT,
            ClientAuth::Secret("s3cret: with/odd chars".into()),
            REDIRECT_URI,
        )
    }

    async fn client(&self) -> anyhow::Result<OidcClient> {
        Ok(OidcClient::discover(self.config(), reqwest::Client::new()).await?)
    }

    /// Claims a correct id_token for `pending` has.
    fn claims(&self, pending: &PendingLogin) -> Value {
        json!({
            "iss": self.issuer,
            "sub": "some-subject",
            "aud": SECRET_CLIENT,
            "iat": now(),
            "exp": now() + 120,
            "nonce": pending.nonce,
            "pid": PIA,
            "name": "Pia Rørlegger",
        })
    }

    fn sign(&self, key: &SigningKey, claims: &Value) -> anyhow::Result<String> {
        Ok(jws::sign(key, RsaAlgorithm::RS256, Some("JWT"), claims)?)
    }

    /// Completes a login whose token endpoint returns `id_token`.
    async fn complete_with(
        &self,
        client: &OidcClient,
        pending: &PendingLogin,
        id_token: String,
    ) -> Result<systembruker_http::oidc::LoggedIn, OidcError> {
        *lock(&self.state.id_token) = id_token;
        client.complete("the-code", &pending.state, pending).await
    }

    /// Completes a login whose id_token has `claims`, signed with the provider's key.
    async fn complete_claims(
        &self,
        client: &OidcClient,
        pending: &PendingLogin,
        claims: &Value,
    ) -> anyhow::Result<Result<systembruker_http::oidc::LoggedIn, OidcError>> {
        let token = self.sign(&self.key, claims)?;
        Ok(self.complete_with(client, pending, token).await)
    }
}

fn invalid_id_token(result: Result<systembruker_http::oidc::LoggedIn, OidcError>) -> String {
    match result {
        Err(OidcError::InvalidIdToken(reason)) => reason,
        other => panic!("expected an invalid id_token, got {other:?}"),
    }
}

fn unsigned_token(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

#[tokio::test]
async fn the_token_request_carries_pkce_and_basic_auth() -> anyhow::Result<()> {
    let op = FakeProvider::start().await?;
    let client = op.client().await?;
    let (_, pending) = client.begin();
    let logged_in = op
        .complete_claims(&client, &pending, &op.claims(&pending))
        .await??;
    assert_eq!(logged_in.pid.as_str(), PIA);

    let (authorization, form) = lock(&op.state.token_request)
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no token request"))?;
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(field("grant_type").as_deref(), Some("authorization_code"));
    assert_eq!(field("code").as_deref(), Some("the-code"));
    assert_eq!(field("redirect_uri").as_deref(), Some(REDIRECT_URI));
    assert_eq!(field("code_verifier"), Some(pending.code_verifier.clone()));
    assert_eq!(field("client_assertion"), None);
    // RFC 6749 §2.3.1: id and secret form-encoded, then base64.
    let expected = STANDARD.encode("systembruker:s3cret%3A+with%2Fodd+chars");
    assert_eq!(authorization, Some(format!("Basic {expected}")));
    Ok(())
}

#[tokio::test]
async fn the_client_assertion_is_what_id_porten_expects() -> anyhow::Result<()> {
    let op = FakeProvider::start().await?;
    let rp_key = SigningKey::generate(Some("rp-key"))?;
    let mut config = op.config();
    config.client_auth = ClientAuth::PrivateKeyJwt {
        key_pem: rp_key.to_pem()?,
        kid: Some("rp-key".into()),
    };
    let client = OidcClient::discover(config, reqwest::Client::new()).await?;
    let (_, pending) = client.begin();
    op.complete_claims(&client, &pending, &op.claims(&pending))
        .await??;
    let (authorization, form) = lock(&op.state.token_request)
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no token request"))?;
    assert_eq!(authorization, None);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        field("client_assertion_type"),
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    let assertion = field("client_assertion");
    let header = jsonwebtoken::decode_header(&assertion)?;
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), Some("rp-key"));
    let jwk = rp_key.public_jwk();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[&op.issuer]);
    validation.set_issuer(&[SECRET_CLIENT]);
    let claims = jsonwebtoken::decode::<Value>(
        &assertion,
        &jsonwebtoken::DecodingKey::from_rsa_components(&jwk.n, &jwk.e)?,
        &validation,
    )?
    .claims;
    assert_eq!(claims["sub"], SECRET_CLIENT);
    assert_eq!(claims["aud"], op.issuer.as_str());
    let iat = claims["iat"].as_i64().unwrap_or_default();
    let exp = claims["exp"].as_i64().unwrap_or_default();
    assert!((now() - iat).abs() < 10 && exp > iat && exp - iat <= 120);
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 43));
    Ok(())
}

#[tokio::test]
async fn an_id_token_signed_by_another_key_is_refused() -> anyhow::Result<()> {
    let op = FakeProvider::start().await?;
    let client = op.client().await?;
    let (_, pending) = client.begin();
    // Same kid as the provider's key, so only the signature check can catch it.
    let forger = SigningKey::generate(Some("op-key-1"))?;
    let token = op.sign(&forger, &op.claims(&pending))?;
    let reason = invalid_id_token(op.complete_with(&client, &pending, token).await);
    assert!(reason.contains("signature"), "{reason}");
    Ok(())
}

#[tokio::test]
async fn alg_none_and_hs256_are_refused() -> anyhow::Result<()> {
    let op = FakeProvider::start().await?;
    let client = op.client().await?;
    let (_, pending) = client.begin();
    let claims = op.claims(&pending);

    let none = unsigned_token(&json!({"alg": "none", "kid": "op-key-1"}), &claims, b"");
    let err = op
        .complete_with(&client, &pending, none)
        .await
        .expect_err("alg none");
    assert!(
        matches!(&err, OidcError::Algorithm(alg) if alg == "none"),
        "{err}"
    );

    // The classic confusion attack: HMAC keyed with the provider's public key.
    let jwk = op.key.public_jwk();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(jwk.kid.clone());
    let hs256 = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(jwk.n.as_bytes()),
    )?;
    let err = op
        .complete_with(&client, &pending, hs256)
        .await
        .expect_err("alg HS256");
    assert!(
        matches!(&err, OidcError::Algorithm(alg) if alg == "HS256"),
        "{err}"
    );
    assert!(err.to_string().contains("only RS256"), "{err}");
    Ok(())
}

#[tokio::test]
async fn issuer_audience_and_times_are_checked() -> anyhow::Result<()> {
    let op = FakeProvider::start().await?;
    let client = op.client().await?;
    let (_, pending) = client.begin();
    let with = |changes: Value| {
        let mut claims = op.claims(&pending);
        if let (Some(claims), Some(changes)) = (claims.as_object_mut(), changes.as_object()) {
            for (k, v) in changes {
                if v.is_null() {
                    claims.remove(k);
                } else {
                    claims.insert(k.clone(), v.clone());
                }
            }
        }
        claims
    };
    let cases = [
        (json!({"iss": "https://evil.example"}), "issuer"),
        (json!({"aud": "another-client"}), "audience"),
        (json!({"aud": ["another-client", "third"]}), "audience"),
        (json!({"aud": [SECRET_CLIENT, "other"]}), "azp"),
        (
            json!({"aud": [SECRET_CLIENT, "other"], "azp": "other"}),
            "azp",
        ),
        (json!({"exp": now() - 300}), "expired"),
        (json!({"exp": null}), "exp"),
        (json!({"nbf": now() + 600}), "not valid yet"),
        (json!({"iat": now() + 600}), "future"),
        (json!({"iat": now() - 3600}), "ago"),
        (json!({"iat": null}), "iat"),
    ];
    for (changes, expected) in cases {
        let claims = with(changes.clone());
        let reason = invalid_id_token(op.complete_claims(&client, &pending, &claims).await?);
        assert!(
            reason.contains(expected),
            "{changes}: {reason:?} should mention {expected:?}"
        );
    }
    // Several audiences are fine when azp names this client.
    let claims = with(json!({"aud": [SECRET_CLIENT, "other"], "azp": SECRET_CLIENT}));
    op.complete_claims(&client, &pending, &claims).await??;
    Ok(())
}

#[tokio::test]
async fn missing_or_malformed_pid_is_a_clear_error() -> anyhow::Result<()> {
    let op = FakeProvider::start().await?;
    let client = op.client().await?;
    let (_, pending) = client.begin();
    let mut claims = op.claims(&pending);
    if let Some(c) = claims.as_object_mut() {
        c.remove("pid");
    }
    let err = op
        .complete_claims(&client, &pending, &claims)
        .await?
        .expect_err("no pid");
    assert!(matches!(err, OidcError::MissingPid), "{err}");
    assert!(err.to_string().contains("pid"), "{err}");

    for bad in [
        json!("1485751009"),
        json!(14857510098u64),
        json!("14857510099"),
    ] {
        claims["pid"] = bad.clone();
        let err = op
            .complete_claims(&client, &pending, &claims)
            .await?
            .expect_err("bad pid");
        assert!(matches!(err, OidcError::InvalidPid(_)), "{bad}: {err}");
    }

    claims["pid"] = json!(PIA);
    claims["nonce"] = Value::Null;
    let err = op
        .complete_claims(&client, &pending, &claims)
        .await?
        .expect_err("no nonce");
    assert!(matches!(err, OidcError::NonceMismatch), "{err}");
    Ok(())
}

#[tokio::test]
async fn an_unknown_kid_refetches_the_jwks_once() -> anyhow::Result<()> {
    let op = FakeProvider::start().await?;
    let client = op.client().await?;
    let (_, pending) = client.begin();
    op.complete_claims(&client, &pending, &op.claims(&pending))
        .await??;
    assert_eq!(op.state.jwks_fetches.load(Ordering::SeqCst), 1);
    op.complete_claims(&client, &pending, &op.claims(&pending))
        .await??;
    assert_eq!(
        op.state.jwks_fetches.load(Ordering::SeqCst),
        1,
        "a known kid is served from the cache"
    );

    // The provider rotates to a new key: one refetch finds it.
    let rotated = SigningKey::generate(Some("op-key-2"))?;
    *lock(&op.state.jwks) = json!({"keys": [op.key.public_jwk(), rotated.public_jwk()]});
    let token = op.sign(&rotated, &op.claims(&pending))?;
    op.complete_with(&client, &pending, token).await?;
    assert_eq!(op.state.jwks_fetches.load(Ordering::SeqCst), 2);

    // A kid the provider does not publish: one refetch, then a clear error.
    let stranger = SigningKey::generate(Some("op-key-unknown"))?;
    let token = op.sign(&stranger, &op.claims(&pending))?;
    let reason = invalid_id_token(op.complete_with(&client, &pending, token).await);
    assert!(reason.contains("op-key-unknown"), "{reason}");
    assert_eq!(op.state.jwks_fetches.load(Ordering::SeqCst), 3);
    Ok(())
}

#[tokio::test]
async fn stale_logins_and_failed_exchanges_are_reported() -> anyhow::Result<()> {
    let op = FakeProvider::start().await?;
    let client = op.client().await?;
    let (_, pending) = client.begin();
    let stale = PendingLogin {
        created_at: now() - 3600,
        ..pending.clone()
    };
    let err = op
        .complete_claims(&client, &stale, &op.claims(&pending))
        .await?
        .expect_err("stale");
    assert!(matches!(err, OidcError::LoginExpired), "{err}");

    let err = op
        .complete_with(&client, &pending, String::new())
        .await
        .expect_err("refused code");
    assert!(
        matches!(&err, OidcError::TokenRefused { status: 400, error, description }
            if error == "invalid_grant" && description.as_deref() == Some("no such code")),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn discovery_checks_the_metadata() -> anyhow::Result<()> {
    let op = FakeProvider::start().await?;
    *lock(&op.state.claimed_issuer) = Some("https://idporten.no".into());
    let err = op.client().await.expect_err("issuer mismatch");
    assert!(err.to_string().contains("https://idporten.no"), "{err}");
    *lock(&op.state.claimed_issuer) = None;

    *lock(&op.state.extra_metadata) = json!({"code_challenge_methods_supported": ["plain"]});
    let err = op.client().await.expect_err("no S256");
    assert!(err.to_string().contains("S256"), "{err}");

    *lock(&op.state.extra_metadata) =
        json!({"token_endpoint_auth_methods_supported": ["private_key_jwt"]});
    let err = op.client().await.expect_err("no client_secret_basic");
    assert!(err.to_string().contains("client_secret_basic"), "{err}");

    *lock(&op.state.extra_metadata) = json!({"token_endpoint": "http://idporten.example/token"});
    let err = op.client().await.expect_err("plain http off loopback");
    assert!(err.to_string().contains("https"), "{err}");

    *lock(&op.state.extra_metadata) = json!({});
    let client = op.client().await?;
    assert_eq!(
        client.end_session_url(None, "http://127.0.0.1:9/bye"),
        Some(format!(
            "{}/logout?client_id=systembruker&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fbye",
            op.issuer
        ))
    );

    let unreachable = OidcConfig::new(
        "http://127.0.0.1:9",
        SECRET_CLIENT,
        ClientAuth::Secret("s".into()),
        REDIRECT_URI,
    );
    let err = OidcClient::discover(unreachable, reqwest::Client::new())
        .await
        .expect_err("nothing listens on port 9");
    assert!(matches!(err, OidcError::Discovery { .. }), "{err}");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The portal's login through OpenID Connect (against the small provider above)
// ---------------------------------------------------------------------------------------

const UI: &str = "/accessmanagement/ui";

/// A portal (the whole server, demo data, dev mode for the vendor's test tokens) whose
/// login is OpenID Connect against `issuer`; stopped when dropped.
struct OidcPortal {
    url: String,
    store: systembruker_storage::SqlStore,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl OidcPortal {
    async fn start(issuer: &str) -> anyhow::Result<Self> {
        Self::start_on(issuer, systembruker_storage::testing::sqlite_store().await?).await
    }

    /// A portal on `store`: several of them on one database are one portal behind a
    /// load balancer.
    async fn start_on(issuer: &str, store: systembruker_storage::SqlStore) -> anyhow::Result<Self> {
        systembruker_http::demo::load(&store).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let mut config = systembruker_http::Config::new(url.clone(), true);
        config.oidc = Some(OidcConfig::new(
            issuer,
            SECRET_CLIENT,
            ClientAuth::Secret(SECRET.into()),
            format!("{url}{UI}/login/callback"),
        ));
        let state = systembruker_http::AppState::new(
            Arc::new(store.clone()),
            config,
            systembruker_http::auth::Authenticator::default(),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(systembruker_http::serve(
            listener,
            systembruker_http::app(state),
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(Self {
            url,
            store,
            _stop: stop,
        })
    }

    fn at(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.url)
        }
    }
}

/// A browser without JavaScript: keeps cookies, redirects followed by the test.
fn web_browser() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

struct Answer {
    status: StatusCode,
    location: String,
    cookies: Vec<String>,
    body: String,
}

async fn answer(response: reqwest::Response) -> anyhow::Result<Answer> {
    let status = StatusCode::from_u16(response.status().as_u16())?;
    let headers = response.headers().clone();
    Ok(Answer {
        status,
        location: headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        cookies: headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect(),
        body: response.text().await?,
    })
}

async fn visit(browser: &reqwest::Client, url: &str) -> anyhow::Result<Answer> {
    answer(browser.get(url).send().await?).await
}

/// A text of the portal's catalogue, as askama escapes it into a page.
fn portal_text(language: &str, key: &str) -> anyhow::Result<String> {
    let source = match language {
        "nb" => include_str!("../i18n/nb.json"),
        "nn" => include_str!("../i18n/nn.json"),
        _ => include_str!("../i18n/en.json"),
    };
    let map: serde_json::Map<String, Value> = serde_json::from_str(source)?;
    let text = map
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow::anyhow!("no text {key}"))?;
    Ok(text
        .replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;"))
}

fn assert_page_says(page: &Answer, language: &str, key: &str) -> anyhow::Result<()> {
    let text = portal_text(language, key)?;
    assert!(
        page.body.contains(&text),
        "{key} ({text:?}) not on the page:\n{}",
        page.body
    );
    assert!(
        page.body.contains(&format!("<html lang=\"{language}\">")),
        "{}",
        page.body
    );
    Ok(())
}

/// The login begun: the portal's redirect to the provider, and its `state` and `nonce`.
struct Begun {
    state: String,
    nonce: String,
}

async fn begin_login(
    op: &FakeProvider,
    portal: &OidcPortal,
    browser: &reqwest::Client,
    goto: &str,
) -> anyhow::Result<Begun> {
    let url = Url::parse_with_params(&portal.at(&format!("{UI}/login")), [("goto", goto)])?;
    let page = visit(browser, url.as_str()).await?;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let auth = Url::parse(&page.location)?;
    assert!(
        auth.as_str()
            .starts_with(&format!("{}/authorize?", op.issuer)),
        "{auth}"
    );
    assert!(
        page.cookies
            .iter()
            .any(|c| c.starts_with("sb_portal_session=") && c.contains("HttpOnly")),
        "{:?}",
        page.cookies
    );
    let query: std::collections::HashMap<_, _> = auth.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], SECRET_CLIENT);
    assert_eq!(
        query["redirect_uri"],
        portal.at(&format!("{UI}/login/callback"))
    );
    assert_eq!(query["code_challenge_method"], "S256");
    Ok(Begun {
        state: query["state"].clone(),
        nonce: query["nonce"].clone(),
    })
}

/// Makes the provider's token endpoint answer with an id_token for `pid` and `nonce`.
fn provider_will_say(op: &FakeProvider, pid: &str, nonce: &str) -> anyhow::Result<()> {
    let claims = json!({
        "iss": op.issuer, "sub": format!("sub-{pid}"), "aud": SECRET_CLIENT,
        "iat": now(), "exp": now() + 120, "nonce": nonce, "pid": pid,
    });
    *lock(&op.state.id_token) = op.sign(&op.key, &claims)?;
    Ok(())
}

async fn callback(
    portal: &OidcPortal,
    browser: &reqwest::Client,
    pairs: &[(&str, &str)],
) -> anyhow::Result<Answer> {
    let url = Url::parse_with_params(&portal.at(&format!("{UI}/login/callback")), pairs)?;
    visit(browser, url.as_str()).await
}

/// Whether the browser is logged in (the overview shows, rather than asking for login).
async fn logged_in_to(portal: &OidcPortal, browser: &reqwest::Client) -> anyhow::Result<bool> {
    let overview = visit(browser, &portal.at(&format!("{UI}/systemuser/overview"))).await?;
    Ok(overview.status == StatusCode::OK)
}

fn csrf_of(page: &Answer) -> anyhow::Result<String> {
    let pattern = regex::Regex::new(r#"name="csrf" value="([0-9a-f]{64})""#)?;
    Ok(pattern
        .captures(&page.body)
        .ok_or_else(|| anyhow::anyhow!("no CSRF token in:\n{}", page.body))?[1]
        .to_string())
}

#[tokio::test]
async fn the_portal_starts_while_its_provider_is_down_and_discovers_it_at_login()
-> anyhow::Result<()> {
    // A port with nothing behind it yet; the provider comes up on it later.
    let parked = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = parked.local_addr()?;
    drop(parked);
    let portal = OidcPortal::start(&format!("http://{addr}")).await?;
    let browser = web_browser()?;

    let ready = visit(&browser, &portal.at("/health/ready")).await?;
    assert_eq!(ready.status, StatusCode::OK);
    let down = visit(&browser, &portal.at(&format!("{UI}/login"))).await?;
    assert_eq!(
        down.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        down.body
    );
    assert_page_says(&down, "nb", "login.failed.unavailable")?;
    assert!(
        !down.body.contains("127.0.0.1"),
        "no internals: {}",
        down.body
    );
    // The vendor's link leads to login, which says the same, in the visitor's language.
    let english = answer(
        browser
            .get(portal.at(&format!("{UI}/login")))
            .header("Accept-Language", "en")
            .send()
            .await?,
    )
    .await?;
    assert_page_says(&english, "en", "login.failed.unavailable")?;

    // The provider comes up: the next login discovers it.
    let op = FakeProvider::start_on(tokio::net::TcpListener::bind(addr).await?).await?;
    let begun = begin_login(&op, &portal, &browser, &format!("{UI}/systemuser/overview")).await?;
    provider_will_say(&op, PIA, &begun.nonce)?;
    let back = callback(
        &portal,
        &browser,
        &[("code", "c"), ("state", &begun.state), ("iss", &op.issuer)],
    )
    .await?;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert_eq!(back.location, format!("{UI}/systemuser/overview"));
    assert!(logged_in_to(&portal, &browser).await?);
    Ok(())
}

#[tokio::test]
async fn pia_logs_in_to_the_portal_and_logs_out_at_the_provider() -> anyhow::Result<()> {
    let op = FakeProvider::start().await?;
    let portal = OidcPortal::start(&op.issuer).await?;
    let browser = web_browser()?;

    // A page that needs a login sends the browser to the login, and that to the provider.
    let overview = visit(&browser, &portal.at(&format!("{UI}/systemuser/overview"))).await?;
    assert_eq!(overview.status, StatusCode::SEE_OTHER);
    assert!(overview.location.starts_with(&format!("{UI}/login?goto=")));
    let goto = format!("{UI}/systemuser/overview");
    let begun = begin_login(&op, &portal, &browser, &goto).await?;
    let before = lock(&op.state.token_request).clone();
    assert!(before.is_none(), "nothing exchanged yet");

    provider_will_say(&op, PIA, &begun.nonce)?;
    let back = callback(&portal, &browser, &[("code", "c"), ("state", &begun.state)]).await?;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert_eq!(back.location, goto);
    assert!(
        back.cookies
            .iter()
            .any(|c| c.starts_with("sb_portal_session=") && c.contains("SameSite=Lax"))
    );
    let page = visit(&browser, &portal.at(&goto)).await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Pia Rørlegger"), "{}", page.body);
    // The same answer cannot be used twice.
    let again = callback(&portal, &browser, &[("code", "c"), ("state", &begun.state)]).await?;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_page_says(&again, "nb", "login.failed.not_started")?;
    assert!(logged_in_to(&portal, &browser).await?, "still logged in");

    // Logout ends the provider's session too, and comes back to our logged-out page.
    let out = answer(
        browser
            .post(portal.at(&format!("{UI}/logout")))
            .form(&[("csrf", csrf_of(&page)?)])
            .send()
            .await?,
    )
    .await?;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    let end = Url::parse(&out.location)?;
    assert!(end.as_str().starts_with(&format!("{}/logout?", op.issuer)));
    let query: std::collections::HashMap<_, _> = end.query_pairs().into_owned().collect();
    assert_eq!(
        query["post_logout_redirect_uri"],
        portal.at(&format!("{UI}/logged-out"))
    );
    assert_eq!(query["id_token_hint"], *lock(&op.state.id_token));
    assert!(out.cookies.iter().any(|c| c.contains("Max-Age=0")));
    assert!(!logged_in_to(&portal, &browser).await?);
    let bye = visit(&browser, &query["post_logout_redirect_uri"]).await?;
    assert_eq!(bye.status, StatusCode::OK);
    assert_page_says(&bye, "nb", "logout.title")?;
    Ok(())
}

/// A login begun on one process is completed on another (the login in progress is in
/// the database), and the answer is used once: a second callback with the same state, on
/// either process, is refused.
#[tokio::test]
async fn a_login_begun_on_one_process_is_completed_on_another() -> anyhow::Result<()> {
    let op = FakeProvider::start().await?;
    let url = systembruker_storage::testing::sqlite_url();
    let a = OidcPortal::start_on(
        &op.issuer,
        systembruker_storage::SqlStore::open(&url).await?,
    )
    .await?;
    let b = OidcPortal::start_on(
        &op.issuer,
        systembruker_storage::SqlStore::open(&url).await?,
    )
    .await?;
    let browser = web_browser()?;
    let goto = format!("{UI}/systemuser/overview");
    let begun = begin_login(&op, &a, &browser, &goto).await?;
    provider_will_say(&op, PIA, &begun.nonce)?;
    let back = callback(&b, &browser, &[("code", "c"), ("state", &begun.state)]).await?;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert_eq!(back.location, goto);
    assert!(logged_in_to(&a, &browser).await?);
    assert!(logged_in_to(&b, &browser).await?);
    for portal in [&a, &b] {
        let again = callback(portal, &browser, &[("code", "c"), ("state", &begun.state)]).await?;
        assert_eq!(again.status, StatusCode::BAD_REQUEST);
        assert_page_says(&again, "nb", "login.failed.not_started")?;
    }
    Ok(())
}

#[tokio::test]
async fn a_wrong_state_gives_an_error_page_and_no_session() -> anyhow::Result<()> {
    let op = FakeProvider::start().await?;
    let portal = OidcPortal::start(&op.issuer).await?;
    let browser = web_browser()?;
    let begun = begin_login(&op, &portal, &browser, &format!("{UI}/systemuser/overview")).await?;
    provider_will_say(&op, PIA, &begun.nonce)?;

    let wrong = callback(
        &portal,
        &browser,
        &[("code", "c"), ("state", "not-the-state-we-sent")],
    )
    .await?;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.body);
    assert_page_says(&wrong, "nb", "login.failed.state")?;
    assert!(wrong.cookies.is_empty(), "no session: {:?}", wrong.cookies);
    assert!(
        wrong
            .body
            .contains("href=\"/accessmanagement/ui/login?goto=%2Faccessmanagement%2Fui%2Fsystemuser%2Foverview\""),
        "a way to start again: {}",
        wrong.body
    );
    assert!(!wrong.body.contains("mismatch"), "no internals");
    assert!(
        lock(&op.state.token_request).is_none(),
        "the code was never exchanged"
    );
    assert!(!logged_in_to(&portal, &browser).await?);
    // The flow is used up: the right state afterwards does not log in either.
    let late = callback(&portal, &browser, &[("code", "c"), ("state", &begun.state)]).await?;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    assert_page_says(&late, "nb", "login.failed.not_started")?;
    assert!(!logged_in_to(&portal, &browser).await?);

    // Another browser's answer is worth nothing in this one.
    let other = web_browser()?;
    let stolen = callback(&portal, &other, &[("code", "c"), ("state", &begun.state)]).await?;
    assert_eq!(stolen.status, StatusCode::BAD_REQUEST);
    assert_page_says(&stolen, "nb", "login.failed.not_started")?;
    assert!(!logged_in_to(&portal, &other).await?);
    Ok(())
}

#[tokio::test]
async fn refusals_and_bad_answers_are_readable_pages() -> anyhow::Result<()> {
    let op = FakeProvider::start().await?;
    let portal = OidcPortal::start(&op.issuer).await?;
    let browser = web_browser()?;
    let lang = visit(
        &browser,
        &portal.at(&format!("{UI}/language?lang=nn&goto={UI}/login")),
    )
    .await?;
    assert_eq!(lang.status, StatusCode::SEE_OTHER);

    // The person cancels at the provider.
    let begun = begin_login(&op, &portal, &browser, &format!("{UI}/systemuser/overview")).await?;
    let cancelled = callback(
        &portal,
        &browser,
        &[
            ("error", "access_denied"),
            ("error_description", "End-User aborted interaction"),
            ("state", &begun.state),
        ],
    )
    .await?;
    assert_eq!(cancelled.status, StatusCode::FORBIDDEN);
    assert_page_says(&cancelled, "nn", "login.failed.refused")?;
    assert!(!cancelled.body.contains("aborted"), "no internals");
    assert!(
        !cancelled.body.contains(&begun.state),
        "the callback's query is not in the page's links"
    );
    assert!(!logged_in_to(&portal, &browser).await?);

    // The provider refuses the code exchange.
    let begun = begin_login(&op, &portal, &browser, &format!("{UI}/systemuser/overview")).await?;
    lock(&op.state.id_token).clear();
    let refused = callback(&portal, &browser, &[("code", "c"), ("state", &begun.state)]).await?;
    assert_eq!(refused.status, StatusCode::BAD_GATEWAY);
    assert_page_says(&refused, "nn", "login.failed.unverified")?;
    assert!(!refused.body.contains("invalid_grant"), "no internals");
    assert!(!logged_in_to(&portal, &browser).await?);

    // An id_token made for another login (its nonce).
    let begun = begin_login(&op, &portal, &browser, &format!("{UI}/systemuser/overview")).await?;
    provider_will_say(&op, PIA, "another-login")?;
    let replayed = callback(&portal, &browser, &[("code", "c"), ("state", &begun.state)]).await?;
    assert_eq!(replayed.status, StatusCode::BAD_GATEWAY);
    assert_page_says(&replayed, "nn", "login.failed.unverified")?;
    assert!(!logged_in_to(&portal, &browser).await?);

    // An answer naming another issuer (RFC 9207 mix-up).
    let begun = begin_login(&op, &portal, &browser, &format!("{UI}/systemuser/overview")).await?;
    provider_will_say(&op, PIA, &begun.nonce)?;
    let mixed = callback(
        &portal,
        &browser,
        &[
            ("code", "c"),
            ("state", &begun.state),
            ("iss", "https://evil.example"),
        ],
    )
    .await?;
    assert_eq!(mixed.status, StatusCode::BAD_GATEWAY);
    assert!(!logged_in_to(&portal, &browser).await?);

    // No login in progress, and an answer without code.
    let stranger = web_browser()?;
    let nothing = callback(&portal, &stranger, &[("code", "c"), ("state", "s")]).await?;
    assert_eq!(nothing.status, StatusCode::BAD_REQUEST);
    assert_page_says(&nothing, "nb", "login.failed.not_started")?;
    let begun = begin_login(&op, &portal, &browser, &format!("{UI}/systemuser/overview")).await?;
    let no_code = callback(&portal, &browser, &[("state", &begun.state)]).await?;
    assert_eq!(no_code.status, StatusCode::BAD_REQUEST);
    assert_page_says(&no_code, "nn", "login.failed.not_started")?;
    Ok(())
}

/// A valid person number (mod 11) that is not in the register.
async fn stranger_pid(store: &systembruker_storage::SqlStore) -> anyhow::Result<String> {
    use systembruker_storage::RegisterStore;
    for individual in 100..999 {
        let candidate = format!("010190{individual:03}00");
        for checks in 0..100 {
            let pid = format!("{}{checks:02}", &candidate[..9]);
            if let Ok(number) = systembruker_domain::PersonNumber::parse(&pid)
                && store.person(&number).await?.is_none()
            {
                return Ok(pid);
            }
        }
    }
    anyhow::bail!("no free person number")
}

#[tokio::test]
async fn a_person_outside_the_register_is_not_logged_in() -> anyhow::Result<()> {
    let op = FakeProvider::start().await?;
    let portal = OidcPortal::start(&op.issuer).await?;
    let browser = web_browser()?;
    let pid = stranger_pid(&portal.store).await?;
    let begun = begin_login(&op, &portal, &browser, &format!("{UI}/systemuser/overview")).await?;
    provider_will_say(&op, &pid, &begun.nonce)?;
    let page = callback(&portal, &browser, &[("code", "c"), ("state", &begun.state)]).await?;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert_page_says(&page, "nb", "login.failed.not_in_register")?;
    assert!(page.cookies.is_empty(), "no session: {:?}", page.cookies);
    assert!(!page.body.contains(&pid), "the number is not echoed");
    assert!(!logged_in_to(&portal, &browser).await?);
    Ok(())
}

#[tokio::test]
async fn after_approving_from_a_vendor_link_the_provider_logout_leads_to_the_vendor()
-> anyhow::Result<()> {
    let op = FakeProvider::start().await?;
    let portal = OidcPortal::start(&op.issuer).await?;
    let vendor_token = reqwest::Client::new()
        .get(portal.at("/testtools/api/GetEnterpriseToken"))
        .query(&[
            ("orgNo", systembruker_http::demo::SMARTCLOUD),
            ("scopes", "altinn:authentication/systemuser.request.write"),
        ])
        .send()
        .await?
        .text()
        .await?;
    let request: Value = reqwest::Client::new()
        .post(portal.at("/authentication/api/v1/systemuser/request/vendor"))
        .bearer_auth(vendor_token.trim())
        .json(&json!({
            "systemId": systembruker_http::demo::DEMO_SYSTEM,
            "partyOrgNo": systembruker_http::demo::ROR_OG_VANN,
            "rights": [{"resource": [{"id": "urn:altinn:resource", "value": systembruker_http::demo::DEMO_RESOURCE}]}],
            "redirectUrl": "https://smartcloud.example/receipt?order=1",
        }))
        .send()
        .await?
        .json()
        .await?;
    let confirm_url = request["confirmUrl"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no confirmUrl: {request}"))?;
    let id = request["id"].as_str().unwrap_or_default().to_string();
    let goto = confirm_url
        .strip_prefix(&portal.url)
        .ok_or_else(|| anyhow::anyhow!("confirmUrl {confirm_url} is not on the portal"))?;

    let browser = web_browser()?;
    let link = visit(&browser, confirm_url).await?;
    assert_eq!(link.status, StatusCode::SEE_OTHER);
    assert!(link.location.starts_with(&format!("{UI}/login?goto=")));
    let begun = begin_login(&op, &portal, &browser, goto).await?;
    provider_will_say(&op, PIA, &begun.nonce)?;
    let back = callback(&portal, &browser, &[("code", "c"), ("state", &begun.state)]).await?;
    assert_eq!(back.location, goto);
    let page = visit(&browser, confirm_url).await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);

    let approved = answer(
        browser
            .post(portal.at(&format!("{UI}/systemuser/request/approve")))
            .form(&[("csrf", csrf_of(&page)?), ("id", id)])
            .send()
            .await?,
    )
    .await?;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    let answered = visit(&browser, &portal.at(&approved.location)).await?;
    // To the provider's logout, which comes back to our logged-out page…
    let end = Url::parse(&answered.location)?;
    assert!(end.as_str().starts_with(&format!("{}/logout?", op.issuer)));
    let query: std::collections::HashMap<_, _> = end.query_pairs().into_owned().collect();
    assert_eq!(
        query["post_logout_redirect_uri"],
        portal.at(&format!("{UI}/logged-out"))
    );
    // … which sends the browser on to the vendor's registered URL, once.
    let on = visit(&browser, &query["post_logout_redirect_uri"]).await?;
    assert_eq!(on.status, StatusCode::SEE_OTHER, "{}", on.body);
    assert_eq!(on.location, "https://smartcloud.example/receipt?order=1");
    assert!(on.cookies.iter().any(|c| c.contains("Max-Age=0")));
    let twice = visit(&browser, &query["post_logout_redirect_uri"]).await?;
    assert_eq!(twice.status, StatusCode::OK);
    assert!(!logged_in_to(&portal, &browser).await?);
    Ok(())
}
