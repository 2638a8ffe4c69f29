//! No event is lost when the server is killed: a change is committed, the process is
//! killed (SIGKILL) before its webhook worker sends the event, and after a restart on the
//! same database the receiver gets the event exactly once by id.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::free_port;

const BIN: &str = env!("CARGO_BIN_EXE_systembruker");
const SYSTEM: &str = "991825827_killtest";
const SCOPES: &str =
    "altinn:authentication/systemregister.write altinn:authentication/systemuser.request.write";

fn serve(db: &str, port: u16, poll_seconds: &str) -> Child {
    Command::new(BIN)
        .args(["serve", "--demo", "--webhook-poll", poll_seconds])
        .env("SYSTEMBRUKER_LISTEN", format!("127.0.0.1:{port}"))
        .env("SYSTEMBRUKER_DATABASE_URL", db)
        .env("SYSTEMBRUKER_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
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

/// A minimal HTTP receiver on a thread: records each POST's `webhook-id`, answers 204.
fn start_receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let ids = Arc::new(Mutex::new(Vec::new()));
    let seen = ids.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = Vec::new();
            let mut chunk = [0_u8; 4096];
            // Headers, then as much body as Content-Length says.
            let (head, length) = loop {
                let n = stream.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break (String::new(), 0);
                }
                buffer.extend_from_slice(&chunk[..n]);
                if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buffer[..end]).to_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map(|v| v.trim().parse().unwrap())
                        .unwrap_or(0);
                    break (head, end + 4 + length);
                }
            };
            while buffer.len() < length {
                let n = stream.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break;
                }
                buffer.extend_from_slice(&chunk[..n]);
            }
            if let Some(id) = head.lines().find_map(|l| l.strip_prefix("webhook-id:")) {
                seen.lock().unwrap().push(id.trim().to_string());
            }
            let _ = stream.write_all(
                b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (url, ids)
}

async fn test_token(port: u16, path: &str, query: &[(&str, &str)]) -> String {
    reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/testtools/api/{path}"))
        .query(query)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .trim()
        .to_string()
}

async fn post(port: u16, token: &str, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{port}/authentication/api/v1/{path}"
        ))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_committed_before_a_sigkill_is_delivered_once_after_the_restart() {
    let path = std::env::temp_dir().join(format!("sb_events_kill_{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let db = format!("sqlite://{}", path.display());
    let (url, ids) = start_receiver();
    // The first process's worker looks for work at start and then not for an hour: the
    // change below is committed, and nothing sends it before the kill.
    let port = free_port();
    let mut first = serve(&db, port, "3600");
    wait_ready(port).await;
    let vendor = test_token(
        port,
        "GetEnterpriseToken",
        &[("orgNo", "991825827"), ("scopes", SCOPES)],
    )
    .await;
    let pia = test_token(
        port,
        "GetPersonalToken",
        &[("pid", "14857510098"), ("scopes", "altinn:portal/enduser")],
    )
    .await;
    post(port, &vendor, "systemregister/vendor", json!({
        "id": SYSTEM,
        "vendor": {"authority": "iso6523-actorid-upis", "ID": "0192:991825827"},
        "name": {"nb": "Drept", "nn": "Drepen", "en": "Killed"},
        "description": {"nb": "a", "nn": "b", "en": "c"},
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}],
        "clientId": [uuid_like()],
        "isVisible": false
    }))
    .await;
    post(
        port,
        &vendor,
        &format!("systemregister/vendor/{SYSTEM}/subscriptions"),
        json!({
            "callbackUrl": url, "eventTypes": ["no.systembruker.request.rejected"]
        }),
    )
    .await;
    let request = post(port, &vendor, "systemuser/request/vendor", json!({
        "systemId": SYSTEM, "partyOrgNo": "315000009", "externalRef": "kill-1",
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}]
    }))
    .await;
    let request_id = request["id"].as_str().unwrap();
    post(
        port,
        &pia,
        &format!("systemuser/request/70000003/{request_id}/reject"),
        json!(null),
    )
    .await;
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(
        ids.lock().unwrap().is_empty(),
        "nothing was sent before the kill"
    );

    let port = free_port();
    let mut second = serve(&db, port, "0.1");
    wait_ready(port).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while ids.lock().unwrap().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Give a second delivery, if there were to be one, the time to arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    second.kill().unwrap();
    second.wait().unwrap();
    let received = ids.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "exactly once: {received:?}");
    let _ = std::fs::remove_file(&path);
}

/// A fresh client id for the system.
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 0x1_0000_0000_0000;
    format!("{:08x}-0000-4000-8000-{nanos:012x}", std::process::id())
}

/// `systembruker history verify` on a database a server wrote: intact, then, after an entry
/// is changed behind the append-only trigger's back (dropped with Python's sqlite3), it
/// names that entry and exits with status 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_verify_names_the_first_tampered_entry() {
    let path = std::env::temp_dir().join(format!("sb_history_verify_{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let db = format!("sqlite://{}", path.display());
    let port = free_port();
    let mut server = serve(&db, port, "0.1");
    wait_ready(port).await;
    let vendor = test_token(
        port,
        "GetEnterpriseToken",
        &[("orgNo", "991825827"), ("scopes", SCOPES)],
    )
    .await;
    for n in 0..3 {
        post(port, &vendor, "systemregister/vendor", json!({
            "id": format!("991825827_verify{n}"),
            "vendor": {"authority": "iso6523-actorid-upis", "ID": "0192:991825827"},
            "name": {"nb": "V", "nn": "V", "en": "V"},
            "description": {"nb": "a", "nn": "b", "en": "c"},
            "rights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}],
            "clientId": [uuid_like()],
            "isVisible": false
        }))
        .await;
        std::thread::sleep(Duration::from_millis(5));
    }
    // The worker seals within its poll interval.
    tokio::time::sleep(Duration::from_secs(2)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    let verify = || {
        Command::new(BIN)
            .args(["history", "verify", "--database-url", &db])
            .output()
            .unwrap()
    };
    let intact = verify();
    let stdout = String::from_utf8_lossy(&intact.stdout);
    assert!(
        intact.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&intact.stderr)
    );
    assert!(stdout.contains("history chain intact"), "{stdout}");
    assert!(!stdout.contains(" 0 entries checked"), "{stdout}");
    let tamper = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1])\n\
             c.execute('DROP TRIGGER history_no_update')\n\
             c.execute(\"UPDATE history SET actor = 'someone else' WHERE chain_seq = 2\")\n\
             c.commit()",
            path.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(tamper.success());
    let broken = verify();
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert_eq!(broken.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("history chain broken at entry 2"),
        "{stderr}"
    );
    let _ = std::fs::remove_file(&path);
}
