//! The firm's clients as lists: all of them, those that provide every package of an
//! agent (and what adding each would delegate), and those an agent has. A firm may have
//! 20,000 clients, so the lists are cached while the facts counter stands still.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::future::Future;
use std::sync::Arc;

use systembruker_domain::clients::{
    ClientRelation, ProvidedPackage, plan_client, plan_self, provided_packages,
};
use systembruker_storage::{
    ClientCandidate, DelegatedClient, NewClientDelegation, StoreResult, StoredSystemUser,
    VersionedCache,
};
use uuid::Uuid;

use super::catalogue_mismatch;
use crate::{App, AppResult};

/// Lists keyed by a firm or an agent, each tagged with the facts counter it was read at:
/// a firm with 20,000 clients is listed from memory until a role, a delegation or a
/// party's name changes anywhere (the counter then moves).
pub type ListCache<T> = VersionedCache<Uuid, Arc<Vec<T>>>;

/// Entries kept in each client-list cache; past this it starts over.
pub(crate) const CACHED_LISTS: usize = 1024;

/// A client's (organisation form, relations): clients of one shape provide the same.
type Shape<'c> = (Option<&'c str>, &'c [ClientRelation]);

fn shape_of(candidate: &ClientCandidate) -> Shape<'_> {
    (candidate.unit_type.as_deref(), &candidate.relations)
}

/// What each shape among `candidates` would delegate of the agent's packages (`None`:
/// it lacks one). Thousands of clients share a handful of shapes, so the catalogue is
/// asked once per shape, not once per client.
fn plans_by_shape<'c>(
    app: &App,
    agent: &StoredSystemUser,
    candidates: &'c [ClientCandidate],
) -> AppResult<HashMap<Shape<'c>, Option<Vec<ProvidedPackage>>>> {
    let mut plans = HashMap::new();
    for candidate in candidates {
        if let Entry::Vacant(slot) = plans.entry(shape_of(candidate)) {
            let (unit_type, relations) = *slot.key();
            let plan = plan_client(app.catalogue, unit_type, relations, &agent.access_packages)
                .map_err(catalogue_mismatch)?
                .ok();
            slot.insert(plan);
        }
    }
    Ok(plans)
}

/// The firm's clients that provide *every* package of the agent.
pub async fn available_clients(
    app: &App,
    agent: &StoredSystemUser,
) -> AppResult<Vec<ClientCandidate>> {
    Ok(available_plans(app, agent)
        .await?
        .into_iter()
        .map(|(candidate, _)| candidate)
        .collect())
}

/// The firm's clients that provide every package of the agent, each with what adding it
/// would delegate: the portal's "add all" plans thousands of clients from one list
/// instead of asking [`super::plan_for`] once per client.
pub async fn available_plans(
    app: &App,
    agent: &StoredSystemUser,
) -> AppResult<Vec<(ClientCandidate, NewClientDelegation)>> {
    let candidates = firm_clients(app, agent.owner_party_uuid).await?;
    let plans = plans_by_shape(app, agent, &candidates)?;
    Ok(candidates
        .iter()
        .filter_map(|candidate| {
            let packages = plans.get(&shape_of(candidate))?.as_ref()?;
            let plan = NewClientDelegation {
                client: candidate.party,
                packages: packages.clone(),
            };
            Some((candidate.clone(), plan))
        })
        .collect())
}

/// Whether the firm could add itself to the agent: every package is assignable.
pub fn self_possible(app: &App, agent: &StoredSystemUser) -> AppResult<bool> {
    Ok(plan_self(app.catalogue, &agent.access_packages)
        .map_err(catalogue_mismatch)?
        .is_some())
}

/// `key`'s entry of `cache` while the facts counter stands still, else `load`ed anew.
/// The counter is read before loading, so an entry is never tagged newer than it is.
async fn versioned<T, Load>(
    app: &App,
    cache: &ListCache<T>,
    key: Uuid,
    load: Load,
) -> AppResult<Arc<Vec<T>>>
where
    Load: Future<Output = StoreResult<Vec<T>>>,
{
    let version = app.store.authz_versions().await?.facts;
    if let Some(entry) = cache.get(&key, version) {
        return Ok(entry);
    }
    let entry = Arc::new(load.await?);
    cache.put(key, version, entry.clone());
    Ok(entry)
}

/// Every client of `firm` (cached; every change of roles, delegations or party names
/// moves the facts counter).
pub async fn firm_clients(app: &App, firm: Uuid) -> AppResult<Arc<Vec<ClientCandidate>>> {
    versioned(app, &app.client_lists, firm, app.store.clients_of(firm)).await
}

/// The clients delegated to the agent (cached; every change of `client_delegations`
/// moves the facts counter).
pub async fn agent_clients(app: &App, agent: Uuid) -> AppResult<Arc<Vec<DelegatedClient>>> {
    versioned(
        app,
        &app.delegated_lists,
        agent,
        app.store.delegated_clients(agent),
    )
    .await
}

/// Every client of `firm` that provides all of `wanted` (catalogue codes), each with the
/// delegable packages it provides (as codes).
pub async fn clients_providing(
    app: &App,
    firm: Uuid,
    wanted: &[String],
) -> AppResult<Vec<(ClientCandidate, Vec<String>)>> {
    let mut out = Vec::new();
    for candidate in firm_clients(app, firm).await?.iter() {
        let provided = provided_packages(
            app.catalogue,
            candidate.unit_type.as_deref(),
            &candidate.relations,
        )
        .map_err(catalogue_mismatch)?;
        let packages: Vec<String> = provided.into_iter().map(|p| p.package).collect();
        if wanted.iter().all(|w| packages.contains(w)) {
            out.push((candidate.clone(), packages));
        }
    }
    Ok(out)
}
