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

/// PEM labels of private keys: a developer who pastes one is told to send the public half.
const PRIVATE_PEM_LABELS: [&str; 3] = ["PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY"];

/// The DER object identifier of rsaEncryption (1.2.840.113549.1.1.1).
const RSA_ENCRYPTION_OID: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

impl RsaJwk {
    /// Reads an RSA public key in PEM, as the self-service portal accepts it:
    /// `PUBLIC KEY` (SubjectPublicKeyInfo) or `RSA PUBLIC KEY` (PKCS#1). A private key is
    /// refused (never stored or echoed). Without a `kid`, the RFC 7638 thumbprint is used.
    pub fn from_public_pem(pem: &str, kid: Option<&str>) -> Result<Self, KeyError> {
        let (label, der) = crate::keys::pem_decode(pem).map_err(|e| match e {
            KeyError::InvalidPrivateKey(why) => KeyError::InvalidJwk(why),
            other => other,
        })?;
        let (n, e) = match label.as_str() {
            "PUBLIC KEY" => spki_components(&der)?,
            "RSA PUBLIC KEY" => rsa_public_key_components(&der)?,
            private if PRIVATE_PEM_LABELS.contains(&private) => {
                return Err(KeyError::InvalidJwk(
                    "this is a private key: upload only the public key (-----BEGIN PUBLIC KEY-----)"
                        .into(),
                ));
            }
            other => {
                return Err(KeyError::InvalidJwk(format!(
                    "PEM label {other:?} is not an RSA public key; send -----BEGIN PUBLIC KEY-----"
                )));
            }
        };
        let n = crate::jws::b64url(without_leading_zeros(n));
        let e = crate::jws::b64url(without_leading_zeros(e));
        let kid = match kid.map(str::trim).filter(|k| !k.is_empty()) {
            Some(kid) => kid.to_string(),
            None => crate::keys::thumbprint(&n, &e),
        };
        let jwk = Self {
            kty: "RSA".into(),
            kid,
            key_use: Some("sig".into()),
            alg: Some("RS256".into()),
            n,
            e,
        };
        jwk.check()?;
        Ok(jwk)
    }
}

fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn bad_der(what: &str) -> KeyError {
    KeyError::InvalidJwk(format!("the PEM key cannot be read: {what}"))
}

/// One DER element with the expected `tag`: its content and what follows it.
fn der_element(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), KeyError> {
    let (&found, rest) = input
        .split_first()
        .ok_or_else(|| bad_der("it ends early"))?;
    if found != tag {
        return Err(bad_der("unexpected structure"));
    }
    let (&first, rest) = rest.split_first().ok_or_else(|| bad_der("it ends early"))?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return Err(bad_der("bad length"));
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (length, &rest[count..])
    };
    if rest.len() < length {
        return Err(bad_der("it ends early"));
    }
    Ok(rest.split_at(length))
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn rsa_public_key_components(der: &[u8]) -> Result<(&[u8], &[u8]), KeyError> {
    let (sequence, _) = der_element(der, 0x30)?;
    let (n, rest) = der_element(sequence, 0x02)?;
    let (e, _) = der_element(rest, 0x02)?;
    Ok((n, e))
}

/// `SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE { rsaEncryption, NULL },
/// subjectPublicKey BIT STRING (an RSAPublicKey) }`.
fn spki_components(der: &[u8]) -> Result<(&[u8], &[u8]), KeyError> {
    let (sequence, _) = der_element(der, 0x30)?;
    let (algorithm, rest) = der_element(sequence, 0x30)?;
    let (oid, _) = der_element(algorithm, 0x06)?;
    if oid != RSA_ENCRYPTION_OID {
        return Err(KeyError::InvalidJwk(
            "only RSA keys are accepted (the PEM key is of another kind)".into(),
        ));
    }
    let (bits, _) = der_element(rest, 0x03)?;
    match bits.split_first() {
        Some((0, key)) => rsa_public_key_components(key),
        _ => Err(bad_der("bad bit string")),
    }
}

#[cfg(test)]
mod pem_tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;
    use crate::keys::SigningKey;

    fn der(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let length = content.len();
        if length < 0x80 {
            out.push(u8::try_from(length).expect("short"));
        } else {
            let bytes = length.to_be_bytes();
            let start = bytes
                .iter()
                .position(|b| *b != 0)
                .unwrap_or(bytes.len() - 1);
            out.push(0x80 | u8::try_from(bytes.len() - start).expect("few bytes"));
            out.extend_from_slice(&bytes[start..]);
        }
        out.extend_from_slice(content);
        out
    }

    fn integer(b64: &str) -> Vec<u8> {
        let mut bytes = crate::jws::b64url_decode(b64).expect("base64url");
        if bytes[0] & 0x80 != 0 {
            bytes.insert(0, 0);
        }
        der(0x02, &bytes)
    }

    fn pem(label: &str, der: &[u8]) -> String {
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            STANDARD.encode(der)
        )
    }

    fn public_pems(jwk: &RsaJwk) -> (String, String) {
        let pkcs1 = der(0x30, &[integer(&jwk.n), integer(&jwk.e)].concat());
        let mut bits = vec![0u8];
        bits.extend_from_slice(&pkcs1);
        let algorithm = der(
            0x30,
            &[der(0x06, &RSA_ENCRYPTION_OID), vec![0x05, 0x00]].concat(),
        );
        let spki = der(0x30, &[algorithm, der(0x03, &bits)].concat());
        (pem("PUBLIC KEY", &spki), pem("RSA PUBLIC KEY", &pkcs1))
    }

    #[test]
    fn a_public_pem_becomes_the_same_jwk() {
        let key = SigningKey::generate(Some("k1")).expect("key");
        let (spki, pkcs1) = public_pems(key.public_jwk());
        for text in [spki, pkcs1] {
            let jwk = RsaJwk::from_public_pem(&text, Some("k1")).expect("public key");
            assert_eq!(&jwk, key.public_jwk());
        }
    }

    #[test]
    fn a_pem_without_kid_is_named_by_its_thumbprint() {
        let key = SigningKey::generate(None).expect("key");
        let (spki, _) = public_pems(key.public_jwk());
        let jwk = RsaJwk::from_public_pem(&spki, None).expect("public key");
        assert_eq!(jwk.kid, key.kid());
    }

    #[test]
    fn a_private_pem_is_refused() {
        let key = SigningKey::generate(None).expect("key");
        let private = key.to_pem().expect("pem");
        let err = RsaJwk::from_public_pem(&private, None).expect_err("private key");
        assert!(err.to_string().contains("private key"), "{err}");
    }

    #[test]
    fn garbage_is_refused() {
        assert!(RsaJwk::from_public_pem("hello", None).is_err());
        let broken = pem("PUBLIC KEY", &[0x30, 0x05, 0x01]);
        assert!(RsaJwk::from_public_pem(&broken, None).is_err());
    }
}
