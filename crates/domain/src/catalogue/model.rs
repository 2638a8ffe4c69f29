//! The static catalogue records, with the reference data files' own field names.
//!
//! These types deserialize straight from `crates/domain/data/*.json` and serialize back
//! with the same camelCase names, so an API that returns them matches the reference.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::variant_matches;

/// One text in the three languages the reference ships (bokmål, nynorsk, English).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LocalizedText {
    pub nb: String,
    pub nn: String,
    pub en: String,
}

impl LocalizedText {
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Nb => &self.nb,
            Language::Nn => &self.nn,
            Language::En => &self.en,
        }
    }
}

/// The languages of [`LocalizedText`]; bokmål is the reference's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Nb,
    Nn,
    En,
}

impl Language {
    /// Reads a language tag or the first entry of an `Accept-Language` header
    /// (`en-GB,en;q=0.9` → English). Anything unknown falls back to bokmål, as the
    /// reference does, because a missing translation must not fail a request.
    pub fn from_tag(tag: &str) -> Self {
        let first = tag.split([',', ';', '-', '_']).next().unwrap_or_default();
        match first.trim().to_ascii_lowercase().as_str() {
            "nn" => Self::Nn,
            "en" => Self::En,
            _ => Self::Nb,
        }
    }
}

/// Top level of the package hierarchy (General, Industry, Special, Inhabitant, Guardianship).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AreaGroup {
    pub id: Uuid,
    pub name: LocalizedText,
    /// The reference only has a bokmål description for area groups.
    #[serde(rename = "description_nb")]
    pub description_nb: String,
    /// `Organization` or `Person`: whose packages the group holds.
    pub entity_type: String,
}

impl AreaGroup {
    /// The key areas and packages use to point at their group (`General`, …): the English name.
    pub fn key(&self) -> &str {
        &self.name.en
    }
}

/// A fullmaktsområde: a set of packages about one subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Area {
    pub id: Uuid,
    /// `accesspackage:area:<slug>` (the reference has no `urn:altinn:` prefix here).
    pub urn: String,
    pub name: LocalizedText,
    pub description: LocalizedText,
    pub icon: String,
    /// The English name of the area group, e.g. `General`.
    pub area_group: String,
}

/// A tilgangspakke (access package).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AccessPackage {
    pub id: Uuid,
    /// `urn:altinn:accesspackage:<code>`.
    pub urn: String,
    /// The bare code, as XACML policies carry it (`skatt-naering`).
    pub code: String,
    pub name: LocalizedText,
    pub description: LocalizedText,
    pub area_urn: String,
    pub area_group: String,
    /// `Organization` or `Person`.
    pub entity_type: String,
    /// `Altinn3`, or `CivilRightsAuthority` for guardianship packages.
    pub provider: String,
    /// May be forwarded by client delegation, also to an agent system user.
    pub is_delegable: bool,
    /// May be given directly, also to a standard system user.
    pub is_assignable: bool,
    /// May be used as a subject in resource policies.
    pub is_available_for_service_owners: bool,
}

/// A role: ER (`ccr`), guardianship (`cra`), Altinn 2 role code or Altinn 3 role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Role {
    pub id: Uuid,
    /// `daglig-leder`, `regnskapsforer`, `hovedadministrator`, `a0212`, …
    pub code: String,
    pub urn: String,
    /// The ER short code for ER roles (`dagl`, `ffør`); absent for the others.
    pub legacy_code: Option<String>,
    /// `urn:altinn:rolecode:<legacyCode>`.
    pub legacy_urn: Option<String>,
    pub name: LocalizedText,
    pub description: LocalizedText,
    /// `CentralCoordinatingRegister`, `CivilRightsAuthority`, `Altinn2` or `Altinn3`.
    pub provider: String,
    pub entity_type: String,
    /// A key role's holder acts for the organisation and inherits what it received.
    pub is_key_role: bool,
    pub is_assignable: Option<bool>,
    pub is_available_for_service_owners: Option<bool>,
}

impl Role {
    /// True for roles registered in Enhetsregisteret (the ones the register imports).
    pub fn is_er_role(&self) -> bool {
        self.provider == "CentralCoordinatingRegister"
    }
}

/// An organisation form (AS, ENK, BEDR, …) or another kind of entity variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EntityVariant {
    pub id: Uuid,
    pub entity_type: String,
    pub code: String,
    pub description: String,
}

/// One row of the static role → package mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RolePackage {
    pub role_urn: String,
    pub role_legacy_code: Option<String>,
    pub package_urn: String,
    /// When set, the row applies only when the organisation that gave the role has
    /// this variant (FFØR gives `forretningsforer-eiendom` only for ESEK and BRL).
    pub entity_variant: Option<String>,
    /// The holder has the package.
    pub has_access: bool,
    /// The holder may give the package to others.
    pub can_delegate: bool,
    pub can_assign: bool,
}

impl RolePackage {
    /// Whether the row applies to a role given by an organisation of `variant`.
    /// Rows without a variant apply to all; an unknown variant only matches those.
    pub fn applies_to_variant(&self, variant: Option<&str>) -> bool {
        variant_matches(self.entity_variant.as_deref(), variant)
    }
}

/// One row of the role implication map: holding `hasRole` also gives `getsRole`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RoleMapping {
    pub has_role_urn: String,
    pub has_role_legacy_code: Option<String>,
    pub gets_role_urn: String,
    pub gets_role_code: String,
}
