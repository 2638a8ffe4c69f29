//! The HTTP layer of systembruker: every API under the reference's own path prefixes,
//! thin over the domain rules and the storage ports.

pub mod auth;
pub mod authentication;
mod connections;
pub mod demo;
mod extract;
mod health;
mod maskinporten;
mod meta;
mod metrics;
pub mod oidc;
mod openapi;
pub mod pdp;
mod portal;
pub mod problem;
mod register;
pub use register::import;
mod resources;
mod state;
pub mod system_resources;
pub mod testing;
mod testtools;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;

pub use state::{AppState, Config, DEFAULT_PDP_MAX_DECISIONS, DEFAULT_REQUEST_TIMEOUT_DAYS};

/// Requests bodies above this size are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Builds the whole application: every API, the OpenAPI document, health and metrics.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = OpenApiRouter::with_openapi(openapi::base())
        .merge(register::routes())
        .merge(authentication::routes())
        .merge(meta::routes())
        .merge(resources::routes())
        .merge(pdp::routes())
        .merge(connections::routes())
        .merge(maskinporten::routes())
        .merge(testtools::routes(state.config.dev))
        .split_for_parts();
    let openapi_json = openapi::into_json(openapi);
    api.merge(health::routes())
        .merge(openapi::routes(openapi_json))
        .merge(portal::routes(&state))
        .fallback(problem::not_found_fallback)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::observe,
        ))
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` completes; in-flight requests finish first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Small responses go out at once: without TCP_NODELAY a response written in two
    // parts can wait for the peer's delayed ACK.
    let listener = listener.tap_io(|stream| {
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%err, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// How long a graceful shutdown may wait for in-flight requests.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
