//! System users, vendor requests and change requests (authentication.md §3, §4, §7): the
//! statuses, the request rules of §4.3 that need no I/O, and the change-request diff.
//!
//! Rule failures carry the reference's `AUTH-000NN` number ([`AuthProblem`]); the HTTP
//! layer maps the number to its status and title.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalogue::Catalogue;
use crate::system::{AccessPackageRef, RegisteredSystem, Right, UrlParts};

/// Status of a request or change request. All five are stored (the reference computes
/// `Timedout` on read and never writes `Denied`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
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

/// A rule failure with the reference's `AUTH-000NN` number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthProblem {
    /// `NN` of `AUTH-000NN`.
    pub number: u8,
    pub detail: String,
    /// Extra members of the problem body, e.g. `notFoundPackages`.
    pub extensions: Vec<(&'static str, Vec<String>)>,
}

impl AuthProblem {
    pub fn new(number: u8, detail: impl Into<String>) -> Self {
        Self {
            number,
            detail: detail.into(),
            extensions: Vec::new(),
        }
    }

    /// Adds an extension member (a list of names) to the problem body.
    pub fn with(mut self, key: &'static str, values: Vec<String>) -> Self {
        self.extensions.push((key, values));
        self
    }

    /// `AUTH-000NN`.
    pub fn code(&self) -> String {
        format!("AUTH-{:05}", self.number)
    }
}

/// The reference's problem numbers used by the system-user endpoints.
pub mod auth {
    pub const PARTY_NOT_FOUND: u8 = 0;
    pub const RIGHTS_NOT_FOUND: u8 = 1;
    pub const SYSTEM_USER_EXISTS: u8 = 4;
    pub const REQUEST_ACCEPTED: u8 = 6;
    pub const REQUEST_PENDING: u8 = 7;
    pub const REQUEST_DENIED: u8 = 8;
    pub const REQUEST_REJECTED: u8 = 9;
    pub const REQUEST_NOT_FOUND: u8 = 10;
    pub const SYSTEM_NOT_FOUND: u8 = 11;
    pub const REQUEST_NOT_STORED: u8 = 12;
    pub const STATUS_NOT_NEW: u8 = 13;
    pub const DELEGATION_CHECK_FAILED: u8 = 14;
    pub const SYSTEM_USER_NOT_FOUND: u8 = 15;
    pub const MISSING_ROLE_ACCESS: u8 = 16;
    pub const MISSING_DELEGATION_ACCESS: u8 = 18;
    pub const REDIRECT_INVALID: u8 = 21;
    pub const VENDOR_NOT_IN_TOKEN: u8 = 23;
    pub const DELETE_NOT_OWNED: u8 = 24;
    pub const NO_REDIRECT_URLS: u8 = 26;
    pub const AGENT_REQUEST_NOT_FOUND: u8 = 30;
    pub const EXPECTED_STANDARD: u8 = 36;
    pub const PARTY_MISMATCH: u8 = 41;
    pub const PARTY_MISMATCH_AGENT: u8 = 42;
    pub const PARTY_UUID_MISSING: u8 = 49;
    pub const PACKAGE_ACCESS_MISSING: u8 = 53;
    pub const AGENT_NEEDS_PACKAGE: u8 = 58;
    pub const NEEDS_RIGHT_OR_PACKAGE: u8 = 59;
    pub const CHANGE_REQUEST_NOT_NEW: u8 = 61;
    pub const PACKAGE_NOT_ON_SYSTEM: u8 = 63;
    pub const PACKAGE_NOT_ASSIGNABLE: u8 = 64;
    pub const PACKAGE_NOT_DELEGABLE: u8 = 65;
    pub const NOT_ACCESS_MANAGER: u8 = 66;
    pub const MISSING_PACKAGE_ACCESS: u8 = 68;
    pub const RESOURCE_NOT_DELEGABLE: u8 = 70;
    pub const MASKINPORTEN_SCHEMA: u8 = 71;
}

/// The status a request must not have when a new one is created for its key (§4.3 step 4).
pub fn key_status_problem(status: RequestStatus) -> Option<AuthProblem> {
    let (number, text) = match status {
        RequestStatus::Accepted => (auth::REQUEST_ACCEPTED, "was accepted"),
        RequestStatus::New => (auth::REQUEST_PENDING, "is waiting for approval"),
        RequestStatus::Denied => (auth::REQUEST_DENIED, "was denied"),
        RequestStatus::Rejected => (
            auth::REQUEST_REJECTED,
            "was rejected; delete it to ask again",
        ),
        _ => return None,
    };
    Some(AuthProblem::new(
        number,
        format!("a request for this system, organisation and external reference {text}"),
    ))
}

/// §4.3 step 6: an empty redirect URL is no redirect; otherwise the system must allow
/// it, compared on scheme, host, port and path (the query is ignored for the match and
/// kept for the final redirect).
pub fn check_redirect_url(
    redirect: Option<&str>,
    system: &RegisteredSystem,
) -> Result<(), AuthProblem> {
    let Some(redirect) = redirect.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(());
    };
    if system.allowed_redirect_urls.is_empty() {
        return Err(AuthProblem::new(
            auth::NO_REDIRECT_URLS,
            format!(
                "system {} has no allowed redirect URLs; the vendor must add one first",
                system.id
            ),
        ));
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
        Err(AuthProblem::new(
            auth::REDIRECT_INVALID,
            format!(
                "redirectUrl {redirect:?} does not match any of the system's allowed redirect URLs"
            ),
        ))
    }
}

