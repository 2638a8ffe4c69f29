//! Resources of the resource registry and their validation (docs/rules.md#resources).

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::ids::OrgNumber;

/// Text in the three languages the platform requires.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TranslatedText {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nb: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl TranslatedText {
    /// The languages that are missing or blank, for error messages.
    pub fn missing_languages(&self) -> Vec<&'static str> {
        [("nb", &self.nb), ("nn", &self.nn), ("en", &self.en)]
            .into_iter()
            .filter(|(_, v)| v.as_deref().is_none_or(|s| s.trim().is_empty()))
            .map(|(lang, _)| lang)
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ResourceType {
    Default,
    Systemresource,
    MaskinportenSchema,
    Altinn2Service,
    AltinnApp,
    GenericAccessResource,
    BrokerService,
    CorrespondenceService,
    Consent,
    MigratedApp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReferenceType {
    Default,
    Uri,
    DelegationSchemeId,
    MaskinportenScope,
    ServiceCode,
    ServiceEditionCode,
    ApplicationId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ResourceReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_source: Option<String>,
    pub reference: String,
    pub reference_type: ReferenceType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CompetentAuthority {
    pub organization: OrgNumber,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orgcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<TranslatedText>,
}

fn default_true() -> bool {
    true
}

/// A service resource as the reference's resource registry models it (the subset the
/// platform uses; unknown fields are kept in `extra` so nothing a client sends is lost).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ServiceResource {
    pub identifier: String,
    #[serde(default)]
    pub title: TranslatedText,
    #[serde(default)]
    pub description: TranslatedText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right_description: Option<TranslatedText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub resource_type: ResourceType,
    #[serde(default = "default_true")]
    pub delegable: bool,
    #[serde(default = "default_true")]
    pub visible: bool,
    #[serde(default)]
    pub resource_references: Vec<ResourceReference>,
    pub has_competent_authority: CompetentAuthority,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_list_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub available_for_type: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contact_points: Vec<serde_json::Value>,
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One validation failure: which JSON path, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl FieldError {
    fn new(path: &str, message: impl Into<String>) -> Self {
        Self {
            path: path.to_string(),
            message: message.into(),
        }
    }
}

static IDENTIFIER: LazyLock<Regex> = LazyLock::new(|| {
    // A literal pattern; compiling it cannot fail.
    Regex::new("^[a-z0-9_-]{4,}$").unwrap_or_else(|_| unreachable!())
});

impl ServiceResource {
    /// The Maskinporten scope this resource is published under, if any.
    pub fn maskinporten_scope(&self) -> Option<&str> {
        self.resource_references
            .iter()
            .find(|r| r.reference_type == ReferenceType::MaskinportenScope)
            .map(|r| r.reference.as_str())
    }

    /// Whether the resource's `accessListMode` is `Enabled`: then a Permit stands only for
    /// an organisation on one of its access lists (docs/authorization.md#access-lists).
    pub fn access_list_enabled(&self) -> bool {
        self.access_list_mode
            .as_deref()
            .is_some_and(|mode| mode.eq_ignore_ascii_case("Enabled"))
    }

    /// Checks the rules of the reference's resource registry; returns every failure at once.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if !IDENTIFIER.is_match(&self.identifier) {
            errors.push(FieldError::new(
                "/identifier",
                "must be at least 4 characters of a-z, 0-9, '_' or '-'",
            ));
        }
        for (path, text) in [("/title", &self.title), ("/description", &self.description)] {
            let missing = text.missing_languages();
            if !missing.is_empty() {
                errors.push(FieldError::new(
                    path,
                    format!(
                        "text is required in nb, nn and en; missing: {}",
                        missing.join(", ")
                    ),
                ));
            }
        }
        if self.delegable {
            let missing = self
                .right_description
                .as_ref()
                .map(TranslatedText::missing_languages)
                .unwrap_or_else(|| vec!["nb", "nn", "en"]);
            if !missing.is_empty() {
                errors.push(FieldError::new(
                    "/rightDescription",
                    format!(
                        "a delegable resource needs a right description in nb, nn and en; missing: {}",
                        missing.join(", ")
                    ),
                ));
            }
        }
        if self.resource_type == ResourceType::MaskinportenSchema
            && self.maskinporten_scope().is_none()
        {
            errors.push(FieldError::new(
                "/resourceReferences",
                "a MaskinportenSchema resource needs a reference of type MaskinportenScope",
            ));
        }
        if self.resource_type == ResourceType::AltinnApp {
            if !self.identifier.starts_with("app_") {
                errors.push(FieldError::new(
                    "/identifier",
                    "an AltinnApp resource identifier must start with app_<org>_",
                ));
            }
            if !self
                .resource_references
                .iter()
                .any(|r| r.reference_type == ReferenceType::ApplicationId)
            {
                errors.push(FieldError::new(
                    "/resourceReferences",
                    "an AltinnApp resource needs a reference of type ApplicationId",
                ));
            }
        }
        if self
            .resource_references
            .iter()
            .any(|r| r.reference.trim().is_empty())
        {
            errors.push(FieldError::new(
                "/resourceReferences",
                "a reference must not be empty",
            ));
        }
        if self.access_list_mode.as_deref().is_some_and(|mode| {
            !mode.eq_ignore_ascii_case("Enabled") && !mode.eq_ignore_ascii_case("Disabled")
        }) {
            errors.push(FieldError::new(
                "/accessListMode",
                "must be Disabled or Enabled",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> serde_json::Value {
        serde_json::json!({
            "identifier": "ske-krav-og-betalinger",
            "title": {"nb": "Krav og betalinger", "nn": "Krav og betalingar", "en": "Claims and payments"},
            "description": {"nb": "a", "nn": "b", "en": "c"},
            "rightDescription": {"nb": "a", "nn": "b", "en": "c"},
            "resourceType": "GenericAccessResource",
            "delegable": true,
            "resourceReferences": [{"referenceSource": "Default", "reference": "skatteetaten:kravogbetalinger", "referenceType": "MaskinportenScope"}],
            "hasCompetentAuthority": {"organization": "974761076", "orgcode": "skd"}
        })
    }

    #[test]
    fn demo_resource_is_valid_and_has_scope() {
        let r: ServiceResource = serde_json::from_value(demo()).unwrap();
        assert_eq!(r.validate(), Ok(()));
        assert_eq!(
            r.maskinporten_scope(),
            Some("skatteetaten:kravogbetalinger")
        );
    }

    #[test]
    fn every_failure_is_reported_with_its_path() {
        let mut v = demo();
        v["identifier"] = "Bad Id".into();
        v["title"] = serde_json::json!({"nb": "x"});
        v["rightDescription"] = serde_json::Value::Null;
        v["resourceType"] = "MaskinportenSchema".into();
        v["resourceReferences"] = serde_json::json!([]);
        let r: ServiceResource = serde_json::from_value(v).unwrap();
        let paths: Vec<String> = r
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(
            paths,
            [
                "/identifier",
                "/title",
                "/rightDescription",
                "/resourceReferences"
            ]
        );
    }

    #[test]
    fn access_list_mode_is_disabled_or_enabled() {
        let mut v = demo();
        let r: ServiceResource = serde_json::from_value(v.clone()).unwrap();
        assert!(!r.access_list_enabled(), "no mode: disabled");
        v["accessListMode"] = "Enabled".into();
        let r: ServiceResource = serde_json::from_value(v.clone()).unwrap();
        assert!(r.access_list_enabled());
        assert_eq!(r.validate(), Ok(()));
        v["accessListMode"] = "Sometimes".into();
        let r: ServiceResource = serde_json::from_value(v).unwrap();
        assert!(!r.access_list_enabled());
        let paths: Vec<String> = r
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(paths, ["/accessListMode"]);
    }

    #[test]
    fn invalid_owner_org_number_fails_to_parse() {
        let mut v = demo();
        v["hasCompetentAuthority"]["organization"] = "974761077".into();
        assert!(serde_json::from_value::<ServiceResource>(v).is_err());
    }

    #[test]
    fn unknown_fields_are_kept() {
        let mut v = demo();
        v["versionId"] = 7.into();
        let r: ServiceResource = serde_json::from_value(v).unwrap();
        assert_eq!(serde_json::to_value(&r).unwrap()["versionId"], 7);
    }
}
