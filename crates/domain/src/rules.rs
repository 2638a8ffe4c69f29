//! The rules' errors: one enum whose variants say which rule refused what, carry the data
//! that explains it, and know the reference's `AUTH-000NN` code, the HTTP status, a title
//! and the portal's message key. The HTTP API renders them as problem JSON in one place
//! (`http/src/problem.rs`), the portal shows the text behind `message_key()`; nobody reads
//! a code back out of a string.
//!
//! Adding a rule: add a variant with a message that says what was wrong and what to do,
//! then its arms in `number`, `title` and `message_key` (the compiler lists the gaps).

use serde::Serialize;

use crate::systemuser::RequestStatus;

/// One right or package the approver may not delegate, and why (the delegation check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DelegationFailure {
    /// `right` or `accessPackage`.
    pub kind: String,
    /// The resource id or package URN.
    pub name: String,
    /// What the approver lacks; serialised as its `AUTH-000NN` code.
    #[serde(rename = "code", serialize_with = "lack_code")]
    pub lack: Lack,
    pub reason: String,
}

/// What stops one right or package from being delegated: each lack knows the reference's
/// code for it and the portal's words for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lack {
    /// AUTH-00001: the resource does not exist, has no policy or its policy grants nothing.
    NoRights,
    /// AUTH-00016: none of the roles that give the action.
    Role,
    /// AUTH-00018: nobody delegated the action to the approver.
    Delegation,
    /// AUTH-00053: no role or delegation that lets the approver pass the package on.
    PackageDelegation,
    /// AUTH-00068: none of the access packages that give the action.
    Package,
    /// AUTH-00070: the resource is not delegable.
    NotDelegable,
    /// AUTH-00071: a Maskinporten schema, delegated as a scope instead.
    MaskinportenSchema,
}

impl Lack {
    /// Every lack, for tests that each has its words.
    pub const ALL: [Lack; 7] = [
        Lack::NoRights,
        Lack::Role,
        Lack::Delegation,
        Lack::PackageDelegation,
        Lack::Package,
        Lack::NotDelegable,
        Lack::MaskinportenSchema,
    ];

    /// The number of the reference's `AUTH-000NN` code.
    pub fn number(self) -> u8 {
        match self {
            Lack::NoRights => 1,
            Lack::Role => 16,
            Lack::Delegation => 18,
            Lack::PackageDelegation => 53,
            Lack::Package => 68,
            Lack::NotDelegable => 70,
            Lack::MaskinportenSchema => 71,
        }
    }

    /// The reference's code, e.g. `AUTH-00068`.
    pub fn code(self) -> String {
        format!("AUTH-{:05}", self.number())
    }

    /// The key of the portal's text that explains the lack to the approver.
    pub fn message_key(self) -> &'static str {
        match self {
            Lack::Package => "missing.reason.package",
            Lack::Role => "missing.reason.role",
            Lack::Delegation => "missing.reason.delegation",
            Lack::PackageDelegation => "missing.reason.package_delegate",
            Lack::NotDelegable | Lack::MaskinportenSchema => "missing.reason.not_delegable",
            Lack::NoRights => "missing.reason.other",
        }
    }
}

fn lack_code<S: serde::Serializer>(lack: &Lack, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&lack.code())
}

