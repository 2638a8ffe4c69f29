//! Test token tools, only in dev mode (filled in by the token-service work).

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn routes(dev: bool) -> OpenApiRouter<AppState> {
    let _ = dev;
    OpenApiRouter::new()
}
