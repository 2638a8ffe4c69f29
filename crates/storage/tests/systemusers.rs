//! Systems, requests, system users, change requests and history, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use systembruker_domain::OrgNumber;
use systembruker_domain::party::{NewParty, NewPartyKind};
use systembruker_domain::system::{AccessPackageRef, RegisteredSystem, Right};
use systembruker_domain::systemuser::{RequestStatus, SystemUserType};
use systembruker_storage::{
    Actor, Approval, Constraint, GrantChanges, Grants, HistoryFilter, HistoryStore, NewSystemUser,
    PipStore, RegisterStore, RequestCreation, ResourceGrant, SqlStore, StoreError,
    StoredChangeRequest, StoredRequest, SystemChangeType, SystemRegisterStore, SystemUserKey,
    SystemUserStore,
};
use uuid::Uuid;

systembruker_storage::storage_tests!(
    systems_keep_ids_and_client_ids_unique,
    deleting_a_system_frees_clients_and_denies_requests,
    reposting_a_request_returns_the_live_one,
    concurrent_request_creates_make_one_request,
    concurrent_approvals_make_one_system_user,
    concurrent_creates_of_one_key_make_one_system_user,
    deleting_a_system_user_revokes_and_frees_the_key,
    timed_out_requests_cannot_be_approved,
    change_requests_apply_their_diff_once,
    history_is_append_only,
);

const VENDOR: &str = "991825827";
const OWNER: &str = "315000009";
const SYSTEM: &str = "991825827_smartregnskap";

fn actor() -> Actor {
    Actor {
        name: "org:991825827".into(),
        org: Some(VENDOR.into()),
        client_id: None,
    }
}

fn system(client_ids: &[&str]) -> RegisteredSystem {
    serde_json::from_value(serde_json::json!({
        "id": SYSTEM,
        "vendor": {"authority": "iso6523-actorid-upis", "ID": "0192:991825827"},
        "name": {"nb": "SmartRegnskap", "nn": "SmartRekneskap", "en": "SmartAccounting"},
        "description": {"nb": "a", "nn": "b", "en": "c"},
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}],
        "accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}],
        "clientId": client_ids,
        "isVisible": true
    }))
    .unwrap()
}

/// The owner organisation in the register, and the system.
async fn setup(store: &SqlStore) -> Uuid {
    store
        .import_parties(&[NewParty {
            uuid: None,
            id: None,
            name: "Rør og Vann AS".into(),
            kind: NewPartyKind::Organization {
                org_number: OrgNumber::parse(OWNER).unwrap(),
                unit_type: Some("AS".into()),
                unit_status: None,
                main_unit: None,
            },
        }])
        .await
        .unwrap();
    store
        .create_system(&system(&["client-1"]), &actor())
        .await
        .unwrap();
    store
        .organization(&OrgNumber::parse(OWNER).unwrap())
        .await
        .unwrap()
        .unwrap()
        .uuid
}

fn key(external_ref: &str) -> SystemUserKey {
    SystemUserKey {
        system_id: SYSTEM.into(),
        org: OWNER.into(),
        external_ref: external_ref.into(),
    }
}

fn request(external_ref: &str) -> StoredRequest {
    StoredRequest {
        id: Uuid::new_v4(),
        user_type: SystemUserType::Standard,
        system_id: SYSTEM.into(),
        party_org: OWNER.into(),
        external_ref: external_ref.into(),
        integration_title: "SmartRegnskap".into(),
        rights: vec![Right::on_resource("ske-krav-og-betalinger")],
        access_packages: vec![],
        redirect_url: None,
        status: RequestStatus::New,
        escalated: false,
        is_deleted: false,
        created_at: 0,
        updated_at: 0,
        changed_by: String::new(),
    }
}

fn new_user(id: Uuid, owner: Uuid, external_ref: &str) -> NewSystemUser {
    NewSystemUser {
        id,
        key: key(external_ref),
        owner_party_uuid: owner,
        integration_title: "SmartRegnskap".into(),
        user_type: SystemUserType::Standard,
        access_packages: vec![],
    }
}

fn grants() -> Grants {
    Grants {
        packages: vec!["skatt-naering".into()],
        rights: vec![ResourceGrant {
            resource_id: "ske-krav-og-betalinger".into(),
            action: "read".into(),
        }],
    }
}

