//! Events for vendors, end to end on both backends: subscriptions, webhook delivery to a
//! real HTTP receiver started here (signatures checked by the Standard Webhooks reference
//! library for Python), retries and order, a hanging receiver, redelivery, the pull feed,
//! vendor isolation, and the history's hash chain with detected tampering.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use systembruker_http::demo::{
    DEMO_RESOURCE, OLA, PIA, ROR_OG_VANN, SMARTCLOUD, TALLMAKERNE, TINA,
};
use systembruker_http::testing::TestServer;
use systembruker_http::webhooks::{self, WebhookSettings};
use systembruker_storage::{Backend, EventStore, RegisterStore};

mod common;
use common::{Api, person, right, vendor};

systembruker_http::server_tests!(
    webhooks_deliver_every_event_signed_and_in_order,
    a_receiver_that_is_down_gets_everything_in_order_once_back,
    a_hanging_receiver_holds_up_no_other_subscription,
    subscriptions_are_checked_and_vendors_isolated,
    the_history_chain_detects_tampering,
    client_events_reach_the_vendor_including_the_cascade,
    two_workers_deliver_each_event_once,
);

const SYSTEM: &str = "991825827_events";
const OTHER_VENDOR: &str = "315100003";
const ROR: i64 = 70_000_003;

// --- a receiver --------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: String,
}

impl Received {
    fn event(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
    fn header(&self, name: &str) -> String {
        self.headers[name].to_str().unwrap().to_string()
    }
}

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mood {
    Ok,
    Down,
    Hang,
}

#[derive(Clone)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    mood: Arc<Mutex<Mood>>,
    url: String,
}

impl Receiver {
    async fn start() -> Self {
        let receiver = Self {
            received: Arc::default(),
            mood: Arc::new(Mutex::new(Mood::Ok)),
            url: String::new(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, ..receiver }
    }
    fn set(&self, mood: Mood) {
        *self.mood.lock().unwrap() = mood;
    }
    fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
    /// Waits until `n` events arrived (by distinct id); all that arrived.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let all = self.all();
            let mut ids: Vec<_> = all.iter().map(|r| r.header("webhook-id")).collect();
            ids.dedup();
            if ids.len() >= n {
                return all;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "expected {n} events, got {:?}",
            self.all()
                .iter()
                .map(|r| r.event()["type"].clone())
                .collect::<Vec<_>>()
        );
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: String) -> AxumStatus {
    let mood = *receiver.mood.lock().unwrap();
    match mood {
        Mood::Down => AxumStatus::SERVICE_UNAVAILABLE,
        Mood::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            AxumStatus::OK
        }
        Mood::Ok => {
            receiver
                .received
                .lock()
                .unwrap()
                .push(Received { headers, body });
            AxumStatus::NO_CONTENT
        }
    }
}

// --- the independent signature check -----------------------------------------------------

/// Whether Python's `standardwebhooks` is installed; under CI it must be.
fn verifier_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import standardwebhooks"])
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "CI=true: install it with `pip install -r tests/requirements.txt`"
        );
        eprintln!(
            "standardwebhooks is not installed: signatures not checked (pip install -r tests/requirements.txt)"
        );
    }
    found
}

const VERIFY: &str = r#"
import json, sys
from standardwebhooks import Webhook
job = json.load(sys.stdin)
Webhook(job["secret"]).verify(job["body"], job["headers"])
try:
    Webhook(job["secret"]).verify(job["body"] + " ", job["headers"])
except Exception:
    print("ok")
"#;

