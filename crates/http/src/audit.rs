//! The audit's API (README, "Audit"): a system user's activity for its party's end users,
//! `GET /authentication/api/v1/systemuser/{party}/{systemUserId}/activity` (and
//! `…/activity/export`), and the operator's view over all parties,
//! `GET /admin/api/v1/audit` (and `…/audit/export`). Thin: parse, call, map.

use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use systembruker_app::audit::{self, Activity, ActivityPage, ActivityQuery};
use systembruker_storage::{AuditKind, AuditRecord};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{AdminScope, EndUserScope, Scoped};
use crate::authentication::{parse_id, party_key};
use crate::problem::{ApiError, ApiResult};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(system_user_activity))
        .routes(routes!(system_user_export))
        .routes(routes!(operator_activity))
        .routes(routes!(operator_export))
}

/// The filters of a listing or an export. Times are RFC 3339 (`2026-12-03T10:00:00Z`).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ActivityParams {
    /// From this moment, inclusive.
    from: Option<String>,
    /// Until this moment, exclusive.
    to: Option<String>,
    /// `token` or `decision`.
    kind: Option<String>,
    /// A resource id, e.g. `ske-krav-og-betalinger`.
    resource: Option<String>,
    /// `Permit`, `Deny`, `NotApplicable` or `Indeterminate`.
    decision: Option<String>,
    /// Only what was done for this party (uuid): an agent system user's client, or for
    /// the operator any party.
    party: Option<String>,
    /// The operator's filter by system user (uuid).
    system_user_id: Option<String>,
    /// The `next` cursor of the previous page.
    before: Option<i64>,
    /// Page size (default 50, at most 1000).
    limit: Option<i64>,
    /// Export only: `csv` (default) or `jsonl`.
    format: Option<String>,
}

fn instant(name: &str, text: Option<&str>) -> ApiResult<Option<i64>> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| Some(t.timestamp_millis()))
        .map_err(|_| {
            ApiError::invalid_field(
                "STD-00010",
                name,
                format!("{text:?} is not an RFC 3339 time such as 2026-12-03T10:00:00Z"),
            )
        })
}

fn optional_uuid(name: &str, text: Option<&str>) -> ApiResult<Option<Uuid>> {
    text.filter(|t| !t.trim().is_empty())
        .map(|t| parse_id(name, t))
        .transpose()
}

fn nonempty(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

impl ActivityParams {
    pub(crate) fn query(&self) -> ApiResult<ActivityQuery> {
        let kind = match nonempty(self.kind.clone()) {
            None => None,
            Some(text) => Some(AuditKind::parse(&text).ok_or_else(|| {
                ApiError::invalid_field(
                    "STD-00010",
                    "kind",
                    format!("kind {text:?} is neither token nor decision"),
                )
            })?),
        };
        Ok(ActivityQuery {
            kind,
            resource: nonempty(self.resource.clone()),
            decision: nonempty(self.decision.clone()),
            from: instant("from", self.from.as_deref())?,
            to: instant("to", self.to.as_deref())?,
            party: optional_uuid("party", self.party.as_deref())?,
            system_user_id: optional_uuid("systemUserId", self.system_user_id.as_deref())?,
            before: self.before,
            limit: self.limit,
        })
    }
}

/// A page of activity, newest first; `links.next` reads the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityPageDto {
    pub data: Vec<Activity>,
    pub links: Links,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Links {
    pub next: Option<String>,
}

/// `path` with the request's query and `before` set to the next page's cursor.
fn next_link(path: &str, raw_query: Option<&str>, next: Option<i64>) -> Option<String> {
    let next = next?;
    let mut pairs: Vec<(String, String)> = raw_query
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|(key, _)| key != "before")
        .collect();
    pairs.push(("before".into(), next.to_string()));
    let query = serde_urlencoded::to_string(&pairs).ok()?;
    Some(format!("{path}?{query}"))
}

fn page_dto(page: ActivityPage, path: &str, raw_query: Option<&str>) -> ActivityPageDto {
    ActivityPageDto {
        links: Links {
            next: next_link(path, raw_query, page.next),
        },
        data: page.records.into_iter().map(Activity::from).collect(),
    }
}

