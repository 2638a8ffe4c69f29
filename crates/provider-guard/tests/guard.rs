//! The guard against a real systembruker server (SQLite and PostgreSQL): SmartCloud's
//! client gets a system-user token for Rør og Vann AS through Maskinporten's grant, and a
//! small provider API behind the guard answers it, refuses it, or fails closed.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};
use systembruker_http::demo::{self, DEMO_SCOPE, ROR_OG_VANN, SKATTEETATEN, SMARTCLOUD};
use systembruker_http::server_tests;
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};
use systembruker_provider_guard::{
    Guard, GuardConfig, MaskinportenClient, StaticToken, SystemUser, check,
};

const BAKERIET: &str = "315200008";
const PIA: &str = "14857510098";
const ROR_OG_VANN_PARTY: &str = "70000003";
const OTHER_SCOPE: &str = "altinn:systembruker.demo";
const VENDOR_SCOPES: &str =
    "altinn:authentication/systemregister.write altinn:authentication/systemuser.request.write";

/// The provider's one route: the organisation is the last path segment.
async fn claims(user: SystemUser) -> axum::Json<SystemUser> {
    axum::Json(user)
}

fn party_of(request: &Request) -> Option<String> {
    request.uri().path().rsplit('/').next().map(str::to_string)
}

/// Starts a provider API behind `guard` on a loopback port; returns its URL.
async fn provider(guard: Guard) -> String {
    let app = Router::new()
        .route("/krav/{org}", get(claims))
        .route_layer(axum::middleware::from_fn_with_state(guard, check));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Skatteetaten's guard on `server`, asking the PDP with a test-tools token of its own.
async fn guard_for(server: &TestServer, change: impl FnOnce(&mut GuardConfig)) -> Guard {
    let pdp_token = server
        .enterprise_token(SKATTEETATEN, "altinn:authorization/authorize")
        .await
        .unwrap();
    let mut config = GuardConfig::new(&server.url, DEMO_SCOPE, demo::DEMO_RESOURCE);
    config.leeway_seconds = 0;
    config.timeout = Duration::from_secs(2);
    change(&mut config);
    Guard::new(config, Arc::new(StaticToken::new(pdp_token)), party_of).unwrap()
}

async fn call(url: &str, token: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// SmartCloud's client on SmartRegnskap, and Rør og Vann AS's system user approved by Pia.
struct Setup {
    vendor: MaskinportenClient,
    system_user: String,
}

async fn setup(server: &TestServer) -> Setup {
    let vendor = MaskinportenClient::register(
        &server.url,
        ADMIN_TOKEN,
        "SmartCloud",
        SMARTCLOUD,
        &[DEMO_SCOPE, OTHER_SCOPE],
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let api = |path: &str| format!("{}/authentication/api/v1/{path}", server.url);
    let vendor_token = server
        .enterprise_token(SMARTCLOUD, VENDOR_SCOPES)
        .await
        .unwrap();
    let mut system = serde_json::to_value(demo::demo_system().unwrap()).unwrap();
    system["clientId"] = json!([vendor.client_id()]);
    let response = http
        .put(api(&format!("systemregister/vendor/{}", demo::DEMO_SYSTEM)))
        .bearer_auth(&vendor_token)
        .json(&system)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    let request: Value = http
        .post(api("systemuser/request/vendor"))
        .bearer_auth(&vendor_token)
        .json(&json!({"systemId": demo::DEMO_SYSTEM, "partyOrgNo": ROR_OG_VANN,
            "rights": [{"resource": [{"id": "urn:altinn:resource", "value": demo::DEMO_RESOURCE}]}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = request["id"].as_str().unwrap().to_string();
    let pia = server
        .personal_token(PIA, "altinn:portal/enduser")
        .await
        .unwrap();
    let response = http
        .post(api(&format!(
            "systemuser/request/{ROR_OG_VANN_PARTY}/{id}/approve"
        )))
        .bearer_auth(&pia)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    Setup {
        vendor,
        system_user: id,
    }
}

async fn permits_only_the_owner_and_refuses_other_organisations(server: TestServer) {
    let setup = setup(&server).await;
    let url = provider(guard_for(&server, |_| {}).await).await;
    let token = setup
        .vendor
        .system_user_token(DEMO_SCOPE, ROR_OG_VANN, None)
        .await
        .unwrap();
    let (status, user) = call(&format!("{url}/krav/{ROR_OG_VANN}"), &token).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["id"], setup.system_user.as_str());
    assert_eq!(user["owner_org"], ROR_OG_VANN);
    assert_eq!(user["vendor_org"], SMARTCLOUD);

    let (status, refusal) = call(&format!("{url}/krav/{BAKERIET}"), &token).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refusal}");
    assert_eq!(refusal["code"], "GUARD-403-DENIED");
    assert!(refusal["detail"].as_str().unwrap().contains(BAKERIET));

    let (status, refusal) = call(&format!("{url}/krav/123"), &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refusal}");
    let response = reqwest::get(format!("{url}/krav/{ROR_OG_VANN}"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
}

async fn refuses_an_expired_token(server: TestServer) {
    let url = provider(guard_for(&server, |_| {}).await).await;
    let response = reqwest::get(format!(
        "{}/testtools/api/GetEnterpriseToken?orgNo={SMARTCLOUD}&scopes={DEMO_SCOPE}&ttl=1",
        server.url
    ))
    .await
    .unwrap();
    let token = response.text().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, refusal) = call(&format!("{url}/krav/{ROR_OG_VANN}"), &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refusal}");
    assert_eq!(refusal["code"], "GUARD-401-INVALID-TOKEN");
    assert!(
        refusal["detail"].as_str().unwrap().contains("expired"),
        "{refusal}"
    );
}

async fn refuses_a_system_user_token_with_another_scope(server: TestServer) {
    let setup = setup(&server).await;
    let url = provider(guard_for(&server, |_| {}).await).await;
    let token = setup
        .vendor
        .system_user_token(OTHER_SCOPE, ROR_OG_VANN, None)
        .await
        .unwrap();
    let (status, refusal) = call(&format!("{url}/krav/{ROR_OG_VANN}"), &token).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refusal}");
    assert_eq!(refusal["code"], "GUARD-403-SCOPE");
    // A token with the scope but no system user is refused too.
    let plain = setup.vendor.scope_token(DEMO_SCOPE).await.unwrap();
    let (status, refusal) = call(&format!("{url}/krav/{ROR_OG_VANN}"), &plain).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refusal}");
    assert_eq!(refusal["code"], "GUARD-403-NOT-SYSTEM-USER");
}

async fn refuses_a_token_of_another_token_service(server: TestServer) {
    let url = provider(guard_for(&server, |_| {}).await).await;
    let other = TestServer::start(systembruker_http::testing::TestBackend::Sqlite)
        .await
        .unwrap()
        .unwrap();
    let foreign = other
        .enterprise_token(SMARTCLOUD, DEMO_SCOPE)
        .await
        .unwrap();
    let (status, refusal) = call(&format!("{url}/krav/{ROR_OG_VANN}"), &foreign).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refusal}");
    assert!(
        refusal["detail"]
            .as_str()
            .unwrap()
            .contains("unknown signing key"),
        "{refusal}"
    );
    // A guard that trusts the other service's keys still checks the issuer.
    let confused = guard_for(&server, |c| {
        c.jwks_url = format!("{}/maskinporten/jwk", other.url)
    })
    .await;
    let url = provider(confused).await;
    let (status, refusal) = call(&format!("{url}/krav/{ROR_OG_VANN}"), &foreign).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refusal}");
    assert!(
        refusal["detail"]
            .as_str()
            .unwrap()
            .contains("another token service"),
        "{refusal}"
    );
}

async fn refreshes_the_keys_when_the_platform_rotates(server: TestServer) {
    let setup = setup(&server).await;
    let url = provider(guard_for(&server, |c| c.min_key_refresh = Duration::ZERO).await).await;
    let token = setup
        .vendor
        .system_user_token(DEMO_SCOPE, ROR_OG_VANN, None)
        .await
        .unwrap();
    assert_eq!(
        call(&format!("{url}/krav/{ROR_OG_VANN}"), &token).await.0,
        StatusCode::OK
    );
    let new_kid = server.state.tokens.rotate_signing_key().await.unwrap();
    setup.vendor.forget(ROR_OG_VANN, None).await;
    let token = setup
        .vendor
        .system_user_token(DEMO_SCOPE, ROR_OG_VANN, None)
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.kid.as_deref(), Some(new_kid.as_str()));
    let (status, body) = call(&format!("{url}/krav/{ROR_OG_VANN}"), &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn refuses_a_deleted_system_user(server: TestServer) {
    let setup = setup(&server).await;
    let url = provider(guard_for(&server, |_| {}).await).await;
    let token = setup
        .vendor
        .system_user_token(DEMO_SCOPE, ROR_OG_VANN, None)
        .await
        .unwrap();
    assert_eq!(
        call(&format!("{url}/krav/{ROR_OG_VANN}"), &token).await.0,
        StatusCode::OK
    );
    let pia = server
        .personal_token(PIA, "altinn:portal/enduser")
        .await
        .unwrap();
    let response = reqwest::Client::new()
        .delete(format!(
            "{}/authentication/api/v1/systemuser/{ROR_OG_VANN_PARTY}/{}",
            server.url, setup.system_user
        ))
        .bearer_auth(&pia)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    // The token is still valid; the PDP is what says no.
    let (status, refusal) = call(&format!("{url}/krav/{ROR_OG_VANN}"), &token).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refusal}");
    assert_eq!(refusal["code"], "GUARD-403-DENIED");
    // And the vendor gets no new token for it.
    setup.vendor.forget(ROR_OG_VANN, None).await;
    let refused = setup
        .vendor
        .system_user_token(DEMO_SCOPE, ROR_OG_VANN, None)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("MP-303"), "{refused}");
}

async fn fails_closed_when_the_pdp_does_not_answer(server: TestServer) {
    let setup = setup(&server).await;
    let token = setup
        .vendor
        .system_user_token(DEMO_SCOPE, ROR_OG_VANN, None)
        .await
        .unwrap();
    // A PDP that accepts the connection and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}/authorize", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let url = provider(guard_for(&server, |c| c.pdp_url = silent_url).await).await;
    let (status, refusal) = call(&format!("{url}/krav/{ROR_OG_VANN}"), &token).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{refusal}");
    assert_eq!(refusal["code"], "GUARD-503-PDP");

    // Nothing listening at all.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let url = provider(guard_for(&server, |c| c.pdp_url = format!("http://{closed}/")).await).await;
    let (status, refusal) = call(&format!("{url}/krav/{ROR_OG_VANN}"), &token).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{refusal}");
    assert_eq!(refusal["code"], "GUARD-503-PDP");

    // A PDP that refuses the guard's own token: no decision, so no access.
    let pdp_token = server
        .enterprise_token(SKATTEETATEN, OTHER_SCOPE)
        .await
        .unwrap();
    let config = GuardConfig::new(&server.url, DEMO_SCOPE, demo::DEMO_RESOURCE);
    let guard = Guard::new(config, Arc::new(StaticToken::new(pdp_token)), party_of).unwrap();
    let url = provider(guard).await;
    let (status, refusal) = call(&format!("{url}/krav/{ROR_OG_VANN}"), &token).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{refusal}");
    assert!(
        refusal["detail"].as_str().unwrap().contains("403"),
        "{refusal}"
    );
}

async fn refuses_a_token_without_the_configured_audience(server: TestServer) {
    let setup = setup(&server).await;
    let guard = guard_for(&server, |c| {
        c.audience = Some("https://skatteetaten.example/api".into());
    })
    .await;
    let url = provider(guard).await;
    let token = setup
        .vendor
        .system_user_token(DEMO_SCOPE, ROR_OG_VANN, None)
        .await
        .unwrap();
    let (status, refusal) = call(&format!("{url}/krav/{ROR_OG_VANN}"), &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refusal}");
    assert!(
        refusal["detail"].as_str().unwrap().contains("aud"),
        "{refusal}"
    );
}

server_tests!(
    refuses_a_token_without_the_configured_audience,
    permits_only_the_owner_and_refuses_other_organisations,
    refuses_an_expired_token,
    refuses_a_system_user_token_with_another_scope,
    refuses_a_token_of_another_token_service,
    refreshes_the_keys_when_the_platform_rotates,
    refuses_a_deleted_system_user,
    fails_closed_when_the_pdp_does_not_answer,
);
