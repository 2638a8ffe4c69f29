//! The delegation check: an approver may give a system user (or anyone) only what they
//! may delegate themselves. All or nothing: the check lists every right and package the
//! approver lacks, and grants nothing unless the list is empty.
//!
//! The rules here are pure. The caller reads what they need first: the approver's role
//! facts and direct rights for the party, the `urn:altinn:rolecode` values those roles
//! give, and for each requested resource its stored flags and its policy's rules.

use serde::Serialize;

use crate::catalogue::{
    Catalogue, LookupError, PackageRef, PartyKey, Reason, RoleFacts, can_delegate,
};
use crate::rules::{DelegationFailure, Lack, RuleError};

/// The approver acting for a party, as the check reads them.
pub struct Approver<'a> {
    pub user: PartyKey,
    pub party: PartyKey,
    /// Roles and package delegations, as the catalogue's rules read them.
    pub facts: &'a dyn RoleFacts,
    /// The `urn:altinn:rolecode` values (upper case) the approver's roles give for the
    /// party, implied roles included.
    pub role_codes: &'a [String],
    /// Whether someone delegated the action on the resource to the approver directly.
    pub holds_right: &'a dyn Fn(&str, &str) -> bool,
}

/// One rule of a resource's policy: who it gives which action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyRule {
    pub action: String,
    /// The `urn:altinn:resource` values the rule matches.
    pub resources: Vec<String>,
    /// The `urn:altinn:rolecode` subjects, upper case.
    pub role_codes: Vec<String>,
    /// The `urn:altinn:accesspackage` subjects (bare codes).
    pub access_packages: Vec<String>,
}

/// What the register knows of a requested resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceFacts {
    /// No such resource.
    Missing,
    /// The resource exists but may not be delegated.
    NotDelegable,
    /// A Maskinporten schema: delegated as scopes, never to system users.
    MaskinportenSchema,
    /// A delegable resource without a policy.
    NoPolicy,
    /// A delegable resource and the rules of its policy.
    Policy(Vec<PolicyRule>),
}

/// The reference's `DelegationCheckReasonCode` values we produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReasonCode {
    RoleAccess,
    DelegationAccess,
    MissingRoleAccess,
    MissingDelegationAccess,
    PackageAccess,
    MissingPackageAccess,
    ResourceNotDelegable,
    ResourceIsMaskinPortenSchema,
}

impl ReasonCode {
    /// A reason that lets the approver delegate the right.
    pub fn grants(self) -> bool {
        matches!(
            self,
            Self::RoleAccess | Self::PackageAccess | Self::DelegationAccess
        )
    }
}

/// One way the approver may (or may not) delegate a right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RightReason {
    pub code: ReasonCode,
    /// The role code that gives the right (`RoleAccess`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_code: Option<String>,
    /// The package that gives the right (`PackageAccess`), with the paths that let the
    /// approver delegate it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<PackageRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<Reason>,
}

impl RightReason {
    pub fn code(code: ReasonCode) -> Self {
        Self {
            code,
            role_code: None,
            package: None,
            paths: Vec::new(),
        }
    }
}

/// One action on one resource that the approver may give.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DelegatedRight {
    pub resource_id: String,
    pub action: String,
}

/// The check's outcome before the verdict: what passes and every failure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    pub rights: Vec<DelegatedRight>,
    /// Package codes.
    pub packages: Vec<String>,
    pub failures: Vec<DelegationFailure>,
}

impl Checked {
    /// The verdict: everything the approver may give, or `ApproverLacksRights` naming
    /// every failure (the first one decides the code).
    pub fn verdict(self) -> Result<(Vec<DelegatedRight>, Vec<String>), RuleError> {
        if self.failures.is_empty() {
            Ok((self.rights, self.packages))
        } else {
            Err(RuleError::ApproverLacksRights {
                failures: self.failures,
            })
        }
    }
}

/// Why the check could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// A requested package is not in the catalogue.
    #[error("{0}")]
    UnknownPackage(LookupError),
    /// The stored facts name a role or package the catalogue lacks.
    #[error("stored data do not match the catalogue: {0}")]
    Catalogue(LookupError),
}

