//! Access management for people over the API, on SQLite and PostgreSQL, with the demo
//! cast: Pia (daglig leder of Rør og Vann AS) gives Ola a single right and the
//! access-manager package, Ola approves SmartCloud's request, revocation takes effect at
//! the next decision; Ola cannot give what he does not hold; asks for access.
#![allow(clippy::unwrap_used)]

mod common;

use common::portal::{UI, get as page, logged_in, post as form};

use common::{VENDOR_SCOPES, register_client};
use reqwest::Method;
use serde_json::{Value, json};
use systembruker_http::demo::{
    BAKERIET, BERNT, DEMO_RESOURCE, OLA, PIA, ROR_OG_VANN, SMARTCLOUD, TINA,
};
use systembruker_http::server_tests;
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};

server_tests!(
    a_single_right_from_pia_lets_ola_approve_and_its_revocation_stops_the_next_decision,
    ola_cannot_give_what_he_does_not_hold_nor_without_managing_access,
    a_package_that_cannot_be_delegated_is_refused_with_the_reason,
    a_person_is_found_only_by_number_and_last_name,
    connections_list_who_has_what,
    ola_asks_pia_grants_and_ola_approves,
    asks_are_unique_while_pending_and_answered_once,
    every_change_is_in_the_history,
    portal_forms_give_only_with_the_csrf_token_and_for_access_managers,
);

const ENDUSER: &str = "altinn:portal/enduser";
const API: &str = "/accessmanagement/api/v1/enduser";
const SYSTEM: &str = "991825827_smartcloud";
const ROR_OG_VANN_PARTY: i64 = 70_000_003;

async fn token(server: &TestServer, pid: &str) -> String {
    server.personal_token(pid, ENDUSER).await.unwrap()
}

async fn send(
    server: &TestServer,
    method: Method,
    token: &str,
    path: &str,
    query: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, server.at(path))
        .bearer_auth(token)
        .query(query);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn party_uuid(server: &TestServer, pid: &str) -> String {
    let pid = systembruker_domain::PersonNumber::parse(pid).unwrap();
    use systembruker_storage::RegisterStore;
    server
        .store
        .person(&pid)
        .await
        .unwrap()
        .unwrap()
        .uuid
        .to_string()
}

/// Pia gives `pid` the right to read the demo resource for Rør og Vann.
fn right_query(to: &str) -> [(&str, &str); 4] {
    [
        ("party", ROR_OG_VANN),
        ("to", to),
        ("resource", DEMO_RESOURCE),
        ("action", "read"),
    ]
}

/// The PDP's decision on the person `pid` reading the demo resource for Rør og Vann.
async fn pdp(server: &TestServer, pid: &str) -> String {
    let body = json!({"Request": {
        "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:person:identifier-no", "Value": pid}]}],
        "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
        "Resource": [{"Attribute": [{"AttributeId": "urn:altinn:resource", "Value": DEMO_RESOURCE},
            {"AttributeId": "urn:altinn:organization:identifier-no", "Value": ROR_OG_VANN}]}]}});
    let (status, response) = send(
        server,
        Method::POST,
        ADMIN_TOKEN,
        "/authorization/api/v1/authorize",
        &[],
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{response}");
    response["Response"][0]["Decision"]
        .as_str()
        .unwrap()
        .to_string()
}

