//! The token service's ports on SQL, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

use systembruker_domain::OrgNumber;
use systembruker_storage::{Backend, SqlStore, testing};
use systembruker_token::PortError;
use systembruker_token::jwk::RsaJwk;
use systembruker_token::ports::{
    Client, ClientKey, ClientRegistry, GrantLookup, RegisteredScope, ReplayGuard, ScopeRegistry,
    SigningKeyStore, StoredSigningKey,
};
use uuid::Uuid;

systembruker_storage::storage_tests!(
    clients_and_keys_round_trip,
    kid_is_unique_across_clients,
    scopes_and_access_lists,
    jti_is_single_use_until_expiry,
    concurrent_jti_has_one_winner,
    a_round_of_jtis_has_one_winner_per_jti,
    signing_keys_round_trip,
);

const SMARTCLOUD: &str = "991825827";
const SKATTEETATEN: &str = "974761076";

fn org(n: &str) -> OrgNumber {
    OrgNumber::parse(n).unwrap()
}

fn client() -> Client {
    Client {
        client_id: Uuid::new_v4(),
        client_name: "SmartCloud".into(),
        description: Some("test".into()),
        consumer_org: org(SMARTCLOUD),
        scopes: vec!["skatteetaten:kravogbetalinger".into()],
        access_token_lifetime: 120,
        created_at: 1,
        updated_at: 1,
    }
}

fn key(client_id: Uuid, kid: &str) -> ClientKey {
    ClientKey {
        kid: kid.into(),
        client_id,
        jwk: RsaJwk {
            kty: "RSA".into(),
            kid: kid.into(),
            key_use: Some("sig".into()),
            alg: None,
            n: "AQAB".into(),
            e: "AQAB".into(),
        },
        created_at: 10,
        expires_at: 20,
    }
}

async fn clients_and_keys_round_trip(store: SqlStore) {
    let mut c = client();
    store.create_client(&c).await.unwrap();
    assert_eq!(store.client(c.client_id).await.unwrap(), Some(c.clone()));
    c.client_name = "Renamed".into();
    c.scopes.push("altinn:systembruker.demo".into());
    store.update_client(&c).await.unwrap();
    assert_eq!(store.clients().await.unwrap(), vec![c.clone()]);
    store
        .add_client_keys(&[key(c.client_id, "k1"), key(c.client_id, "k2")])
        .await
        .unwrap();
    let (found, found_key) = store.client_by_key("k2").await.unwrap().unwrap();
    assert_eq!((found, found_key), (c.clone(), key(c.client_id, "k2")));
    assert!(store.remove_client_key(c.client_id, "k1").await.unwrap());
    assert!(!store.remove_client_key(c.client_id, "k1").await.unwrap());
    assert!(store.delete_client(c.client_id).await.unwrap());
    assert!(store.client_by_key("k2").await.unwrap().is_none());
    assert!(matches!(
        store.update_client(&c).await,
        Err(PortError::NotFound(_))
    ));
    // Keys of a missing client are refused.
    assert!(matches!(
        store.add_client_keys(&[key(Uuid::new_v4(), "k3")]).await,
        Err(PortError::NotFound(_))
    ));
}

async fn kid_is_unique_across_clients(store: SqlStore) {
    let (a, b) = (client(), client());
    store.create_client(&a).await.unwrap();
    store.create_client(&b).await.unwrap();
    store
        .add_client_keys(&[key(a.client_id, "shared")])
        .await
        .unwrap();
    let taken = store
        .add_client_keys(&[key(b.client_id, "new"), key(b.client_id, "shared")])
        .await;
    assert!(matches!(taken, Err(PortError::Conflict(_))), "{taken:?}");
    // All or nothing: the first key of the refused batch is not there either.
    assert!(store.client_by_key("new").await.unwrap().is_none());
}