/// A refusal by one of the platform's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    // --- the party ---------------------------------------------------------------------
    /// AUTH-00000.
    #[error("organisation {org} is not in the register")]
    PartyNotInRegister { org: String },
    /// AUTH-00049: the request's organisation has left the register since it was made.
    #[error("organisation {org} is no longer in the register")]
    PartyLeftRegister { org: String },
    /// AUTH-00041 (standard) / AUTH-00042 (agent).
    #[error("{what} is not for party {party}")]
    NotForParty {
        what: String,
        party: String,
        agent: bool,
    },
    /// AUTH-00024.
    #[error("system user {id} does not belong to party {party}")]
    SystemUserNotOwned { id: String, party: String },

    // --- what is asked for -------------------------------------------------------------
    /// AUTH-00001.
    #[error("the request names neither rights nor accessPackages")]
    NothingRequested,
    /// AUTH-00001, with `notFoundRights`.
    #[error("rights not offered by system {system}: {}", .missing.join(", "))]
    RightsNotOffered {
        system: String,
        missing: Vec<String>,
    },
    /// AUTH-00059.
    #[error("the request must name at least one right or access package")]
    NeedsRightOrPackage,
    /// AUTH-00058.
    #[error("an agent request must name at least one access package")]
    AgentNeedsPackage,
    /// AUTH-00063, with `notFoundPackages`.
    #[error("access packages not offered by system {system}: {}", .missing.join(", "))]
    PackagesNotOffered {
        system: String,
        missing: Vec<String>,
    },
    /// AUTH-00064 (standard) / AUTH-00065 (agent), with `notDelegablePackages`.
    #[error("{}: {}", .packages.join(", "), if *.agent {
        "cannot be delegated to an agent system user (not delegable)"
    } else {
        "cannot be given to a standard system user (not assignable)"
    })]
    PackagesNotAllowed { packages: Vec<String>, agent: bool },
    /// AUTH-00064: an agent's packages are for clients, never for the firm itself.
    #[error(
        "the system user's access packages are for clients only: the organisation cannot add itself"
    )]
    ClientIsTheFirm,

    // --- redirects ---------------------------------------------------------------------
    /// AUTH-00026.
    #[error("system {system} has no allowed redirect URLs; the vendor must add one first")]
    NoRedirectUrls { system: String },
    /// AUTH-00021.
    #[error("redirectUrl {redirect:?} does not match any of the system's allowed redirect URLs")]
    RedirectNotAllowed { redirect: String },

    // --- requests ----------------------------------------------------------------------
    /// AUTH-00006/7/8/9: a request for the key exists with this status.
    #[error(
        "a request for this system, organisation and external reference {}",
        match .status {
            RequestStatus::Accepted => "was accepted",
            RequestStatus::New => "is waiting for approval",
            RequestStatus::Denied => "was denied",
            _ => "was rejected; delete it to ask again",
        }
    )]
    KeyTaken { status: RequestStatus },
    /// AUTH-00010 (standard) / AUTH-00030 (agent).
    #[error("{}request {id} does not exist", if *.agent { "agent " } else { "" })]
    RequestNotFound { id: String, agent: bool },
    /// AUTH-00010.
    #[error("there is no live request for this system, organisation and external reference")]
    NoRequestForKey,
    /// AUTH-00013.
    #[error("the request is {}, not New, so it can no longer be answered", .status.as_str())]
    RequestNotNew { status: RequestStatus },

    // --- change requests ---------------------------------------------------------------
    /// AUTH-00010.
    #[error("change request {id} does not exist")]
    ChangeRequestNotFound { id: String },
    /// AUTH-00010.
    #[error("there is no live change request for this key")]
    NoChangeRequestForKey,
    /// AUTH-00061.
    #[error("the change request is {}, not New; send a new one with a new correlation id", .status.as_str())]
    ChangeRequestNotNew { status: RequestStatus },
    /// AUTH-00061: another approver answered between our read and our write.
    #[error("the change request was answered by someone else")]
    ChangeRequestAnswered,

    // --- systems -----------------------------------------------------------------------
    /// AUTH-00011.
    #[error("system {system} does not exist")]
    SystemNotFound { system: String },
    /// AUTH-00011: another vendor's system is "not found" to this vendor.
    #[error("system {system} does not exist for vendor {vendor}")]
    SystemNotOfVendor { system: String, vendor: String },
    /// AUTH-00011: another vendor's request.
    #[error("request {id} is not for a system of vendor {vendor}")]
    RequestNotOfVendor { id: String, vendor: String },

    // --- system users ------------------------------------------------------------------
    /// AUTH-00004.
    #[error("a system user exists for this system, organisation and external reference")]
    SystemUserExists,
    /// AUTH-00015.
    #[error("system user {id} does not exist")]
    SystemUserNotFound { id: String },
    /// AUTH-00015.
    #[error("no system user matches this {key}")]
    NoSystemUserForKey { key: String },
    /// AUTH-00034.
    #[error("this is a standard system user: clients can only be added to agent system users")]
    ExpectedAgent,
    /// AUTH-00036.
    #[error("agent system users are deleted through the agent routes")]
    ExpectedStandard,

    // --- who asks ----------------------------------------------------------------------
    /// AUTH-00023.
    #[error("the token names no vendor: {hint}")]
    VendorNotInToken { hint: String },
    /// AUTH-00066.
    #[error("{detail}")]
    NotAccessManager { detail: String },
    /// AUTH-00014/16/18/19/20/53/68/70/71 (the first failure's code), with `failures`.
    #[error("the delegation check failed, so nothing was created: {}", summary(.failures))]
    ApproverLacksRights { failures: Vec<DelegationFailure> },
    /// AUTH-00053.
    #[error("the logged-in user may not delegate {package} for the organisation")]
    MayNotDelegatePackage { package: String },

    // --- clients -----------------------------------------------------------------------
    /// AUTH-00079.
    #[error(
        "{client} is not a client of the organisation: it has given it no accountant, auditor or business manager role and no access package"
    )]
    NotAClient { client: String },
    /// AUTH-00079: the relation ended while the client was being added.
    #[error("a client relation ended while the client was being added; reload and try again")]
    ClientRelationEnded,
    /// AUTH-00080, with `missingPackages`.
    #[error("{client} does not provide every access package of the system user: missing {}", .missing.join(", "))]
    ClientLacksPackages {
        client: String,
        missing: Vec<String>,
    },
    /// AUTH-00038.
    #[error("{client} is not a client of this system user")]
    ClientNotAdded { client: String },
}

