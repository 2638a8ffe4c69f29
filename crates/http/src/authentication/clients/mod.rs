//! Client delegation for agent system users (docs/rules.md#clients):
//! the firm's client administrator adds the firm's clients to its agent system user, and
//! the agent may then act for each client with the packages the client provides.
//!
//! Two ways in, one set of rules: the end-user routes under `systemuser/agent/{party}/…`
//! (portal style, the party is the firm) and the vendor API under `enduser/systemuser/…`,
//! which the vendor's system calls for a logged-in client administrator with an end-user
//! token carrying `altinn:clientdelegations.read`/`.write` and naming the vendor
//! (`consumer`, or a client id registered on the agent's system). A vendor only ever
//! reaches the agents of its own systems.
//!
//! This file holds what both share; [`party`] serves the end-user routes and the
//! access manager's "the firm itself", [`vendor`] the vendor API. The rules are the
//! application layer's (`systembruker_app::clients`).

mod party;
mod vendor;

use serde::Serialize;
use systembruker_storage::{ClientCandidate, DelegatedClient};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use super::systemusers::SystemUserDto;
use super::{parse_id, party_key, resolve_org_party};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(party::routes())
        .merge(vendor::routes())
}

// ----- the rules, shared by both APIs and the portal -----

/// One client as the APIs show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientDto {
    /// The client's party uuid: what `client=` takes.
    pub client_id: Uuid,
    pub client_organization_number: String,
    pub client_organization_name: String,
}

impl ClientDto {
    fn from_candidate(candidate: &ClientCandidate) -> Self {
        Self {
            client_id: candidate.party,
            client_organization_number: candidate.org_number.clone(),
            client_organization_name: candidate.name.clone(),
        }
    }

    fn from_delegated(client: &DelegatedClient) -> Self {
        Self {
            client_id: client.client,
            client_organization_number: client.org_number.clone(),
            client_organization_name: client.name.clone(),
        }
    }
}
