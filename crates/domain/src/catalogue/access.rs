//! Which access packages a party holds for an organisation, and whether it may delegate
//! them (docs/rules.md#packages-and-roles, #delegation-check).
//!
//! The rules are pure: they read role facts and business-to-business package delegations
//! through the [`RoleFacts`] trait, which the storage layer implements from its tables and
//! tests implement with [`InMemoryFacts`]. The paths mirror the reference's
//! `PackageDelegationCheckQuery`:
//!
//! | path | meaning |
//! |---|---|
//! | `Direct-RolePackage` | O gave P a role whose role-package row carries the package |
//! | `Direct-AssignmentPackage` | O delegated the package to P directly (`rettighetshaver`) |
//! | `KeyRole-…` | P holds a key role (DAGL, LEDE, …) in X, and O gave X the role or package |
//! | `…-MainUnit` | the same, given by O's hovedenhet instead of O |
//! | `…-HovedAdmin` | P holds `hovedadministrator` and may delegate what that role maps to |
//!
//! Unlike the reference's delegation check, role-package rows limited to an entity variant
//! apply only when the organisation that gave the role has that variant.

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

use super::{AccessPackage, Catalogue, LookupError, Role};

/// A party (organisation, person or system user), by its party UUID.
pub type PartyKey = Uuid;

/// The code of the package that lets its holder delegate every package mapped to the
/// A3 role `hovedadministrator`.
const HOVEDADMINISTRATOR_PACKAGE: &str = "hovedadministrator";
/// The A3 role whose role-package rows list what a hovedadministrator may delegate.
const HOVEDADMINISTRATOR_ROLE: &str = "hovedadministrator";

/// "`from` gives `to` the role `role`": an ER role (from the organisation to the holder)
/// or an Altinn role assignment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RoleFact {
    /// The organisation that gives the role.
    pub from: Uuid,
    /// The holder.
    pub to: Uuid,
    /// Any form [`Catalogue::role`] accepts: `daglig-leder`, `DAGL`, a role URN…
    pub role: String,
}

/// The role a person holds for their own party: `privatperson` (legacy code PRIV).
pub const PRIVATE_PERSON_ROLE: &str = "privatperson";

/// A person is always a party of their own: acting for themselves they hold the role
/// `privatperson` (PRIV), and with it its packages (the `innbygger-*` ones) and the
/// Altinn 2 roles it implies, as the reference's information point gives them
/// (docs/rules.md#packages-and-roles). No register stores this role; the information
/// point adds it. An organisation holds no role for itself.
pub fn own_party_role(
    subject: PartyKey,
    party: PartyKey,
    party_is_person: bool,
) -> Option<RoleFact> {
    (party_is_person && subject == party).then(|| RoleFact {
        from: party,
        to: subject,
        role: PRIVATE_PERSON_ROLE.to_string(),
    })
}

/// What the rules need to know about an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrgFacts {
    /// The entity variant (organisation form): AS, ENK, BEDR, ESEK, BRL, NUF…
    pub unit_type: String,
    /// The hovedenhet of a sub-unit (BEDR, AAFY); its roles count for the sub-unit too.
    pub main_unit: Option<Uuid>,
}

/// A package `from` delegated directly to `to` (business to business, or to a person
/// or system user), stored as an assignment package on the `rettighetshaver` assignment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PackageDelegation {
    pub from: Uuid,
    pub to: Uuid,
    /// Any form [`Catalogue::package`] accepts: code, URN or id.
    pub package: String,
    /// Whether the receiver may pass the package on. The reference treats every
    /// directly delegated package as re-delegable; we store the choice per delegation.
    pub can_delegate: bool,
}

/// The facts the rules read. Synchronous and object-safe so the storage layer can
/// pre-fetch rows and answer from memory, and callers can pass `&dyn RoleFacts`.
pub trait RoleFacts {
    /// Every role held by `holder`, whoever gave it (used to find the holder's key roles).
    fn roles_held_by(&self, holder: PartyKey) -> Vec<RoleFact>;

    /// The roles `from` gave `to`. Override when the store can filter on both ends.
    fn roles_between(&self, from: PartyKey, to: PartyKey) -> Vec<RoleFact> {
        let mut roles = self.roles_held_by(to);
        roles.retain(|fact| fact.from == from);
        roles
    }

    /// Organisation form and hovedenhet of `key`, if it is a known organisation.
    fn org(&self, key: PartyKey) -> Option<OrgFacts>;

    /// The packages `from` delegated directly to `to`.
    fn delegated_packages(&self, from: PartyKey, to: PartyKey) -> Vec<PackageDelegation>;
}

/// Plain in-memory facts, for tests and for callers that fetched the rows already.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InMemoryFacts {
    roles: Vec<RoleFact>,
    orgs: HashMap<PartyKey, OrgFacts>,
    delegations: Vec<PackageDelegation>,
}