async fn created(store: &SqlStore, external_ref: &str) -> StoredRequest {
    match store
        .create_request(&request(external_ref), &actor())
        .await
        .unwrap()
    {
        RequestCreation::Created(r) => r,
        RequestCreation::Existing(r) => panic!("expected a new request, got {r:?}"),
    }
}

async fn systems_keep_ids_and_client_ids_unique(store: SqlStore) {
    setup(&store).await;
    let again = store.create_system(&system(&["client-2"]), &actor()).await;
    assert!(matches!(&again, Err(StoreError::Conflict(m)) if m.detail.contains("exists already")));
    // The database's rule is named on both backends (PostgreSQL by constraint name,
    // SQLite by the columns of its message).
    assert_eq!(again.unwrap_err().constraint(), Some(Constraint::SystemId));
    let mut other = system(&["client-1"]);
    other.id = "991825827_other".into();
    let taken = store.create_system(&other, &actor()).await;
    assert!(
        matches!(&taken, Err(StoreError::Conflict(m)) if m.detail.contains("client-1")),
        "client id is on one system only"
    );
    assert_eq!(
        taken.unwrap_err().constraint(),
        Some(Constraint::SystemClientId)
    );
    assert_eq!(
        store.system_of_client("client-1").await.unwrap().as_deref(),
        Some(SYSTEM)
    );
    // Updating moves the client ids: client-1 is free afterwards.
    let mut updated = system(&["client-2"]);
    updated.rights.clear();
    store
        .update_system(&updated, SystemChangeType::Update, &actor())
        .await
        .unwrap();
    store.create_system(&other, &actor()).await.unwrap();
    let stored = store.system(SYSTEM).await.unwrap().unwrap();
    assert!(stored.system.rights.is_empty());
    let log = store.system_changelog(SYSTEM).await.unwrap();
    let kinds: Vec<&str> = log.iter().map(|c| c.change_type.as_str()).collect();
    assert_eq!(kinds, ["create", "update"]);
    assert_eq!(log[0].changed_by_org_number.as_deref(), Some(VENDOR));
    assert_eq!(store.systems_by_vendor(VENDOR).await.unwrap().len(), 2);
}

async fn deleting_a_system_frees_clients_and_denies_requests(store: SqlStore) {
    setup(&store).await;
    let open = created(&store, OWNER).await;
    assert!(store.delete_system(SYSTEM, &actor()).await.unwrap());
    assert!(
        !store.delete_system(SYSTEM, &actor()).await.unwrap(),
        "second delete finds nothing"
    );
    assert_eq!(store.system_of_client("client-1").await.unwrap(), None);
    let stored = store.system(SYSTEM).await.unwrap().unwrap();
    assert!(stored.system.is_deleted);
    assert_eq!(
        store.request(open.id).await.unwrap().unwrap().status,
        RequestStatus::Denied
    );
    // The id stays taken; the client id is free for a new system.
    assert!(store.create_system(&system(&[]), &actor()).await.is_err());
    let mut other = system(&["client-1"]);
    other.id = "991825827_next".into();
    store.create_system(&other, &actor()).await.unwrap();
    assert!(
        store
            .visible_systems()
            .await
            .unwrap()
            .iter()
            .all(|s| s.system.id != SYSTEM)
    );
}

async fn reposting_a_request_returns_the_live_one(store: SqlStore) {
    setup(&store).await;
    let first = created(&store, "ref-1").await;
    let RequestCreation::Existing(again) = store
        .create_request(&request("ref-1"), &actor())
        .await
        .unwrap()
    else {
        panic!("a second post of the same key must return the first request");
    };
    assert_eq!(again.id, first.id);
    // A deleted request frees the key.
    assert!(store.delete_request(first.id, &actor()).await.unwrap());
    let next = created(&store, "ref-1").await;
    assert_ne!(next.id, first.id);
    // Agent requests have their own key space.
    let mut agent = request("ref-1");
    agent.user_type = SystemUserType::Agent;
    agent.access_packages = vec![AccessPackageRef::new(
        "regnskapsforer-med-signeringsrettighet",
    )];
    assert!(matches!(
        store.create_request(&agent, &actor()).await.unwrap(),
        RequestCreation::Created(_)
    ));
    let page = store
        .requests_by_system(SYSTEM, SystemUserType::Standard, None, 50)
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
}

