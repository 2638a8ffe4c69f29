//! Access lists in decisions (docs/authorization.md#access-lists).
//!
//! - **The gate**: when a resource's `accessListMode` is `Enabled`, a Permit stands only
//!   if the resource party is an organisation on a list connected to the resource whose
//!   action filter (if any) holds the action; otherwise the answer is Deny, as the
//!   reference answers it.
//! - **Enrichment**: a request without a resource party (a consent request, say) gets the
//!   subject's list memberships (`urn:altinn:access-list`, `{owner}:{identifier}`) and
//!   party type (`urn:altinn:partytype`: `organization` or `person`) when the resource's
//!   policy asks for them.
//!
//! No stale answers: the resource's mode is cached under the policy counter (raised by
//! every change to a resource), and memberships are read with one indexed query per
//! decision that needs them, so a change counts on the very next decision.

use super::{
    ContextHandler, Subject, Trace, Undecidable, attr, refuse_supplied, resource_id, value_text,
};
use systembruker_domain::party::PartyType;
use systembruker_storage::{AuthzVersions, VersionedCache};
use systembruker_xacml::{
    ACTION_ID, AttributeValue, Decision, DecisionResult, Request, Status, StatusCode, category,
};

/// Added by the PIP: `{owner}:{identifier}` of each list the subject is on.
pub const ACCESS_LIST: &str = "urn:altinn:access-list";
/// Added by the PIP: `organization` or `person`.
pub const PARTY_TYPE: &str = "urn:altinn:partytype";

/// Whether each resource's `accessListMode` is `Enabled`, by resource id, valid while
/// the policy counter stands still. Only resources that exist are kept, so a resource
/// created later (which moves no counter) is read on its first decision.
pub struct ModeCache(VersionedCache<String, bool>);

impl ModeCache {
    pub fn new(limit: usize) -> Self {
        Self(VersionedCache::new(limit))
    }
}

/// The answer when the gate closes.
fn denied() -> DecisionResult {
    DecisionResult::new(
        Decision::Deny,
        Status {
            code: StatusCode::Ok,
            message: Some(
                "the resource requires access-list authorization of the resource party, \
                 which the resource's owner controls"
                    .into(),
            ),
        },
    )
}

/// Whether one list's action filter lets every requested action through.
fn filter_allows(filter: &[String], actions: &[String]) -> bool {
    filter.is_empty()
        || actions
            .iter()
            .all(|action| filter.iter().any(|f| f.eq_ignore_ascii_case(action)))
}

impl ContextHandler {
    /// Decides one individual request with access lists applied: the enrichment before,
    /// the gate after.
    pub(super) async fn decide_with_access_lists(
        &self,
        request: &mut Request,
        versions: AuthzVersions,
        trace: &mut Trace,
    ) -> Result<DecisionResult, Undecidable> {
        // Checked before the enrichment adds them.
        refuse_supplied(request, &[ACCESS_LIST, PARTY_TYPE])?;
        self.enrich_with_access_lists(request, versions).await?;
        let result = self.decide(request, versions, trace).await?;
        if result.decision != Decision::Permit {
            return Ok(result);
        }
        let gated = self.access_list_gate(request, versions, result).await?;
        if gated.decision != Decision::Permit {
            trace.decided_by = trace
                .resource
                .as_ref()
                .map(|resource| format!("access-list:{resource}"));
        }
        Ok(gated)
    }

    async fn access_list_gate(
        &self,
        request: &Request,
        versions: AuthzVersions,
        result: DecisionResult,
    ) -> Result<DecisionResult, Undecidable> {
        let resource = resource_id(request)?;
        if !self.access_list_enabled(&resource, versions).await? {
            return Ok(result);
        }
        let Some(party) = self.resource_party(request).await? else {
            return Ok(denied());
        };
        let actions: Vec<String> = request
            .values(category::ACTION, ACTION_ID)
            .map(value_text)
            .collect();
        // Members are organisations only, so a person party finds no list here.
        let filters = self.store.access_list_filters(&resource, party).await?;
        if filters.iter().any(|f| filter_allows(f, &actions)) {
            Ok(result)
        } else {
            Ok(denied())
        }
    }

    async fn access_list_enabled(
        &self,
        resource: &str,
        versions: AuthzVersions,
    ) -> Result<bool, Undecidable> {
        if let Some(enabled) = self.access_lists.0.get(resource, versions.policies) {
            return Ok(enabled);
        }
        let Some(stored) = self.store.resource(resource).await? else {
            return Ok(false);
        };
        let enabled = stored.resource.access_list_enabled();
        self.access_lists
            .0
            .put(resource.to_string(), versions.policies, enabled);
        Ok(enabled)
    }

    /// Adds the subject's memberships and party type to a request without a resource
    /// party, when the resource's policy reads them.
    async fn enrich_with_access_lists(
        &self,
        request: &mut Request,
        versions: AuthzVersions,
    ) -> Result<(), Undecidable> {
        if names_a_party(request) {
            return Ok(());
        }
        let Ok(resource) = resource_id(request) else {
            // Left to the decision, which answers it.
            return Ok(());
        };
        let Some(policy) = self.policy(&resource, versions).await? else {
            return Ok(());
        };
        let ids = policy.policy.referenced_attribute_ids();
        let wants_lists = ids.iter().any(|id| id == ACCESS_LIST);
        let wants_type = ids.iter().any(|id| id == PARTY_TYPE);
        if !wants_lists && !wants_type {
            return Ok(());
        }
        let Subject::Known(subject) = self.subject(request).await? else {
            return Ok(());
        };
        let Some(party) = self.store.party_by_uuid(subject).await? else {
            // A system user, or a party the register lacks: nothing to add.
            return Ok(());
        };
        let subject_category = category::ACCESS_SUBJECT;
        if wants_type {
            let kind = match party.party_type() {
                PartyType::Organization => "organization",
                PartyType::Person => "person",
            };
            request.add_attribute(subject_category, PARTY_TYPE, AttributeValue::string(kind));
        }
        if wants_lists && party.org_number().is_some() {
            for list in self.store.access_list_memberships(subject).await? {
                request.add_attribute(subject_category, ACCESS_LIST, AttributeValue::string(list));
            }
        }
        Ok(())
    }
}

/// Whether the request names a resource party (resolved or not): only requests without
/// one are enriched, and this check reads no store.
fn names_a_party(request: &Request) -> bool {
    [
        attr::PARTY_UUID,
        attr::PARTY_ID,
        attr::ORGANIZATION,
        attr::ORGANIZATION_LEGACY,
        attr::PERSON,
    ]
    .into_iter()
    .any(|id| request.values(category::RESOURCE, id).next().is_some())
}

#[cfg(test)]
mod tests {
    use super::filter_allows;

    #[test]
    fn an_action_filter_lets_through_only_its_actions_and_an_empty_one_all() {
        let read = vec!["read".to_string()];
        assert!(filter_allows(&[], &read));
        assert!(filter_allows(&["Read".to_string()], &read));
        assert!(!filter_allows(&["write".to_string()], &read));
        let both = vec!["read".to_string(), "write".to_string()];
        assert!(!filter_allows(&read, &both), "every action must pass");
    }
}
