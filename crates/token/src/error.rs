//! Errors of the token service.

use std::fmt;

/// A failure of a storage port, in terms the HTTP layer can map to a status code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    #[error("{0} was not found")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid data: {0}")]
    Invalid(String),
    /// The database failed; the message is for logs, not for callers.
    #[error("storage failure: {0}")]
    Backend(String),
    /// The database does not answer now (down, unreachable, read-only); worth retrying.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

pub type PortResult<T> = Result<T, PortError>;

/// The OAuth2 `error` values the token endpoint answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    InvalidRequest,
    InvalidGrant,
    InvalidScope,
    UnsupportedGrantType,
    /// RFC 9396: the `authorization_details` are malformed or of an unknown type.
    InvalidAuthorizationDetails,
    /// Altinn's code when no system user matches the request (MP-303).
    InvalidAltinnCustomerConfiguration,
    ServerError,
    /// RFC 6749's code for a server that cannot answer now (the database is down); 503.
    TemporarilyUnavailable,
}

impl OAuthError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidGrant => "invalid_grant",
            Self::InvalidScope => "invalid_scope",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidAuthorizationDetails => "invalid_authorization_details",
            Self::InvalidAltinnCustomerConfiguration => "invalid_altinn_customer_configuration",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a token request was refused: the OAuth2 error, the Maskinporten code (`MP-…`) and
/// a description that tells the client what to fix. Rendered as
/// `{"error": …, "error_description": "MP-…: …"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantError {
    pub error: OAuthError,
    pub code: &'static str,
    pub description: String,
}

impl GrantError {
    pub fn new(error: OAuthError, code: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            code,
            description: description.into(),
        }
    }

    /// `MP-…: description`, the `error_description` of the response.
    pub fn error_description(&self) -> String {
        format!("{}: {}", self.code, self.description)
    }

    pub(crate) fn request(code: &'static str, description: impl Into<String>) -> Self {
        Self::new(OAuthError::InvalidRequest, code, description)
    }

    pub(crate) fn grant(code: &'static str, description: impl Into<String>) -> Self {
        Self::new(OAuthError::InvalidGrant, code, description)
    }

    pub(crate) fn scope(code: &'static str, description: impl Into<String>) -> Self {
        Self::new(OAuthError::InvalidScope, code, description)
    }

    pub(crate) fn details(code: &'static str, description: impl Into<String>) -> Self {
        Self::new(OAuthError::InvalidAuthorizationDetails, code, description)
    }

    /// An internal failure; the detail goes to the log, the client gets a generic text.
    pub(crate) fn server(detail: &dyn fmt::Display) -> Self {
        tracing::error!(error = %detail, "token service failure");
        Self::new(
            OAuthError::ServerError,
            "MP-500",
            "the token could not be issued because of an internal error; try again later",
        )
    }
}

impl fmt::Display for GrantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.error_description())
    }
}

impl std::error::Error for GrantError {}

impl From<PortError> for GrantError {
    fn from(err: PortError) -> Self {
        match err {
            PortError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "token service: database unavailable");
                Self::new(
                    OAuthError::TemporarilyUnavailable,
                    "MP-503",
                    "the token service cannot reach its database now; try again shortly",
                )
            }
            other => Self::server(&other),
        }
    }
}

impl From<KeyError> for GrantError {
    fn from(err: KeyError) -> Self {
        Self::server(&err)
    }
}

/// Problems with keys: generation, parsing, encryption at rest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the JWK is not usable: {0}")]
    InvalidJwk(String),
    #[error("the private key cannot be read: {0}; give an RSA key in PKCS#8 or PKCS#1 PEM")]
    InvalidPrivateKey(String),
    #[error(
        "the key-encryption key must be 32 bytes in base64 (make one with `openssl rand -base64 32`): {0}"
    )]
    InvalidEncryptionKey(String),
    #[error(
        "signing key {0} is stored encrypted but no key-encryption key is configured: set SYSTEMBRUKER_KEY_ENCRYPTION_KEY to the key it was encrypted with"
    )]
    EncryptionKeyMissing(String),
    #[error(
        "signing key {0} cannot be decrypted: SYSTEMBRUKER_KEY_ENCRYPTION_KEY is not the key it was encrypted with, or the stored key is damaged"
    )]
    DecryptionFailed(String),
    #[error("cryptographic operation failed: {0}")]
    Crypto(String),
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why one of our access tokens was refused by [`crate::TokenService::verify_access_token`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not a JWT signed by one of our keys (unknown `kid`, another algorithm, bad signature).
    #[error("{0}")]
    NotOurs(String),
    #[error("the token has expired")]
    Expired,
    #[error("the token is invalid: {0}")]
    Invalid(String),
    #[error("the signing keys could not be loaded: {0}")]
    Keys(String),
}
