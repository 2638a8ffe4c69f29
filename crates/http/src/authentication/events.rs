//! Events for vendors over HTTP: webhook subscriptions per system, their delivery log and
//! manual redelivery, and the pull feed (docs/rules.md#events). The vendor of the system
//! (or a register admin) only; delivery runs in the background worker (`webhooks.rs`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use systembruker_app::events;
use systembruker_storage::{Delivery, StoredSubscription};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::timestamp;
use crate::AppState;
use crate::auth::{Scoped, SystemRegisterWrite};
use crate::extract::Json;
use crate::problem::ApiResult;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_subscriptions, create_subscription))
        .routes(routes!(delete_subscription))
        .routes(routes!(subscription_deliveries))
        .routes(routes!(redeliver))
        .routes(routes!(event_feed))
}

/// A new subscription.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionInput {
    /// Where to POST the events: https (http to localhost in development mode).
    pub callback_url: String,
    /// The CloudEvents types to send, e.g. `no.systembruker.systemuser.deleted`.
    pub event_types: Vec<String>,
}

/// A subscription; `secret` only in the answer that created it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionDto {
    pub id: String,
    pub system_id: String,
    pub callback_url: String,
    pub event_types: Vec<String>,
    pub created: String,
    /// The last event sequence handled.
    pub delivered_through: i64,
    /// Failed attempts at the next event.
    pub failed_attempts: i64,
    /// The Standard Webhooks secret (`whsec_…`): shown once, on creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl SubscriptionDto {
    fn of(s: StoredSubscription, show_secret: bool) -> Self {
        Self {
            id: s.id,
            system_id: s.system_id,
            callback_url: s.callback_url,
            event_types: s.event_types,
            created: timestamp(s.created_at),
            delivered_through: s.cursor,
            failed_attempts: s.attempts,
            secret: show_secret.then_some(s.secret),
        }
    }
}

/// One delivery attempt.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryDto {
    pub id: i64,
    pub event_id: String,
    pub sequence: i64,
    pub attempt: i64,
    pub at: String,
    /// `delivered`, `failed` or `abandoned` (the retries are over).
    pub outcome: String,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    /// A redelivery the vendor asked for.
    pub manual: bool,
}

impl From<Delivery> for DeliveryDto {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            event_id: d.event_id,
            sequence: d.event_seq,
            attempt: d.attempt,
            at: timestamp(d.at),
            outcome: d.outcome,
            status_code: d.status_code,
            error: d.error,
            manual: d.manual,
        }
    }
}

/// Which event to send again.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedeliverInput {
    pub event_id: String,
}

/// The redelivery is queued.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedeliveryDto {
    pub event_id: String,
    pub sequence: i64,
}

#[derive(Debug, Deserialize)]
struct FeedQuery {
    #[serde(default)]
    after: i64,
    limit: Option<i64>,
}

/// A page of the pull feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedDto {
    /// CloudEvents 1.0 (structured JSON), oldest first.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<serde_json::Value>,
    /// The `after` to ask with next.
    pub next_after: i64,
}

#[utoipa::path(get, path = "/authentication/api/v1/systemregister/vendor/{systemId}/subscriptions", tag = "events",
    params(("systemId" = String, Path)), security(("bearer" = ["altinn:authentication/systemregister.write"])),
    responses((status = 200, body = Vec<SubscriptionDto>), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn list_subscriptions(
    State(state): State<AppState>,
    caller: Scoped<SystemRegisterWrite>,
    Path(system_id): Path<String>,
) -> ApiResult<axum::Json<Vec<SubscriptionDto>>> {
    let list = events::subscriptions(&state.app, &caller, &system_id).await?;
    Ok(axum::Json(
        list.into_iter()
            .map(|s| SubscriptionDto::of(s, false))
            .collect(),
    ))
}

#[utoipa::path(post, path = "/authentication/api/v1/systemregister/vendor/{systemId}/subscriptions", tag = "events",
    params(("systemId" = String, Path)), request_body = SubscriptionInput,
    security(("bearer" = ["altinn:authentication/systemregister.write"])),
    responses((status = 201, body = SubscriptionDto), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody),
        (status = 409, body = crate::problem::ProblemBody)))]
async fn create_subscription(
    State(state): State<AppState>,
    caller: Scoped<SystemRegisterWrite>,
    Path(system_id): Path<String>,
    Json(input): Json<SubscriptionInput>,
) -> ApiResult<(StatusCode, axum::Json<SubscriptionDto>)> {
    let created = events::subscribe(
        &state.app,
        &caller,
        &system_id,
        &input.callback_url,
        &input.event_types,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(SubscriptionDto::of(created, true)),
    ))
}

#[utoipa::path(delete, path = "/authentication/api/v1/systemregister/vendor/{systemId}/subscriptions/{subscriptionId}", tag = "events",
    params(("systemId" = String, Path), ("subscriptionId" = String, Path)),
    security(("bearer" = ["altinn:authentication/systemregister.write"])),
    responses((status = 204, description = "The subscription is ended"), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn delete_subscription(
    State(state): State<AppState>,
    caller: Scoped<SystemRegisterWrite>,
    Path((system_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    events::unsubscribe(&state.app, &caller, &system_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/authentication/api/v1/systemregister/vendor/{systemId}/subscriptions/{subscriptionId}/deliveries", tag = "events",
    params(("systemId" = String, Path), ("subscriptionId" = String, Path)),
    security(("bearer" = ["altinn:authentication/systemregister.write"])),
    responses((status = 200, body = Vec<DeliveryDto>), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn subscription_deliveries(
    State(state): State<AppState>,
    caller: Scoped<SystemRegisterWrite>,
    Path((system_id, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<Vec<DeliveryDto>>> {
    let log = events::deliveries(&state.app, &caller, &system_id, &id).await?;
    Ok(axum::Json(log.into_iter().map(DeliveryDto::from).collect()))
}

#[utoipa::path(post, path = "/authentication/api/v1/systemregister/vendor/{systemId}/subscriptions/{subscriptionId}/redeliver", tag = "events",
    params(("systemId" = String, Path), ("subscriptionId" = String, Path)), request_body = RedeliverInput,
    security(("bearer" = ["altinn:authentication/systemregister.write"])),
    responses((status = 202, body = RedeliveryDto), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn redeliver(
    State(state): State<AppState>,
    caller: Scoped<SystemRegisterWrite>,
    Path((system_id, id)): Path<(String, String)>,
    Json(input): Json<RedeliverInput>,
) -> ApiResult<(StatusCode, axum::Json<RedeliveryDto>)> {
    let event = events::redeliver(&state.app, &caller, &system_id, &id, &input.event_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(RedeliveryDto {
            event_id: event.id,
            sequence: event.seq,
        }),
    ))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemregister/vendor/{systemId}/events", tag = "events",
    params(("systemId" = String, Path), ("after" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    security(("bearer" = ["altinn:authentication/systemregister.write"])),
    responses((status = 200, body = FeedDto), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn event_feed(
    State(state): State<AppState>,
    caller: Scoped<SystemRegisterWrite>,
    Path(system_id): Path<String>,
    Query(query): Query<FeedQuery>,
) -> ApiResult<axum::Json<FeedDto>> {
    let limit = query.limit.unwrap_or(100);
    let events = events::feed(&state.app, &caller, &system_id, query.after, limit).await?;
    let next_after = events
        .last()
        .and_then(|e| e["sequence"].as_str())
        .and_then(|s| s.parse().ok())
        .unwrap_or(query.after);
    Ok(axum::Json(FeedDto { events, next_after }))
}
