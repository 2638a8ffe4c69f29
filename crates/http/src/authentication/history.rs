//! The operator's view of the append-only history of systems, requests, system users
//! and their grants: `GET /admin/api/v1/history`.

use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use systembruker_storage::{HistoryEntry, HistoryFilter};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{AdminScope, Scoped};
use crate::problem::ApiResult;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(history))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryQuery {
    entity: Option<String>,
    entity_id: Option<String>,
    #[serde(default)]
    after: i64,
    limit: Option<i64>,
}

/// One history row.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryDto {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
}

impl From<HistoryEntry> for HistoryDto {
    fn from(entry: HistoryEntry) -> Self {
        Self {
            seq: entry.seq,
            at: super::timestamp(entry.at),
            actor: entry.actor,
            entity: entry.entity,
            entity_id: entry.entity_id,
            action: entry.action,
            before: entry.before,
            after: entry.after,
        }
    }
}

#[utoipa::path(get, path = "/admin/api/v1/history", tag = "admin",
    params(("entity" = Option<String>, Query, description = "system, request, system_user or change_request"),
        ("entityId" = Option<String>, Query), ("after" = Option<i64>, Query, description = "Only rows after this seq"),
        ("limit" = Option<i64>, Query, description = "At most this many rows (default 100, max 1000)")),
    security(("bearer" = ["systembruker:admin"])),
    responses((status = 200, body = Vec<HistoryDto>), (status = 403, body = crate::problem::ProblemBody)))]
async fn history(
    State(state): State<AppState>,
    _caller: Scoped<AdminScope>,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<axum::Json<Vec<HistoryDto>>> {
    let filter = HistoryFilter {
        entity: query.entity,
        entity_id: query.entity_id,
        after: query.after,
        limit: query.limit.unwrap_or(100),
    };
    let rows = systembruker_app::systemusers::history(&state.app, &filter).await?;
    Ok(axum::Json(rows.into_iter().map(HistoryDto::from).collect()))
}