async fn scopes_and_access_lists(store: SqlStore) {
    let scope = RegisteredScope {
        name: "skatteetaten:kravogbetalinger".into(),
        owner_org: org(SKATTEETATEN),
        description: None,
        created_at: 5,
    };
    assert_eq!(store.register_scope(&scope).await.unwrap(), scope);
    assert_eq!(
        store.register_scope(&scope).await.unwrap(),
        scope,
        "same owner again is fine"
    );
    let hijack = RegisteredScope {
        owner_org: org(SMARTCLOUD),
        ..scope.clone()
    };
    assert!(matches!(
        store.register_scope(&hijack).await,
        Err(PortError::Conflict(_))
    ));
    assert!(
        store
            .grant_scope_access(&scope.name, &org(SMARTCLOUD))
            .await
            .unwrap()
    );
    assert!(
        !store
            .grant_scope_access(&scope.name, &org(SMARTCLOUD))
            .await
            .unwrap()
    );
    // A platform scope (not registered) with an access list.
    store
        .grant_scope_access(
            "altinn:authentication/systemregister.admin",
            &org(SMARTCLOUD),
        )
        .await
        .unwrap();
    let asked = vec![
        scope.name.clone(),
        "altinn:authentication/systemregister.admin".into(),
        "unknown:scope".into(),
    ];
    let access = store.scope_access(&asked, &org(SMARTCLOUD)).await.unwrap();
    assert_eq!(access.len(), 2);
    assert!(access[0].granted && access[0].owner_org == Some(org(SKATTEETATEN)));
    assert!(access[1].granted && access[1].owner_org.is_none());
    let other = store
        .scope_access(&asked, &org(SKATTEETATEN))
        .await
        .unwrap();
    assert_eq!(other.len(), 1);
    assert!(!other[0].granted);
    assert!(
        store
            .revoke_scope_access(&scope.name, &org(SMARTCLOUD))
            .await
            .unwrap()
    );
    assert!(
        store
            .scope_access_list(&scope.name)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.delete_scope(&scope.name).await.unwrap());
    assert!(store.registered_scope(&scope.name).await.unwrap().is_none());
}

async fn jti_is_single_use_until_expiry(store: SqlStore) {
    let client = Uuid::new_v4();
    let now = chrono::Utc::now().timestamp();
    assert!(store.remember_jti(client, "a", now + 60).await.unwrap());
    assert!(!store.remember_jti(client, "a", now + 60).await.unwrap());
    // Another client may use the same jti.
    assert!(
        store
            .remember_jti(Uuid::new_v4(), "a", now + 60)
            .await
            .unwrap()
    );
    // An expired entry no longer blocks, and is purged.
    assert!(store.remember_jti(client, "old", now - 10).await.unwrap());
    assert!(store.remember_jti(client, "old", now + 60).await.unwrap());
    assert!(store.remember_jti(client, "older", now - 10).await.unwrap());
    assert!(store.remember_jti(client, "b", now + 60).await.unwrap());
    // The keyed table (PostgreSQL) took the expired "old" row over; the SQLite log keeps
    // both uses of "old", so it has two expired rows.
    let expired = match store.backend() {
        Backend::Postgres => 1,
        Backend::Sqlite => 2,
    };
    assert_eq!(store.purge_expired_jtis(now).await.unwrap(), expired);
    assert!(!store.remember_jti(client, "a", now + 60).await.unwrap());
    assert!(!store.remember_jti(client, "old", now + 60).await.unwrap());
}

async fn concurrent_jti_has_one_winner(store: SqlStore) {
    let client = Uuid::new_v4();
    let expires = chrono::Utc::now().timestamp() + 60;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.remember_jti(client, "race", expires).await.unwrap() })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap());
    }
    assert_eq!(winners, 1);
}

/// Many token requests at once share rounds of one statement; each jti still has exactly
/// one first use, also when the same jti comes several times in one round.
async fn a_round_of_jtis_has_one_winner_per_jti(store: SqlStore) {
    let client = Uuid::new_v4();
    let expires = chrono::Utc::now().timestamp() + 60;
    assert!(store.remember_jti(client, "used-3", expires).await.unwrap());
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let store = store.clone();
            let jti = format!("used-{}", i % 16);
            tokio::spawn(async move {
                (
                    jti.clone(),
                    store.remember_jti(client, &jti, expires).await.unwrap(),
                )
            })
        })
        .collect();
    let mut winners = std::collections::HashMap::new();
    for task in tasks {
        let (jti, first) = task.await.unwrap();
        *winners.entry(jti).or_insert(0) += usize::from(first);
    }
    assert_eq!(winners.len(), 16);
    for (jti, count) in winners {
        let expected = usize::from(jti != "used-3");
        assert_eq!(count, expected, "{jti}: first uses");
    }
}

async fn signing_keys_round_trip(store: SqlStore) {
    let key = StoredSigningKey {
        kid: "k".into(),
        algorithm: "RS256".into(),
        public_jwk: "{}".into(),
        private_key: "aes256gcm:xyz".into(),
        created_at: 1,
        activated_at: 2,
    };
    store.add_signing_key(&key).await.unwrap();
    assert_eq!(store.signing_keys().await.unwrap(), vec![key]);
    assert!(store.delete_signing_key("k").await.unwrap());
    assert!(store.signing_keys().await.unwrap().is_empty());
}

