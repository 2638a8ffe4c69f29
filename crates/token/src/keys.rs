//! RSA signing keys: generation, PEM and PKCS#8, JWK form, and encryption at rest.

use aws_lc_rs::aead::{AES_256_GCM, Aad, Nonce, RandomizedNonceKey};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::KeyError;
use crate::jwk::RsaJwk;
use crate::jws::{RsaAlgorithm, b64url};

/// An RSA private key with its `kid`, parsed once and kept for signing.
pub struct SigningKey {
    kid: String,
    pair: KeyPair,
    public: RsaJwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish()
    }
}

impl SigningKey {
    /// A new RSA-2048 key. Without a `kid`, the RFC 7638 thumbprint is used (43
    /// characters, like Maskinporten's own key ids).
    pub fn generate(kid: Option<&str>) -> Result<Self, KeyError> {
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| KeyError::Crypto("RSA key generation failed".into()))?;
        Self::from_pair(kid, pair)
    }

    /// Reads a PKCS#8 DER private key.
    pub fn from_pkcs8_der(kid: Option<&str>, der: &[u8]) -> Result<Self, KeyError> {
        let pair =
            KeyPair::from_pkcs8(der).map_err(|e| KeyError::InvalidPrivateKey(e.to_string()))?;
        Self::from_pair(kid, pair)
    }

    /// Reads a PEM private key: `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1).
    pub fn from_pem(kid: Option<&str>, pem: &str) -> Result<Self, KeyError> {
        let (label, der) = pem_decode(pem)?;
        let pair = match label.as_str() {
            "PRIVATE KEY" => KeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => KeyPair::from_der(&der),
            other => {
                return Err(KeyError::InvalidPrivateKey(format!(
                    "PEM label {other:?} is not a private key"
                )));
            }
        }
        .map_err(|e| KeyError::InvalidPrivateKey(e.to_string()))?;
        Self::from_pair(kid, pair)
    }

    fn from_pair(kid: Option<&str>, pair: KeyPair) -> Result<Self, KeyError> {
        let public_key = pair.public_key();
        let n = b64url(public_key.modulus().big_endian_without_leading_zero());
        let e = b64url(public_key.exponent().big_endian_without_leading_zero());
        let kid = match kid {
            Some(kid) => kid.to_string(),
            None => thumbprint(&n, &e),
        };
        crate::jwk::check_kid(&kid)?;
        let public = RsaJwk {
            kty: "RSA".into(),
            kid: kid.clone(),
            key_use: Some("sig".into()),
            alg: Some("RS256".into()),
            n,
            e,
        };
        Ok(Self { kid, pair, public })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK (`use` sig, `alg` RS256).
    pub fn public_jwk(&self) -> &RsaJwk {
        &self.public
    }

    /// The private key as PKCS#8 DER.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, KeyError> {
        Ok(self
            .pair
            .as_der()
            .map_err(|_| KeyError::Crypto("the key cannot be exported".into()))?
            .as_ref()
            .to_vec())
    }

    /// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn to_pem(&self) -> Result<String, KeyError> {
        let der = self.to_pkcs8_der()?;
        let body = STANDARD.encode(der);
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        Ok(pem)
    }

    /// An RSASSA-PKCS1-v1_5 signature of `message`.
    pub fn sign(&self, algorithm: RsaAlgorithm, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                algorithm.encoding(),
                &aws_lc_rs::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| KeyError::Crypto("RSA signing failed".into()))?;
        Ok(signature)
    }
}

/// RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA key.
pub fn thumbprint(n: &str, e: &str) -> String {
    // Members in lexicographic order, no whitespace, as the RFC requires.
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    b64url(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()).as_ref())
}