fn summary(failures: &[DelegationFailure]) -> String {
    failures
        .iter()
        .map(|f| format!("{} {}: {} ({})", f.kind, f.name, f.reason, f.lack.code()))
        .collect::<Vec<_>>()
        .join("; ")
}

impl RuleError {
    /// `NN` of `AUTH-000NN`, as the reference numbers its problems.
    pub fn number(&self) -> u8 {
        match self {
            Self::PartyNotInRegister { .. } => 0,
            Self::NothingRequested | Self::RightsNotOffered { .. } => 1,
            Self::SystemUserExists => 4,
            Self::KeyTaken { status } => match status {
                RequestStatus::Accepted => 6,
                RequestStatus::New => 7,
                RequestStatus::Denied => 8,
                _ => 9,
            },
            Self::RequestNotFound { agent: true, .. } => 30,
            Self::RequestNotFound { .. }
            | Self::NoRequestForKey
            | Self::ChangeRequestNotFound { .. }
            | Self::NoChangeRequestForKey => 10,
            Self::SystemNotFound { .. }
            | Self::SystemNotOfVendor { .. }
            | Self::RequestNotOfVendor { .. } => 11,
            Self::RequestNotNew { .. } => 13,
            Self::SystemUserNotFound { .. } | Self::NoSystemUserForKey { .. } => 15,
            Self::RedirectNotAllowed { .. } => 21,
            Self::VendorNotInToken { .. } => 23,
            Self::SystemUserNotOwned { .. } => 24,
            Self::NoRedirectUrls { .. } => 26,
            Self::ExpectedAgent => 34,
            Self::ExpectedStandard => 36,
            Self::ClientNotAdded { .. } => 38,
            Self::NotForParty { agent: false, .. } => 41,
            Self::NotForParty { agent: true, .. } => 42,
            Self::PartyLeftRegister { .. } => 49,
            Self::MayNotDelegatePackage { .. } => 53,
            Self::AgentNeedsPackage => 58,
            Self::NeedsRightOrPackage => 59,
            Self::ChangeRequestNotNew { .. } | Self::ChangeRequestAnswered => 61,
            Self::PackagesNotOffered { .. } => 63,
            Self::PackagesNotAllowed { agent: false, .. } | Self::ClientIsTheFirm => 64,
            Self::PackagesNotAllowed { agent: true, .. } => 65,
            Self::NotAccessManager { .. } => 66,
            Self::ApproverLacksRights { failures } => {
                failures.first().map_or(14, |f| f.lack.number())
            }
            Self::NotAClient { .. } | Self::ClientRelationEnded => 79,
            Self::ClientLacksPackages { .. } => 80,
        }
    }

    /// `AUTH-000NN`.
    pub fn code(&self) -> String {
        format!("AUTH-{:05}", self.number())
    }

    /// The HTTP status the reference answers with for this code.
    pub fn status(&self) -> u16 {
        match self.number() {
            10 | 11 | 12 | 15 | 30 => 404,
            13 | 61 => 409,
            14 | 16 | 18 | 24 | 41 | 42 | 66 | 68 | 70 | 71 => 403,
            23 => 401,
            _ => 400,
        }
    }

