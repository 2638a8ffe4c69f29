//! RSA public keys as JWKs (RFC 7517), the only kind clients may register.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::KeyError;
use crate::jws::RsaAlgorithm;

/// Smallest and largest accepted RSA modulus, in bits.
pub const MIN_RSA_BITS: usize = 2048;
pub const MAX_RSA_BITS: usize = 8192;
/// Longest accepted `kid`.
pub const MAX_KID_LEN: usize = 200;

/// An RSA public key. Only the members a verifier needs are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RsaJwk {
    pub kty: String,
    pub kid: String,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Modulus, base64url without padding.
    pub n: String,
    /// Public exponent, base64url without padding.
    pub e: String,
}

/// A JWK set: `{"keys": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<RsaJwk>,
}

/// Members that only a private key has: uploading one would leak it.
const PRIVATE_MEMBERS: [&str; 6] = ["d", "p", "q", "dp", "dq", "qi"];

fn b64_field(value: &serde_json::Value, name: &str) -> Result<String, KeyError> {
    value
        .get(name)
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| KeyError::InvalidJwk(format!("member {name:?} is missing or not a string")))
}

fn optional_str(value: &serde_json::Value, name: &str) -> Result<Option<String>, KeyError> {
    match value.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(KeyError::InvalidJwk(format!(
            "member {name:?} must be a string"
        ))),
    }
}

impl RsaJwk {
    /// Reads and checks a public RSA JWK as a client uploads it: `kty` RSA, a `kid`,
    /// a modulus of 2048–8192 bits, `use` sig and an RS* `alg` when given, no private parts.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, KeyError> {
        if !value.is_object() {
            return Err(KeyError::InvalidJwk("a JWK must be a JSON object".into()));
        }
        if let Some(member) = PRIVATE_MEMBERS.iter().find(|m| value.get(**m).is_some()) {
            return Err(KeyError::InvalidJwk(format!(
                "it contains the private member {member:?}: upload only the public key (kty, kid, n, e)"
            )));
        }
        let jwk = Self {
            kty: b64_field(value, "kty")?,
            kid: b64_field(value, "kid")?,
            key_use: optional_str(value, "use")?,
            alg: optional_str(value, "alg")?,
            n: b64_field(value, "n")?,
            e: b64_field(value, "e")?,
        };
        jwk.check()?;
        Ok(jwk)
    }

    /// The checks of [`Self::from_json`] on an already parsed key.
    pub fn check(&self) -> Result<(), KeyError> {
        if self.kty != "RSA" {
            return Err(KeyError::InvalidJwk(format!(
                "kty is {:?}; only RSA keys are accepted",
                self.kty
            )));
        }
        check_kid(&self.kid)?;
        if let Some(key_use) = self.key_use.as_deref().filter(|u| *u != "sig") {
            return Err(KeyError::InvalidJwk(format!(
                "use is {key_use:?}; a client key must be a signing key (\"sig\")"
            )));
        }
        if let Some(alg) = self
            .alg
            .as_deref()
            .filter(|a| !crate::assertion::ACCEPTED_ALGORITHMS.contains(a))
        {
            return Err(KeyError::InvalidJwk(format!(
                "alg is {alg:?}; accepted are RS256, RS384 and RS512"
            )));
        }
        let n = decode_positive(&self.n, "n")?;
        let bits = n.len() * 8 - n[0].leading_zeros() as usize;
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(KeyError::InvalidJwk(format!(
                "the modulus has {bits} bits; {MIN_RSA_BITS} to {MAX_RSA_BITS} are accepted"
            )));
        }
        let e = decode_positive(&self.e, "e")?;
        if e.len() > 4 || e.last().is_some_and(|b| b % 2 == 0) || e == [1] {
            return Err(KeyError::InvalidJwk(
                "the public exponent must be an odd number above 1 (usually AQAB)".into(),
            ));
        }
        Ok(())
    }

    /// The key parsed once for verifying `algorithm` signatures (RSASSA-PKCS1-v1_5 with a
    /// modulus of 2048–8192 bits); keep it, parsing costs about as much as a verification.
    pub fn verifier(
        &self,
        algorithm: RsaAlgorithm,
    ) -> Result<aws_lc_rs::signature::ParsedPublicKey, KeyError> {
        let (n, e) = (
            decode_positive(&self.n, "n")?,
            decode_positive(&self.e, "e")?,
        );
        aws_lc_rs::signature::RsaPublicKeyComponents {
            n: &n[..],
            e: &e[..],
        }
        .to_parsed_public_key(algorithm.verification())
        .map_err(|err| KeyError::InvalidJwk(format!("not a usable RSA public key: {err}")))
    }

    /// The key for verifying signatures with `jsonwebtoken`.
    pub fn decoding_key(&self) -> Result<jsonwebtoken::DecodingKey, KeyError> {
        jsonwebtoken::DecodingKey::from_rsa_components(&self.n, &self.e)
            .map_err(|e| KeyError::InvalidJwk(e.to_string()))
    }
}

/// A `kid` is printable ASCII without spaces, 1–200 characters.
pub fn check_kid(kid: &str) -> Result<(), KeyError> {
    if kid.is_empty() || kid.len() > MAX_KID_LEN || !kid.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(KeyError::InvalidJwk(format!(
            "kid {kid:?} must be 1 to {MAX_KID_LEN} printable ASCII characters without spaces"
        )));
    }
    Ok(())
}

fn decode_positive(value: &str, name: &str) -> Result<Vec<u8>, KeyError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .map_err(|e| KeyError::InvalidJwk(format!("{name} is not base64url: {e}")))?;
    let start = bytes
        .iter()
        .position(|b| *b != 0)
        .ok_or_else(|| KeyError::InvalidJwk(format!("{name} is zero")))?;
    Ok(bytes[start..].to_vec())
}
