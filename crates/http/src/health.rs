use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::AppState;

pub fn routes(state: &AppState) -> Router<AppState> {
    let router = Router::new()
        .route("/health", get(live))
        .route("/health/ready", get(ready));
    if state.config.metrics.separate_listener {
        router
    } else {
        router.route("/metrics", get(crate::metrics::metrics_endpoint))
    }
}

/// The router of the metrics listener (`--metrics-listen`): `/metrics` and nothing else.
pub fn metrics_routes() -> Router<AppState> {
    Router::new().route("/metrics", get(crate::metrics::open_metrics_endpoint))
}

/// The process runs.
async fn live() -> &'static str {
    "ok"
}

/// The process runs and its database answers.
async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(err) => {
            tracing::warn!(error = %err, "database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
