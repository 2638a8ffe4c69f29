//! The audit of tokens and decisions, on SQLite and PostgreSQL: batches appended, read
//! newest first with filters and keyset pages, never updated, purged by age.
#![allow(clippy::unwrap_used)]

use systembruker_storage::{AuditFilter, AuditKind, AuditStore, NewAuditRecord, SqlStore};
use uuid::Uuid;

systembruker_storage::storage_tests!(
    records_are_read_newest_first_with_filters_and_keyset_pages,
    a_batch_larger_than_one_statement_is_appended_whole,
    records_cannot_be_updated,
    a_decision_record_must_name_its_decision,
    the_purge_removes_only_records_older_than_the_cutoff,
);

const T0: i64 = 1_800_000_000_000;

fn decision(at: i64, user: Uuid, party: Uuid, resource: &str, decision: &str) -> NewAuditRecord {
    NewAuditRecord {
        at,
        kind: AuditKind::Decision,
        system_user_id: Some(user),
        subject: format!("systemuser:{user}"),
        party: Some(party),
        resource: Some(resource.into()),
        action: Some("read".into()),
        decision: Some(decision.into()),
        decided_by: Some(format!("policy:{resource}")),
        caller: "org:991825827".into(),
        client_id: None,
        system_id: None,
        scopes: None,
        jti: None,
    }
}

fn token(at: i64, user: Uuid, party: Uuid) -> NewAuditRecord {
    NewAuditRecord {
        at,
        kind: AuditKind::Token,
        system_user_id: Some(user),
        subject: format!("systemuser:{user}"),
        party: Some(party),
        resource: None,
        action: None,
        decision: None,
        decided_by: None,
        caller: "client:abc".into(),
        client_id: Some("abc".into()),
        system_id: Some("991825827_smartregnskap".into()),
        scopes: Some("skatteetaten:kravogbetalinger".into()),
        jti: Some(Uuid::new_v4().to_string()),
    }
}

fn filter(configure: impl FnOnce(&mut AuditFilter)) -> AuditFilter {
    let mut filter = AuditFilter {
        limit: 100,
        ..AuditFilter::default()
    };
    configure(&mut filter);
    filter
}

async fn records_are_read_newest_first_with_filters_and_keyset_pages(store: SqlStore) {
    let (user, other_user) = (Uuid::new_v4(), Uuid::new_v4());
    let (party, client) = (Uuid::new_v4(), Uuid::new_v4());
    let batch = vec![
        token(T0, user, party),
        decision(T0 + 1, user, party, "r1", "Permit"),
        decision(T0 + 2, user, client, "r1", "Deny"),
        decision(T0 + 3, user, party, "r2", "Permit"),
        decision(T0 + 4, other_user, party, "r1", "Permit"),
    ];
    store.append_audit(&batch).await.unwrap();

    let all = store
        .audit(&filter(|f| f.system_user_id = Some(user)))
        .await
        .unwrap();
    let times: Vec<i64> = all.iter().map(|r| r.record.at).collect();
    assert_eq!(times, [T0 + 3, T0 + 2, T0 + 1, T0]);
    assert_eq!(all[3].record, batch[0], "a record reads back as written");

    let permits_on_r1 = store
        .audit(&filter(|f| {
            f.system_user_id = Some(user);
            f.resource = Some("r1".into());
            f.decision = Some("Permit".into());
        }))
        .await
        .unwrap();
    assert_eq!(permits_on_r1.len(), 1);
    assert_eq!(permits_on_r1[0].record.at, T0 + 1);

    let for_client = store
        .audit(&filter(|f| {
            f.system_user_id = Some(user);
            f.party = Some(client);
        }))
        .await
        .unwrap();
    assert_eq!(for_client.len(), 1);
    assert_eq!(for_client[0].record.decision.as_deref(), Some("Deny"));

    let tokens = store
        .audit(&filter(|f| f.kind = Some(AuditKind::Token)))
        .await
        .unwrap();
    assert_eq!(tokens.len(), 1);

    let in_range = store
        .audit(&filter(|f| {
            f.system_user_id = Some(user);
            f.from = Some(T0 + 1);
            f.to = Some(T0 + 3);
        }))
        .await
        .unwrap();
    let times: Vec<i64> = in_range.iter().map(|r| r.record.at).collect();
    assert_eq!(times, [T0 + 2, T0 + 1], "from is inclusive, to exclusive");

    let first_page = store
        .audit(&filter(|f| {
            f.system_user_id = Some(user);
            f.limit = 3;
        }))
        .await
        .unwrap();
    assert_eq!(first_page.len(), 3);
    let second_page = store
        .audit(&filter(|f| {
            f.system_user_id = Some(user);
            f.limit = 3;
            f.before = Some(first_page[2].seq);
        }))
        .await
        .unwrap();
    assert_eq!(second_page.len(), 1);
    assert_eq!(
        second_page[0].record.at, T0,
        "the next page continues the first"
    );
}

