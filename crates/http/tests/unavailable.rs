//! A database that is gone or read-only: readiness says so at once, and the APIs answer
//! 503 problem JSON quickly instead of hanging and answering 500.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use systembruker_http::auth::{Authenticator, StaticAdminToken};
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};
use systembruker_http::{AppState, Config};
use systembruker_storage::{HealthCheck, SqlStore, StoreSettings, testing};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// A TCP relay to the test PostgreSQL server that can be cut: then every relayed
/// connection breaks and new ones are accepted but never answered, as a server that
/// hangs or a network that drops packets.
struct Relay {
    port: u16,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    async fn start(upstream: String) -> Self {
        Self::start_on(0, upstream).await
    }

    async fn start_on(port: u16, upstream: String) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (cut, watch) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let mut relayed = JoinSet::new();
            let mut silent = Vec::new();
            loop {
                let (mut client, _) = listener.accept().await.unwrap();
                if *watch.borrow() {
                    relayed.abort_all();
                    silent.push(client);
                    continue;
                }
                let upstream = upstream.clone();
                let mut cut = watch.clone();
                relayed.spawn(async move {
                    let mut server = TcpStream::connect(upstream).await.unwrap();
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Self { port, cut }
    }

    fn cut(&self) {
        self.cut.send_replace(true);
    }
}

/// `postgres://user@host:port/db?…` with the host and port replaced by the relay's.
fn through_relay(url: &str, port: u16) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let user = authority
        .rsplit_once('@')
        .map(|(user, _)| format!("{user}@"));
    format!(
        "{scheme}://{}127.0.0.1:{port}/{path}",
        user.unwrap_or_default()
    )
}

fn host_port(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let authority = rest.split('/').next().unwrap();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    }
}

async fn ready(server: &TestServer) -> (StatusCode, Duration) {
    let started = Instant::now();
    let response = reqwest::get(server.at("/health/ready")).await.unwrap();
    (response.status(), started.elapsed())
}

/// A dev-mode server on a fresh PostgreSQL database reached through a [`Relay`] (with the
/// demo data when `demo`), and the relay that can cut it off.
async fn server_behind_relay(server_url: &str, demo: bool) -> (TestServer, Relay) {
    let database = testing::fresh_postgres_url(server_url).await.unwrap();
    let relay = Relay::start(host_port(&database)).await;
    let store = SqlStore::connect_with(
        &through_relay(&database, relay.port),
        StoreSettings::default(),
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    if demo {
        systembruker_http::demo::load(&store).await.unwrap();
    }
    (TestServer::start_with(store, true).await.unwrap(), relay)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_gone_answers_503_quickly() {
    let Some(server_url) = testing::postgres_server_url() else {
        return;
    };
    let (server, relay) = server_behind_relay(&server_url, false).await;
    assert_eq!(ready(&server).await.0, StatusCode::OK);

    relay.cut();
    // Several times: the first may only meet a pooled connection that broke (quick to
    // fail), the later ones wait for a new connection that never answers.
    for _ in 0..3 {
        let (status, took) = ready(&server).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(took < Duration::from_secs(1), "readiness took {took:?}");
    }

    let started = Instant::now();
    let response = reqwest::Client::new()
        .get(server.at("/admin/api/v1/history"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "STD-00503", "{body}");
    assert!(took < Duration::from_secs(3), "the API call took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_waits_for_a_database_that_comes_later() {
    let Some(server_url) = testing::postgres_server_url() else {
        return;
    };
    let database = testing::fresh_postgres_url(&server_url).await.unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let upstream = host_port(&database);
    let later = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        Relay::start_on(port, upstream).await
    });
    let url = through_relay(&database, port);
    let settings = StoreSettings {
        acquire_timeout: Duration::from_millis(300),
    };
    // Without waiting, the database is not there yet.
    let err = SqlStore::open_waiting(&url, settings, Duration::ZERO)
        .await
        .err()
        .unwrap();
    assert!(err.is_unavailable(), "{err}");
    let store = SqlStore::open_waiting(&url, settings, Duration::from_secs(30))
        .await
        .unwrap();
    store.ping().await.unwrap();
    drop(later.await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_sqlite_file_is_not_ready() {
    let url = testing::sqlite_url();
    SqlStore::open(&url).await.unwrap().close().await;
    let store = SqlStore::connect(&format!("{url}?mode=ro")).await.unwrap();
    let mut auth = Authenticator::default();
    auth.add(Arc::new(StaticAdminToken::new(ADMIN_TOKEN).unwrap()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(Arc::new(store), Config::new(url.clone(), false), auth);
    tokio::spawn(systembruker_http::serve(
        listener,
        systembruker_http::app(state),
        std::future::pending(),
    ));
    let response = reqwest::get(format!("{url}/health/ready")).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let live = reqwest::get(format!("{url}/health")).await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
}

/// The token endpoint speaks OAuth2, not problem JSON: with the database gone it answers
/// 503 `temporarily_unavailable` (MP-503), not a 500 `server_error`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_answers_503_when_the_database_is_gone() {
    let Some(server_url) = testing::postgres_server_url() else {
        return;
    };
    let (server, relay) = server_behind_relay(&server_url, true).await;
    let client = common::register_client(&server).await;
    // Before the cut the request is decided on its merits (no system user: a 400).
    let (status, body) = client.token(&server, "315000009").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    relay.cut();
    let started = Instant::now();
    let (status, body) = client.token(&server, "315000009").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("MP-503"),
        "{body}"
    );
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "the token request took {took:?}"
    );
}
