//! The mission's first journey over HTTP with real tokens, on SQLite and PostgreSQL:
//! a vendor registers a system, asks a customer for a system user, the customer's
//! access manager approves after an escalation, the vendor's client gets a Maskinporten
//! token for the system user, the PDP answers for it, and deleting it stops both.
#![allow(clippy::unwrap_used)]

use base64::Engine;
use josekit::jws::{JwsHeader, RS256};
use josekit::jwt::{self, JwtPayload};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use systembruker_http::demo::{
    BAKERIET, DEMO_RESOURCE, OLA, PIA, ROR_OG_VANN, SKATTEETATEN, SMARTCLOUD,
};
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};

systembruker_http::server_tests!(first_journey);

const SYSTEM: &str = "991825827_smartcloud";
const DEMO_SCOPE: &str = "skatteetaten:kravogbetalinger";
const VENDOR_SCOPES: &str = "altinn:authentication/systemregister.write altinn:authentication/systemuser.request.write altinn:authentication/systemuser.request.read";
const PORTAL: &str = "altinn:portal/enduser";
/// Rør og Vann AS's party id in the demo data.
const ROR_OG_VANN_PARTY: i64 = 70_000_003;

fn call(server: &TestServer, method: Method, path: &str, token: &str) -> RequestBuilder {
    Client::new()
        .request(method, server.at(&format!("/authentication/api/v1/{path}")))
        .bearer_auth(token)
}

async fn json_of(response: reqwest::Response, status: StatusCode) -> Value {
    let actual = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(actual, status, "{body}");
    body
}

/// SmartCloud's Maskinporten client, with a key pair made by josekit.
struct VendorClient {
    client_id: String,
    kid: String,
    signer: josekit::jws::alg::rsassa::RsassaJwsSigner,
    issuer: String,
}

async fn register_client(server: &TestServer) -> VendorClient {
    let pair = RS256.generate_key_pair(2048).unwrap();
    let kid = format!("smartcloud-{}", uuid::Uuid::new_v4());
    let mut public = pair.to_jwk_public_key();
    public.set_key_id(&kid);
    let response = Client::new()
        .post(server.at("/admin/api/v1/maskinporten/clients"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({
            "client_name": "SmartCloud",
            "consumer_org": SMARTCLOUD,
            "scopes": [DEMO_SCOPE],
            "jwks": {"keys": [serde_json::to_value(public.as_ref()).unwrap()]},
        }))
        .send()
        .await
        .unwrap();
    let client = json_of(response, StatusCode::CREATED).await;
    VendorClient {
        client_id: client["client_id"].as_str().unwrap().to_string(),
        kid,
        signer: RS256.signer_from_der(pair.to_der_private_key()).unwrap(),
        issuer: format!("{}/maskinporten/", server.url),
    }
}

impl VendorClient {
    /// A JWT-bearer grant for a system-user token for `owner`.
    fn assertion(&self, owner: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "aud": self.issuer, "iss": self.client_id, "scope": DEMO_SCOPE,
            "iat": now, "exp": now + 60, "jti": uuid::Uuid::new_v4().to_string(),
            "authorization_details": [{
                "type": "urn:altinn:systemuser",
                "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{owner}")}
            }]
        });
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        header.set_key_id(&self.kid);
        let payload = JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
        jwt::encode_with_signer(&payload, &header, &self.signer).unwrap()
    }

    async fn token(&self, server: &TestServer, owner: &str) -> (StatusCode, Value) {
        let response = Client::new()
            .post(server.at("/maskinporten/token"))
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", &self.assertion(owner)),
            ])
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }
}

/// The claims of a JWT (already verified by the server that issued it).
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn decision(server: &TestServer, token: &str, system_user: &str, party_org: &str) -> String {
    let body = json!({"Request": {
        "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:systemuser:uuid", "Value": system_user}]}],
        "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
        "Resource": [{"Attribute": [
            {"AttributeId": "urn:altinn:resource", "Value": DEMO_RESOURCE},
            {"AttributeId": "urn:altinn:organization:identifier-no", "Value": party_org}]}]
    }});
    let response = Client::new()
        .post(server.at("/authorization/api/v1/authorize"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let json = json_of(response, StatusCode::OK).await;
    json["Response"][0]["Decision"]
        .as_str()
        .unwrap()
        .to_string()
}

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
