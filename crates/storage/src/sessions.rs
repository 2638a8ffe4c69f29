//! The portal's server-side sessions and OpenID Connect logins in progress, in the
//! database, so that any of several processes behind a load balancer serves any request
//! of a visitor.
//!
//! A session is named by a random id that only the visitor's cookie holds: the table
//! keeps its SHA-256 hash, so whoever reads the database (a backup, a replica, an
//! operator) cannot take over a session. The content is the HTTP layer's business,
//! stored as an opaque text (JSON).

use aws_lc_rs::digest::{SHA256, digest};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{SqlStore, StoreResult};

/// A session as stored: the content and its two deadlines (unix milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// What the HTTP layer keeps in the session (JSON).
    pub data: String,
    /// Gone unless used again before this moment.
    pub idle_expires_at: i64,
    /// Gone at this moment whatever happens.
    pub expires_at: i64,
}

impl StoredSession {
    /// Whether the session is still alive at `now`.
    pub fn live_at(&self, now: i64) -> bool {
        now < self.idle_expires_at && now < self.expires_at
    }
}

#[async_trait::async_trait]
pub trait SessionStore {
    /// Stores a new session under `id` (only its hash is written).
    async fn create_session(&self, id: &str, session: &StoredSession) -> StoreResult<()>;
    /// The session `id` if it is alive at `now`.
    async fn session(&self, id: &str, now: i64) -> StoreResult<Option<StoredSession>>;
    /// Replaces the content of a live session and moves its idle deadline; `Ok(false)`
    /// when it is gone.
    async fn update_session(
        &self,
        id: &str,
        data: &str,
        idle_expires_at: i64,
        now: i64,
    ) -> StoreResult<bool>;
    /// Moves the idle deadline of a live session (it was used); `Ok(false)` when gone.
    async fn touch_session(&self, id: &str, idle_expires_at: i64, now: i64) -> StoreResult<bool>;
    /// Ends the session `id`, returning it if it was alive at `now`. Its login in
    /// progress, if any, ends with it.
    async fn delete_session(&self, id: &str, now: i64) -> StoreResult<Option<StoredSession>>;
    /// Keeps the OpenID Connect login in progress of session `id` (state, nonce, PKCE
    /// verifier, where to go; opaque here) until `expires_at`, replacing an earlier one.
    async fn put_login_flow(&self, id: &str, data: &str, expires_at: i64) -> StoreResult<()>;
    /// Takes the login in progress of session `id` out: a second call gets `None`, even
    /// from another process at the same moment, so a login answer is used at most once.
    async fn take_login_flow(&self, id: &str, now: i64) -> StoreResult<Option<String>>;
    /// Deletes the sessions and logins in progress that expired before `now`; the number
    /// of rows removed.
    async fn purge_sessions(&self, now: i64) -> StoreResult<u64>;
}

/// The stored name of session `id`: its SHA-256, in hex.
pub fn session_key(id: &str) -> String {
    digest(&SHA256, id.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn session_from_row(row: &AnyRow) -> StoreResult<StoredSession> {
    Ok(StoredSession {
        data: row.try_get("data")?,
        idle_expires_at: row.try_get("idle_expires_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

#[async_trait::async_trait]
impl SessionStore for SqlStore {
    async fn create_session(&self, id: &str, session: &StoredSession) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO portal_sessions (id_hash, data, idle_expires_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(session_key(id))
        .bind(&session.data)
        .bind(session.idle_expires_at)
        .bind(session.expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn session(&self, id: &str, now: i64) -> StoreResult<Option<StoredSession>> {
        let row = sqlx::query(
            "SELECT data, idle_expires_at, expires_at FROM portal_sessions \
             WHERE id_hash = $1 AND idle_expires_at > $2 AND expires_at > $2",
        )
        .bind(session_key(id))
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn update_session(
        &self,
        id: &str,
        data: &str,
        idle_expires_at: i64,
        now: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE portal_sessions SET data = $1, idle_expires_at = $2 \
             WHERE id_hash = $3 AND idle_expires_at > $4 AND expires_at > $4",
        )
        .bind(data)
        .bind(idle_expires_at)
        .bind(session_key(id))
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn touch_session(&self, id: &str, idle_expires_at: i64, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE portal_sessions SET idle_expires_at = $1 \
             WHERE id_hash = $2 AND idle_expires_at > $3 AND expires_at > $3",
        )
        .bind(idle_expires_at)
        .bind(session_key(id))
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_session(&self, id: &str, now: i64) -> StoreResult<Option<StoredSession>> {
        let key = session_key(id);
        sqlx::query("DELETE FROM portal_login_flows WHERE session_hash = $1")
            .bind(&key)
            .execute(self.pool())
            .await?;
        let row = sqlx::query(
            "DELETE FROM portal_sessions WHERE id_hash = $1 \
             RETURNING data, idle_expires_at, expires_at",
        )
        .bind(&key)
        .fetch_optional(self.pool())
        .await?;
        let session = row.as_ref().map(session_from_row).transpose()?;
        Ok(session.filter(|s| s.live_at(now)))
    }

    async fn put_login_flow(&self, id: &str, data: &str, expires_at: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO portal_login_flows (session_hash, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (session_hash) DO UPDATE SET data = excluded.data, \
             expires_at = excluded.expires_at",
        )
        .bind(session_key(id))
        .bind(data)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn take_login_flow(&self, id: &str, now: i64) -> StoreResult<Option<String>> {
        // One statement finds and deletes: of two concurrent callbacks only one gets it.
        let row = sqlx::query(
            "DELETE FROM portal_login_flows WHERE session_hash = $1 \
             RETURNING data, expires_at",
        )
        .bind(session_key(id))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let expires_at: i64 = row.try_get("expires_at")?;
        Ok((now < expires_at)
            .then(|| row.try_get("data"))
            .transpose()?)
    }

    async fn purge_sessions(&self, now: i64) -> StoreResult<u64> {
        let flows = sqlx::query("DELETE FROM portal_login_flows WHERE expires_at <= $1")
            .bind(now)
            .execute(self.pool())
            .await?;
        let sessions = sqlx::query(
            "DELETE FROM portal_sessions WHERE idle_expires_at <= $1 OR expires_at <= $1",
        )
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(flows.rows_affected() + sessions.rows_affected())
    }
}
