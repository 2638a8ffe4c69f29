//! The history's hash chain, the vendors' events derived from it, webhook subscriptions,
//! their delivery log and the delivery leases.
//!
//! Why the history is the outbox (and no table of its own is written by the use cases):
//! every change already writes its history row in its own transaction, including the rows
//! triggers write (client removals by the cascade), so deriving the events from it cannot
//! miss one and needs no second write in every use case. What the history lacks is an
//! order in which rows become visible: PostgreSQL hands out `seq` at insert, not at commit.
//! So a *sealer* appends committed rows to the hash chain, one sealer at a time (it updates
//! the `history_chain` row first: the write lock on SQLite, a row lock on PostgreSQL), and
//! in the same transaction writes the row's event, if it raises one, under the row's chain
//! position. A chain position is handed out only under that lock and committed before the
//! next, so a reader that has seen position n has seen every position below it: the pull
//! feed's `after=n` and the subscriptions' cursors never skip an event.

use aws_lc_rs::digest::{SHA256, digest};
use serde_json::{Value, json};
use sqlx::{Any, Row, Transaction};
use systembruker_domain::events::event_type;

use crate::{SqlStore, StoreError, StoreResult, now_millis};

/// One event for a vendor, as stored (the CloudEvents envelope is made by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// The position in the history chain: the order of events.
    pub seq: i64,
    pub id: String,
    pub system_id: String,
    pub event_type: String,
    pub subject: String,
    /// Unix milliseconds of the change.
    pub time: i64,
    pub data: Value,
}

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSubscription {
    pub id: String,
    pub system_id: String,
    pub callback_url: String,
    pub event_types: Vec<String>,
    pub secret: String,
    pub created_at: i64,
    pub created_by: String,
    pub cursor: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
}

/// What a new subscription holds.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub system_id: String,
    pub callback_url: String,
    pub event_types: Vec<String>,
    pub secret: String,
    pub created_by: String,
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Failed,
    /// Failed for the last time: the schedule is over.
    Abandoned,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Abandoned => "abandoned",
        }
    }
}

/// One line of a subscription's delivery log.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub subscription_id: String,
    pub event_id: String,
    pub event_seq: i64,
    pub attempt: i64,
    pub at: i64,
    pub outcome: String,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub manual: bool,
}

/// A delivery attempt to log.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    pub event: &'a StoredEvent,
    pub attempt: i64,
    pub outcome: Outcome,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub manual: bool,
}

/// A redelivery a vendor asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Redelivery {
    pub id: i64,
    pub event_seq: i64,
}

/// What `history verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Sealed entries checked.
    pub checked: i64,
    /// Entries not sealed yet (written since the sealer last ran).
    pub unsealed: i64,
    /// The first entry that breaks the chain, if any.
    pub broken: Option<BrokenEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenEntry {
    /// The chain position where the chain breaks.
    pub chain_seq: i64,
    /// The history row's own sequence number, when the row is there.
    pub seq: Option<i64>,
    pub reason: String,
}

