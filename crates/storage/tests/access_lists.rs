//! Access lists: lists, members, resource connections, the PDP's two reads and the
//! history, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

use systembruker_domain::OrgNumber;
use systembruker_domain::party::{NewParty, NewPartyKind};
use systembruker_storage::{
    AccessListStore, Actor, HistoryFilter, HistoryStore, ListKey, MemberChange, RegisterStore,
    SqlStore,
};
use uuid::Uuid;

systembruker_storage::storage_tests!(
    a_list_is_created_then_updated_and_both_are_in_the_history,
    members_are_added_removed_and_replaced_keeping_their_since,
    a_connection_carries_its_action_filter_and_the_pdp_reads_it,
    deleting_a_list_removes_its_members_and_connections,
    a_member_must_be_a_registered_party,
);

const BANK: Uuid = Uuid::from_u128(0x501);
const SHOP: Uuid = Uuid::from_u128(0x502);
const FARM: Uuid = Uuid::from_u128(0x503);

const LIST: ListKey<'static> = ListKey {
    owner: "skd",
    identifier: "godkjente-banker",
};

fn org(uuid: Uuid, number: &str) -> NewParty {
    NewParty {
        uuid: Some(uuid),
        id: None,
        name: format!("org {number}"),
        kind: NewPartyKind::Organization {
            org_number: OrgNumber::parse(number).unwrap(),
            unit_type: Some("AS".into()),
            unit_status: None,
            main_unit: None,
        },
    }
}

async fn seed(store: &SqlStore) -> Actor {
    store
        .import_parties(&[
            org(BANK, "315000009"),
            org(SHOP, "315200008"),
            org(FARM, "315100003"),
        ])
        .await
        .unwrap();
    let actor = Actor::named("org:974761076");
    store
        .upsert_access_list(LIST, "Godkjente banker", "Banker", &actor)
        .await
        .unwrap();
    actor
}

