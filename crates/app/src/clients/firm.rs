//! The firm's side: who may read and change its clients, and what its access manager
//! does with its agent system users (the firm itself as a client, deleting an agent).

use systembruker_domain::RuleError;
use systembruker_domain::catalogue::can_delegate;
use systembruker_domain::clients::plan_self;
use systembruker_domain::party::Party;
use systembruker_storage::{NewClientDelegation, StoredSystemUser};
use uuid::Uuid;

use super::{add_clients, agent_clients, owned_agent, remove_client, self_possible};
use crate::access::{self, Action, Need, Standing};
use crate::caller::actor;
use crate::systemusers::{PartyKey, owner_party};
use crate::{App, AppError, AppResult, Caller};

/// The PDP must let the logged-in user read (`Action::Read`) or change (`Action::Write`)
/// the firm's clients (`altinn_client_administration`; 403 otherwise).
pub async fn client_administrator(
    app: &App,
    caller: &Caller,
    firm: Uuid,
    action: Action,
) -> AppResult<()> {
    let need = match action {
        Action::Read => Need::ReadClients,
        Action::Write => Need::ManageClients,
    };
    access::require(app, caller, firm, need).await.map(|_| ())
}

/// The firm a route names, for a user who is its client administrator.
pub async fn firm_for_client_admin(
    app: &App,
    caller: &Caller,
    firm: PartyKey,
    action: Action,
) -> AppResult<Party> {
    let firm = owner_party(app, firm).await?;
    client_administrator(app, caller, firm.uuid, action).await?;
    Ok(firm)
}

/// The access manager deletes the firm's agent system user. Every client delegation
/// goes with it (a trigger of the soft delete), and each removal lands in the history.
pub async fn delete_agent(
    app: &App,
    caller: &Caller,
    firm: &Party,
    agent_id: Uuid,
) -> AppResult<()> {
    access::access_manager(app, caller, firm.uuid).await?;
    let agent = owned_agent(app, firm, agent_id).await?;
    if !app
        .store
        .delete_system_user(agent.id, &actor(caller))
        .await?
    {
        return Err(RuleError::SystemUserNotFound {
            id: agent.id.to_string(),
        }
        .into());
    }
    Ok(())
}

/// Whether the firm itself is a "client" of its agent, and whether it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelfStatus {
    /// The firm is added to its own agent.
    pub delegated: bool,
    /// Every package of the agent is assignable, so the firm could add itself.
    pub possible: bool,
}

/// Whether the firm is added to its own agent, and whether it could be.
pub async fn self_status(app: &App, agent: &StoredSystemUser) -> AppResult<SelfStatus> {
    let possible = self_possible(app, agent)?;
    let delegated = agent_clients(app, agent.id)
        .await?
        .iter()
        .any(|c| c.client == agent.owner_party_uuid);
    Ok(SelfStatus {
        delegated,
        possible,
    })
}

/// The user must be able to delegate each of the firm's own packages: giving them to
/// the firm's agent is a delegation like any other (AUTH-00053 otherwise).
fn check_can_delegate_own(app: &App, standing: &Standing, packages: &[String]) -> AppResult<()> {
    for code in packages {
        let check = can_delegate(
            app.catalogue,
            standing.user,
            standing.party,
            code,
            &standing.facts,
        )
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
        if !check.result {
            return Err(RuleError::MayNotDelegatePackage {
                package: code.clone(),
            }
            .into());
        }
    }
    Ok(())
}

/// The firm adds itself to its own agent ("self"): the access manager gives the firm's
/// own packages, which must all be assignable (AUTH-00064) and delegable by the user
/// (AUTH-00053). Returns the agent.
pub async fn add_firm_itself(
    app: &App,
    caller: &Caller,
    firm: &Party,
    agent_id: Uuid,
) -> AppResult<StoredSystemUser> {
    let standing = access::access_manager(app, caller, firm.uuid).await?;
    let agent = owned_agent(app, firm, agent_id).await?;
    let packages = plan_self(app.catalogue, &agent.access_packages)
        .map_err(access::catalogue_mismatch)?
        .ok_or(RuleError::ClientIsTheFirm)?;
    check_can_delegate_own(app, &standing, &agent.access_packages)?;
    let plan = NewClientDelegation {
        client: firm.uuid,
        packages,
    };
    add_clients(app, caller, &agent, &[plan]).await?;
    Ok(agent)
}

/// The access manager takes the firm off its own agent. Returns the agent.
pub async fn remove_firm_itself(
    app: &App,
    caller: &Caller,
    firm: &Party,
    agent_id: Uuid,
) -> AppResult<StoredSystemUser> {
    access::access_manager(app, caller, firm.uuid).await?;
    let agent = owned_agent(app, firm, agent_id).await?;
    remove_client(app, caller, &agent, firm.uuid).await?;
    Ok(agent)
}
