//! Helpers the HTTP journeys share: API calls, a vendor's Maskinporten client with a
//! key pair made by josekit (an independent JOSE implementation), and PDP decisions.
#![allow(clippy::unwrap_used, dead_code)]

pub mod portal;

use base64::Engine;
use josekit::jws::{JwsHeader, RS256};
use josekit::jwt::{self, JwtPayload};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use systembruker_domain::OrgNumber;
use systembruker_http::demo::{DEMO_RESOURCE, SMARTCLOUD};
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};
use systembruker_storage::RegisterStore;

pub const DEMO_SCOPE: &str = "skatteetaten:kravogbetalinger";
pub const VENDOR_SCOPES: &str = "altinn:authentication/systemregister.write altinn:authentication/systemuser.request.write altinn:authentication/systemuser.request.read";
pub const PORTAL: &str = "altinn:portal/enduser";

/// POSTs `body` to the authentication API as `token`; the answer must be a success.
pub async fn api_post(server: &TestServer, token: &str, path: &str, body: Value) -> Value {
    let response = call(server, Method::POST, path, token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

/// The register's uuid of the organisation `org`.
pub async fn uuid_of(server: &TestServer, org: &str) -> uuid::Uuid {
    server
        .store
        .organization(&OrgNumber::parse(org).unwrap())
        .await
        .unwrap()
        .unwrap()
        .uuid
}

pub fn call(server: &TestServer, method: Method, path: &str, token: &str) -> RequestBuilder {
    Client::new()
        .request(method, server.at(&format!("/authentication/api/v1/{path}")))
        .bearer_auth(token)
}

pub async fn json_of(response: reqwest::Response, status: StatusCode) -> Value {
    let actual = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(actual, status, "{body}");
    body
}

/// SmartCloud's Maskinporten client, with a key pair made by josekit.
pub struct VendorClient {
    pub client_id: String,
    kid: String,
    signer: josekit::jws::alg::rsassa::RsassaJwsSigner,
    issuer: String,
}

pub async fn register_client(server: &TestServer) -> VendorClient {
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
    pub fn assertion(&self, owner: &str) -> String {
        self.assertion_with_scope(owner, DEMO_SCOPE)
    }

    /// A JWT-bearer grant for a system-user token for `owner` asking for `scope`.
    pub fn assertion_with_scope(&self, owner: &str, scope: &str) -> String {
        let mut claims = self.claims(&self.client_id);
        claims["scope"] = json!(scope);
        claims["authorization_details"] = json!([{
            "type": "urn:altinn:systemuser",
            "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{owner}")}
        }]);
        self.sign(&claims)
    }

    /// A grant for a plain scope token (no system user).
    pub fn plain_assertion(&self) -> String {
        self.plain_assertion_as(&self.client_id)
    }

    /// A plain grant signed with this client's key that names `client_id` as its issuer.
    pub fn plain_assertion_as(&self, client_id: &str) -> String {
        self.sign(&self.claims(client_id))
    }

    fn claims(&self, issuer: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "aud": self.issuer, "iss": issuer, "scope": DEMO_SCOPE,
            "iat": now, "exp": now + 60, "jti": uuid::Uuid::new_v4().to_string(),
        })
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        header.set_key_id(&self.kid);
        let payload = JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
        jwt::encode_with_signer(&payload, &header, &self.signer).unwrap()
    }

    pub async fn token(&self, server: &TestServer, owner: &str) -> (StatusCode, Value) {
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
pub fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

pub async fn decision(
    server: &TestServer,
    token: &str,
    system_user: &str,
    party_org: &str,
) -> String {
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

/// A browser for the portal: keeps cookies, does not follow redirects (the tests do).
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The CSRF token in a portal page's forms.
pub fn csrf_in(body: &str) -> String {
    let pattern = regex::Regex::new(r#"name="csrf" value="([0-9a-f]{64})""#).unwrap();
    pattern
        .captures(body)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| panic!("no CSRF token in:\n{body}"))
}

/// A caller of the authentication API with one token; `path` is relative to
/// `/authentication/api/v1/` unless it starts with `/`.
pub struct Api<'a> {
    pub server: &'a TestServer,
    pub token: String,
}

impl Api<'_> {
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = if path.starts_with('/') {
            self.server.at(path)
        } else {
            self.server.at(&format!("/authentication/api/v1/{path}"))
        };
        let mut request = Client::new().request(method, url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(body)).await
    }
}

/// SmartCloud-like vendor token for `org` with the register and request scopes.
pub async fn vendor<'a>(server: &'a TestServer, org: &str) -> Api<'a> {
    Api {
        server,
        token: server.enterprise_token(org, VENDOR_SCOPES).await.unwrap(),
    }
}

/// An end user's portal token.
pub async fn person<'a>(server: &'a TestServer, pid: &str) -> Api<'a> {
    Api {
        server,
        token: server.personal_token(pid, PORTAL).await.unwrap(),
    }
}

/// One right on a resource, as requests carry it.
pub fn right(resource: &str) -> Value {
    json!({"resource": [{"id": "urn:altinn:resource", "value": resource}]})
}
