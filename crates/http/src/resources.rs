//! Resource registry: service resources and their XACML policies. The rules (who may
//! change what, which policies are stored) are in `systembruker_app::resources`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use systembruker_domain::resource::ServiceResource;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use systembruker_app::resources::{self, PolicyRight};

use crate::AppState;
use crate::auth::{ResourceWrite, Scoped};
use crate::extract::{Body, Json};
use crate::problem::ApiResult;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_resource))
        .routes(routes!(resource_list))
        .routes(routes!(get_resource, update_resource, delete_resource))
        .routes(routes!(get_policy, create_policy, replace_policy))
        .routes(routes!(policy_rights))
}

#[utoipa::path(post, path = "/resourceregistry/api/v1/resource", tag = "resourceregistry",
    request_body = ServiceResource, security(("bearer" = ["altinn:resourceregistry/resource.write"])),
    responses((status = 201, body = ServiceResource), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 409, body = crate::problem::ProblemBody)))]
async fn create_resource(
    State(state): State<AppState>,
    caller: Scoped<ResourceWrite>,
    Json(resource): Json<ServiceResource>,
) -> ApiResult<(StatusCode, axum::Json<ServiceResource>)> {
    let stored = resources::create(&state.app, &caller, &resource).await?;
    Ok((StatusCode::CREATED, axum::Json(stored)))
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/resourcelist", tag = "resourceregistry",
    responses((status = 200, body = Vec<ServiceResource>)))]
async fn resource_list(
    State(state): State<AppState>,
) -> ApiResult<axum::Json<Vec<ServiceResource>>> {
    Ok(axum::Json(resources::list(&state.app).await?))
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/{id}", tag = "resourceregistry",
    params(("id" = String, Path)),
    responses((status = 200, body = ServiceResource), (status = 404, body = crate::problem::ProblemBody)))]
async fn get_resource(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ServiceResource>> {
    Ok(axum::Json(resources::resource(&state.app, &id).await?))
}

#[utoipa::path(put, path = "/resourceregistry/api/v1/resource/{id}", tag = "resourceregistry",
    params(("id" = String, Path)), request_body = ServiceResource,
    security(("bearer" = ["altinn:resourceregistry/resource.write"])),
    responses((status = 200, body = ServiceResource), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody),
        (status = 409, body = crate::problem::ProblemBody)))]
async fn update_resource(
    State(state): State<AppState>,
    caller: Scoped<ResourceWrite>,
    Path(id): Path<String>,
    Json(resource): Json<ServiceResource>,
) -> ApiResult<axum::Json<ServiceResource>> {
    let updated = resources::update(&state.app, &caller, &id, &resource).await?;
    Ok(axum::Json(updated))
}

#[utoipa::path(delete, path = "/resourceregistry/api/v1/resource/{id}", tag = "resourceregistry",
    params(("id" = String, Path)), security(("bearer" = ["altinn:resourceregistry/resource.write"])),
    responses((status = 204), (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn delete_resource(
    State(state): State<AppState>,
    caller: Scoped<ResourceWrite>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    resources::delete(&state.app, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/{id}/policy", tag = "resourceregistry",
    params(("id" = String, Path)),
    responses((status = 200, content_type = "application/xml", body = String), (status = 404, body = crate::problem::ProblemBody)))]
async fn get_policy(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl axum::response::IntoResponse> {
    let xml = resources::policy_xml(&state.app, &id).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/xml")], xml))
}

/// Reads the policy from the body: raw XML, or a multipart form field `policyFile` as the
/// reference's upload uses.
fn policy_text(body: &Body) -> ApiResult<String> {
    let text = body.text()?;
    if let Some(xml) = multipart_file(text) {
        return Ok(xml);
    }
    Ok(text.to_string())
}

/// Extracts the first part of a `multipart/form-data` body (the `policyFile` field) when
/// the body is one; returns `None` for a plain XML body.
fn multipart_file(text: &str) -> Option<String> {
    let first_line = text.lines().next()?.trim_end();
    if !first_line.starts_with("--") || first_line.len() < 3 {
        return None;
    }
    let rest = text.split_once(first_line)?.1;
    let part = rest.split(first_line).next()?;
    let (_, content) = part
        .split_once("\r\n\r\n")
        .or_else(|| part.split_once("\n\n"))?;
    Some(content.trim_end_matches(['\r', '\n']).to_string())
}

async fn store_policy(
    state: &AppState,
    caller: &Scoped<ResourceWrite>,
    id: &str,
    body: &Body,
) -> ApiResult<()> {
    let resource = resources::owned(&state.app, caller, id).await?;
    let xml = policy_text(body)?;
    Ok(resources::put_policy(&state.app, &resource, &xml).await?)
}

#[utoipa::path(post, path = "/resourceregistry/api/v1/resource/{id}/policy", tag = "resourceregistry",
    params(("id" = String, Path)), request_body(content = String, content_type = "application/xml"),
    security(("bearer" = ["altinn:resourceregistry/resource.write"])),
    responses((status = 201), (status = 400, body = crate::problem::ProblemBody), (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn create_policy(
    State(state): State<AppState>,
    caller: Scoped<ResourceWrite>,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<StatusCode> {
    store_policy(&state, &caller, &id, &body).await?;
    Ok(StatusCode::CREATED)
}

#[utoipa::path(put, path = "/resourceregistry/api/v1/resource/{id}/policy", tag = "resourceregistry",
    params(("id" = String, Path)), request_body(content = String, content_type = "application/xml"),
    security(("bearer" = ["altinn:resourceregistry/resource.write"])),
    responses((status = 200), (status = 400, body = crate::problem::ProblemBody), (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn replace_policy(
    State(state): State<AppState>,
    caller: Scoped<ResourceWrite>,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<StatusCode> {
    store_policy(&state, &caller, &id, &body).await?;
    Ok(StatusCode::OK)
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/{id}/policy/rights", tag = "resourceregistry",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<PolicyRight>), (status = 404, body = crate::problem::ProblemBody)))]
async fn policy_rights(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<PolicyRight>>> {
    Ok(axum::Json(resources::policy_rights(&state.app, &id).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_upload_is_unwrapped() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"policyFile\"; filename=\"p.xml\"\r\nContent-Type: text/xml\r\n\r\n<Policy/>\r\n--XyZ--\r\n";
        assert_eq!(multipart_file(body).as_deref(), Some("<Policy/>"));
        assert_eq!(multipart_file("<Policy/>"), None);
    }
}
