//! The audit of what system users and persons did (README, "Audit"): every token issued
//! for a system user and every decision the PDP API answers, recorded off the request
//! path ([`recorder`]), shown to the parties they concern and to the operator, exported
//! as CSV or JSON lines, and purged after the retention period.
//!
//! Who sees what ([`viewer_of`]): the owner's access managers see everything their system
//! user did (client administrators too, for an agent system user, per client if they
//! filter); a client's access managers see what a firm's agent system user did for the
//! client, and nothing of what it did for others.

mod recorder;

use std::time::Duration;

use serde::Serialize;
use systembruker_domain::RuleError;
use systembruker_domain::systemuser::SystemUserType;
use systembruker_storage::{
    AuditFilter, AuditKind, AuditRecord, MAX_AUDIT_PAGE, NewAuditRecord, Store,
};
use systembruker_token::TokenResponse;
use systembruker_xacml::{DecisionResult, Request};
use uuid::Uuid;

pub use recorder::{AuditMetrics, AuditSettings, DEFAULT_RETENTION_DAYS, DropLabels, Recorder};

use crate::access::{self, Need};
use crate::pdp::{Trace, TracedSubject};
use crate::systemusers::{PartyKey, owner_party};
use crate::{App, AppError, AppResult, Caller};

pub(crate) fn now_millis() -> i64 {
    systembruker_storage::now_millis()
}

// ----- recording -----

/// Decides a request of the PDP API and records every answered decision. The records
/// are queued before the answer leaves, so a graceful shutdown writes them all.
pub async fn decide(app: &App, request: &Request, asked_by: &Caller) -> Vec<DecisionResult> {
    if !app.audit.is_enabled() {
        return app.pdp.authorize(request).await;
    }
    let traced = app.pdp.authorize_traced(request).await;
    let at = now_millis();
    let records: Vec<NewAuditRecord> = traced
        .iter()
        .map(|(result, trace)| decision_record(result, trace, asked_by, at))
        .collect();
    app.audit.record_all(records).await;
    traced.into_iter().map(|(result, _)| result).collect()
}

/// The record of one decision.
fn decision_record(
    result: &DecisionResult,
    trace: &Trace,
    asked_by: &Caller,
    at: i64,
) -> NewAuditRecord {
    let (system_user_id, subject) = match &trace.subject {
        Some(TracedSubject::SystemUser(id)) => (Some(*id), format!("systemuser:{id}")),
        Some(TracedSubject::Party(id)) => (None, format!("party:{id}")),
        Some(TracedSubject::Unknown) => (None, "unknown".to_string()),
        None => (None, "unresolved".to_string()),
    };
    NewAuditRecord {
        at,
        kind: AuditKind::Decision,
        system_user_id,
        subject,
        party: trace.party,
        resource: trace.resource.clone(),
        action: trace.action.clone(),
        decision: Some(result.decision.as_str().to_string()),
        decided_by: trace.decided_by.clone(),
        caller: asked_by.audit_name(),
        client_id: asked_by.client_id.clone(),
        system_id: None,
        scopes: None,
        jti: None,
    }
}

/// The record of a token issued for a system user; `None` for a token without one.
pub fn token_record(issued: &TokenResponse, at: i64) -> Option<NewAuditRecord> {
    let system_user = issued.system_user.as_ref()?;
    Some(NewAuditRecord {
        at,
        kind: AuditKind::Token,
        system_user_id: Some(system_user.system_user_id),
        subject: format!("systemuser:{}", system_user.system_user_id),
        party: Some(system_user.owner_party),
        resource: None,
        action: None,
        decision: None,
        decided_by: None,
        caller: format!("org:{}", issued.consumer_org),
        client_id: Some(issued.client_id.to_string()),
        system_id: Some(system_user.system_id.clone()),
        scopes: Some(issued.scope.clone()),
        jti: Some(issued.jti.clone()),
    })
}

