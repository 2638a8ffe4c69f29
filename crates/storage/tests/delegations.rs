//! Delegations, the PIP's prefetch and the change counters, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

use systembruker_domain::catalogue::{Catalogue, RoleFacts, can_delegate, packages_held};
use systembruker_domain::party::{NewParty, NewPartyKind};
use systembruker_domain::{OrgNumber, PersonNumber};
use systembruker_storage::{
    DelegationFilter, DelegationStore, PipStore, RegisterStore, ResourceRight, ResourceStore,
    SqlStore, StoredPackageDelegation,
};
use uuid::Uuid;

systembruker_storage::storage_tests!(
    package_delegations_round_trip_with_history,
    resource_rights_round_trip,
    pip_prefetches_key_role_and_main_unit_facts,
    every_change_bumps_the_counters,
    a_person_acting_for_themselves_is_privatperson,
);

const MAIN: Uuid = Uuid::from_u128(0x100);
const SUB: Uuid = Uuid::from_u128(0x101);
const FIRM: Uuid = Uuid::from_u128(0x102);
const PIA: Uuid = Uuid::from_u128(0x201);
const OLA: Uuid = Uuid::from_u128(0x202);
const TINA: Uuid = Uuid::from_u128(0x203);

fn org(uuid: Uuid, number: &str, unit_type: &str, main_unit: Option<Uuid>) -> NewParty {
    NewParty {
        uuid: Some(uuid),
        id: None,
        name: format!("org {number}"),
        kind: NewPartyKind::Organization {
            org_number: OrgNumber::parse(number).unwrap(),
            unit_type: Some(unit_type.into()),
            unit_status: None,
            main_unit,
        },
    }
}

fn person(uuid: Uuid, pid: &str) -> NewParty {
    NewParty {
        uuid: Some(uuid),
        id: None,
        name: format!("person {pid}"),
        kind: NewPartyKind::Person {
            person_number: PersonNumber::parse(pid).unwrap(),
        },
    }
}

/// A main unit (AS) with a sub-unit (BEDR); Pia is DAGL of the main unit; Tina is DAGL
/// of an accounting firm that is REGN of the main unit.
async fn seed(store: &SqlStore) {
    store
        .import_parties(&[
            org(MAIN, "315000009", "AS", None),
            org(SUB, "315200008", "BEDR", Some(MAIN)),
            org(FIRM, "315100003", "AS", None),
            person(PIA, "14857510098"),
            person(OLA, "02889010080"),
            person(TINA, "21906810074"),
        ])
        .await
        .unwrap();
    store
        .add_role(MAIN, PIA, "daglig-leder", "t")
        .await
        .unwrap();
    store
        .add_role(FIRM, TINA, "daglig-leder", "t")
        .await
        .unwrap();
    store
        .add_role(MAIN, FIRM, "regnskapsforer", "t")
        .await
        .unwrap();
}

fn delegation(from: Uuid, to: Uuid, package: &str) -> StoredPackageDelegation {
    StoredPackageDelegation {
        from,
        to,
        package_code: package.into(),
        can_delegate: false,
        created_at: 1,
        created_by: "tester".into(),
    }
}

