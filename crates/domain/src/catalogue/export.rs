//! The metadata views the access-management API returns:
//! `GET /accessmanagement/api/v1/meta/info/accesspackages/export` (area groups → areas →
//! packages) and `GET /accessmanagement/api/v1/meta/info/roles/{code}/packages`.
//!
//! Names and descriptions are single strings in the caller's language, as in the
//! reference's `AreaGroupDto`/`AreaDto`/`PackageDto`.

use serde::Serialize;
use uuid::Uuid;

use super::{AccessPackage, Area, AreaGroup, Catalogue, Language, LookupError, Role, RolePackage};

/// An area group with its areas, as the export endpoint returns it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportAreaGroup {
    pub id: Uuid,
    pub name: String,
    /// The group's key (`General`, `Industry`, …); the reference has no URN for groups.
    pub urn: String,
    pub description: String,
    /// `Organization` or `Person`.
    #[serde(rename = "type")]
    pub entity_type: String,
    pub areas: Vec<ExportArea>,
}

/// An area with its packages.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportArea {
    pub id: Uuid,
    pub name: String,
    pub urn: String,
    pub description: String,
    pub icon: String,
    pub packages: Vec<ExportPackage>,
}

/// A package inside an area of the export.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportPackage {
    pub id: Uuid,
    pub name: String,
    pub urn: String,
    pub code: String,
    pub description: String,
    pub area_id: Uuid,
    pub entity_type: String,
    pub is_delegable: bool,
    pub is_assignable: bool,
    pub is_available_for_service_owners: bool,
}

impl ExportPackage {
    fn new(package: &AccessPackage, area: &Area, language: Language) -> Self {
        Self {
            id: package.id,
            name: package.name.get(language).to_string(),
            urn: package.urn.clone(),
            code: package.code.clone(),
            description: package.description.get(language).to_string(),
            area_id: area.id,
            entity_type: package.entity_type.clone(),
            is_delegable: package.is_delegable,
            is_assignable: package.is_assignable,
            is_available_for_service_owners: package.is_available_for_service_owners,
        }
    }
}

/// One role → package row with both ends resolved (the reference's `RolePackageDto`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RolePackageRow<'c> {
    pub role: &'c Role,
    pub package: &'c AccessPackage,
    /// The organisation form the row is limited to, if any.
    pub entity_variant: Option<&'c str>,
    pub has_access: bool,
    pub can_delegate: bool,
    pub can_assign: bool,
}

impl<'c> RolePackageRow<'c> {
    pub(crate) fn new(role: &'c Role, package: &'c AccessPackage, row: &'c RolePackage) -> Self {
        Self {
            role,
            package,
            entity_variant: row.entity_variant.as_deref(),
            has_access: row.has_access,
            can_delegate: row.can_delegate,
            can_assign: row.can_assign,
        }
    }

    /// Whether the row applies when the role is given by an organisation of `variant`.
    pub fn applies_to_variant(&self, variant: Option<&str>) -> bool {
        super::variant_matches(self.entity_variant, variant)
    }
}

impl Catalogue {
    /// Every area group with its areas and their packages (all 223), in the reference's order.
    pub fn export(&self, language: Language) -> Vec<ExportAreaGroup> {
        self.area_groups
            .iter()
            .map(|group| self.export_group(group, language))
            .collect()
    }

    fn export_group(&self, group: &AreaGroup, language: Language) -> ExportAreaGroup {
        let areas = self
            .areas
            .iter()
            .filter(|area| area.area_group.eq_ignore_ascii_case(group.key()))
            .map(|area| self.export_area(area, language))
            .collect();
        ExportAreaGroup {
            id: group.id,
            name: group.name.get(language).to_string(),
            urn: group.key().to_string(),
            description: group.description_nb.clone(),
            entity_type: group.entity_type.clone(),
            areas,
        }
    }

    fn export_area(&self, area: &Area, language: Language) -> ExportArea {
        let packages = self
            .packages
            .iter()
            .filter(|package| package.area_urn.eq_ignore_ascii_case(&area.urn))
            .map(|package| ExportPackage::new(package, area, language))
            .collect();
        ExportArea {
            id: area.id,
            name: area.name.get(language).to_string(),
            urn: area.urn.clone(),
            description: area.description.get(language).to_string(),
            icon: area.icon.clone(),
            packages,
        }
    }

    /// The packages a role gives, for `GET …/meta/info/roles/{code}/packages?variant=`.
    ///
    /// With a variant, only rows that apply to that organisation form are returned
    /// (FFØR with `ESEK` lists `forretningsforer-eiendom`, with `AS` it does not); without
    /// one, every row is returned and variant-limited rows carry their `entityVariant`.
    pub fn packages_for_role(
        &self,
        role: &str,
        entity_variant: Option<&str>,
    ) -> Result<Vec<RolePackageRow<'_>>, LookupError> {
        let role = self.role(role)?;
        let Some(variant) = entity_variant else {
            return Ok(self.rows_of_role(role).collect());
        };
        let variant = self.entity_variant(variant)?.code.as_str();
        Ok(self
            .rows_of_role(role)
            .filter(|row| row.applies_to_variant(Some(variant)))
            .collect())
    }
}
