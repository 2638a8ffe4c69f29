//! "Ask for access": a person asks a party's access managers for access packages and
//! single rights (docs/rules.md#asking-for-access). The things asked together share an
//! ask id and are answered together. The database keeps one pending ask per person,
//! party and thing; every change is written to the history in the same transaction.

use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::history::{Actor, record};
use crate::sql::parse_uuid;
use crate::{SqlStore, StoreError, StoreResult};

/// One thing asked for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum AskedThing {
    /// An access package, by catalogue code.
    Package { code: String },
    /// One action on one resource.
    Right { resource_id: String, action: String },
}

impl AskedThing {
    fn columns(&self) -> (&'static str, String) {
        match self {
            AskedThing::Package { code } => ("package", code.clone()),
            AskedThing::Right {
                resource_id,
                action,
            } => ("right", format!("{resource_id}:{action}")),
        }
    }

    fn from_columns(kind: &str, subject: &str) -> StoreResult<Self> {
        match kind {
            "package" => Ok(AskedThing::Package {
                code: subject.to_string(),
            }),
            "right" => {
                let (resource_id, action) = subject.rsplit_once(':').ok_or_else(|| {
                    StoreError::Corrupt(format!("asked right {subject:?} has no action"))
                })?;
                Ok(AskedThing::Right {
                    resource_id: resource_id.to_string(),
                    action: action.to_string(),
                })
            }
            other => Err(StoreError::Corrupt(format!("unknown ask kind {other:?}"))),
        }
    }
}

/// Where an ask stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AskStatus {
    Pending,
    Granted,
    Declined,
}

impl AskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AskStatus::Pending => "pending",
            AskStatus::Granted => "granted",
            AskStatus::Declined => "declined",
        }
    }

    fn parse(text: &str) -> StoreResult<Self> {
        match text {
            "pending" => Ok(AskStatus::Pending),
            "granted" => Ok(AskStatus::Granted),
            "declined" => Ok(AskStatus::Declined),
            other => Err(StoreError::Corrupt(format!("unknown ask status {other:?}"))),
        }
    }
}

/// An ask: who asks which party for what, and the answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessAsk {
    pub id: Uuid,
    pub person: Uuid,
    pub party: Uuid,
    pub things: Vec<AskedThing>,
    pub status: AskStatus,
    pub created_at: i64,
    pub answered_by: Option<String>,
    pub answered_at: Option<i64>,
}

/// Which asks to list; `None` matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AskFilter {
    pub person: Option<Uuid>,
    pub party: Option<Uuid>,
    pub status: Option<AskStatus>,
}

#[async_trait::async_trait]
pub trait AccessAskStore {
    /// Stores a new pending ask. A thing the person already asks the party for (still
    /// pending) is refused with [`StoreError::Conflict`] and nothing is stored.
    async fn create_ask(&self, ask: &AccessAsk) -> StoreResult<()>;
    /// Asks matching `filter`, newest first.
    async fn asks(&self, filter: &AskFilter) -> StoreResult<Vec<AccessAsk>>;
    /// One ask.
    async fn ask(&self, id: Uuid) -> StoreResult<Option<AccessAsk>>;
    /// Answers a pending ask; `Ok(false)` when it is not pending (answered, or none).
    async fn answer_ask(
        &self,
        id: Uuid,
        status: AskStatus,
        answered_by: &str,
        answered_at: i64,
    ) -> StoreResult<bool>;
}

const ASK_COLUMNS: &str =
    "ask_id, person, party, kind, subject, status, created_at, answered_by, answered_at";

