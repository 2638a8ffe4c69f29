//! The `systembruker` binary as a user runs it.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_systembruker");

use common::free_port;

fn temp_db(name: &str) -> String {
    let path = std::env::temp_dir().join(format!("sb_bin_{name}_{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    format!("sqlite://{}", path.display())
}

/// Starts `serve` configured through environment variables only.
fn serve(db: &str, port: u16, extra: &[&str]) -> Child {
    Command::new(BIN)
        .arg("serve")
        .args(extra)
        .env("SYSTEMBRUKER_LISTEN", format!("127.0.0.1:{port}"))
        .env("SYSTEMBRUKER_DATABASE_URL", db)
        .env("SYSTEMBRUKER_ADMIN_TOKEN", "bin-test-token")
        .env("SYSTEMBRUKER_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

async fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/health/ready")).await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server on port {port} did not become ready");
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait().unwrap()
}

async fn party_count(port: u16) -> usize {
    let mut n = 0;
    for org in [
        "315000009",
        "315100003",
        "315200008",
        "974761076",
        "991825827",
    ] {
        let r = reqwest::Client::new()
            .get(format!(
                "http://127.0.0.1:{port}/register/api/v1/organizations/{org}"
            ))
            .bearer_auth("bin-test-token")
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            n += 1;
        }
    }
    n
}

#[tokio::test]
async fn demo_server_starts_twice_on_one_database_and_stops_on_sigterm() {
    let db = temp_db("demo");
    for round in 0..2 {
        let port = free_port();
        let mut child = serve(&db, port, &["--demo"]);
        wait_ready(port).await;
        assert_eq!(party_count(port).await, 5, "round {round}");
        let status = terminate(&mut child);
        assert!(status.success(), "round {round}: {status:?}");
        // One JSON log line per request, with method, path, status and duration.
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let lines: Vec<serde_json::Value> = stdout
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| serde_json::from_str(&l).ok())
            .collect();
        let request = lines
            .iter()
            .find(|l| l["fields"]["path"] == "/register/api/v1/organizations/315000009")
            .expect("a request log line");
        assert_eq!(request["fields"]["method"], "GET");
        assert_eq!(request["fields"]["status"], 200);
        assert!(request["fields"]["duration_ms"].is_number());
        assert!(lines.iter().any(|l| l["fields"]["message"] == "stopped"));
    }
}

#[tokio::test]
async fn dev_mode_is_off_without_demo_and_empty_admin_token_is_refused() {
    let db = temp_db("plain");
    let port = free_port();
    let mut child = serve(&db, port, &[]);
    wait_ready(port).await;
    assert_eq!(party_count(port).await, 0, "no demo data without --demo");
    let tools = reqwest::get(format!(
        "http://127.0.0.1:{port}/testtools/api/GetEnterpriseToken?orgNo=991825827&scopes=x"
    ))
    .await
    .unwrap();
    assert_eq!(tools.status(), 404);
    assert!(terminate(&mut child).success());

    let out = Command::new(BIN)
        .args(["serve", "--admin-token", "  "])
        .env("SYSTEMBRUKER_DATABASE_URL", temp_db("empty_token"))
        .env("SYSTEMBRUKER_LISTEN", format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("must not be empty"));
}

/// A production server (no `--demo`) has the system resources the end-user APIs are
/// decided on, with their policies, from its first start.
#[tokio::test]
async fn system_resources_exist_without_demo() {
    let db = temp_db("system_resources");
    let port = free_port();
    let mut child = serve(&db, port, &[]);
    wait_ready(port).await;
    for id in [
        "altinn_access_management",
        "altinn_system_user_overview",
        "altinn_client_administration",
    ] {
        let policy = reqwest::get(format!(
            "http://127.0.0.1:{port}/resourceregistry/api/v1/resource/{id}/policy"
        ))
        .await
        .unwrap();
        assert_eq!(policy.status(), 200, "{id}");
        assert!(policy.text().await.unwrap().contains(id), "{id}");
    }
    assert!(terminate(&mut child).success());
}

#[test]
fn import_parties_cli_is_all_or_nothing() {
    let dir = std::env::temp_dir().join(format!("sb_import_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = temp_db("import");
    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        "party_uuid,party_id,party_type,display_name,person_identifier,organization_identifier,unit_status,unit_type,mainunit_party_uuid\n\
         ,,organization,CLI AS,,310202398,N,AS,\n",
    )
    .unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"[{"partyType":"organization","name":"Ok AS","organizationIdentifier":"315000009"},
            {"partyType":"organization","name":"Bad AS","organizationIdentifier":"315000008"}]"#,
    )
    .unwrap();
    let run = |file: &std::path::Path| {
        Command::new(BIN)
            .args(["import", "parties"])
            .arg(file)
            .args(["--database-url", &db])
            .output()
            .unwrap()
    };
    let ok = run(&good);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(report["created"], 1);
    let refused = run(&bad);
    assert!(!refused.status.success());
    let report: serde_json::Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(report["rejected"][0]["row"], 2);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("nothing was imported"));
}

