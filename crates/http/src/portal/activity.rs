//! A system access's activity (README, "Audit"): the tokens issued for it and the
//! decisions made about it, newest first, filtered by time, resource, decision and kind,
//! paged on the server. The audit's use case decides who sees what; this page only
//! parses the filters and shows the page it gets.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use systembruker_app::audit::{self, ActivityQuery, DECISIONS};
use systembruker_app::{AppError, systemusers::PartyKey};
use systembruker_domain::RuleError;
use systembruker_domain::systemuser::SystemUserType;
use systembruker_storage::{AuditKind, AuditRecord};
use uuid::Uuid;

use super::extract::Viewer;
use super::i18n::Texts;
use super::page::{Chrome, Failure, html};
use super::party::acting;
use super::{PortalState, with_query};

/// Rows per page.
const PAGE_SIZE: i64 = 25;

/// The filters, as the form sends them (dates as `YYYY-MM-DD`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ActivityForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    kind: String,
    before: Option<i64>,
}

/// One row of the table.
struct Row {
    time: String,
    kind: String,
    resource: String,
    action: String,
    decision: String,
    decided_by: String,
    caller: String,
}

/// One option of a select.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "portal/activity.html")]
struct ActivityPage {
    t: Texts,
    chrome: Chrome,
    title: String,
    details_href: String,
    action: String,
    from: String,
    to: String,
    resource: String,
    decisions: Vec<Choice>,
    kinds: Vec<Choice>,
    rows: Vec<Row>,
    error: Option<String>,
    older: Option<String>,
    newest: Option<String>,
}

/// A `YYYY-MM-DD` date as the start of that day (UTC), in unix milliseconds; the end of
/// a range is the start of the next day, so the day itself is included.
fn day_start(text: &str, days_after: i64) -> Result<Option<i64>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| ())?;
    let start = date
        .checked_add_days(chrono::Days::new(days_after.unsigned_abs()))
        .ok_or(())?
        .and_hms_opt(0, 0, 0)
        .ok_or(())?;
    Ok(Some(start.and_utc().timestamp_millis()))
}

impl ActivityForm {
    /// The use case's query, or the message key of what is wrong with the filters.
    fn query(&self) -> Result<ActivityQuery, &'static str> {
        let from = day_start(&self.from, 0).map_err(|()| "audit.error.date")?;
        let to = day_start(&self.to, 1).map_err(|()| "audit.error.date")?;
        if let (Some(from), Some(to)) = (from, to)
            && from >= to
        {
            return Err("audit.error.range");
        }
        let decision = Some(self.decision.trim().to_string()).filter(|d| !d.is_empty());
        if decision.as_deref().is_some_and(|d| !DECISIONS.contains(&d)) {
            return Err("audit.error.decision");
        }
        Ok(ActivityQuery {
            kind: AuditKind::parse(self.kind.trim()),
            resource: Some(self.resource.trim().to_string()).filter(|r| !r.is_empty()),
            decision,
            from,
            to,
            before: self.before,
            limit: Some(PAGE_SIZE),
            ..ActivityQuery::default()
        })
    }

    /// The filters as query pairs, with `before` set to `cursor`.
    fn link(&self, path: &str, cursor: Option<i64>) -> String {
        let cursor = cursor.map(|c| c.to_string());
        let mut pairs = vec![
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
            ("resource", self.resource.as_str()),
            ("decision", self.decision.as_str()),
            ("kind", self.kind.as_str()),
        ];
        pairs.retain(|(_, value)| !value.is_empty());
        if let Some(cursor) = &cursor {
            pairs.push(("before", cursor));
        }
        with_query(path, &pairs)
    }
}

fn choices(
    t: Texts,
    values: &[&str],
    key_prefix: &str,
    selected: &str,
    any_key: &str,
) -> Vec<Choice> {
    let any = Choice {
        value: String::new(),
        label: t.get(any_key).to_string(),
        selected: selected.is_empty(),
    };
    std::iter::once(any)
        .chain(values.iter().map(|value| Choice {
            value: (*value).to_string(),
            label: t.get(&format!("{key_prefix}{value}")).to_string(),
            selected: *value == selected,
        }))
        .collect()
}

