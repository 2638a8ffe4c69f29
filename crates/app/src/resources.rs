//! The resource registry's rules: who may change a service resource and its policy, and
//! which policies are stored (only what the PDP can evaluate, never a `<!DOCTYPE>`).

use serde::Serialize;
use systembruker_domain::resource::{ResourceType, ServiceResource};
use systembruker_xacml::{Policy, Right, SubjectMatch};

use crate::access::policy_rule;
use crate::scopes::{check_resource_scopes, register_resource_scope};
use crate::{App, AppError, AppResult, Caller};

/// Only the competent authority of a resource, or an operator, may change it. System
/// resources decide who manages every party's access: only operators touch them.
pub fn check_owner(caller: &Caller, resource: &ServiceResource) -> AppResult<()> {
    if resource.resource_type == ResourceType::Systemresource && !caller.is_admin() {
        return Err(AppError::Forbidden(format!(
            "{} is a system resource of the platform: only operators may change it",
            resource.identifier
        )));
    }
    if caller.is_admin()
        || caller.consumer_org.as_ref() == Some(&resource.has_competent_authority.organization)
    {
        return Ok(());
    }
    Err(AppError::Forbidden(format!(
        "only the owner ({}) may change resource {}",
        resource.has_competent_authority.organization, resource.identifier
    )))
}

/// Registers a new resource for its owner (the caller, or an operator for any owner);
/// every `MaskinportenScope` it names becomes the owner's.
pub async fn create(
    app: &App,
    caller: &Caller,
    resource: &ServiceResource,
) -> AppResult<ServiceResource> {
    resource.validate()?;
    check_owner(caller, resource)?;
    check_resource_scopes(app, resource).await?;
    let stored = app.store.create_resource(resource).await?;
    register_resource_scope(app, &stored.resource).await?;
    Ok(stored.resource)
}

/// Replaces the resource `id` with `resource`. Both the current and the new owner must be
/// the caller: no one hands a resource away to, or takes it over from, another
/// organisation.
pub async fn update(
    app: &App,
    caller: &Caller,
    id: &str,
    resource: &ServiceResource,
) -> AppResult<ServiceResource> {
    if resource.identifier != id {
        return Err(AppError::InvalidField {
            code: "STD-00012",
            path: "/identifier".into(),
            message: format!("the body's identifier must equal the path's ({id})"),
        });
    }
    resource.validate()?;
    owned(app, caller, id).await?;
    check_owner(caller, resource)?;
    check_resource_scopes(app, resource).await?;
    let updated = app.store.update_resource(resource).await?.resource;
    register_resource_scope(app, &updated).await?;
    Ok(updated)
}

/// The resource, or NotFound.
pub async fn resource(app: &App, id: &str) -> AppResult<ServiceResource> {
    Ok(app
        .store
        .resource(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("resource {id:?} does not exist")))?
        .resource)
}

/// The resource, when the caller may change it.
pub async fn owned(app: &App, caller: &Caller, id: &str) -> AppResult<ServiceResource> {
    let resource = resource(app, id).await?;
    check_owner(caller, &resource)?;
    Ok(resource)
}

/// Every resource in the registry.
pub async fn list(app: &App) -> AppResult<Vec<ServiceResource>> {
    let all = app.store.resources().await?;
    Ok(all.into_iter().map(|r| r.resource).collect())
}

/// Deletes the resource when the caller may change it.
pub async fn delete(app: &App, caller: &Caller, id: &str) -> AppResult<()> {
    owned(app, caller, id).await?;
    app.store.delete_resource(id).await?;
    Ok(())
}

/// The resource's stored policy (XML), or NotFound.
pub async fn policy_xml(app: &App, id: &str) -> AppResult<String> {
    Ok(app
        .store
        .policy(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("resource {id:?} has no policy")))?
        .xml)
}

/// Stores `xml` as the policy of `resource` (which the caller may change: see
/// [`owned`]) when the PDP can evaluate it.
pub async fn put_policy(app: &App, resource: &ServiceResource, xml: &str) -> AppResult<()> {
    check_policy_xml(xml)?;
    app.store.put_policy(&resource.identifier, xml).await?;
    Ok(())
}

/// The rights a resource's stored policy grants, or NotFound when it has none.
pub async fn rights(app: &App, id: &str) -> AppResult<Vec<Right>> {
    parse_rights(id, &policy_xml(app, id).await?)
}

/// The rights of `id`'s stored policy document `xml` (a 500 when it no longer loads).
pub fn parse_rights(id: &str, xml: &str) -> AppResult<Vec<Right>> {
    let policy = Policy::from_xml(xml).map_err(|e| {
        AppError::Internal(format!("the stored policy of {id} no longer loads: {e}"))
    })?;
    Ok(policy.rights())
}

/// The rights of a resource's stored policy, in the reference's listing shape.
pub async fn policy_rights(app: &App, id: &str) -> AppResult<Vec<PolicyRight>> {
    Ok(rights(app, id)
        .await?
        .iter()
        .map(PolicyRight::new)
        .collect())
}

/// An `attribute id = value` pair, as the reference's rights listing names them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// The right as listed; its role codes and packages are those the delegation rule
    /// reads ([`policy_rule`]).
    pub fn new(right: &Right) -> Self {
        let rule = policy_rule(right);
        let resource_key: Vec<&str> = right.resource.iter().map(|m| m.value.as_str()).collect();
        Self {
            right_key: format!("{}:{}", resource_key.join(","), right.action),
            action: right.action.clone(),
            resource: right.resource.iter().map(AttributeMatch::from).collect(),
            subjects: right.subjects.iter().map(AttributeMatch::from).collect(),
            role_codes: rule.role_codes,
            access_packages: rule.access_packages,
        }
    }
}

/// Parses and compiles the policy with the XACML engine, so only policies the PDP can
/// evaluate are stored. The engine's messages say where (element and line) and what to do.
pub fn check_policy_xml(xml: &str) -> AppResult<Policy> {
    refuse_doctype(xml)?;
    Policy::from_xml(xml).map_err(|e| policy_refused(format!("the policy was refused: {e}")))
}

fn policy_refused(message: String) -> AppError {
    AppError::InvalidField {
        code: "STD-00020",
        path: "/policy".into(),
        message,
    }
}

/// Refuses a policy with a document type declaration. The engine resolves no entities,
/// but the policy is stored and served back verbatim, and a downstream parser that does
/// resolve them (external entities, entity expansion) must never be handed one.
fn refuse_doctype(xml: &str) -> AppResult<()> {
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::DocType(_)) => {
                return Err(policy_refused(
                    "the policy was refused: it has a <!DOCTYPE> declaration; XACML policies need none, and none is accepted (remove it, and any entities it declares)".into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(xml: &str) -> String {
        match check_policy_xml(xml) {
            Ok(_) => panic!("accepted: {xml}"),
            Err(AppError::InvalidField { message, .. }) => message,
            Err(other) => panic!("not a field refusal: {other}"),
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
}