/// Records a token the token endpoint issued (if it is for a system user).
pub async fn token_issued(app: &App, issued: &TokenResponse) {
    if let Some(record) = token_record(issued, now_millis()) {
        app.audit.record(record).await;
    }
}

// ----- reading -----

/// Who looks at a system user's activity, from a party's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// The party owns the system user: all of its activity.
    Owner,
    /// The party is a client of the agent system user: what it did for this party only.
    Client(Uuid),
}

impl Viewer {
    /// What the end user needs in the viewing party: the owner's access managers (also
    /// client administrators for an agent system user, as the overview lists those);
    /// a client's access managers.
    pub fn need(self, user_type: SystemUserType) -> Need {
        match (self, user_type) {
            (Viewer::Owner, SystemUserType::Agent) => Need::ReadOverview,
            _ => Need::ReadAccess,
        }
    }
}

/// The rule of who sees a system user's activity: its owner, or — for an agent system
/// user only — any other party, limited to what was done for that party.
pub fn viewer_of(owner: Uuid, user_type: SystemUserType, party: Uuid) -> Option<Viewer> {
    if owner == party {
        Some(Viewer::Owner)
    } else if user_type == SystemUserType::Agent {
        Some(Viewer::Client(party))
    } else {
        None
    }
}

/// Filters of an activity listing or export; `None` matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityQuery {
    pub kind: Option<AuditKind>,
    pub resource: Option<String>,
    pub decision: Option<String>,
    /// Unix milliseconds, inclusive.
    pub from: Option<i64>,
    /// Unix milliseconds, exclusive.
    pub to: Option<i64>,
    /// Only what was done for this party (the owner's view of an agent's clients; the
    /// operator's view of a party).
    pub party: Option<Uuid>,
    /// Only this system user's activity (the operator's view).
    pub system_user_id: Option<Uuid>,
    /// Keyset paging: the `next` of the previous page.
    pub before: Option<i64>,
    /// Page size (default [`DEFAULT_PAGE`], at most [`MAX_AUDIT_PAGE`]).
    pub limit: Option<i64>,
}

/// The default page size.
pub const DEFAULT_PAGE: i64 = 50;
/// The most records one export holds; a longer range is refused (ask for a shorter one).
pub const MAX_EXPORT: usize = 100_000;

/// The decisions a filter accepts, as the PDP names them.
pub const DECISIONS: [&str; 4] = ["Permit", "Deny", "NotApplicable", "Indeterminate"];

impl ActivityQuery {
    fn filter(&self) -> AuditFilter {
        AuditFilter {
            system_user_id: self.system_user_id,
            party: self.party,
            kind: self.kind,
            resource: self.resource.clone(),
            decision: self.decision.clone(),
            from: self.from,
            to: self.to,
            before: self.before,
            limit: self.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_AUDIT_PAGE),
        }
    }

    fn check(&self) -> AppResult<()> {
        if let Some(decision) = &self.decision
            && !DECISIONS.contains(&decision.as_str())
        {
            return Err(AppError::BadRequest(format!(
                "decision {decision:?} is not one of {}",
                DECISIONS.join(", ")
            )));
        }
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from >= to
        {
            return Err(AppError::BadRequest(
                "the time range is empty: from must be before to".into(),
            ));
        }
        Ok(())
    }
}

/// One page of activity, newest first, and the cursor of the next (if there is one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityPage {
    pub records: Vec<AuditRecord>,
    pub next: Option<i64>,
}

async fn page(app: &App, filter: &AuditFilter) -> AppResult<ActivityPage> {
    let records = app.store.audit(filter).await?;
    let next = (records.len() as i64 == filter.limit)
        .then(|| records.last().map(|r| r.seq))
        .flatten();
    Ok(ActivityPage { records, next })
}

