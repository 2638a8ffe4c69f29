//! Asks for access on SQLite and PostgreSQL: one pending ask per person, party and thing,
//! kept by the database; an answer once; the history.
#![allow(clippy::unwrap_used)]

use systembruker_domain::party::{NewParty, NewPartyKind};
use systembruker_domain::{OrgNumber, PersonNumber};
use systembruker_storage::{
    AccessAsk, AccessAskStore, AskFilter, AskStatus, AskedThing, HistoryFilter, HistoryStore,
    RegisterStore, SqlStore, StoreError,
};
use uuid::Uuid;

systembruker_storage::storage_tests!(
    an_ask_round_trips_and_is_answered_once,
    a_thing_is_asked_once_while_pending,
);

const ORG: Uuid = Uuid::from_u128(0x100);
const OLA: Uuid = Uuid::from_u128(0x202);

async fn seed(store: &SqlStore) {
    store
        .import_parties(&[
            NewParty {
                uuid: Some(ORG),
                id: None,
                name: "Rør og Vann AS".into(),
                kind: NewPartyKind::Organization {
                    org_number: OrgNumber::parse("315000009").unwrap(),
                    unit_type: Some("AS".into()),
                    unit_status: None,
                    main_unit: None,
                },
            },
            NewParty {
                uuid: Some(OLA),
                id: None,
                name: "Ola Nordmann".into(),
                kind: NewPartyKind::Person {
                    person_number: PersonNumber::parse("02889010080").unwrap(),
                },
            },
        ])
        .await
        .unwrap();
}

fn ask(things: Vec<AskedThing>) -> AccessAsk {
    AccessAsk {
        id: Uuid::new_v4(),
        person: OLA,
        party: ORG,
        things,
        status: AskStatus::Pending,
        created_at: 1_000,
        answered_by: None,
        answered_at: None,
    }
}

fn package(code: &str) -> AskedThing {
    AskedThing::Package { code: code.into() }
}

fn right() -> AskedThing {
    AskedThing::Right {
        resource_id: "ske-krav-og-betalinger".into(),
        action: "read".into(),
    }
}

async fn an_ask_round_trips_and_is_answered_once(store: SqlStore) {
    seed(&store).await;
    let sent = ask(vec![package("tilgangsstyrer"), right()]);
    store.create_ask(&sent).await.unwrap();
    let read = store.ask(sent.id).await.unwrap().unwrap();
    assert_eq!(read, sent);
    let pending = AskFilter {
        party: Some(ORG),
        status: Some(AskStatus::Pending),
        ..AskFilter::default()
    };
    assert_eq!(store.asks(&pending).await.unwrap(), vec![sent.clone()]);

    assert!(
        store
            .answer_ask(sent.id, AskStatus::Granted, "userId:1", 2_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .answer_ask(sent.id, AskStatus::Declined, "userId:1", 3_000)
            .await
            .unwrap(),
        "answered once"
    );
    let answered = store.ask(sent.id).await.unwrap().unwrap();
    assert_eq!(answered.status, AskStatus::Granted);
    assert_eq!(answered.answered_by.as_deref(), Some("userId:1"));
    assert_eq!(answered.answered_at, Some(2_000));
    assert!(store.asks(&pending).await.unwrap().is_empty());

    let history = store
        .history(&HistoryFilter {
            entity: Some("access_ask".into()),
            entity_id: Some(sent.id.to_string()),
            limit: 10,
            ..HistoryFilter::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["asked", "granted"]);
}

async fn a_thing_is_asked_once_while_pending(store: SqlStore) {
    seed(&store).await;
    let first = ask(vec![right()]);
    store.create_ask(&first).await.unwrap();
    // The same right again (with another thing): refused, and nothing of it stored.
    let again = ask(vec![package("skatt-naering"), right()]);
    let refused = store.create_ask(&again).await.unwrap_err();
    assert!(matches!(refused, StoreError::Conflict(_)), "{refused:?}");
    assert!(store.ask(again.id).await.unwrap().is_none());
    // Once answered, it may be asked again.
    store
        .answer_ask(first.id, AskStatus::Declined, "userId:1", 2_000)
        .await
        .unwrap();
    store.create_ask(&again).await.unwrap();
    let mine = AskFilter {
        person: Some(OLA),
        ..AskFilter::default()
    };
    assert_eq!(store.asks(&mine).await.unwrap().len(), 2);
}