/// The export in the format asked for, as a download.
fn export_response(format: Option<&str>, records: Vec<AuditRecord>) -> ApiResult<Response> {
    let (body, content_type, extension) = match format.unwrap_or("csv") {
        "csv" => (audit::to_csv(records)?, "text/csv; charset=utf-8", "csv"),
        "jsonl" | "ndjson" => (
            audit::to_json_lines(records)?,
            "application/x-ndjson",
            "jsonl",
        ),
        other => {
            return Err(ApiError::invalid_field(
                "STD-00010",
                "format",
                format!("format {other:?} is neither csv nor jsonl"),
            ));
        }
    };
    let disposition = format!("attachment; filename=\"activity.{extension}\"");
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/{party}/{systemUserId}/activity", tag = "systemuser",
    params(("party" = String, Path, description = "Party id (or party uuid) of the owner, or of an agent system user's client"),
        ("systemUserId" = String, Path), ActivityParams),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = ActivityPageDto, description = "Tokens and decisions of the system user, newest first"),
        (status = 400, body = crate::problem::ProblemBody), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn system_user_activity(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
    Query(params): Query<ActivityParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<axum::Json<ActivityPageDto>> {
    let key = party_key(&party)?;
    let system_user = parse_id("systemUserId", &id)?;
    let page = audit::system_user_activity(&state.app, &caller, key, system_user, &params.query()?)
        .await?;
    let path = format!("/authentication/api/v1/systemuser/{party}/{id}/activity");
    Ok(axum::Json(page_dto(page, &path, raw.as_deref())))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/{party}/{systemUserId}/activity/export", tag = "systemuser",
    params(("party" = String, Path), ("systemUserId" = String, Path), ActivityParams),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, description = "The activity in the range, oldest first, as CSV or JSON lines",
            content((String = "text/csv"), (String = "application/x-ndjson"))),
        (status = 400, body = crate::problem::ProblemBody), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn system_user_export(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, id)): Path<(String, String)>,
    Query(params): Query<ActivityParams>,
) -> ApiResult<Response> {
    let key = party_key(&party)?;
    let system_user = parse_id("systemUserId", &id)?;
    let records =
        audit::export_system_user_activity(&state.app, &caller, key, system_user, &params.query()?)
            .await?;
    export_response(params.format.as_deref(), records)
}

#[utoipa::path(get, path = "/admin/api/v1/audit", tag = "admin",
    params(ActivityParams),
    security(("bearer" = ["systembruker:admin"])),
    responses((status = 200, body = ActivityPageDto, description = "Tokens and decisions over all parties, newest first"),
        (status = 400, body = crate::problem::ProblemBody), (status = 403, body = crate::problem::ProblemBody)))]
async fn operator_activity(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
    Query(params): Query<ActivityParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<axum::Json<ActivityPageDto>> {
    let page = audit::operator_activity(&state.app, &params.query()?).await?;
    Ok(axum::Json(page_dto(
        page,
        "/admin/api/v1/audit",
        raw.as_deref(),
    )))
}

#[utoipa::path(get, path = "/admin/api/v1/audit/export", tag = "admin",
    params(ActivityParams),
    security(("bearer" = ["systembruker:admin"])),
    responses((status = 200, description = "Every record in the range, oldest first, as CSV or JSON lines",
            content((String = "text/csv"), (String = "application/x-ndjson"))),
        (status = 400, body = crate::problem::ProblemBody), (status = 403, body = crate::problem::ProblemBody)))]
async fn operator_export(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
    Query(params): Query<ActivityParams>,
) -> ApiResult<Response> {
    let records = audit::export_operator_activity(&state.app, &params.query()?).await?;
    export_response(params.format.as_deref(), records)
}

#[cfg(test)]
mod tests {
    use super::next_link;

    #[test]
    fn the_next_link_keeps_the_filters_and_replaces_the_cursor() {
        let link = next_link("/x", Some("decision=Permit&before=9"), Some(4)).unwrap();
        assert_eq!(link, "/x?decision=Permit&before=4");
        assert_eq!(next_link("/x", None, None), None);
    }
}
