//! The static catalogue of access packages, roles and the role → package mapping,
//! and the rules that turn role facts into held and delegable packages.
//!
//! The data is the reference's own (extracted to `crates/domain/data/*.json`) and is
//! compiled into the binary, so every process of a deployment answers from the same
//! catalogue without reading files at run time.

mod access;
mod error;
mod export;
mod model;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;
use uuid::Uuid;

pub use access::{
    DelegationCheck, Grant, HeldPackage, InMemoryFacts, KeyRoleLink, OrgFacts, PRIVATE_PERSON_ROLE,
    PackageDelegation, PackageRef, PartyKey, Reason, RoleFact, RoleFacts, can_delegate,
    own_party_role, packages_held,
};
pub use error::{CatalogueError, LookupError};
pub use export::{ExportArea, ExportAreaGroup, ExportPackage, RolePackageRow};
pub use model::{
    AccessPackage, Area, AreaGroup, EntityVariant, Language, LocalizedText, Role, RoleMapping,
    RolePackage,
};

/// The embedded reference data (see `crates/domain/data/`).
const PACKAGES_JSON: &str = include_str!("../../data/access-packages.json");
const ROLES_JSON: &str = include_str!("../../data/roles.json");
const ROLE_PACKAGE_MAP_JSON: &str = include_str!("../../data/role-package-map.json");

static BUILTIN: LazyLock<Result<Catalogue, CatalogueError>> =
    LazyLock::new(|| Catalogue::from_json(PACKAGES_JSON, ROLES_JSON, ROLE_PACKAGE_MAP_JSON));

/// Case-folds a code, URN or variant so lookups ignore case (`DAGL`, `FFØR`).
pub(crate) fn fold(key: &str) -> String {
    key.trim().to_lowercase()
}

