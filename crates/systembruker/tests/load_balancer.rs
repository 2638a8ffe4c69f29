//! Three `systembruker` processes on one fresh PostgreSQL database behind a real HAProxy
//! (`deploy/haproxy.cfg`, round robin, no stickiness), as the platform is meant to scale
//! out. The first journey goes through the load balancer, each request to another process:
//! the operator registers SmartCloud's Maskinporten client, SmartCloud registers its system
//! and asks Rør og Vann AS for a system user, Pia logs in to the portal and approves (the
//! HTML form flow with the session cookie and CSRF token) while one process is killed with
//! SIGKILL, and SmartCloud gets a system-user token. The assertion it used is then refused
//! as a replay by every process, asked directly.
//!
//! Needs PostgreSQL (`SYSTEMBRUKER_TEST_POSTGRES_URL`) and `haproxy`; without them the test
//! skips with a message, except under `CI=true`, where it fails.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use systembruker_domain::OrgNumber;
use systembruker_storage::testing;
use systembruker_token::client::AssertionRequest;
use systembruker_token::keys::SigningKey;

const BIN: &str = env!("CARGO_BIN_EXE_systembruker");
const ADMIN: &str = "lb-test-admin-token";
/// The key-encryption key every process shares (32 bytes, base64).
const KEK: &str = "bG9hZC1iYWxhbmNlci10ZXN0LWtleS0zMi1ieXRlcyE=";
const SMARTCLOUD: &str = "991825827";
const ROR_OG_VANN: &str = "315000009";
const PIA: &str = "14857510098";
const SCOPE: &str = "skatteetaten:kravogbetalinger";
const SYSTEM: &str = "991825827_loadbalanced";
const RECEIPT: &str = "https://smartcloud.example/receipt";
const UI: &str = "/accessmanagement/ui";
const VENDOR_SCOPES: &str = "altinn:authentication/systemregister.write altinn:authentication/systemuser.request.write altinn:authentication/systemuser.request.read";

use common::free_port;

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A child process that is killed when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One `systembruker serve` on `port`, with the settings every process must share.
fn serve(db: &str, port: u16, public_url: &str, demo: bool) -> Running {
    let mut command = Command::new(BIN);
    command.arg("serve");
    if demo {
        command.arg("--demo");
    }
    let child = command
        .env("SYSTEMBRUKER_LISTEN", format!("127.0.0.1:{port}"))
        .env("SYSTEMBRUKER_DATABASE_URL", db)
        .env("SYSTEMBRUKER_PUBLIC_URL", public_url)
        .env("SYSTEMBRUKER_ADMIN_TOKEN", ADMIN)
        .env("SYSTEMBRUKER_KEY_ENCRYPTION_KEY", KEK)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    Running(child)
}

async fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/health/ready")).await
            && r.status() == StatusCode::OK
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the process on port {port} did not become ready");
}

fn haproxy_config() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/haproxy.cfg")
}

