//! Checks of a client's JWT-bearer assertion (RFC 7523; docs/tokens.md), each with
//! the OAuth2 error and the Maskinporten code a client's library expects.
//!
//! Tolerance choices (documented in docs/tokens.md):
//! * `aud`: the issuer with or without the trailing slash, and `{issuer}token`, as a
//!   string or a one-element array — the forms real clients send.
//! * `sub`: accepted when it equals `iss` (Altinn's examples send it); anything else is
//!   refused.
//! * Claims outside the documented set are refused (MP-011), as the newest docs say.
//! * `jti` is required: without it replay cannot be prevented. Every known client sends it.

use aws_lc_rs::signature::ParsedPublicKey;
use serde::Deserialize;
use serde_json::Value;
use systembruker_domain::OrgNumber;
use uuid::Uuid;

use crate::claims::OrgClaim;
use crate::jws::{RsaAlgorithm, b64url_decode};
use crate::{GrantError, OAuthError, SYSTEMUSER_DETAILS_TYPE};

/// Longest assertion accepted, in bytes.
pub const MAX_ASSERTION_BYTES: usize = 16 * 1024;
/// The signature algorithms a client may use.
pub const ACCEPTED_ALGORITHMS: [&str; 3] = ["RS256", "RS384", "RS512"];
/// Tolerated difference between the client's `iat` and the server's clock, in seconds.
pub const MAX_CLOCK_SKEW: i64 = 10;
/// Longest assertion lifetime (`exp - iat`), in seconds.
pub const MAX_ASSERTION_LIFETIME: i64 = 120;
/// Longest `jti` and `externalRef` accepted.
pub const MAX_JTI_LEN: usize = 256;
pub const MAX_EXTERNAL_REF_LEN: usize = 255;

/// What the header says: the pinned algorithm and the key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionHeader {
    pub alg: RsaAlgorithm,
    pub kid: String,
}

fn invalid(description: impl Into<String>) -> GrantError {
    GrantError::request(
        "MP-011",
        format!("Invalid assertion. {}", description.into()),
    )
}

/// Checks the size and shape and reads the header. Only RS256/RS384/RS512 pass: `none`,
/// HMAC and EC are refused here, before any key is touched.
pub fn read_header(assertion: &str) -> Result<AssertionHeader, GrantError> {
    if assertion.len() > MAX_ASSERTION_BYTES {
        return Err(invalid(format!(
            "The assertion is {} bytes; at most {MAX_ASSERTION_BYTES} are accepted",
            assertion.len()
        )));
    }
    let mut parts = assertion.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(
            "The assertion must be a signed JWT in compact form (header.payload.signature)",
        ));
    };
    let header: serde_json::Map<String, Value> = b64url_decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| invalid("The JWT header is not base64url-encoded JSON"))?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let alg = RsaAlgorithm::parse(alg).ok_or_else(|| {
        GrantError::grant(
            "MP-124",
            format!(
                "Invalid assertion. Invalid JWT signature: algorithm {alg:?} is not accepted; sign with RS256, RS384 or RS512"
            ),
        )
    })?;
    if header.contains_key("crit") {
        return Err(invalid(
            "The JWT header has \"crit\" extensions, which are not supported",
        ));
    }
    if header.contains_key("x5c") && !header.contains_key("kid") {
        return Err(GrantError::grant(
            "MP-120",
            "Invalid assertion. Client authentication with a certificate (x5c) is not supported here; register a JWK on the client and send its kid",
        ));
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            invalid("The JWT header has no kid; send the kid of a key registered on the client")
        })?;
    Ok(AssertionHeader {
        alg,
        kid: kid.to_string(),
    })
}

/// The claims of an assertion; any other claim is refused.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertionClaims {
    pub aud: Value,
    pub iss: String,
    #[serde(default)]
    pub sub: Option<String>,
    pub iat: serde_json::Number,
    pub exp: serde_json::Number,
    #[serde(default)]
    pub jti: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub resource: Option<Value>,
    #[serde(default)]
    pub authorization_details: Option<Value>,
    #[serde(default)]
    pub pid: Option<Value>,
    #[serde(default)]
    pub consumer_org: Option<Value>,
    #[serde(default)]
    pub iss_onbehalfof: Option<Value>,
}

