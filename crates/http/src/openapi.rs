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

pub fn into_json(mut doc: utoipa::openapi::OpenApi) -> Arc<String> {
    describe_every_response(&mut doc);
    Arc::new(doc.to_json().unwrap_or_else(|_| "{}".to_string()))
}

/// OpenAPI requires a description on every response; an annotation that gives none gets
/// the status's own meaning (problem bodies explain themselves), so the document stays
/// valid whatever a new handler's annotation forgets.
fn describe_every_response(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, response) in &mut operation.responses.responses {
                if let RefOr::T(response) = response
                    && response.description.is_empty()
                {
                    response.description = status_description(status);
                }
            }
        }
    }
}

fn status_description(status: &str) -> String {
    let reason = status
        .parse::<u16>()
        .ok()
        .and_then(|code| axum::http::StatusCode::from_u16(code).ok())
        .and_then(|code| code.canonical_reason());
    match (reason, status.starts_with(['4', '5'])) {
        (Some(reason), true) => format!("{reason} (problem JSON)"),
        (Some(reason), false) => reason.to_string(),
        (None, _) => format!("Status {status}"),
    }
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
