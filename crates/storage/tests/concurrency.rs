//! Concurrent writers on SQLite (a file database, as in production) and PostgreSQL:
//! every write succeeds, and an idempotent add records its history once.
#![allow(clippy::unwrap_used)]

use systembruker_domain::clients::{ClientRelation, ProvidedPackage};
use systembruker_storage::{
    Actor, ClientDelegationStore, HistoryFilter, HistoryStore, NewClientDelegation, RegisterStore,
    SqlStore, StoreResult,
};
use tokio::task::JoinSet;
use uuid::Uuid;

mod common;
use common::*;

systembruker_storage::storage_tests!(
    concurrent_read_then_write_transactions_all_succeed,
    concurrent_adds_of_one_client_record_it_once,
);

fn client(client: Uuid, via: ClientRelation) -> NewClientDelegation {
    NewClientDelegation {
        client,
        packages: vec![ProvidedPackage {
            package: PACKAGE.into(),
            via: Some(via),
        }],
    }
}

/// Adds and removes both clients of one agent, `rounds` times: each add reads the
/// agent's clients and then writes in one transaction.
async fn shuffle_clients(store: SqlStore, setup: Setup, user: Uuid) -> StoreResult<()> {
    let clients = [
        client(
            setup.client_a,
            ClientRelation::Role("regnskapsforer".into()),
        ),
        client(setup.client_b, ClientRelation::Package(PACKAGE.into())),
    ];
    let actor = Actor::named("vendor");
    for _ in 0..8 {
        store
            .add_clients(user, setup.firm, &clients, &actor)
            .await?;
        store.remove_client(user, setup.client_a, &actor).await?;
        store.remove_client(user, setup.client_b, &actor).await?;
    }
    Ok(())
}

/// Other writes meanwhile: roles come and go, and new agents are made.
async fn other_writes(store: SqlStore, setup: Setup, n: usize) -> StoreResult<()> {
    for round in 0..8 {
        store
            .add_role(setup.other, setup.firm, "revisor", "test")
            .await?;
        store
            .remove_role(setup.other, setup.firm, "revisor", "test")
            .await?;
        agent(&store, setup.firm, &format!("extra-{n}-{round}")).await?;
    }
    Ok(())
}

async fn concurrent_read_then_write_transactions_all_succeed(store: SqlStore) {
    let setup = setup(&store).await;
    let mut writers = JoinSet::new();
    for n in 0..6 {
        let user = agent(&store, setup.firm, &format!("agent-{n}"))
            .await
            .unwrap();
        writers.spawn(shuffle_clients(store.clone(), setup, user));
        writers.spawn(other_writes(store.clone(), setup, n));
    }
    let mut failures = Vec::new();
    while let Some(done) = writers.join_next().await {
        if let Err(err) = done.unwrap() {
            failures.push(err.to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 12 writers failed: {failures:?}",
        failures.len()
    );
}

async fn concurrent_adds_of_one_client_record_it_once(store: SqlStore) {
    let setup = setup(&store).await;
    let user = agent(&store, setup.firm, "agent").await.unwrap();
    let mut adds = JoinSet::new();
    for _ in 0..50 {
        let store = store.clone();
        let clients = [client(
            setup.client_a,
            ClientRelation::Role("regnskapsforer".into()),
        )];
        adds.spawn(async move {
            store
                .add_clients(user, setup.firm, &clients, &Actor::named("vendor"))
                .await
        });
    }
    let mut added = 0;
    while let Some(done) = adds.join_next().await {
        added += done.unwrap().unwrap();
    }
    assert_eq!(added, 1, "exactly one of the 50 adds delegated the client");
    assert_eq!(store.delegated_clients(user).await.unwrap().len(), 1);
    let history = store
        .history(&HistoryFilter {
            entity: Some("system_user".into()),
            entity_id: Some(user.to_string()),
            after: 0,
            limit: 1000,
        })
        .await
        .unwrap();
    let recorded = history
        .iter()
        .filter(|entry| entry.action == "client_added")
        .count();
    assert_eq!(
        recorded, 1,
        "one client_added row per client that was added"
    );
}
