//! For API providers: accept a Maskinporten system-user token issued by systembruker and
//! ask its PDP whether the system user may act for the organisation a request is about.
//!
//! ```ignore
//! let guard = Guard::new(
//!     GuardConfig::new("https://platform.example", "skatteetaten:kravogbetalinger", "ske-krav-og-betalinger"),
//!     Arc::new(StaticToken::new(pdp_token)), // or a MaskinportenClient (cached own token)
//!     |request| request.uri().path().rsplit('/').next().map(str::to_string),
//! )?;
//! let app = Router::new()
//!     .route("/krav/{org}", get(handler))
//!     .route_layer(axum::middleware::from_fn_with_state(guard, systembruker_provider_guard::check));
//! // In the handler: `user: SystemUser` is the system user the PDP allowed.
//! ```
//!
//! Every failure is a refusal (fail closed): a token the guard cannot check, a PDP that
//! does not answer, a decision other than Permit.

pub mod guard;
pub mod jwks;
pub mod maskinporten;
pub mod pdp;
pub mod refusal;

pub use guard::{Guard, GuardConfig, SystemUser, check};
pub use maskinporten::{MaskinportenClient, StaticToken, TokenError, TokenSource};
pub use refusal::Refusal;
