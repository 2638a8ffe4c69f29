//! Reading the resource registry as its consumers do: search, the subjects each policy
//! names (`policy/subjects`, `policy/rules`, `bysubjects`), what changed since a moment
//! (`updated`), the resource owners (`orgs`), and which resources a package gives
//! access to. Everything here is public, as in the reference: none of it is personal.

use std::collections::{BTreeMap, BTreeSet};

use systembruker_domain::resource::{ResourceType, ServiceResource, TranslatedText};
use systembruker_xacml::{Right, SubjectMatch};

use crate::{App, AppError, AppResult};

/// The resource attribute every resource policy names.
pub const RESOURCE_ATTRIBUTE: &str = "urn:altinn:resource";
/// The access-package subject attribute.
pub const PACKAGE_ATTRIBUTE: &str = "urn:altinn:accesspackage";

/// An `attribute = value` pair and its URN (`urn:altinn:rolecode:dagl`), as the
/// reference's registry names subjects and resources.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttributeUrn {
    pub attribute: String,
    pub value: String,
}

impl AttributeUrn {
    /// Subjects are compared and shown in lower case, as the reference's registry stores
    /// them (`urn:altinn:rolecode:dagl` whatever case the policy used).
    pub fn subject(m: &SubjectMatch) -> Self {
        Self {
            attribute: m.attribute_id.to_lowercase(),
            value: m.value.to_lowercase(),
        }
    }

    pub fn resource(id: &str) -> Self {
        Self {
            attribute: RESOURCE_ATTRIBUTE.into(),
            value: id.into(),
        }
    }

    pub fn urn(&self) -> String {
        format!("{}:{}", self.attribute, self.value)
    }

    /// Reads `urn:…:<value>`: the value is what follows the last `:`.
    pub fn parse(urn: &str) -> Option<Self> {
        let (attribute, value) = urn.trim().rsplit_once(':')?;
        (!attribute.is_empty() && !value.is_empty()).then(|| Self {
            attribute: attribute.to_lowercase(),
            value: value.to_lowercase(),
        })
    }
}

/// A resource with the rights of its policy (none when it has no policy) and the last
/// time either changed (unix milliseconds).
#[derive(Debug, Clone)]
pub struct ResourcePolicy {
    pub resource: ServiceResource,
    pub rights: Vec<Right>,
    pub updated_at: i64,
}

impl ResourcePolicy {
    /// Every subject the policy names, once each, sorted.
    pub fn subjects(&self) -> BTreeSet<AttributeUrn> {
        self.rights
            .iter()
            .flat_map(|r| r.subjects.iter().map(AttributeUrn::subject))
            .collect()
    }
}

/// Every resource with its policy's rights. A stored policy that no longer loads is our
/// fault, not the caller's: it is reported, not skipped.
pub async fn resource_policies(app: &App) -> AppResult<Vec<ResourcePolicy>> {
    let mut out = Vec::new();
    for stored in app.store.resources().await? {
        let id = stored.resource.identifier.clone();
        let policy = app.store.policy(&id).await?;
        let (rights, policy_at) = match policy {
            Some(policy) => (
                crate::resources::parse_rights(&id, &policy.xml)?,
                policy.updated_at,
            ),
            None => (Vec::new(), 0),
        };
        out.push(ResourcePolicy {
            resource: stored.resource,
            rights,
            updated_at: stored.updated_at.max(policy_at),
        });
    }
    Ok(out)
}

// ----- search -----

/// The filters of `resource/Search`; each one given must match (case-insensitive
/// substring, `resourceType` exactly).
#[derive(Debug, Clone, Default)]
pub struct ResourceSearch {
    pub id: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub resource_type: Option<ResourceType>,
    pub keyword: Option<String>,
    /// Matches the identifier, a title or a description.
    pub search_term: Option<String>,
}

