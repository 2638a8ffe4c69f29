//! The mission's first journey over HTTP with real tokens, on SQLite and PostgreSQL:
//! a vendor registers a system, asks a customer for a system user, the customer's
//! access manager approves after an escalation, the vendor's client gets a Maskinporten
//! token for the system user, the PDP answers for it, and deleting it stops both.
#![allow(clippy::unwrap_used)]

mod common;

use common::{PORTAL, VENDOR_SCOPES, call, claims_of, decision, json_of, register_client};
use reqwest::{Method, StatusCode};
use serde_json::json;
use systembruker_http::demo::{
    BAKERIET, DEMO_RESOURCE, OLA, PIA, ROR_OG_VANN, SKATTEETATEN, SMARTCLOUD,
};
use systembruker_http::testing::TestServer;

systembruker_http::server_tests!(first_journey);

const SYSTEM: &str = "991825827_smartcloud";
/// Rør og Vann AS's party id in the demo data.
const ROR_OG_VANN_PARTY: i64 = 70_000_003;

async fn first_journey(server: TestServer) {
    let client = register_client(&server).await;
    let vendor = server
        .enterprise_token(SMARTCLOUD, VENDOR_SCOPES)
        .await
        .unwrap();

    // 1. SmartCloud registers its system, bound to its client.
    let system = json!({
        "id": SYSTEM,
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{SMARTCLOUD}")},
        "name": {"nb": "SmartCloud", "nn": "SmartCloud", "en": "SmartCloud"},
        "description": {"nb": "Regnskap", "nn": "Rekneskap", "en": "Accounting"},
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": DEMO_RESOURCE}]}],
        "accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}],
        "clientId": [client.client_id],
        "allowedRedirectUrls": ["https://smartcloud.example/receipt"],
        "isVisible": true
    });
    let response = call(&server, Method::POST, "systemregister/vendor", &vendor)
        .json(&system)
        .send()
        .await
        .unwrap();
    let internal_id = json_of(response, StatusCode::OK).await;
    assert!(uuid::Uuid::parse_str(internal_id.as_str().unwrap()).is_ok());

    // 2. SmartCloud asks Rør og Vann AS for a system user with the right.
    let request_body = json!({
        "systemId": SYSTEM, "partyOrgNo": ROR_OG_VANN,
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": DEMO_RESOURCE}]}],
        "redirectUrl": "https://smartcloud.example/receipt?order=17"
    });
    let response = call(&server, Method::POST, "systemuser/request/vendor", &vendor)
        .json(&request_body)
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let request = json_of(response, StatusCode::CREATED).await;
    let id = request["id"].as_str().unwrap().to_string();
    assert_eq!(request["status"], "New");
    assert_eq!(request["externalRef"], ROR_OG_VANN);
    assert_eq!(
        request["confirmUrl"],
        format!(
            "{}/accessmanagement/ui/systemuser/request?id={id}&DONTCHOOSEREPORTEE=true",
            server.url
        )
    );
    assert!(location.ends_with(&format!("/authentication/api/v1/systemuser/request/{id}")));
    // Before approval there is no system user, so no token.
    let (status, refused) = client.token(&server, ROR_OG_VANN).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["error_description"]
            .as_str()
            .unwrap()
            .starts_with("MP-303")
    );

    // 3. Ola has a relation to Rør og Vann but is no access manager: he may only escalate.
    let ola = server.personal_token(OLA, PORTAL).await.unwrap();
    let view = json_of(
        call(
            &server,
            Method::GET,
            &format!("systemuser/request/{id}"),
            &ola,
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(view["userMayEscalateButNotApprove"], true);
    assert_eq!(view["partyId"], ROR_OG_VANN_PARTY);
    let approve = format!("systemuser/request/{ROR_OG_VANN_PARTY}/{id}/approve");
    let refused = json_of(
        call(&server, Method::POST, &approve, &ola)
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(refused["code"], "AUTH-00066");
    let pia = server.personal_token(PIA, PORTAL).await.unwrap();
    let pending_path = format!("systemuser/request/{ROR_OG_VANN_PARTY}/{ROR_OG_VANN}/pending");
    let pending = json_of(
        call(&server, Method::GET, &pending_path, &pia)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(pending, json!([]), "nothing is escalated yet");
    let escalate = format!("systemuser/request/{ROR_OG_VANN_PARTY}/{id}/escalate");
    let escalated = json_of(
        call(&server, Method::POST, &escalate, &ola)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(escalated, true);
    let pending = json_of(
        call(&server, Method::GET, &pending_path, &pia)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(pending[0]["id"], id.as_str());
    assert_eq!(pending[0]["escalated"], true);

    // 4. Pia (daglig leder, so tilgangsstyrer) approves; the request is Accepted.
    let approved = json_of(
        call(&server, Method::POST, &approve, &pia)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved, true);
    let status = json_of(
        call(
            &server,
            Method::GET,
            &format!("systemuser/request/vendor/{id}"),
            &vendor,
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(status["status"], "Accepted");
    assert_eq!(
        status["redirectUrl"],
        "https://smartcloud.example/receipt?order=17"
    );
    let users = json_of(
        call(
            &server,
            Method::GET,
            &format!("systemuser/{ROR_OG_VANN_PARTY}"),
            &pia,
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(users.as_array().unwrap().len(), 1);
    assert_eq!(
        users[0]["id"],
        id.as_str(),
        "the system user takes the request's id"
    );
    let detail = json_of(
        call(
            &server,
            Method::GET,
            &format!("systemuser/{ROR_OG_VANN_PARTY}/{id}"),
            &pia,
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["rights"][0]["resource"][0]["value"], DEMO_RESOURCE);

    // 5. SmartCloud's client gets a system-user token for Rør og Vann AS.
    let (status, token) = client.token(&server, ROR_OG_VANN).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let claims = claims_of(token["access_token"].as_str().unwrap());
    let details = &claims["authorization_details"][0];
    assert_eq!(details["type"], "urn:altinn:systemuser");
    assert_eq!(details["systemuser_id"][0], id.as_str());
    assert_eq!(details["system_id"], SYSTEM);
    assert_eq!(
        details["systemuser_org"]["ID"],
        format!("0192:{ROR_OG_VANN}")
    );

    // 6. Skatteetaten asks the PDP about the system user.
    let skatteetaten = server
        .enterprise_token(SKATTEETATEN, "altinn:authorization/authorize")
        .await
        .unwrap();
    assert_eq!(
        decision(&server, &skatteetaten, &id, ROR_OG_VANN).await,
        "Permit"
    );
    assert_ne!(
        decision(&server, &skatteetaten, &id, BAKERIET).await,
        "Permit"
    );

    // 7. Pia deletes the system user: no token, no Permit, and the key is free again.
    let delete = call(
        &server,
        Method::DELETE,
        &format!("systemuser/{ROR_OG_VANN_PARTY}/{id}"),
        &pia,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(json_of(delete, StatusCode::ACCEPTED).await, 1);
    let (status, refused) = client.token(&server, ROR_OG_VANN).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"], "invalid_altinn_customer_configuration");
    assert!(
        refused["error_description"]
            .as_str()
            .unwrap()
            .starts_with("MP-303")
    );
    assert_ne!(
        decision(&server, &skatteetaten, &id, ROR_OG_VANN).await,
        "Permit"
    );
    let response = call(&server, Method::POST, "systemuser/request/vendor", &vendor)
        .json(&request_body)
        .send()
        .await
        .unwrap();
    let again = json_of(response, StatusCode::CREATED).await;
    assert_eq!(again["status"], "New");
    assert_ne!(again["id"], id.as_str());
}
