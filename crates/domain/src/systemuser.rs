//! System users, vendor requests and change requests (docs/rules.md#system-users, #requests,
//! #change-requests): the statuses, the request rules that need no I/O, and the
//! change-request diff.
//!
//! Rule failures are [`RuleError`]s, which know their `AUTH-000NN` code and status.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::catalogue::Catalogue;
use crate::rules::RuleError;
use crate::system::{AccessPackageRef, RegisteredSystem, Right, UrlParts};

/// Status of a request or change request. All five are stored (the reference computes
/// `Timedout` on read and never writes `Denied`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RequestStatus {
    New,
    Accepted,
    Rejected,
    /// The request can never be approved: its system was deleted.
    Denied,
    /// Not answered within the configured time (default 180 days).
    Timedout,
    /// Change requests only: nothing to change; never stored.
    NoChangeNeeded,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "New",
            Self::Accepted => "Accepted",
            Self::Rejected => "Rejected",
            Self::Denied => "Denied",
            Self::Timedout => "Timedout",
            Self::NoChangeNeeded => "NoChangeNeeded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::New,
            Self::Accepted,
            Self::Rejected,
            Self::Denied,
            Self::Timedout,
            Self::NoChangeNeeded,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}

/// `standard` acts for its owner; `agent` acts for the owner's clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SystemUserType {
    Standard,
    Agent,
}

impl SystemUserType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "standard" => Some(Self::Standard),
            "agent" => Some(Self::Agent),
            _ => None,
        }
    }
}

/// The statuses that block a new request for the same key (docs/rules.md#requests, step 4).
pub fn key_status_problem(status: RequestStatus) -> Option<RuleError> {
    match status {
        RequestStatus::Accepted
        | RequestStatus::New
        | RequestStatus::Denied
        | RequestStatus::Rejected => Some(RuleError::KeyTaken { status }),
        _ => None,
    }
}

/// Step 6 of docs/rules.md#requests: an empty redirect URL is no redirect; otherwise the
/// system must allow
/// it, compared on scheme, host, port and path (the query is ignored for the match and
/// kept for the final redirect).
pub fn check_redirect_url(
    redirect: Option<&str>,
    system: &RegisteredSystem,
) -> Result<(), RuleError> {
    let Some(redirect) = redirect.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(());
    };
    if system.allowed_redirect_urls.is_empty() {
        return Err(RuleError::NoRedirectUrls {
            system: system.id.to_string(),
        });
    }
    let wanted = UrlParts::parse(redirect);
    let allowed = system
        .allowed_redirect_urls
        .iter()
        .filter_map(|url| UrlParts::parse(url))
        .any(|url| Some(&url) == wanted.as_ref());
    if allowed {
        Ok(())
    } else {
        Err(RuleError::RedirectNotAllowed {
            redirect: redirect.to_string(),
        })
    }
}

/// Steps 7–8 of docs/rules.md#requests for a standard request: something must be
/// requested, and every right
/// must be one of the system's (same attribute set; the action is ignored).
pub fn check_standard_request(
    rights: Option<&[Right]>,
    packages: Option<&[AccessPackageRef]>,
    system: &RegisteredSystem,
) -> Result<(), RuleError> {
    match (rights, packages) {
        (None, None) => {
            return Err(RuleError::NothingRequested);
        }
        (r, p)
            if r.is_none_or(<[Right]>::is_empty)
                && p.is_none_or(<[AccessPackageRef]>::is_empty) =>
        {
            return Err(RuleError::NeedsRightOrPackage);
        }
        _ => {}
    }
    check_rights_subset(rights.unwrap_or_default(), system)
}

/// Every requested right must equal one of the system's rights.
pub fn check_rights_subset(rights: &[Right], system: &RegisteredSystem) -> Result<(), RuleError> {
    let offered: Vec<_> = system.rights.iter().map(Right::resource_key).collect();
    let missing: Vec<String> = rights
        .iter()
        .filter(|right| !offered.contains(&right.resource_key()))
        .map(right_label)
        .collect();
    if rights.len() > system.rights.len() || !missing.is_empty() {
        return Err(RuleError::RightsNotOffered {
            system: system.id.to_string(),
            missing,
        });
    }
    Ok(())
}

