//! The Maskinporten-compatible token service of systembruker, as pure logic over ports.
//!
//! * [`TokenService::issue`] checks an RFC 7523 JWT-bearer assertion (docs/tokens.md)
//!   and signs an access token (docs/tokens.md#the-access-token) with the service's RS256 key.
//! * [`TokenService::verify_access_token`] checks one of our own tokens for the APIs.
//! * [`TokenService::jwks`] and [`TokenService::metadata`] publish the keys and the
//!   RFC 8414 metadata.
//!
//! Storage is reached through the small traits in [`ports`]; `systembruker-storage`
//! implements them on SQL, [`memory`] in memory (tests, benchmarks).

pub mod assertion;
pub mod claims;
pub mod client;
mod error;
pub mod jwk;
pub mod jws;
pub mod keys;
pub mod memory;
pub mod ports;
pub mod scopes;
mod service;

pub use error::{GrantError, KeyError, OAuthError, PortError, PortResult, VerifyError};
pub use service::{
    AccessToken, IssuedFor, MAX_ACCESS_TOKEN_LIFETIME, MintRequest, TokenResponse, TokenService,
    TokenSettings,
};

/// The grant type of RFC 7523 that the token endpoint accepts.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The `authorization_details` type for system users.
pub const SYSTEMUSER_DETAILS_TYPE: &str = "urn:altinn:systemuser";
/// The ISO 6523 authority of Norwegian organisation numbers in claims.
pub const ISO6523_AUTHORITY: &str = "iso6523-actorid-upis";
/// The default access-token lifetime of a client, in seconds (as Maskinporten's).
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: u32 = 120;

/// Seconds since the Unix epoch.
pub fn now_seconds() -> i64 {
    chrono::Utc::now().timestamp()
}
