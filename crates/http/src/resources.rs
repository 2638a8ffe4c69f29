//! Resource registry: service resources and their XACML policies. The rules (who may
//! change what, which policies are stored) are in `systembruker_app::resources`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use systembruker_domain::resource::ServiceResource;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use systembruker_app::resources;

use crate::AppState;
use crate::auth::{ResourceWrite, Scoped};
use crate::extract::{Body, Json};
use crate::problem::{ApiError, ApiResult};
use serde::Serialize;
use systembruker_xacml::SubjectMatch;
use utoipa::ToSchema;

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
    resource.validate()?;
    resources::check_owner(&caller, &resource)?;
    crate::maskinporten::check_resource_scopes(&state, &resource).await?;
    let stored = state.store.create_resource(&resource).await?;
    crate::maskinporten::register_resource_scope(&state, &stored.resource).await?;
    Ok((StatusCode::CREATED, axum::Json(stored.resource)))
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
    if resource.identifier != id {
        return Err(ApiError::invalid_field(
            "STD-00012",
            "/identifier",
            format!("the body's identifier must equal the path's ({id})"),
        ));
    }
    resource.validate()?;
    // Both the current and the new owner must be the caller: no one hands a resource away
    // to, or takes it over from, another organisation.
    resources::owned(&state.app, &caller, &id).await?;
    resources::check_owner(&caller, &resource)?;
    crate::maskinporten::check_resource_scopes(&state, &resource).await?;
    let updated = state.store.update_resource(&resource).await?.resource;
    crate::maskinporten::register_resource_scope(&state, &updated).await?;
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

/// An `attribute id = value` pair, as the reference's rights listing names them.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct AttributeMatch {
    #[serde(rename = "type")]
    pub attribute_id: String,
    pub value: String,
}

impl From<&SubjectMatch> for AttributeMatch {
    fn from(m: &SubjectMatch) -> Self {
        Self {
            attribute_id: m.attribute_id.clone(),
            value: m.value.clone(),
        }
    }
}

/// One right the policy grants: an action on a resource, and who is granted it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRight {
    /// `<resource values joined by ','>:<action>`, e.g. `ske-krav-og-betalinger:read`.
    pub right_key: String,
    pub action: String,
    pub resource: Vec<AttributeMatch>,
    /// Every subject match of the rule (role codes, packages, other attributes).
    pub subjects: Vec<AttributeMatch>,
    /// The `urn:altinn:rolecode` subjects, upper case.
    pub role_codes: Vec<String>,
    /// The `urn:altinn:accesspackage` subjects (bare codes).
    pub access_packages: Vec<String>,
}

impl PolicyRight {
    pub(crate) fn new(right: &systembruker_xacml::Right) -> Self {
        let values = |id: &str| -> Vec<String> {
            right
                .subjects
                .iter()
                .filter(|s| s.attribute_id.eq_ignore_ascii_case(id))
                .map(|s| s.value.clone())
                .collect()
        };
        let resource_key: Vec<&str> = right.resource.iter().map(|m| m.value.as_str()).collect();
        Self {
            right_key: format!("{}:{}", resource_key.join(","), right.action),
            action: right.action.clone(),
            resource: right.resource.iter().map(AttributeMatch::from).collect(),
            subjects: right.subjects.iter().map(AttributeMatch::from).collect(),
            role_codes: values("urn:altinn:rolecode")
                .into_iter()
                .map(|c| c.to_uppercase())
                .collect(),
            access_packages: values("urn:altinn:accesspackage"),
        }
    }
}

/// The rights of a resource's stored policy, or 404.
pub(crate) async fn rights_of(state: &AppState, id: &str) -> ApiResult<Vec<PolicyRight>> {
    let rights = resources::rights(&state.app, id).await?;
    Ok(rights.iter().map(PolicyRight::new).collect())
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/{id}/policy/rights", tag = "resourceregistry",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<PolicyRight>), (status = 404, body = crate::problem::ProblemBody)))]
async fn policy_rights(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<PolicyRight>>> {
    Ok(axum::Json(rights_of(&state, &id).await?))
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
