//! Reading a party's system access is decided by the PDP on the platform's system
//! resources (`altinn_access_management`, `altinn_system_user_overview`,
//! `altinn_client_administration`), as writing is: Ola, who holds one package for
//! Rør og Vann AS, reads none of it; Pia, its daglig leder, reads all of it; Tina, daglig
//! leder of the accounting firm, reads her firm's clients. On both backends.
#![allow(clippy::unwrap_used)]

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use systembruker_http::demo::{
    DEMO_RESOURCE, OLA, PIA, ROR_OG_VANN, SMARTCLOUD, TALLMAKERNE, TINA,
};
use systembruker_http::system_resources::{
    ACCESS_MANAGEMENT, CLIENT_ADMINISTRATION, SYSTEM_USER_OVERVIEW,
};
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};
use systembruker_storage::ResourceStore;

systembruker_http::server_tests!(
    ola_is_refused_every_read_and_pia_may_read,
    tina_reads_her_firms_clients,
    the_pdp_decides_on_the_system_resources,
    system_resources_are_only_changed_by_operators,
);

const VENDOR_SCOPES: &str = "altinn:authentication/systemregister.write altinn:authentication/systemuser.request.write altinn:authentication/systemuser.request.read";
const PORTAL: &str = "altinn:portal/enduser";
const SYSTEM: &str = "991825827_readaccess";
const ROR: i64 = 70_000_003;
const TALLMAKERNE_PARTY: i64 = 70_000_004;

async fn send(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Option<String>, Value) {
    let url = if path.starts_with('/') {
        server.at(path)
    } else {
        server.at(&format!("/authentication/api/v1/{path}"))
    };
    let mut request = Client::new().request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string());
    (
        status,
        content_type,
        response.json().await.unwrap_or(Value::Null),
    )
}

fn right() -> Value {
    json!({"resource": [{"id": "urn:altinn:resource", "value": DEMO_RESOURCE}]})
}