fn contains(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

fn any_language(text: &TranslatedText, needle: &str) -> bool {
    [&text.nb, &text.nn, &text.en]
        .into_iter()
        .flatten()
        .any(|t| contains(t, needle))
}

/// Whether the resource matches every filter given; blank filters are not filters.
pub fn matches(resource: &ServiceResource, search: &ResourceSearch) -> bool {
    let given = |f: &Option<String>| {
        f.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let id_ok = given(&search.id).is_none_or(|id| contains(&resource.identifier, &id));
    let title_ok = given(&search.title).is_none_or(|t| any_language(&resource.title, &t));
    let description_ok =
        given(&search.description).is_none_or(|d| any_language(&resource.description, &d));
    let type_ok = search
        .resource_type
        .is_none_or(|t| t == resource.resource_type);
    let keyword_ok = given(&search.keyword).is_none_or(|k| {
        resource.keywords.iter().any(|word| match word {
            serde_json::Value::String(s) => contains(s, &k),
            other => other
                .get("word")
                .and_then(|w| w.as_str())
                .is_some_and(|w| contains(w, &k)),
        })
    });
    let term_ok = given(&search.search_term).is_none_or(|term| {
        contains(&resource.identifier, &term)
            || any_language(&resource.title, &term)
            || any_language(&resource.description, &term)
    });
    id_ok && title_ok && description_ok && type_ok && keyword_ok && term_ok
}

/// The resources that match, in the registry's order.
pub async fn search(app: &App, search: &ResourceSearch) -> AppResult<Vec<ServiceResource>> {
    let all = crate::resources::list(app).await?;
    Ok(all.into_iter().filter(|r| matches(r, search)).collect())
}

// ----- subjects and rules -----

/// The subjects of a resource's policy, or NotFound.
pub async fn subjects(app: &App, id: &str) -> AppResult<Vec<AttributeUrn>> {
    let rights = crate::resources::rights(app, id).await?;
    let set: BTreeSet<AttributeUrn> = rights
        .iter()
        .flat_map(|r| r.subjects.iter().map(AttributeUrn::subject))
        .collect();
    Ok(set.into_iter().collect())
}

/// One subject, one action and one resource attribute set: a policy's rules flattened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatRule {
    pub subject: AttributeUrn,
    pub action: String,
    pub resource: Vec<AttributeUrn>,
}

/// A policy's rules flattened to one subject, action and resource each.
pub fn flatten(rights: &[Right]) -> Vec<FlatRule> {
    rights
        .iter()
        .flat_map(|right| {
            right.subjects.iter().map(move |s| FlatRule {
                subject: AttributeUrn::subject(s),
                action: right.action.clone(),
                resource: right
                    .resource
                    .iter()
                    .map(|m| AttributeUrn {
                        attribute: m.attribute_id.clone(),
                        value: m.value.clone(),
                    })
                    .collect(),
            })
        })
        .collect()
}

/// The flattened rules of a resource's policy, or NotFound.
pub async fn rules(app: &App, id: &str) -> AppResult<Vec<FlatRule>> {
    Ok(flatten(&crate::resources::rights(app, id).await?))
}

/// For each subject asked about (a URN), the resources whose policy names it; subjects
/// no policy names are listed with none. A text that is no URN is refused.
pub async fn by_subjects(
    app: &App,
    asked: &[String],
) -> AppResult<Vec<(AttributeUrn, Vec<AttributeUrn>)>> {
    let wanted = asked
        .iter()
        .map(|urn| {
            AttributeUrn::parse(urn).ok_or_else(|| {
                AppError::invalid_field("/", format!("{urn:?} is not a subject urn"))
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let policies = resource_policies(app).await?;
    Ok(resources_naming(&policies, wanted))
}

/// Pure part of [`by_subjects`].
pub fn resources_naming(
    policies: &[ResourcePolicy],
    wanted: Vec<AttributeUrn>,
) -> Vec<(AttributeUrn, Vec<AttributeUrn>)> {
    let subjects: Vec<(AttributeUrn, BTreeSet<AttributeUrn>)> = policies
        .iter()
        .map(|p| (AttributeUrn::resource(&p.resource.identifier), p.subjects()))
        .collect();
    wanted
        .into_iter()
        .map(|subject| {
            let resources = subjects
                .iter()
                .filter(|(_, named)| named.contains(&subject))
                .map(|(resource, _)| resource.clone())
                .collect();
            (subject, resources)
        })
        .collect()
}

/// The resources whose policy names the access package (bare code).
pub async fn package_resources(app: &App, code: &str) -> AppResult<Vec<ServiceResource>> {
    let subject = AttributeUrn {
        attribute: PACKAGE_ATTRIBUTE.into(),
        value: code.to_lowercase(),
    };
    Ok(resource_policies(app)
        .await?
        .into_iter()
        .filter(|p| p.subjects().contains(&subject))
        .map(|p| p.resource)
        .collect())
}

// ----- updated -----

/// A (resource, subject) pair of a policy, with when the resource or policy changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatedSubject {
    pub resource: AttributeUrn,
    pub subject: AttributeUrn,
    pub updated_at: i64,
}

/// Where the previous page of `updated` ended: its last pair and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatedCursor {
    pub updated_at: i64,
    pub resource: String,
    pub subject: String,
}

/// The pairs changed at or after `since`, in (time, resource, subject) order, after the
/// cursor if one is given, at most `limit + 1` (the extra one says there is more).
pub fn updated_pairs(
    policies: &[ResourcePolicy],
    since: i64,
    after: Option<&UpdatedCursor>,
    limit: usize,
) -> Vec<UpdatedSubject> {
    let mut pairs: Vec<UpdatedSubject> = policies
        .iter()
        .filter(|p| p.updated_at >= since)
        .flat_map(|p| {
            let resource = AttributeUrn::resource(&p.resource.identifier);
            p.subjects().into_iter().map(move |subject| UpdatedSubject {
                resource: resource.clone(),
                subject,
                updated_at: p.updated_at,
            })
        })
        .collect();
    pairs.sort_by(|a, b| {
        (a.updated_at, a.resource.urn(), a.subject.urn()).cmp(&(
            b.updated_at,
            b.resource.urn(),
            b.subject.urn(),
        ))
    });
    pairs
        .into_iter()
        .filter(|p| {
            after.is_none_or(|c| {
                (p.updated_at, p.resource.urn(), p.subject.urn())
                    > (c.updated_at, c.resource.clone(), c.subject.clone())
            })
        })
        .take(limit + 1)
        .collect()
}

/// The `updated` feed: [`updated_pairs`] over the registry.
pub async fn updated(
    app: &App,
    since: i64,
    after: Option<&UpdatedCursor>,
    limit: usize,
) -> AppResult<Vec<UpdatedSubject>> {
    let policies = resource_policies(app).await?;
    Ok(updated_pairs(&policies, since, after, limit))
}

// ----- orgs -----

/// A resource owner, as the registry's resources name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceOwner {
    pub org_number: String,
    pub name: Option<TranslatedText>,
}

/// The owners of the registry's resources, by org code (the org number when a resource
/// has none).
pub async fn owners(app: &App) -> AppResult<BTreeMap<String, ResourceOwner>> {
    let mut out = BTreeMap::new();
    for resource in crate::resources::list(app).await? {
        let authority = &resource.has_competent_authority;
        let org_number = authority.organization.to_string();
        let code = authority
            .orgcode
            .clone()
            .filter(|c| !c.trim().is_empty())
            .unwrap_or_else(|| org_number.clone())
            .to_lowercase();
        out.entry(code).or_insert(ResourceOwner {
            org_number,
            name: authority.name.clone(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(id: &str, title: &str, keywords: serde_json::Value) -> ServiceResource {
        serde_json::from_value(serde_json::json!({
            "identifier": id,
            "title": {"nb": title, "en": format!("{title} (en)")},
            "description": {"nb": "Skatt og avgift"},
            "resourceType": "GenericAccessResource",
            "keywords": keywords,
            "hasCompetentAuthority": {"organization": "974761076", "orgcode": "SKD"}
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn right(action: &str, subjects: &[(&str, &str)]) -> Right {
        Right {
            action: action.into(),
            resource: vec![SubjectMatch {
                attribute_id: RESOURCE_ATTRIBUTE.into(),
                value: "krav".into(),
            }],
            subjects: subjects
                .iter()
                .map(|(a, v)| SubjectMatch {
                    attribute_id: (*a).into(),
                    value: (*v).into(),
                })
                .collect(),
        }
    }

    fn policy(id: &str, at: i64, subjects: &[(&str, &str)]) -> ResourcePolicy {
        ResourcePolicy {
            resource: resource(id, id, serde_json::json!([])),
            rights: vec![right("read", subjects)],
            updated_at: at,
        }
    }

    #[test]
    fn a_search_matches_only_when_every_filter_given_matches() {
        let r = resource(
            "ske-krav",
            "Krav og betalinger",
            serde_json::json!([{"word": "skatt", "language": "nb"}]),
        );
        let search = |f: fn(&mut ResourceSearch)| {
            let mut s = ResourceSearch::default();
            f(&mut s);
            matches(&r, &s)
        };
        assert!(search(|_| {}));
        assert!(search(|s| s.id = Some("KRAV".into())));
        assert!(search(|s| s.title = Some("betalinger (en)".into())));
        assert!(search(|s| s.keyword = Some("skatt".into())));
        assert!(search(|s| s.search_term = Some("avgift".into())));
        assert!(search(
            |s| s.resource_type = Some(ResourceType::GenericAccessResource)
        ));
        assert!(
            search(|s| s.id = Some("  ".into())),
            "a blank filter is no filter"
        );
        assert!(!search(|s| s.resource_type = Some(ResourceType::AltinnApp)));
        assert!(!search(|s| {
            s.id = Some("krav".into());
            s.title = Some("lønn".into());
        }));
    }

    #[test]
    fn subjects_are_named_in_lower_case_urns() {
        let m = SubjectMatch {
            attribute_id: "urn:altinn:rolecode".into(),
            value: "DAGL".into(),
        };
        assert_eq!(AttributeUrn::subject(&m).urn(), "urn:altinn:rolecode:dagl");
        assert_eq!(
            AttributeUrn::parse("urn:altinn:RoleCode:DAGL"),
            Some(AttributeUrn::subject(&m))
        );
        assert_eq!(AttributeUrn::parse("dagl"), None);
    }

    #[test]
    fn a_policy_is_flattened_to_one_subject_per_rule() {
        let rules = flatten(&[right(
            "read",
            &[
                ("urn:altinn:rolecode", "DAGL"),
                (PACKAGE_ATTRIBUTE, "skatt-naering"),
            ],
        )]);
        assert_eq!(rules.len(), 2);
        assert_eq!(
            rules[1].subject.urn(),
            "urn:altinn:accesspackage:skatt-naering"
        );
        assert_eq!(rules[1].action, "read");
        assert_eq!(rules[1].resource, vec![AttributeUrn::resource("krav")]);
    }

    #[test]
    fn a_subject_lists_the_resources_whose_policy_names_it() {
        let policies = [
            policy("one", 1, &[("urn:altinn:rolecode", "DAGL")]),
            policy(
                "two",
                2,
                &[("urn:altinn:rolecode", "dagl"), (PACKAGE_ATTRIBUTE, "x")],
            ),
        ];
        let dagl =
            AttributeUrn::parse("urn:altinn:rolecode:dagl").unwrap_or_else(|| unreachable!());
        let none =
            AttributeUrn::parse("urn:altinn:rolecode:regna").unwrap_or_else(|| unreachable!());
        let found = resources_naming(&policies, vec![dagl, none]);
        assert_eq!(
            found[0].1,
            vec![AttributeUrn::resource("one"), AttributeUrn::resource("two")]
        );
        assert!(found[1].1.is_empty());
    }

    #[test]
    fn the_updated_feed_pages_in_time_order_without_repeats() {
        let policies = [
            policy(
                "b",
                20,
                &[("urn:altinn:rolecode", "dagl"), (PACKAGE_ATTRIBUTE, "x")],
            ),
            policy("a", 10, &[("urn:altinn:rolecode", "dagl")]),
            policy("old", 1, &[("urn:altinn:rolecode", "dagl")]),
        ];
        let first = updated_pairs(&policies, 10, None, 1);
        assert_eq!(first.len(), 2, "one more than the limit says there is more");
        assert_eq!(first[0].resource.value, "a");
        let cursor = UpdatedCursor {
            updated_at: first[0].updated_at,
            resource: first[0].resource.urn(),
            subject: first[0].subject.urn(),
        };
        let rest = updated_pairs(&policies, 10, Some(&cursor), 10);
        assert_eq!(rest.len(), 2);
        assert!(rest.iter().all(|p| p.resource.value == "b"));
        assert!(updated_pairs(&policies, 21, None, 10).is_empty());
    }
}