/// Verifies the signature with the client's key, parsed for the header's algorithm
/// (which [`read_header`] limited to RSA: the algorithm is pinned by the key itself), and
/// reads the claims. The JWS is checked here directly rather than through `jsonwebtoken`:
/// the key is parsed once per client key instead of once per request, and the claims are
/// read once, into their type.
pub fn verify_signature(
    assertion: &str,
    header: &AssertionHeader,
    key: &ParsedPublicKey,
) -> Result<AssertionClaims, GrantError> {
    let bad_signature = || {
        GrantError::grant(
            "MP-124",
            format!(
                "Invalid assertion. Invalid JWT signature: it does not verify with key {:?} of the client",
                header.kid
            ),
        )
    };
    // `read_header` saw exactly three parts.
    let (signing_input, signature) = assertion
        .rsplit_once('.')
        .ok_or_else(|| invalid("The JWT cannot be read"))?;
    let payload = signing_input
        .split_once('.')
        .map(|(_, payload)| payload)
        .ok_or_else(|| invalid("The JWT cannot be read"))?;
    let signature = b64url_decode(signature).map_err(|_| bad_signature())?;
    key.verify_sig(signing_input.as_bytes(), &signature)
        .map_err(|_| bad_signature())?;
    let payload =
        b64url_decode(payload).map_err(|_| invalid("The JWT payload is not base64url-encoded"))?;
    serde_json::from_slice(&payload).map_err(|e| invalid(format!("{e}")))
}

/// An assertion whose claims passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedAssertion {
    pub jti: String,
    pub exp: i64,
    pub scopes: Vec<String>,
    pub resource: Option<Value>,
    pub system_user: Option<SystemUserRequest>,
}

/// The system-user part of a grant (`authorization_details`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemUserRequest {
    pub owner_org: OrgNumber,
    /// As sent; `None` means "the default" (the owner's org number).
    pub external_ref: Option<String>,
}

fn seconds(value: &serde_json::Number, name: &str) -> Result<i64, GrantError> {
    value
        .as_i64()
        .or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
        .ok_or_else(|| invalid(format!("{name} must be a NumericDate (seconds since 1970)")))
}

/// The audiences accepted for `issuer` (which ends with a slash).
pub fn accepted_audiences(issuer: &str) -> [String; 3] {
    let base = issuer.trim_end_matches('/');
    [
        format!("{base}/"),
        base.to_string(),
        format!("{base}/token"),
    ]
}

fn check_audience(aud: &Value, issuer: &str) -> Result<(), GrantError> {
    let value = match aud {
        Value::String(s) => Some(s.as_str()),
        Value::Array(items) if items.len() == 1 => items[0].as_str(),
        _ => None,
    };
    let accepted = accepted_audiences(issuer);
    match value {
        Some(aud) if accepted.iter().any(|a| a == aud) => Ok(()),
        _ => Err(GrantError::grant(
            "MP-110",
            format!(
                "Invalid assertion. Client authentication failed. Invalid JWT claim aud: expected {:?}",
                accepted[0]
            ),
        )),
    }
}

fn check_times(iat: i64, exp: i64, now: i64) -> Result<(), GrantError> {
    if iat > now + MAX_CLOCK_SKEW {
        return Err(GrantError::grant(
            "MP-130",
            format!(
                "Invalid assertion. Issue time is after now: iat is {} s ahead of the server's clock (at most {MAX_CLOCK_SKEW} s are tolerated)",
                iat - now
            ),
        ));
    }
    if exp <= now {
        return Err(GrantError::grant(
            "MP-130",
            "Invalid assertion. JWT expired: exp is in the past",
        ));
    }
    if iat < now - MAX_CLOCK_SKEW {
        return Err(GrantError::grant(
            "MP-130",
            format!(
                "Invalid assertion. iat is {} s behind the server's clock (at most {MAX_CLOCK_SKEW} s are tolerated); make a new assertion for each request",
                now - iat
            ),
        ));
    }
    if exp <= iat || exp - iat > MAX_ASSERTION_LIFETIME {
        return Err(GrantError::grant(
            "MP-130",
            format!(
                "Invalid assertion. exp - iat is {} s; it must be between 1 and {MAX_ASSERTION_LIFETIME} s",
                exp - iat
            ),
        ));
    }
    Ok(())
}