/// Whether a role-package row limited to `required` applies to an organisation of form
/// `actual`. Unlimited rows apply to all; a limited row needs a known, matching form.
pub(crate) fn variant_matches(required: Option<&str>, actual: Option<&str>) -> bool {
    match (required, actual) {
        (None, _) => true,
        (Some(required), Some(actual)) => fold(required) == fold(actual),
        (Some(_), None) => false,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PackagesFile {
    area_groups: Vec<AreaGroup>,
    areas: Vec<Area>,
    packages: Vec<AccessPackage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RolesFile {
    roles: Vec<Role>,
    entity_variants: Vec<EntityVariant>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleMapFile {
    role_packages: Vec<RolePackage>,
    role_map: Vec<RoleMapping>,
}

/// All static authorization metadata, with indexes so every lookup is one hash probe.
///
/// Indexes hold positions into the record vectors; they are built once by
/// [`Catalogue::from_json`], which also proves every cross-reference resolves.
#[derive(Debug)]
pub struct Catalogue {
    area_groups: Vec<AreaGroup>,
    areas: Vec<Area>,
    packages: Vec<AccessPackage>,
    roles: Vec<Role>,
    entity_variants: Vec<EntityVariant>,
    role_packages: Vec<RolePackage>,
    role_map: Vec<RoleMapping>,

    /// Area of each package, parallel to `packages`.
    package_area: Vec<usize>,
    /// Role and package of each role-package row, parallel to `role_packages`.
    role_package_links: Vec<(usize, usize)>,
    /// Role-package rows of each role, parallel to `roles`.
    role_package_rows_by_role: Vec<Vec<usize>>,
    /// Roles implied by each role (role map), parallel to `roles`.
    implied_roles_by_role: Vec<Vec<usize>>,

    package_by_urn: HashMap<String, usize>,
    package_by_code: HashMap<String, usize>,
    package_by_id: HashMap<Uuid, usize>,
    area_by_urn: HashMap<String, usize>,
    role_by_key: HashMap<String, usize>,
    role_by_id: HashMap<Uuid, usize>,
    variant_by_code: HashMap<String, usize>,
}

impl Catalogue {
    /// The catalogue compiled into the binary.
    ///
    /// # Panics
    /// Only if the embedded data is inconsistent, which the test suite rules out
    /// (`embedded_data_loads`). Call [`Catalogue::builtin_checked`] at start-up to turn
    /// that impossible case into an ordinary error before any request is served.
    pub fn builtin() -> &'static Catalogue {
        match Self::builtin_checked() {
            Ok(catalogue) => catalogue,
            Err(error) => panic!("the embedded access-package catalogue is broken: {error}"),
        }
    }

    /// The catalogue compiled into the binary, or why it failed to load.
    pub fn builtin_checked() -> Result<&'static Catalogue, &'static CatalogueError> {
        BUILTIN.as_ref()
    }

    /// Builds a catalogue from the three reference JSON documents and checks that every
    /// role, package, area, area group and entity variant they name exists.
    pub fn from_json(packages: &str, roles: &str, role_map: &str) -> Result<Self, CatalogueError> {
        let packages: PackagesFile = parse("access-packages.json", packages)?;
        let roles: RolesFile = parse("roles.json", roles)?;
        let map: RoleMapFile = parse("role-package-map.json", role_map)?;
        let mut catalogue = Catalogue {
            area_groups: packages.area_groups,
            areas: packages.areas,
            packages: packages.packages,
            roles: roles.roles,
            entity_variants: roles.entity_variants,
            role_packages: map.role_packages,
            role_map: map.role_map,
            package_area: Vec::new(),
            role_package_links: Vec::new(),
            role_package_rows_by_role: Vec::new(),
            implied_roles_by_role: Vec::new(),
            package_by_urn: HashMap::new(),
            package_by_code: HashMap::new(),
            package_by_id: HashMap::new(),
            area_by_urn: HashMap::new(),
            role_by_key: HashMap::new(),
            role_by_id: HashMap::new(),
            variant_by_code: HashMap::new(),
        };
        catalogue.index_areas()?;
        catalogue.index_packages()?;
        catalogue.index_roles()?;
        catalogue.index_variants()?;
        catalogue.index_role_packages()?;
        catalogue.index_role_map()?;
        Ok(catalogue)
    }

    fn index_areas(&mut self) -> Result<(), CatalogueError> {
        const FILE: &str = "access-packages.json";
        let groups: Vec<String> = self.area_groups.iter().map(|g| fold(g.key())).collect();
        for (index, area) in self.areas.iter().enumerate() {
            if !groups.contains(&fold(&area.area_group)) {
                return Err(dangling(FILE, "area group", &area.area_group));
            }
            insert_unique(&mut self.area_by_urn, fold(&area.urn), index, FILE, "area")?;
        }
        Ok(())
    }

    fn index_packages(&mut self) -> Result<(), CatalogueError> {
        const FILE: &str = "access-packages.json";
        for (index, package) in self.packages.iter().enumerate() {
            let area = *self
                .area_by_urn
                .get(&fold(&package.area_urn))
                .ok_or_else(|| dangling(FILE, "area", &package.area_urn))?;
            self.package_area.push(area);
            insert_unique(
                &mut self.package_by_urn,
                fold(&package.urn),
                index,
                FILE,
                "package URN",
            )?;
            insert_unique(
                &mut self.package_by_code,
                fold(&package.code),
                index,
                FILE,
                "package code",
            )?;
            // Policies carry the URN's last segment; it differs from the code once
            // (vergemal-namsmannen-tvangsfullbyrdelse-forliksradet), so index it as well.
            let suffix = package.urn.rsplit(':').next().unwrap_or_default();
            self.package_by_code.entry(fold(suffix)).or_insert(index);
            insert_unique(
                &mut self.package_by_id,
                package.id,
                index,
                FILE,
                "package id",
            )?;
        }
        Ok(())
    }

    /// Every role answers to its code, URN, legacy code and legacy URN, in any case.
    fn index_roles(&mut self) -> Result<(), CatalogueError> {
        const FILE: &str = "roles.json";
        for (index, role) in self.roles.iter().enumerate() {
            let legacy = [role.legacy_code.as_deref(), role.legacy_urn.as_deref()];
            for key in [Some(role.code.as_str()), Some(role.urn.as_str())]
                .into_iter()
                .chain(legacy)
                .flatten()
            {
                let folded = fold(key);
                // A role may use one string for two of its names; that is not a clash.
                if self.role_by_key.get(&folded) != Some(&index) {
                    insert_unique(&mut self.role_by_key, folded, index, FILE, "role name")?;
                }
            }
            insert_unique(&mut self.role_by_id, role.id, index, FILE, "role id")?;
        }
        self.role_package_rows_by_role = vec![Vec::new(); self.roles.len()];
        self.implied_roles_by_role = vec![Vec::new(); self.roles.len()];
        Ok(())
    }

    fn index_variants(&mut self) -> Result<(), CatalogueError> {
        for (index, variant) in self.entity_variants.iter().enumerate() {
            let key = fold(&variant.code);
            insert_unique(
                &mut self.variant_by_code,
                key,
                index,
                "roles.json",
                "entity variant",
            )?;
        }
        Ok(())
    }

    fn index_role_packages(&mut self) -> Result<(), CatalogueError> {
        const FILE: &str = "role-package-map.json";
        for (row_index, row) in self.role_packages.iter().enumerate() {
            let role = self
                .role_index(&row.role_urn)
                .ok_or_else(|| dangling(FILE, "role", &row.role_urn))?;
            let package = *self
                .package_by_urn
                .get(&fold(&row.package_urn))
                .ok_or_else(|| dangling(FILE, "package", &row.package_urn))?;
            if let Some(variant) = &row.entity_variant
                && !self.variant_by_code.contains_key(&fold(variant))
            {
                return Err(dangling(FILE, "entity variant", variant));
            }
            self.role_package_links.push((role, package));
            self.role_package_rows_by_role[role].push(row_index);
        }
        Ok(())
    }

    fn index_role_map(&mut self) -> Result<(), CatalogueError> {
        const FILE: &str = "role-package-map.json";
        for row in &self.role_map {
            let has = self
                .role_index(&row.has_role_urn)
                .ok_or_else(|| dangling(FILE, "role", &row.has_role_urn))?;
            let gets = self
                .role_index(&row.gets_role_urn)
                .ok_or_else(|| dangling(FILE, "role", &row.gets_role_urn))?;
            self.implied_roles_by_role[has].push(gets);
        }
        Ok(())
    }

    fn role_index(&self, key: &str) -> Option<usize> {
        self.role_by_key.get(&fold(key)).copied()
    }

    fn package_index(&self, key: &str) -> Option<usize> {
        let folded = fold(key);
        self.package_by_urn
            .get(&folded)
            .or_else(|| self.package_by_code.get(&folded))
            .or_else(|| {
                Uuid::parse_str(&folded)
                    .ok()
                    .and_then(|id| self.package_by_id.get(&id))
            })
            .copied()
    }

    // ----- packages -----

    /// All 223 packages, in the reference's order.
    pub fn packages(&self) -> &[AccessPackage] {
        &self.packages
    }

    /// A package by URN, bare code or id (as text), whichever the caller has.
    pub fn package(&self, key: &str) -> Result<&AccessPackage, LookupError> {
        self.package_index(key)
            .map(|index| &self.packages[index])
            .ok_or_else(|| LookupError::UnknownPackage(key.to_string()))
    }

    /// A package by its URN, `urn:altinn:accesspackage:<code>` (case-insensitive).
    pub fn package_by_urn(&self, urn: &str) -> Result<&AccessPackage, LookupError> {
        self.package_by_urn
            .get(&fold(urn))
            .map(|&index| &self.packages[index])
            .ok_or_else(|| LookupError::UnknownPackage(urn.to_string()))
    }

    /// A package by its bare code, as XACML policies carry it (case-insensitive).
    pub fn package_by_code(&self, code: &str) -> Result<&AccessPackage, LookupError> {
        self.package_by_code
            .get(&fold(code))
            .map(|&index| &self.packages[index])
            .ok_or_else(|| LookupError::UnknownPackage(code.to_string()))
    }

    pub fn package_by_id(&self, id: Uuid) -> Result<&AccessPackage, LookupError> {
        self.package_by_id
            .get(&id)
            .map(|&index| &self.packages[index])
            .ok_or_else(|| LookupError::UnknownPackage(id.to_string()))
    }

    /// The area a package belongs to (every package has one; checked at load).
    pub fn area_of(&self, package: &AccessPackage) -> Option<&Area> {
        let index = self.package_by_id.get(&package.id)?;
        self.areas.get(self.package_area[*index])
    }

    // ----- areas -----

    pub fn area_groups(&self) -> &[AreaGroup] {
        &self.area_groups
    }

    pub fn areas(&self) -> &[Area] {
        &self.areas
    }

    pub fn area_by_urn(&self, urn: &str) -> Option<&Area> {
        self.area_by_urn
            .get(&fold(urn))
            .map(|&index| &self.areas[index])
    }

    // ----- roles -----

    /// All 148 roles, in the reference's order.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// A role by code, URN, ER code or legacy URN, in any case: `daglig-leder`, `DAGL`,
    /// `urn:altinn:external-role:ccr:daglig-leder` and `urn:altinn:rolecode:dagl` are one role.
    pub fn role(&self, key: &str) -> Result<&Role, LookupError> {
        self.role_index(key)
            .map(|index| &self.roles[index])
            .ok_or_else(|| LookupError::UnknownRole(key.to_string()))
    }

    pub fn role_by_id(&self, id: Uuid) -> Result<&Role, LookupError> {
        self.role_by_id
            .get(&id)
            .map(|&index| &self.roles[index])
            .ok_or_else(|| LookupError::UnknownRole(id.to_string()))
    }

    /// Roles the given role implies (the role map, e.g. DAGL ⇒ the Altinn 2 roles HADM, KLADM…).
    pub fn implied_roles(&self, role: &str) -> Result<Vec<&Role>, LookupError> {
        let index = self
            .role_index(role)
            .ok_or_else(|| LookupError::UnknownRole(role.to_string()))?;
        Ok(self.implied_roles_by_role[index]
            .iter()
            .map(|&gets| &self.roles[gets])
            .collect())
    }

    // ----- entity variants and mapping rows -----

    pub fn entity_variants(&self) -> &[EntityVariant] {
        &self.entity_variants
    }

    /// An entity variant (organisation form) by code, case-insensitive.
    pub fn entity_variant(&self, code: &str) -> Result<&EntityVariant, LookupError> {
        self.variant_by_code
            .get(&fold(code))
            .map(|&index| &self.entity_variants[index])
            .ok_or_else(|| LookupError::UnknownEntityVariant(code.to_string()))
    }

    /// All 1,285 role → package rows.
    pub fn role_packages(&self) -> &[RolePackage] {
        &self.role_packages
    }

    /// All 304 role → role rows.
    pub fn role_map(&self) -> &[RoleMapping] {
        &self.role_map
    }

    /// The role-package rows of one role, each with its role and package resolved.
    pub(crate) fn rows_of_role(&self, role: &Role) -> impl Iterator<Item = RolePackageRow<'_>> {
        let rows = self
            .role_index(&role.urn)
            .map(|index| self.role_package_rows_by_role[index].as_slice())
            .unwrap_or_default();
        rows.iter().map(|&row| self.resolved_row(row))
    }

    fn resolved_row(&self, row: usize) -> RolePackageRow<'_> {
        let (role, package) = self.role_package_links[row];
        RolePackageRow::new(
            &self.roles[role],
            &self.packages[package],
            &self.role_packages[row],
        )
    }
}

fn parse<'a, T: Deserialize<'a>>(file: &'static str, json: &'a str) -> Result<T, CatalogueError> {
    serde_json::from_str(json).map_err(|source| CatalogueError::Json { file, source })
}

fn dangling(file: &'static str, what: &'static str, key: &str) -> CatalogueError {
    CatalogueError::DanglingReference {
        file,
        what,
        key: key.to_string(),
    }
}

fn insert_unique<K: std::hash::Hash + Eq + ToString>(
    map: &mut HashMap<K, usize>,
    key: K,
    index: usize,
    file: &'static str,
    what: &'static str,
) -> Result<(), CatalogueError> {
    if map.contains_key(&key) {
        return Err(CatalogueError::Duplicate {
            file,
            what,
            key: key.to_string(),
        });
    }
    map.insert(key, index);
    Ok(())
}