/// Two stores (two processes) on one database race the same jti: exactly one wins.
async fn jti_race_across_two_stores(a: SqlStore, b: SqlStore) {
    let client = Uuid::new_v4();
    let expires = chrono::Utc::now().timestamp() + 60;
    for round in 0..20 {
        let jti = format!("jti-{round}");
        let (x, y) = tokio::join!(
            a.remember_jti(client, &jti, expires),
            b.remember_jti(client, &jti, expires)
        );
        assert!(
            x.unwrap() ^ y.unwrap(),
            "round {round}: exactly one store may win"
        );
    }
    // What one store accepted alone, the other refuses later.
    assert!(a.remember_jti(client, "alone", expires).await.unwrap());
    assert!(!b.remember_jti(client, "alone", expires).await.unwrap());
}

/// Two stores on one new SQLite file, as two processes sharing it.
async fn two_sqlite_stores() -> (SqlStore, SqlStore) {
    let url = testing::sqlite_url();
    (
        SqlStore::open(&url).await.unwrap(),
        SqlStore::open(&url).await.unwrap(),
    )
}

/// Two stores on one new PostgreSQL database; `None` outside CI without a server.
async fn two_postgres_stores() -> Option<(SqlStore, SqlStore)> {
    let server = testing::postgres_server_url()?;
    let url = testing::fresh_postgres_url(&server).await.unwrap();
    Some((
        SqlStore::open(&url).await.unwrap(),
        SqlStore::open(&url).await.unwrap(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jti_race_across_two_stores_on_one_sqlite_file() {
    let (a, b) = two_sqlite_stores().await;
    jti_race_across_two_stores(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jti_race_across_two_stores_on_one_postgres() {
    if let Some((a, b)) = two_postgres_stores().await {
        jti_race_across_two_stores(a, b).await;
    }
}

/// A restarted process (a new store on the same database) still refuses a live jti.
async fn jti_is_remembered_across_a_restart(url: &str) {
    let client = Uuid::new_v4();
    let now = chrono::Utc::now().timestamp();
    let before = SqlStore::open(url).await.unwrap();
    assert!(before.remember_jti(client, "kept", now + 60).await.unwrap());
    assert!(before.remember_jti(client, "gone", now - 1).await.unwrap());
    before.close().await;
    drop(before);
    let after = SqlStore::open(url).await.unwrap();
    assert!(!after.remember_jti(client, "kept", now + 60).await.unwrap());
    assert!(after.remember_jti(client, "gone", now + 60).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_jti_is_remembered_across_a_restart() {
    jti_is_remembered_across_a_restart(&testing::sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_jti_is_remembered_across_a_restart() {
    let Some(server) = testing::postgres_server_url() else {
        return;
    };
    jti_is_remembered_across_a_restart(&testing::fresh_postgres_url(&server).await.unwrap()).await;
}

/// The SQLite log never hands out a seq twice (another process reads "the rows after the
/// last seq it saw"): the purge keeps the newest row even when it has expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_jti_purge_keeps_the_numbering() {
    let store = SqlStore::open(&testing::sqlite_url()).await.unwrap();
    let client = Uuid::new_v4();
    let now = chrono::Utc::now().timestamp();
    assert!(store.remember_jti(client, "a", now - 20).await.unwrap());
    assert!(store.remember_jti(client, "b", now - 10).await.unwrap());
    assert_eq!(store.purge_expired_jtis(now).await.unwrap(), 1);
    assert!(store.remember_jti(client, "c", now + 60).await.unwrap());
    let seqs: Vec<i64> = sqlx::query_scalar("SELECT seq FROM mp_jti_log ORDER BY seq")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(seqs, vec![2, 3]);
}

/// Keys and scope access are kept in memory between token requests; a change made by
/// another process (another pool on the same database) is seen by the very next read.
async fn config_changes_elsewhere_are_seen_at_once(reader: SqlStore, writer: SqlStore) {
    let c = client();
    writer.create_client(&c).await.unwrap();
    let mut k = key(c.client_id, "cached");
    k.expires_at = i64::MAX;
    writer.add_client_keys(&[k]).await.unwrap();
    let scopes = vec!["skatteetaten:kravogbetalinger".to_string()];
    writer
        .register_scope(&RegisteredScope {
            name: scopes[0].clone(),
            owner_org: org(SKATTEETATEN),
            description: None,
            created_at: 1,
        })
        .await
        .unwrap();
    writer
        .grant_scope_access(&scopes[0], &org(SMARTCLOUD))
        .await
        .unwrap();
    for _ in 0..2 {
        assert!(reader.client_by_key("cached").await.unwrap().is_some());
        assert!(
            reader
                .scope_access(&scopes, &org(SMARTCLOUD))
                .await
                .unwrap()[0]
                .granted
        );
        // The token endpoint's lookup: key, client and access to the client's scopes.
        let grant = reader.client_for_grant("cached").await.unwrap().unwrap();
        assert_eq!(
            (grant.client.client_id, grant.key.kid.as_str()),
            (c.client_id, "cached")
        );
        assert_eq!(grant.access.len(), 1);
        assert!(grant.access[0].granted);
    }
    assert!(
        writer
            .remove_client_key(c.client_id, "cached")
            .await
            .unwrap()
    );
    assert!(reader.client_by_key("cached").await.unwrap().is_none());
    assert!(
        writer
            .revoke_scope_access(&scopes[0], &org(SMARTCLOUD))
            .await
            .unwrap()
    );
    assert!(
        !reader
            .scope_access(&scopes, &org(SMARTCLOUD))
            .await
            .unwrap()[0]
            .granted
    );
    // A kid unknown at first and added later is found on the next read too.
    assert!(reader.client_by_key("later").await.unwrap().is_none());
    let mut later = key(c.client_id, "later");
    later.expires_at = i64::MAX;
    writer.add_client_keys(&[later]).await.unwrap();
    assert!(reader.client_by_key("later").await.unwrap().is_some());
    let grant = reader.client_for_grant("later").await.unwrap().unwrap();
    assert!(!grant.access[0].granted, "the revocation is seen");
    assert!(reader.client_for_grant("cached").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_config_changes_elsewhere_are_seen_at_once() {
    let (reader, writer) = two_sqlite_stores().await;
    config_changes_elsewhere_are_seen_at_once(reader, writer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_config_changes_elsewhere_are_seen_at_once() {
    if let Some((reader, writer)) = two_postgres_stores().await {
        config_changes_elsewhere_are_seen_at_once(reader, writer).await;
    }
}

/// On SQLite a round of jtis waits for the write lock that another process holds, then
/// reads what that process appended before it decides: the other's row makes this a
/// replay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_jti_waits_for_another_writer_and_reads_its_row() {
    let (store, other) = two_sqlite_stores().await;
    let client = Uuid::new_v4();
    let expires = chrono::Utc::now().timestamp() + 60;
    // This store has read the log once already (its reading position is set).
    assert!(store.remember_jti(client, "first", expires).await.unwrap());
    let mut writer = other.pool().acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *writer)
        .await
        .unwrap();
    sqlx::query("INSERT INTO mp_jti_log (client_id, jti, expires_at) VALUES ($1, 'held', $2)")
        .bind(client.to_string())
        .bind(expires)
        .execute(&mut *writer)
        .await
        .unwrap();
    let waiting = {
        let store = store.clone();
        tokio::spawn(async move { store.remember_jti(client, "held", expires).await })
    };
    // Reads go on during the write (WAL), and see the last commit.
    assert!(store.client_by_key("nobody").await.unwrap().is_none());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "the jti waits for the write lock");
    sqlx::query("COMMIT").execute(&mut *writer).await.unwrap();
    assert!(
        !waiting.await.unwrap().unwrap(),
        "the other writer used it first"
    );
    assert!(store.remember_jti(client, "fresh", expires).await.unwrap());
}

/// The direct connection leaves checkpoints to a thread of its own; under a steady stream
/// of jti commits that thread must still start the WAL over, or the file grows without
/// end (about 8 KiB per commit here: 6,000 commits would leave a WAL of ~48 MiB).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_wal_stays_bounded_under_a_stream_of_jtis() {
    let url = testing::sqlite_url();
    let store = SqlStore::open(&url).await.unwrap();
    let wal = std::path::PathBuf::from(format!("{}-wal", url.strip_prefix("sqlite://").unwrap()));
    let client = Uuid::new_v4();
    let expires = chrono::Utc::now().timestamp() + 60;
    let mut largest = 0;
    for i in 0..6_000 {
        assert!(
            store
                .remember_jti(client, &format!("jti-{i}"), expires)
                .await
                .unwrap()
        );
        if i % 100 == 0 {
            largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        }
    }
    assert!(
        largest < 24 * 1024 * 1024,
        "the WAL grew to {largest} bytes: checkpoints do not keep up"
    );
    // Every jti is still there (the checkpoints moved them, they did not drop them).
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mp_jti_log WHERE client_id = $1")
        .bind(client.to_string())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows, 6_000);
}