/// Checks the claims of a signature-verified assertion of `client_id` against `issuer`
/// at `now` (unix seconds). The scopes are checked against the client later.
pub fn check_claims(
    claims: AssertionClaims,
    client_id: Uuid,
    issuer: &str,
    now: i64,
) -> Result<CheckedAssertion, GrantError> {
    let client_failed = || {
        GrantError::grant(
            "MP-100",
            "Invalid assertion. Client authentication failed: iss must be the client_id of the key's client",
        )
    };
    if Uuid::parse_str(&claims.iss).map_err(|_| client_failed())? != client_id {
        return Err(client_failed());
    }
    if claims.sub.as_ref().is_some_and(|sub| *sub != claims.iss) {
        return Err(invalid("sub, when sent, must equal iss (the client_id)"));
    }
    for (name, value) in [
        ("pid", &claims.pid),
        ("consumer_org", &claims.consumer_org),
        ("iss_onbehalfof", &claims.iss_onbehalfof),
    ] {
        if value.is_some() {
            return Err(invalid(format!(
                "The claim {name} is not supported by this platform"
            )));
        }
    }
    check_audience(&claims.aud, issuer)?;
    let iat = seconds(&claims.iat, "iat")?;
    let exp = seconds(&claims.exp, "exp")?;
    check_times(iat, exp, now)?;
    let jti = claims
        .jti
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LEN)
        .ok_or_else(|| {
            invalid(format!(
                "jti is required (1 to {MAX_JTI_LEN} characters, unique per assertion)"
            ))
        })?;
    let mut scopes: Vec<String> = claims
        .scope
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    scopes.dedup();
    if scopes.is_empty() {
        return Err(GrantError::scope(
            "MP-200",
            "Token request contains invalid scopes for client: scope must hold at least one scope, separated by spaces",
        ));
    }
    if let Some(resource) = &claims.resource {
        check_resource(resource)?;
    }
    let system_user = claims
        .authorization_details
        .as_ref()
        .map(parse_authorization_details)
        .transpose()?;
    Ok(CheckedAssertion {
        jti,
        exp,
        scopes,
        resource: claims.resource,
        system_user,
    })
}

fn check_resource(resource: &Value) -> Result<(), GrantError> {
    let ok = match resource {
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.as_str().is_some_and(|s| !s.is_empty()))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid("resource must be a string or an array of strings"))
    }
}

/// Reads `authorization_details`: exactly one object of type `urn:altinn:systemuser`
/// with `systemuser_org` and an optional `externalRef`.
pub fn parse_authorization_details(value: &Value) -> Result<SystemUserRequest, GrantError> {
    let entry = match value {
        Value::Array(items) if items.len() == 1 => &items[0],
        _ => {
            return Err(GrantError::details(
                "MP-302",
                "authorization_details must be an array with exactly one object (one party per grant)",
            ));
        }
    };
    let object = entry.as_object().ok_or_else(|| {
        GrantError::details(
            "MP-302",
            "the authorization_details entry must be an object",
        )
    })?;
    match object.get("type").and_then(Value::as_str) {
        Some(SYSTEMUSER_DETAILS_TYPE) => {}
        other => {
            return Err(GrantError::details(
                "MP-301",
                format!(
                    "unknown authorization_details type {other:?}; supported: {SYSTEMUSER_DETAILS_TYPE:?}"
                ),
            ));
        }
    }
    if let Some(unknown) = object
        .keys()
        .find(|k| !["type", "systemuser_org", "externalRef"].contains(&k.as_str()))
    {
        return Err(GrantError::details(
            "MP-302",
            format!(
                "unknown field {unknown:?} in authorization_details; allowed: type, systemuser_org, externalRef"
            ),
        ));
    }
    let owner = object
        .get("systemuser_org")
        .ok_or_else(|| GrantError::details("MP-303", "systemuser_org is missing"))
        .and_then(|org| {
            serde_json::from_value::<OrgClaim>(org.clone())
                .map_err(|e| GrantError::details("MP-303", format!("systemuser_org: {e}")))
        })
        .and_then(|org| {
            org.org()
                .map_err(|e| GrantError::details("MP-303", format!("systemuser_org: {e}")))
        })?;
    let external_ref = match object.get("externalRef") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_EXTERNAL_REF_LEN => {
            Some(s.clone())
        }
        Some(_) => {
            return Err(GrantError::details(
                "MP-303",
                format!("externalRef must be a string of 1 to {MAX_EXTERNAL_REF_LEN} characters"),
            ));
        }
    };
    Ok(SystemUserRequest {
        owner_org: owner,
        external_ref,
    })
}

/// The error for a grant whose system user cannot be found (MP-303).
pub fn no_system_user(request: &SystemUserRequest, client_id: Uuid) -> GrantError {
    GrantError::new(
        OAuthError::InvalidAltinnCustomerConfiguration,
        "MP-303",
        format!(
            "no system user matches: owner {}, externalRef {:?}, client {client_id}. Check that the system lists this client id, that the owner approved the request, and that externalRef is sent when the request had one",
            request.owner_org,
            request
                .external_ref
                .clone()
                .unwrap_or_else(|| request.owner_org.to_string())
        ),
    )
}
