//! Token exchange and introspection under the reference's `/authentication/api/v1/`:
//!
//! - `GET exchange/maskinporten` with `Authorization: Bearer <Maskinporten token>` (also a
//!   system-user token) answers a platform token as plain text, signed by us, with the same
//!   identity: consumer, client, scopes and `authorization_details`, valid no longer than
//!   the token it replaces.
//! - `POST introspection` (RFC 7662) takes `token=` as a form and answers `{"active": …}`
//!   with the token's claims when it is one of ours and valid. The caller needs a valid
//!   bearer token of its own.

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use systembruker_token::MintRequest;
use systembruker_token::claims::SystemUserDetails;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Authenticated, Caller};
use crate::extract::Body;
use crate::problem::{ApiError, ApiResult};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(exchange_maskinporten))
        .routes(routes!(introspection))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ExchangeQuery {
    /// The reference maps Digdir to its test organisation with `true`; there are no test
    /// organisations here, so only `false` is accepted.
    test: Option<bool>,
}

/// The identity of a Maskinporten token as a mint request for the exchanged token.
fn exchanged(caller: &Caller, now: i64) -> ApiResult<MintRequest> {
    let refused = || {
        ApiError::new(axum::http::StatusCode::FORBIDDEN, "STD-00403", "Forbidden").detail(
            "only a Maskinporten token (an organisation's, or a system user's) is exchanged here",
        )
    };
    let consumer = caller.consumer_org.ok_or_else(refused)?;
    if caller.pid.is_some() || caller.is_admin() {
        return Err(refused());
    }
    let details: Option<Vec<SystemUserDetails>> = caller
        .claims
        .get("authorization_details")
        .map(|d| serde_json::from_value(d.clone()))
        .transpose()
        .map_err(|e| ApiError::bad_request(format!("authorization_details: {e}")))?;
    let exp = caller
        .claims
        .get("exp")
        .and_then(|e| e.as_i64())
        .unwrap_or(now);
    let mut request = MintRequest::enterprise(consumer, caller.scopes.iter().cloned().collect());
    request.client_id = caller.client_id.clone();
    request.authorization_details = details;
    request.lifetime = u32::try_from((exp - now).max(1)).unwrap_or(1);
    request.issued_at = Some(now);
    Ok(request)
}

#[utoipa::path(get, path = "/authentication/api/v1/exchange/maskinporten", tag = "authentication",
    description = "Exchanges a Maskinporten token (also a system-user token) for a platform token with the same identity, as plain text.",
    params(ExchangeQuery),
    security(("bearer" = [])),
    responses((status = 200, content_type = "text/plain", body = String), (status = 400, body = crate::problem::ProblemBody),
        (status = 401, body = crate::problem::ProblemBody), (status = 403, body = crate::problem::ProblemBody)))]
async fn exchange_maskinporten(
    State(state): State<AppState>,
    caller: Authenticated,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let query: ExchangeQuery = crate::authorizedparties::strict_query(raw.as_deref())?;
    if query.test == Some(true) {
        return Err(ApiError::invalid_field(
            "STD-00010",
            "test",
            "there are no test organisations to map to here",
        ));
    }
    let request = exchanged(&caller, chrono::Utc::now().timestamp())?;
    let token = state.tokens.mint(request).await.map_err(|e| {
        tracing::error!(error = %e, "exchanged token could not be signed");
        ApiError::internal("the token could not be signed")
    })?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        token,
    )
        .into_response())
}

/// RFC 7662's answer: `active`, and the token's claims when it is active.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntrospectionResponse {
    pub active: bool,
    /// The claims of an active token (scope, client_id, exp, iat, iss, consumer,
    /// authorization_details, …).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// The `token` field of a form body, exactly once.
fn token_field(headers: &HeaderMap, body: &Body) -> ApiResult<String> {
    let is_form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "STD-00415",
            "Unsupported media type",
        )
        .detail("introspection takes a form (Content-Type: application/x-www-form-urlencoded)"));
    }
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body.0)
        .map_err(|e| ApiError::bad_request(format!("the form is malformed: {e}")))?;
    let mut tokens = fields
        .into_iter()
        .filter(|(k, _)| k == "token")
        .map(|(_, v)| v);
    match (tokens.next(), tokens.next()) {
        (Some(token), None) if !token.trim().is_empty() => Ok(token),
        _ => Err(ApiError::invalid_field(
            "STD-00010",
            "token",
            "the form must carry the token once",
        )),
    }
}

#[utoipa::path(post, path = "/authentication/api/v1/introspection", tag = "authentication",
    description = "RFC 7662 introspection of a platform token: `{\"active\": true, …claims}` when it is ours and valid, else `{\"active\": false}`.",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "token=<the token>"),
    security(("bearer" = [])),
    responses((status = 200, body = IntrospectionResponse), (status = 400, body = crate::problem::ProblemBody),
        (status = 401, body = crate::problem::ProblemBody), (status = 415, body = crate::problem::ProblemBody)))]
async fn introspection(
    State(state): State<AppState>,
    _caller: Authenticated,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<axum::Json<IntrospectionResponse>> {
    let token = token_field(&headers, &body)?;
    let claims = match state.tokens.verify_access_token(token.trim()).await {
        Ok(verified) => verified.raw.as_object().cloned(),
        Err(_) => None,
    };
    Ok(axum::Json(IntrospectionResponse {
        active: claims.is_some(),
        claims: claims.unwrap_or_default(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use systembruker_domain::OrgNumber;

    #[test]
    fn only_a_maskinporten_token_is_exchanged_and_never_for_longer() {
        let org = OrgNumber::parse("991825827").unwrap_or_else(|_| unreachable!());
        let caller = Caller {
            scopes: ["a:b".to_string()].into(),
            consumer_org: Some(org),
            client_id: Some("client".into()),
            claims: serde_json::json!({"exp": 1_000_100}),
            ..Caller::default()
        };
        let request = exchanged(&caller, 1_000_000).unwrap_or_else(|_| unreachable!());
        assert_eq!(request.lifetime, 100);
        assert_eq!(request.client_id.as_deref(), Some("client"));
        assert_eq!(request.scopes, vec!["a:b".to_string()]);
        let person = Caller {
            pid: Some(
                systembruker_domain::PersonNumber::parse("14857510098")
                    .unwrap_or_else(|_| unreachable!()),
            ),
            ..caller.clone()
        };
        assert!(exchanged(&person, 1_000_000).is_err());
        assert!(exchanged(&Caller::default(), 1_000_000).is_err());
    }
}
