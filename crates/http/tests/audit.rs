//! The audit over HTTP, on SQLite and PostgreSQL (README, "Audit"): after SmartCloud's
//! token for its system user and a Permit for Rør og Vann AS, Pia sees both through the
//! API and exports them; Bernt sees nothing of Rør og Vann AS; after Tallmakerne's agent
//! acts for Rør og Vann AS, Pia (the client) sees that too, and only that; the operator
//! sees everything; records past the retention are purged; a full queue drops and counts.
#![allow(clippy::unwrap_used)]

mod common;

use common::{PORTAL, VENDOR_SCOPES, call, claims_of, decision, json_of, register_client, uuid_of};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use systembruker_http::demo::{
    BAKERIET, BERNT, DEMO_RESOURCE, PIA, ROR_OG_VANN, SKATTEETATEN, SMARTCLOUD, TALLMAKERNE, TINA,
};
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};
use systembruker_storage::{AuditFilter, AuditKind, AuditStore, NewAuditRecord};

systembruker_http::server_tests!(
    pia_sees_the_token_and_the_permit_and_bernt_sees_nothing,
    the_client_sees_what_the_firms_agent_did_for_it_and_nothing_else,
    records_older_than_the_retention_are_purged,
    the_operator_sees_every_party_and_others_may_not,
);

const SYSTEM: &str = "991825827_smartregnskap_audit";
const AGENT_SYSTEM: &str = "991825827_smartregnskap_audit_klient";
const PACKAGE: &str = "regnskapsforer-med-signeringsrettighet";
const CLIENT_SCOPES: &str = "altinn:clientdelegations.read altinn:clientdelegations.write";
const ROR_PARTY: i64 = 70_000_003;
const TALLMAKERNE_PARTY: i64 = 70_000_004;
const BAKERIET_PARTY: i64 = 70_000_005;

async fn register_system(server: &TestServer, vendor: &str, body: Value) {
    let response = call(server, Method::POST, "systemregister/vendor", vendor)
        .json(&body)
        .send()
        .await
        .unwrap();
    json_of(response, StatusCode::OK).await;
}

/// SmartCloud's standard system user for Rør og Vann AS (approved by Pia), a token for
/// it and a Permit about it: (system user id, the token's jti).
async fn standard_activity(server: &TestServer) -> (String, String) {
    let client = register_client(server).await;
    let vendor = server
        .enterprise_token(SMARTCLOUD, VENDOR_SCOPES)
        .await
        .unwrap();
    register_system(
        server,
        &vendor,
        json!({
            "id": SYSTEM,
            "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{SMARTCLOUD}")},
            "name": {"nb": "SmartRegnskap", "nn": "SmartRekneskap", "en": "SmartAccounting"},
            "description": {"nb": "Regnskap", "nn": "Rekneskap", "en": "Accounting"},
            "rights": [{"resource": [{"id": "urn:altinn:resource", "value": DEMO_RESOURCE}]}],
            "clientId": [client.client_id],
            "isVisible": false
        }),
    )
    .await;
    let response = call(server, Method::POST, "systemuser/request/vendor", &vendor)
        .json(&json!({"systemId": SYSTEM, "partyOrgNo": ROR_OG_VANN,
            "rights": [{"resource": [{"id": "urn:altinn:resource", "value": DEMO_RESOURCE}]}]}))
        .send()
        .await
        .unwrap();
    let id = json_of(response, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pia = server.personal_token(PIA, PORTAL).await.unwrap();
    let approve = format!("systemuser/request/{ROR_PARTY}/{id}/approve");
    let response = call(server, Method::POST, &approve, &pia)
        .send()
        .await
        .unwrap();
    json_of(response, StatusCode::OK).await;
    let (status, token) = client.token(server, ROR_OG_VANN).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let jti = claims_of(token["access_token"].as_str().unwrap())["jti"]
        .as_str()
        .unwrap()
        .to_string();
    let skatteetaten = skatteetaten(server).await;
    assert_eq!(
        decision(server, &skatteetaten, &id, ROR_OG_VANN).await,
        "Permit"
    );
    server.state.app.audit.flush().await;
    (id, jti)
}

async fn skatteetaten(server: &TestServer) -> String {
    server
        .enterprise_token(SKATTEETATEN, "altinn:authorization/authorize")
        .await
        .unwrap()
}