/// The filter a party's end user may read a system user's activity with; 403 for one
/// who may not see the party's system access, 404 (AUTH-00015) for a system user the
/// party neither owns nor is a client of.
async fn party_filter(
    app: &App,
    caller: &Caller,
    party: PartyKey,
    id: Uuid,
    query: &ActivityQuery,
) -> AppResult<AuditFilter> {
    query.check()?;
    let party = owner_party(app, party).await?;
    let user = access::end_user(app, caller).await?;
    let standing = access::standing(app, user, party.uuid).await?;
    if !(Need::ReadAccess.met_by(&standing) || Need::ReadOverview.met_by(&standing)) {
        return Err(Need::ReadOverview.refusal());
    }
    let not_found = || AppError::from(RuleError::SystemUserNotFound { id: id.to_string() });
    let system_user = app.store.system_user(id).await?.ok_or_else(not_found)?;
    let viewer = viewer_of(
        system_user.owner_party_uuid,
        system_user.user_type,
        party.uuid,
    )
    .ok_or_else(not_found)?;
    let need = viewer.need(system_user.user_type);
    if !need.met_by(&standing) {
        return Err(need.refusal());
    }
    let mut filter = query.filter();
    filter.system_user_id = Some(id);
    filter.party = match viewer {
        Viewer::Owner => query.party,
        Viewer::Client(client) => Some(client),
    };
    Ok(filter)
}

/// A page of what the system user `id` did, as the party's end user may see it.
pub async fn system_user_activity(
    app: &App,
    caller: &Caller,
    party: PartyKey,
    id: Uuid,
    query: &ActivityQuery,
) -> AppResult<ActivityPage> {
    let filter = party_filter(app, caller, party, id, query).await?;
    page(app, &filter).await
}

/// The operator's page over every party (the caller is checked by the API).
pub async fn operator_activity(app: &App, query: &ActivityQuery) -> AppResult<ActivityPage> {
    query.check()?;
    page(app, &query.filter()).await
}

/// What the system user `id` did in a time range, oldest first, as the party's end user
/// may see it.
pub async fn export_system_user_activity(
    app: &App,
    caller: &Caller,
    party: PartyKey,
    id: Uuid,
    query: &ActivityQuery,
) -> AppResult<Vec<AuditRecord>> {
    require_range(query)?;
    let filter = party_filter(app, caller, party, id, query).await?;
    export(app, filter).await
}

/// Every record in a time range, oldest first (the operator's export).
pub async fn export_operator_activity(
    app: &App,
    query: &ActivityQuery,
) -> AppResult<Vec<AuditRecord>> {
    require_range(query)?;
    query.check()?;
    export(app, query.filter()).await
}

fn require_range(query: &ActivityQuery) -> AppResult<()> {
    if query.from.is_none() || query.to.is_none() {
        return Err(AppError::BadRequest(
            "an export needs a time range: give both from and to".into(),
        ));
    }
    Ok(())
}

/// Reads every page of `filter`; refuses a range with more than [`MAX_EXPORT`] records.
async fn export(app: &App, mut filter: AuditFilter) -> AppResult<Vec<AuditRecord>> {
    filter.limit = MAX_AUDIT_PAGE;
    filter.before = None;
    let mut records = Vec::new();
    loop {
        let page = app.store.audit(&filter).await?;
        let Some(last) = page.last() else { break };
        filter.before = Some(last.seq);
        let full = page.len() as i64 == MAX_AUDIT_PAGE;
        records.extend(page);
        if records.len() > MAX_EXPORT {
            return Err(AppError::BadRequest(format!(
                "the range holds more than {MAX_EXPORT} records: export a shorter range"
            )));
        }
        if !full {
            break;
        }
    }
    records.reverse();
    Ok(records)
}

// ----- export formats -----

/// A record as the API, the portal and the exports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    pub seq: i64,
    /// RFC 3339, UTC.
    pub at: String,
    /// `token` or `decision`.
    pub kind: String,
    pub system_user_id: Option<String>,
    pub subject: String,
    pub party_uuid: Option<String>,
    pub resource: Option<String>,
    pub action: Option<String>,
    pub decision: Option<String>,
    pub decided_by: Option<String>,
    pub caller: String,
    pub client_id: Option<String>,
    pub system_id: Option<String>,
    pub scopes: Option<String>,
    pub jti: Option<String>,
}

