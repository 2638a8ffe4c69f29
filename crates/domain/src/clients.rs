//! Clients of a firm and what they let its agent system users do (docs/rules.md#clients).
//!
//! A client is an organisation that gave the firm (the facilitator) one of the client
//! relations: the ER role regnskapsforer (REGN), revisor (REVI) or forretningsforer
//! (FFØR), or a business-to-business delegation of access packages. Each relation
//! provides packages: a role the ones its role→package rows give for the client's
//! organisation form, a delegation the delegated package. Only packages marked
//! `isDelegable` may pass on to an agent. A client can be added to an agent system user
//! only when it provides *all* the user's packages (AUTH-00080 otherwise).

use serde::Serialize;

use crate::catalogue::{Catalogue, LookupError};

/// The ER roles that make the giver a client of the holder (catalogue codes).
pub const CLIENT_ROLES: [&str; 3] = ["regnskapsforer", "revisor", "forretningsforer"];

/// How a client is related to the facilitator.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", tag = "kind", content = "code")]
pub enum ClientRelation {
    /// The client gave the facilitator this ER role (catalogue code, `regnskapsforer`).
    Role(String),
    /// The client delegated this package to the facilitator (catalogue code).
    Package(String),
}

/// A package a client provides to the facilitator's agents, and through which relation.
/// `via` is `None` for the facilitator's own packages ("self").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProvidedPackage {
    /// Catalogue code (`regnskapsforer-med-signeringsrettighet`).
    pub package: String,
    pub via: Option<ClientRelation>,
}

/// Whether `role` (any form the catalogue accepts) is one of the client roles.
pub fn is_client_role(catalogue: &Catalogue, role: &str) -> bool {
    catalogue
        .role(role)
        .is_ok_and(|role| CLIENT_ROLES.contains(&role.code.as_str()))
}

/// Every delegable package the relations provide, once each, in the order found: a role's
/// packages before a delegated one, so that a role (which the register keeps) is the
/// relation a delegation rests on when both provide a package.
///
/// `unit_type` is the client's organisation form: role→package rows limited to a form
/// (FFØR gives `forretningsforer-eiendom` only for ESEK and BRL) apply only to that form.
pub fn provided_packages(
    catalogue: &Catalogue,
    unit_type: Option<&str>,
    relations: &[ClientRelation],
) -> Result<Vec<ProvidedPackage>, LookupError> {
    let mut provided: Vec<ProvidedPackage> = Vec::new();
    let mut add = |package: &str, via: &ClientRelation| {
        if !provided.iter().any(|p| p.package == package) {
            provided.push(ProvidedPackage {
                package: package.to_string(),
                via: Some(via.clone()),
            });
        }
    };
    let mut ordered: Vec<&ClientRelation> = relations.iter().collect();
    ordered.sort();
    for relation in ordered {
        match relation {
            ClientRelation::Role(code) => {
                if !is_client_role(catalogue, code) {
                    continue;
                }
                for row in catalogue.packages_for_role(code, None)? {
                    if row.has_access
                        && row.package.is_delegable
                        && row.applies_to_variant(unit_type)
                    {
                        add(&row.package.code, relation);
                    }
                }
            }
            ClientRelation::Package(code) => {
                let package = catalogue.package(code)?;
                if package.is_delegable {
                    add(&package.code, relation);
                }
            }
        }
    }
    Ok(provided)
}

/// What adding a client would delegate: one entry per required package, or the
/// required packages the client does not provide.
pub fn plan_client(
    catalogue: &Catalogue,
    unit_type: Option<&str>,
    relations: &[ClientRelation],
    required: &[String],
) -> Result<Result<Vec<ProvidedPackage>, Vec<String>>, LookupError> {
    let provided = provided_packages(catalogue, unit_type, relations)?;
    let mut plan = Vec::new();
    let mut missing = Vec::new();
    for code in required {
        let code = &catalogue.package(code)?.code;
        match provided.iter().find(|p| &p.package == code) {
            Some(found) => plan.push(found.clone()),
            None => missing.push(code.clone()),
        }
    }
    Ok(if missing.is_empty() {
        Ok(plan)
    } else {
        Err(missing)
    })
}