async fn concurrent_request_creates_make_one_request(store: SqlStore) {
    setup(&store).await;
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_request(&request("same"), &actor())
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            RequestCreation::Created(r) => {
                created += 1;
                ids.insert(r.id);
            }
            RequestCreation::Existing(r) => {
                ids.insert(r.id);
            }
        }
    }
    assert_eq!(created, 1);
    assert_eq!(ids.len(), 1, "every caller sees the same request");
}

async fn concurrent_approvals_make_one_system_user(store: SqlStore) {
    let owner = setup(&store).await;
    let req = created(&store, OWNER).await;
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let user = new_user(req.id, owner, OWNER);
            tokio::spawn(async move {
                let actor = Actor::named(&format!("userId:{i}"));
                store
                    .approve_request(req.id, &user, &grants(), 0, &actor)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut approved = 0;
    let mut not_new = 0;
    for task in tasks {
        match task.await.unwrap() {
            Approval::Approved(user) => {
                approved += 1;
                assert_eq!(user.id, req.id, "the system user takes the request's id");
            }
            Approval::NotNew => not_new += 1,
            Approval::KeyTaken => panic!("the key was free"),
        }
    }
    assert_eq!((approved, not_new), (1, 7));
    assert_eq!(
        store.request(req.id).await.unwrap().unwrap().status,
        RequestStatus::Accepted
    );
    assert_eq!(
        store
            .system_users_of(OWNER, SystemUserType::Standard)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.system_user_grants(req.id).await.unwrap(), grants());
    // The PIP sees the grants for the owner, and nothing for another party.
    let facts = store.subject_facts(req.id, owner).await.unwrap();
    assert!(facts.has_right("ske-krav-og-betalinger", "read"));
    assert_eq!(facts.facts.delegations().len(), 1);
    let elsewhere = store.subject_facts(req.id, Uuid::new_v4()).await.unwrap();
    assert!(elsewhere.rights.is_empty() && elsewhere.facts.delegations().is_empty());
}

async fn concurrent_creates_of_one_key_make_one_system_user(store: SqlStore) {
    let owner = setup(&store).await;
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let user = new_user(Uuid::new_v4(), owner, OWNER);
                store
                    .create_system_user(&user, &grants(), &actor())
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut outcomes = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Approval::Approved(_) => outcomes.0 += 1,
            Approval::KeyTaken => outcomes.1 += 1,
            Approval::NotNew => panic!("no request involved"),
        }
    }
    assert_eq!(outcomes, (1, 7));
    assert_eq!(
        store
            .system_users_of(OWNER, SystemUserType::Standard)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn deleting_a_system_user_revokes_and_frees_the_key(store: SqlStore) {
    let owner = setup(&store).await;
    let req = created(&store, OWNER).await;
    let Approval::Approved(user) = store
        .approve_request(
            req.id,
            &new_user(req.id, owner, OWNER),
            &grants(),
            0,
            &actor(),
        )
        .await
        .unwrap()
    else {
        panic!("approval failed");
    };
    let found = store
        .system_user_for_client("client-1", VENDOR, OWNER, OWNER)
        .await
        .unwrap();
    assert_eq!(found.map(|u| u.id), Some(user.id));
    for (client, vendor, owner_org, ext) in [
        ("client-2", VENDOR, OWNER, OWNER),
        ("client-1", "974761076", OWNER, OWNER),
        ("client-1", VENDOR, "315200008", OWNER),
        ("client-1", VENDOR, OWNER, "other-ref"),
    ] {
        assert_eq!(
            store
                .system_user_for_client(client, vendor, owner_org, ext)
                .await
                .unwrap(),
            None
        );
    }
    assert!(store.delete_system_user(user.id, &actor()).await.unwrap());
    assert!(!store.delete_system_user(user.id, &actor()).await.unwrap());
    assert_eq!(
        store.system_user_grants(user.id).await.unwrap(),
        Grants::default()
    );
    let facts = store.subject_facts(user.id, owner).await.unwrap();
    assert!(facts.rights.is_empty() && facts.facts.delegations().is_empty());
    assert_eq!(
        store
            .system_user_for_client("client-1", VENDOR, OWNER, OWNER)
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .system_user(user.id)
            .await
            .unwrap()
            .unwrap()
            .is_deleted
    );
    assert!(
        store.request(req.id).await.unwrap().unwrap().is_deleted,
        "the request is released"
    );
    // The same key can be requested and approved again.
    let again = created(&store, OWNER).await;
    let second = store
        .approve_request(
            again.id,
            &new_user(again.id, owner, OWNER),
            &grants(),
            0,
            &actor(),
        )
        .await
        .unwrap();
    assert!(matches!(second, Approval::Approved(_)));
}

async fn timed_out_requests_cannot_be_approved(store: SqlStore) {
    let owner = setup(&store).await;
    let req = created(&store, OWNER).await;
    let cutoff = req.created_at + 1;
    let outcome = store
        .approve_request(
            req.id,
            &new_user(req.id, owner, OWNER),
            &grants(),
            cutoff,
            &actor(),
        )
        .await
        .unwrap();
    assert_eq!(outcome, Approval::NotNew);
    assert_eq!(store.expire_requests(cutoff, &actor()).await.unwrap(), 1);
    assert_eq!(
        store.request(req.id).await.unwrap().unwrap().status,
        RequestStatus::Timedout
    );
    assert_eq!(store.expire_requests(cutoff, &actor()).await.unwrap(), 0);
    assert!(
        !store
            .close_request(req.id, RequestStatus::Rejected, &actor())
            .await
            .unwrap()
    );
}

async fn change_requests_apply_their_diff_once(store: SqlStore) {
    let owner = setup(&store).await;
    let user_id = Uuid::new_v4();
    store
        .create_system_user(&new_user(user_id, owner, OWNER), &grants(), &actor())
        .await
        .unwrap();
    let change = StoredChangeRequest {
        id: Uuid::new_v4(),
        system_user_id: user_id,
        system_id: SYSTEM.into(),
        party_org: OWNER.into(),
        external_ref: OWNER.into(),
        required_rights: vec![],
        unwanted_rights: vec![Right::on_resource("ske-krav-og-betalinger")],
        required_packages: vec![AccessPackageRef::new("regnskap")],
        unwanted_packages: vec![],
        redirect_url: None,
        status: RequestStatus::New,
        is_deleted: false,
        created_at: 0,
        updated_at: 0,
        changed_by: String::new(),
    };
    store
        .create_change_request(&change, &actor())
        .await
        .unwrap();
    assert!(
        store
            .create_change_request(&change, &actor())
            .await
            .is_err(),
        "the id is unique"
    );
    let changes = GrantChanges {
        add: Grants {
            packages: vec!["regnskap".into()],
            rights: vec![],
        },
        remove_packages: vec![],
        remove_resources: vec!["ske-krav-og-betalinger".into()],
    };
    assert!(
        store
            .approve_change_request(change.id, &changes, &actor())
            .await
            .unwrap()
    );
    assert!(
        !store
            .approve_change_request(change.id, &changes, &actor())
            .await
            .unwrap(),
        "only once"
    );
    let held = store.system_user_grants(user_id).await.unwrap();
    assert_eq!(held.packages, ["regnskap", "skatt-naering"]);
    assert!(held.rights.is_empty());
    let stored = store
        .change_request_by_key(&key(OWNER))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, RequestStatus::Accepted);
}

async fn history_is_append_only(store: SqlStore) {
    setup(&store).await;
    let req = created(&store, OWNER).await;
    let rows = store
        .history(&HistoryFilter {
            entity: Some("request".into()),
            entity_id: Some(req.id.to_string()),
            after: 0,
            limit: 100,
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].action, "create");
    assert_eq!(rows[0].actor, "org:991825827");
    assert_eq!(rows[0].after.as_ref().unwrap()["externalRef"], OWNER);
    let all = store
        .history(&HistoryFilter {
            limit: 100,
            ..HistoryFilter::default()
        })
        .await
        .unwrap();
    assert!(
        all.iter()
            .any(|h| h.entity == "system" && h.action == "create")
    );
    for sql in [
        "UPDATE history SET actor = 'someone else'",
        "DELETE FROM history",
    ] {
        let refused = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(store.pool())
            .await;
        let message = refused.unwrap_err().to_string();
        assert!(message.contains("append-only"), "{sql}: {message}");
    }
    let after = store
        .history(&HistoryFilter {
            limit: 100,
            ..HistoryFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(after, all);
}