/// The delegation check for `resources` (with what the register knows of each) and
/// `packages` (catalogue codes or URNs): what the approver may give, and every failure.
pub fn check(
    catalogue: &Catalogue,
    approver: &Approver<'_>,
    resources: &[(String, ResourceFacts)],
    packages: &[String],
) -> Result<Checked, CheckError> {
    let mut checked = Checked::default();
    for (id, facts) in resources {
        match check_resource(catalogue, approver, id, facts).map_err(CheckError::Catalogue)? {
            Ok(rights) => checked.rights.extend(rights),
            Err(failure) => checked.failures.push(failure),
        }
    }
    for code in packages {
        let check = can_delegate(
            catalogue,
            approver.user,
            approver.party,
            code,
            approver.facts,
        )
        .map_err(CheckError::UnknownPackage)?;
        if check.result {
            checked.packages.push(check.package.code);
        } else {
            checked.failures.push(DelegationFailure {
                kind: "accessPackage".into(),
                name: check.package.urn,
                lack: Lack::PackageDelegation,
                reason: "the user holds no role or delegation that lets them delegate this package for the party".into(),
            });
        }
    }
    Ok(checked)
}

fn right_failure(resource: &str, lack: Lack, reason: impl Into<String>) -> DelegationFailure {
    DelegationFailure {
        kind: "right".into(),
        name: resource.into(),
        lack,
        reason: reason.into(),
    }
}

/// Every action the resource's policy gives on it must be delegable by the approver:
/// the resource is delegable and not a Maskinporten schema, and for each action the
/// approver holds a role, a delegable package or a direct right the policy names.
fn check_resource(
    catalogue: &Catalogue,
    approver: &Approver<'_>,
    id: &str,
    facts: &ResourceFacts,
) -> Result<Result<Vec<DelegatedRight>, DelegationFailure>, LookupError> {
    let rules = match facts {
        ResourceFacts::Missing => {
            return Ok(Err(right_failure(
                id,
                Lack::NoRights,
                "the resource does not exist",
            )));
        }
        ResourceFacts::NotDelegable => {
            return Ok(Err(right_failure(
                id,
                Lack::NotDelegable,
                "the resource is not delegable",
            )));
        }
        ResourceFacts::MaskinportenSchema => {
            return Ok(Err(right_failure(
                id,
                Lack::MaskinportenSchema,
                "Maskinporten schema resources are delegated as scopes, not to system users",
            )));
        }
        ResourceFacts::NoPolicy => {
            return Ok(Err(right_failure(
                id,
                Lack::NoRights,
                "the resource has no policy, so it grants no rights",
            )));
        }
        ResourceFacts::Policy(rules) => rules,
    };
    let mut rights = Vec::new();
    for rule in rules.iter().filter(|r| r.resources.iter().any(|r| r == id)) {
        let reasons = right_reasons(catalogue, approver, id, rule)?;
        if let Some(failure) = missing(id, rule, &reasons) {
            return Ok(Err(failure));
        }
        rights.push(DelegatedRight {
            resource_id: id.to_string(),
            action: rule.action.clone(),
        });
    }
    if rights.is_empty() {
        return Ok(Err(right_failure(
            id,
            Lack::NoRights,
            "the resource's policy grants no actions",
        )));
    }
    rights.sort();
    rights.dedup();
    Ok(Ok(rights))
}

/// The failure for a rule none of whose reasons grants it; the most specific lack
/// decides the code (a package, else a role, else a direct delegation).
fn missing(id: &str, rule: &PolicyRule, reasons: &[RightReason]) -> Option<DelegationFailure> {
    if reasons.iter().any(|r| r.code.grants()) {
        return None;
    }
    let has = |code: ReasonCode| reasons.iter().any(|r| r.code == code);
    let (lack, why) = if has(ReasonCode::MissingPackageAccess) {
        (
            Lack::Package,
            "the user holds none of the access packages that give",
        )
    } else if has(ReasonCode::MissingRoleAccess) {
        (Lack::Role, "the user holds none of the roles that give")
    } else {
        (Lack::Delegation, "nobody delegated to the user")
    };
    Some(right_failure(
        id,
        lack,
        format!("{why} the action {:?}", rule.action),
    ))
}

