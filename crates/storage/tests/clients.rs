//! Client delegations of agent system users and their cascade, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

use systembruker_domain::clients::{ClientRelation, ProvidedPackage};
use systembruker_storage::{
    Actor, ClientDelegationStore, DelegationStore, HistoryFilter, HistoryStore,
    NewClientDelegation, PipStore, RegisterStore, SqlStore, StoreError, SystemUserStore,
};
use uuid::Uuid;

mod common;
use common::*;

systembruker_storage::storage_tests!(
    clients_are_listed_with_their_relations,
    removing_the_role_cascades_to_every_agent,
    revoking_the_delegation_cascades,
    a_delegation_needs_a_live_relation,
    deleting_the_agent_removes_its_clients,
    explicit_removal_names_the_actor,
    renaming_a_client_moves_the_facts_counter,
);

fn actor(name: &str) -> Actor {
    Actor::named(name)
}

fn via_role(client: Uuid) -> NewClientDelegation {
    NewClientDelegation {
        client,
        packages: vec![ProvidedPackage {
            package: PACKAGE.into(),
            via: Some(ClientRelation::Role("regnskapsforer".into())),
        }],
    }
}

fn via_package(client: Uuid) -> NewClientDelegation {
    NewClientDelegation {
        client,
        packages: vec![ProvidedPackage {
            package: PACKAGE.into(),
            via: Some(ClientRelation::Package(PACKAGE.into())),
        }],
    }
}

/// The packages the agent holds for `client`, as the PDP's PIP sees them.
async fn packages_for(store: &SqlStore, user: Uuid, client: Uuid) -> Vec<String> {
    let facts = store.subject_facts(user, client).await.unwrap();
    facts
        .facts
        .delegations()
        .iter()
        .filter(|d| d.to == user && d.from == client)
        .map(|d| d.package.clone())
        .collect()
}

async fn clients_are_listed_with_their_relations(store: SqlStore) {
    let setup = setup(&store).await;
    let clients = store.clients_of(setup.firm).await.unwrap();
    let names: Vec<&str> = clients.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Bakeriet Brød AS", "Rør og Vann AS"]);
    assert_eq!(
        clients[0].relations,
        [ClientRelation::Package(PACKAGE.into())]
    );
    assert_eq!(
        clients[1].relations,
        [ClientRelation::Role("regnskapsforer".into())]
    );
    assert_eq!(clients[1].org_number, CLIENT_A);
    let one = store.client_of(setup.firm, setup.client_a).await.unwrap();
    assert_eq!(one.map(|c| c.party), Some(setup.client_a));
    // The firm is nobody's client, and a non-client is not found.
    assert!(
        store
            .client_of(setup.client_a, setup.firm)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.clients_of(setup.client_b).await.unwrap().is_empty());
}

async fn removing_the_role_cascades_to_every_agent(store: SqlStore) {
    let setup = setup(&store).await;
    let first = agent(&store, setup.firm, "first").await.unwrap();
    let second = agent(&store, setup.firm, "second").await.unwrap();
    for user in [first, second] {
        let added = store
            .add_clients(
                user,
                setup.firm,
                &[via_role(setup.client_a)],
                &actor("tina"),
            )
            .await
            .unwrap();
        assert_eq!(added, 1);
        assert_eq!(packages_for(&store, user, setup.client_a).await, [PACKAGE]);
    }
    // Adding again changes nothing.
    let again = store
        .add_clients(
            first,
            setup.firm,
            &[via_role(setup.client_a)],
            &actor("tina"),
        )
        .await
        .unwrap();
    assert_eq!(again, 0);
    let before = store.authz_versions().await.unwrap();
    assert!(
        store
            .remove_role(setup.client_a, setup.firm, "regnskapsforer", "operator")
            .await
            .unwrap()
    );
    assert!(store.authz_versions().await.unwrap().facts > before.facts);
    for user in [first, second] {
        assert!(store.delegated_clients(user).await.unwrap().is_empty());
        assert!(packages_for(&store, user, setup.client_a).await.is_empty());
        let history = store
            .history(&HistoryFilter {
                entity: Some("system_user".into()),
                entity_id: Some(user.to_string()),
                limit: 1000,
                ..HistoryFilter::default()
            })
            .await
            .unwrap();
        let removal = history
            .iter()
            .find(|h| h.action == "client_removed")
            .expect("the cascade is recorded");
        assert_eq!(removal.actor, "platform (cascade)");
        let before = removal.before.as_ref().unwrap();
        assert_eq!(before["client"], setup.client_a.to_string());
        assert_eq!(before["viaRole"], "regnskapsforer");
        assert_eq!(before["reason"], "the client relation ended");
    }
}

