//! The Maskinporten-compatible token service over HTTP, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

use josekit::jwk::Jwk;
use josekit::jws::{ES256, HS256, JwsHeader, RS256};
use josekit::jwt::{self, JwtPayload};
use serde_json::{Value, json};
use systembruker_http::demo::{SKATTEETATEN, SMARTCLOUD};
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};
use systembruker_token::MintRequest;
use systembruker_token::ports::{ClientKey, ClientRegistry};

systembruker_http::server_tests!(
    independent_jose_round_trip,
    accepted_audience_variants,
    every_rejection_has_its_code,
    replayed_jti_is_refused,
    expired_client_key_is_refused,
    form_errors_are_oauth_errors,
    metadata_and_jwks,
    client_admin_round_trip,
    resource_scope_is_registered_for_owner,
    every_protected_route_refuses_bad_tokens,
    rotated_keys_keep_old_tokens_valid,
    a_remembered_token_still_expires,
    tokens_for_other_resource_servers_are_refused,
    resources_may_name_only_their_owners_scopes,
);

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const DEMO_SCOPE: &str = "skatteetaten:kravogbetalinger";
const NO_ACCESS_SCOPE: &str = "skatteetaten:noaccess";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A vendor with a client whose key was made by josekit (not the server's JOSE library).
struct Vendor {
    client_id: String,
    kid: String,
    key_pair: josekit::jws::alg::rsassa::RsassaJwsSigner,
    issuer: String,
}

async fn admin_post(server: &TestServer, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.at(path))
        .bearer_auth(ADMIN_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Registers a scope SmartCloud has no access to, then a client of SmartCloud with it.
async fn vendor(server: &TestServer) -> Vendor {
    let response = admin_post(
        server,
        "/admin/api/v1/maskinporten/scopes",
        json!({"name": NO_ACCESS_SCOPE, "owner_org": SKATTEETATEN}),
    )
    .await;
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    let key_pair = RS256.generate_key_pair(2048).unwrap();
    let kid = format!("vendor-{}", uuid::Uuid::new_v4());
    let mut public = key_pair.to_jwk_public_key();
    public.set_key_id(&kid);
    let response = admin_post(
        server,
        "/admin/api/v1/maskinporten/clients",
        json!({
            "client_name": "SmartCloud",
            "consumer_org": SMARTCLOUD,
            "scopes": [DEMO_SCOPE, NO_ACCESS_SCOPE, "altinn:authentication/systemregister.write"],
            "jwks": {"keys": [serde_json::to_value(public.as_ref()).unwrap()]},
        }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let client: Value = response.json().await.unwrap();
    Vendor {
        client_id: client["client_id"].as_str().unwrap().to_string(),
        kid,
        key_pair: RS256
            .signer_from_der(key_pair.to_der_private_key())
            .unwrap(),
        issuer: format!("{}/maskinporten/", server.url),
    }
}

impl Vendor {
    fn claims(&self) -> serde_json::Map<String, Value> {
        let now = now();
        json!({
            "aud": self.issuer, "iss": self.client_id, "scope": DEMO_SCOPE,
            "iat": now, "exp": now + 60, "jti": uuid::Uuid::new_v4().to_string(),
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn header(&self) -> JwsHeader {
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        header.set_key_id(&self.kid);
        header
    }

    fn sign(&self, claims: serde_json::Map<String, Value>) -> String {
        jwt::encode_with_signer(
            &JwtPayload::from_map(claims).unwrap(),
            &self.header(),
            &self.key_pair,
        )
        .unwrap()
    }

    fn assertion_with(&self, change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
        let mut claims = self.claims();
        change(&mut claims);
        self.sign(claims)
    }
}

async fn request_token(server: &TestServer, assertion: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(server.at("/maskinporten/token"))
        .form(&[("grant_type", JWT_BEARER), ("assertion", assertion)])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn assert_refused(case: &str, (status, body): &(u16, Value), error: &str, code: &str) {
    assert_eq!(*status, 400, "{case}: {body}");
    assert_eq!(body["error"], error, "{case}: {body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("{code}:")),
        "{case}: {body}"
    );
}

async fn jwks_verifiers(
    server: &TestServer,
) -> Vec<(String, josekit::jws::alg::rsassa::RsassaJwsVerifier)> {
    let jwks: Value = reqwest::get(server.at("/maskinporten/jwk"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| {
            let jwk = Jwk::from_bytes(serde_json::to_vec(key).unwrap()).unwrap();
            (
                jwk.key_id().unwrap().to_string(),
                RS256.verifier_from_jwk(&jwk).unwrap(),
            )
        })
        .collect()
}

async fn verify_with_jwks(server: &TestServer, token: &str) -> (JwtPayload, JwsHeader) {
    let verifiers = jwks_verifiers(server).await;
    jwt::decode_with_verifier_selector(token, |header| {
        Ok(verifiers
            .iter()
            .find(|(kid, _)| Some(kid.as_str()) == header.key_id())
            .map(|(_, v)| v as &dyn josekit::jws::JwsVerifier))
    })
    .unwrap()
}

async fn independent_jose_round_trip(server: TestServer) {
    let vendor = vendor(&server).await;
    let (status, body) = request_token(&server, &vendor.sign(vendor.claims())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 120);
    assert_eq!(body["scope"], DEMO_SCOPE);
    let token = body["access_token"].as_str().unwrap();
    let (payload, header) = verify_with_jwks(&server, token).await;
    assert_eq!(header.algorithm(), Some("RS256"));
    assert!(header.key_id().is_some());
    let claims = payload.claims_set();
    assert_eq!(claims["iss"], vendor.issuer);
    assert_eq!(claims["client_amr"], "private_key_jwt");
    assert_eq!(claims["token_type"], "Bearer");
    assert_eq!(claims["client_id"], vendor.client_id);
    assert_eq!(claims["scope"], DEMO_SCOPE);
    assert_eq!(
        claims["consumer"],
        json!({"authority": "iso6523-actorid-upis", "ID": format!("0192:{SMARTCLOUD}")})
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    assert_eq!(claims["jti"].as_str().unwrap().len(), 43);
    // The token opens the platform's APIs.
    let response = reqwest::Client::new()
        .get(server.at(&format!("/register/api/v1/organizations/{SMARTCLOUD}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

async fn accepted_audience_variants(server: TestServer) {
    let vendor = vendor(&server).await;
    let base = vendor.issuer.trim_end_matches('/').to_string();
    for aud in [
        json!(base.clone()),
        json!(format!("{base}/token")),
        json!([format!("{base}/")]),
    ] {
        let assertion = vendor.assertion_with(|c| {
            c.insert("aud".into(), aud.clone());
            // Altinn's examples send sub = client_id.
            c.insert("sub".into(), json!(vendor.client_id));
        });
        let (status, body) = request_token(&server, &assertion).await;
        assert_eq!(status, 200, "aud {aud}: {body}");
    }
}

/// An unsigned JWT with the given header and the vendor's claims.
fn unsigned(header: Value, claims: &serde_json::Map<String, Value>) -> String {
    use base64::Engine;
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    format!("{}.{}.", b64(&header), b64(&Value::Object(claims.clone())))
}

async fn every_rejection_has_its_code(server: TestServer) {
    let vendor = vendor(&server).await;
    let now = now();
    let details = |entry: Value| {
        move |c: &mut serde_json::Map<String, Value>| {
            c.insert("authorization_details".into(), entry.clone());
        }
    };
    let org = json!({"authority": "iso6523-actorid-upis", "ID": format!("0192:{SMARTCLOUD}")});
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("alg none", unsigned(json!({"alg": "none", "kid": vendor.kid}), &vendor.claims()), "invalid_grant", "MP-124"),
        ("HS256 with the public key as secret", {
            let signer = HS256.signer_from_bytes(vendor.kid.as_bytes()).unwrap();
            jwt::encode_with_signer(&JwtPayload::from_map(vendor.claims()).unwrap(), &vendor.header(), &signer).unwrap()
        }, "invalid_grant", "MP-124"),
        ("ES256 with the RSA key's kid", {
            let pair = ES256.generate_key_pair().unwrap();
            let signer = ES256.signer_from_der(pair.to_der_private_key()).unwrap();
            jwt::encode_with_signer(&JwtPayload::from_map(vendor.claims()).unwrap(), &vendor.header(), &signer).unwrap()
        }, "invalid_grant", "MP-124"),
        ("signed by another key under the client's kid", {
            let other = RS256.generate_key_pair(2048).unwrap();
            let signer = RS256.signer_from_der(other.to_der_private_key()).unwrap();
            jwt::encode_with_signer(&JwtPayload::from_map(vendor.claims()).unwrap(), &vendor.header(), &signer).unwrap()
        }, "invalid_grant", "MP-124"),
        ("unknown kid", {
            let mut header = vendor.header();
            header.set_key_id("nobody-has-this-kid");
            jwt::encode_with_signer(&JwtPayload::from_map(vendor.claims()).unwrap(), &header, &vendor.key_pair).unwrap()
        }, "invalid_grant", "MP-100"),
        ("no kid", {
            let mut header = JwsHeader::new();
            header.set_token_type("JWT");
            jwt::encode_with_signer(&JwtPayload::from_map(vendor.claims()).unwrap(), &header, &vendor.key_pair).unwrap()
        }, "invalid_request", "MP-011"),
        ("iss is another client", vendor.assertion_with(|c| { c.insert("iss".into(), json!(uuid::Uuid::new_v4().to_string())); }), "invalid_grant", "MP-100"),
        ("aud of another issuer", vendor.assertion_with(|c| { c.insert("aud".into(), json!("https://maskinporten.no/")); }), "invalid_grant", "MP-110"),
        ("iat in the future", vendor.assertion_with(|c| { c.insert("iat".into(), json!(now + 60)); c.insert("exp".into(), json!(now + 100)); }), "invalid_grant", "MP-130"),
        ("iat too old", vendor.assertion_with(|c| { c.insert("iat".into(), json!(now - 60)); c.insert("exp".into(), json!(now + 30)); }), "invalid_grant", "MP-130"),
        ("expired", vendor.assertion_with(|c| { c.insert("iat".into(), json!(now - 5)); c.insert("exp".into(), json!(now - 1)); }), "invalid_grant", "MP-130"),
        ("lifetime above 120 s", vendor.assertion_with(|c| { c.insert("exp".into(), json!(now + 180)); }), "invalid_grant", "MP-130"),
        ("no jti", vendor.assertion_with(|c| { c.remove("jti"); }), "invalid_request", "MP-011"),
        ("no scope", vendor.assertion_with(|c| { c.remove("scope"); }), "invalid_scope", "MP-200"),
        ("empty scope", vendor.assertion_with(|c| { c.insert("scope".into(), json!(" ")); }), "invalid_scope", "MP-200"),
        ("scope not on the client", vendor.assertion_with(|c| { c.insert("scope".into(), json!("altinn:clientdelegations.read")); }), "invalid_scope", "MP-200"),
        ("scope without access", vendor.assertion_with(|c| { c.insert("scope".into(), json!(NO_ACCESS_SCOPE)); }), "invalid_scope", "MP-250"),
        ("unknown claim", vendor.assertion_with(|c| { c.insert("favourite_colour".into(), json!("blue")); }), "invalid_request", "MP-011"),
        ("sub is not the client", vendor.assertion_with(|c| { c.insert("sub".into(), json!("someone")); }), "invalid_request", "MP-011"),
        ("unsupported consumer_org", vendor.assertion_with(|c| { c.insert("consumer_org".into(), json!(SKATTEETATEN)); }), "invalid_request", "MP-011"),
        ("oversized assertion", vendor.assertion_with(|c| { c.insert("jti".into(), json!("x".repeat(17 * 1024))); }), "invalid_request", "MP-011"),
        ("details not an array", vendor.assertion_with(details(json!({"type": "urn:altinn:systemuser", "systemuser_org": org}))), "invalid_authorization_details", "MP-302"),
        ("two details", vendor.assertion_with(details(json!([{"type": "urn:altinn:systemuser", "systemuser_org": org}, {"type": "urn:altinn:systemuser", "systemuser_org": org}]))), "invalid_authorization_details", "MP-302"),
        ("unknown details type", vendor.assertion_with(details(json!([{"type": "urn:altinn:consent", "systemuser_org": org}]))), "invalid_authorization_details", "MP-301"),
        ("unknown details field", vendor.assertion_with(details(json!([{"type": "urn:altinn:systemuser", "systemuser_org": org, "extra": 1}]))), "invalid_authorization_details", "MP-302"),
        ("bad systemuser_org", vendor.assertion_with(details(json!([{"type": "urn:altinn:systemuser", "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:123"}}]))), "invalid_authorization_details", "MP-303"),
        ("foreign authority", vendor.assertion_with(details(json!([{"type": "urn:altinn:systemuser", "systemuser_org": {"authority": "other", "ID": format!("0192:{SMARTCLOUD}")}}]))), "invalid_authorization_details", "MP-303"),
        ("no system user", vendor.assertion_with(details(json!([{"type": "urn:altinn:systemuser", "systemuser_org": {"authority": "iso6523-actorid-upis", "id": format!("0192:{SKATTEETATEN}")}, "externalRef": "ref-1"}]))), "invalid_altinn_customer_configuration", "MP-303"),
    ];
    for (case, assertion, error, code) in cases {
        assert_refused(case, &request_token(&server, &assertion).await, error, code);
    }
}

async fn replayed_jti_is_refused(server: TestServer) {
    let vendor = vendor(&server).await;
    let assertion = vendor.sign(vendor.claims());
    assert_eq!(request_token(&server, &assertion).await.0, 200);
    assert_refused(
        "replay",
        &request_token(&server, &assertion).await,
        "invalid_grant",
        "MP-012",
    );
    // The same jti from a new assertion is a replay too.
    let jti = uuid::Uuid::new_v4().to_string();
    let first = vendor.assertion_with(|c| {
        c.insert("jti".into(), json!(jti));
    });
    let second = vendor.assertion_with(|c| {
        c.insert("jti".into(), json!(jti));
        c.insert(
            "scope".into(),
            json!("altinn:authentication/systemregister.write"),
        );
    });
    assert_eq!(request_token(&server, &first).await.0, 200);
    assert_refused(
        "new assertion, same jti",
        &request_token(&server, &second).await,
        "invalid_grant",
        "MP-012",
    );
}

async fn expired_client_key_is_refused(server: TestServer) {
    let vendor = vendor(&server).await;
    let key = server
        .store
        .client_keys(vendor.client_id.parse().unwrap())
        .await
        .unwrap()
        .remove(0);
    let expired_kid = format!("{}-old", vendor.kid);
    let millis = chrono::Utc::now().timestamp_millis();
    server
        .store
        .add_client_keys(&[ClientKey {
            kid: expired_kid.clone(),
            jwk: systembruker_token::jwk::RsaJwk {
                kid: expired_kid.clone(),
                ..key.jwk.clone()
            },
            created_at: millis - 400 * 24 * 3600 * 1000,
            expires_at: millis - 1000,
            ..key
        }])
        .await
        .unwrap();
    let mut header = vendor.header();
    header.set_key_id(&expired_kid);
    let assertion = jwt::encode_with_signer(
        &JwtPayload::from_map(vendor.claims()).unwrap(),
        &header,
        &vendor.key_pair,
    )
    .unwrap();
    assert_refused(
        "expired key",
        &request_token(&server, &assertion).await,
        "invalid_grant",
        "MP-121",
    );
}

async fn form_errors_are_oauth_errors(server: TestServer) {
    let client = reqwest::Client::new();
    let response = client
        .post(server.at("/maskinporten/token"))
        .form(&[("grant_type", "client_credentials"), ("assertion", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_grant_type");
    let response = client
        .post(server.at("/maskinporten/token"))
        .json(&json!({"grant_type": JWT_BEARER, "assertion": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    let (status, body) = request_token(&server, "not-a-jwt").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // Outcomes are counted by MP code.
    let metrics = server.metrics_text().await.unwrap();
    assert!(metrics.contains("maskinporten_token_requests"), "{metrics}");
    assert!(metrics.contains("outcome=\"MP-011\""), "{metrics}");
}

async fn metadata_and_jwks(server: TestServer) {
    let metadata: Value =
        reqwest::get(server.at("/maskinporten/.well-known/oauth-authorization-server"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let issuer = format!("{}/maskinporten/", server.url);
    assert_eq!(metadata["issuer"], issuer);
    assert_eq!(metadata["token_endpoint"], format!("{issuer}token"));
    assert_eq!(metadata["jwks_uri"], format!("{issuer}jwk"));
    assert_eq!(metadata["grant_types_supported"], json!([JWT_BEARER]));
    assert_eq!(
        metadata["token_endpoint_auth_signing_alg_values_supported"],
        json!(["RS256", "RS384", "RS512"])
    );
    assert_eq!(
        metadata["authorization_details_types_supported"],
        json!(["urn:altinn:systemuser"])
    );
    let jwks: Value = reqwest::get(server.at("/maskinporten/jwk"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["alg"].as_str(),
            key["use"].as_str()
        ),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    assert!(
        key.get("d").is_none(),
        "the private key must never be published"
    );
}

async fn client_admin_round_trip(server: TestServer) {
    let vendor = vendor(&server).await;
    let client = reqwest::Client::new();
    let path = format!("/admin/api/v1/maskinporten/clients/{}", vendor.client_id);
    let got: Value = client
        .get(server.at(&path))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["consumer_org"], SMARTCLOUD);
    assert_eq!(got["keys"][0]["kid"], vendor.kid);
    let expires =
        chrono::DateTime::parse_from_rfc3339(got["keys"][0]["expires"].as_str().unwrap()).unwrap();
    let days = (expires.timestamp() - now()) / 86400;
    assert!((364..=365).contains(&days), "key expiry {days} days");
    // kid is unique across clients.
    let other = admin_post(
        &server,
        "/admin/api/v1/maskinporten/clients",
        json!({
            "client_name": "Other", "consumer_org": SKATTEETATEN, "scopes": [],
            "jwks": {"keys": [got["keys"][0]["jwk"].clone()]},
        }),
    )
    .await;
    assert_eq!(other.status(), 409);
    // A private key is refused; unknown scopes and platform-only scopes too.
    let private = RS256.generate_key_pair(2048).unwrap().to_jwk_private_key();
    let response = admin_post(
        &server,
        &format!("{path}/jwks"),
        json!({"keys": [serde_json::to_value(private.as_ref()).unwrap()]}),
    )
    .await;
    assert_eq!(response.status(), 400);
    for scope in ["nobody:registered", "systembruker:admin"] {
        let response = admin_post(
            &server,
            "/admin/api/v1/maskinporten/clients",
            json!({
            "client_name": "X", "consumer_org": SMARTCLOUD, "scopes": [scope]}),
        )
        .await;
        assert_eq!(response.status(), 400, "{scope}");
    }
    // Update, remove the key, delete.
    let updated: Value = client.put(server.at(&path)).bearer_auth(ADMIN_TOKEN)
        .json(&json!({"client_name": "Renamed", "consumer_org": SMARTCLOUD, "scopes": [DEMO_SCOPE], "access_token_lifetime": 300}))
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (
            updated["client_name"].as_str(),
            updated["access_token_lifetime"].as_u64()
        ),
        (Some("Renamed"), Some(300))
    );
    let (status, body) = request_token(&server, &vendor.sign(vendor.claims())).await;
    assert_eq!((status, body["expires_in"].as_u64()), (200, Some(300)));
    let response = client
        .delete(server.at(&format!("{path}/jwks/{}", vendor.kid)))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_refused(
        "removed key",
        &request_token(&server, &vendor.sign(vendor.claims())).await,
        "invalid_grant",
        "MP-100",
    );
    assert_eq!(
        client
            .delete(server.at(&path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        client
            .get(server.at(&path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

async fn resource_scope_is_registered_for_owner(server: TestServer) {
    let token = server
        .enterprise_token(SKATTEETATEN, "altinn:resourceregistry/resource.write")
        .await
        .unwrap();
    let resource = json!({
        "identifier": "ske-test-scope", "title": {"nb": "T", "nn": "T", "en": "T"},
        "description": {"nb": "D", "nn": "D", "en": "D"},
        "rightDescription": {"nb": "R", "nn": "R", "en": "R"},
        "resourceType": "GenericAccessResource", "delegable": true,
        "resourceReferences": [{"referenceSource": "Default", "reference": "skatteetaten:testscope", "referenceType": "MaskinportenScope"}],
        "hasCompetentAuthority": {"organization": SKATTEETATEN, "orgcode": "skd", "name": {"nb": "S", "nn": "S", "en": "S"}}
    });
    let response = reqwest::Client::new()
        .post(server.at("/resourceregistry/api/v1/resource"))
        .bearer_auth(&token)
        .json(&resource)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let scopes: Value = reqwest::Client::new()
        .get(server.at("/admin/api/v1/maskinporten/scopes"))
        .bearer_auth(server.admin_token().await.unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let find = |name: &str| {
        scopes
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(find("skatteetaten:testscope")["owner_org"], SKATTEETATEN);
    // The demo's scope: owned by Skatteetaten, SmartCloud on its access list.
    assert_eq!(find(DEMO_SCOPE)["access"], json!([SMARTCLOUD]));
}

/// A token signed by a key the platform does not know, with claims that would pass.
fn foreign_token(issuer: &str) -> String {
    let key = systembruker_token::keys::SigningKey::generate(Some("foreign")).unwrap();
    let now = now();
    systembruker_token::jws::sign(
        &key,
        systembruker_token::jws::RsaAlgorithm::RS256,
        None,
        &json!({
            "scope": "systembruker:admin altinn:resourceregistry/resource.write", "iss": issuer,
            "token_type": "Bearer", "exp": now + 600, "iat": now, "jti": "x",
            "consumer": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{SKATTEETATEN}")},
        }),
    )
    .unwrap()
}

/// A path with its parameters filled from the OpenAPI schema (integers, uuids, strings).
fn concrete_path(path: &str, operation: &Value) -> String {
    let mut out = path.to_string();
    for param in operation["parameters"].as_array().into_iter().flatten() {
        let name = param["name"].as_str().unwrap();
        let value = match (
            param["schema"]["type"].as_str(),
            param["schema"]["format"].as_str(),
        ) {
            (Some("integer"), _) => "50000001".to_string(),
            (_, Some("uuid")) => uuid::Uuid::new_v4().to_string(),
            _ => SKATTEETATEN.to_string(),
        };
        if param["in"] == "path" {
            out = out.replace(&format!("{{{name}}}"), &value);
        } else if param["in"] == "query" {
            out.push(if out.contains('?') { '&' } else { '?' });
            out.push_str(&format!("{name}={value}"));
        }
    }
    out
}

async fn every_protected_route_refuses_bad_tokens(server: TestServer) {
    let doc: Value = reqwest::get(server.at("/swagger/v1/swagger.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let issuer = format!("{}/maskinporten/", server.url);
    let mut expired = MintRequest::admin();
    expired
        .scopes
        .push("altinn:resourceregistry/resource.write".into());
    expired.issued_at = Some(now() - 3600);
    expired.lifetime = 60;
    let expired = server.state.tokens.mint(expired).await.unwrap();
    // Valid, but with a scope no route requires.
    let wrong_scope = server
        .enterprise_token(SKATTEETATEN, "altinn:systembruker.demo")
        .await
        .unwrap();
    let foreign = foreign_token(&issuer);
    let client = reqwest::Client::new();
    let (mut protected, mut scoped) = (0, 0);
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(security) = operation["security"].as_array() else {
                continue;
            };
            let required: Vec<&str> = security
                .iter()
                .filter_map(|s| s["bearer"].as_array())
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let url = server.at(&concrete_path(path, operation));
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let send = |token: Option<&str>| {
                let mut request = client.request(method.clone(), &url).json(&json!({}));
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                request.send()
            };
            for (what, token) in [
                ("missing", None),
                ("expired", Some(expired.as_str())),
                ("foreign-signed", Some(foreign.as_str())),
            ] {
                let response = send(token).await.unwrap();
                assert_eq!(
                    response.status(),
                    401,
                    "{method} {path} with a {what} token"
                );
                assert!(
                    response.headers().contains_key("www-authenticate"),
                    "{method} {path}: {what}"
                );
            }
            protected += 1;
            if !required.is_empty() && !required.contains(&"altinn:systembruker.demo") {
                let response = send(Some(&wrong_scope)).await.unwrap();
                assert_eq!(
                    response.status(),
                    403,
                    "{method} {path} with a wrong-scope token"
                );
                let challenge = response.headers()["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .to_string();
                assert!(
                    challenge.contains("insufficient_scope"),
                    "{method} {path}: {challenge}"
                );
                scoped += 1;
            }
        }
    }
    // The register, resource-registry writes and operator routes at least.
    assert!(
        protected >= 20 && scoped >= 15,
        "only {protected} protected / {scoped} scoped routes found"
    );
}

async fn rotated_keys_keep_old_tokens_valid(server: TestServer) {
    let old = server.admin_token().await.unwrap();
    let new_kid = server.state.tokens.rotate_signing_key().await.unwrap();
    let jwks: Value = reqwest::get(server.at("/maskinporten/jwk"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    let new = server.admin_token().await.unwrap();
    let header = |t: &str| jsonwebtoken_header_kid(t);
    assert_eq!(header(&new), new_kid);
    assert_ne!(header(&old), new_kid);
    for token in [old, new] {
        let response = reqwest::Client::new()
            .get(server.at("/admin/api/v1/maskinporten/clients"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
}

fn jsonwebtoken_header_kid(token: &str) -> String {
    use base64::Engine;
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_tools_are_absent_outside_dev_mode() {
    let store = systembruker_storage::testing::sqlite_store().await.unwrap();
    let server = TestServer::start_with(store, false).await.unwrap();
    for path in [
        "/testtools/api/GetEnterpriseToken?orgNo=991825827&scopes=a:b",
        "/testtools/api/GetPersonalToken?pid=14857510098",
        "/testtools/api/GetAdminToken",
    ] {
        assert_eq!(
            reqwest::get(server.at(path)).await.unwrap().status(),
            404,
            "{path}"
        );
    }
    assert_eq!(
        reqwest::get(server.at("/maskinporten/jwk"))
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_token_carries_the_person() {
    let store = systembruker_storage::testing::sqlite_store().await.unwrap();
    let server = TestServer::start_with(store, true).await.unwrap();
    let token = server
        .personal_token(systembruker_http::demo::PIA, "")
        .await
        .unwrap();
    let verified = server
        .state
        .tokens
        .verify_access_token(&token)
        .await
        .unwrap();
    assert_eq!(
        verified.claims.pid.as_deref(),
        Some(systembruker_http::demo::PIA)
    );
    assert_eq!(verified.claims.scope, "altinn:portal/enduser");
    assert_eq!(verified.claims.party_id.as_deref(), Some("70000011"));
    let missing = reqwest::get(server.at("/testtools/api/GetPersonalToken?pid=01017012345"))
        .await
        .unwrap();
    assert!(missing.status().is_client_error());
}

/// Two servers on one PostgreSQL database: a jti used on one is refused on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jti_replay_is_refused_across_processes() {
    let Some(server_url) = systembruker_storage::testing::postgres_server_url() else {
        return;
    };
    let url = systembruker_storage::testing::fresh_postgres_url(&server_url)
        .await
        .unwrap();
    let first = TestServer::start_with(
        systembruker_storage::SqlStore::open(&url).await.unwrap(),
        true,
    )
    .await
    .unwrap();
    let second = TestServer::start_with(
        systembruker_storage::SqlStore::open(&url).await.unwrap(),
        true,
    )
    .await
    .unwrap();
    let mut vendor = vendor(&first).await;
    // The assertion's audience is the second server's issuer for the second request.
    let jti = uuid::Uuid::new_v4().to_string();
    let on_first = vendor.assertion_with(|c| {
        c.insert("jti".into(), json!(jti));
    });
    assert_eq!(request_token(&first, &on_first).await.0, 200);
    vendor.issuer = format!("{}/maskinporten/", second.url);
    let on_second = vendor.assertion_with(|c| {
        c.insert("jti".into(), json!(jti));
    });
    assert_refused(
        "replay on the other process",
        &request_token(&second, &on_second).await,
        "invalid_grant",
        "MP-012",
    );
    // A fresh jti works on the second process: the refusal was the replay, nothing else.
    let fresh = vendor.sign(vendor.claims());
    assert_eq!(request_token(&second, &fresh).await.0, 200);
}

/// Verified tokens are remembered by their text (no RSA verification per call), but the
/// memory never outlives the token: after `exp` (and the 5 s leeway) it is refused.
async fn a_remembered_token_still_expires(server: TestServer) {
    let mut short = MintRequest::admin();
    short.issued_at = Some(now() - 55);
    short.lifetime = 57;
    let token = server.state.tokens.mint(short).await.unwrap();
    let client = reqwest::Client::new();
    let status = || async {
        client
            .get(server.at("/admin/api/v1/maskinporten/clients"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(status().await, 200, "valid token");
    assert_eq!(status().await, 200, "the same token, now from memory");
    tokio::time::sleep(std::time::Duration::from_secs(8)).await;
    assert_eq!(status().await, 401, "expired, whether remembered or not");
}

/// Issue 14: a token asked for another resource server (`resource` → `aud`) opened the
/// platform's APIs. Only tokens without `aud` or with the platform's own are accepted.
async fn tokens_for_other_resource_servers_are_refused(server: TestServer) {
    let vendor = vendor(&server).await;
    let status_with = |resource: Option<Value>| {
        let assertion = vendor.assertion_with(|c| {
            c.insert(
                "scope".into(),
                json!("altinn:authentication/systemregister.write"),
            );
            if let Some(resource) = resource {
                c.insert("resource".into(), resource);
            }
        });
        let server = &server;
        async move {
            let (status, body) = request_token(server, &assertion).await;
            assert_eq!(status, 200, "{body}");
            let token = body["access_token"].as_str().unwrap().to_string();
            reqwest::Client::new()
                .get(server.at("/authentication/api/v1/systemregister/vendor"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let refused = status_with(Some(json!("https://other-api.example/"))).await;
    assert_eq!(refused.status(), 401);
    assert!(
        refused.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let problem: Value = refused.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("another resource server"),
        "{problem}"
    );
    for ours in [
        None,
        Some(json!(server.url)),
        Some(json!([format!("{}/", server.url)])),
    ] {
        let response = status_with(ours.clone()).await;
        assert_eq!(response.status(), 200, "resource {ours:?}");
    }
}

fn resource_with_scope(identifier: &str, owner: &str, scope: &str) -> Value {
    json!({
        "identifier": identifier, "title": {"nb": "T", "nn": "T", "en": "T"},
        "description": {"nb": "D", "nn": "D", "en": "D"},
        "rightDescription": {"nb": "R", "nn": "R", "en": "R"},
        "resourceType": "GenericAccessResource", "delegable": true,
        "resourceReferences": [{"referenceSource": "Default", "reference": scope, "referenceType": "MaskinportenScope"}],
        "hasCompetentAuthority": {"organization": owner, "orgcode": "x", "name": {"nb": "S", "nn": "S", "en": "S"}}
    })
}

/// Issue 14: the docs promise 409 for a scope owned by others, yet platform scopes such
/// as `systembruker:admin` were taken as a resource's metadata. Any scope not the owner's
/// is a 409 now, on create and update, and nothing is stored.
async fn resources_may_name_only_their_owners_scopes(server: TestServer) {
    let token = server
        .enterprise_token(SMARTCLOUD, "altinn:resourceregistry/resource.write")
        .await
        .unwrap();
    let client = reqwest::Client::new();
    for scope in [
        "systembruker:admin",
        "altinn:authorization/authorize",
        "altinn:authentication/systemregister.admin",
        DEMO_SCOPE,
    ] {
        let response = client
            .post(server.at("/resourceregistry/api/v1/resource"))
            .bearer_auth(&token)
            .json(&resource_with_scope("smartcloud-scoped", SMARTCLOUD, scope))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 409, "{scope}");
        let problem: Value = response.json().await.unwrap();
        assert!(
            problem["detail"].as_str().unwrap().contains(scope),
            "{problem}"
        );
        let stored = client
            .get(server.at("/resourceregistry/api/v1/resource/smartcloud-scoped"))
            .send()
            .await
            .unwrap();
        assert_eq!(stored.status(), 404, "{scope} left the resource stored");
    }
    // Its own scope is registered; an update may not swap in a platform scope.
    let own = resource_with_scope("smartcloud-scoped", SMARTCLOUD, "smartcloud:own");
    let created = client
        .post(server.at("/resourceregistry/api/v1/resource"))
        .bearer_auth(&token)
        .json(&own)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let updated = client
        .put(server.at("/resourceregistry/api/v1/resource/smartcloud-scoped"))
        .bearer_auth(&token)
        .json(&resource_with_scope(
            "smartcloud-scoped",
            SMARTCLOUD,
            "systembruker:admin",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 409);
}