/// SmartCloud registers its system and asks Rør og Vann for a system user with the
/// demo resource's right; returns the request id.
async fn smartcloud_request(server: &TestServer) -> String {
    let client = register_client(server).await;
    let vendor = server
        .enterprise_token(SMARTCLOUD, VENDOR_SCOPES)
        .await
        .unwrap();
    let system = json!({
        "id": SYSTEM,
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{SMARTCLOUD}")},
        "name": {"nb": "SmartCloud", "nn": "SmartCloud", "en": "SmartCloud"},
        "description": {"nb": "Regnskap", "nn": "Rekneskap", "en": "Accounting"},
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": DEMO_RESOURCE}]}],
        "clientId": [client.client_id],
        "allowedRedirectUrls": ["https://smartcloud.example/receipt"],
        "isVisible": true
    });
    let (status, body) = send(
        server,
        Method::POST,
        &vendor,
        "/authentication/api/v1/systemregister/vendor",
        &[],
        Some(system),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let request = json!({
        "systemId": SYSTEM, "partyOrgNo": ROR_OG_VANN,
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": DEMO_RESOURCE}]}],
        "redirectUrl": "https://smartcloud.example/receipt"
    });
    let (status, body) = send(
        server,
        Method::POST,
        &vendor,
        "/authentication/api/v1/systemuser/request/vendor",
        &[],
        Some(request),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_string()
}

async fn approve(server: &TestServer, token: &str, id: &str) -> (u16, Value) {
    let path =
        format!("/authentication/api/v1/systemuser/request/{ROR_OG_VANN_PARTY}/{id}/approve");
    send(server, Method::POST, token, &path, &[], None).await
}

async fn give_package(server: &TestServer, token: &str, to: &str, package: &str) -> (u16, Value) {
    let query = [("party", ROR_OG_VANN), ("to", to), ("package", package)];
    let path = format!("{API}/connections/accesspackages");
    send(server, Method::POST, token, &path, &query, None).await
}

async fn a_single_right_from_pia_lets_ola_approve_and_its_revocation_stops_the_next_decision(
    server: TestServer,
) {
    let id = smartcloud_request(&server).await;
    let pia = token(&server, PIA).await;
    let ola = token(&server, OLA).await;
    let ola_uuid = party_uuid(&server, OLA).await;
    let rights = format!("{API}/connections/resources/rights");

    // Pia makes Ola an access manager; he holds the tax package but may not pass the
    // right on, so approving still fails on the right.
    let (status, body) = give_package(&server, &pia, &ola_uuid, "tilgangsstyrer").await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = approve(&server, &ola, &id).await;
    assert_eq!(status, 403, "{body}");

    // Pia gives Ola the single right: now he may approve the request himself.
    let (status, body) = send(
        &server,
        Method::POST,
        &pia,
        &rights,
        &right_query(&ola_uuid),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["rightKey"], format!("{DEMO_RESOURCE}:read"));
    let (status, _) = send(
        &server,
        Method::POST,
        &pia,
        &rights,
        &right_query(&ola_uuid),
        None,
    )
    .await;
    assert_eq!(status, 200, "a second POST changes nothing");
    let (status, body) = approve(&server, &ola, &id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, true);

    // Without the tax package, the right alone decides Ola's access.
    let packages = format!("{API}/connections/accesspackages");
    let revoke_package = [
        ("party", ROR_OG_VANN),
        ("to", OLA),
        ("package", "skatt-naering"),
    ];
    let (status, body) = send(
        &server,
        Method::DELETE,
        &pia,
        &packages,
        &revoke_package,
        None,
    )
    .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(pdp(&server, OLA).await, "Permit");
    let (status, body) = send(
        &server,
        Method::DELETE,
        &pia,
        &rights,
        &right_query(&ola_uuid),
        None,
    )
    .await;
    assert_eq!(status, 204, "{body}");
    assert_ne!(pdp(&server, OLA).await, "Permit");
    let (status, _) = send(
        &server,
        Method::DELETE,
        &pia,
        &rights,
        &right_query(&ola_uuid),
        None,
    )
    .await;
    assert_eq!(status, 404, "nothing left to revoke");
}

async fn ola_cannot_give_what_he_does_not_hold_nor_without_managing_access(server: TestServer) {
    let pia = token(&server, PIA).await;
    let ola = token(&server, OLA).await;
    let ola_uuid = party_uuid(&server, OLA).await;
    let bernt_uuid = party_uuid(&server, BERNT).await;
    let rights = format!("{API}/connections/resources/rights");

    // Not an access manager: refused, whatever he asks to give.
    let (status, body) = send(
        &server,
        Method::POST,
        &ola,
        &rights,
        &right_query(&bernt_uuid),
        None,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("tilgangsstyrer"),
        "{body}"
    );
    let (status, body) = give_package(&server, &ola, &bernt_uuid, "skatt-naering").await;
    assert_eq!(status, 403, "{body}");

    // An access manager now, but he holds neither the right nor a package he may pass
    // on: still refused, with the reasons.
    let (status, body) = give_package(&server, &pia, &ola_uuid, "tilgangsstyrer").await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = send(
        &server,
        Method::POST,
        &ola,
        &rights,
        &right_query(&bernt_uuid),
        None,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("MissingRoleAccess"),
        "{body}"
    );
    let (status, body) = give_package(&server, &ola, &bernt_uuid, "skatt-naering").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["delegationCheck"]["result"], false, "{body}");
    // Nothing was stored.
    let (status, list) = send(
        &server,
        Method::GET,
        &pia,
        &rights,
        &[("party", ROR_OG_VANN)],
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list, json!([]));
    assert_eq!(pdp(&server, BERNT).await, "NotApplicable");

    // An action the policy does not have is no right at all.
    let mut query = right_query(&bernt_uuid);
    query[3] = ("action", "sign");
    let (status, body) = send(&server, Method::POST, &pia, &rights, &query, None).await;
    assert_eq!(status, 400, "{body}");
    // A person is named by uuid, never by a bare national id number.
    let (status, body) = send(
        &server,
        Method::POST,
        &pia,
        &rights,
        &right_query(BERNT),
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["paths"][0], "to", "{body}");
}

async fn a_package_that_cannot_be_delegated_is_refused_with_the_reason(server: TestServer) {
    let pia = token(&server, PIA).await;
    let ola_uuid = party_uuid(&server, OLA).await;
    // The accountant package follows from the register's REGN role only.
    let (status, body) = give_package(
        &server,
        &pia,
        &ola_uuid,
        "regnskapsforer-med-signeringsrettighet",
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("cannot be delegated"), "{detail}");
    assert_eq!(body["delegationCheck"]["result"], false, "{body}");
    assert_eq!(
        body["delegationCheck"]["reasons"][0]["description"], "NoAccess",
        "{body}"
    );
}

async fn a_person_is_found_only_by_number_and_last_name(server: TestServer) {
    let pia = token(&server, PIA).await;
    let lookup = format!("{API}/connections/persons/lookup");
    let party = [("party", ROR_OG_VANN)];
    let find = |pid: &str, last: &str| json!({"personIdentifier": pid, "lastName": last});
    let (status, body) = send(
        &server,
        Method::POST,
        &pia,
        &lookup,
        &party,
        Some(find(OLA, "nordmann")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Ola Nordmann");
    assert_eq!(body["uuid"], party_uuid(&server, OLA).await);
    assert!(body.get("personIdentifier").is_none(), "{body}");

    // A wrong last name and an unknown number get the very same answer.
    let (status, wrong_name) = send(
        &server,
        Method::POST,
        &pia,
        &lookup,
        &party,
        Some(find(OLA, "Baker")),
    )
    .await;
    assert_eq!(status, 404, "{wrong_name}");
    let (status, unknown) = send(
        &server,
        Method::POST,
        &pia,
        &lookup,
        &party,
        Some(find("15019010063", "Nordmann")),
    )
    .await;
    assert_eq!(status, 404, "{unknown}");
    assert_eq!(wrong_name["detail"], unknown["detail"]);
    let (status, body) = send(
        &server,
        Method::POST,
        &pia,
        &lookup,
        &party,
        Some(find("123", "Nordmann")),
    )
    .await;
    assert_eq!(status, 400, "{body}");

    // Only an access manager of the party may look people up.
    let tina = token(&server, TINA).await;
    let (status, body) = send(
        &server,
        Method::POST,
        &tina,
        &lookup,
        &party,
        Some(find(OLA, "Nordmann")),
    )
    .await;
    assert_eq!(status, 403, "{body}");
}

async fn connections_list_who_has_what(server: TestServer) {
    let pia = token(&server, PIA).await;
    let ola_uuid = party_uuid(&server, OLA).await;
    let rights = format!("{API}/connections/resources/rights");
    let (status, body) = send(
        &server,
        Method::POST,
        &pia,
        &rights,
        &right_query(&ola_uuid),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let path = format!("{API}/connections");
    let (status, body) = send(
        &server,
        Method::GET,
        &pia,
        &path,
        &[("party", ROR_OG_VANN)],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let given = body["given"].as_array().unwrap();
    let ola = given
        .iter()
        .find(|c| c["party"]["name"] == "Ola Nordmann")
        .unwrap();
    assert_eq!(ola["party"]["type"], "person");
    assert_eq!(ola["packages"][0]["code"], "skatt-naering");
    assert_eq!(
        ola["rights"][0]["rightKey"],
        format!("{DEMO_RESOURCE}:read")
    );
    let pia_row = given
        .iter()
        .find(|c| c["party"]["name"] == "Pia Rørlegger")
        .unwrap();
    assert_eq!(pia_row["roles"], json!(["daglig-leder"]));
    let accountant = given
        .iter()
        .find(|c| c["party"]["name"] == "Tallmakerne AS")
        .unwrap();
    assert_eq!(accountant["party"]["organizationNumber"], "315100003");
    // No national id number is shown.
    assert!(!body.to_string().contains(OLA), "{body}");

    // Ola reads what he received from Rør og Vann, as himself.
    let ola = token(&server, OLA).await;
    let (status, body) = send(&server, Method::GET, &ola, &path, &[("party", OLA)], None).await;
    assert_eq!(status, 200, "{body}");
    let from = &body["received"][0];
    assert_eq!(from["party"]["name"], "Rør og Vann AS");
    assert_eq!(from["rights"][0]["action"], "read");
    // Bernt does not see Rør og Vann's connections.
    let bernt = token(&server, BERNT).await;
    let (status, _) = send(
        &server,
        Method::GET,
        &bernt,
        &path,
        &[("party", ROR_OG_VANN)],
        None,
    )
    .await;
    assert_eq!(status, 403);
}

async fn ola_asks_pia_grants_and_ola_approves(server: TestServer) {
    let id = smartcloud_request(&server).await;
    let ola = token(&server, OLA).await;
    let pia = token(&server, PIA).await;
    let asks = format!("{API}/request");
    let ask = json!({
        "packages": ["urn:altinn:accesspackage:tilgangsstyrer"],
        "rights": [{"resource": DEMO_RESOURCE, "action": "read"}]
    });
    let (status, sent) = send(
        &server,
        Method::POST,
        &ola,
        &asks,
        &[("party", ROR_OG_VANN)],
        Some(ask),
    )
    .await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["status"], "pending");
    assert_eq!(sent["asked"].as_array().unwrap().len(), 2, "{sent}");
    let ask_id = sent["id"].as_str().unwrap().to_string();

    // Pia sees it pending; Ola (no access manager) may not read the party's asks.
    let received = format!("{asks}/received");
    let query = [("party", ROR_OG_VANN), ("status", "pending")];
    let (status, list) = send(&server, Method::GET, &pia, &received, &query, None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list[0]["id"], ask_id.as_str());
    let (status, _) = send(&server, Method::GET, &ola, &received, &query, None).await;
    assert_eq!(status, 403);
    // Ola cannot answer his own ask.
    let grant = format!("{asks}/{ask_id}/approve");
    let (status, _) = send(
        &server,
        Method::POST,
        &ola,
        &grant,
        &[("party", ROR_OG_VANN)],
        None,
    )
    .await;
    assert_eq!(status, 403);

    // One step gives everything asked.
    let (status, granted) = send(
        &server,
        Method::POST,
        &pia,
        &grant,
        &[("party", ROR_OG_VANN)],
        None,
    )
    .await;
    assert_eq!(status, 200, "{granted}");
    assert_eq!(granted["status"], "granted");
    let (status, mine) = send(
        &server,
        Method::GET,
        &ola,
        &format!("{asks}/sent"),
        &[],
        None,
    )
    .await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine[0]["status"], "granted");
    assert!(mine[0]["answeredBy"].as_str().is_some(), "{mine}");

    let (status, body) = approve(&server, &ola, &id).await;
    assert_eq!(status, 200, "{body}");
}

async fn asks_are_unique_while_pending_and_answered_once(server: TestServer) {
    let ola = token(&server, OLA).await;
    let pia = token(&server, PIA).await;
    let asks = format!("{API}/request");
    let party = [("party", ROR_OG_VANN)];
    let ask = json!({"rights": [{"resource": DEMO_RESOURCE, "action": "read"}]});
    let (status, first) = send(
        &server,
        Method::POST,
        &ola,
        &asks,
        &party,
        Some(ask.clone()),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    // The same thing again while it is pending: the database refuses it.
    let (status, again) = send(
        &server,
        Method::POST,
        &ola,
        &asks,
        &party,
        Some(ask.clone()),
    )
    .await;
    assert_eq!(status, 409, "{again}");

    // Declined: nothing given, and it cannot be answered twice.
    let id = first["id"].as_str().unwrap();
    let reject = format!("{asks}/{id}/reject");
    let (status, body) = send(&server, Method::POST, &pia, &reject, &party, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "declined");
    let (status, _) = send(
        &server,
        Method::POST,
        &pia,
        &format!("{asks}/{id}/approve"),
        &party,
        None,
    )
    .await;
    assert_eq!(status, 409);
    let rights = format!("{API}/connections/resources/rights");
    let (_, list) = send(&server, Method::GET, &pia, &rights, &party, None).await;
    assert_eq!(list, json!([]));
    // Answered, it may be asked again.
    let (status, body) = send(&server, Method::POST, &ola, &asks, &party, Some(ask)).await;
    assert_eq!(status, 201, "{body}");

    // Bad asks: empty, unknown package, unknown action; and a stranger may not ask.
    for bad in [
        json!({}),
        json!({"packages": ["no-such-package"]}),
        json!({"rights": [{"resource": DEMO_RESOURCE, "action": "sign"}]}),
    ] {
        let (status, body) = send(&server, Method::POST, &ola, &asks, &party, Some(bad)).await;
        assert_eq!(status, 400, "{body}");
    }
    let tina = token(&server, TINA).await;
    let ask = json!({"packages": ["skatt-naering"]});
    let (status, body) = send(
        &server,
        Method::POST,
        &tina,
        &asks,
        &[("party", BAKERIET)],
        Some(ask),
    )
    .await;
    assert_eq!(status, 201, "Tinas firm is Bakeriet's accountant: {body}");
    let bernt = token(&server, BERNT).await;
    let ask = json!({"packages": ["skatt-naering"]});
    let (status, body) = send(&server, Method::POST, &bernt, &asks, &party, Some(ask)).await;
    assert_eq!(status, 403, "{body}");
}

async fn every_change_is_in_the_history(server: TestServer) {
    let pia = token(&server, PIA).await;
    let ola_uuid = party_uuid(&server, OLA).await;
    let rights = format!("{API}/connections/resources/rights");
    let query = right_query(&ola_uuid);
    let (status, _) = send(&server, Method::POST, &pia, &rights, &query, None).await;
    assert_eq!(status, 201);
    let (status, _) = send(&server, Method::DELETE, &pia, &rights, &query, None).await;
    assert_eq!(status, 204);
    let ola = token(&server, OLA).await;
    let ask = json!({"packages": ["tilgangsstyrer"]});
    let (status, sent) = send(
        &server,
        Method::POST,
        &ola,
        &format!("{API}/request"),
        &[("party", ROR_OG_VANN)],
        Some(ask),
    )
    .await;
    assert_eq!(status, 201, "{sent}");

    use systembruker_storage::{HistoryFilter, HistoryStore};
    let rows = server
        .store
        .history(&HistoryFilter {
            limit: 1000,
            ..HistoryFilter::default()
        })
        .await
        .unwrap();
    let of = |entity: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r.entity == entity)
            .map(|r| r.action.clone())
            .collect()
    };
    assert_eq!(of("resource_right"), ["added", "removed"]);
    assert!(
        rows.iter()
            .any(|r| r.entity == "resource_right" && r.actor.starts_with("userId:"))
    );
    assert_eq!(of("access_ask"), ["asked"]);
}

async fn portal_forms_give_only_with_the_csrf_token_and_for_access_managers(server: TestServer) {
    let ola_uuid = party_uuid(&server, OLA).await;
    let bernt_uuid = party_uuid(&server, BERNT).await;
    let thing = format!("right:{DEMO_RESOURCE}:read");
    let give = format!("{UI}/access/give");
    let pia = logged_in(&server, PIA).await;
    let access = page(&pia, &server, &format!("{UI}/access")).await;
    assert_eq!(access.status, 200, "{}", access.body);
    assert!(access.has("Ola Nordmann"), "{}", access.body);
    let csrf = access.csrf();

    // No token, a wrong token, another origin: refused, nothing given.
    let refused = form(
        &pia,
        &server,
        &give,
        &[("to", &ola_uuid), ("thing", &thing)],
    )
    .await;
    assert_eq!(refused.status, 403);
    let wrong = [
        ("csrf", "nope"),
        ("to", ola_uuid.as_str()),
        ("thing", thing.as_str()),
    ];
    assert_eq!(form(&pia, &server, &give, &wrong).await.status, 403);
    let foreign = pia
        .post(server.at(&give))
        .header("origin", "https://evil.example")
        .form(&[
            ("csrf", csrf.as_str()),
            ("to", ola_uuid.as_str()),
            ("thing", thing.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status().as_u16(), 403);
    let rights = format!("{API}/connections/resources/rights");
    let pia_token = token(&server, PIA).await;
    let (_, list) = send(
        &server,
        Method::GET,
        &pia_token,
        &rights,
        &[("party", ROR_OG_VANN)],
        None,
    )
    .await;
    assert_eq!(list, json!([]));

    // With the token: given, and back on the page with the notice.
    let given = form(
        &pia,
        &server,
        &give,
        &[("csrf", &csrf), ("to", &ola_uuid), ("thing", &thing)],
    )
    .await;
    assert_eq!(given.status, 303, "{}", given.body);
    assert!(
        given.location().ends_with("/access?notice=given"),
        "{}",
        given.location()
    );
    let (_, list) = send(
        &server,
        Method::GET,
        &pia_token,
        &rights,
        &[("party", ROR_OG_VANN)],
        None,
    )
    .await;
    assert_eq!(list[0]["to"], ola_uuid.as_str());

    // Ola is no access manager: his form is refused with the reason, nothing given.
    let ola = logged_in(&server, OLA).await;
    let his = page(&ola, &server, &format!("{UI}/access")).await;
    assert_eq!(his.status, 200, "{}", his.body);
    let tried = form(
        &ola,
        &server,
        &give,
        &[
            ("csrf", &his.csrf()),
            ("to", &bernt_uuid),
            ("thing", &thing),
        ],
    )
    .await;
    assert_eq!(tried.status, 303);
    assert!(
        tried.location().contains("error=access.error.forbidden"),
        "{}",
        tried.location()
    );
    assert_eq!(pdp(&server, BERNT).await, "NotApplicable");
}
