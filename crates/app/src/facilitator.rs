//! The reference's agent routes that name the facilitator (the firm that owns an agent
//! system user) besides the party: `systemuser/agent/{party}/{facilitator}/{id}/delegations`
//! and the `facilitator`/`facilitatorId`/`provider` query parameters. The facilitator is
//! always the party in the path here; naming another one is refused, not ignored
//! (docs/rules.md#clients).

use std::sync::Arc;

use systembruker_domain::party::Party;
use systembruker_storage::{DelegatedClient, StoredSystemUser};
use uuid::Uuid;

use crate::access::{Need, require};
use crate::clients::{agent_clients, owned_agent};
use crate::systemusers::{PartyKey, owner_party};
use crate::{App, AppError, AppResult, Caller};

/// A facilitator named by the caller must be the firm of the path: an agent system user
/// has one facilitator, its owner. `name` is the parameter's name, for the refusal.
pub fn same_facilitator(firm: &Party, name: &str, facilitator: &str) -> AppResult<()> {
    let named = Uuid::parse_str(facilitator.trim()).map_err(|_| {
        AppError::invalid_field(name, format!("{facilitator:?} is not a party uuid"))
    })?;
    if named != firm.uuid {
        return Err(AppError::invalid_field(
            name,
            format!("{named} is not the party of the path: the facilitator is always that party"),
        ));
    }
    Ok(())
}

/// The clients delegated to the firm's agent system user, read by a client
/// administrator of the firm (`read` on `altinn_client_administration`).
pub async fn agent_delegations(
    app: &App,
    caller: &Caller,
    party: PartyKey,
    facilitator: &str,
    agent: Uuid,
) -> AppResult<(StoredSystemUser, Arc<Vec<DelegatedClient>>)> {
    let firm = owner_party(app, party).await?;
    require(app, caller, firm.uuid, Need::ReadClients).await?;
    same_facilitator(&firm, "facilitator", facilitator)?;
    let agent = owned_agent(app, &firm, agent).await?;
    let clients = agent_clients(app, agent.id).await?;
    Ok((agent, clients))
}

#[cfg(test)]
mod tests {
    use super::*;
    use systembruker_domain::OrgNumber;
    use systembruker_domain::party::PartyKind;

    fn firm() -> Party {
        Party {
            uuid: Uuid::from_u128(7),
            id: 70_000_004,
            name: "Tallmakerne AS".into(),
            kind: PartyKind::Organization {
                org_number: OrgNumber::parse("315100003").unwrap_or_else(|_| unreachable!()),
                unit_type: Some("AS".into()),
                unit_status: None,
                main_unit: None,
            },
        }
    }

    #[test]
    fn the_facilitator_must_be_the_party_of_the_path() {
        let firm = firm();
        assert!(same_facilitator(&firm, "facilitator", &firm.uuid.to_string()).is_ok());
        let other = Uuid::from_u128(8).to_string();
        match same_facilitator(&firm, "facilitatorId", &other) {
            Err(AppError::InvalidField { path, message, .. }) => {
                assert_eq!(path, "facilitatorId");
                assert!(message.contains(&other), "{message}");
            }
            other => panic!("not refused: {other:?}"),
        }
        assert!(matches!(
            same_facilitator(&firm, "provider", "not-a-uuid"),
            Err(AppError::InvalidField { .. })
        ));
    }
}