async fn history_actions(store: &SqlStore) -> Vec<String> {
    let filter = HistoryFilter {
        entity: Some("access_list".into()),
        entity_id: Some("skd/godkjente-banker".into()),
        after: 0,
        limit: 100,
    };
    store
        .history(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

async fn a_list_is_created_then_updated_and_both_are_in_the_history(store: SqlStore) {
    let actor = Actor::named("org:974761076");
    let (created, is_new) = store
        .upsert_access_list(LIST, "Banker", "", &actor)
        .await
        .unwrap();
    assert!(is_new);
    assert_eq!(created.version, 1);
    let (updated, is_new) = store
        .upsert_access_list(LIST, "Godkjente banker", "Nye", &actor)
        .await
        .unwrap();
    assert!(!is_new);
    assert_eq!(
        (updated.id, updated.version, updated.name.as_str()),
        (created.id, 2, "Godkjente banker")
    );
    assert_eq!(store.access_lists("skd").await.unwrap(), vec![updated]);
    assert!(store.access_lists("ttd").await.unwrap().is_empty());
    assert_eq!(history_actions(&store).await, ["created", "updated"]);
}

async fn members_are_added_removed_and_replaced_keeping_their_since(store: SqlStore) {
    let actor = seed(&store).await;
    let list = store
        .change_access_list_members(LIST, MemberChange::Add, &[BANK, SHOP], &actor)
        .await
        .unwrap();
    assert_eq!(list.version, 2);
    let members = store.access_list_members(list.id).await.unwrap();
    assert_eq!(
        members.iter().map(|m| m.party).collect::<Vec<_>>(),
        [BANK, SHOP]
    );
    assert_eq!(members[0].org_number.as_deref(), Some("315000009"));
    let bank_since = members[0].since;
    // Adding again changes nothing; removing one that is not there neither.
    store
        .change_access_list_members(LIST, MemberChange::Add, &[BANK], &actor)
        .await
        .unwrap();
    store
        .change_access_list_members(LIST, MemberChange::Remove, &[SHOP, FARM], &actor)
        .await
        .unwrap();
    let members = store.access_list_members(list.id).await.unwrap();
    assert_eq!(members.iter().map(|m| m.party).collect::<Vec<_>>(), [BANK]);
    store
        .change_access_list_members(LIST, MemberChange::Replace, &[FARM, BANK], &actor)
        .await
        .unwrap();
    let members = store.access_list_members(list.id).await.unwrap();
    assert_eq!(
        members.iter().map(|m| m.party).collect::<Vec<_>>(),
        [BANK, FARM]
    );
    assert_eq!(
        members[0].since, bank_since,
        "a member that stays keeps its since"
    );
    assert_eq!(
        store.access_list_memberships(FARM).await.unwrap(),
        ["skd:godkjente-banker"]
    );
    assert!(
        store
            .access_list_memberships(SHOP)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        history_actions(&store).await,
        [
            "created",
            "members_added",
            "members_added",
            "members_removed",
            "members_replaced"
        ]
    );
    let missing = ListKey {
        owner: "skd",
        identifier: "finnes-ikke",
    };
    let err = store
        .change_access_list_members(missing, MemberChange::Add, &[BANK], &actor)
        .await
        .unwrap_err();
    assert!(matches!(err, systembruker_storage::StoreError::NotFound(_)));
}

async fn a_connection_carries_its_action_filter_and_the_pdp_reads_it(store: SqlStore) {
    let actor = seed(&store).await;
    store
        .change_access_list_members(LIST, MemberChange::Add, &[BANK], &actor)
        .await
        .unwrap();
    let (_, connection) = store
        .upsert_access_list_connection(LIST, "ske-krav", &["read".to_string()], &actor)
        .await
        .unwrap();
    assert_eq!(connection.actions, ["read"]);
    assert_eq!(
        store.access_list_filters("ske-krav", BANK).await.unwrap(),
        vec![vec!["read".to_string()]]
    );
    assert!(
        store
            .access_list_filters("ske-krav", SHOP)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .access_list_filters("other", BANK)
            .await
            .unwrap()
            .is_empty()
    );
    // Replacing the filter keeps one connection; an empty filter lets every action in.
    let (list, _) = store
        .upsert_access_list_connection(LIST, "ske-krav", &[], &actor)
        .await
        .unwrap();
    assert_eq!(
        store.access_list_connections(list.id).await.unwrap().len(),
        1
    );
    assert_eq!(
        store.access_list_filters("ske-krav", BANK).await.unwrap(),
        vec![Vec::<String>::new()]
    );
    let removed = store
        .delete_access_list_connection(LIST, "ske-krav", &actor)
        .await
        .unwrap();
    assert!(removed.is_some());
    assert!(
        store
            .delete_access_list_connection(LIST, "ske-krav", &actor)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .access_list_filters("ske-krav", BANK)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn deleting_a_list_removes_its_members_and_connections(store: SqlStore) {
    let actor = seed(&store).await;
    let list = store
        .change_access_list_members(LIST, MemberChange::Add, &[BANK], &actor)
        .await
        .unwrap();
    store
        .upsert_access_list_connection(LIST, "ske-krav", &[], &actor)
        .await
        .unwrap();
    let deleted = store.delete_access_list(LIST, &actor).await.unwrap();
    assert_eq!(deleted.map(|l| l.id), Some(list.id));
    assert!(store.access_list(LIST).await.unwrap().is_none());
    assert!(store.access_list_members(list.id).await.unwrap().is_empty());
    assert!(
        store
            .access_list_filters("ske-krav", BANK)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .delete_access_list(LIST, &actor)
            .await
            .unwrap()
            .is_none()
    );
    let actions = history_actions(&store).await;
    assert_eq!(actions.last().map(String::as_str), Some("deleted"));
    // Recreated under the same name, it is a new list.
    let (again, is_new) = store
        .upsert_access_list(LIST, "Igjen", "", &actor)
        .await
        .unwrap();
    assert!(is_new && again.id != list.id);
}

async fn a_member_must_be_a_registered_party(store: SqlStore) {
    let actor = seed(&store).await;
    let unknown = Uuid::from_u128(0x999);
    let err = store
        .change_access_list_members(LIST, MemberChange::Add, &[unknown], &actor)
        .await
        .unwrap_err();
    assert!(
        matches!(err, systembruker_storage::StoreError::Invalid(_)),
        "{err}"
    );
    let list = store.access_list(LIST).await.unwrap().unwrap();
    assert_eq!(list.version, 1, "nothing changed");
}