/// A right as text for messages: the resource id, or the attribute pairs.
pub fn right_label(right: &Right) -> String {
    right.resource_id().map(str::to_string).unwrap_or_else(|| {
        right
            .resource
            .iter()
            .map(|p| format!("{}={}", p.id, p.value))
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// Step 9 of docs/rules.md#requests: the packages must be the system's, and assignable
/// (standard) or
/// delegable (agent). Returns the catalogue codes of the packages.
pub fn check_packages(
    packages: &[AccessPackageRef],
    system: &RegisteredSystem,
    kind: SystemUserType,
    catalogue: &Catalogue,
) -> Result<Vec<String>, RuleError> {
    let offered = system.package_codes(catalogue);
    let mut not_found = Vec::new();
    let mut not_allowed = Vec::new();
    let mut codes = Vec::new();
    for package in packages {
        let Some(found) = catalogue
            .package(&package.urn)
            .ok()
            .filter(|p| offered.contains(&p.code))
        else {
            not_found.push(package.urn.clone());
            continue;
        };
        let allowed = match kind {
            SystemUserType::Standard => found.is_assignable,
            SystemUserType::Agent => found.is_delegable,
        };
        if !allowed {
            not_allowed.push(found.urn.clone());
        }
        codes.push(found.code.clone());
    }
    if !not_found.is_empty() {
        return Err(RuleError::PackagesNotOffered {
            system: system.id.to_string(),
            missing: not_found,
        });
    }
    if !not_allowed.is_empty() {
        return Err(RuleError::PackagesNotAllowed {
            packages: not_allowed,
            agent: kind == SystemUserType::Agent,
        });
    }
    codes.dedup();
    Ok(codes)
}

/// What approving a change request does to a system user: the parts of the request that
/// differ from what it holds now. Applying it twice changes nothing the second time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeDiff {
    pub add_packages: Vec<String>,
    pub remove_packages: Vec<String>,
    pub add_rights: Vec<String>,
    pub remove_rights: Vec<String>,
}

impl ChangeDiff {
    pub fn is_empty(&self) -> bool {
        self.add_packages.is_empty()
            && self.remove_packages.is_empty()
            && self.add_rights.is_empty()
            && self.remove_rights.is_empty()
    }
}

/// The current grants and the wanted change, as package codes and resource ids.
#[derive(Debug, Clone, Default)]
pub struct ChangeInput<'a> {
    pub held_packages: &'a [String],
    pub held_rights: &'a [String],
    pub required_packages: &'a [String],
    pub unwanted_packages: &'a [String],
    pub required_rights: &'a [String],
    pub unwanted_rights: &'a [String],
}

/// Required items not held yet are added; unwanted items held now are removed. An item
/// both required and unwanted is kept as required (adding wins: nothing is lost).
pub fn change_diff(input: &ChangeInput<'_>) -> ChangeDiff {
    fn diff(
        held: &[String],
        required: &[String],
        unwanted: &[String],
    ) -> (Vec<String>, Vec<String>) {
        let held: BTreeSet<&String> = held.iter().collect();
        let required_set: BTreeSet<&String> = required.iter().collect();
        let add = required_set
            .iter()
            .filter(|item| !held.contains(*item))
            .map(|item| (*item).clone())
            .collect();
        let remove = unwanted
            .iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter(|item| held.contains(item) && !required_set.contains(item))
            .cloned()
            .collect();
        (add, remove)
    }
    let (add_packages, remove_packages) = diff(
        input.held_packages,
        input.required_packages,
        input.unwanted_packages,
    );
    let (add_rights, remove_rights) = diff(
        input.held_rights,
        input.required_rights,
        input.unwanted_rights,
    );
    ChangeDiff {
        add_packages,
        remove_packages,
        add_rights,
        remove_rights,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system() -> RegisteredSystem {
        serde_json::from_value(serde_json::json!({
            "id": "991825827_smartregnskap",
            "vendor": {"authority": "iso6523-actorid-upis", "ID": "0192:991825827"},
            "name": {"nb": "SmartRegnskap", "nn": "SmartRekneskap", "en": "SmartAccounting"},
            "description": {"nb": "a", "nn": "b", "en": "c"},
            "rights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}],
            "accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"},
                               {"urn": "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"}],
            "isVisible": false,
            "allowedRedirectUrls": ["https://smartcloud.example/receipt"]
        }))
        .unwrap()
    }

    #[test]
    fn statuses_round_trip() {
        for s in ["New", "Accepted", "Rejected", "Denied", "Timedout"] {
            assert_eq!(RequestStatus::parse(s).unwrap().as_str(), s);
        }
        assert_eq!(RequestStatus::parse("new"), None);
    }

    #[test]
    fn redirect_must_match_an_allowed_url_ignoring_the_query() {
        let s = system();
        assert_eq!(check_redirect_url(None, &s), Ok(()));
        assert_eq!(check_redirect_url(Some(" "), &s), Ok(()));
        assert_eq!(
            check_redirect_url(Some("https://smartcloud.example/receipt?order=7"), &s),
            Ok(())
        );
        assert_eq!(
            check_redirect_url(Some("https://evil.example/receipt"), &s)
                .unwrap_err()
                .number(),
            21
        );
        let mut none = s.clone();
        none.allowed_redirect_urls.clear();
        assert_eq!(
            check_redirect_url(Some("https://smartcloud.example/receipt"), &none)
                .unwrap_err()
                .number(),
            26
        );
    }

    #[test]
    fn standard_request_needs_something_offered() {
        let s = system();
        let right = [Right::on_resource("ske-krav-og-betalinger")];
        assert_eq!(check_standard_request(Some(&right), None, &s), Ok(()));
        assert_eq!(
            check_standard_request(None, None, &s).unwrap_err().number(),
            1
        );
        assert_eq!(
            check_standard_request(Some(&[]), Some(&[]), &s)
                .unwrap_err()
                .number(),
            59
        );
        let other = [Right::on_resource("something-else")];
        let err = check_standard_request(Some(&other), None, &s).unwrap_err();
        assert_eq!(err.number(), 1);
        assert!(err.to_string().contains("something-else"));
    }

    #[test]
    fn packages_must_be_offered_and_fit_the_user_type() {
        let s = system();
        let c = Catalogue::builtin();
        let skatt = [AccessPackageRef::new("skatt-naering")];
        assert_eq!(
            check_packages(&skatt, &s, SystemUserType::Standard, c).unwrap(),
            ["skatt-naering"]
        );
        let client_only = [AccessPackageRef::new(
            "regnskapsforer-med-signeringsrettighet",
        )];
        assert_eq!(
            check_packages(&client_only, &s, SystemUserType::Standard, c)
                .unwrap_err()
                .number(),
            64
        );
        assert!(check_packages(&client_only, &s, SystemUserType::Agent, c).is_ok());
        let not_offered = [AccessPackageRef::new("tilgangsstyrer")];
        let err = check_packages(&not_offered, &s, SystemUserType::Standard, c).unwrap_err();
        assert_eq!(err.number(), 63);
        assert_eq!(err.extensions()[0].0, "notFoundPackages");
    }

    #[test]
    fn key_statuses_map_to_their_codes() {
        assert_eq!(
            key_status_problem(RequestStatus::Accepted)
                .unwrap()
                .number(),
            6
        );
        assert_eq!(key_status_problem(RequestStatus::New).unwrap().number(), 7);
        assert_eq!(
            key_status_problem(RequestStatus::Denied).unwrap().number(),
            8
        );
        assert_eq!(
            key_status_problem(RequestStatus::Rejected)
                .unwrap()
                .number(),
            9
        );
        assert_eq!(key_status_problem(RequestStatus::Timedout), None);
    }

    #[test]
    fn change_diff_is_idempotent() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let held_p = s(&["skatt-naering"]);
        let held_r = s(&["a"]);
        let req_p = s(&["skatt-naering", "ansettelsesforhold"]);
        let unw_p = s(&["regnskap", "ansettelsesforhold"]);
        let req_r = s(&["b"]);
        let unw_r = s(&["a", "c"]);
        let input = ChangeInput {
            held_packages: &held_p,
            held_rights: &held_r,
            required_packages: &req_p,
            unwanted_packages: &unw_p,
            required_rights: &req_r,
            unwanted_rights: &unw_r,
        };
        let diff = change_diff(&input);
        assert_eq!(diff.add_packages, ["ansettelsesforhold"]);
        assert!(diff.remove_packages.is_empty());
        assert_eq!(diff.add_rights, ["b"]);
        assert_eq!(diff.remove_rights, ["a"]);
        // After applying, the same request changes nothing.
        let held_p = s(&["skatt-naering", "ansettelsesforhold"]);
        let held_r = s(&["b"]);
        let again = change_diff(&ChangeInput {
            held_packages: &held_p,
            held_rights: &held_r,
            ..input
        });
        assert!(again.is_empty(), "{again:?}");
    }
}