/// Why the approver may delegate the rule's action on `resource_id` (a role, a package
/// they may delegate, a direct delegation), or why not. The resource delegation check
/// shows these; the delegation check decides by them.
pub fn right_reasons(
    catalogue: &Catalogue,
    approver: &Approver<'_>,
    resource_id: &str,
    rule: &PolicyRule,
) -> Result<Vec<RightReason>, LookupError> {
    let mut reasons = Vec::new();
    for code in &rule.role_codes {
        if approver
            .role_codes
            .iter()
            .any(|held| held.eq_ignore_ascii_case(code))
        {
            reasons.push(RightReason {
                role_code: Some(code.clone()),
                ..RightReason::code(ReasonCode::RoleAccess)
            });
        }
    }
    for code in &rule.access_packages {
        let Ok(package) = catalogue.package(code) else {
            continue; // a policy may name a package the catalogue lacks: it gives nothing
        };
        let check = can_delegate(
            catalogue,
            approver.user,
            approver.party,
            &package.code,
            approver.facts,
        )?;
        if check.result {
            reasons.push(RightReason {
                package: Some(check.package),
                paths: check.reasons,
                ..RightReason::code(ReasonCode::PackageAccess)
            });
        }
    }
    if (approver.holds_right)(resource_id, &rule.action) {
        reasons.push(RightReason::code(ReasonCode::DelegationAccess));
    }
    if reasons.is_empty() {
        if !rule.role_codes.is_empty() {
            reasons.push(RightReason::code(ReasonCode::MissingRoleAccess));
        }
        if !rule.access_packages.is_empty() {
            reasons.push(RightReason::code(ReasonCode::MissingPackageAccess));
        }
        reasons.push(RightReason::code(ReasonCode::MissingDelegationAccess));
    }
    Ok(reasons)
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::catalogue::InMemoryFacts;

    const FIRM: Uuid = Uuid::from_u128(0x315000009);
    const PIA: Uuid = Uuid::from_u128(0xA1);
    const RESOURCE: &str = "ske-krav-og-betalinger";

    fn catalogue() -> &'static Catalogue {
        Catalogue::builtin()
    }

    fn no_rights(_: &str, _: &str) -> bool {
        false
    }

    fn rule(action: &str, roles: &[&str], packages: &[&str]) -> PolicyRule {
        PolicyRule {
            action: action.into(),
            resources: vec![RESOURCE.into()],
            role_codes: roles.iter().map(|r| r.to_string()).collect(),
            access_packages: packages.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn checked(
        facts: &InMemoryFacts,
        role_codes: &[String],
        holds_right: &dyn Fn(&str, &str) -> bool,
        resources: &[(String, ResourceFacts)],
        packages: &[&str],
    ) -> Checked {
        let approver = Approver {
            user: PIA,
            party: FIRM,
            facts,
            role_codes,
            holds_right,
        };
        let packages: Vec<String> = packages.iter().map(|p| p.to_string()).collect();
        check(catalogue(), &approver, resources, &packages).unwrap()
    }

    fn policy(rules: Vec<PolicyRule>) -> Vec<(String, ResourceFacts)> {
        vec![(RESOURCE.into(), ResourceFacts::Policy(rules))]
    }

    fn codes(checked: &Checked) -> Vec<String> {
        checked.failures.iter().map(|f| f.lack.code()).collect()
    }

    #[test]
    fn an_approver_must_hold_every_requested_right() {
        let facts = InMemoryFacts::default().with_org(FIRM, "AS", None);
        let dagl = vec!["DAGL".to_string()];
        let rules = policy(vec![
            rule("read", &["DAGL"], &[]),
            rule("write", &["REGN"], &[]),
        ]);
        let partly = checked(&facts, &dagl, &no_rights, &rules, &[]);
        assert_eq!(codes(&partly), ["AUTH-00016"]);
        assert!(partly.failures[0].reason.contains("\"write\""));
        let refused = partly.verdict().unwrap_err();
        assert_eq!(refused.code(), "AUTH-00016");

        let both = vec!["DAGL".to_string(), "REGN".to_string()];
        let (rights, packages) = checked(&facts, &both, &no_rights, &rules, &[])
            .verdict()
            .unwrap();
        let actions: Vec<&str> = rights.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, ["read", "write"]);
        assert!(packages.is_empty());
    }

    #[test]
    fn a_right_is_delegable_by_role_package_or_direct_delegation() {
        let facts = InMemoryFacts::default()
            .with_org(FIRM, "AS", None)
            .with_role(FIRM, PIA, "DAGL");
        let rules = policy(vec![rule("read", &[], &["skatt-naering"])]);
        let by_package = checked(&facts, &[], &no_rights, &rules, &[]);
        assert!(by_package.failures.is_empty(), "{:?}", by_package.failures);

        let nobody = InMemoryFacts::default().with_org(FIRM, "AS", None);
        let lacking = checked(&nobody, &[], &no_rights, &rules, &[]);
        assert_eq!(codes(&lacking), ["AUTH-00068"]);

        let direct = |resource: &str, action: &str| resource == RESOURCE && action == "read";
        let delegated = checked(&nobody, &[], &direct, &rules, &[]);
        assert!(delegated.failures.is_empty());

        let unnamed = policy(vec![rule("read", &[], &[])]);
        assert_eq!(
            codes(&checked(&nobody, &[], &no_rights, &unnamed, &[])),
            ["AUTH-00018"]
        );
    }

    #[test]
    fn a_package_is_delegable_only_by_someone_who_may_pass_it_on() {
        let dagl = InMemoryFacts::default()
            .with_org(FIRM, "AS", None)
            .with_role(FIRM, PIA, "DAGL");
        let passes = checked(&dagl, &[], &no_rights, &[], &["skatt-naering"]);
        assert_eq!(passes.packages, ["skatt-naering"]);

        let stranger = InMemoryFacts::default().with_org(FIRM, "AS", None);
        let refused = checked(&stranger, &[], &no_rights, &[], &["skatt-naering"]);
        assert_eq!(codes(&refused), ["AUTH-00053"]);
        assert_eq!(refused.failures[0].kind, "accessPackage");
        assert!(
            refused.failures[0]
                .name
                .starts_with("urn:altinn:accesspackage:")
        );
    }

    #[test]
    fn a_resource_must_exist_be_delegable_and_not_be_a_maskinporten_schema() {
        let facts = InMemoryFacts::default();
        let cases = [
            (ResourceFacts::Missing, "AUTH-00001"),
            (ResourceFacts::NotDelegable, "AUTH-00070"),
            (ResourceFacts::MaskinportenSchema, "AUTH-00071"),
            (ResourceFacts::NoPolicy, "AUTH-00001"),
            (ResourceFacts::Policy(Vec::new()), "AUTH-00001"),
        ];
        for (resource, code) in cases {
            let resources = vec![(RESOURCE.to_string(), resource)];
            assert_eq!(
                codes(&checked(&facts, &[], &no_rights, &resources, &[])),
                [code]
            );
        }
    }

    #[test]
    fn the_check_lists_every_failure_and_grants_nothing_then() {
        let facts = InMemoryFacts::default().with_org(FIRM, "AS", None);
        let mut resources = policy(vec![rule("read", &["DAGL"], &[])]);
        resources.push(("missing".into(), ResourceFacts::Missing));
        let refused = checked(&facts, &[], &no_rights, &resources, &["skatt-naering"]);
        assert_eq!(codes(&refused), ["AUTH-00016", "AUTH-00001", "AUTH-00053"]);
        let RuleError::ApproverLacksRights { failures } = refused.verdict().unwrap_err() else {
            panic!("not ApproverLacksRights");
        };
        assert_eq!(failures.len(), 3);
    }

    #[test]
    fn an_unknown_package_is_not_checked() {
        let facts = InMemoryFacts::default();
        let approver = Approver {
            user: PIA,
            party: FIRM,
            facts: &facts,
            role_codes: &[],
            holds_right: &no_rights,
        };
        let result = check(catalogue(), &approver, &[], &["no-such-package".into()]);
        assert!(matches!(result, Err(CheckError::UnknownPackage(_))));
    }
}