/// Checks the delivery's signature with the reference library (and that a changed body
/// fails it).
fn verify_signature(secret: &str, received: &Received) {
    let job = json!({
        "secret": secret,
        "body": received.body,
        "headers": {
            "webhook-id": received.header("webhook-id"),
            "webhook-timestamp": received.header("webhook-timestamp"),
            "webhook-signature": received.header("webhook-signature"),
        },
    });
    let mut child = Command::new("python3")
        .args(["-c", VERIFY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(job.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
        "standardwebhooks rejected the signature: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// --- API helpers (Api, vendor, person, right: tests/common) ----------------------------

async fn register_system(api: &Api<'_>, id: &str, vendor_org: &str) {
    let (status, body) = api
        .post(
            "systemregister/vendor",
            json!({
                "id": id,
                "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{vendor_org}")},
                "name": {"nb": "Hendelser", "nn": "Hendingar", "en": "Events"},
                "description": {"nb": "a", "nn": "b", "en": "c"},
                "rights": [right(DEMO_RESOURCE)],
                "accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}],
                "clientId": [uuid::Uuid::new_v4().to_string()],
                "allowedRedirectUrls": ["https://tester.example/done"],
                "isVisible": false
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn subscribe(api: &Api<'_>, url: &str, types: &[&str]) -> Value {
    let (status, body) = api
        .post(
            &format!("systemregister/vendor/{SYSTEM}/subscriptions"),
            json!({"callbackUrl": url, "eventTypes": types}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn new_request(api: &Api<'_>, external_ref: &str) -> String {
    let (status, body) = api
        .post(
            "systemuser/request/vendor",
            json!({"systemId": SYSTEM, "partyOrgNo": ROR_OG_VANN, "externalRef": external_ref, "rights": [right(DEMO_RESOURCE)]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_string()
}

fn start_worker(
    server: &TestServer,
    timeout: Duration,
    first_retry: Duration,
) -> tokio::task::JoinHandle<()> {
    webhooks::spawn(
        server.state.app.clone(),
        WebhookSettings {
            poll: Duration::from_millis(50),
            timeout,
            retry_schedule: systembruker_domain::events::retry_schedule(
                first_retry,
                first_retry * 20,
            ),
        },
    )
}

const ALL: [&str; 11] = systembruker_domain::events::EVENT_TYPES;

// --- the tests ---------------------------------------------------------------------------

async fn webhooks_deliver_every_event_signed_and_in_order(server: TestServer) {
    let smartcloud = vendor(&server, SMARTCLOUD).await;
    register_system(&smartcloud, SYSTEM, SMARTCLOUD).await;
    let receiver = Receiver::start().await;
    let subscription = subscribe(&smartcloud, &receiver.url, &ALL).await;
    let secret = subscription["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    // The secret is shown once.
    let (_, list) = smartcloud
        .get(&format!("systemregister/vendor/{SYSTEM}/subscriptions"))
        .await;
    assert_eq!(list[0]["id"], subscription["id"]);
    assert!(list[0].get("secret").is_none(), "{list}");
    let worker = start_worker(&server, Duration::from_secs(5), Duration::from_millis(100));

    let pia = person(&server, PIA).await;
    let ola = person(&server, OLA).await;
    // Accepted (and a system user created), rejected, escalated.
    let accepted = new_request(&smartcloud, "ev-1").await;
    let (_, ok) = pia
        .post(
            &format!("systemuser/request/{ROR}/{accepted}/approve"),
            json!(null),
        )
        .await;
    assert_eq!(ok, true);
    let rejected = new_request(&smartcloud, "ev-2").await;
    pia.post(
        &format!("systemuser/request/{ROR}/{rejected}/reject"),
        json!(null),
    )
    .await;
    let escalated = new_request(&smartcloud, "ev-3").await;
    let (_, ok) = ola
        .post(
            &format!("systemuser/request/{ROR}/{escalated}/escalate"),
            json!(null),
        )
        .await;
    assert_eq!(ok, true);
    // A change request accepted (the rights change) and one rejected.
    let (_, found) = smartcloud
        .get(&format!(
            "systemuser/vendor/byquery?system-id={SYSTEM}&orgno={ROR_OG_VANN}&external-ref=ev-1"
        ))
        .await;
    let user = found["id"].as_str().unwrap().to_string();
    let change = |n: u32| {
        let smartcloud = &smartcloud;
        let user = user.clone();
        async move {
            let (status, body) = smartcloud
                .post(
                    &format!("systemuser/changerequest/vendor?correlation-id={}&system-user-id={user}", uuid::Uuid::new_v4()),
                    json!({"requiredAccessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}]}),
                )
                .await;
            assert!(status.is_success(), "change request {n}: {status} {body}");
            body["id"].as_str().unwrap().to_string()
        }
    };
    let first = change(1).await;
    let (status, body) = pia
        .post(
            &format!("systemuser/changerequest/{ROR}/{first}/approve"),
            json!(null),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let second = change(2).await;
    let (status, body) = pia
        .post(
            &format!("systemuser/changerequest/{ROR}/{second}/reject"),
            json!(null),
        )
        .await;
    assert!(status.is_success(), "{body}");
    // The system user deleted.
    let (status, body) = pia
        .send(Method::DELETE, &format!("systemuser/{ROR}/{user}"), None)
        .await;
    assert!(status.is_success(), "{body}");

    let expected = [
        "request.accepted",
        "systemuser.created",
        "request.rejected",
        "request.escalated",
        "changerequest.accepted",
        "rights.changed",
        "changerequest.rejected",
        "systemuser.deleted",
    ];
    let received = receiver.wait_for(expected.len()).await;
    let types: Vec<String> = received
        .iter()
        .map(|r| {
            r.event()["type"]
                .as_str()
                .unwrap()
                .trim_start_matches("no.systembruker.")
                .to_string()
        })
        .collect();
    // Every event arrives; within one change the history's order holds, and across
    // changes the order of the changes.
    let mut sorted_types = types.clone();
    sorted_types.sort();
    let mut sorted_expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    sorted_expected.sort();
    assert_eq!(sorted_types, sorted_expected, "{types:?}");
    let position = |t: &str| types.iter().position(|x| x == t).unwrap();
    assert!(position("request.rejected") < position("request.escalated"));
    assert!(position("request.escalated") < position("changerequest.accepted"));
    assert!(position("changerequest.rejected") < position("systemuser.deleted"));
    let sequences: Vec<i64> = received
        .iter()
        .map(|r| r.event()["sequence"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        sequences.windows(2).all(|w| w[0] < w[1]),
        "in sequence order: {sequences:?}"
    );
    // CloudEvents 1.0, and the ids are the webhook ids.
    for r in &received {
        let event = r.event();
        assert_eq!(event["specversion"], "1.0");
        assert_eq!(event["id"].as_str().unwrap(), r.header("webhook-id"));
        assert_eq!(event["data"]["systemId"], SYSTEM);
        assert_eq!(event["data"]["partyOrgNo"], ROR_OG_VANN);
        assert!(
            event["source"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/systemregister/vendor/{SYSTEM}"))
        );
        assert!(r.header("webhook-signature").starts_with("v1,"));
    }
    if verifier_available() {
        for r in &received {
            verify_signature(&secret, r);
        }
    }
    // The pull feed has the same events, in the same order, after any sequence.
    let (_, feed) = smartcloud
        .get(&format!("systemregister/vendor/{SYSTEM}/events?after=0"))
        .await;
    let feed_ids: Vec<&str> = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    let received_ids: Vec<String> = received.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(feed_ids, received_ids);
    let after = sequences[3];
    let (_, tail) = smartcloud
        .get(&format!(
            "systemregister/vendor/{SYSTEM}/events?after={after}"
        ))
        .await;
    assert_eq!(tail["events"].as_array().unwrap().len(), expected.len() - 4);
    assert_eq!(tail["nextAfter"], sequences[expected.len() - 1]);
    // The delivery log, and a manual redelivery under the same id.
    let sub_id = subscription["id"].as_str().unwrap();
    let (_, log) = smartcloud
        .get(&format!(
            "systemregister/vendor/{SYSTEM}/subscriptions/{sub_id}/deliveries"
        ))
        .await;
    assert_eq!(log.as_array().unwrap().len(), expected.len(), "{log}");
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .all(|d| d["outcome"] == "delivered" && d["statusCode"] == 204)
    );
    let again = &received_ids[0];
    let (status, body) = smartcloud
        .post(
            &format!("systemregister/vendor/{SYSTEM}/subscriptions/{sub_id}/redeliver"),
            json!({"eventId": again}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let all = {
        let mut all = receiver.all();
        for _ in 0..100 {
            if all.len() > expected.len() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            all = receiver.all();
        }
        all
    };
    assert_eq!(all.last().unwrap().header("webhook-id"), *again);
    let (_, log) = smartcloud
        .get(&format!(
            "systemregister/vendor/{SYSTEM}/subscriptions/{sub_id}/deliveries"
        ))
        .await;
    assert_eq!(log[0]["manual"], true);
    // Deleted: nothing more is sent to it.
    let (status, _) = smartcloud
        .send(
            Method::DELETE,
            &format!("systemregister/vendor/{SYSTEM}/subscriptions/{sub_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    new_request(&smartcloud, "ev-4").await;
    let id = new_request(&smartcloud, "ev-5").await;
    pia.post(
        &format!("systemuser/request/{ROR}/{id}/reject"),
        json!(null),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.all().len(), all.len());
    worker.abort();
}

async fn a_receiver_that_is_down_gets_everything_in_order_once_back(server: TestServer) {
    let smartcloud = vendor(&server, SMARTCLOUD).await;
    register_system(&smartcloud, SYSTEM, SMARTCLOUD).await;
    let receiver = Receiver::start().await;
    receiver.set(Mood::Down);
    let subscription = subscribe(
        &smartcloud,
        &receiver.url,
        &["no.systembruker.request.rejected"],
    )
    .await;
    let worker = start_worker(&server, Duration::from_secs(5), Duration::from_millis(100));
    let pia = person(&server, PIA).await;
    let mut ids = Vec::new();
    for n in 0..4 {
        let id = new_request(&smartcloud, &format!("down-{n}")).await;
        pia.post(
            &format!("systemuser/request/{ROR}/{id}/reject"),
            json!(null),
        )
        .await;
        ids.push(id);
    }
    // Failed attempts are logged and retried with growing waits.
    let sub_id = subscription["id"].as_str().unwrap();
    let log_path = format!("systemregister/vendor/{SYSTEM}/subscriptions/{sub_id}/deliveries");
    let mut failures = 0;
    for _ in 0..100 {
        let (_, log) = smartcloud.get(&log_path).await;
        failures = log
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["outcome"] == "failed")
            .count();
        if failures >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(failures >= 3, "retried");
    let (_, log) = smartcloud.get(&log_path).await;
    // All failures are for the first event: nothing overtakes it.
    let first_seq = log.as_array().unwrap().last().unwrap()["sequence"].clone();
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .all(|d| d["sequence"] == first_seq)
    );
    assert_eq!(log[0]["statusCode"], 503);
    receiver.set(Mood::Ok);
    let received = receiver.wait_for(4).await;
    let subjects: Vec<String> = received
        .iter()
        .map(|r| r.event()["subject"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(subjects, ids, "every event, once, in sequence order");
    worker.abort();
}

async fn a_hanging_receiver_holds_up_no_other_subscription(server: TestServer) {
    let smartcloud = vendor(&server, SMARTCLOUD).await;
    register_system(&smartcloud, SYSTEM, SMARTCLOUD).await;
    let hanging = Receiver::start().await;
    hanging.set(Mood::Hang);
    let healthy = Receiver::start().await;
    subscribe(&smartcloud, &hanging.url, &ALL).await;
    subscribe(&smartcloud, &healthy.url, &ALL).await;
    let worker = start_worker(&server, Duration::from_secs(20), Duration::from_secs(1));
    let pia = person(&server, PIA).await;
    let started = std::time::Instant::now();
    let id = new_request(&smartcloud, "hang-1").await;
    pia.post(
        &format!("systemuser/request/{ROR}/{id}/reject"),
        json!(null),
    )
    .await;
    let received = healthy.wait_for(1).await;
    assert_eq!(received[0].event()["subject"], id.as_str());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the healthy receiver did not wait for the hanging one"
    );
    assert!(hanging.all().is_empty());
    worker.abort();
}

async fn subscriptions_are_checked_and_vendors_isolated(server: TestServer) {
    let smartcloud = vendor(&server, SMARTCLOUD).await;
    register_system(&smartcloud, SYSTEM, SMARTCLOUD).await;
    let path = format!("systemregister/vendor/{SYSTEM}/subscriptions");
    for (body, field) in [
        (
            json!({"callbackUrl": "http://vendor.example/hook", "eventTypes": ALL}),
            "callbackUrl",
        ),
        (
            json!({"callbackUrl": "https://u:p@vendor.example/hook", "eventTypes": ALL}),
            "callbackUrl",
        ),
        (
            json!({"callbackUrl": "https://vendor.example/hook", "eventTypes": []}),
            "eventTypes",
        ),
        (
            json!({"callbackUrl": "https://vendor.example/hook", "eventTypes": ["no.such"]}),
            "eventTypes",
        ),
    ] {
        let (status, problem) = smartcloud.post(&path, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert!(problem.to_string().contains(field), "{problem}");
    }
    let subscription = subscribe(&smartcloud, "https://vendor.example/hook", &ALL).await;
    let sub_id = subscription["id"].as_str().unwrap();
    // Another vendor sees nothing of SmartCloud's system: no subscriptions, no events,
    // no deliveries, and cannot subscribe, redeliver or unsubscribe.
    let other = vendor(&server, OTHER_VENDOR).await;
    assert_eq!(other.get(&path).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        other
            .post(
                &path,
                json!({"callbackUrl": "https://other.example/", "eventTypes": ALL})
            )
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        other
            .get(&format!("systemregister/vendor/{SYSTEM}/events"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        other.get(&format!("{path}/{sub_id}/deliveries")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        other
            .send(Method::DELETE, &format!("{path}/{sub_id}"), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // Its own system cannot reach SmartCloud's subscription either.
    let theirs = "315100003_theirs";
    register_system(&other, theirs, OTHER_VENDOR).await;
    assert_eq!(
        other
            .send(
                Method::DELETE,
                &format!("systemregister/vendor/{theirs}/subscriptions/{sub_id}"),
                None
            )
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // Its feed holds none of SmartCloud's events.
    let pia = person(&server, PIA).await;
    let id = new_request(&smartcloud, "iso-1").await;
    pia.post(
        &format!("systemuser/request/{ROR}/{id}/reject"),
        json!(null),
    )
    .await;
    let (_, mine) = smartcloud
        .get(&format!("systemregister/vendor/{SYSTEM}/events"))
        .await;
    assert_eq!(mine["events"].as_array().unwrap().len(), 1);
    let (_, theirs_feed) = other
        .get(&format!("systemregister/vendor/{theirs}/events"))
        .await;
    assert_eq!(theirs_feed["events"], json!([]));
    // Without a token: 401.
    let anonymous = Client::new()
        .get(server.at(&format!("/authentication/api/v1/{path}")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

async fn the_history_chain_detects_tampering(server: TestServer) {
    let smartcloud = vendor(&server, SMARTCLOUD).await;
    register_system(&smartcloud, SYSTEM, SMARTCLOUD).await;
    let pia = person(&server, PIA).await;
    for n in 0..3 {
        let id = new_request(&smartcloud, &format!("chain-{n}")).await;
        pia.post(
            &format!("systemuser/request/{ROR}/{id}/reject"),
            json!(null),
        )
        .await;
    }
    server.store.seal_history(10_000).await.unwrap();
    let report = server.store.verify_history().await.unwrap();
    assert_eq!(report.broken, None);
    assert!(report.checked >= 6, "{report:?}");
    assert_eq!(report.unsealed, 0);
    // Sealed rows cannot be changed through SQL while the append-only trigger stands.
    let pool = server.store.pool();
    let refused = sqlx::query("UPDATE history SET actor = 'someone else' WHERE chain_seq = 3")
        .execute(pool)
        .await;
    assert!(refused.is_err());
    // With the trigger dropped (an attacker with the database's owner rights), a change
    // to one entry is found, and named.
    let target: i64 = sqlx::query_scalar("SELECT seq FROM history WHERE chain_seq = 4")
        .fetch_one(pool)
        .await
        .unwrap();
    match server.store.backend() {
        Backend::Sqlite => {
            sqlx::query("DROP TRIGGER history_no_update")
                .execute(pool)
                .await
                .unwrap();
        }
        Backend::Postgres => {
            sqlx::query("ALTER TABLE history DISABLE TRIGGER history_no_update")
                .execute(pool)
                .await
                .unwrap();
        }
    }
    sqlx::query("UPDATE history SET actor = 'someone else' WHERE seq = $1")
        .bind(target)
        .execute(pool)
        .await
        .unwrap();
    let report = server.store.verify_history().await.unwrap();
    let broken = report.broken.expect("tampering found");
    assert_eq!((broken.chain_seq, broken.seq), (4, Some(target)));
    assert_eq!(report.checked, 3);
}

/// Tallmakerne AS's party id in the demo data.
const TALLMAKERNE_PARTY: i64 = 70_000_004;

async fn client_events_reach_the_vendor_including_the_cascade(server: TestServer) {
    let smartcloud = vendor(&server, SMARTCLOUD).await;
    let agent_system = "991825827_events_agent";
    let (status, body) = smartcloud
        .post(
            "systemregister/vendor",
            json!({
                "id": agent_system,
                "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{SMARTCLOUD}")},
                "name": {"nb": "Klient", "nn": "Klient", "en": "Client"},
                "description": {"nb": "a", "nn": "b", "en": "c"},
                "rights": [],
                "accessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"}],
                "clientId": [uuid::Uuid::new_v4().to_string()],
                "isVisible": false
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, request) = smartcloud
        .post(
            "systemuser/request/vendor/agent",
            json!({"systemId": agent_system, "partyOrgNo": TALLMAKERNE,
                   "accessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    let request_id = request["id"].as_str().unwrap();
    let tina = person(&server, TINA).await;
    let (_, ok) = tina
        .post(
            &format!("systemuser/request/agent/{TALLMAKERNE_PARTY}/{request_id}/approve"),
            json!(null),
        )
        .await;
    assert_eq!(ok, true);
    let (_, page) = smartcloud
        .get(&format!("systemuser/vendor/bysystem/{agent_system}"))
        .await;
    let agent = page["data"][0]["id"].as_str().unwrap().to_string();
    let ror = server
        .store
        .organization(&systembruker_domain::OrgNumber::parse(ROR_OG_VANN).unwrap())
        .await
        .unwrap()
        .unwrap()
        .uuid;
    let (status, body) = tina
        .post(
            &format!("systemuser/agent/{TALLMAKERNE_PARTY}/{agent}?client={ror}"),
            json!(null),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    // Deleting the agent removes its clients in the database (a trigger writes that history).
    let (status, body) = tina
        .send(
            Method::DELETE,
            &format!("systemuser/agent/{TALLMAKERNE_PARTY}/{agent}"),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let (_, feed) = smartcloud
        .get(&format!("systemregister/vendor/{agent_system}/events"))
        .await;
    let types: Vec<&str> = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for expected in [
        "no.systembruker.request.accepted",
        "no.systembruker.systemuser.created",
        "no.systembruker.client.added",
        "no.systembruker.client.removed",
        "no.systembruker.systemuser.deleted",
    ] {
        assert!(types.contains(&expected), "{expected} in {types:?}");
    }
    let added = types
        .iter()
        .position(|t| t.ends_with("client.added"))
        .unwrap();
    let removed = types
        .iter()
        .position(|t| t.ends_with("client.removed"))
        .unwrap();
    assert!(added < removed);
    let removal = &feed["events"][removed];
    assert_eq!(removal["data"]["systemUserId"], agent.as_str());
    assert_eq!(removal["data"]["before"]["client"], ror.to_string());
}

/// A request nobody answered in time raises `request.timedout` (the timeout is zero days
/// here, so the next read finds it timed out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_request_reaches_the_vendor() {
    let server = TestServer::sqlite_with(|config| config.request_timeout_days = 0)
        .await
        .unwrap();
    let smartcloud = vendor(&server, SMARTCLOUD).await;
    register_system(&smartcloud, SYSTEM, SMARTCLOUD).await;
    let id = new_request(&smartcloud, "late-1").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (_, request) = smartcloud
        .get(&format!("systemuser/request/vendor/{id}"))
        .await;
    assert_eq!(request["status"], "Timedout", "{request}");
    let (_, feed) = smartcloud
        .get(&format!("systemregister/vendor/{SYSTEM}/events"))
        .await;
    assert_eq!(
        feed["events"][0]["type"], "no.systembruker.request.timedout",
        "{feed}"
    );
    assert_eq!(feed["events"][0]["subject"], id.as_str());
}

/// Two delivery workers (as two processes would run) share the work through the leases:
/// every event arrives once, in order.
async fn two_workers_deliver_each_event_once(server: TestServer) {
    let smartcloud = vendor(&server, SMARTCLOUD).await;
    register_system(&smartcloud, SYSTEM, SMARTCLOUD).await;
    let receiver = Receiver::start().await;
    subscribe(
        &smartcloud,
        &receiver.url,
        &["no.systembruker.request.rejected"],
    )
    .await;
    let first = start_worker(&server, Duration::from_secs(5), Duration::from_millis(100));
    let second = start_worker(&server, Duration::from_secs(5), Duration::from_millis(100));
    let pia = person(&server, PIA).await;
    let mut ids = Vec::new();
    for n in 0..6 {
        let id = new_request(&smartcloud, &format!("two-{n}")).await;
        pia.post(
            &format!("systemuser/request/{ROR}/{id}/reject"),
            json!(null),
        )
        .await;
        ids.push(id);
    }
    receiver.wait_for(ids.len()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let subjects: Vec<String> = receiver
        .all()
        .iter()
        .map(|r| r.event()["subject"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(subjects, ids, "each once, in order");
    first.abort();
    second.abort();
}