/// §4.3 steps 7–8 for a standard request: something must be requested, and every right
/// must be one of the system's (same attribute set; the action is ignored).
pub fn check_standard_request(
    rights: Option<&[Right]>,
    packages: Option<&[AccessPackageRef]>,
    system: &RegisteredSystem,
) -> Result<(), AuthProblem> {
    match (rights, packages) {
        (None, None) => {
            return Err(AuthProblem::new(
                auth::RIGHTS_NOT_FOUND,
                "the request names neither rights nor accessPackages",
            ));
        }
        (r, p)
            if r.is_none_or(<[Right]>::is_empty)
                && p.is_none_or(<[AccessPackageRef]>::is_empty) =>
        {
            return Err(AuthProblem::new(
                auth::NEEDS_RIGHT_OR_PACKAGE,
                "the request must name at least one right or access package",
            ));
        }
        _ => {}
    }
    check_rights_subset(rights.unwrap_or_default(), system)
}

/// Every requested right must equal one of the system's rights.
pub fn check_rights_subset(rights: &[Right], system: &RegisteredSystem) -> Result<(), AuthProblem> {
    let offered: Vec<_> = system.rights.iter().map(Right::resource_key).collect();
    let missing: Vec<String> = rights
        .iter()
        .filter(|right| !offered.contains(&right.resource_key()))
        .map(right_label)
        .collect();
    if rights.len() > system.rights.len() || !missing.is_empty() {
        return Err(AuthProblem::new(
            auth::RIGHTS_NOT_FOUND,
            format!(
                "rights not offered by system {}: {}",
                system.id,
                missing.join(", ")
            ),
        )
        .with("notFoundRights", missing));
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

/// §4.3 step 9: the packages must be the system's, and assignable (standard) or
/// delegable (agent). Returns the catalogue codes of the packages.
pub fn check_packages(
    packages: &[AccessPackageRef],
    system: &RegisteredSystem,
    kind: SystemUserType,
    catalogue: &Catalogue,
) -> Result<Vec<String>, AuthProblem> {
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
        return Err(AuthProblem::new(
            auth::PACKAGE_NOT_ON_SYSTEM,
            format!(
                "access packages not offered by system {}: {}",
                system.id,
                not_found.join(", ")
            ),
        )
        .with("notFoundPackages", not_found));
    }
    if !not_allowed.is_empty() {
        let (number, why) = match kind {
            SystemUserType::Standard => (
                auth::PACKAGE_NOT_ASSIGNABLE,
                "cannot be given to a standard system user (not assignable)",
            ),
            SystemUserType::Agent => (
                auth::PACKAGE_NOT_DELEGABLE,
                "cannot be delegated to an agent system user (not delegable)",
            ),
        };
        return Err(
            AuthProblem::new(number, format!("{}: {why}", not_allowed.join(", ")))
                .with("notDelegablePackages", not_allowed),
        );
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
                .number,
            auth::REDIRECT_INVALID
        );
        let mut none = s.clone();
        none.allowed_redirect_urls.clear();
        assert_eq!(
            check_redirect_url(Some("https://smartcloud.example/receipt"), &none)
                .unwrap_err()
                .number,
            auth::NO_REDIRECT_URLS
        );
    }

    #[test]
    fn standard_request_needs_something_offered() {
        let s = system();
        let right = [Right::on_resource("ske-krav-og-betalinger")];
        assert_eq!(check_standard_request(Some(&right), None, &s), Ok(()));
        assert_eq!(
            check_standard_request(None, None, &s).unwrap_err().number,
            auth::RIGHTS_NOT_FOUND
        );
        assert_eq!(
            check_standard_request(Some(&[]), Some(&[]), &s)
                .unwrap_err()
                .number,
            auth::NEEDS_RIGHT_OR_PACKAGE
        );
        let other = [Right::on_resource("something-else")];
        let err = check_standard_request(Some(&other), None, &s).unwrap_err();
        assert_eq!(err.number, auth::RIGHTS_NOT_FOUND);
        assert!(err.detail.contains("something-else"));
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
                .number,
            auth::PACKAGE_NOT_ASSIGNABLE
        );
        assert!(check_packages(&client_only, &s, SystemUserType::Agent, c).is_ok());
        let not_offered = [AccessPackageRef::new("tilgangsstyrer")];
        let err = check_packages(&not_offered, &s, SystemUserType::Standard, c).unwrap_err();
        assert_eq!(err.number, auth::PACKAGE_NOT_ON_SYSTEM);
        assert_eq!(err.extensions[0].0, "notFoundPackages");
    }

    #[test]
    fn key_statuses_map_to_their_codes() {
        assert_eq!(
            key_status_problem(RequestStatus::Accepted).unwrap().number,
            6
        );
        assert_eq!(key_status_problem(RequestStatus::New).unwrap().number, 7);
        assert_eq!(key_status_problem(RequestStatus::Denied).unwrap().number, 8);
        assert_eq!(
            key_status_problem(RequestStatus::Rejected).unwrap().number,
            9
        );
        assert_eq!(key_status_problem(RequestStatus::Timedout), None);
        assert_eq!(AuthProblem::new(4, "x").code(), "AUTH-00004");
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
