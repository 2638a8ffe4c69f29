use std::time::Duration;

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

/// How long readiness waits for the database: a load balancer polls it and needs its
/// answer in well under a second, also (above all) when the database does not answer.
pub const READY_TIMEOUT: Duration = Duration::from_millis(800);

/// The process runs and its database answers (and, on SQLite, takes writes).
async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready"),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "database not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => {
            tracing::warn!(timeout = ?READY_TIMEOUT, "database did not answer in time");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