impl InMemoryFacts {
    pub fn new(
        roles: Vec<RoleFact>,
        orgs: HashMap<PartyKey, OrgFacts>,
        delegations: Vec<PackageDelegation>,
    ) -> Self {
        Self {
            roles,
            orgs,
            delegations,
        }
    }

    /// Adds an organisation with its form and, for a sub-unit, its hovedenhet.
    pub fn with_org(mut self, key: PartyKey, unit_type: &str, main_unit: Option<PartyKey>) -> Self {
        let unit_type = unit_type.to_string();
        self.orgs.insert(
            key,
            OrgFacts {
                unit_type,
                main_unit,
            },
        );
        self
    }

    /// Adds "`from` gives `to` the role `role`".
    pub fn with_role(mut self, from: PartyKey, to: PartyKey, role: &str) -> Self {
        self.roles.push(RoleFact {
            from,
            to,
            role: role.to_string(),
        });
        self
    }

    /// Adds a package delegated directly from `from` to `to`.
    pub fn with_delegation(
        mut self,
        from: PartyKey,
        to: PartyKey,
        package: &str,
        can_delegate: bool,
    ) -> Self {
        let package = package.to_string();
        self.delegations.push(PackageDelegation {
            from,
            to,
            package,
            can_delegate,
        });
        self
    }
}

impl InMemoryFacts {
    /// Every role fact held, for callers that filter them their own way.
    pub fn roles(&self) -> &[RoleFact] {
        &self.roles
    }

    /// Every package delegation held.
    pub fn delegations(&self) -> &[PackageDelegation] {
        &self.delegations
    }
}

impl RoleFacts for InMemoryFacts {
    fn roles_held_by(&self, holder: PartyKey) -> Vec<RoleFact> {
        self.roles
            .iter()
            .filter(|fact| fact.to == holder)
            .cloned()
            .collect()
    }

    fn org(&self, key: PartyKey) -> Option<OrgFacts> {
        self.orgs.get(&key).cloned()
    }

    fn delegated_packages(&self, from: PartyKey, to: PartyKey) -> Vec<PackageDelegation> {
        self.delegations
            .iter()
            .filter(|d| d.from == from && d.to == to)
            .cloned()
            .collect()
    }
}

/// A package named the way the reference's compact package DTO does, plus its code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PackageRef {
    pub id: Uuid,
    pub urn: String,
    pub code: String,
    pub area_id: Uuid,
}

impl PackageRef {
    pub fn new(catalogue: &Catalogue, package: &AccessPackage) -> Self {
        Self {
            id: package.id,
            urn: package.urn.clone(),
            code: package.code.clone(),
            area_id: catalogue
                .area_of(package)
                .map(|area| area.id)
                .unwrap_or_default(),
        }
    }
}

/// What carried the package to the receiver.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Grant {
    /// A role (by code), through its role-package row.
    RolePackage { role: String },
    /// A package delegated directly (assignment package).
    AssignmentPackage,
}

/// The key role through which the subject inherits what another organisation received.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct KeyRoleLink {
    /// The organisation the subject holds a key role in, and which received the package.
    pub org: Uuid,
    /// The key role's code (`daglig-leder`, …).
    pub key_role: String,
}

/// One path by which the subject has (or may delegate) a package.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    /// The reference's reason code: `Direct-RolePackage`, `KeyRole-AssignmentPackage-MainUnit`,
    /// `Direct-RolePackage-HovedAdmin`, …, or `NoAccess`.
    pub description: String,
    /// `None` only for `NoAccess`.
    pub grant: Option<Grant>,
    /// The party that gave the role or package: the organisation or its hovedenhet.
    pub from: Option<Uuid>,
    /// The party that received it: the subject, or the key-role organisation.
    pub to: Option<Uuid>,
    /// Set when the subject inherits through a key role.
    pub via: Option<KeyRoleLink>,
    /// Set when `from` is the organisation's hovedenhet.
    pub main_unit: Option<Uuid>,
    /// The path only lets the subject delegate, as hovedadministrator.
    pub hoved_admin: bool,
    pub has_access: bool,
    pub can_delegate: bool,
}

impl Reason {
    fn new(path: &Path, grant: Grant, has_access: bool, can_delegate: bool) -> Self {
        let mut reason = Self {
            description: String::new(),
            grant: Some(grant),
            from: Some(path.from),
            to: Some(path.to),
            via: path.via.clone(),
            main_unit: path.main_unit,
            hoved_admin: false,
            has_access,
            can_delegate,
        };
        reason.description = reason.code();
        reason
    }

    /// The path that gives nothing.
    pub fn no_access() -> Self {
        Self {
            description: "NoAccess".to_string(),
            grant: None,
            from: None,
            to: None,
            via: None,
            main_unit: None,
            hoved_admin: false,
            has_access: false,
            can_delegate: false,
        }
    }

