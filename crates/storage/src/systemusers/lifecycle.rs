//! Applies a step of the request lifecycle (`systembruker_domain::lifecycle`) to stored
//! requests and change requests: one conditional update and its history rows, in the
//! caller's transaction. The condition (live, and `New` unless the step works on
//! answered ones too) decides races: of two concurrent answers, the second matches no row.

use serde_json::{Value, json};
use sqlx::{Any, Transaction};
use systembruker_domain::lifecycle::Transition;
use systembruker_domain::systemuser::RequestStatus;
use uuid::Uuid;

use crate::history::{Actor, record};
use crate::{SqlStore, StoreError, StoreResult, now_millis};

/// The kind of record a transition applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Record {
    Request,
    ChangeRequest,
}

impl Record {
    fn table(self) -> &'static str {
        match self {
            Self::Request => "systemuser_requests",
            Self::ChangeRequest => "change_requests",
        }
    }

    /// The entity name in the history.
    fn entity(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::ChangeRequest => "change_request",
        }
    }
}

/// Which rows a transition applies to (live ones only, always).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rows<'a> {
    /// The one with this id.
    Id(Uuid),
    /// The one with this id, if created at or after the cutoff (not timed out).
    IdCreatedSince(Uuid, i64),
    /// Every one created before the cutoff.
    CreatedBefore(i64),
    /// Every one for this system.
    OfSystem(&'a str),
    /// Every change request of this system user.
    OfSystemUser(Uuid),
}

impl Rows<'_> {
    fn clause(&self) -> &'static str {
        match self {
            Self::Id(_) => "id = $3",
            Self::IdCreatedSince(..) => "id = $3 AND created_at >= $4",
            Self::CreatedBefore(_) => "created_at < $3",
            Self::OfSystem(_) => "system_id = $3",
            Self::OfSystemUser(_) => "system_user_id = $3",
        }
    }
}

/// What the transition writes: a new status, the escalation flag or the deletion mark.
fn assignment(transition: Transition) -> String {
    match (transition.target(), transition) {
        (Some(status), _) => format!("status = '{}'", status.as_str()),
        (None, Transition::Escalate) => "escalated = TRUE".to_string(),
        (None, _) => "is_deleted = TRUE".to_string(),
    }
}

/// The history row's action, before and after. `note` adds fields to the after-image
/// of a status change (the system user an approval made, why a request was denied).
fn history_of(
    transition: Transition,
    note: Option<Value>,
) -> (&'static str, Option<Value>, Option<Value>) {
    let Some(status) = transition.target() else {
        return match transition {
            Transition::Escalate => ("escalate", None, Some(json!({"escalated": true}))),
            _ => ("delete", None, None),
        };
    };
    let action = match transition {
        Transition::Accept => "approve",
        Transition::Deny => "deny",
        _ => "status",
    };
    let mut after = json!({"status": status.as_str()});
    if let (Some(Value::Object(fields)), Some(after)) = (note, after.as_object_mut()) {
        after.extend(fields);
    }
    (action, Some(json!({"status": "New"})), Some(after))
}

/// Applies `transition` to the `rows` of `kind` and records each changed row in the
/// history; returns the ids it changed.
pub(crate) async fn apply(
    tx: &mut Transaction<'_, Any>,
    kind: Record,
    transition: Transition,
    rows: Rows<'_>,
    note: Option<Value>,
    actor: &Actor,
) -> StoreResult<Vec<String>> {
    let only_new = if transition.needs_new() {
        " AND status = 'New'"
    } else {
        ""
    };
    let sql = trusted_sql!(
        "UPDATE {} SET {}, updated_at = $1, changed_by = $2 WHERE {} AND NOT is_deleted{only_new} \
         RETURNING id",
        kind.table(),
        assignment(transition),
        rows.clause()
    );
    let query = sqlx::query_scalar(sql).bind(now_millis()).bind(&actor.name);
    let query = match rows {
        Rows::Id(id) | Rows::OfSystemUser(id) => query.bind(id.to_string()),
        Rows::IdCreatedSince(id, cutoff) => query.bind(id.to_string()).bind(cutoff),
        Rows::CreatedBefore(cutoff) => query.bind(cutoff),
        Rows::OfSystem(system_id) => query.bind(system_id.to_string()),
    };
    let changed: Vec<String> = query.fetch_all(&mut **tx).await?;
    let (action, before, after) = history_of(transition, note);
    for id in &changed {
        record(
            tx,
            actor,
            (kind.entity(), id),
            action,
            before.as_ref(),
            after.as_ref(),
        )
        .await?;
    }
    Ok(changed)
}

impl SqlStore {
    /// Applies `transition` to one record in a transaction of its own; whether it changed.
    pub(crate) async fn transition_one(
        &self,
        kind: Record,
        transition: Transition,
        id: Uuid,
        actor: &Actor,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = apply(&mut tx, kind, transition, Rows::Id(id), None, actor).await?;
        tx.commit().await?;
        Ok(!changed.is_empty())
    }

    /// Closes one `New` record with `status` (Rejected, Timedout, …).
    pub(crate) async fn close_one(
        &self,
        kind: Record,
        id: Uuid,
        status: RequestStatus,
        actor: &Actor,
    ) -> StoreResult<bool> {
        let transition = Transition::to(status).ok_or_else(|| {
            StoreError::Invalid(format!("nothing is closed as {}", status.as_str()))
        })?;
        self.transition_one(kind, transition, id, actor).await
    }
}
