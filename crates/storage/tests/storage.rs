//! The storage suite: every case runs against SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

mod common;

use common::{org, organization, person};
use systembruker_domain::party::{NewPartyKind, PartyKind};
use systembruker_domain::resource::ServiceResource;
use systembruker_domain::{OrgNumber, PersonNumber};
use systembruker_storage::{Constraint, RegisterStore, ResourceStore, SqlStore, StoreError};
use uuid::Uuid;

systembruker_storage::storage_tests!(
    import_creates_then_updates,
    import_is_all_or_nothing,
    sub_unit_may_precede_main_unit,
    roles_are_recorded_as_change_events,
    resources_round_trip_and_refuse_duplicates,
    policy_needs_resource_and_versions,
    concurrent_role_adds_record_one_event,
);

async fn import_creates_then_updates(store: SqlStore) {
    let report = store
        .import_parties(&[
            org("315000009", "Rør og Vann AS"),
            person("14857510098", "Pia"),
        ])
        .await
        .unwrap();
    assert_eq!((report.created, report.updated), (2, 0));
    let first = organization(&store, "315000009").await;
    let report = store
        .import_parties(&[org("315000009", "Rør og Vann AS (renamed)")])
        .await
        .unwrap();
    assert_eq!((report.created, report.updated), (0, 1));
    let again = store.party_by_uuid(first.uuid).await.unwrap().unwrap();
    assert_eq!(again.name, "Rør og Vann AS (renamed)");
    assert_eq!(again.id, first.id, "re-import keeps the party id");
    assert_eq!(
        store.party_by_id(first.id).await.unwrap().unwrap().uuid,
        first.uuid
    );
    let pia = store
        .person(&PersonNumber::parse("14857510098").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(pia.kind, PartyKind::Person { .. }));
    assert_ne!(pia.id, first.id);
}

