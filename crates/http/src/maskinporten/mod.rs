//! The Maskinporten-compatible token service over HTTP, one file per audience: the
//! token endpoint with the public keys and metadata (`token`), the operator API for
//! clients and their keys (`clients`) and for scopes (`scopes`), and the verifier that
//! lets every API accept the platform's tokens (`verify`).

mod clients;
mod scopes;
mod selfservice;
mod token;
mod verify;

pub use verify::PlatformTokens;

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use systembruker_storage::Store;
use systembruker_token::{PortError, TokenService, TokenSettings};
use utoipa_axum::router::OpenApiRouter;

use crate::problem::ApiError;
use crate::{AppState, Config};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(token::routes())
        .merge(clients::routes())
        .merge(scopes::routes())
        .merge(selfservice::routes())
}

/// The service for `AppState::new`: keys stored unencrypted (serve.rs sets up encryption).
pub(crate) fn default_token_service(store: &Arc<dyn Store>, config: &Config) -> Arc<TokenService> {
    Arc::new(TokenService::new(
        store.clone(),
        TokenSettings {
            issuer: config.issuer(),
            key_encryption: None,
        },
    ))
}

// ----- metrics -----

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenOutcome {
    /// `issued`, or the MP code of the refusal.
    pub outcome: String,
}

/// Token requests answered, by outcome.
#[derive(Clone, Default)]
pub struct TokenMetrics(pub Family<TokenOutcome, Counter>);

impl TokenMetrics {
    fn count(&self, outcome: &str) {
        self.0
            .get_or_create(&TokenOutcome {
                outcome: outcome.to_string(),
            })
            .inc();
    }
}

impl From<PortError> for ApiError {
    fn from(err: PortError) -> Self {
        match err {
            PortError::NotFound(what) => ApiError::not_found(format!("{what} was not found")),
            PortError::Conflict(what) => ApiError::conflict(what),
            PortError::Invalid(what) => ApiError::bad_request(what),
            PortError::Unavailable(what) => {
                tracing::warn!(error = %what, "database unavailable");
                ApiError::unavailable("the database does not answer now; try again shortly")
            }
            PortError::Backend(what) => {
                tracing::error!(error = %what, "storage failure");
                ApiError::internal("the request could not be completed; try again later")
            }
        }
    }
}