/// A standard system user of Rør og Vann (approved by Pia), a pending request and a
/// pending change request: (system user, request, change request).
async fn setup(server: &TestServer) -> (String, String, String) {
    let vendor = server
        .enterprise_token(SMARTCLOUD, VENDOR_SCOPES)
        .await
        .unwrap();
    let system = json!({
        "id": SYSTEM,
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{SMARTCLOUD}")},
        "name": {"nb": "Les", "nn": "Les", "en": "Read"},
        "description": {"nb": "a", "nn": "b", "en": "c"},
        "rights": [right()],
        "accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}],
        "clientId": [uuid::Uuid::new_v4().to_string()],
        "allowedRedirectUrls": ["https://tester.example/done"],
        "isVisible": false
    });
    let (status, _, body) = send(
        server,
        &vendor,
        Method::POST,
        "systemregister/vendor",
        Some(system),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut ids = Vec::new();
    for reference in ["approved", "pending"] {
        let (status, _, body) = send(
            server,
            &vendor,
            Method::POST,
            "systemuser/request/vendor",
            Some(json!({"systemId": SYSTEM, "partyOrgNo": ROR_OG_VANN,
                "externalRef": reference, "rights": [right()]})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(body["id"].as_str().unwrap().to_string());
    }
    let pia = server.personal_token(PIA, PORTAL).await.unwrap();
    let (status, _, body) = send(
        server,
        &pia,
        Method::POST,
        &format!("systemuser/request/{ROR}/{}/approve", ids[0]),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let change = uuid::Uuid::new_v4().to_string();
    let (status, _, body) = send(
        server,
        &vendor,
        Method::POST,
        &format!(
            "systemuser/changerequest/vendor?correlation-id={change}&system-user-id={}",
            ids[0]
        ),
        Some(
            json!({"requiredAccessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}]}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (ids[0].clone(), ids[1].clone(), change)
}

async fn ola_is_refused_every_read_and_pia_may_read(server: TestServer) {
    let (user, request, change) = setup(&server).await;
    let reads = [
        format!("systemuser/{ROR}"),
        format!("systemuser/agent/{ROR}"),
        format!("systemuser/{ROR}/{user}"),
        format!("systemuser/{ROR}/{user}/delegations"),
        format!("systemuser/request/{ROR}/{request}"),
        format!("systemuser/changerequest/{ROR}/{change}"),
        format!("systemuser/changerequest/{change}"),
        format!("systemuser/agent/{ROR}/clients"),
        format!("/accessmanagement/api/v1/enduser/connections/accesspackages?party={ROR_OG_VANN}"),
    ];
    let ola = server.personal_token(OLA, PORTAL).await.unwrap();
    let pia = server.personal_token(PIA, PORTAL).await.unwrap();
    for path in &reads {
        let (status, content_type, body) = send(&server, &ola, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "Ola {path}: {body}");
        assert_eq!(
            content_type.as_deref(),
            Some("application/problem+json"),
            "Ola {path}"
        );
        assert_eq!(body["status"], 403, "Ola {path}: {body}");
        assert!(body["code"].is_string(), "Ola {path}: {body}");
        let (status, _, body) = send(&server, &pia, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "Pia {path}: {body}");
    }
    // The request's own page stays open to Ola: he may pass it on (escalate).
    let (status, _, body) = send(
        &server,
        &ola,
        Method::GET,
        &format!("systemuser/request/{request}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["userMayEscalateButNotApprove"], true);
}

async fn tina_reads_her_firms_clients(server: TestServer) {
    let tina = server.personal_token(TINA, PORTAL).await.unwrap();
    let (status, _, body) = send(
        &server,
        &tina,
        Method::GET,
        &format!("systemuser/agent/{TALLMAKERNE_PARTY}/clients"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let clients: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["clientOrganizationNumber"].as_str().unwrap_or_default())
        .collect();
    assert!(clients.contains(&ROR_OG_VANN), "{body}");
    let (status, _, body) = send(
        &server,
        &tina,
        Method::GET,
        &format!("systemuser/agent/{TALLMAKERNE_PARTY}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Ola has nothing to do with the firm.
    let ola = server.personal_token(OLA, PORTAL).await.unwrap();
    let (status, _, _) = send(
        &server,
        &ola,
        Method::GET,
        &format!("systemuser/agent/{TALLMAKERNE_PARTY}/clients"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn decision(
    server: &TestServer,
    token: &str,
    person: &str,
    resource: &str,
    party_org: &str,
) -> String {
    let body = json!({"Request": {
        "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:person:identifier-no", "Value": person}]}],
        "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
        "Resource": [{"Attribute": [
            {"AttributeId": "urn:altinn:resource", "Value": resource},
            {"AttributeId": "urn:altinn:organization:identifier-no", "Value": party_org}]}]
    }});
    let (status, _, json) = send(
        server,
        token,
        Method::POST,
        "/authorization/api/v1/authorize",
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    json["Response"][0]["Decision"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn the_pdp_decides_on_the_system_resources(server: TestServer) {
    let token = server.admin_token().await.unwrap();
    for (person, resource, party, expected) in [
        (PIA, ACCESS_MANAGEMENT, ROR_OG_VANN, "Permit"),
        (PIA, SYSTEM_USER_OVERVIEW, ROR_OG_VANN, "Permit"),
        (PIA, CLIENT_ADMINISTRATION, ROR_OG_VANN, "Permit"),
        (OLA, ACCESS_MANAGEMENT, ROR_OG_VANN, "NotApplicable"),
        (OLA, SYSTEM_USER_OVERVIEW, ROR_OG_VANN, "NotApplicable"),
        (OLA, CLIENT_ADMINISTRATION, ROR_OG_VANN, "NotApplicable"),
        (TINA, CLIENT_ADMINISTRATION, TALLMAKERNE, "Permit"),
        (TINA, ACCESS_MANAGEMENT, ROR_OG_VANN, "NotApplicable"),
    ] {
        assert_eq!(
            decision(&server, &token, person, resource, party).await,
            expected,
            "{person} {resource} {party}"
        );
    }
}

async fn system_resources_are_only_changed_by_operators(server: TestServer) {
    for id in [
        ACCESS_MANAGEMENT,
        SYSTEM_USER_OVERVIEW,
        CLIENT_ADMINISTRATION,
    ] {
        let stored = server.store.resource(id).await.unwrap().unwrap();
        assert!(!stored.resource.delegable, "{id}");
        assert!(server.store.policy(id).await.unwrap().is_some(), "{id}");
    }
    // Even the organisation named as competent authority may not replace the policy
    // that decides who manages everyone's access.
    let owner = server
        .enterprise_token("991825827", "altinn:resourceregistry/resource.write")
        .await
        .unwrap();
    let (status, _, body) = send(
        &server,
        &owner,
        Method::DELETE,
        &format!("/resourceregistry/api/v1/resource/{ACCESS_MANAGEMENT}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        server
            .store
            .resource(ACCESS_MANAGEMENT)
            .await
            .unwrap()
            .is_some()
    );
    let _ = ADMIN_TOKEN;
}