/// What adding the facilitator itself ("self") would delegate: its own packages, which
/// the portal offers only when every package of the agent is assignable. `None` when a
/// package is not assignable.
pub fn plan_self(
    catalogue: &Catalogue,
    required: &[String],
) -> Result<Option<Vec<ProvidedPackage>>, LookupError> {
    let mut plan = Vec::new();
    for code in required {
        let package = catalogue.package(code)?;
        if !package.is_assignable {
            return Ok(None);
        }
        plan.push(ProvidedPackage {
            package: package.code.clone(),
            via: None,
        });
    }
    Ok(Some(plan))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> &'static Catalogue {
        Catalogue::builtin()
    }

    fn role(code: &str) -> ClientRelation {
        ClientRelation::Role(code.into())
    }

    #[test]
    fn regn_provides_the_accountant_packages_only() {
        let provided = provided_packages(catalogue(), Some("AS"), &[role("regnskapsforer")])
            .expect("known role");
        let codes: Vec<&str> = provided.iter().map(|p| p.package.as_str()).collect();
        assert_eq!(
            codes,
            [
                "regnskapsforer-med-signeringsrettighet",
                "regnskapsforer-uten-signeringsrettighet",
                "regnskapsforer-lonn"
            ]
        );
        assert!(
            provided
                .iter()
                .all(|p| p.via == Some(role("regnskapsforer")))
        );
    }

    #[test]
    fn a_role_given_by_its_legacy_code_counts() {
        let provided =
            provided_packages(catalogue(), Some("AS"), &[role("REVI")]).expect("known role");
        assert!(provided.iter().any(|p| p.package == "ansvarlig-revisor"));
    }

    #[test]
    fn ffor_packages_follow_the_clients_organisation_form() {
        let for_esek = provided_packages(catalogue(), Some("ESEK"), &[role("forretningsforer")])
            .expect("known role");
        assert!(
            for_esek
                .iter()
                .any(|p| p.package == "forretningsforer-eiendom")
        );
        assert!(!for_esek.iter().any(|p| p.package == "skatt-naering"));
        let for_as = provided_packages(catalogue(), Some("AS"), &[role("forretningsforer")])
            .expect("known role");
        assert!(for_as.is_empty(), "FFØR gives an AS nothing: {for_as:?}");
    }

    #[test]
    fn other_roles_make_no_client() {
        let provided =
            provided_packages(catalogue(), Some("AS"), &[role("daglig-leder")]).expect("known");
        assert!(provided.is_empty());
    }

    #[test]
    fn a_delegated_package_counts_only_when_delegable() {
        let delegated = ClientRelation::Package("skatt-naering".into());
        let provided = provided_packages(catalogue(), Some("AS"), std::slice::from_ref(&delegated))
            .expect("known package");
        assert_eq!(provided.len(), 1);
        assert_eq!(provided[0].via, Some(delegated));
        let not_delegable = catalogue()
            .packages()
            .iter()
            .find(|p| !p.is_delegable)
            .expect("some package is not delegable");
        let provided = provided_packages(
            catalogue(),
            Some("AS"),
            &[ClientRelation::Package(not_delegable.code.clone())],
        )
        .expect("known package");
        assert!(provided.is_empty());
    }

    #[test]
    fn a_role_is_preferred_over_a_delegation_for_the_same_package() {
        let relations = [
            ClientRelation::Package("regnskapsforer-lonn".into()),
            role("regnskapsforer"),
        ];
        let provided = provided_packages(catalogue(), Some("AS"), &relations).expect("known");
        let lonn = provided
            .iter()
            .find(|p| p.package == "regnskapsforer-lonn")
            .expect("provided");
        assert_eq!(lonn.via, Some(role("regnskapsforer")));
    }

    #[test]
    fn a_client_must_provide_every_package() {
        let required = vec![
            "regnskapsforer-med-signeringsrettighet".to_string(),
            "urn:altinn:accesspackage:ansvarlig-revisor".to_string(),
        ];
        let plan = plan_client(
            catalogue(),
            Some("AS"),
            &[role("regnskapsforer")],
            &required,
        )
        .expect("known packages");
        assert_eq!(plan, Err(vec!["ansvarlig-revisor".to_string()]));
        let both = [role("regnskapsforer"), role("revisor")];
        let plan = plan_client(catalogue(), Some("AS"), &both, &required)
            .expect("known packages")
            .expect("provided");
        assert_eq!(plan.len(), 2);
        assert_eq!(plan[1].via, Some(role("revisor")));
    }

    #[test]
    fn self_needs_assignable_packages() {
        let accountant = vec!["regnskapsforer-med-signeringsrettighet".to_string()];
        assert_eq!(plan_self(catalogue(), &accountant).expect("known"), None);
        let tax = vec!["skatt-naering".to_string()];
        let plan = plan_self(catalogue(), &tax)
            .expect("known")
            .expect("assignable");
        assert_eq!(plan[0].via, None);
    }
}
