//! Compact JWS (RFC 7515) signing with RSA, and base64url helpers.
//!
//! Signing is done here directly with aws-lc-rs on a parsed key kept in memory, so each
//! token costs one RSA operation and nothing else; verification goes through
//! `jsonwebtoken` with the algorithm pinned (see [`crate::assertion`]).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::KeyError;
use crate::keys::SigningKey;

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64url_decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(text)
}

/// The RSA algorithms this crate signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaAlgorithm {
    RS256,
    RS384,
    RS512,
}

impl RsaAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Self::RS256),
            "RS384" => Some(Self::RS384),
            "RS512" => Some(Self::RS512),
            _ => None,
        }
    }

    pub(crate) fn encoding(self) -> &'static dyn aws_lc_rs::signature::RsaEncoding {
        match self {
            Self::RS256 => &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            Self::RS384 => &aws_lc_rs::signature::RSA_PKCS1_SHA384,
            Self::RS512 => &aws_lc_rs::signature::RSA_PKCS1_SHA512,
        }
    }

    pub(crate) fn verification(self) -> &'static aws_lc_rs::signature::RsaParameters {
        match self {
            Self::RS256 => &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            Self::RS384 => &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA384,
            Self::RS512 => &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA512,
        }
    }
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    kid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    typ: Option<&'a str>,
}

/// Signs `claims` as a compact JWS with header `{alg, kid[, typ]}`.
pub fn sign<T: Serialize>(
    key: &SigningKey,
    algorithm: RsaAlgorithm,
    typ: Option<&str>,
    claims: &T,
) -> Result<String, KeyError> {
    let header = serde_json::to_vec(&Header {
        alg: algorithm.name(),
        kid: key.kid(),
        typ,
    })
    .map_err(|e| KeyError::Crypto(e.to_string()))?;
    let payload = serde_json::to_vec(claims).map_err(|e| KeyError::Crypto(e.to_string()))?;
    let mut token = String::with_capacity(64 + payload.len() * 4 / 3 + 360);
    URL_SAFE_NO_PAD.encode_string(&header, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
    let signature = key.sign(algorithm, token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
    Ok(token)
}
