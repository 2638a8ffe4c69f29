//! The vendor's walk-through with the binary: keygen → client create → token.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_systembruker");
const ADMIN: &str = "cli-test-token";

use common::free_port;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(args: &[&str], url: &str) -> Output {
    Command::new(BIN)
        .args(args)
        .env("SYSTEMBRUKER_URL", url)
        .env("SYSTEMBRUKER_ADMIN_TOKEN", ADMIN)
        .output()
        .unwrap()
}

fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keygen_client_create_and_token() {
    let dir = std::env::temp_dir().join(format!("sb_cli_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = dir.join("db.sqlite");
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let _server = Server(
        Command::new(BIN)
            .args(["serve", "--demo"])
            .env("SYSTEMBRUKER_LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "SYSTEMBRUKER_DATABASE_URL",
                format!("sqlite://{}", db.display()),
            )
            .env("SYSTEMBRUKER_ADMIN_TOKEN", ADMIN)
            .env(
                "SYSTEMBRUKER_KEY_ENCRYPTION_KEY",
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{url}/health/ready"))
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = dir.to_str().unwrap();
    let jwk: serde_json::Value = serde_json::from_str(&stdout_of(&run(
        &["keygen", "--kid", "smartcloud-1", "--out", out],
        &url,
    )))
    .unwrap();
    assert_eq!(jwk["kid"], "smartcloud-1");
    assert!(jwk.get("d").is_none());
    let jwk_file = dir.join("smartcloud-1.jwk.json");
    let created: serde_json::Value = serde_json::from_str(&stdout_of(&run(
        &[
            "client",
            "create",
            "--name",
            "SmartCloud",
            "--consumer-org",
            "991825827",
            "--scope",
            "skatteetaten:kravogbetalinger",
            "--jwk",
            jwk_file.to_str().unwrap(),
        ],
        &url,
    )))
    .unwrap();
    let client_id = created["client_id"].as_str().unwrap();
    let key = dir.join("smartcloud-1.pem");
    let token = stdout_of(&run(
        &[
            "token",
            "--client-id",
            client_id,
            "--key",
            key.to_str().unwrap(),
            "--scope",
            "skatteetaten:kravogbetalinger",
        ],
        &url,
    ));
    assert_eq!(token.trim().split('.').count(), 3, "{token}");
    // A system-user grant is refused with the reference's error until a system user exists.
    let refused = run(
        &[
            "token",
            "--client-id",
            client_id,
            "--key",
            key.to_str().unwrap(),
            "--scope",
            "skatteetaten:kravogbetalinger",
            "--systemuser-org",
            "315000009",
        ],
        &url,
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("invalid_altinn_customer_configuration") && stderr.contains("MP-303"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The binary without the operator's token (self-service).
fn run_as_owner(args: &[&str], url: &str, token: &str) -> Output {
    Command::new(BIN)
        .args(args)
        .env("SYSTEMBRUKER_URL", url)
        .env("SYSTEMBRUKER_TOKEN", token)
        .env_remove("SYSTEMBRUKER_ADMIN_TOKEN")
        .output()
        .unwrap()
}

/// The set-up phase with the CLI and the organisations' own tokens: Skatteetaten creates a
/// scope and grants SmartCloud access (`scope create|grant|revoke`), SmartCloud creates its
/// client (`client create --token`) and gets a token until the access is revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scope_and_client_with_the_organisations_own_tokens() {
    let dir = std::env::temp_dir().join(format!("sb_cli_self_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("db.sqlite");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let _server = Server(
        Command::new(BIN)
            .args(["serve", "--demo"])
            .env("SYSTEMBRUKER_LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "SYSTEMBRUKER_DATABASE_URL",
                format!("sqlite://{}", db.display()),
            )
            .env_remove("SYSTEMBRUKER_ADMIN_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{url}/health/ready"))
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let test_token = |org: &str, scopes: &str| {
        let url = format!("{url}/testtools/api/GetEnterpriseToken?orgNo={org}&scopes={scopes}");
        async move { reqwest::get(url).await.unwrap().text().await.unwrap() }
    };
    let skatteetaten = test_token("974761076", "idporten:scopes.write").await;
    let smartcloud = test_token("991825827", "idporten:dcr.write").await;

    let scope: serde_json::Value = serde_json::from_str(&stdout_of(&run_as_owner(
        &[
            "scope",
            "create",
            "--prefix",
            "skatteetaten",
            "--subscope",
            "cli",
            "--description",
            "Made with the CLI",
        ],
        &url,
        &skatteetaten,
    )))
    .unwrap();
    assert_eq!(scope["scope"], "skatteetaten:cli");
    // SmartCloud cannot make scopes under Skatteetaten's prefix.
    let refused = run_as_owner(
        &[
            "scope",
            "create",
            "--prefix",
            "skatteetaten",
            "--subscope",
            "stolen",
            "--description",
            "x",
        ],
        &url,
        &test_token("991825827", "idporten:scopes.write").await,
    );
    assert!(!refused.status.success());
    let grant = [
        "scope",
        "grant",
        "--scope",
        "skatteetaten:cli",
        "--consumer-org",
        "991825827",
    ];
    stdout_of(&run_as_owner(&grant, &url, &skatteetaten));

    let out = dir.to_str().unwrap();
    stdout_of(&run_as_owner(
        &["keygen", "--kid", "cli-self", "--out", out],
        &url,
        "",
    ));
    let jwk_file = dir.join("cli-self.jwk.json");
    let created: serde_json::Value = serde_json::from_str(&stdout_of(&run_as_owner(
        &[
            "client",
            "create",
            "--name",
            "CliClient",
            "--scope",
            "skatteetaten:cli",
            "--jwk",
            jwk_file.to_str().unwrap(),
        ],
        &url,
        &smartcloud,
    )))
    .unwrap();
    assert_eq!(created["consumer_org"], "991825827");
    let client_id = created["client_id"].as_str().unwrap();
    let key = dir.join("cli-self.pem");
    let token_args = [
        "token",
        "--client-id",
        client_id,
        "--key",
        key.to_str().unwrap(),
        "--scope",
        "skatteetaten:cli",
    ];
    let token = stdout_of(&run_as_owner(&token_args, &url, ""));
    assert_eq!(token.trim().split('.').count(), 3, "{token}");

    let revoke = [
        "scope",
        "revoke",
        "--scope",
        "skatteetaten:cli",
        "--consumer-org",
        "991825827",
    ];
    stdout_of(&run_as_owner(&revoke, &url, &skatteetaten));
    let refused = run_as_owner(&token_args, &url, "");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("MP-250"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