    /// The problem's title: what kind of refusal this is.
    pub fn title(&self) -> &'static str {
        match self.number() {
            0 => "Reportee organisation not found",
            1 => "Rights not found or not delegable",
            4 => "A system user exists for this system, organisation and external reference",
            6 => "The request for this key was accepted",
            7 => "The request for this key is pending",
            8 => "The request for this key was denied",
            9 => "The request for this key was rejected",
            10 => "Request not found",
            11 => "System not found",
            12 => "Request could not be stored",
            13 => "The request is not New",
            14 => "Delegation check failed",
            15 => "System user not found",
            16 => "Missing role access",
            18 => "Missing delegation access",
            21 => "Redirect URI not allowed",
            23 => "Vendor organisation number not in the token",
            24 => "The system user is not owned by the party",
            26 => "The system has no redirect URIs",
            30 => "Agent request not found",
            34 => "Expected an agent system user",
            36 => "Expected a standard system user",
            38 => "Client delegation not found",
            41 | 42 => "The party does not match the request",
            49 => "Party uuid missing",
            53 => "Missing access to delegate the access packages",
            58 => "An agent system user needs at least one access package",
            59 => "At least one right or access package is required",
            61 => "The change request is not New; use a new correlation id",
            63 => "Access package not offered by the system",
            64 => "Access package not assignable to a standard system user",
            65 => "Access package not delegable to an agent system user",
            66 => "The user is not access manager for the party",
            68 => "Missing package access",
            70 => "Resource not delegable",
            71 => "Resource is a Maskinporten schema",
            79 => "Client not found",
            80 => "The client lacks access packages the system user needs",
            _ => "System user request failed",
        }
    }

    /// The portal's text for this refusal (a key of the portal's nb/nn/en texts).
    pub fn message_key(&self) -> &'static str {
        match self.number() {
            66 => "error.api.not_access_manager",
            10 | 30 => "error.api.request_not_found",
            13 | 61 => "error.api.already_answered",
            4 => "error.api.already_exists",
            15 => "error.api.system_user_not_found",
            11 => "error.api.system_not_found",
            14 | 16 | 18 | 19 | 20 | 53 | 68 => "error.api.missing_rights",
            1 | 69 | 70 | 71 => "error.api.not_delegable",
            63..=65 => "error.api.package_not_allowed",
            24 | 41 | 42 => "error.api.wrong_party",
            0 | 49 => "error.api.party_missing",
            36 => "error.api.agent_delete",
            79 => "error.api.not_a_client",
            80 => "error.api.client_lacks_packages",
            38 => "error.api.client_not_added",
            34 => "error.api.not_agent",
            _ => "error.api.generic",
        }
    }

    /// Extra members of the problem body that list what the rule found wrong.
    pub fn extensions(&self) -> Vec<(&'static str, serde_json::Value)> {
        let list = |values: &Vec<String>| serde_json::json!(values);
        match self {
            Self::RightsNotOffered { missing, .. } => vec![("notFoundRights", list(missing))],
            Self::PackagesNotOffered { missing, .. } => vec![("notFoundPackages", list(missing))],
            Self::PackagesNotAllowed { packages, .. } => {
                vec![("notDelegablePackages", list(packages))]
            }
            Self::ClientLacksPackages { missing, .. } => vec![("missingPackages", list(missing))],
            Self::ApproverLacksRights { failures } => {
                vec![("failures", serde_json::json!(failures))]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_error_knows_its_altinn_code_and_status() {
        let missing = RuleError::ClientLacksPackages {
            client: "Bakeriet".into(),
            missing: vec!["regnskapsforer-lonn".into()],
        };
        assert_eq!(missing.code(), "AUTH-00080");
        assert_eq!(missing.status(), 400);
        assert_eq!(missing.message_key(), "error.api.client_lacks_packages");
        assert!(missing.to_string().contains("regnskapsforer-lonn"));
        assert_eq!(
            RuleError::RequestNotFound {
                id: "x".into(),
                agent: true
            }
            .code(),
            "AUTH-00030"
        );
        assert_eq!(
            RuleError::RequestNotNew {
                status: RequestStatus::Accepted
            }
            .status(),
            409
        );
    }

    #[test]
    fn a_key_taken_by_another_request_names_that_requests_status() {
        let numbers: Vec<u8> = [
            RequestStatus::Accepted,
            RequestStatus::New,
            RequestStatus::Denied,
            RequestStatus::Rejected,
        ]
        .into_iter()
        .map(|status| RuleError::KeyTaken { status }.number())
        .collect();
        assert_eq!(numbers, [6, 7, 8, 9]);
    }

    #[test]
    fn a_lack_travels_in_json_as_its_altinn_code() {
        let failure = DelegationFailure {
            kind: "accessPackage".into(),
            name: "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet".into(),
            lack: Lack::Package,
            reason: "no package gives it".into(),
        };
        let json = serde_json::to_value(&failure).unwrap();
        assert_eq!(json["code"], "AUTH-00068");
        assert!(json.get("lack").is_none());
        let codes: std::collections::BTreeSet<String> =
            Lack::ALL.iter().map(|l| l.code()).collect();
        assert_eq!(
            codes.len(),
            Lack::ALL.len(),
            "each lack its own code: {codes:?}"
        );
    }

    #[test]
    fn a_failed_delegation_check_takes_the_code_of_its_first_failure() {
        let failure = |lack: Lack| DelegationFailure {
            kind: "right".into(),
            name: "ske-krav-og-betalinger".into(),
            lack,
            reason: "no role gives it".into(),
        };
        let refused = RuleError::ApproverLacksRights {
            failures: vec![failure(Lack::Role), failure(Lack::PackageDelegation)],
        };
        assert_eq!(refused.code(), "AUTH-00016");
        assert_eq!(refused.status(), 403);
        assert_eq!(refused.extensions()[0].0, "failures");
        let unknown = RuleError::ApproverLacksRights {
            failures: Vec::new(),
        };
        assert_eq!(unknown.code(), "AUTH-00014");
    }
}
