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
