//! Rules of access management for people: finding a person without letting numbers be
//! probed, and whether a single right may be given.

use crate::delegation::ReasonCode;

/// A person is found by national id number **and** last name: the name given must be
/// the last word of the register's name (case and surrounding spaces ignored), so a
/// number alone reveals nothing.
pub fn last_name_matches(registered_name: &str, given: &str) -> bool {
    let given = given.trim();
    if given.is_empty() {
        return false;
    }
    registered_name
        .split_whitespace()
        .last()
        .is_some_and(|last| last.to_lowercase() == given.to_lowercase())
}

/// Why a single right may not be given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RightRefusal {
    /// The resource's policy has no rule for the action.
    NotInPolicy,
    /// The giver holds nothing that lets them delegate it (the reasons the check found).
    Lacks(Vec<ReasonCode>),
}

impl RightRefusal {
    /// The verdict on one right from the delegation check's reasons (every rule of the
    /// policy for the action): given when any reason grants it.
    pub fn judge(reasons: &[ReasonCode]) -> Option<RightRefusal> {
        if reasons.is_empty() {
            Some(RightRefusal::NotInPolicy)
        } else if reasons.iter().any(|code| code.grants()) {
            None
        } else {
            let mut codes = reasons.to_vec();
            codes.dedup();
            Some(RightRefusal::Lacks(codes))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_is_found_only_by_the_last_name_of_the_register() {
        assert!(last_name_matches("Ola Nordmann", "Nordmann"));
        assert!(last_name_matches("Ola Nordmann", " nordmann "));
        assert!(!last_name_matches("Ola Nordmann", "Ola"));
        assert!(!last_name_matches("Ola Nordmann", ""));
        assert!(!last_name_matches("Ola Nordmann", "Ola Nordmann"));
    }

    #[test]
    fn a_right_is_given_when_any_reason_grants_it() {
        assert_eq!(
            RightRefusal::judge(&[ReasonCode::MissingRoleAccess, ReasonCode::DelegationAccess]),
            None
        );
    }

    #[test]
    fn a_right_no_reason_grants_is_refused_with_the_reasons() {
        assert_eq!(
            RightRefusal::judge(&[
                ReasonCode::MissingRoleAccess,
                ReasonCode::MissingRoleAccess,
                ReasonCode::MissingPackageAccess
            ]),
            Some(RightRefusal::Lacks(vec![
                ReasonCode::MissingRoleAccess,
                ReasonCode::MissingPackageAccess
            ]))
        );
    }

    #[test]
    fn an_action_the_policy_does_not_name_is_not_a_right() {
        assert_eq!(RightRefusal::judge(&[]), Some(RightRefusal::NotInPolicy));
    }
}
