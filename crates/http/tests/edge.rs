//! The HTTP edge: early refusals close the connection visibly, API answers carry
//! `nosniff` and `no-store`, and `/metrics` is not open to anonymous callers.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::StatusCode;
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const VENDOR_REQUESTS: &str = "/authentication/api/v1/systemuser/request/vendor";
const UNKNOWN_REQUEST: &str =
    "/authentication/api/v1/systemuser/request/vendor/00000000-0000-0000-0000-000000000000";

async fn server() -> TestServer {
    TestServer::sqlite_with(|_| {}).await.unwrap()
}

/// A response read from a raw connection: status, lower-cased head, body, and whether
/// the server closed the connection after it.
struct RawResponse {
    status: u16,
    head: String,
    body: String,
    closed: bool,
}

/// Sends `head` (a request without its body, as a client waiting for an early answer
/// would), waits, and reads the answer up to its Content-Length.
async fn send_head_only(server: &TestServer, head: &str) -> RawResponse {
    let address = server.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    // The body is not sent: the server must answer without it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let complete = |buffer: &[u8]| -> Option<usize> {
        let text = String::from_utf8_lossy(buffer);
        let end = text.find("\r\n\r\n")?;
        let length = text[..end]
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap())
            })
            .unwrap_or(0);
        (buffer.len() >= end + 4 + length).then_some(end + 4 + length)
    };
    let mut closed = false;
    while complete(&buffer).is_none() {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("the server answers before the body arrives")
            .unwrap();
        if n == 0 {
            closed = true;
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let end = complete(&buffer).expect("a whole response");
    if !closed {
        // After the answer, the connection either ends (EOF) or stays open.
        closed = matches!(
            tokio::time::timeout(Duration::from_secs(2), stream.read(&mut chunk)).await,
            Ok(Ok(0)) | Ok(Err(_))
        );
    }
    let text = String::from_utf8_lossy(&buffer[..end]).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    RawResponse {
        status,
        head: head.to_ascii_lowercase(),
        body: body.to_string(),
        closed,
    }
}

fn post_head(path: &str, extra: &str, length: usize) -> String {
    format!("POST {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Content-Length: {length}\r\n\r\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_refusals_arrive_and_close_the_connection() {
    let server = server().await;
    let json = "Content-Type: application/json\r\n";
    let admin = format!("Authorization: Bearer {ADMIN_TOKEN}\r\n");
    let cases = [
        (
            "no token",
            post_head(VENDOR_REQUESTS, json, 100),
            401,
            "STD-00401",
        ),
        (
            "bad token",
            post_head(
                VENDOR_REQUESTS,
                &format!("{json}Authorization: Bearer nope\r\n"),
                100,
            ),
            401,
            "STD-00401",
        ),
        (
            "wrong content type",
            post_head(
                "/admin/api/v1/register/roles",
                &format!("{admin}Content-Type: text/plain\r\n"),
                100,
            ),
            415,
            "STD-00415",
        ),
        (
            "body over the limit, client waiting for 100 Continue",
            post_head(
                "/admin/api/v1/register/roles",
                &format!("{admin}{json}Expect: 100-continue\r\n"),
                systembruker_http::MAX_BODY_BYTES + 1,
            ),
            413,
            "STD-00413",
        ),
    ];
    for (case, head, status, code) in cases {
        let response = send_head_only(&server, &head).await;
        assert_eq!(response.status, status, "{case}: {}", response.head);
        assert!(
            response
                .head
                .contains("content-type: application/problem+json"),
            "{case}: {}",
            response.head
        );
        assert!(response.body.contains(code), "{case}: {}", response.body);
        assert!(
            response.head.contains("connection: close"),
            "{case}: the client must learn the connection ends: {}",
            response.head
        );
        assert!(
            response.closed,
            "{case}: the server closes after the answer"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_whose_body_was_read_keeps_its_connection() {
    let server = server().await;
    let address = server.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let body = "{}";
    let request = format!(
        "POST /admin/api/v1/register/roles HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buffer = vec![0u8; 65536];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
        .await
        .unwrap()
        .unwrap();
    let head = String::from_utf8_lossy(&buffer[..n]).to_ascii_lowercase();
    assert!(!head.contains("connection: close"), "{head}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_answers_are_not_sniffed_or_stored() {
    let server = server().await;
    let client = reqwest::Client::new();
    let token = server
        .enterprise_token("991825827", "altinn:authentication/systemuser.request.read")
        .await
        .unwrap();
    let answers = [
        client
            .get(server.at("/register/api/v1/organizations/315000009"))
            .bearer_auth(ADMIN_TOKEN),
        client.get(server.at(UNKNOWN_REQUEST)),
        client.get(server.at(UNKNOWN_REQUEST)).bearer_auth(&token),
        client.get(server.at("/no/such/route")),
    ];
    for request in answers {
        let response = request.send().await.unwrap();
        let url = response.url().to_string();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{url}");
        assert_eq!(headers["cache-control"], "no-store", "{url}");
    }
    // Public metadata may be cached; it is still not sniffed.
    let jwks = client
        .get(server.at("/maskinporten/jwk"))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), StatusCode::OK);
    assert_eq!(jwks.headers()["x-content-type-options"], "nosniff");
    assert!(jwks.headers().get("cache-control").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_an_operator_or_the_metrics_token() {
    let server = TestServer::sqlite_with(|config| {
        config.metrics.token = Some("scraper-secret".into());
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let get = |token: Option<&str>| {
        let request = client.get(server.at("/metrics"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    };
    let anonymous = get(None).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(
        !anonymous
            .text()
            .await
            .unwrap()
            .contains("systembruker_http_requests")
    );
    assert_eq!(get(Some("wrong")).send().await.unwrap().status(), 401);
    let vendor = server
        .enterprise_token("991825827", "altinn:authentication/systemuser.request.read")
        .await
        .unwrap();
    assert_eq!(get(Some(&vendor)).send().await.unwrap().status(), 403);
    for token in ["scraper-secret", ADMIN_TOKEN] {
        let response = get(Some(token)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{token}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("systembruker_http_requests")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_listener_takes_metrics_off_the_main_one() {
    let server = TestServer::sqlite_with(|config| config.metrics.separate_listener = true)
        .await
        .unwrap();
    let main = reqwest::Client::new()
        .get(server.at("/metrics"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(main.status(), StatusCode::NOT_FOUND);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = systembruker_http::metrics_app(server.state.clone());
    tokio::spawn(systembruker_http::serve(
        listener,
        app,
        std::future::pending(),
    ));
    let metrics = reqwest::get(format!("http://{address}/metrics"))
        .await
        .unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    assert!(
        metrics
            .text()
            .await
            .unwrap()
            .contains("systembruker_http_requests")
    );
    let other = reqwest::get(format!("http://{address}/health"))
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}
