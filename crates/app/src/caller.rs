//! Who calls: the caller a verified bearer token describes. The HTTP layer builds it from
//! the token; use cases read it to decide for whom the caller acts.

use std::collections::BTreeSet;

use systembruker_domain::{OrgNumber, PersonNumber, RuleError};
use systembruker_storage::Actor;

/// The operator scope: full access to `/admin/api/v1/*` and to every owner-checked write.
pub const ADMIN_SCOPE: &str = "systembruker:admin";

/// An authenticated caller, as read from a valid bearer token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    pub scopes: BTreeSet<String>,
    /// The organisation a Maskinporten token was issued to (`consumer` claim).
    pub consumer_org: Option<OrgNumber>,
    /// The Maskinporten client id (`client_id` claim).
    pub client_id: Option<String>,
    /// A logged-in person (`pid` claim of an end-user token).
    pub pid: Option<PersonNumber>,
    pub user_id: Option<i64>,
    pub party_id: Option<i64>,
    /// Raw claims, for handlers that need more (e.g. `authorization_details`).
    pub claims: serde_json::Value,
}

impl Caller {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    pub fn is_admin(&self) -> bool {
        self.has_scope(ADMIN_SCOPE)
    }

    /// A short description for audit fields (`changed_by`).
    pub fn audit_name(&self) -> String {
        if let Some(pid) = self.user_id {
            format!("userId:{pid}")
        } else if let Some(org) = &self.consumer_org {
            format!("org:{org}")
        } else if self.is_admin() {
            "operator".into()
        } else {
            "unknown".into()
        }
    }
}

/// The vendor a Maskinporten token was issued to (`consumer`); a token without one
/// cannot act as a vendor (AUTH-00023).
pub fn vendor_of(caller: &Caller) -> Result<OrgNumber, RuleError> {
    caller
        .consumer_org
        .ok_or_else(|| RuleError::VendorNotInToken {
            hint: "it has no consumer organisation; use a Maskinporten token issued to the vendor"
                .into(),
        })
}

/// Who makes a change, for the history and the change logs.
pub fn actor(caller: &Caller) -> Actor {
    Actor {
        name: caller.audit_name(),
        org: caller.consumer_org.map(|o| o.to_string()),
        client_id: caller.client_id.clone(),
    }
}