pub(crate) fn pem_decode(pem: &str) -> Result<(String, Vec<u8>), KeyError> {
    let mut lines = pem.lines().map(str::trim).skip_while(|l| l.is_empty());
    let label = lines
        .next()
        .and_then(|l| l.strip_prefix("-----BEGIN "))
        .and_then(|l| l.strip_suffix("-----"))
        .ok_or_else(|| KeyError::InvalidPrivateKey("no PEM header (-----BEGIN …-----)".into()))?
        .to_string();
    let end = format!("-----END {label}-----");
    let mut body = String::new();
    let mut ended = false;
    for line in lines {
        if line == end {
            ended = true;
            break;
        }
        body.push_str(line);
    }
    if !ended {
        return Err(KeyError::InvalidPrivateKey(format!("no {end} line")));
    }
    let der = STANDARD
        .decode(body)
        .map_err(|e| KeyError::InvalidPrivateKey(format!("PEM body is not base64: {e}")))?;
    Ok((label, der))
}

/// Prefix of a private key sealed with a [`KeyEncryptionKey`].
const SEALED_PREFIX: &str = "aes256gcm:";
/// Prefix of a private key stored in the clear (no key-encryption key configured).
const PLAIN_PREFIX: &str = "plain:";

/// The operator's key that encrypts signing keys at rest (AES-256-GCM, random nonce, the
/// `kid` as associated data so a sealed key cannot be moved to another row).
pub struct KeyEncryptionKey(RandomizedNonceKey);

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyEncryptionKey(…)")
    }
}

impl KeyEncryptionKey {
    /// From 32 bytes in standard base64 (`openssl rand -base64 32`).
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| KeyError::InvalidEncryptionKey(e.to_string()))?;
        if bytes.len() != 32 {
            return Err(KeyError::InvalidEncryptionKey(format!(
                "it decodes to {} bytes",
                bytes.len()
            )));
        }
        RandomizedNonceKey::new(&AES_256_GCM, &bytes)
            .map(Self)
            .map_err(|_| KeyError::InvalidEncryptionKey("rejected by AES-256-GCM".into()))
    }

    fn seal(&self, kid: &str, plaintext: &[u8]) -> Result<String, KeyError> {
        let mut in_out = plaintext.to_vec();
        let nonce = self
            .0
            .seal_in_place_append_tag(Aad::from(kid.as_bytes()), &mut in_out)
            .map_err(|_| KeyError::Crypto("sealing the private key failed".into()))?;
        let mut sealed = nonce.as_ref().to_vec();
        sealed.extend_from_slice(&in_out);
        Ok(format!("{SEALED_PREFIX}{}", STANDARD.encode(sealed)))
    }

    fn open(&self, kid: &str, sealed: &str) -> Result<Vec<u8>, KeyError> {
        let failed = || KeyError::DecryptionFailed(kid.to_string());
        let bytes = STANDARD.decode(sealed).map_err(|_| failed())?;
        if bytes.len() < 12 + 16 {
            return Err(failed());
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| failed())?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut in_out)
            .map_err(|_| failed())?;
        Ok(plain.to_vec())
    }
}

/// The stored form of a private key: sealed when `kek` is given, else marked plain.
pub fn seal_private_key(
    key: &SigningKey,
    kek: Option<&KeyEncryptionKey>,
) -> Result<String, KeyError> {
    let der = key.to_pkcs8_der()?;
    match kek {
        Some(kek) => kek.seal(key.kid(), &der),
        None => Ok(format!("{PLAIN_PREFIX}{}", STANDARD.encode(der))),
    }
}

/// Reads a stored private key (see [`seal_private_key`]).
pub fn open_private_key(
    kid: &str,
    stored: &str,
    kek: Option<&KeyEncryptionKey>,
) -> Result<SigningKey, KeyError> {
    let der = if let Some(sealed) = stored.strip_prefix(SEALED_PREFIX) {
        let kek = kek.ok_or_else(|| KeyError::EncryptionKeyMissing(kid.to_string()))?;
        kek.open(kid, sealed)?
    } else if let Some(plain) = stored.strip_prefix(PLAIN_PREFIX) {
        STANDARD
            .decode(plain)
            .map_err(|_| KeyError::DecryptionFailed(kid.to_string()))?
    } else {
        return Err(KeyError::DecryptionFailed(kid.to_string()));
    };
    SigningKey::from_pkcs8_der(Some(kid), &der)
}

/// Whether a stored private key is sealed (for the operator's overview and warnings).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}
