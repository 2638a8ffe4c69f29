//! The vendor's way in: its system calls for a logged-in client administrator with an
//! end-user token that names the vendor (`consumer`, or a client id registered on the
//! agent's system). A vendor only ever reaches the agents of its own systems.

use systembruker_domain::systemuser::SystemUserType;
use systembruker_domain::{OrgNumber, RuleError};
use systembruker_storage::StoredSystemUser;
use uuid::Uuid;

use super::client_administrator;
use crate::access::Action;
use crate::systemusers::org_of;
use crate::{App, AppResult, Caller};

/// Whether the end-user token was issued through the agent's vendor: its `consumer`
/// organisation, or a client id that the agent's system lists (read only when needed).
pub async fn from_agents_vendor(
    app: &App,
    caller: &Caller,
    agent: &StoredSystemUser,
) -> AppResult<bool> {
    if caller
        .consumer_org
        .is_some_and(|org| org.as_str() == agent.vendor_org)
    {
        return Ok(true);
    }
    let Some(client_id) = &caller.client_id else {
        return Ok(false);
    };
    let system = app.store.system(&agent.system_id).await?;
    Ok(system.is_some_and(|s| s.system.client_id.contains(client_id)))
}

/// AUTH-00023 for an end-user token that names no vendor at all.
pub fn require_vendor(caller: &Caller) -> Result<(), RuleError> {
    if caller.consumer_org.is_none() && caller.client_id.is_none() {
        return Err(RuleError::VendorNotInToken {
            hint: "use a token issued through the vendor's client".into(),
        });
    }
    Ok(())
}

/// Why `?agent=` names no agent the vendor may reach. Another vendor's agent is
/// `Unknown` too, so its existence is not revealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentRefusal {
    /// No live system user with this id, or one of another vendor's systems.
    Unknown,
    /// A standard system user, not an agent.
    NotAnAgent,
}

/// The agent `id`, checked against the calling vendor and then the caller's
/// client-administrator standing in the agent's owner (`action` on its clients).
pub async fn vendor_agent(
    app: &App,
    caller: &Caller,
    id: Uuid,
    action: Action,
) -> AppResult<Result<StoredSystemUser, AgentRefusal>> {
    let Some(user) = app.store.system_user(id).await?.filter(|u| !u.is_deleted) else {
        return Ok(Err(AgentRefusal::Unknown));
    };
    require_vendor(caller)?;
    if !from_agents_vendor(app, caller, &user).await? {
        return Ok(Err(AgentRefusal::Unknown));
    }
    if user.user_type != SystemUserType::Agent {
        return Ok(Err(AgentRefusal::NotAnAgent));
    }
    client_administrator(app, caller, user.owner_party_uuid, action).await?;
    Ok(Ok(user))
}

/// The firm's agent system users of the calling vendor's systems, for the firm's
/// client administrator (AUTH-00000 when the firm is not in the register).
pub async fn vendor_agents(
    app: &App,
    caller: &Caller,
    org: &OrgNumber,
) -> AppResult<Vec<StoredSystemUser>> {
    let firm = app
        .store
        .organization(org)
        .await?
        .ok_or_else(|| RuleError::PartyNotInRegister {
            org: org.to_string(),
        })?;
    require_vendor(caller)?;
    client_administrator(app, caller, firm.uuid, Action::Read).await?;
    let mut agents = Vec::new();
    for user in app
        .store
        .system_users_of(&org_of(&firm), SystemUserType::Agent)
        .await?
    {
        if from_agents_vendor(app, caller, &user).await? {
            agents.push(user);
        }
    }
    Ok(agents)
}
