//! The token service's ports on SQL, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

use systembruker_domain::OrgNumber;
use systembruker_storage::{SqlStore, testing};
use systembruker_token::PortError;
use systembruker_token::jwk::RsaJwk;
use systembruker_token::ports::{
    Client, ClientKey, ClientRegistry, RegisteredScope, ReplayGuard, ScopeRegistry,
    SigningKeyStore, StoredSigningKey,
};
use uuid::Uuid;

systembruker_storage::storage_tests!(
    clients_and_keys_round_trip,
    kid_is_unique_across_clients,
    scopes_and_access_lists,
    jti_is_single_use_until_expiry,
    concurrent_jti_has_one_winner,
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
    assert_eq!(store.purge_expired_jtis(now).await.unwrap(), 1);
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

/// Two stores (two processes' pools) on one PostgreSQL database race the same jti.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jti_race_across_two_stores_on_one_postgres() {
    let Some(server) = testing::postgres_server_url() else {
        return;
    };
    let url = testing::fresh_postgres_url(&server).await.unwrap();
    let (a, b) = (
        SqlStore::open(&url).await.unwrap(),
        SqlStore::open(&url).await.unwrap(),
    );
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
}
