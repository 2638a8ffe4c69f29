//! The token endpoint (RFC 7523 JWT bearer grant), the public keys and the metadata.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use systembruker_token::jwk::Jwks;
use systembruker_token::{GrantError, JWT_BEARER_GRANT, OAuthError};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::limits::SourceAddress;
use crate::problem::{ApiError, ApiResult};

/// The token endpoint reads at most this much; the assertion itself is bounded lower.
const TOKEN_BODY_LIMIT: usize = 64 * 1024;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    let token_endpoint = OpenApiRouter::new()
        .routes(routes!(token))
        .layer(DefaultBodyLimit::max(TOKEN_BODY_LIMIT));
    OpenApiRouter::new()
        .merge(token_endpoint)
        .routes(routes!(jwk))
        .routes(routes!(metadata))
}

// ----- the token endpoint -----

/// The form of a token request (RFC 7523). For the OpenAPI document: `read_form` reads it.
#[allow(dead_code)]
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenForm {
    /// `urn:ietf:params:oauth:grant-type:jwt-bearer`
    pub grant_type: String,
    /// The client's signed JWT.
    pub assertion: String,
}

/// A successful token response.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponseBody {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u32,
    pub scope: String,
}

/// An OAuth2 error (RFC 6749 §5.2); `error_description` starts with the MP code.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthErrorBody {
    pub error: String,
    pub error_description: String,
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn oauth_error(err: &GrantError) -> Response {
    let status = match err.error {
        OAuthError::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        OAuthError::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = OAuthErrorBody {
        error: err.error.as_str().to_string(),
        error_description: err.error_description(),
    };
    no_store((status, axum::Json(body)).into_response())
}

fn bad_form(description: impl Into<String>) -> GrantError {
    GrantError::new(OAuthError::InvalidRequest, "MP-011", description)
}

/// Reads `grant_type` and `assertion` from a form-encoded body; each exactly once.
fn read_form(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<String, GrantError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return Err(bad_form(
            "the token request must be a form (Content-Type: application/x-www-form-urlencoded)",
        ));
    }
    let body = body.map_err(|e| {
        bad_form(format!(
            "the request body cannot be read (at most {TOKEN_BODY_LIMIT} bytes): {e}"
        ))
    })?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|e| bad_form(format!("the form cannot be read: {e}")))?;
    let single = |name: &str| -> Result<Option<String>, GrantError> {
        let mut values = pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
        let first = values.next();
        if values.next().is_some() {
            return Err(bad_form(format!(
                "parameter {name} is given more than once"
            )));
        }
        Ok(first)
    };
    match single("grant_type")?.as_deref() {
        Some(JWT_BEARER_GRANT) => {}
        Some(other) => {
            return Err(GrantError::new(
                OAuthError::UnsupportedGrantType,
                "MP-011",
                format!("grant_type {other:?} is not supported; use {JWT_BEARER_GRANT}"),
            ));
        }
        None => {
            return Err(bad_form(format!(
                "grant_type is missing; use {JWT_BEARER_GRANT}"
            )));
        }
    }
    single("assertion")?
        .filter(|a| !a.is_empty())
        .ok_or_else(|| bad_form("assertion is missing: send the signed JWT as assertion"))
}

#[utoipa::path(post, path = "/maskinporten/token", tag = "maskinporten",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = TokenResponseBody), (status = 400, body = OAuthErrorBody),
        (status = 429, body = OAuthErrorBody), (status = 500, body = OAuthErrorBody)))]
async fn token(
    State(state): State<AppState>,
    SourceAddress(address): SourceAddress,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(refused) = state.limits.token_address(address) {
        state.token_metrics.count("rate_limited");
        return no_store(refused.oauth());
    }
    let result = match read_form(&headers, body) {
        Ok(assertion) => state.tokens.issue(&assertion).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(issued) => {
            // Counted once the assertion is verified: a client's allowance cannot be
            // spent by others who merely name it.
            if let Err(refused) = state.limits.token_client(&issued.client_id.to_string()) {
                state.token_metrics.count("rate_limited");
                return no_store(refused.oauth());
            }
            state.token_metrics.count("issued");
            systembruker_app::audit::token_issued(&state.app, &issued).await;
            no_store(
                axum::Json(TokenResponseBody {
                    access_token: issued.access_token,
                    token_type: issued.token_type.to_string(),
                    expires_in: issued.expires_in,
                    scope: issued.scope,
                })
                .into_response(),
            )
        }
        Err(err) => {
            state.token_metrics.count(err.code);
            tracing::info!(error = %err.error, code = err.code, "token request refused");
            oauth_error(&err)
        }
    }
}

#[utoipa::path(get, path = "/maskinporten/jwk", tag = "maskinporten",
    responses((status = 200, description = "The JWK set of the platform's signing keys", body = Object)))]
async fn jwk(State(state): State<AppState>) -> ApiResult<axum::Json<Jwks>> {
    let jwks = state.tokens.jwks().await.map_err(|e| {
        tracing::error!(error = %e, "signing keys unavailable");
        ApiError::internal("the signing keys cannot be read; try again later")
    })?;
    Ok(axum::Json(jwks))
}

#[utoipa::path(get, path = "/maskinporten/.well-known/oauth-authorization-server", tag = "maskinporten",
    responses((status = 200, description = "RFC 8414 authorization-server metadata", body = Object)))]
async fn metadata(State(state): State<AppState>) -> axum::Json<serde_json::Value> {
    axum::Json(state.tokens.metadata())
}
