//! Resource registry: service resources and their XACML policies.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use systembruker_domain::resource::ServiceResource;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{ResourceWrite, Scoped};
use crate::extract::{Body, Json};
use crate::problem::{ApiError, ApiResult};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_resource))
        .routes(routes!(resource_list))
        .routes(routes!(get_resource, update_resource, delete_resource))
        .routes(routes!(get_policy, create_policy, replace_policy))
}

/// Only the competent authority of a resource, or an operator, may change it.
fn check_owner(caller: &Scoped<ResourceWrite>, resource: &ServiceResource) -> ApiResult<()> {
    if caller.is_admin()
        || caller.consumer_org.as_ref() == Some(&resource.has_competent_authority.organization)
    {
        return Ok(());
    }
    Err(ApiError::forbidden(format!(
        "only the owner ({}) may change resource {}",
        resource.has_competent_authority.organization, resource.identifier
    )))
}

async fn existing(state: &AppState, id: &str) -> ApiResult<ServiceResource> {
    Ok(state
        .store
        .resource(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("resource {id:?} does not exist")))?
        .resource)
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
    check_owner(&caller, &resource)?;
    let stored = state.store.create_resource(&resource).await?;
    Ok((StatusCode::CREATED, axum::Json(stored.resource)))
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/resourcelist", tag = "resourceregistry",
    responses((status = 200, body = Vec<ServiceResource>)))]
async fn resource_list(
    State(state): State<AppState>,
) -> ApiResult<axum::Json<Vec<ServiceResource>>> {
    let all = state.store.resources().await?;
    Ok(axum::Json(all.into_iter().map(|r| r.resource).collect()))
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/{id}", tag = "resourceregistry",
    params(("id" = String, Path)),
    responses((status = 200, body = ServiceResource), (status = 404, body = crate::problem::ProblemBody)))]
async fn get_resource(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ServiceResource>> {
    Ok(axum::Json(existing(&state, &id).await?))
}

#[utoipa::path(put, path = "/resourceregistry/api/v1/resource/{id}", tag = "resourceregistry",
    params(("id" = String, Path)), request_body = ServiceResource,
    security(("bearer" = ["altinn:resourceregistry/resource.write"])),
    responses((status = 200, body = ServiceResource), (status = 400, body = crate::problem::ProblemBody),
        (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
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
    check_owner(&caller, &existing(&state, &id).await?)?;
    check_owner(&caller, &resource)?;
    Ok(axum::Json(
        state.store.update_resource(&resource).await?.resource,
    ))
}

#[utoipa::path(delete, path = "/resourceregistry/api/v1/resource/{id}", tag = "resourceregistry",
    params(("id" = String, Path)), security(("bearer" = ["altinn:resourceregistry/resource.write"])),
    responses((status = 204), (status = 403, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn delete_resource(
    State(state): State<AppState>,
    caller: Scoped<ResourceWrite>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    check_owner(&caller, &existing(&state, &id).await?)?;
    state.store.delete_resource(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/{id}/policy", tag = "resourceregistry",
    params(("id" = String, Path)),
    responses((status = 200, content_type = "application/xml", body = String), (status = 404, body = crate::problem::ProblemBody)))]
async fn get_policy(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl axum::response::IntoResponse> {
    let policy = state
        .store
        .policy(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("resource {id:?} has no policy")))?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/xml")],
        policy.xml,
    ))
}

/// Checks that the text is well-formed XML whose root element is a `Policy` (any prefix).
pub(crate) fn check_policy_xml(xml: &str) -> ApiResult<()> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut root: Option<String> = None;
    let mut depth = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| {
            ApiError::invalid_field(
                "STD-00020",
                "/policy",
                format!(
                    "the policy is not well-formed XML (at byte {}): {e}",
                    reader.buffer_position()
                ),
            )
        })?;
        match event {
            quick_xml::events::Event::Start(start) => {
                if depth == 0 && root.is_none() {
                    root = Some(start.local_name().as_ref().to_string());
                }
                depth += 1;
            }
            quick_xml::events::Event::Empty(start) if depth == 0 && root.is_none() => {
                root = Some(start.local_name().as_ref().to_string());
            }
            quick_xml::events::Event::End(_) => depth = depth.saturating_sub(1),
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    match root.as_deref() {
        Some("Policy") if depth == 0 => Ok(()),
        Some("Policy") => Err(ApiError::invalid_field(
            "STD-00020",
            "/policy",
            "the policy XML ends before its elements are closed",
        )),
        other => Err(ApiError::invalid_field(
            "STD-00020",
            "/policy",
            format!(
                "the root element must be a XACML <Policy>, found {:?}",
                other.unwrap_or("nothing")
            ),
        )),
    }
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
    check_owner(caller, &existing(state, id).await?)?;
    let xml = policy_text(body)?;
    check_policy_xml(&xml)?;
    state.store.put_policy(id, &xml).await?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_root_is_checked() {
        assert!(check_policy_xml("<xacml:Policy xmlns:xacml='x'><a/></xacml:Policy>").is_ok());
        assert!(check_policy_xml("<Policy/>").is_ok());
        assert!(check_policy_xml("<PolicySet/>").is_err());
        assert!(check_policy_xml("<Policy><a></Policy>").is_err());
        assert!(check_policy_xml("not xml at all").is_err());
        assert!(check_policy_xml("").is_err());
    }

    #[test]
    fn multipart_upload_is_unwrapped() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"policyFile\"; filename=\"p.xml\"\r\nContent-Type: text/xml\r\n\r\n<Policy/>\r\n--XyZ--\r\n";
        assert_eq!(multipart_file(body).as_deref(), Some("<Policy/>"));
        assert_eq!(multipart_file("<Policy/>"), None);
    }
}
