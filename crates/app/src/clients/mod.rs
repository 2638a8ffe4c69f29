//! Client delegation for agent system users: the firm's client administrator adds the
//! firm's clients to its agent system user, and the agent may then act for each client
//! with the packages the client provides. One set of rules for every way in, split by
//! who asks:
//!
//! - [`lists`]: the firm's view: its clients, those that could be added to an agent,
//!   and those an agent has (cached while the facts counter stands still);
//! - [`delegate`]: adding clients (one, or thousands in batches) and removing them;
//! - [`firm`]: who may read and change the firm's clients, and the access manager's
//!   part: the firm itself as a client of its agent, deleting an agent;
//! - [`vendor`]: the vendor's system calling for a client administrator, which only ever
//!   reaches the agents of its own systems.

pub mod delegate;
pub mod firm;
pub mod lists;
pub mod vendor;

use systembruker_domain::RuleError;
use systembruker_domain::party::Party;
use systembruker_domain::systemuser::SystemUserType;
use systembruker_storage::{StoreError, StoredSystemUser};
use uuid::Uuid;

use crate::{App, AppError, AppResult};

pub use delegate::{add_client, add_clients, plan_for, remove_client};
pub use firm::{
    SelfStatus, add_firm_itself, client_administrator, delete_agent, firm_for_client_admin,
    remove_firm_itself, self_status,
};
pub use lists::{
    ListCache, agent_clients, available_clients, available_plans, clients_providing, firm_clients,
    self_possible,
};
pub use vendor::{AgentRefusal, from_agents_vendor, require_vendor, vendor_agent, vendor_agents};

/// Stored facts the catalogue does not know (a package or role code that was valid when
/// written): our data are at fault, not the caller's request.
pub fn catalogue_mismatch(err: impl std::fmt::Display) -> AppError {
    StoreError::Corrupt(format!("stored data do not match the catalogue: {err}")).into()
}

/// The agent system user `id` of `owner`: AUTH-00015 when the party has no such live
/// user, AUTH-00034 when it is a standard one.
pub async fn owned_agent(app: &App, owner: &Party, id: Uuid) -> AppResult<StoredSystemUser> {
    let user = app
        .store
        .system_user(id)
        .await?
        .filter(|u| !u.is_deleted && u.owner_party_uuid == owner.uuid)
        .ok_or_else(|| RuleError::SystemUserNotFound { id: id.to_string() })?;
    if user.user_type != SystemUserType::Agent {
        return Err(RuleError::ExpectedAgent.into());
    }
    Ok(user)
}