async fn package_delegations_round_trip_with_history(store: SqlStore) {
    seed(&store).await;
    assert!(
        store
            .add_package_delegation(&delegation(MAIN, OLA, "skatt-naering"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .add_package_delegation(&delegation(MAIN, OLA, "skatt-naering"))
            .await
            .unwrap()
    );
    assert!(
        store
            .add_package_delegation(&delegation(MAIN, FIRM, "ansettelsesforhold"))
            .await
            .unwrap()
    );
    let from_main = DelegationFilter {
        from: Some(MAIN),
        ..Default::default()
    };
    assert_eq!(
        store.package_delegations(&from_main).await.unwrap().len(),
        2
    );
    let to_ola = DelegationFilter {
        to: Some(OLA),
        ..Default::default()
    };
    let got = store.package_delegations(&to_ola).await.unwrap();
    assert_eq!(got, vec![delegation(MAIN, OLA, "skatt-naering")]);
    let by_package = DelegationFilter {
        package_code: Some("ansettelsesforhold".into()),
        ..Default::default()
    };
    assert_eq!(
        store.package_delegations(&by_package).await.unwrap()[0].to,
        FIRM
    );
    assert!(
        store
            .remove_package_delegation(MAIN, OLA, "skatt-naering", "tester")
            .await
            .unwrap()
    );
    assert!(
        !store
            .remove_package_delegation(MAIN, OLA, "skatt-naering", "tester")
            .await
            .unwrap()
    );
    assert!(store.package_delegations(&to_ola).await.unwrap().is_empty());
    let history: Vec<(String, String)> = sqlx::query_as(
        "SELECT subject, change FROM delegation_changes WHERE to_party = $1 ORDER BY seq",
    )
    .bind(OLA.to_string())
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(
        history,
        vec![
            ("skatt-naering".to_string(), "added".to_string()),
            ("skatt-naering".to_string(), "removed".to_string())
        ]
    );
    // The giver must exist; the receiver may be any uuid (a system user later).
    let system_user = Uuid::new_v4();
    assert!(
        store
            .add_package_delegation(&delegation(MAIN, system_user, "skatt-naering"))
            .await
            .unwrap()
    );
    assert!(
        store
            .add_package_delegation(&delegation(Uuid::new_v4(), OLA, "skatt-naering"))
            .await
            .is_err()
    );
}

async fn resource_rights_round_trip(store: SqlStore) {
    seed(&store).await;
    let right = ResourceRight {
        from: MAIN,
        to: OLA,
        resource_id: "some-resource".into(),
        action: "read".into(),
        created_at: 5,
        created_by: "tester".into(),
    };
    assert!(store.add_resource_right(&right).await.unwrap());
    assert!(!store.add_resource_right(&right).await.unwrap());
    assert_eq!(
        store.resource_rights(MAIN, OLA).await.unwrap(),
        vec![right.clone()]
    );
    let facts = store.subject_facts(OLA, MAIN).await.unwrap();
    assert!(facts.has_right("some-resource", "READ"));
    assert!(!facts.has_right("some-resource", "write"));
    // A right from the main unit counts for the sub-unit too.
    assert!(
        store
            .subject_facts(OLA, SUB)
            .await
            .unwrap()
            .has_right("some-resource", "read")
    );
    assert!(
        store
            .remove_resource_right(MAIN, OLA, "some-resource", "read", "tester")
            .await
            .unwrap()
    );
    assert!(store.resource_rights(MAIN, OLA).await.unwrap().is_empty());
}

fn codes(store_facts: &dyn RoleFacts, subject: Uuid, org: Uuid) -> Vec<String> {
    packages_held(Catalogue::builtin(), subject, org, store_facts)
        .unwrap()
        .into_iter()
        .map(|h| h.package.code)
        .collect()
}

async fn pip_prefetches_key_role_and_main_unit_facts(store: SqlStore) {
    seed(&store).await;
    store
        .add_package_delegation(&delegation(MAIN, OLA, "skatt-naering"))
        .await
        .unwrap();
    store
        .add_package_delegation(&delegation(MAIN, FIRM, "ansettelsesforhold"))
        .await
        .unwrap();
    // Pia, DAGL: the DAGL packages, for the main unit and (main-unit path) the sub-unit.
    let pia_main = store.subject_facts(PIA, MAIN).await.unwrap();
    assert!(codes(&pia_main, PIA, MAIN).contains(&"skatt-naering".to_string()));
    let pia_sub = store.subject_facts(PIA, SUB).await.unwrap();
    assert_eq!(pia_sub.main_unit, Some(MAIN));
    let check = can_delegate(Catalogue::builtin(), PIA, SUB, "skatt-naering", &pia_sub).unwrap();
    assert!(check.result);
    assert_eq!(check.reasons[0].description, "Direct-RolePackage-MainUnit");
    // Ola: only the delegated package.
    let ola = store.subject_facts(OLA, MAIN).await.unwrap();
    assert_eq!(codes(&ola, OLA, MAIN), vec!["skatt-naering".to_string()]);
    assert!(codes(&store.subject_facts(OLA, FIRM).await.unwrap(), OLA, FIRM).is_empty());
    // Tina: through her key role in the firm, the firm's REGN packages and its delegation.
    let tina = store.subject_facts(TINA, MAIN).await.unwrap();
    let held = codes(&tina, TINA, MAIN);
    for package in [
        "regnskapsforer-med-signeringsrettighet",
        "ansettelsesforhold",
    ] {
        assert!(held.contains(&package.to_string()), "{held:?}");
    }
    let check = can_delegate(
        Catalogue::builtin(),
        TINA,
        MAIN,
        "ansettelsesforhold",
        &tina,
    )
    .unwrap();
    assert!(
        !check.result,
        "a delegation without canDelegate is not passed on"
    );
    // Prefetch is scoped: Tina's facts for the main unit carry no roles given elsewhere.
    assert!(
        tina.facts
            .roles()
            .iter()
            .all(|r| r.to == TINA || r.from == MAIN)
    );
}

async fn every_change_bumps_the_counters(store: SqlStore) {
    seed(&store).await;
    let mut last = store.authz_versions().await.unwrap();
    let mut moved = |now: systembruker_storage::AuthzVersions, facts: bool, what: &str| {
        if facts {
            assert!(
                now.facts > last.facts && now.policies == last.policies,
                "{what}: {last:?} → {now:?}"
            );
        } else {
            assert!(
                now.policies > last.policies && now.facts == last.facts,
                "{what}: {last:?} → {now:?}"
            );
        }
        last = now;
    };
    store
        .remove_role(MAIN, PIA, "daglig-leder", "t")
        .await
        .unwrap();
    moved(store.authz_versions().await.unwrap(), true, "role removed");
    store
        .add_package_delegation(&delegation(MAIN, OLA, "skatt-naering"))
        .await
        .unwrap();
    moved(
        store.authz_versions().await.unwrap(),
        true,
        "package delegated",
    );
    store
        .remove_package_delegation(MAIN, OLA, "skatt-naering", "t")
        .await
        .unwrap();
    moved(
        store.authz_versions().await.unwrap(),
        true,
        "package revoked",
    );
    // Moving a sub-unit to another main unit changes who inherits.
    store
        .import_parties(&[org(SUB, "315200008", "BEDR", Some(FIRM))])
        .await
        .unwrap();
    moved(
        store.authz_versions().await.unwrap(),
        true,
        "main unit changed",
    );
    let resource: systembruker_domain::resource::ServiceResource = serde_json::from_value(serde_json::json!({
        "identifier": "counter-test",
        "title": {"nb": "t", "nn": "t", "en": "t"},
        "description": {"nb": "t", "nn": "t", "en": "t"},
        "rightDescription": {"nb": "t", "nn": "t", "en": "t"},
        "resourceType": "GenericAccessResource",
        "hasCompetentAuthority": {"organization": "974761076", "orgcode": "skd", "name": {"nb": "S", "nn": "S", "en": "S"}}
    }))
    .unwrap();
    store.create_resource(&resource).await.unwrap();
    let after_create = store.authz_versions().await.unwrap();
    last = after_create;
    store.put_policy("counter-test", "<Policy/>").await.unwrap();
    let now = store.authz_versions().await.unwrap();
    assert!(now.policies > last.policies && now.facts == last.facts);
}

async fn a_person_acting_for_themselves_is_privatperson(store: SqlStore) {
    seed(&store).await;
    let own = store.subject_facts(PIA, PIA).await.unwrap();
    let roles: Vec<&str> = own.direct_roles().map(|f| f.role.as_str()).collect();
    assert_eq!(roles, ["privatperson"]);
    assert!(codes(&own, PIA, PIA).contains(&"innbygger-skatteforhold-privatpersoner".to_string()));
    // Not for someone else, and not for an organisation acting for itself.
    assert_eq!(
        store
            .subject_facts(OLA, PIA)
            .await
            .unwrap()
            .direct_roles()
            .count(),
        0
    );
    assert_eq!(
        store
            .subject_facts(MAIN, MAIN)
            .await
            .unwrap()
            .direct_roles()
            .count(),
        0
    );
}