#[test]
fn serve_failure_is_one_readable_line() {
    let db = temp_db("readonly");
    // `keys rotate` creates and migrates the database, then the server gets it read-only.
    let made = Command::new(BIN)
        .args(["keys", "rotate"])
        .env("SYSTEMBRUKER_DATABASE_URL", &db)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let output = Command::new(BIN)
        .args(["serve", "--demo"])
        .env("SYSTEMBRUKER_LISTEN", "127.0.0.1:0")
        .env("SYSTEMBRUKER_DATABASE_URL", format!("{db}?mode=ro"))
        .env("SYSTEMBRUKER_LOG_FORMAT", "json")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    let line = lines[0];
    assert!(line.starts_with("error: "), "{line}");
    assert!(line.contains("readonly"), "the cause is named: {line}");
    for dump in ["ApiError", "{", "Some("] {
        assert!(!line.contains(dump), "no debug dump: {line}");
    }
}

#[tokio::test]
async fn metrics_move_to_their_own_listener_and_need_a_token_on_the_main_one() {
    let db = temp_db("metrics");
    let (port, metrics_port) = (free_port(), free_port());
    let mut child = Command::new(BIN)
        .args(["serve", "--demo"])
        .env("SYSTEMBRUKER_LISTEN", format!("127.0.0.1:{port}"))
        .env("SYSTEMBRUKER_DATABASE_URL", &db)
        .env(
            "SYSTEMBRUKER_METRICS_LISTEN",
            format!("127.0.0.1:{metrics_port}"),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_ready(port).await;
    let main = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert_eq!(main.status(), 404);
    let own = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    assert!(
        own.text()
            .await
            .unwrap()
            .contains("systembruker_http_requests")
    );
    assert!(terminate(&mut child).success());
    // Without a metrics listener the main one asks for a token.
    let mut child = serve(&db, port, &["--metrics-token", "scrape"]);
    wait_ready(port).await;
    let url = format!("http://127.0.0.1:{port}/metrics");
    let anonymous = reqwest::get(&url).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    for token in ["scrape", "bin-test-token"] {
        let response = reqwest::Client::new()
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{token}");
    }
    assert!(terminate(&mut child).success());
}

#[test]
fn a_bad_rate_is_refused_in_one_line() {
    let output = Command::new(BIN)
        .args(["serve", "--rate-limit-failed-auth", "lots"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("COUNT/s, COUNT/min or COUNT/h"), "{stderr}");
}

/// The server's resident memory in KiB, from /proc.
fn resident_kib(child: &Child) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Issue 14: one 36 KB request of 100 × 100 × 100 groups made the PDP decide a million
/// requests and grow to 3.5 GB. Refused before any expansion, forty of them leave the
/// server's memory where it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_pdp_requests_do_not_grow_the_server() {
    let db = temp_db("pdp_memory");
    let port = free_port();
    let mut child = serve(&db, port, &["--demo"]);
    wait_ready(port).await;
    let base = format!("http://127.0.0.1:{port}");
    let token = reqwest::get(format!(
        "{base}/testtools/api/GetEnterpriseToken?orgNo=974761076&scopes=altinn:authorization/authorize"
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let group = |id: &str, value: String| serde_json::json!({"Attribute": [{"AttributeId": id, "Value": value}]});
    let body = serde_json::json!({"Request": {
        "AccessSubject": (0..100)
            .map(|_| group("urn:altinn:person:identifier-no", "14857510098".into()))
            .collect::<Vec<_>>(),
        "Action": (0..100)
            .map(|i| group("urn:oasis:names:tc:xacml:1.0:action:action-id", format!("a{i}")))
            .collect::<Vec<_>>(),
        "Resource": (0..100)
            .map(|_| group("urn:altinn:resource", "ske-krav-og-betalinger".into()))
            .collect::<Vec<_>>(),
    }})
    .to_string();
    let client = reqwest::Client::new();
    let send = || {
        client
            .post(format!("{base}/authorization/api/v1/authorize"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
    };
    // Warm up: the first refusals fill the allocator's pools and the token cache.
    for _ in 0..5 {
        assert_eq!(send().await.unwrap().status(), 400);
    }
    let before = resident_kib(&child);
    for _ in 0..40 {
        let response = send().await.unwrap();
        assert_eq!(response.status(), 400);
        let problem: serde_json::Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["code"], "STD-00031", "{problem}");
    }
    let after = resident_kib(&child);
    terminate(&mut child);
    assert!(
        after < before + 32 * 1024,
        "40 refused requests grew the server from {before} KiB to {after} KiB"
    );
}
