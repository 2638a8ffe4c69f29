//! The claims of the access tokens the service issues (docs/tokens.md#the-access-token).

use serde::{Deserialize, Serialize};
use systembruker_domain::{IdError, OrgNumber};
use uuid::Uuid;

use crate::ISO6523_AUTHORITY;

/// An organisation in ISO 6523 form: `{"authority": "iso6523-actorid-upis", "ID": "0192:<orgno>"}`.
/// `id` in lower case is read too (the reference's docs write it so; real tokens use `ID`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgClaim {
    pub authority: String,
    #[serde(rename = "ID", alias = "id")]
    pub id: String,
}

impl OrgClaim {
    pub fn new(org: &OrgNumber) -> Self {
        Self {
            authority: ISO6523_AUTHORITY.to_string(),
            id: org.iso6523(),
        }
    }

    /// The organisation number; another authority or a number without the `0192:`
    /// prefix is refused.
    pub fn org(&self) -> Result<OrgNumber, String> {
        if self.authority != ISO6523_AUTHORITY {
            return Err(format!(
                "authority is {:?}; only {ISO6523_AUTHORITY:?} is accepted",
                self.authority
            ));
        }
        let number = self
            .id
            .strip_prefix("0192:")
            .ok_or_else(|| format!("ID {:?} must be \"0192:<organisation number>\"", self.id))?;
        OrgNumber::parse(number).map_err(|e: IdError| e.to_string())
    }
}

/// One entry of `authorization_details` in a system-user token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemUserDetails {
    #[serde(rename = "type")]
    pub details_type: String,
    pub systemuser_org: OrgClaim,
    pub systemuser_id: Vec<Uuid>,
    pub system_id: String,
    #[serde(rename = "externalRef")]
    pub external_ref: String,
}

/// An access token's claims, in the order Maskinporten emits them. End-user tokens (test
/// tools, portal) carry `pid` and the `urn:altinn:*` ids instead of a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<Vec<SystemUserDetails>>,
    pub scope: String,
    pub iss: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_amr: Option<String>,
    pub token_type: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer: Option<OrgClaim>,
    /// Set when the assertion asked for a `resource` (RFC 8707).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    #[serde(
        rename = "urn:altinn:userid",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub user_id: Option<String>,
    #[serde(
        rename = "urn:altinn:partyid",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub party_id: Option<String>,
}

impl AccessTokenClaims {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|s| !s.is_empty())
    }
}