async fn a_batch_larger_than_one_statement_is_appended_whole(store: SqlStore) {
    let (user, party) = (Uuid::new_v4(), Uuid::new_v4());
    let batch: Vec<NewAuditRecord> = (0..450)
        .map(|i| decision(T0 + i, user, party, "r", "Permit"))
        .collect();
    store.append_audit(&batch).await.unwrap();
    let mut seen = 0;
    let mut before = None;
    loop {
        let page = store
            .audit(&filter(|f| {
                f.system_user_id = Some(user);
                f.before = before;
                f.limit = 1000;
            }))
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.seq);
        seen += page.len();
    }
    assert_eq!(seen, 450);
}

async fn records_cannot_be_updated(store: SqlStore) {
    let (user, party) = (Uuid::new_v4(), Uuid::new_v4());
    store
        .append_audit(&[decision(T0, user, party, "r", "Deny")])
        .await
        .unwrap();
    let changed = sqlx::query("UPDATE audit_records SET decision = 'Permit'")
        .execute(store.pool())
        .await;
    assert!(changed.is_err(), "the trigger refuses an update");
    let read = store.audit(&filter(|_| {})).await.unwrap();
    assert_eq!(read[0].record.decision.as_deref(), Some("Deny"));
}

async fn a_decision_record_must_name_its_decision(store: SqlStore) {
    let (user, party) = (Uuid::new_v4(), Uuid::new_v4());
    let mut without = decision(T0, user, party, "r", "Permit");
    without.decision = None;
    assert!(store.append_audit(&[without]).await.is_err());
    let mut unknown = decision(T0, user, party, "r", "Permit");
    unknown.decision = Some("Maybe".into());
    assert!(store.append_audit(&[unknown]).await.is_err());
    let mut token_without_jti = token(T0, user, party);
    token_without_jti.jti = None;
    assert!(store.append_audit(&[token_without_jti]).await.is_err());
    // A refused record takes its whole batch with it: nothing half-written.
    let good = decision(T0, user, party, "r", "Permit");
    let mut bad = good.clone();
    bad.decision = None;
    assert!(store.append_audit(&[good, bad]).await.is_err());
    assert!(store.audit(&filter(|_| {})).await.unwrap().is_empty());
}

async fn the_purge_removes_only_records_older_than_the_cutoff(store: SqlStore) {
    let (user, party) = (Uuid::new_v4(), Uuid::new_v4());
    let batch: Vec<NewAuditRecord> = (0..10)
        .map(|i| decision(T0 + i * 1000, user, party, "r", "Permit"))
        .collect();
    store.append_audit(&batch).await.unwrap();
    assert_eq!(store.purge_audit(T0 + 4000).await.unwrap(), 4);
    let left = store.audit(&filter(|_| {})).await.unwrap();
    assert_eq!(left.len(), 6);
    assert!(left.iter().all(|r| r.record.at >= T0 + 4000));
    assert_eq!(store.purge_audit(T0 + 4000).await.unwrap(), 0);
}