#[async_trait::async_trait]
pub trait EventStore {
    /// Appends up to `limit` committed, unsealed history rows to the chain and writes
    /// their events; how many it sealed.
    async fn seal_history(&self, limit: i64) -> StoreResult<usize>;
    /// Checks the whole chain.
    async fn verify_history(&self) -> StoreResult<ChainReport>;
    /// The system's events after `after`, oldest first.
    async fn events_after(
        &self,
        system_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredEvent>>;
    async fn event(&self, system_id: &str, id: &str) -> StoreResult<Option<StoredEvent>>;
    async fn event_at(&self, seq: i64) -> StoreResult<Option<StoredEvent>>;
    /// Stores a subscription that starts after the newest event of the system.
    async fn create_subscription(
        &self,
        id: &str,
        new: &NewSubscription,
    ) -> StoreResult<StoredSubscription>;
    async fn subscriptions(&self, system_id: &str) -> StoreResult<Vec<StoredSubscription>>;
    async fn subscription(&self, id: &str) -> StoreResult<Option<StoredSubscription>>;
    /// Ends a subscription; whether it was live.
    async fn delete_subscription(&self, id: &str) -> StoreResult<bool>;
    /// Live subscriptions with something to deliver now and no live lease.
    async fn due_subscriptions(&self, now: i64, limit: i64)
    -> StoreResult<Vec<StoredSubscription>>;
    /// Takes or renews the lease of a subscription for `owner` until `until`; whether it
    /// is `owner`'s now (another process holds a live lease, or it was deleted: no).
    async fn claim_subscription(
        &self,
        id: &str,
        owner: &str,
        now: i64,
        until: i64,
    ) -> StoreResult<bool>;
    async fn release_subscription(&self, id: &str, owner: &str) -> StoreResult<()>;
    /// Moves the cursor past `seq` and clears the failures; false if the lease was lost.
    async fn advance_subscription(&self, id: &str, owner: &str, seq: i64) -> StoreResult<bool>;
    /// Notes a failed attempt and when to try again.
    async fn postpone_subscription(
        &self,
        id: &str,
        owner: &str,
        attempts: i64,
        next_at: i64,
    ) -> StoreResult<bool>;
    async fn log_delivery(&self, subscription_id: &str, attempt: &Attempt<'_>) -> StoreResult<()>;
    /// The newest `limit` log lines, newest first.
    async fn deliveries(&self, subscription_id: &str, limit: i64) -> StoreResult<Vec<Delivery>>;
    async fn request_redelivery(&self, subscription_id: &str, event_seq: i64) -> StoreResult<()>;
    async fn pending_redeliveries(&self, subscription_id: &str) -> StoreResult<Vec<Redelivery>>;
    async fn redelivery_done(&self, id: i64) -> StoreResult<()>;
}

/// The chain hash of one row: SHA-256 over the previous hash and the row's stored fields,
/// as a JSON array (unambiguous, and the JSON columns as their stored text).
pub fn chain_hash(prev_hash: &str, chain_seq: i64, row: &ChainRow) -> String {
    let input = json!([
        prev_hash,
        chain_seq,
        row.seq,
        row.at,
        row.actor,
        row.entity,
        row.entity_id,
        row.action,
        row.before,
        row.after
    ]);
    let hash = digest(&SHA256, input.to_string().as_bytes());
    hash.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored fields of a history row the chain covers.
#[derive(Debug, Clone)]
pub struct ChainRow {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

const ROW_COLUMNS: &str = "seq, at, actor, entity, entity_id, action, before, after";

fn chain_row(row: &sqlx::any::AnyRow) -> StoreResult<ChainRow> {
    Ok(ChainRow {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        entity: row.try_get("entity")?,
        entity_id: row.try_get("entity_id")?,
        action: row.try_get("action")?,
        before: row.try_get("before")?,
        after: row.try_get("after")?,
    })
}

/// The system and organisation a history entity belongs to.
async fn owner_of(
    tx: &mut Transaction<'_, Any>,
    entity: &str,
    id: &str,
) -> StoreResult<Option<(String, String)>> {
    let sql = match entity {
        "request" => "SELECT system_id, party_org AS org FROM systemuser_requests WHERE id = $1",
        "change_request" => "SELECT system_id, party_org AS org FROM change_requests WHERE id = $1",
        "system_user" => "SELECT system_id, owner_org AS org FROM system_users WHERE id = $1",
        _ => return Ok(None),
    };
    let row = sqlx::query(sql).bind(id).fetch_optional(&mut **tx).await?;
    row.map(|r| Ok((r.try_get("system_id")?, r.try_get("org")?)))
        .transpose()
}

fn parse_json(text: Option<&str>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(t).ok())
}

/// The event a sealed row raises, if any.
async fn derive_event(
    tx: &mut Transaction<'_, Any>,
    chain_seq: i64,
    row: &ChainRow,
) -> StoreResult<()> {
    let after = parse_json(row.after.as_deref());
    let Some(kind) = event_type(&row.entity, &row.action, after.as_ref()) else {
        return Ok(());
    };
    let Some((system_id, org)) = owner_of(tx, &row.entity, &row.entity_id).await? else {
        return Ok(());
    };
    let id_field = match row.entity.as_str() {
        "request" => "requestId",
        "change_request" => "changeRequestId",
        _ => "systemUserId",
    };
    let data = json!({
        "systemId": system_id,
        "partyOrgNo": org,
        id_field: row.entity_id,
        "before": parse_json(row.before.as_deref()),
        "after": after,
    });
    sqlx::query(
        "INSERT INTO events (seq, id, system_id, type, subject, time, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(chain_seq)
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&system_id)
    .bind(kind)
    .bind(&row.entity_id)
    .bind(row.at)
    .bind(data.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn event_of(row: &sqlx::any::AnyRow) -> StoreResult<StoredEvent> {
    let data: String = row.try_get("data")?;
    Ok(StoredEvent {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        system_id: row.try_get("system_id")?,
        event_type: row.try_get("type")?,
        subject: row.try_get("subject")?,
        time: row.try_get("time")?,
        data: serde_json::from_str(&data)?,
    })
}

const EVENT_COLUMNS: &str = "seq, id, system_id, type, subject, time, data";
const SUBSCRIPTION_COLUMNS: &str = "id, system_id, callback_url, event_types, secret, created_at, \
     created_by, cursor, attempts, next_attempt_at";

fn subscription_of(row: &sqlx::any::AnyRow) -> StoreResult<StoredSubscription> {
    let types: String = row.try_get("event_types")?;
    Ok(StoredSubscription {
        id: row.try_get("id")?,
        system_id: row.try_get("system_id")?,
        callback_url: row.try_get("callback_url")?,
        event_types: serde_json::from_str(&types)?,
        secret: row.try_get("secret")?,
        created_at: row.try_get("created_at")?,
        created_by: row.try_get("created_by")?,
        cursor: row.try_get("cursor")?,
        attempts: int(row, "attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
    })
}

#[async_trait::async_trait]
impl EventStore for SqlStore {
    async fn seal_history(&self, limit: i64) -> StoreResult<usize> {
        // A read first: an idle worker takes no write lock.
        let pending: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM history WHERE hash IS NULL LIMIT 1")
                .fetch_optional(self.pool())
                .await?;
        if pending.is_none() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        // First the head row: sealers take turns from here to the commit.
        sqlx::query("UPDATE history_chain SET last_seq = last_seq WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let head = sqlx::query("SELECT last_seq, last_hash FROM history_chain WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let mut last_seq: i64 = head.try_get("last_seq")?;
        let mut last_hash: String = head.try_get("last_hash")?;
        let rows = sqlx::query(trusted_sql!(
            "SELECT {ROW_COLUMNS} FROM history WHERE hash IS NULL ORDER BY seq LIMIT $1"
        ))
        .bind(limit.clamp(1, 10_000))
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            let row = chain_row(row)?;
            let chain_seq = last_seq + 1;
            let hash = chain_hash(&last_hash, chain_seq, &row);
            sqlx::query(
                "UPDATE history SET chain_seq = $1, prev_hash = $2, hash = $3 WHERE seq = $4",
            )
            .bind(chain_seq)
            .bind(&last_hash)
            .bind(&hash)
            .bind(row.seq)
            .execute(&mut *tx)
            .await?;
            derive_event(&mut tx, chain_seq, &row).await?;
            last_seq = chain_seq;
            last_hash = hash;
        }
        if !rows.is_empty() {
            sqlx::query("UPDATE history_chain SET last_seq = $1, last_hash = $2 WHERE id = 1")
                .bind(last_seq)
                .bind(&last_hash)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    async fn verify_history(&self) -> StoreResult<ChainReport> {
        let head = sqlx::query("SELECT last_seq, last_hash FROM history_chain WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        let head_seq: i64 = head.try_get("last_seq")?;
        let head_hash: String = head.try_get("last_hash")?;
        let unsealed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM history WHERE hash IS NULL")
            .fetch_one(self.pool())
            .await?;
        let broken = |chain_seq: i64, seq: Option<i64>, reason: &str| {
            Some(BrokenEntry {
                chain_seq,
                seq,
                reason: reason.to_string(),
            })
        };
        let mut expected = 1_i64;
        let mut prev_hash = String::new();
        loop {
            let rows = sqlx::query(trusted_sql!(
                "SELECT {ROW_COLUMNS}, chain_seq, prev_hash, hash FROM history \
                 WHERE chain_seq >= $1 ORDER BY chain_seq LIMIT 1000"
            ))
            .bind(expected)
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let chain_seq: i64 = row.try_get("chain_seq")?;
                let stored_prev: String = row.try_get("prev_hash")?;
                let stored_hash: String = row.try_get("hash")?;
                let fields = chain_row(row)?;
                let report = |broken| ChainReport {
                    checked: expected - 1,
                    unsealed,
                    broken,
                };
                if chain_seq != expected {
                    return Ok(report(broken(
                        expected,
                        None,
                        "the entry at this position is missing (deleted)",
                    )));
                }
                if stored_prev != prev_hash {
                    return Ok(report(broken(
                        chain_seq,
                        Some(fields.seq),
                        "it does not link to the previous entry's hash",
                    )));
                }
                if chain_hash(&prev_hash, chain_seq, &fields) != stored_hash {
                    return Ok(report(broken(
                        chain_seq,
                        Some(fields.seq),
                        "its content does not match its hash (changed after it was written)",
                    )));
                }
                prev_hash = stored_hash;
                expected += 1;
            }
        }
        let checked = expected - 1;
        let tail = if checked < head_seq {
            broken(
                checked + 1,
                None,
                "entries at the end of the chain are missing (deleted)",
            )
        } else if checked > head_seq || prev_hash != head_hash {
            broken(
                head_seq,
                None,
                "the chain's head does not match its last entry",
            )
        } else {
            None
        };
        Ok(ChainReport {
            checked,
            unsealed,
            broken: tail,
        })
    }

    async fn events_after(
        &self,
        system_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredEvent>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE system_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3"
        ))
        .bind(system_id)
        .bind(after)
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_of).collect()
    }

    async fn event(&self, system_id: &str, id: &str) -> StoreResult<Option<StoredEvent>> {
        let row = sqlx::query(trusted_sql!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE system_id = $1 AND id = $2"
        ))
        .bind(system_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(event_of).transpose()
    }

    async fn event_at(&self, seq: i64) -> StoreResult<Option<StoredEvent>> {
        let row = sqlx::query(trusted_sql!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE seq = $1"
        ))
        .bind(seq)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(event_of).transpose()
    }

    async fn create_subscription(
        &self,
        id: &str,
        new: &NewSubscription,
    ) -> StoreResult<StoredSubscription> {
        let mut tx = self.begin_write().await?;
        // Starts after the newest sealed position: only what happens from now on.
        let cursor: i64 = sqlx::query_scalar("SELECT last_seq FROM history_chain WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO event_subscriptions (id, system_id, callback_url, event_types, secret, \
             created_at, created_by, cursor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(&new.system_id)
        .bind(&new.callback_url)
        .bind(serde_json::to_string(&new.event_types)?)
        .bind(&new.secret)
        .bind(now_millis())
        .bind(&new.created_by)
        .bind(cursor)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.subscription(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("subscription {id}")))
    }

    async fn subscriptions(&self, system_id: &str) -> StoreResult<Vec<StoredSubscription>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM event_subscriptions \
             WHERE system_id = $1 AND NOT is_deleted ORDER BY created_at, id"
        ))
        .bind(system_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(subscription_of).collect()
    }

    async fn subscription(&self, id: &str) -> StoreResult<Option<StoredSubscription>> {
        let row = sqlx::query(trusted_sql!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM event_subscriptions WHERE id = $1 AND NOT is_deleted"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(subscription_of).transpose()
    }

    async fn delete_subscription(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE event_subscriptions SET is_deleted = TRUE WHERE id = $1 AND NOT is_deleted",
        )
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn due_subscriptions(
        &self,
        now: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredSubscription>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM event_subscriptions s \
             WHERE NOT s.is_deleted AND s.lease_until < $1 AND ( \
               (s.next_attempt_at <= $1 AND EXISTS (SELECT 1 FROM events e \
                  WHERE e.system_id = s.system_id AND e.seq > s.cursor)) \
               OR EXISTS (SELECT 1 FROM event_redeliveries r \
                  WHERE r.subscription_id = s.id AND NOT r.done)) \
             ORDER BY s.next_attempt_at LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(subscription_of).collect()
    }

    async fn claim_subscription(
        &self,
        id: &str,
        owner: &str,
        now: i64,
        until: i64,
    ) -> StoreResult<bool> {
        // A compare-and-set on the lease: of several processes, one sees its update take.
        let done = sqlx::query(
            "UPDATE event_subscriptions SET lease_owner = $1, lease_until = $2 \
             WHERE id = $3 AND NOT is_deleted AND (lease_until < $4 OR lease_owner = $1)",
        )
        .bind(owner)
        .bind(until)
        .bind(id)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn release_subscription(&self, id: &str, owner: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE event_subscriptions SET lease_owner = NULL, lease_until = 0 \
             WHERE id = $1 AND lease_owner = $2",
        )
        .bind(id)
        .bind(owner)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn advance_subscription(&self, id: &str, owner: &str, seq: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE event_subscriptions SET cursor = $1, attempts = 0, next_attempt_at = 0 \
             WHERE id = $2 AND lease_owner = $3 AND cursor < $1",
        )
        .bind(seq)
        .bind(id)
        .bind(owner)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn postpone_subscription(
        &self,
        id: &str,
        owner: &str,
        attempts: i64,
        next_at: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE event_subscriptions SET attempts = $1, next_attempt_at = $2 \
             WHERE id = $3 AND lease_owner = $4",
        )
        .bind(i32::try_from(attempts).unwrap_or(i32::MAX))
        .bind(next_at)
        .bind(id)
        .bind(owner)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn log_delivery(&self, subscription_id: &str, attempt: &Attempt<'_>) -> StoreResult<()> {
        let manual = if attempt.manual { "TRUE" } else { "FALSE" };
        sqlx::query(trusted_sql!(
            "INSERT INTO event_deliveries (subscription_id, event_id, event_seq, attempt, at, \
             outcome, status_code, error, manual) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, {manual})"
        ))
        .bind(subscription_id)
        .bind(&attempt.event.id)
        .bind(attempt.event.seq)
        .bind(i32::try_from(attempt.attempt).unwrap_or(i32::MAX))
        .bind(now_millis())
        .bind(attempt.outcome.as_str())
        .bind(attempt.status_code.map(i32::from))
        .bind(attempt.error.clone())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn deliveries(&self, subscription_id: &str, limit: i64) -> StoreResult<Vec<Delivery>> {
        let rows = sqlx::query(
            "SELECT id, subscription_id, event_id, event_seq, attempt, at, outcome, status_code, \
             error, manual FROM event_deliveries WHERE subscription_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(subscription_id)
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Delivery {
                    id: row.try_get("id")?,
                    subscription_id: row.try_get("subscription_id")?,
                    event_id: row.try_get("event_id")?,
                    event_seq: row.try_get("event_seq")?,
                    attempt: int(row, "attempt")?,
                    at: row.try_get("at")?,
                    outcome: row.try_get("outcome")?,
                    status_code: row
                        .try_get::<Option<i32>, _>("status_code")
                        .map(|v| v.map(i64::from))
                        .or_else(|_| row.try_get::<Option<i64>, _>("status_code"))?,
                    error: row.try_get("error")?,
                    manual: crate::history::flag(row, "manual")?,
                })
            })
            .collect()
    }

    async fn request_redelivery(&self, subscription_id: &str, event_seq: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO event_redeliveries (subscription_id, event_seq, requested_at) \
             VALUES ($1, $2, $3)",
        )
        .bind(subscription_id)
        .bind(event_seq)
        .bind(now_millis())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn pending_redeliveries(&self, subscription_id: &str) -> StoreResult<Vec<Redelivery>> {
        let rows = sqlx::query(
            "SELECT id, event_seq FROM event_redeliveries WHERE subscription_id = $1 AND NOT done \
             ORDER BY id",
        )
        .bind(subscription_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Redelivery {
                    id: row.try_get("id")?,
                    event_seq: row.try_get("event_seq")?,
                })
            })
            .collect()
    }

    async fn redelivery_done(&self, id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE event_redeliveries SET done = TRUE WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// An INTEGER column: INT4 on PostgreSQL, INTEGER (i64) on SQLite.
fn int(row: &sqlx::any::AnyRow, column: &str) -> StoreResult<i64> {
    match row.try_get::<i32, _>(column) {
        Ok(value) => Ok(i64::from(value)),
        Err(_) => Ok(row.try_get::<i64, _>(column)?),
    }
}