fn row(t: Texts, stored: AuditRecord) -> Row {
    let r = stored.record;
    let time = chrono::DateTime::from_timestamp_millis(r.at)
        .map(|at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default();
    let (resource, action) = match r.kind {
        AuditKind::Token => (r.scopes.unwrap_or_default(), String::new()),
        AuditKind::Decision => (r.resource.unwrap_or_default(), r.action.unwrap_or_default()),
    };
    let decision = match r.decision {
        Some(decision) => t.get(&format!("audit.decision.{decision}")).to_string(),
        None => t.get("audit.token_issued").to_string(),
    };
    Row {
        time,
        kind: t
            .get(&format!("audit.kind.{}", r.kind.as_str()))
            .to_string(),
        resource,
        action,
        decision,
        decided_by: r.decided_by.unwrap_or_default(),
        caller: r.client_id.map_or(r.caller.clone(), |client| {
            format!("{} ({client})", r.caller)
        }),
    }
}

/// `GET /systemuser/{id}/activity`.
pub(crate) async fn activity(
    State(state): State<PortalState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(form): Query<ActivityForm>,
) -> Response {
    let result = show(&state, &viewer, &id, form).await;
    viewer.finish(result)
}

async fn show(
    state: &PortalState,
    viewer: &Viewer,
    id: &str,
    form: ActivityForm,
) -> Result<Response, Failure> {
    let t = viewer.t();
    let id = Uuid::parse_str(id.trim()).map_err(|_| Failure::NotFound)?;
    let acting = acting(state, viewer).await?;
    let app = &state.app.app;
    let path = format!("/accessmanagement/ui/systemuser/{id}/activity");
    let (query, error) = match form.query() {
        Ok(query) => (query, None),
        Err(key) => (ActivityQuery::default(), Some(t.get(key).to_string())),
    };
    let page = match audit::system_user_activity(
        app,
        &viewer.caller(),
        PartyKey::Uuid(acting.party.uuid),
        id,
        &ActivityQuery {
            limit: Some(PAGE_SIZE),
            ..query
        },
    )
    .await
    {
        Ok(page) => page,
        Err(AppError::Rule(RuleError::SystemUserNotFound { .. })) => {
            return Err(Failure::NotFound);
        }
        Err(e) => return Err(e.into()),
    };
    // The use case has checked who may see this system user: its name is theirs to see.
    let user = app.store.system_user(id).await?.ok_or(Failure::NotFound)?;
    let details_href = match user.user_type {
        SystemUserType::Standard => format!("/accessmanagement/ui/systemuser/{id}"),
        SystemUserType::Agent => format!("/accessmanagement/ui/systemuser/{id}/agentdelegation"),
    };
    let older = page.next.map(|cursor| form.link(&path, Some(cursor)));
    let newest = form.before.map(|_| form.link(&path, None));
    let activity = ActivityPage {
        t,
        chrome: Chrome::new(&viewer.visit, t.get("audit.title"))
            .party(&acting.party)
            .current("overview"),
        title: user.integration_title,
        details_href,
        action: path,
        from: form.from.clone(),
        to: form.to.clone(),
        resource: form.resource.clone(),
        decisions: choices(
            t,
            &DECISIONS,
            "audit.decision.",
            &form.decision,
            "audit.any",
        ),
        kinds: choices(
            t,
            &["token", "decision"],
            "audit.kind.",
            &form.kind,
            "audit.any",
        ),
        rows: page.records.into_iter().map(|r| row(t, r)).collect(),
        error,
        older,
        newest,
    };
    Ok(html(StatusCode::OK, &activity))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_range_includes_its_last_day() {
        let form = ActivityForm {
            from: "2026-12-01".into(),
            to: "2026-12-01".into(),
            ..ActivityForm::default()
        };
        let query = form.query().unwrap();
        assert_eq!(query.to.unwrap() - query.from.unwrap(), 24 * 3600 * 1000);
    }

    #[test]
    fn bad_filters_are_named_in_plain_words() {
        let bad_date = ActivityForm {
            from: "1. desember".into(),
            ..ActivityForm::default()
        };
        assert_eq!(bad_date.query().unwrap_err(), "audit.error.date");
        let backwards = ActivityForm {
            from: "2026-12-02".into(),
            to: "2026-12-01".into(),
            ..ActivityForm::default()
        };
        assert_eq!(backwards.query().unwrap_err(), "audit.error.range");
        let unknown = ActivityForm {
            decision: "Maybe".into(),
            ..ActivityForm::default()
        };
        assert_eq!(unknown.query().unwrap_err(), "audit.error.decision");
    }
}
