//! The Maskinporten-compatible token service's routes (filled in by the token-service work).

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