    /// The same path, turned into "may delegate as hovedadministrator".
    fn as_hoved_admin(&self) -> Self {
        let mut reason = self.clone();
        reason.hoved_admin = true;
        reason.has_access = false;
        reason.can_delegate = true;
        reason.description = reason.code();
        reason
    }

    fn code(&self) -> String {
        let Some(grant) = &self.grant else {
            return "NoAccess".to_string();
        };
        let holder = if self.via.is_some() {
            "KeyRole"
        } else {
            "Direct"
        };
        let kind = match grant {
            Grant::RolePackage { .. } => "RolePackage",
            Grant::AssignmentPackage => "AssignmentPackage",
        };
        let main_unit = if self.main_unit.is_some() {
            "-MainUnit"
        } else {
            ""
        };
        let hoved_admin = if self.hoved_admin { "-HovedAdmin" } else { "" };
        format!("{holder}-{kind}{main_unit}{hoved_admin}")
    }

    fn is_assignment_package(&self) -> bool {
        matches!(self.grant, Some(Grant::AssignmentPackage))
    }
}

/// A package the subject holds for the organisation, with every path that gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct HeldPackage {
    pub package: PackageRef,
    /// Some path lets the subject give the package to others.
    pub can_delegate: bool,
    pub via: Vec<Reason>,
}

/// The answer of the package delegation check (docs/rules.md#delegation-check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DelegationCheck {
    pub package: PackageRef,
    /// The package is assignable and some path lets the subject delegate it.
    pub result: bool,
    /// The paths that allow it, or a single `NoAccess`.
    pub reasons: Vec<Reason>,
}

/// Where a role or package came from: `from` gave it to `to`, which is the subject
/// itself or an organisation the subject holds a key role in.
struct Path {
    from: PartyKey,
    to: PartyKey,
    via: Option<KeyRoleLink>,
    main_unit: Option<PartyKey>,
}

/// One package reached by one path.
struct Found<'c> {
    package: &'c AccessPackage,
    reason: Reason,
}

/// The packages `subject` holds for `org`: every package some path gives with access,
/// in catalogue order, with `can_delegate` true when any of those paths allows it.
///
/// Fails only when the facts name a role or package the catalogue does not know, which
/// means the store and the catalogue disagree.
pub fn packages_held(
    catalogue: &Catalogue,
    subject: PartyKey,
    org: PartyKey,
    facts: &dyn RoleFacts,
) -> Result<Vec<HeldPackage>, LookupError> {
    let mut held: Vec<(&AccessPackage, Vec<Reason>)> = Vec::new();
    let mut position: HashMap<Uuid, usize> = HashMap::new();
    for found in all_paths(catalogue, subject, org, facts)? {
        if !found.reason.has_access {
            continue;
        }
        let slot = *position.entry(found.package.id).or_insert_with(|| {
            held.push((found.package, Vec::new()));
            held.len() - 1
        });
        held[slot].1.push(found.reason);
    }
    held.sort_by_key(|(package, _)| catalogue.package_by_id.get(&package.id).copied());
    Ok(held
        .into_iter()
        .map(|(package, via)| HeldPackage {
            package: PackageRef::new(catalogue, package),
            can_delegate: via.iter().any(|reason| reason.can_delegate),
            via,
        })
        .collect())
}

/// May `subject` delegate `package` on behalf of `org`? True when the package is
/// assignable and some path gives `canDelegate` (the reference's delegation check).
/// The `hovedadministrator` package itself passes on only through a role, never
/// through a direct delegation.
pub fn can_delegate(
    catalogue: &Catalogue,
    subject: PartyKey,
    org: PartyKey,
    package: &str,
    facts: &dyn RoleFacts,
) -> Result<DelegationCheck, LookupError> {
    let wanted = catalogue.package(package)?;
    let mut reasons: Vec<Reason> = Vec::new();
    if wanted.is_assignable {
        reasons = all_paths(catalogue, subject, org, facts)?
            .into_iter()
            .filter(|found| found.package.id == wanted.id && allows_delegation(found))
            .map(|found| found.reason)
            .collect();
    }
    let result = !reasons.is_empty();
    if !result {
        reasons.push(Reason::no_access());
    }
    Ok(DelegationCheck {
        package: PackageRef::new(catalogue, wanted),
        result,
        reasons,
    })
}

fn allows_delegation(found: &Found<'_>) -> bool {
    let is_hoved_admin_package = found.package.code == HOVEDADMINISTRATOR_PACKAGE;
    found.reason.can_delegate && !(is_hoved_admin_package && found.reason.is_assignment_package())
}

