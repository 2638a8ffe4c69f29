//! The audit in a real server process (README, "Audit"): SIGTERM while the PDP is under
//! load loses no answered decision's record, on SQLite and (when configured) PostgreSQL;
//! `systembruker audit purge` removes what has outlived the retention.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::free_port;
use systembruker_storage::{AuditFilter, AuditKind, AuditStore, NewAuditRecord, SqlStore, testing};

const BIN: &str = env!("CARGO_BIN_EXE_systembruker");
const ROR_OG_VANN: &str = "315000009";

fn temp_db(name: &str) -> String {
    let path = std::env::temp_dir().join(format!("sb_audit_{name}_{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    format!("sqlite://{}", path.display())
}

fn serve(db: &str, port: u16) -> Child {
    Command::new(BIN)
        .args(["serve", "--demo"])
        .env("SYSTEMBRUKER_LISTEN", format!("127.0.0.1:{port}"))
        .env("SYSTEMBRUKER_DATABASE_URL", db)
        .env("SYSTEMBRUKER_ADMIN_TOKEN", "audit-test-token")
        .env("SYSTEMBRUKER_RATE_LIMIT_FAILED_AUTH", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
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

async fn authorize_token(port: u16) -> String {
    let response = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{port}/testtools/api/GetEnterpriseToken"
        ))
        .query(&[
            ("orgNo", "974761076"),
            ("scopes", "altinn:authorization/authorize"),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    response.text().await.unwrap().trim().to_string()
}

/// One decision about a fresh system user id; its id when the PDP answered it.
async fn ask(client: &reqwest::Client, port: u16, token: &str) -> Option<String> {
    let subject = uuid::Uuid::new_v4().to_string();
    let body = serde_json::json!({"Request": {
        "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:systemuser:uuid", "Value": subject}]}],
        "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
        "Resource": [{"Attribute": [
            {"AttributeId": "urn:altinn:resource", "Value": "ske-krav-og-betalinger"},
            {"AttributeId": "urn:altinn:organization:identifier-no", "Value": ROR_OG_VANN}]}]
    }});
    let response = client
        .post(format!(
            "http://127.0.0.1:{port}/authorization/api/v1/authorize"
        ))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .ok()?;
    if response.status() != 200 {
        return None;
    }
    let answer: serde_json::Value = response.json().await.ok()?;
    answer["Response"][0]["Decision"].as_str()?;
    Some(subject)
}

/// Every system user id the audit holds a decision for.
async fn recorded_subjects(store: &SqlStore) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut before = None;
    loop {
        let page = store
            .audit(&AuditFilter {
                kind: Some(AuditKind::Decision),
                before,
                limit: 1000,
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.seq);
        seen.extend(
            page.iter()
                .filter_map(|r| r.record.system_user_id.map(|id| id.to_string())),
        );
    }
    seen
}

async fn sigterm_under_load_loses_no_answered_decision(db: &str) {
    let port = free_port();
    let mut child = serve(db, port);
    wait_ready(port).await;
    let token = authorize_token(port).await;
    let answered = Arc::new(Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for _ in 0..8 {
        let (token, answered) = (token.clone(), answered.clone());
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut misses = 0;
            // Until the server stops answering (a few misses in a row).
            while misses < 5 {
                match ask(&client, port, &token).await {
                    Some(subject) => {
                        misses = 0;
                        answered.lock().unwrap().push(subject);
                    }
                    None => {
                        misses += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
    for worker in workers {
        worker.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(
        answered.len() >= 50,
        "the load was real: {} decisions",
        answered.len()
    );
    let store = SqlStore::open(db).await.unwrap();
    let recorded = recorded_subjects(&store).await;
    let lost: Vec<&String> = answered.iter().filter(|s| !recorded.contains(*s)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} answered decisions have no record, e.g. {:?}",
        lost.len(),
        answered.len(),
        lost.first()
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_pdp_load_loses_no_answered_decision_on_sqlite() {
    sigterm_under_load_loses_no_answered_decision(&temp_db("sigterm")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_pdp_load_loses_no_answered_decision_on_postgres() {
    let Some(server) = testing::postgres_server_url() else {
        return;
    };
    let url = testing::fresh_postgres_url(&server).await.unwrap();
    sigterm_under_load_loses_no_answered_decision(&url).await;
}

fn record(at: i64) -> NewAuditRecord {
    let user = uuid::Uuid::new_v4();
    NewAuditRecord {
        at,
        kind: AuditKind::Decision,
        system_user_id: Some(user),
        subject: format!("systemuser:{user}"),
        party: None,
        resource: Some("r".into()),
        action: Some("read".into()),
        decision: Some("Deny".into()),
        decided_by: None,
        caller: "operator".into(),
        client_id: None,
        system_id: None,
        scopes: None,
        jti: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_purge_command_removes_what_outlived_the_retention() {
    let db = temp_db("purge");
    let store = SqlStore::open(&db).await.unwrap();
    let day = 24 * 3600 * 1000;
    let now = chrono_now_millis();
    store
        .append_audit(&[record(now - 10 * day), record(now - 8 * day), record(now)])
        .await
        .unwrap();
    store.close().await;
    let output = Command::new(BIN)
        .args(["audit", "purge", "--retention-days", "9"])
        .env("SYSTEMBRUKER_DATABASE_URL", &db)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("1 audit records"), "{stdout}");
    let store = SqlStore::open(&db).await.unwrap();
    let left = store
        .audit(&AuditFilter {
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(left.len(), 2);
    store.close().await;
    let refused = Command::new(BIN)
        .args(["audit", "purge", "--retention-days", "0"])
        .env("SYSTEMBRUKER_DATABASE_URL", &db)
        .output()
        .unwrap();
    assert!(
        !refused.status.success(),
        "a retention of 0 days is refused"
    );
}

fn chrono_now_millis() -> i64 {
    systembruker_storage::now_millis()
}
