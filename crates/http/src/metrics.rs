//! Request logging and Prometheus metrics.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::AppState;
use crate::problem::TRACE_ID;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

/// Which rate limit refused a request (see `limits.rs`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabels {
    pub limit: String,
}

/// The platform's metrics. Later components add their own families to `registry`.
pub struct Metrics {
    registry: std::sync::Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram>,
    refusals: Family<LimitLabels, Counter>,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    ])
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("systembruker");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests",
            latency.clone(),
        );
        let refusals = Family::<LimitLabels, Counter>::default();
        registry.register(
            "rate_limit_refusals",
            "Requests refused with 429, by rate limit",
            refusals.clone(),
        );
        Self {
            registry: std::sync::Mutex::new(registry),
            requests,
            latency,
            refusals,
        }
    }
}

impl Metrics {
    /// Registers another metric (e.g. decisions or tokens issued).
    pub fn register(
        &self,
        name: &str,
        help: &str,
        metric: impl prometheus_client::registry::Metric,
    ) {
        if let Ok(mut registry) = self.registry.lock() {
            registry.register(name, help, metric);
        }
    }

    /// The counter of rate-limit refusals, for the limiters to count into.
    pub fn refusals(&self) -> Family<LimitLabels, Counter> {
        self.refusals.clone()
    }

    fn record(&self, labels: RequestLabels, seconds: f64) {
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(seconds);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Ok(registry) = self.registry.lock() {
            let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        }
        out
    }
}

/// Times each request, logs one line for it and records it in the metrics.
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    // The route template keeps label cardinality bounded; unknown paths share one label.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let response = TRACE_ID.scope(trace_id.clone(), next.run(request)).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    tracing::info!(
        method = %method,
        path = %path,
        status,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        trace_id = %trace_id,
        "request"
    );
    state.metrics.record(
        RequestLabels {
            method,
            route,
            status,
        },
        elapsed.as_secs_f64(),
    );
    response
}

fn exposition(state: &AppState) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// `/metrics` on the main listener: for the metrics token (`--metrics-token`) or an
/// operator (`systembruker:admin`). Request counts, routes and refusals tell an
/// attacker what is in use and what is limited, so anonymous callers get 401.
pub async fn metrics_endpoint(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    if let Some(expected) = &state.config.metrics.token
        && bearer(&parts.headers).is_some_and(|token| same_secret(token, expected))
    {
        return exposition(&state);
    }
    match crate::auth::authenticate(&state, &parts).await {
        Ok(caller) if caller.is_admin() => exposition(&state),
        Ok(_) => crate::problem::ApiError::forbidden(
            "/metrics is for the operator: use the metrics token or an operator token",
        )
        .into_response(),
        Err(refused) => refused.into_response(),
    }
}

/// `/metrics` on its own listener (`--metrics-listen`): reachable only where that
/// address is, so it asks for no token.
pub async fn open_metrics_endpoint(State(state): State<AppState>) -> Response {
    exposition(&state)
}

fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Compares in time independent of where the strings differ: the token is a secret.
fn same_secret(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}