/// Every (package, path) pair, including the delegate-only hovedadministrator paths.
fn all_paths<'c>(
    catalogue: &'c Catalogue,
    subject: PartyKey,
    org: PartyKey,
    facts: &dyn RoleFacts,
) -> Result<Vec<Found<'c>>, LookupError> {
    let key_roles = key_roles_of(catalogue, subject, facts)?;
    let mut found = Vec::new();
    for (giver, main_unit) in givers(org, facts) {
        for path in paths_from(giver, main_unit, subject, &key_roles) {
            found.extend(grants_along(catalogue, &path, facts)?);
        }
    }
    let hoved_admin = hoved_admin_paths(catalogue, &found)?;
    found.extend(hoved_admin);
    Ok(found)
}

/// The organisation itself, then its hovedenhet (whose roles count for its sub-units).
fn givers(org: PartyKey, facts: &dyn RoleFacts) -> Vec<(PartyKey, Option<PartyKey>)> {
    let main_unit = facts
        .org(org)
        .and_then(|o| o.main_unit)
        .filter(|&m| m != org);
    std::iter::once((org, None))
        .chain(main_unit.map(|m| (m, Some(m))))
        .collect()
}

/// The subject directly, and each organisation the subject holds a key role in.
fn paths_from(
    giver: PartyKey,
    main_unit: Option<PartyKey>,
    subject: PartyKey,
    key_roles: &[KeyRoleLink],
) -> Vec<Path> {
    let direct = Path {
        from: giver,
        to: subject,
        via: None,
        main_unit,
    };
    let inherited = key_roles
        .iter()
        .filter(|link| link.org != giver)
        .map(|link| Path {
            from: giver,
            to: link.org,
            via: Some(link.clone()),
            main_unit,
        });
    std::iter::once(direct).chain(inherited).collect()
}

/// The organisations in which `subject` holds a key role (DAGL, LEDE, INNH, …).
fn key_roles_of(
    catalogue: &Catalogue,
    subject: PartyKey,
    facts: &dyn RoleFacts,
) -> Result<Vec<KeyRoleLink>, LookupError> {
    let mut links = Vec::new();
    for fact in facts.roles_held_by(subject) {
        let role = catalogue.role(&fact.role)?;
        if role.is_key_role && fact.from != subject {
            links.push(KeyRoleLink {
                org: fact.from,
                key_role: role.code.clone(),
            });
        }
    }
    Ok(links)
}

/// What `path.from` gave `path.to`: role packages of its roles, then direct packages.
fn grants_along<'c>(
    catalogue: &'c Catalogue,
    path: &Path,
    facts: &dyn RoleFacts,
) -> Result<Vec<Found<'c>>, LookupError> {
    let variant = facts.org(path.from).map(|o| o.unit_type);
    let mut found = Vec::new();
    for fact in facts.roles_between(path.from, path.to) {
        let role = catalogue.role(&fact.role)?;
        found.extend(role_packages(catalogue, role, variant.as_deref(), path));
    }
    for delegation in facts.delegated_packages(path.from, path.to) {
        let package = catalogue.package(&delegation.package)?;
        let reason = Reason::new(
            path,
            Grant::AssignmentPackage,
            true,
            delegation.can_delegate,
        );
        found.push(Found { package, reason });
    }
    Ok(found)
}

fn role_packages<'c>(
    catalogue: &'c Catalogue,
    role: &Role,
    variant: Option<&str>,
    path: &Path,
) -> Vec<Found<'c>> {
    catalogue
        .rows_of_role(role)
        .filter(|row| row.applies_to_variant(variant))
        .map(|row| {
            let grant = Grant::RolePackage {
                role: role.code.clone(),
            };
            let reason = Reason::new(path, grant, row.has_access, row.can_delegate);
            Found {
                package: row.package,
                reason,
            }
        })
        .collect()
}

/// Each path that gives the `hovedadministrator` package lets the subject delegate
/// every package the A3 role `hovedadministrator` maps to, without holding them.
fn hoved_admin_paths<'c>(
    catalogue: &'c Catalogue,
    found: &[Found<'c>],
) -> Result<Vec<Found<'c>>, LookupError> {
    let admin_paths: Vec<&Reason> = found
        .iter()
        .filter(|f| f.package.code == HOVEDADMINISTRATOR_PACKAGE && f.reason.has_access)
        .map(|f| &f.reason)
        .collect();
    if admin_paths.is_empty() {
        return Ok(Vec::new());
    }
    let role = catalogue.role(HOVEDADMINISTRATOR_ROLE)?;
    let packages: Vec<&AccessPackage> = catalogue
        .rows_of_role(role)
        .map(|row| row.package)
        .collect();
    Ok(admin_paths
        .iter()
        .flat_map(|reason| {
            packages.iter().map(|&package| Found {
                package,
                reason: reason.as_hoved_admin(),
            })
        })
        .collect())
}
