//! A real server on a loopback port for integration tests, on SQLite or PostgreSQL.

use std::sync::Arc;

use systembruker_storage::{SqlStore, testing};

use crate::auth::{Authenticator, StaticAdminToken};
use crate::{AppState, Config};

/// The static operator token test servers accept.
pub const ADMIN_TOKEN: &str = "test-admin-token";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// A running server with demo data; stopped when dropped.
pub struct TestServer {
    pub url: String,
    pub store: SqlStore,
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    /// Starts a server with the demo data in dev mode, or `None` for PostgreSQL when no
    /// test server is configured outside CI (see `systembruker_storage::testing`).
    pub async fn start(backend: TestBackend) -> anyhow::Result<Option<Self>> {
        let store = match backend {
            TestBackend::Sqlite => testing::sqlite_store().await?,
            TestBackend::Postgres => match testing::postgres_store().await? {
                Some(store) => store,
                None => return Ok(None),
            },
        };
        Self::start_with(store, true).await.map(Some)
    }

    /// Starts a server on an existing store, with or without dev mode, loading the demo data.
    pub async fn start_with(store: SqlStore, dev: bool) -> anyhow::Result<Self> {
        Self::start_configured(store, dev, |_| {}).await
    }

    /// A dev-mode server with demo data on SQLite whose settings `configure` changes
    /// (e.g. tiny rate limits).
    pub async fn sqlite_with(configure: impl FnOnce(&mut Config)) -> anyhow::Result<Self> {
        Self::start_configured(testing::sqlite_store().await?, true, configure).await
    }

    /// [`Self::start_with`], with the settings changed by `configure` first.
    pub async fn start_configured(
        store: SqlStore,
        dev: bool,
        configure: impl FnOnce(&mut Config),
    ) -> anyhow::Result<Self> {
        crate::demo::load(&store).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let mut auth = Authenticator::default();
        if let Some(token) = StaticAdminToken::new(ADMIN_TOKEN) {
            auth.add(Arc::new(token));
        }
        let mut config = Config::new(url.clone(), dev);
        // Suites send hundreds of deliberately bad tokens from one loopback address
        // (every route with every kind of bad token); tests/limits.rs sets this limit.
        config.rate_limits.failed_auth_per_address = crate::Rate::OFF;
        configure(&mut config);
        let state = AppState::new(Arc::new(store.clone()), config, auth);
        let app = crate::app(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(crate::serve(listener, app, async move {
            let _ = rx.await;
        }));
        Ok(Self {
            url,
            store,
            state,
            shutdown: Some(tx),
        })
    }

    /// `url` + `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    async fn test_token(&self, path: &str, query: &[(&str, &str)]) -> anyhow::Result<String> {
        let response = reqwest::Client::new()
            .get(self.at(path))
            .query(query)
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        anyhow::ensure!(status.is_success(), "{path} answered {status}: {body}");
        Ok(body.trim().to_string())
    }

    /// The Prometheus text of `/metrics`, read with the operator token.
    pub async fn metrics_text(&self) -> anyhow::Result<String> {
        let response = reqwest::Client::new()
            .get(self.at("/metrics"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        anyhow::ensure!(status.is_success(), "/metrics answered {status}: {body}");
        Ok(body)
    }

    /// A Maskinporten-style token for organisation `org` with space-separated `scopes`,
    /// from the dev-mode test tools (`GET /testtools/api/GetEnterpriseToken`).
    pub async fn enterprise_token(&self, org: &str, scopes: &str) -> anyhow::Result<String> {
        self.test_token(
            "/testtools/api/GetEnterpriseToken",
            &[("orgNo", org), ("scopes", scopes)],
        )
        .await
    }

    /// An operator token with `systembruker:admin` (`GET /testtools/api/GetAdminToken`).
    pub async fn admin_token(&self) -> anyhow::Result<String> {
        self.test_token("/testtools/api/GetAdminToken", &[]).await
    }

    /// An end-user token for person `pid` (`GET /testtools/api/GetPersonalToken`).
    pub async fn personal_token(&self, pid: &str, scopes: &str) -> anyhow::Result<String> {
        self.test_token(
            "/testtools/api/GetPersonalToken",
            &[("pid", pid), ("scopes", scopes)],
        )
        .await
    }

    /// An end-user token for person `pid` issued through vendor `org`'s system (`consumer`),
    /// as a vendor's app gets one for the client-delegation API.
    pub async fn vendor_personal_token(
        &self,
        pid: &str,
        org: &str,
        scopes: &str,
    ) -> anyhow::Result<String> {
        self.test_token(
            "/testtools/api/GetPersonalToken",
            &[("pid", pid), ("org", org), ("scopes", scopes)],
        )
        .await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Generates `sqlite::<case>` and `postgres::<case>` tests; each case is an async fn
/// taking a started [`TestServer`].
#[macro_export]
macro_rules! server_tests {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let server = $crate::testing::TestServer::start($crate::testing::TestBackend::Sqlite)
                    .await.expect("server starts").expect("sqlite is always available");
                super::$case(server).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                if let Some(server) = $crate::testing::TestServer::start($crate::testing::TestBackend::Postgres)
                    .await.expect("server starts") {
                    super::$case(server).await;
                }
            })*
        }
    };
}
