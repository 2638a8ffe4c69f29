//! Test token tools, only in dev mode (absent otherwise: 404). As the reference's test
//! token generator: tokens without a key or a client, answered as the raw JWT in text.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use systembruker_domain::{OrgNumber, PersonNumber};
use systembruker_token::MintRequest;
use systembruker_token::scopes::split_scopes;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::problem::{ApiError, ApiResult};

pub fn routes(dev: bool) -> OpenApiRouter<AppState> {
    if !dev {
        return OpenApiRouter::new();
    }
    OpenApiRouter::new()
        .routes(routes!(enterprise_token))
        .routes(routes!(personal_token))
        .routes(routes!(admin_token))
}

/// Lifetime of test tokens unless `ttl` says otherwise, in seconds.
const DEFAULT_TTL: u32 = 1800;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct EnterpriseQuery {
    /// The organisation the token is for (`consumer`).
    pub org_no: String,
    /// Scopes, separated by spaces or commas.
    #[serde(default)]
    pub scopes: Option<String>,
    /// Lifetime in seconds (default 1800).
    #[serde(default)]
    pub ttl: Option<u32>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PersonalQuery {
    /// National identity number of a person in the register.
    pub pid: String,
    /// The vendor whose system the person uses (`consumer`), for the vendor APIs that act
    /// for a logged-in person, such as client delegation.
    #[serde(default)]
    pub org: Option<String>,
    #[serde(default)]
    pub scopes: Option<String>,
    #[serde(default)]
    pub ttl: Option<u32>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AdminQuery {
    #[serde(default)]
    pub ttl: Option<u32>,
}

async fn mint(state: &AppState, mut request: MintRequest, ttl: Option<u32>) -> ApiResult<Response> {
    if let Some(ttl) = ttl {
        request.lifetime = ttl.clamp(1, systembruker_token::MAX_ACCESS_TOKEN_LIFETIME);
    }
    let token = state.tokens.mint(request).await.map_err(|e| {
        tracing::error!(error = %e, "test token could not be signed");
        ApiError::internal("the token could not be signed")
    })?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        token,
    )
        .into_response())
}

#[utoipa::path(get, path = "/testtools/api/GetEnterpriseToken", tag = "testtools",
    params(EnterpriseQuery),
    responses((status = 200, description = "The token (JWT) as text", content_type = "text/plain", body = String),
        (status = 400, body = crate::problem::ProblemBody)))]
async fn enterprise_token(
    State(state): State<AppState>,
    Query(query): Query<EnterpriseQuery>,
) -> ApiResult<Response> {
    let org = OrgNumber::parse(&query.org_no).map_err(|e| ApiError::invalid_id("orgNo", &e))?;
    let scopes = split_scopes(query.scopes.as_deref().unwrap_or(""));
    let mut request = MintRequest::enterprise(org, scopes);
    request.lifetime = DEFAULT_TTL;
    mint(&state, request, query.ttl).await
}

#[utoipa::path(get, path = "/testtools/api/GetPersonalToken", tag = "testtools",
    params(PersonalQuery),
    responses((status = 200, description = "The token (JWT) as text", content_type = "text/plain", body = String),
        (status = 400, body = crate::problem::ProblemBody), (status = 404, body = crate::problem::ProblemBody)))]
async fn personal_token(
    State(state): State<AppState>,
    Query(query): Query<PersonalQuery>,
) -> ApiResult<Response> {
    let pid = PersonNumber::parse(&query.pid).map_err(|e| ApiError::invalid_id("pid", &e))?;
    let person = state
        .store
        .person(&pid)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("person {pid} is not in the register")))?;
    let scopes = split_scopes(query.scopes.as_deref().unwrap_or(""));
    // The register has no user accounts: the party id doubles as the user id.
    let mut request = MintRequest::person(pid.as_str(), person.id, person.id, scopes);
    if let Some(org) = query.org.as_deref().filter(|o| !o.is_empty()) {
        request.consumer_org =
            Some(OrgNumber::parse(org).map_err(|e| ApiError::invalid_id("org", &e))?);
    }
    mint(&state, request, query.ttl).await
}

#[utoipa::path(get, path = "/testtools/api/GetAdminToken", tag = "testtools",
    params(AdminQuery),
    responses((status = 200, description = "An operator token (systembruker:admin) as text", content_type = "text/plain", body = String)))]
async fn admin_token(
    State(state): State<AppState>,
    Query(query): Query<AdminQuery>,
) -> ApiResult<Response> {
    mint(&state, MintRequest::admin(), query.ttl).await
}