/// `GET …/systemuser/{party}/{id}/activity{query}` as `token`: (status, body).
async fn activity(
    server: &TestServer,
    token: &str,
    party: i64,
    id: &str,
    query: &str,
) -> (StatusCode, Value) {
    let path = format!("systemuser/{party}/{id}/activity{query}");
    let response = call(server, Method::GET, &path, token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn kinds(page: &Value) -> Vec<&str> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect()
}

/// A time range around now, as the export's query.
fn range_now() -> String {
    let now = chrono::Utc::now();
    let from =
        (now - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let to = (now + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    serde_urlencoded::to_string([("from", from), ("to", to)]).unwrap()
}

async fn get_text(server: &TestServer, token: &str, path: &str) -> (StatusCode, String, String) {
    let response = Client::new()
        .get(server.at(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

async fn pia_sees_the_token_and_the_permit_and_bernt_sees_nothing(server: TestServer) {
    let (id, jti) = standard_activity(&server).await;
    let pia = server.personal_token(PIA, PORTAL).await.unwrap();

    let (status, page) = activity(&server, &pia, ROR_PARTY, &id, "").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(kinds(&page), ["decision", "token"], "newest first: {page}");
    let permit = &page["data"][0];
    assert_eq!(permit["decision"], "Permit");
    assert_eq!(permit["resource"], DEMO_RESOURCE);
    assert_eq!(permit["action"], "read");
    assert_eq!(permit["subject"], format!("systemuser:{id}"));
    assert_eq!(
        permit["partyUuid"],
        uuid_of(&server, ROR_OG_VANN).await.to_string()
    );
    assert_eq!(permit["caller"], format!("org:{SKATTEETATEN}"));
    let decided_by = permit["decidedBy"].as_str().unwrap();
    assert!(
        decided_by.starts_with(&format!("policy:{DEMO_RESOURCE}@"))
            || decided_by == format!("delegation:{DEMO_RESOURCE}"),
        "{decided_by}"
    );
    let token = &page["data"][1];
    assert_eq!(
        token["jti"],
        jti.as_str(),
        "the record names the issued token"
    );
    assert_eq!(token["systemId"], SYSTEM);
    assert_eq!(token["scopes"], common::DEMO_SCOPE);
    assert_eq!(token["caller"], format!("org:{SMARTCLOUD}"));

    // Filters and keyset pages.
    let (_, permits) = activity(&server, &pia, ROR_PARTY, &id, "?decision=Permit").await;
    assert_eq!(kinds(&permits), ["decision"]);
    let (_, tokens) = activity(&server, &pia, ROR_PARTY, &id, "?kind=token").await;
    assert_eq!(kinds(&tokens), ["token"]);
    let (_, other) = activity(&server, &pia, ROR_PARTY, &id, "?resource=another").await;
    assert_eq!(kinds(&other), Vec::<&str>::new());
    let (_, first) = activity(&server, &pia, ROR_PARTY, &id, "?limit=1").await;
    assert_eq!(kinds(&first), ["decision"]);
    let next = first["links"]["next"].as_str().unwrap();
    let (status, _, second) = get_text(&server, &pia, next).await;
    assert_eq!(status, StatusCode::OK);
    let second: Value = serde_json::from_str(&second).unwrap();
    assert_eq!(
        kinds(&second),
        ["token"],
        "the next page continues the first"
    );
    let (status, refused) = activity(&server, &pia, ROR_PARTY, &id, "?decision=Maybe").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let (status, refused) = activity(&server, &pia, ROR_PARTY, &id, "?from=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");

    // Exports of a time range, oldest first.
    let base = format!("/authentication/api/v1/systemuser/{ROR_PARTY}/{id}/activity/export");
    let (status, content_type, lines) = get_text(
        &server,
        &pia,
        &format!("{base}?{}&format=jsonl", range_now()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{lines}");
    assert_eq!(content_type, "application/x-ndjson");
    let lines: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["kind"], "token");
    assert_eq!(lines[1]["decision"], "Permit");
    let (status, content_type, csv) =
        get_text(&server, &pia, &format!("{base}?{}&format=csv", range_now())).await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert!(content_type.starts_with("text/csv"));
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "a header and two records: {csv}");
    assert!(rows[0].starts_with("seq,at,kind,"), "{csv}");
    assert!(rows[1].contains(&jti));
    assert!(rows[2].contains("Permit"));
    let (status, _, refused) = get_text(&server, &pia, &base).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an export needs a range: {refused}"
    );

    // Bernt, daglig leder of Bakeriet, sees nothing of Rør og Vann AS: not through its
    // party, and not through his own.
    let bernt = server.personal_token(BERNT, PORTAL).await.unwrap();
    let (status, refused) = activity(&server, &bernt, ROR_PARTY, &id, "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, refused) = activity(&server, &bernt, BAKERIET_PARTY, &id, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
    assert_eq!(refused["code"], "AUTH-00015");
    let (status, _, _) = get_text(
        &server,
        &bernt,
        &format!(
            "/authentication/api/v1/systemuser/{ROR_PARTY}/{id}/activity/export?{}",
            range_now()
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let metrics = server.metrics_text().await.unwrap();
    let written = metrics
        .lines()
        .find(|l| l.starts_with("systembruker_audit_records_written_total"))
        .unwrap();
    let count: f64 = written.split_whitespace().last().unwrap().parse().unwrap();
    assert!(count >= 2.0, "{written}");
}

/// Tallmakerne's agent system user with Rør og Vann AS as its client (Tina adds it):
/// (the vendor's client, the agent's id).
async fn agent_with_client(server: &TestServer) -> (common::VendorClient, String) {
    let client = register_client(server).await;
    let vendor = server
        .enterprise_token(SMARTCLOUD, VENDOR_SCOPES)
        .await
        .unwrap();
    register_system(
        server,
        &vendor,
        json!({
            "id": AGENT_SYSTEM,
            "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{SMARTCLOUD}")},
            "name": {"nb": "SmartRegnskap klient", "nn": "SmartRekneskap klient", "en": "SmartAccounting client"},
            "description": {"nb": "For regnskapsførere", "nn": "For rekneskapsførarar", "en": "For accountants"},
            "rights": [],
            "accessPackages": [{"urn": format!("urn:altinn:accesspackage:{PACKAGE}")}],
            "clientId": [client.client_id],
            "isVisible": false
        }),
    )
    .await;
    let response = call(
        server,
        Method::POST,
        "systemuser/request/vendor/agent",
        &vendor,
    )
    .json(&json!({"systemId": AGENT_SYSTEM, "partyOrgNo": TALLMAKERNE,
            "accessPackages": [{"urn": format!("urn:altinn:accesspackage:{PACKAGE}")}]}))
    .send()
    .await
    .unwrap();
    let agent = json_of(response, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let tina = server.personal_token(TINA, PORTAL).await.unwrap();
    let approve = format!("systemuser/request/agent/{TALLMAKERNE_PARTY}/{agent}/approve");
    let response = call(server, Method::POST, &approve, &tina)
        .send()
        .await
        .unwrap();
    json_of(response, StatusCode::OK).await;
    let tina_vendor = server
        .vendor_personal_token(TINA, SMARTCLOUD, CLIENT_SCOPES)
        .await
        .unwrap();
    let ror = uuid_of(server, ROR_OG_VANN).await;
    let response = call(
        server,
        Method::POST,
        &format!("enduser/systemuser/clients?agent={agent}&client={ror}"),
        &tina_vendor,
    )
    .send()
    .await
    .unwrap();
    json_of(response, StatusCode::OK).await;
    (client, agent)
}

async fn the_client_sees_what_the_firms_agent_did_for_it_and_nothing_else(server: TestServer) {
    let (client, agent) = agent_with_client(&server).await;
    let (status, token) = client.token(&server, TALLMAKERNE).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let skatteetaten = skatteetaten(&server).await;
    assert_eq!(
        decision(&server, &skatteetaten, &agent, ROR_OG_VANN).await,
        "Permit"
    );
    assert_ne!(
        decision(&server, &skatteetaten, &agent, BAKERIET).await,
        "Permit"
    );
    server.state.app.audit.flush().await;
    let ror = uuid_of(&server, ROR_OG_VANN).await.to_string();

    // The firm's daglig leder sees all of it, and per client when she asks.
    let tina = server.personal_token(TINA, PORTAL).await.unwrap();
    let (status, all) = activity(&server, &tina, TALLMAKERNE_PARTY, &agent, "").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(kinds(&all), ["decision", "decision", "token"]);
    let (_, for_ror) = activity(
        &server,
        &tina,
        TALLMAKERNE_PARTY,
        &agent,
        &format!("?party={ror}"),
    )
    .await;
    assert_eq!(kinds(&for_ror), ["decision"]);
    assert_eq!(for_ror["data"][0]["decision"], "Permit");

    // Pia, the client's daglig leder, sees what the agent did for Rør og Vann AS only.
    let pia = server.personal_token(PIA, PORTAL).await.unwrap();
    let (status, seen) = activity(&server, &pia, ROR_PARTY, &agent, "").await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(
        kinds(&seen),
        ["decision"],
        "no token, nothing of Bakeriet: {seen}"
    );
    assert_eq!(seen["data"][0]["partyUuid"], ror.as_str());
    assert_eq!(seen["data"][0]["decision"], "Permit");
    // Asking for another party's records through her own changes nothing.
    let bakeriet = uuid_of(&server, BAKERIET).await;
    let (_, seen) = activity(
        &server,
        &pia,
        ROR_PARTY,
        &agent,
        &format!("?party={bakeriet}"),
    )
    .await;
    assert_eq!(kinds(&seen), ["decision"]);
    assert_eq!(seen["data"][0]["partyUuid"], ror.as_str());

    // Bernt sees what was asked about Bakeriet, never Rør og Vann AS.
    let bernt = server.personal_token(BERNT, PORTAL).await.unwrap();
    let (status, seen) = activity(&server, &bernt, BAKERIET_PARTY, &agent, "").await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    for record in seen["data"].as_array().unwrap() {
        assert_eq!(record["partyUuid"], bakeriet.to_string(), "{seen}");
    }
}

fn old_record(at: i64, user: uuid::Uuid) -> NewAuditRecord {
    NewAuditRecord {
        at,
        kind: AuditKind::Decision,
        system_user_id: Some(user),
        subject: format!("systemuser:{user}"),
        party: None,
        resource: Some(DEMO_RESOURCE.into()),
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

async fn records_older_than_the_retention_are_purged(server: TestServer) {
    let user = uuid::Uuid::new_v4();
    let day = 24 * 3600 * 1000;
    let now = chrono::Utc::now().timestamp_millis();
    server
        .store
        .append_audit(&[
            old_record(now - 91 * day, user),
            old_record(now - 89 * day, user),
            old_record(now, user),
        ])
        .await
        .unwrap();
    let settings = systembruker_app::audit::AuditSettings::default();
    assert_eq!(settings.retention_days, 90, "the default retention");
    let purged = systembruker_app::audit::purge(&server.store, &settings)
        .await
        .unwrap();
    assert_eq!(purged, 1);
    let left = server
        .store
        .audit(&AuditFilter {
            system_user_id: Some(user),
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|r| r.record.at >= now - 90 * day));
}

async fn the_operator_sees_every_party_and_others_may_not(server: TestServer) {
    let (id, _) = standard_activity(&server).await;
    let (status, _, body) = get_text(
        &server,
        ADMIN_TOKEN,
        &format!("/admin/api/v1/audit?systemUserId={id}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(kinds(&page), ["decision", "token"]);
    let ror = uuid_of(&server, ROR_OG_VANN).await;
    let (_, _, body) = get_text(
        &server,
        ADMIN_TOKEN,
        &format!("/admin/api/v1/audit?party={ror}&kind=decision"),
    )
    .await;
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(kinds(&page), ["decision"]);
    let (status, content_type, csv) = get_text(
        &server,
        ADMIN_TOKEN,
        &format!("/admin/api/v1/audit/export?{}", range_now()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert!(content_type.starts_with("text/csv"));
    assert!(csv.lines().count() >= 3, "{csv}");
    let pia = server.personal_token(PIA, PORTAL).await.unwrap();
    let (status, _, _) = get_text(&server, &pia, "/admin/api/v1/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = get_text(&server, "", "/admin/api/v1/audit").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A disabled audit records nothing, and the PDP answers as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_audit_off_nothing_is_recorded() {
    let server = TestServer::sqlite_with(|config| config.audit.enabled = false)
        .await
        .unwrap();
    assert!(!server.state.app.audit.is_enabled());
    let skatteetaten = skatteetaten(&server).await;
    let answer = decision(
        &server,
        &skatteetaten,
        &uuid::Uuid::new_v4().to_string(),
        ROR_OG_VANN,
    )
    .await;
    assert_ne!(answer, "Permit");
    server.state.app.audit.flush().await;
    let recorded = server
        .store
        .audit(&AuditFilter {
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert!(recorded.is_empty());
}

/// With the database locked, the writer cannot empty the queue: a record waits briefly
/// for room, then is dropped and counted, and every decision is still answered. Once
/// the lock goes, what was queued is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_drops_and_counts_instead_of_growing() {
    let server = TestServer::sqlite_with(|config| {
        config.audit.queue_capacity = 2;
        config.audit.batch_size = 1;
    })
    .await
    .unwrap();
    let skatteetaten = skatteetaten(&server).await;
    let mut lock = server.store.pool().acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *lock)
        .await
        .unwrap();
    for _ in 0..10 {
        let answer = decision(
            &server,
            &skatteetaten,
            &uuid::Uuid::new_v4().to_string(),
            ROR_OG_VANN,
        )
        .await;
        assert_ne!(answer, "Permit");
    }
    sqlx::query("ROLLBACK").execute(&mut *lock).await.unwrap();
    drop(lock);
    server.state.app.audit.flush().await;
    let metrics = server.metrics_text().await.unwrap();
    let dropped = metrics
        .lines()
        .find(|l| l.starts_with("systembruker_audit_records_dropped_total{reason=\"full\"}"))
        .unwrap_or_else(|| panic!("no drops counted:\n{metrics}"));
    let dropped: f64 = dropped.split_whitespace().last().unwrap().parse().unwrap();
    let written = server
        .store
        .audit(&AuditFilter {
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .len();
    assert!(dropped >= 1.0, "{dropped}");
    assert!(written >= 1, "what was queued is written after the lock");
    assert_eq!(
        dropped as usize + written,
        10,
        "every decision is either written or counted as dropped"
    );
}