async fn revoking_the_delegation_cascades(store: SqlStore) {
    let setup = setup(&store).await;
    let user = agent(&store, setup.firm, "b2b").await.unwrap();
    store
        .add_clients(
            user,
            setup.firm,
            &[via_package(setup.client_b), via_role(setup.client_a)],
            &actor("tina"),
        )
        .await
        .unwrap();
    let clients = store.delegated_clients(user).await.unwrap();
    assert_eq!(clients.len(), 2);
    assert!(
        store
            .remove_package_delegation(setup.client_b, setup.firm, PACKAGE, "bernt")
            .await
            .unwrap()
    );
    let left: Vec<Uuid> = store
        .delegated_clients(user)
        .await
        .unwrap()
        .iter()
        .map(|c| c.client)
        .collect();
    assert_eq!(left, [setup.client_a]);
    assert!(packages_for(&store, user, setup.client_b).await.is_empty());
}

async fn a_delegation_needs_a_live_relation(store: SqlStore) {
    let setup = setup(&store).await;
    let user = agent(&store, setup.firm, "none").await.unwrap();
    // Client B never gave the firm REGN: the foreign key refuses the row, and the
    // batch is all or nothing, so client A is not added either.
    let result = store
        .add_clients(
            user,
            setup.firm,
            &[via_role(setup.client_a), via_role(setup.client_b)],
            &actor("tina"),
        )
        .await;
    assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");
    assert!(store.delegated_clients(user).await.unwrap().is_empty());
}

async fn deleting_the_agent_removes_its_clients(store: SqlStore) {
    let setup = setup(&store).await;
    let user = agent(&store, setup.firm, "gone").await.unwrap();
    store
        .add_clients(
            user,
            setup.firm,
            &[via_role(setup.client_a)],
            &actor("tina"),
        )
        .await
        .unwrap();
    assert!(
        store
            .delete_system_user(user, &actor("tina"))
            .await
            .unwrap()
    );
    assert!(store.delegated_clients(user).await.unwrap().is_empty());
    assert!(packages_for(&store, user, setup.client_a).await.is_empty());
    let history = store
        .history(&HistoryFilter {
            entity_id: Some(user.to_string()),
            limit: 1000,
            ..HistoryFilter::default()
        })
        .await
        .unwrap();
    let removal = history
        .iter()
        .find(|h| h.action == "client_removed")
        .expect("recorded");
    assert_eq!(removal.actor, "tina");
}

async fn explicit_removal_names_the_actor(store: SqlStore) {
    let setup = setup(&store).await;
    let user = agent(&store, setup.firm, "explicit").await.unwrap();
    store
        .add_clients(
            user,
            setup.firm,
            &[via_role(setup.client_a)],
            &actor("tina"),
        )
        .await
        .unwrap();
    assert!(
        store
            .remove_client(user, setup.client_a, &actor("tina"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .remove_client(user, setup.client_a, &actor("tina"))
            .await
            .unwrap()
    );
    let history = store
        .history(&HistoryFilter {
            entity_id: Some(user.to_string()),
            limit: 1000,
            ..HistoryFilter::default()
        })
        .await
        .unwrap();
    let actions: Vec<(&str, &str)> = history
        .iter()
        .filter(|h| h.action.starts_with("client_"))
        .map(|h| (h.action.as_str(), h.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        [("client_added", "tina"), ("client_removed", "tina")]
    );
    // The role itself is untouched by removing the client.
    assert_eq!(store.roles_held_by(setup.firm).await.unwrap().len(), 1);
}

async fn renaming_a_client_moves_the_facts_counter(store: SqlStore) {
    setup(&store).await;
    let before = store.authz_versions().await.unwrap().facts;
    // Re-importing unchanged parties leaves the counter alone (PDP caches stay warm) ...
    store
        .import_parties(&[org(CLIENT_A, "Rør og Vann AS")])
        .await
        .unwrap();
    assert_eq!(store.authz_versions().await.unwrap().facts, before);
    // ... a new name moves it, so cached client lists are read again.
    store
        .import_parties(&[org(CLIENT_A, "Rør og Vann Holding AS")])
        .await
        .unwrap();
    assert!(store.authz_versions().await.unwrap().facts > before);
}
