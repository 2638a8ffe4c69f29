//! Several processes on one database, as behind a load balancer: a portal session made
//! by one process is served, changed and ended by another (sessions live in the database,
//! not in a process's memory). On SQLite (one file, two stores) and PostgreSQL.
#![allow(clippy::unwrap_used)]

mod common;

use common::browser;

use reqwest::{Client, StatusCode};
use systembruker_http::demo::PIA;
use systembruker_http::testing::TestServer;
use systembruker_storage::{SqlStore, testing};

const UI: &str = "/accessmanagement/ui";

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
            ("csrf", common::csrf_in(&form).as_str()),
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
        .form(&[("csrf", common::csrf_in(&page))])
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
