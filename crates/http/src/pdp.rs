//! The policy decision point's HTTP API (docs/authorization.md#the-pdp):
//! `POST /authorization/api/v1/authorize`, a thin adapter over the context handler in
//! `systembruker_app::pdp` (parse the XACML JSON, check its size, decide, answer).

use axum::extract::State;
use systembruker_xacml::{Request, to_json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{AuthorizeScope, Scoped};
use crate::extract::JsonBody;
use crate::problem::{ApiError, ApiResult};

pub use systembruker_app::pdp::{
    CacheLimits, CachedPolicy, ContextHandler, DecisionLabels, Enrichment, attr,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(authorize))
}

/// Most bytes of `IncludeInResult` attributes the results of one request may repeat.
pub const MAX_ECHOED_BYTES: usize = 4 * crate::MAX_BODY_BYTES;

/// Refuses, before any decision is made, a request that asks for more individual
/// decisions than `limit`, or whose results would repeat more than [`MAX_ECHOED_BYTES`]
/// of its attributes: both are counted, not expanded, so a refused request costs no
/// more than its parsing.
fn check_decision_count(request: &Request, limit: usize) -> ApiResult<()> {
    let asked = request.decision_count();
    if asked > limit {
        return Err(ApiError::invalid_field(
            "STD-00031",
            "/Request",
            format!(
                "the request asks for {asked} individual decisions; at most {limit} are answered per request: split it into smaller requests"
            ),
        ));
    }
    let echoed = request.echoed_bytes();
    if echoed > MAX_ECHOED_BYTES {
        return Err(ApiError::invalid_field(
            "STD-00032",
            "/Request",
            format!(
                "the results would repeat {echoed} bytes of IncludeInResult attributes; at most {MAX_ECHOED_BYTES} are allowed: include fewer or smaller attributes, or split the request"
            ),
        ));
    }
    Ok(())
}

#[utoipa::path(post, path = "/authorization/api/v1/authorize", tag = "authorization",
    request_body(content = serde_json::Value, content_type = "application/json",
        description = "XACML 3.0 JSON-profile request (docs/authorization.md#the-pdp)"),
    security(("bearer" = ["altinn:authorization/authorize"])),
    responses((status = 200, body = serde_json::Value, description = "XACML JSON response, one result per individual request, in order"),
        (status = 400, body = crate::problem::ProblemBody), (status = 401, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 413, body = crate::problem::ProblemBody),
        (status = 415, body = crate::problem::ProblemBody)))]
async fn authorize(
    State(state): State<AppState>,
    _caller: Scoped<AuthorizeScope>,
    body: JsonBody,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let request = Request::from_json(body.text()?).map_err(|e| {
        ApiError::invalid_field(
            "STD-00030",
            "/Request",
            format!("the decision request is not valid: {e}"),
        )
    })?;
    check_decision_count(&request, state.config.pdp_max_decisions)?;
    let results = state.pdp.authorize(&request).await;
    Ok(axum::Json(to_json(&results)))
}
