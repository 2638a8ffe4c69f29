//! `GET /authentication/api/v1/systemuser/agent/{party}/{facilitator}/{systemUserId}/delegations`:
//! the reference's path for the clients of an agent system user, which names the
//! facilitator (the firm, by party uuid) besides the party. The older path without it
//! stays. The rules are `systembruker_app::facilitator`.
//!
//! The reference's query parameters that name the facilitator on the other agent routes
//! (`agent/{party}/clients?facilitator=`, `agent/{party}/{id}?provider=`,
//! `agent/{party}/{id}/client?provider=`, `agent/{party}/{id}?facilitatorId=`) are checked
//! by [`check_named_facilitator`] before those routes run: naming another party than the
//! path's is refused (400), not ignored.

use axum::extract::{Path, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use systembruker_storage::DelegatedClient;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{EndUserScope, Scoped};
use crate::authentication::{parse_id, party_key, timestamp};
use crate::problem::ApiResult;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(delegations))
}

/// A client delegated to an agent system user, with the reference's `customerId` and
/// the client's names.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FacilitatorDelegationDto {
    pub agent_system_user_id: Uuid,
    /// The client's party uuid (the reference's name).
    pub customer_id: Uuid,
    /// The same uuid under the name the older route uses.
    pub client_id: Uuid,
    pub client_organization_number: String,
    pub client_organization_name: String,
    /// The packages delegated for this client, as catalogue codes.
    pub access_packages: Vec<String>,
    pub created: String,
}

impl FacilitatorDelegationDto {
    fn new(agent: Uuid, client: &DelegatedClient) -> Self {
        Self {
            agent_system_user_id: agent,
            customer_id: client.client,
            client_id: client.client,
            client_organization_number: client.org_number.clone(),
            client_organization_name: client.name.clone(),
            access_packages: client.packages.clone(),
            created: timestamp(client.created_at),
        }
    }
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/agent/{party}/{facilitator}/{systemUserId}/delegations",
    tag = "systemuser-clients", operation_id = "agent_delegations_with_facilitator",
    description = "The clients delegated to an agent system user. `facilitator` must be the party's uuid (400 otherwise); the caller must be client administrator of the party.",
    params(("party" = String, Path, description = "The firm: party id or uuid"),
        ("facilitator" = String, Path, description = "The firm's party uuid"),
        ("systemUserId" = String, Path)),
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<FacilitatorDelegationDto>), (status = 400, body = crate::problem::ProblemBody),
        (status = 401, body = crate::problem::ProblemBody), (status = 403, body = crate::problem::ProblemBody),
        (status = 404, body = crate::problem::ProblemBody)))]
async fn delegations(
    State(state): State<AppState>,
    caller: Scoped<EndUserScope>,
    Path((party, facilitator, id)): Path<(String, String, String)>,
) -> ApiResult<axum::Json<Vec<FacilitatorDelegationDto>>> {
    let (agent, clients) = systembruker_app::facilitator::agent_delegations(
        &state.app,
        &caller,
        party_key(&party)?,
        &facilitator,
        parse_id("systemUserId", &id)?,
    )
    .await?;
    Ok(axum::Json(
        clients
            .iter()
            .map(|c| FacilitatorDelegationDto::new(agent.id, c))
            .collect(),
    ))
}

/// The query parameters that name the facilitator (the firm) on the agent routes.
const FACILITATOR_PARAMETERS: [&str; 3] = ["facilitator", "facilitatorId", "provider"];

/// `{party}` of a path under `…/systemuser/agent/{party}/…` with more after it.
fn agent_route_party(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/authentication/api/v1/systemuser/agent/")?;
    let (party, tail) = rest.split_once('/')?;
    (!party.is_empty() && !tail.is_empty()).then_some(party)
}

/// The facilitator parameters a query carries (names as the reference binds them: in
/// any case), with their values.
fn named_facilitators(query: &str) -> Vec<(&'static str, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .filter_map(|(key, value)| {
            FACILITATOR_PARAMETERS
                .iter()
                .find(|name| key.eq_ignore_ascii_case(name))
                .map(|name| (*name, value.into_owned()))
        })
        .collect()
}

/// Refuses an agent route whose query names a facilitator other than the path's party.
/// Calls without a token, or for a party that does not resolve, go on to the route,
/// which answers them as always.
pub(crate) async fn check_named_facilitator(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let named = request
        .uri()
        .query()
        .map(named_facilitators)
        .unwrap_or_default();
    let has_token = request
        .headers()
        .contains_key(axum::http::header::AUTHORIZATION);
    let Some(party) = agent_route_party(path).filter(|_| has_token && !named.is_empty()) else {
        return next.run(request).await;
    };
    let Ok(key) = party_key(party) else {
        return next.run(request).await;
    };
    let Ok(firm) = systembruker_app::systemusers::owner_party(&state.app, key).await else {
        return next.run(request).await;
    };
    for (name, value) in &named {
        if let Err(refused) = systembruker_app::facilitator::same_facilitator(&firm, name, value) {
            return crate::problem::ApiError::from(refused).into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_facilitator_parameters_of_an_agent_route_are_found() {
        assert_eq!(
            agent_route_party("/authentication/api/v1/systemuser/agent/70000004/abc"),
            Some("70000004")
        );
        assert_eq!(
            agent_route_party("/authentication/api/v1/systemuser/agent/70000004"),
            None
        );
        assert_eq!(
            agent_route_party("/authentication/api/v1/systemuser/70000004/abc"),
            None
        );
        assert_eq!(
            named_facilitators("client=x&Provider=a&facilitatorId=b&packages=c"),
            vec![
                ("provider", "a".to_string()),
                ("facilitatorId", "b".to_string())
            ]
        );
    }
}