async fn import_is_all_or_nothing(store: SqlStore) {
    store
        .import_parties(&[org("315000009", "Rør og Vann AS")])
        .await
        .unwrap();
    let existing = organization(&store, "315000009").await;
    // The second party contradicts the stored uuid: nothing of the batch may land.
    let mut clash = org("315000009", "Clash");
    clash.uuid = Some(Uuid::new_v4());
    let err = store
        .import_parties(&[org("315100003", "Tallmakerne AS"), clash])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(
        store
            .organization(&OrgNumber::parse("315100003").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .party_by_uuid(existing.uuid)
            .await
            .unwrap()
            .unwrap()
            .name,
        "Rør og Vann AS"
    );
    assert_eq!(store.party_count().await.unwrap(), 1);
}

async fn sub_unit_may_precede_main_unit(store: SqlStore) {
    let main_uuid = Uuid::new_v4();
    let mut sub = org("315200008", "Bakeriet Brød AS avd. Sentrum");
    if let NewPartyKind::Organization {
        main_unit,
        unit_type,
        ..
    } = &mut sub.kind
    {
        *main_unit = Some(main_uuid);
        *unit_type = Some("BEDR".into());
    }
    let mut main = org("315100003", "Main");
    main.uuid = Some(main_uuid);
    store.import_parties(&[sub, main]).await.unwrap();
    let sub = organization(&store, "315200008").await;
    assert!(
        matches!(sub.kind, PartyKind::Organization { main_unit: Some(m), .. } if m == main_uuid)
    );

    // A main unit that does not exist is refused, and nothing is stored.
    let mut orphan = org("974761076", "Orphan");
    if let NewPartyKind::Organization { main_unit, .. } = &mut orphan.kind {
        *main_unit = Some(Uuid::new_v4());
    }
    assert!(matches!(
        store.import_parties(&[orphan]).await.unwrap_err(),
        StoreError::Invalid(_)
    ));
    assert!(
        store
            .organization(&OrgNumber::parse("974761076").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

async fn roles_are_recorded_as_change_events(store: SqlStore) {
    store
        .import_parties(&[
            org("315000009", "Rør og Vann AS"),
            org("315100003", "Tallmakerne AS"),
            person("14857510098", "Pia"),
        ])
        .await
        .unwrap();
    let rv = organization(&store, "315000009").await;
    let tm = organization(&store, "315100003").await;
    let pia = store
        .person(&PersonNumber::parse("14857510098").unwrap())
        .await
        .unwrap()
        .unwrap();

    assert!(
        store
            .add_role(rv.uuid, pia.uuid, "daglig-leder", "test")
            .await
            .unwrap()
    );
    assert!(
        store
            .add_role(rv.uuid, tm.uuid, "regnskapsforer", "test")
            .await
            .unwrap()
    );
    assert!(
        !store
            .add_role(rv.uuid, tm.uuid, "regnskapsforer", "test")
            .await
            .unwrap()
    );
    let in_rv: Vec<_> = store
        .roles_in(rv.uuid)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.role_code)
        .collect();
    assert_eq!(in_rv.len(), 2);
    assert!(in_rv.contains(&"daglig-leder".to_string()));
    assert_eq!(store.roles_held_by(tm.uuid).await.unwrap().len(), 1);

    assert!(
        store
            .remove_role(rv.uuid, tm.uuid, "regnskapsforer", "operator")
            .await
            .unwrap()
    );
    assert!(
        !store
            .remove_role(rv.uuid, tm.uuid, "regnskapsforer", "operator")
            .await
            .unwrap()
    );
    assert!(store.roles_held_by(tm.uuid).await.unwrap().is_empty());

    let feed = store.role_changes_since(0, 100).await.unwrap();
    let kinds: Vec<_> = feed
        .iter()
        .map(|c| (c.role_code.as_str(), c.kind))
        .collect();
    use systembruker_storage::RoleChangeKind::*;
    assert_eq!(
        kinds,
        [
            ("daglig-leder", Added),
            ("regnskapsforer", Added),
            ("regnskapsforer", Removed)
        ]
    );
    assert!(feed.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(feed[2].changed_by.as_deref(), Some("operator"));
    assert_eq!(
        store
            .role_changes_since(feed[1].seq, 100)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn concurrent_role_adds_record_one_event(store: SqlStore) {
    store
        .import_parties(&[
            org("315000009", "Rør og Vann AS"),
            org("315100003", "Tallmakerne AS"),
        ])
        .await
        .unwrap();
    let rv = organization(&store, "315000009").await;
    let tm = organization(&store, "315100003").await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .add_role(rv.uuid, tm.uuid, "regnskapsforer", "t")
                    .await
            })
        })
        .collect();
    let mut added = 0;
    for t in tasks {
        if t.await.unwrap().unwrap() {
            added += 1;
        }
    }
    assert_eq!(added, 1, "exactly one concurrent add wins");
    assert_eq!(store.role_changes_since(0, 100).await.unwrap().len(), 1);
}

fn demo_resource(id: &str) -> ServiceResource {
    serde_json::from_value(serde_json::json!({
        "identifier": id,
        "title": {"nb": "Krav og betalinger", "nn": "Krav og betalingar", "en": "Claims and payments"},
        "description": {"nb": "a", "nn": "b", "en": "c"},
        "rightDescription": {"nb": "a", "nn": "b", "en": "c"},
        "resourceType": "GenericAccessResource",
        "resourceReferences": [{"reference": "skatteetaten:kravogbetalinger", "referenceType": "MaskinportenScope"}],
        "hasCompetentAuthority": {"organization": "974761076", "orgcode": "skd"}
    }))
    .unwrap()
}

async fn resources_round_trip_and_refuse_duplicates(store: SqlStore) {
    let r = demo_resource("ske-krav-og-betalinger");
    assert_eq!(store.create_resource(&r).await.unwrap().version, 1);
    let taken = store.create_resource(&r).await.unwrap_err();
    assert!(matches!(taken, StoreError::Conflict(_)));
    assert_eq!(taken.constraint(), Some(Constraint::ResourceIdentifier));
    let mut changed = r.clone();
    changed.title.en = Some("Claims".into());
    let stored = store.update_resource(&changed).await.unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(
        store
            .resource("ske-krav-og-betalinger")
            .await
            .unwrap()
            .unwrap()
            .resource,
        changed
    );
    assert!(matches!(
        store
            .update_resource(&demo_resource("nope-nope"))
            .await
            .unwrap_err(),
        StoreError::NotFound(_)
    ));
    store
        .create_resource(&demo_resource("aaaa-first"))
        .await
        .unwrap();
    let ids: Vec<_> = store
        .resources()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.resource.identifier)
        .collect();
    assert_eq!(ids, ["aaaa-first", "ske-krav-og-betalinger"]);
    assert!(store.delete_resource("aaaa-first").await.unwrap());
    assert!(!store.delete_resource("aaaa-first").await.unwrap());
}

async fn policy_needs_resource_and_versions(store: SqlStore) {
    assert!(matches!(
        store
            .put_policy("missing-resource", "<Policy/>")
            .await
            .unwrap_err(),
        StoreError::NotFound(_)
    ));
    store
        .create_resource(&demo_resource("ske-krav-og-betalinger"))
        .await
        .unwrap();
    assert_eq!(
        store
            .put_policy("ske-krav-og-betalinger", "<Policy a='1'/>")
            .await
            .unwrap()
            .version,
        1
    );
    assert_eq!(
        store
            .put_policy("ske-krav-og-betalinger", "<Policy a='2'/>")
            .await
            .unwrap()
            .version,
        2
    );
    let p = store
        .policy("ske-krav-og-betalinger")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((p.xml.as_str(), p.version), ("<Policy a='2'/>", 2));
    assert!(
        store
            .delete_resource("ske-krav-og-betalinger")
            .await
            .unwrap()
    );
    assert!(
        store
            .policy("ske-krav-og-betalinger")
            .await
            .unwrap()
            .is_none()
    );
}
