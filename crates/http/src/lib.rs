//! The HTTP layer of systembruker: every API under the reference's own path prefixes,
//! thin over the domain rules and the storage ports.

mod access_lists;
mod audit;
pub mod auth;
pub mod authentication;
mod authorizedparties;
mod catalogue;
mod connections;
mod people;
pub use systembruker_app::demo;
mod edge;
mod exchange;
mod extract;
mod facilitator;
mod health;
pub mod limits;
mod maskinporten;
mod meta;
mod metrics;
pub mod oidc;
mod openapi;
pub mod pdp;
mod portal;
pub mod problem;
mod register;
mod registry_browse;
pub use register::import;
mod resources;
mod slash;
mod state;
mod stream;
pub use systembruker_app::system_resources;
pub mod testing;
mod testtools;
pub mod webhooks;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;

pub use limits::{Rate, RateLimits};
pub use state::{
    AppState, Config, DEFAULT_PDP_MAX_DECISIONS, DEFAULT_REQUEST_TIMEOUT_DAYS, MetricsAccess,
};

/// Requests bodies above this size are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Builds the whole application: every API, the OpenAPI document, health and metrics.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = OpenApiRouter::with_openapi(openapi::base())
        .merge(register::routes())
        .merge(authentication::routes())
        .merge(meta::routes())
        .merge(resources::routes())
        .merge(access_lists::routes())
        .merge(pdp::routes())
        .merge(connections::routes())
        .merge(people::routes())
        .merge(facilitator::routes())
        .merge(catalogue::routes())
        .merge(authorizedparties::routes())
        .merge(stream::routes())
        .merge(exchange::routes())
        .merge(registry_browse::routes())
        .merge(maskinporten::routes())
        .merge(audit::routes())
        .merge(testtools::routes(state.config.dev))
        .split_for_parts();
    let openapi_json = openapi::into_json(openapi);
    let app = api
        .merge(health::routes(&state))
        .merge(openapi::routes(openapi_json))
        .merge(portal::routes(&state))
        .fallback(problem::not_found_fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            facilitator::check_named_facilitator,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::limit_test_tools,
        ))
        .layer(axum::middleware::from_fn(edge::close_after_unread_body))
        .layer(axum::middleware::from_fn(edge::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::observe,
        ))
        .with_state(state);
    slash::accept_trailing_slash(app)
}

/// The application of the metrics listener (`--metrics-listen`): `/metrics` only.
pub fn metrics_app(state: AppState) -> Router {
    health::metrics_routes()
        .fallback(problem::not_found_fallback)
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
    // The peer address is what per-address rate limits count by.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// How long a graceful shutdown may wait for in-flight requests.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
