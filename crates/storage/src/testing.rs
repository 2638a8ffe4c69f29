//! Fresh, isolated databases for tests, on both backends.
//!
//! PostgreSQL is read from `SYSTEMBRUKER_TEST_POSTGRES_URL`. When it is unset the
//! PostgreSQL variant of a test is skipped with a message — except under CI
//! (`CI=true`), where a missing database is an error, so CI can never pass by skipping.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;

use crate::{SqlStore, StoreResult};

/// The environment variable that names the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "SYSTEMBRUKER_TEST_POSTGRES_URL";

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_suffix() -> String {
    let now = chrono::Utc::now().timestamp();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{now}_{}_{n}", std::process::id())
}

/// A URL for a new, empty SQLite file in the temp directory.
pub fn sqlite_url() -> String {
    let path = std::env::temp_dir().join(format!("systembruker_test_{}.db", unique_suffix()));
    format!("sqlite://{}", path.display())
}

/// The PostgreSQL server URL for tests, or `None` (outside CI) when none is configured.
///
/// # Panics
/// Under CI when the variable is missing: a test must not pass by skipping there.
pub fn postgres_server_url() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "{POSTGRES_URL_VAR} must be set when CI=true: PostgreSQL tests may not be skipped in CI"
            )
        }
        _ => {
            eprintln!("{POSTGRES_URL_VAR} is not set: skipping the PostgreSQL variant");
            None
        }
    }
}

fn with_database(server_url: &str, database: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server_url, String::new()),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[authority_end..]
        .find('/')
        .map(|i| i + authority_end)
        .unwrap_or(base.len());
    format!("{}/{database}{query}", &base[..path_start])
}

/// Creates a new database on the test server and returns its URL. Databases left by
/// earlier runs (older than two hours) are dropped on the way.
pub async fn fresh_postgres_url(server_url: &str) -> StoreResult<String> {
    let mut admin = sqlx::PgConnection::connect(server_url).await?;
    drop_stale_databases(&mut admin).await;
    let name = format!("sbtest_{}", unique_suffix());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok(with_database(server_url, &name))
}

async fn drop_stale_databases(admin: &mut sqlx::PgConnection) {
    let cutoff = chrono::Utc::now().timestamp() - 2 * 3600;
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'sbtest\\_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for name in names {
        let created = name.split('_').nth(1).and_then(|ts| ts.parse::<i64>().ok());
        if created.is_some_and(|ts| ts < cutoff) {
            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *admin)
                .await;
        }
    }
}

/// A migrated store on a fresh SQLite file.
pub async fn sqlite_store() -> StoreResult<SqlStore> {
    SqlStore::open(&sqlite_url()).await
}

/// A migrated store on a fresh PostgreSQL database, or `None` outside CI without a server.
pub async fn postgres_store() -> StoreResult<Option<SqlStore>> {
    match postgres_server_url() {
        Some(server) => Ok(Some(
            SqlStore::open(&fresh_postgres_url(&server).await?).await?,
        )),
        None => Ok(None),
    }
}

/// Generates `sqlite::<case>` and `postgres::<case>` tests; each case is an async fn
/// taking a migrated [`SqlStore`] on a fresh database.
#[macro_export]
macro_rules! storage_tests {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let store = $crate::testing::sqlite_store().await.expect("sqlite store opens");
                super::$case(store).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                if let Some(store) = $crate::testing::postgres_store().await.expect("postgres store opens") {
                    super::$case(store).await;
                }
            })*
        }
    };
}