/// Unix milliseconds as RFC 3339 (UTC, milliseconds).
pub fn rfc3339(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl From<AuditRecord> for Activity {
    fn from(stored: AuditRecord) -> Self {
        let r = stored.record;
        Self {
            seq: stored.seq,
            at: rfc3339(r.at),
            kind: r.kind.as_str().to_string(),
            system_user_id: r.system_user_id.map(|u| u.to_string()),
            subject: r.subject,
            party_uuid: r.party.map(|u| u.to_string()),
            resource: r.resource,
            action: r.action,
            decision: r.decision,
            decided_by: r.decided_by,
            caller: r.caller,
            client_id: r.client_id,
            system_id: r.system_id,
            scopes: r.scopes,
            jti: r.jti,
        }
    }
}

/// The records as CSV with a header row.
pub fn to_csv(records: Vec<AuditRecord>) -> AppResult<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for record in records {
        writer
            .serialize(Activity::from(record))
            .map_err(|e| AppError::Internal(format!("the CSV export failed: {e}")))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| AppError::Internal(format!("the CSV export failed: {e}")))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(format!("the CSV export: {e}")))
}

/// The records as JSON lines: one JSON object per line.
pub fn to_json_lines(records: Vec<AuditRecord>) -> AppResult<String> {
    let mut out = String::new();
    for record in records {
        let line = serde_json::to_string(&Activity::from(record))
            .map_err(|e| AppError::Internal(format!("the JSON-lines export failed: {e}")))?;
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

// ----- retention -----

/// Removes the records older than the retention; returns how many.
pub async fn purge(store: &dyn Store, settings: &AuditSettings) -> AppResult<u64> {
    Ok(store
        .purge_audit(settings.cutoff_millis(now_millis()))
        .await?)
}

/// How often the server purges.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Purges at start and then every [`PURGE_EVERY`], until the task is dropped.
pub async fn purge_periodically(store: std::sync::Arc<dyn Store>, settings: AuditSettings) {
    let mut ticks = tokio::time::interval(PURGE_EVERY);
    loop {
        ticks.tick().await;
        match purge(store.as_ref(), &settings).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "audit records past the retention purged"),
            Err(err) => {
                tracing::warn!(error = %err, "the audit's purge failed; trying again later")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_sees_its_system_user_and_a_client_only_an_agents_work_for_it() {
        let (owner, client) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(
            viewer_of(owner, SystemUserType::Standard, owner),
            Some(Viewer::Owner)
        );
        assert_eq!(
            viewer_of(owner, SystemUserType::Agent, client),
            Some(Viewer::Client(client))
        );
        assert_eq!(viewer_of(owner, SystemUserType::Standard, client), None);
    }

    #[test]
    fn client_administrators_see_an_agents_activity_and_access_managers_the_rest() {
        let client = Viewer::Client(Uuid::from_u128(2));
        assert_eq!(
            Viewer::Owner.need(SystemUserType::Agent),
            Need::ReadOverview
        );
        assert_eq!(
            Viewer::Owner.need(SystemUserType::Standard),
            Need::ReadAccess
        );
        assert_eq!(client.need(SystemUserType::Agent), Need::ReadAccess);
    }

    #[test]
    fn a_filter_refuses_an_unknown_decision_and_an_empty_range() {
        let unknown = ActivityQuery {
            decision: Some("Maybe".into()),
            ..ActivityQuery::default()
        };
        assert!(unknown.check().is_err());
        let empty = ActivityQuery {
            from: Some(10),
            to: Some(10),
            ..ActivityQuery::default()
        };
        assert!(empty.check().is_err());
        assert!(ActivityQuery::default().check().is_ok());
    }

    #[test]
    fn records_are_kept_for_the_retention_period() {
        let settings = AuditSettings::default();
        let day = 24 * 3600 * 1000;
        assert_eq!(settings.cutoff_millis(100 * day), 10 * day);
    }
}
