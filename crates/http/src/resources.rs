//! Resource registry: service resources and their XACML policies.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use systembruker_domain::resource::{ResourceType, ServiceResource};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{ResourceWrite, Scoped};
use crate::extract::{Body, Json};
use crate::problem::{ApiError, ApiResult};
use serde::Serialize;
use systembruker_xacml::{Policy, SubjectMatch};
use utoipa::ToSchema;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_resource))
        .routes(routes!(resource_list))
        .routes(routes!(get_resource, update_resource, delete_resource))
        .routes(routes!(get_policy, create_policy, replace_policy))
        .routes(routes!(policy_rights))
}

/// Only the competent authority of a resource, or an operator, may change it. System
/// resources decide who manages every party's access: only operators touch them.
fn check_owner(caller: &Scoped<ResourceWrite>, resource: &ServiceResource) -> ApiResult<()> {
    if resource.resource_type == ResourceType::Systemresource && !caller.is_admin() {
        return Err(ApiError::forbidden(format!(
            "{} is a system resource of the platform: only operators may change it",
            resource.identifier
        )));
    }
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
    check_owner(&caller, &existing(&state, &id).await?)?;
    check_owner(&caller, &resource)?;
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

/// Parses and compiles the policy with the XACML engine, so only policies the PDP can
/// evaluate are stored. The engine's messages say where (element and line) and what to do.
pub(crate) fn check_policy_xml(xml: &str) -> ApiResult<Policy> {
    refuse_doctype(xml)?;
    Policy::from_xml(xml).map_err(|e| {
        ApiError::invalid_field(
            "STD-00020",
            "/policy",
            format!("the policy was refused: {e}"),
        )
    })
}

/// Refuses a policy with a document type declaration. The engine resolves no entities,
/// but the policy is stored and served back verbatim, and a downstream parser that does
/// resolve them (external entities, entity expansion) must never be handed one.
fn refuse_doctype(xml: &str) -> ApiResult<()> {
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::DocType(_)) => {
                return Err(ApiError::invalid_field(
                    "STD-00020",
                    "/policy",
                    "the policy was refused: it has a <!DOCTYPE> declaration; XACML policies need none, and none is accepted (remove it, and any entities it declares)",
                ));
            }
            // A DOCTYPE may only come before the root element; the engine reports
            // malformed XML with its line.
            Ok(
                quick_xml::events::Event::Start(_)
                | quick_xml::events::Event::Empty(_)
                | quick_xml::events::Event::Eof,
            )
            | Err(_) => return Ok(()),
            Ok(_) => {}
        }
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
    let stored = state
        .store
        .policy(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("resource {id:?} has no policy")))?;
    let policy = Policy::from_xml(&stored.xml).map_err(|e| {
        ApiError::internal(format!("the stored policy of {id} no longer loads: {e}"))
    })?;
    Ok(policy.rights().iter().map(PolicyRight::new).collect())
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

    fn refusal(xml: &str) -> String {
        match check_policy_xml(xml) {
            Ok(_) => panic!("accepted: {xml}"),
            Err(e) => e.errors[0].title.clone(),
        }
    }

    #[test]
    fn policy_is_validated_by_the_engine() {
        assert!(check_policy_xml(crate::demo::DEMO_POLICY).is_ok());
        assert!(refusal("<Policy><a></Policy>").contains("line 1"));
        assert!(refusal("not xml at all").contains("not well-formed"));
        assert!(refusal("").contains("not well-formed") || refusal("").contains("root"));
        assert!(refusal("<Other/>").contains("root element"));
        let no_rules = "<Policy PolicyId=\"p\" RuleCombiningAlgId=\"urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides\"/>";
        assert!(refusal(no_rules).contains("rule"), "{}", refusal(no_rules));
        assert!(
            refusal("<Policy PolicyId=\"p\">\n<Rule/></Policy>").contains("RuleCombiningAlgId")
        );
    }

    #[test]
    fn policy_with_a_doctype_is_refused() {
        let with_doctype = crate::demo::DEMO_POLICY.replacen(
            "<xacml:Policy",
            "<!DOCTYPE x [<!ENTITY e \"boom\">]>\n<xacml:Policy",
            1,
        );
        assert_ne!(with_doctype, crate::demo::DEMO_POLICY);
        assert!(refusal(&with_doctype).contains("DOCTYPE"));
        let bare = format!("<!DOCTYPE Policy>{}", crate::demo::DEMO_POLICY);
        assert!(refusal(&bare).contains("DOCTYPE"));
    }

    #[test]
    fn multipart_upload_is_unwrapped() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"policyFile\"; filename=\"p.xml\"\r\nContent-Type: text/xml\r\n\r\n<Policy/>\r\n--XyZ--\r\n";
        assert_eq!(multipart_file(body).as_deref(), Some("<Policy/>"));
        assert_eq!(multipart_file("<Policy/>"), None);
    }
}