fn haproxy_installed() -> bool {
    Command::new("haproxy")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// HAProxy on `listen` in front of `apps`, with the repository's configuration.
fn haproxy(listen: u16, apps: [u16; 3]) -> Running {
    let mut command = Command::new("haproxy");
    command
        .arg("-db")
        .arg("-f")
        .arg(haproxy_config())
        .env("SYSTEMBRUKER_LB_LISTEN", format!("127.0.0.1:{listen}"));
    for (i, port) in apps.iter().enumerate() {
        command.env(
            format!("SYSTEMBRUKER_APP{}", i + 1),
            format!("127.0.0.1:{port}"),
        );
    }
    Running(command.stdout(Stdio::null()).spawn().unwrap())
}

/// Waits until the load balancer has sent requests to each of the processes (its health
/// checks found them all up).
async fn wait_balanced(lb: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < 3 {
        assert!(Instant::now() < deadline, "HAProxy reached only {seen:?}");
        if let Ok(r) = reqwest::get(format!("{lb}/health/ready")).await
            && r.status() == StatusCode::OK
            && let Some(server) = r.headers().get("x-served-by")
        {
            seen.insert(server.to_str().unwrap().to_string());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A response as the test looks at it, with the process that served it.
struct Answer {
    status: StatusCode,
    location: String,
    cookies: Vec<String>,
    served_by: String,
    body: String,
}

impl Answer {
    async fn read(response: reqwest::Response) -> Self {
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let location = header(LOCATION.as_str());
        let served_by = header("x-served-by");
        let cookies = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        Self {
            status: response.status(),
            location,
            cookies,
            served_by,
            body: response.text().await.unwrap(),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The CSRF token in the page's forms.
    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no CSRF token in:\n{}", self.body))
            + marker.len();
        self.body[start..start + 64].to_string()
    }
}

/// The vendor's and the operator's API calls through the load balancer.
struct Api {
    lb: String,
    http: Client,
}

impl Api {
    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        Answer::read(request.send().await.unwrap()).await
    }

    async fn text(&self, path: &str, query: &[(&str, &str)]) -> String {
        let url = format!("{}{path}", self.lb);
        let answer = self.send(self.http.get(url).query(query)).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        answer.body.trim().to_string()
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> Value {
        let url = format!("{}{path}", self.lb);
        let answer = self
            .send(self.http.post(url).bearer_auth(token).json(body))
            .await;
        assert!(
            answer.status.is_success(),
            "{path}: {} {}",
            answer.status,
            answer.body
        );
        answer.json()
    }
}

/// Pia's browser: keeps cookies, follows no redirects (the test does), and notes which
/// process served each request.
struct Browser {
    lb: String,
    http: Client,
    served_by: Vec<String>,
}

impl Browser {
    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.lb)
        }
    }

    async fn get(&mut self, path: &str) -> Answer {
        let answer = Answer::read(self.http.get(self.url(path)).send().await.unwrap()).await;
        self.served_by.push(answer.served_by.clone());
        answer
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let request = self.http.post(self.url(path)).form(form);
        let answer = Answer::read(request.send().await.unwrap()).await;
        self.served_by.push(answer.served_by.clone());
        answer
    }
}

/// Signs a JWT-bearer assertion for a system-user token of Rør og Vann AS (a new jti).
fn assertion(key: &SigningKey, client_id: &str, lb: &str) -> String {
    AssertionRequest::new(client_id, &format!("{lb}/maskinporten/"), SCOPE)
        .system_user(&OrgNumber::parse(ROR_OG_VANN).unwrap(), None)
        .sign(key)
        .unwrap()
}

async fn token_request(base: &str, assertion: &str) -> Answer {
    let response = Client::new()
        .post(format!("{base}/maskinporten/token"))
        .form(&[
            ("grant_type", systembruker_token::JWT_BEARER_GRANT),
            ("assertion", assertion),
        ])
        .send()
        .await
        .unwrap();
    Answer::read(response).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_journey_survives_a_killed_process_behind_haproxy() {
    let Some(server) = testing::postgres_server_url() else {
        return;
    };
    if !haproxy_installed() {
        assert!(!under_ci(), "haproxy must be installed when CI=true");
        eprintln!("haproxy is not installed: skipping the load-balancer test");
        return;
    }
    let db = testing::fresh_postgres_url(&server).await.unwrap();
    let ports = [free_port(), free_port(), free_port()];
    let lb_port = free_port();
    let lb = format!("http://127.0.0.1:{lb_port}");

    // Three processes start at once on the fresh database, each loading the demo data.
    let mut apps: Vec<Option<Running>> = ports
        .iter()
        .map(|port| Some(serve(&db, *port, &lb, true)))
        .collect();
    for port in ports {
        wait_ready(port).await;
    }
    let _haproxy = haproxy(lb_port, ports);
    wait_balanced(&lb).await;

    // The operator registers SmartCloud's Maskinporten client with its public key.
    let api = Api {
        lb: lb.clone(),
        http: Client::new(),
    };
    let key = SigningKey::generate(Some("smartcloud-lb")).unwrap();
    let client = api
        .post(
            "/admin/api/v1/maskinporten/clients",
            ADMIN,
            &json!({
                "client_name": "SmartCloud", "consumer_org": SMARTCLOUD, "scopes": [SCOPE],
                "jwks": {"keys": [key.public_jwk()]},
            }),
        )
        .await;
    let client_id = client["client_id"].as_str().unwrap().to_string();

    // SmartCloud registers its system and asks Rør og Vann AS for a system user.
    let vendor = api
        .text(
            "/testtools/api/GetEnterpriseToken",
            &[("orgNo", SMARTCLOUD), ("scopes", VENDOR_SCOPES)],
        )
        .await;
    api.post(
        "/authentication/api/v1/systemregister/vendor",
        &vendor,
        &json!({
            "id": SYSTEM,
            "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{SMARTCLOUD}")},
            "name": {"nb": "Lastbalansert", "nn": "Lastbalansert", "en": "Load balanced"},
            "description": {"nb": "Test", "nn": "Test", "en": "Test"},
            "rights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}],
            "clientId": [client_id],
            "allowedRedirectUrls": [RECEIPT],
            "isVisible": true
        }),
    )
    .await;
    let request = api
        .post(
            "/authentication/api/v1/systemuser/request/vendor",
            &vendor,
            &json!({
                "systemId": SYSTEM, "partyOrgNo": ROR_OG_VANN,
                "rights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}],
                "redirectUrl": RECEIPT
            }),
        )
        .await;
    let request_id = request["id"].as_str().unwrap().to_string();
    let confirm_url = request["confirmUrl"].as_str().unwrap().to_string();
    assert!(confirm_url.starts_with(&lb), "{confirm_url}");

    // Pia follows the link: the test login, and back to the request.
    let mut pia = Browser {
        lb: lb.clone(),
        http: Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap(),
        served_by: Vec::new(),
    };
    let to_login = pia.get(&confirm_url).await;
    assert_eq!(to_login.status, StatusCode::SEE_OTHER, "{}", to_login.body);
    let to_test_login = pia.get(&to_login.location).await;
    assert_eq!(to_test_login.status, StatusCode::SEE_OTHER);
    let form = pia.get(&to_test_login.location).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let goto = confirm_url.strip_prefix(&lb).unwrap();
    let logged_in = pia
        .post(
            &format!("{UI}/login/test"),
            &[("csrf", &form.csrf()), ("pid", PIA), ("goto", goto)],
        )
        .await;
    assert_eq!(
        logged_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        logged_in.body
    );
    assert_eq!(logged_in.location, goto);
    assert!(
        logged_in
            .cookies
            .iter()
            .any(|c| c.starts_with("sb_portal_session=") && c.contains("HttpOnly")),
        "{:?}",
        logged_in.cookies
    );
    // No stickiness: each of these requests went to another process than the one before.
    assert!(
        pia.served_by.windows(2).all(|w| w[0] != w[1]),
        "{:?}",
        pia.served_by
    );

    // One process dies in the middle of the journey; HAProxy sends its share elsewhere.
    let victim = apps[1].take().unwrap();
    let mut victim = victim;
    kill_hard(&mut victim.0);
    let page = pia.get(goto).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Lastbalansert"), "{}", page.body);
    let approved = pia
        .post(
            &format!("{UI}/systemuser/request/approve"),
            &[("csrf", &page.csrf()), ("id", &request_id)],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    let mut next = approved.location.clone();
    for _ in 0..5 {
        if next.starts_with(RECEIPT) {
            break;
        }
        let hop = pia.get(&next).await;
        assert_eq!(hop.status, StatusCode::SEE_OTHER, "{next}: {}", hop.body);
        next = hop.location;
    }
    assert!(next.starts_with(RECEIPT), "ends at the vendor: {next}");
    let served: std::collections::BTreeSet<_> = pia.served_by.iter().collect();
    assert!(served.len() >= 2, "{:?}", pia.served_by);
    assert!(
        !pia.served_by.iter().any(String::is_empty),
        "{:?}",
        pia.served_by
    );

    // SmartCloud gets its system-user token through the load balancer.
    let used = assertion(&key, &client_id, &lb);
    let token = token_request(&lb, &used).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.body);
    let access_token = token.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(access_token.split('.').count(), 3);

    // The killed process comes back; the assertion is a replay to every process.
    apps[1] = Some(serve(&db, ports[1], &lb, false));
    wait_ready(ports[1]).await;
    for port in ports {
        let direct = format!("http://127.0.0.1:{port}");
        let replay = token_request(&direct, &used).await;
        assert_eq!(
            replay.status,
            StatusCode::BAD_REQUEST,
            "{port}: {}",
            replay.body
        );
        assert_eq!(replay.json()["error"], "invalid_grant", "{}", replay.body);
        assert!(replay.body.contains("MP-012"), "{port}: {}", replay.body);
        // A fresh assertion is accepted there: the refusal was the replay, nothing else.
        let fresh = token_request(&direct, &assertion(&key, &client_id, &lb)).await;
        assert_eq!(fresh.status, StatusCode::OK, "{port}: {}", fresh.body);
    }
}

/// SIGKILL: the process gets no chance to finish anything.
fn kill_hard(child: &mut Child) {
    let status = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let _ = child.wait();
}
