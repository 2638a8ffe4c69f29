//! The vendor's way in: its system calls for a logged-in client administrator with an
//! end-user token that names the vendor (`consumer`, or a client id registered on the
//! agent's system). A vendor only ever reaches the agents of its own systems.

use systembruker_domain::RuleError;
use systembruker_storage::StoredSystemUser;

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
