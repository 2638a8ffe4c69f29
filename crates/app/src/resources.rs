//! The resource registry's rules: who may change a service resource and its policy, and
//! which policies are stored (only what the PDP can evaluate, never a `<!DOCTYPE>`).

use systembruker_domain::resource::{ResourceType, ServiceResource};
use systembruker_xacml::{Policy, Right};

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
    let xml = policy_xml(app, id).await?;
    let policy = Policy::from_xml(&xml).map_err(|e| {
        AppError::Internal(format!("the stored policy of {id} no longer loads: {e}"))
    })?;
    Ok(policy.rights())
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
