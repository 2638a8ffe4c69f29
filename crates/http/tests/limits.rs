//! Rate limits: each one, set tiny, answers 429 with Retry-After in the form of its
//! endpoint (OAuth2 error, problem JSON, a portal page), counts in /metrics, and leaves
//! other callers and other limits alone. Source addresses are told apart through a
//! trusted X-Forwarded-For, as behind a proxy.
#![allow(clippy::unwrap_used)]

mod common;

use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::Value;
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};
use systembruker_http::{Config, Rate};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const ALICE: &str = "203.0.113.1";
const BOB: &str = "203.0.113.2";

async fn server_with(configure: impl FnOnce(&mut Config)) -> TestServer {
    TestServer::sqlite_with(|config| {
        config.rate_limits.trust_forwarded_for = true;
        configure(config);
    })
    .await
    .unwrap()
}

fn from(request: RequestBuilder, address: &str) -> RequestBuilder {
    request.header("x-forwarded-for", address)
}

/// Status and Retry-After of a 429, after checking it has one.
fn retry_after(response: &Response) -> u64 {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn refusals(server: &TestServer, limit: &str) -> String {
    let text = server.metrics_text().await.unwrap();
    text.lines()
        .find(|l| {
            l.starts_with(&format!(
                "systembruker_rate_limit_refusals_total{{limit=\"{limit}\"}}"
            ))
        })
        .unwrap_or_else(|| panic!("no refusals of {limit} in {text}"))
        .to_string()
}

async fn token_request(server: &TestServer, address: &str, assertion: &str) -> Response {
    from(
        Client::new().post(server.at("/maskinporten/token")),
        address,
    )
    .form(&[("grant_type", JWT_BEARER), ("assertion", assertion)])
    .send()
    .await
    .unwrap()
}

async fn oauth_refusal(response: Response) -> Value {
    retry_after(&response);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");
    assert!(
        body.get("status").is_none(),
        "OAuth2 error JSON, not a problem: {body}"
    );
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_requests_are_limited_per_source_address() {
    let server = server_with(|c| c.rate_limits.token_per_address = Rate::per_minute(2)).await;
    let vendor = common::register_client(&server).await;
    for _ in 0..2 {
        let response = token_request(&server, ALICE, &vendor.plain_assertion()).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let refused = token_request(&server, ALICE, &vendor.plain_assertion()).await;
    oauth_refusal(refused).await;
    // Another address still gets tokens; the APIs are not limited by it.
    let other = token_request(&server, BOB, &vendor.plain_assertion()).await;
    assert_eq!(other.status(), StatusCode::OK);
    let api = from(
        Client::new().get(server.at("/register/api/v1/organizations/315000009")),
        ALICE,
    )
    .bearer_auth(ADMIN_TOKEN)
    .send()
    .await
    .unwrap();
    assert_eq!(api.status(), StatusCode::OK);
    assert!(refusals(&server, "token_per_address").await.ends_with(" 1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_requests_are_limited_per_verified_client() {
    let server = server_with(|c| c.rate_limits.token_per_client = Rate::per_minute(1)).await;
    let vendor = common::register_client(&server).await;
    let other = common::register_client(&server).await;
    // Naming the client in assertions it did not sign spends none of its allowance.
    for _ in 0..2 {
        let forged =
            token_request(&server, ALICE, &other.plain_assertion_as(&vendor.client_id)).await;
        assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    }
    let first = token_request(&server, ALICE, &vendor.plain_assertion()).await;
    assert_eq!(first.status(), StatusCode::OK);
    // The same client from another address is still the same client.
    let refused = token_request(&server, BOB, &vendor.plain_assertion()).await;
    oauth_refusal(refused).await;
    // Another client is not limited by it.
    let response = token_request(&server, ALICE, &other.plain_assertion()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(refusals(&server, "token_per_client").await.ends_with(" 1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_bearer_tokens_are_limited_and_then_refused_unread() {
    let server = server_with(|c| c.rate_limits.failed_auth_per_address = Rate::per_minute(2)).await;
    let get = |address: &str, token: &str| {
        from(
            Client::new().get(server.at("/register/api/v1/organizations/315000009")),
            address,
        )
        .bearer_auth(token.to_string())
        .send()
    };
    for guess in ["guess-1", "guess-2"] {
        assert_eq!(
            get(ALICE, guess).await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let refused = get(ALICE, "guess-3").await.unwrap();
    retry_after(&refused);
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "STD-00429", "{body}");
    // While refused, even the right token is not looked at: a guess cannot be confirmed.
    let right = get(ALICE, ADMIN_TOKEN).await.unwrap();
    retry_after(&right);
    // Other addresses are not affected.
    assert_eq!(
        get(BOB, ADMIN_TOKEN).await.unwrap().status(),
        StatusCode::OK
    );
    assert!(
        refusals(&server, "failed_auth_per_address")
            .await
            .ends_with(" 2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_tokens_are_limited_per_source_address() {
    let server = server_with(|c| c.rate_limits.test_login_per_address = Rate::per_minute(1)).await;
    let get = |address: &str| {
        from(
            Client::new().get(server.at("/testtools/api/GetAdminToken")),
            address,
        )
        .send()
    };
    assert_eq!(get(ALICE).await.unwrap().status(), StatusCode::OK);
    let refused = get(ALICE).await.unwrap();
    retry_after(&refused);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "STD-00429", "{body}");
    assert_eq!(get(BOB).await.unwrap().status(), StatusCode::OK);
    // The portal's test login counts against the same limit, answered with a page.
    let page = from(
        Client::new().post(server.at("/accessmanagement/ui/login/test")),
        ALICE,
    )
    .form(&[("pid", "x")])
    .send()
    .await
    .unwrap();
    retry_after(&page);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        refusals(&server, "test_login_per_address")
            .await
            .ends_with(" 2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_logins_are_limited_with_a_readable_page() {
    let server =
        server_with(|c| c.rate_limits.portal_login_per_address = Rate::per_minute(1)).await;
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = |address: &str, language: &str| {
        from(client.get(server.at("/accessmanagement/ui/login")), address)
            .header("accept-language", language)
            .send()
    };
    assert_eq!(
        login(ALICE, "en").await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    for (language, text) in [
        ("en", "Too many attempts"),
        ("nb", "For mange forsøk"),
        ("nn", "frå nettverket"),
    ] {
        let page = login(ALICE, language).await.unwrap();
        retry_after(&page);
        let html = page.text().await.unwrap();
        assert!(html.contains(text), "{language}: {html}");
    }
    assert_eq!(
        login(BOB, "en").await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
}
