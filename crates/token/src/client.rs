//! The client side: building the assertion a vendor's code sends (for the CLI's `token`
//! command, benchmarks and tests).

use serde::Serialize;
use serde_json::Value;
use systembruker_domain::OrgNumber;

use crate::claims::OrgClaim;
use crate::jws::{self, RsaAlgorithm};
use crate::keys::SigningKey;
use crate::{KeyError, SYSTEMUSER_DETAILS_TYPE};

/// The claims of a JWT-bearer assertion, as Maskinporten clients send them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssertionRequest {
    pub aud: String,
    pub iss: String,
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<Value>,
}

impl AssertionRequest {
    /// An assertion for `client_id` to `audience` (the issuer), valid for 60 s from now.
    pub fn new(client_id: &str, audience: &str, scope: &str) -> Self {
        let now = crate::now_seconds();
        Self {
            aud: audience.to_string(),
            iss: client_id.to_string(),
            scope: scope.to_string(),
            iat: now,
            exp: now + 60,
            jti: uuid::Uuid::new_v4().to_string(),
            authorization_details: None,
        }
    }

    /// Asks for a system-user token of the system user owned by `owner`.
    pub fn system_user(mut self, owner: &OrgNumber, external_ref: Option<&str>) -> Self {
        let mut details = serde_json::json!({
            "type": SYSTEMUSER_DETAILS_TYPE,
            "systemuser_org": OrgClaim::new(owner),
        });
        if let (Some(external_ref), Some(map)) = (external_ref, details.as_object_mut()) {
            map.insert(
                "externalRef".into(),
                Value::String(external_ref.to_string()),
            );
        }
        self.authorization_details = Some(Value::Array(vec![details]));
        self
    }

    /// Moves `iat` (and `exp` with it) to `iat`.
    pub fn issued_at(mut self, iat: i64) -> Self {
        let lifetime = self.exp - self.iat;
        self.iat = iat;
        self.exp = iat + lifetime;
        self
    }

    /// Signs with RS256 and header `{alg, kid, typ: "JWT"}`.
    pub fn sign(&self, key: &SigningKey) -> Result<String, KeyError> {
        jws::sign(key, RsaAlgorithm::RS256, Some("JWT"), self)
    }
}
