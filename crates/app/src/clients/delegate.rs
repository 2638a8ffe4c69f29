//! Adding clients to an agent and removing them. A batch is added all or nothing, so the
//! portal's "add all" sends thousands of clients in batches and retries a refused batch
//! one client at a time.

use systembruker_domain::RuleError;
use systembruker_domain::clients::plan_client;
use systembruker_storage::{NewClientDelegation, StoreError, StoredSystemUser};
use uuid::Uuid;

use super::catalogue_mismatch;
use crate::caller::actor;
use crate::{App, AppResult, Caller};

/// What adding `client` to the agent would delegate: AUTH-00079 when the organisation is
/// not a client of the firm, AUTH-00080 (naming the packages) when it lacks one.
pub async fn plan_for(
    app: &App,
    agent: &StoredSystemUser,
    client: Uuid,
) -> AppResult<NewClientDelegation> {
    let candidate = app
        .store
        .client_of(agent.owner_party_uuid, client)
        .await?
        .ok_or_else(|| RuleError::NotAClient {
            client: client.to_string(),
        })?;
    let plan = plan_client(
        app.catalogue,
        candidate.unit_type.as_deref(),
        &candidate.relations,
        &agent.access_packages,
    )
    .map_err(catalogue_mismatch)?;
    match plan {
        Ok(packages) => Ok(NewClientDelegation { client, packages }),
        Err(missing) => Err(RuleError::ClientLacksPackages {
            client: candidate.name.clone(),
            missing,
        }
        .into()),
    }
}

/// Adds clients to the agent, all or nothing; returns how many were new.
pub async fn add_clients(
    app: &App,
    caller: &Caller,
    agent: &StoredSystemUser,
    plans: &[NewClientDelegation],
) -> AppResult<u64> {
    app.store
        .add_clients(agent.id, agent.owner_party_uuid, plans, &actor(caller))
        .await
        .map_err(|e| match e {
            // A relation ended between the plan and the insert: the foreign key said no.
            StoreError::Invalid(_) => RuleError::ClientRelationEnded.into(),
            other => other.into(),
        })
}

/// Adds one client to the agent with what it provides (see [`plan_for`]).
pub async fn add_client(
    app: &App,
    caller: &Caller,
    agent: &StoredSystemUser,
    client: Uuid,
) -> AppResult<u64> {
    let plan = plan_for(app, agent, client).await?;
    add_clients(app, caller, agent, &[plan]).await
}

/// Removes a client from the agent: AUTH-00038 when it was not delegated.
pub async fn remove_client(
    app: &App,
    caller: &Caller,
    agent: &StoredSystemUser,
    client: Uuid,
) -> AppResult<()> {
    if app
        .store
        .remove_client(agent.id, client, &actor(caller))
        .await?
    {
        Ok(())
    } else {
        Err(RuleError::ClientNotAdded {
            client: client.to_string(),
        }
        .into())
    }
}
