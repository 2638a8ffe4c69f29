//! Several processes on one database, as behind a load balancer: a portal session made
//! by one process is served, changed and ended by another (sessions live in the database,
//! not in a process's memory). On SQLite (one file, two stores) and PostgreSQL.
#![allow(clippy::unwrap_used)]

use regex::Regex;
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use systembruker_http::demo::PIA;
use systembruker_http::testing::TestServer;
use systembruker_storage::{SqlStore, testing};

const UI: &str = "/accessmanagement/ui";

fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// Two servers, each with its own pool, on one database.
async fn two_processes(url: &str) -> (TestServer, TestServer) {
    let a = TestServer::start_with(SqlStore::open(url).await.unwrap(), true)
        .await
        .unwrap();
    let b = TestServer::start_with(SqlStore::open(url).await.unwrap(), true)
        .await
        .unwrap();
    (a, b)
}

fn csrf(body: &str) -> String {
    let pattern = Regex::new(r#"name="csrf" value="([0-9a-f]{64})""#).unwrap();
    pattern
        .captures(body)
        .unwrap_or_else(|| panic!("no CSRF token in:\n{body}"))[1]
        .to_string()
}

async fn get(client: &Client, url: String) -> (StatusCode, String) {
    let response = client.get(url).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn a_session_is_shared_by_two_processes(a: TestServer, b: TestServer) {
    let pia = browser();
    let overview = format!("{UI}/systemuser/overview");
    // The login form comes from A, its post goes to B (the CSRF token is the session's,
    // in the database), and the logged-in session is used on both.
    let (status, form) = get(&pia, a.at(&format!("{UI}/login/test"))).await;
    assert_eq!(status, StatusCode::OK, "{form}");
    let done = pia
        .post(b.at(&format!("{UI}/login/test")))
        .form(&[
            ("csrf", csrf(&form).as_str()),
            ("pid", PIA),
            ("goto", &overview),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    for server in [&a, &b] {
        let (status, page) = get(&pia, server.at(&overview)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Pia Rørlegger"), "{page}");
    }
    // Logging out on A ends the session on B too.
    let (_, page) = get(&pia, b.at(&overview)).await;
    let out = pia
        .post(a.at(&format!("{UI}/logout")))
        .form(&[("csrf", csrf(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    for server in [&a, &b] {
        let (status, _) = get(&pia, server.at(&overview)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "logged out everywhere");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_shared_by_two_processes_on_one_sqlite_file() {
    let (a, b) = two_processes(&testing::sqlite_url()).await;
    a_session_is_shared_by_two_processes(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_shared_by_two_processes_on_one_postgres() {
    let Some(server) = testing::postgres_server_url() else {
        return;
    };
    let url = testing::fresh_postgres_url(&server).await.unwrap();
    let (a, b) = two_processes(&url).await;
    a_session_is_shared_by_two_processes(a, b).await;
}
