//! The example API provider: Skatteetaten's "Krav og betalinger" (claims and payments)
//! for the demo. One route, behind the provider guard: the organisation is the last path
//! segment, and the PDP must permit the token's system user to `read`
//! `ske-krav-og-betalinger` for it.

pub mod data;

use axum::Router;
use axum::extract::{Path, Request};
use axum::response::Html;
use axum::routing::get;
use systembruker_provider_guard::{Guard, SystemUser, check};

/// The route of the API (`{org}`: the organisation number).
pub const API_PATH: &str = "/api/kravogbetalinger/v1/{org}";
/// Its scope in Maskinporten.
pub const SCOPE: &str = "skatteetaten:kravogbetalinger";
/// The resource the PDP decides on.
pub const RESOURCE: &str = "ske-krav-og-betalinger";

/// The organisation a request is about: the last segment of its path.
pub fn party_of(request: &Request) -> Option<String> {
    request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

async fn statement(Path(org): Path<String>, user: SystemUser) -> axum::Json<serde_json::Value> {
    let statement = data::statement(&org);
    axum::Json(serde_json::json!({
        "organisation": statement.organisation,
        "claims": statement.claims,
        "payments": statement.payments,
        "systemUser": user,
    }))
}

async fn front() -> Html<&'static str> {
    Html(include_str!("front.html"))
}

/// The provider's routes; `guard` protects the API.
pub fn app(guard: Guard) -> Router {
    Router::new()
        .route(API_PATH, get(statement))
        .route_layer(axum::middleware::from_fn_with_state(guard, check))
        .route("/", get(front))
        .route("/health", get(|| async { "ok" }))
}
