use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

use crate::batch::Batcher;
use crate::counters::{Counters, counters_round};
use crate::replay::direct::DirectSqlite;
use systembruker_token::ports::{Client, ClientKey, ScopeAccess};

use crate::replay::{JtiUse, jti_round};
use crate::{HealthCheck, StoreError, StoreResult, VersionedCache};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The SQL implementation of every storage port.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// Concurrent reads of the change counters share one statement (see `batch.rs`).
    counters: Arc<Batcher<(), StoreResult<Counters>>>,
    /// Concurrent token requests remember their jtis in one statement.
    pub(crate) jtis: Arc<Batcher<JtiUse, StoreResult<bool>>>,
    /// Client and key by kid, valid while the Maskinporten counter stands still.
    pub(crate) mp_keys: Arc<VersionedCache<String, Option<(Client, ClientKey)>>>,
    /// Scope access by (consumer, scopes), likewise.
    pub(crate) mp_access: Arc<VersionedCache<ScopeQuestion, Vec<ScopeAccess>>>,
    /// On a SQLite file: the counters and jtis without a thread hand-over (`direct.rs`).
    direct: Option<Arc<DirectSqlite>>,
    /// The normalised URL, for the readiness check's own connection on SQLite.
    url: Arc<str>,
}

/// A consumer org and the scopes it asks for.
pub(crate) type ScopeQuestion = (String, Vec<String>);

/// Keys (unknown kids too) and scope-access answers kept per cache before it starts over.
pub(crate) const CONFIG_CACHE_ENTRIES: usize = 10_000;

/// How long a statement may wait for a pooled connection by default. Short, because when
/// the database is down every request would otherwise hang this long before it fails;
/// long enough for a burst of writes queueing for SQLite's single write lock.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// How the store connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreSettings {
    /// How long a statement waits for a pooled connection (which includes connecting to a
    /// database that went away) before it fails with [`StoreError::Unavailable`].
    pub acquire_timeout: Duration,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        }
    }
}

/// The first pause between two attempts of [`SqlStore::open_waiting`]; it doubles up to
/// [`MAX_RETRY_PAUSE`].
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(250);
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(5);

impl SqlStore {
    /// Connects to `sqlite://PATH` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with(url, StoreSettings::default()).await
    }

    /// Like [`SqlStore::connect`], with the caller's settings.
    pub async fn connect_with(url: &str, settings: StoreSettings) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let (backend, url) = normalise_url(url)?;
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(settings.acquire_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers work while one writer commits; the busy
                        // timeout makes concurrent writers wait instead of failing.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let direct = match backend {
            Backend::Sqlite => DirectSqlite::open(&url)?.map(Arc::new),
            Backend::Postgres => None,
        };
        Ok(Self {
            counters: Batcher::new(counters_round(pool.clone())),
            jtis: Batcher::new(jti_round(pool.clone(), direct.clone())),
            direct,
            mp_keys: Arc::new(VersionedCache::new(CONFIG_CACHE_ENTRIES)),
            mp_access: Arc::new(VersionedCache::new(CONFIG_CACHE_ENTRIES)),
            pool,
            backend,
            url: url.into(),
        })
    }

    /// The change counters, as of a moment after this call began: concurrent callers
    /// share one read, but never one that started before they asked.
    pub(crate) async fn counters(&self) -> StoreResult<Counters> {
        if let Some(direct) = &self.direct
            && let Some(read) = direct.counters()
        {
            return read;
        }
        self.counters.run(()).await?
    }

    /// The direct connections, on a SQLite file.
    pub(crate) fn direct(&self) -> Option<Arc<DirectSqlite>> {
        self.direct.clone()
    }

    /// Connects and brings the schema up to date.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Like [`SqlStore::open`], but while the database cannot be reached it tries again,
    /// with pauses from 250 ms doubling up to 5 s, for up to `wait` in all (a database
    /// that starts after the server, as in a container start-up). Other errors (a bad
    /// URL, a failed migration) end it at once.
    pub async fn open_waiting(
        url: &str,
        settings: StoreSettings,
        wait: Duration,
    ) -> StoreResult<Self> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut pause = FIRST_RETRY_PAUSE;
        loop {
            match Self::connect_with(url, settings).await {
                Ok(store) => {
                    store.migrate().await?;
                    return Ok(store);
                }
                Err(err) if err.is_unavailable() && tokio::time::Instant::now() < deadline => {
                    tracing::warn!(error = %err, retry_in = ?pause, "database not reachable yet");
                    tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + pause))
                        .await;
                    pause = (pause * 2).min(MAX_RETRY_PAUSE);
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock first
    /// (`BEGIN IMMEDIATE`): a transaction that reads and then writes cannot upgrade its
    /// read lock while another connection writes (SQLite fails it with "database is
    /// locked" at once, without waiting), while one that starts as a writer waits for
    /// the lock under the busy timeout. On PostgreSQL an ordinary `BEGIN`.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// Takes the database-wide setup lock, held until [`SetupLock::release`]: processes
    /// that start at once on one fresh database load the demo data and make the first
    /// signing key one after the other, so each finds what the first made. PostgreSQL
    /// only (an advisory lock); on SQLite, made for one process, it holds nothing.
    pub async fn setup_lock(&self) -> StoreResult<SetupLock> {
        if self.backend != Backend::Postgres {
            return Ok(SetupLock { connection: None });
        }
        let mut connection = self.pool.acquire().await?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(SETUP_LOCK_KEY)
            .execute(&mut *connection)
            .await?;
        Ok(SetupLock {
            connection: Some(connection),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The advisory-lock key of [`SqlStore::setup_lock`] ("sbsetup" in ASCII).
const SETUP_LOCK_KEY: i64 = 0x0073_6273_6574_7570;

/// The held setup lock (see [`SqlStore::setup_lock`]).
pub struct SetupLock {
    connection: Option<sqlx::pool::PoolConnection<sqlx::Any>>,
}

impl SetupLock {
    /// Lets the next process go on.
    pub async fn release(mut self) -> StoreResult<()> {
        if let Some(mut connection) = self.connection.take() {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(SETUP_LOCK_KEY)
                .execute(&mut *connection)
                .await?;
        }
        Ok(())
    }
}

impl Drop for SetupLock {
    /// Not released (an error on the way): the connection is closed rather than given
    /// back to the pool, which ends the lock with it.
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            drop(connection.detach());
        }
    }
}

fn normalise_url(url: &str) -> StoreResult<(Backend, String)> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        // Create the file when missing unless the caller chose a mode.
        let url = if rest.contains("mode=") || rest.contains(":memory:") {
            url.to_string()
        } else if rest.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        };
        Ok((Backend::Sqlite, url))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok((Backend::Postgres, url.to_string()))
    } else {
        Err(StoreError::Invalid(format!(
            "unsupported database URL {url:?}: use sqlite://PATH or postgres://USER@HOST/DB"
        )))
    }
}

#[async_trait::async_trait]
impl HealthCheck for SqlStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        if self.backend == Backend::Sqlite {
            let url = self.url.clone();
            tokio::task::spawn_blocking(move || crate::replay::direct::check_writable(&url))
                .await
                .map_err(|err| StoreError::Corrupt(format!("writability check lost: {err}")))??;
        }
        Ok(())
    }
}

/// Reads a column that holds a UUID as text.
pub(crate) fn parse_uuid(s: &str) -> StoreResult<uuid::Uuid> {
    uuid::Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("uuid {s:?}: {e}")))
}
