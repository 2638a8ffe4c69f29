use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "systembruker",
        description = "System users for the Norwegian public sector: Maskinporten-compatible tokens, system register, access management, PDP, resource registry and register."
    ),
    components(schemas(crate::problem::ProblemBody, crate::problem::ValidationError))
)]
struct ApiDoc;

pub fn base() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    doc
}

pub fn into_json(doc: utoipa::openapi::OpenApi) -> Arc<String> {
    Arc::new(doc.to_json().unwrap_or_else(|_| "{}".to_string()))
}

pub fn routes(json: Arc<String>) -> Router<AppState> {
    Router::new().route(
        "/swagger/v1/swagger.json",
        get(move || {
            let json = json.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    json.as_str().to_owned(),
                )
            }
        }),
    )
}