/// Groups rows (ordered by ask) into asks.
fn asks_from_rows(rows: &[AnyRow]) -> StoreResult<Vec<AccessAsk>> {
    let mut out: Vec<AccessAsk> = Vec::new();
    for row in rows {
        let id = parse_uuid(&row.try_get::<String, _>("ask_id")?)?;
        let thing = AskedThing::from_columns(
            &row.try_get::<String, _>("kind")?,
            &row.try_get::<String, _>("subject")?,
        )?;
        match out.last_mut() {
            Some(last) if last.id == id => last.things.push(thing),
            _ => out.push(AccessAsk {
                id,
                person: parse_uuid(&row.try_get::<String, _>("person")?)?,
                party: parse_uuid(&row.try_get::<String, _>("party")?)?,
                things: vec![thing],
                status: AskStatus::parse(&row.try_get::<String, _>("status")?)?,
                created_at: row.try_get("created_at")?,
                answered_by: row.try_get("answered_by")?,
                answered_at: row.try_get("answered_at")?,
            }),
        }
    }
    Ok(out)
}

fn history_value(ask: &AccessAsk) -> StoreResult<serde_json::Value> {
    Ok(serde_json::to_value(ask)?)
}

#[async_trait::async_trait]
impl AccessAskStore for SqlStore {
    async fn create_ask(&self, ask: &AccessAsk) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for thing in &ask.things {
            let (kind, subject) = thing.columns();
            let inserted = sqlx::query(
                "INSERT INTO access_asks (ask_id, person, party, kind, subject, status, \
                 created_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6)",
            )
            .bind(ask.id.to_string())
            .bind(ask.person.to_string())
            .bind(ask.party.to_string())
            .bind(kind)
            .bind(&subject)
            .bind(ask.created_at)
            .execute(&mut *tx)
            .await;
            // The only uniqueness rule a fresh ask id can break is one pending ask per
            // person, party and thing.
            match inserted.map_err(StoreError::from) {
                Err(StoreError::Conflict(conflict)) => {
                    return Err(StoreError::Conflict(conflict.worded(format!(
                        "an ask for {subject} from this person to this party is pending already"
                    ))));
                }
                Err(e) => return Err(e),
                Ok(_) => {}
            }
        }
        let actor = Actor::named(&format!("party:{}", ask.person));
        let after = history_value(ask)?;
        record(
            &mut tx,
            &actor,
            ("access_ask", &ask.id.to_string()),
            "asked",
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn asks(&self, filter: &AskFilter) -> StoreResult<Vec<AccessAsk>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {ASK_COLUMNS} FROM access_asks \
             WHERE ($1 IS NULL OR person = $1) AND ($2 IS NULL OR party = $2) \
             AND ($3 IS NULL OR status = $3) \
             ORDER BY created_at DESC, ask_id, kind, subject"
        ))
        .bind(filter.person.map(|u| u.to_string()))
        .bind(filter.party.map(|u| u.to_string()))
        .bind(filter.status.map(|s| s.as_str().to_string()))
        .fetch_all(self.pool())
        .await?;
        asks_from_rows(&rows)
    }

    async fn ask(&self, id: Uuid) -> StoreResult<Option<AccessAsk>> {
        let rows = sqlx::query(trusted_sql!(
            "SELECT {ASK_COLUMNS} FROM access_asks WHERE ask_id = $1 ORDER BY kind, subject"
        ))
        .bind(id.to_string())
        .fetch_all(self.pool())
        .await?;
        Ok(asks_from_rows(&rows)?.into_iter().next())
    }

    async fn answer_ask(
        &self,
        id: Uuid,
        status: AskStatus,
        answered_by: &str,
        answered_at: i64,
    ) -> StoreResult<bool> {
        if status == AskStatus::Pending {
            return Err(StoreError::Invalid("an answer cannot be pending".into()));
        }
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE access_asks SET status = $1, answered_by = $2, answered_at = $3 \
             WHERE ask_id = $4 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(answered_by)
        .bind(answered_at)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed > 0 {
            let after = serde_json::json!({ "status": status.as_str() });
            record(
                &mut tx,
                &Actor::named(answered_by),
                ("access_ask", &id.to_string()),
                status.as_str(),
                None,
                Some(&after),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(changed > 0)
    }
}
