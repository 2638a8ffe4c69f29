//! The portal's sessions and OpenID Connect logins in progress, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

use sqlx::Row;
use systembruker_storage::{SessionStore, SqlStore, StoredSession, session_key, testing};

systembruker_storage::storage_tests!(
    a_session_round_trips_and_ends,
    only_the_hash_of_the_id_is_stored,
    sessions_expire_when_idle_or_old,
    purge_removes_only_expired_rows,
    a_login_flow_is_taken_once,
    a_login_flow_expires_and_ends_with_its_session,
);

const NOW: i64 = 1_800_000_000_000;
const ID: &str = "5f0c0a4d9b1e4f7a8c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b";

fn session(data: &str) -> StoredSession {
    StoredSession {
        data: data.into(),
        idle_expires_at: NOW + 1_000,
        expires_at: NOW + 10_000,
    }
}

async fn a_session_round_trips_and_ends(store: SqlStore) {
    store
        .create_session(ID, &session("{\"a\":1}"))
        .await
        .unwrap();
    assert_eq!(
        store.session(ID, NOW).await.unwrap(),
        Some(session("{\"a\":1}"))
    );
    assert_eq!(store.session("another id", NOW).await.unwrap(), None);
    assert!(
        store
            .update_session(ID, "{\"a\":2}", NOW + 2_000, NOW)
            .await
            .unwrap()
    );
    let changed = store.session(ID, NOW).await.unwrap().unwrap();
    assert_eq!(
        (changed.data.as_str(), changed.idle_expires_at),
        ("{\"a\":2}", NOW + 2_000)
    );
    assert!(store.touch_session(ID, NOW + 3_000, NOW).await.unwrap());
    assert_eq!(
        store
            .session(ID, NOW)
            .await
            .unwrap()
            .unwrap()
            .idle_expires_at,
        NOW + 3_000
    );
    let ended = store.delete_session(ID, NOW).await.unwrap().unwrap();
    assert_eq!(ended.data, "{\"a\":2}");
    assert_eq!(store.session(ID, NOW).await.unwrap(), None);
    assert_eq!(store.delete_session(ID, NOW).await.unwrap(), None);
    assert!(
        !store
            .update_session(ID, "{}", NOW + 2_000, NOW)
            .await
            .unwrap()
    );
    assert!(!store.touch_session(ID, NOW + 2_000, NOW).await.unwrap());
}

async fn only_the_hash_of_the_id_is_stored(store: SqlStore) {
    store.create_session(ID, &session("{}")).await.unwrap();
    let keys: Vec<String> = sqlx::query("SELECT id_hash FROM portal_sessions")
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| row.get("id_hash"))
        .collect();
    assert_eq!(keys, vec![session_key(ID)]);
    assert_ne!(keys[0], ID);
    assert_eq!(keys[0].len(), 64, "SHA-256 in hex");
    // What a database reader sees does not open the session.
    assert_eq!(store.session(&keys[0], NOW).await.unwrap(), None);
}

async fn sessions_expire_when_idle_or_old(store: SqlStore) {
    store.create_session(ID, &session("{}")).await.unwrap();
    let idle_end = NOW + 1_000;
    assert!(store.session(ID, idle_end - 1).await.unwrap().is_some());
    assert!(store.session(ID, idle_end).await.unwrap().is_none(), "idle");
    assert!(
        !store
            .touch_session(ID, idle_end + 1_000, idle_end)
            .await
            .unwrap()
    );
    assert!(
        !store
            .update_session(ID, "{}", idle_end + 1_000, idle_end)
            .await
            .unwrap()
    );
    // Used in time, it lives on until its absolute end, and not a moment longer.
    assert!(store.touch_session(ID, NOW + 20_000, NOW).await.unwrap());
    assert!(store.session(ID, NOW + 9_999).await.unwrap().is_some());
    assert!(
        store.session(ID, NOW + 10_000).await.unwrap().is_none(),
        "old"
    );
    assert_eq!(store.delete_session(ID, NOW + 10_000).await.unwrap(), None);
}

async fn purge_removes_only_expired_rows(store: SqlStore) {
    store.create_session("idle", &session("{}")).await.unwrap();
    store.create_session("live", &session("{}")).await.unwrap();
    store.touch_session("live", NOW + 5_000, NOW).await.unwrap();
    store
        .put_login_flow("idle", "flow", NOW + 500)
        .await
        .unwrap();
    store
        .put_login_flow("live", "flow", NOW + 5_000)
        .await
        .unwrap();
    assert_eq!(store.purge_sessions(NOW + 1_000).await.unwrap(), 2);
    assert!(store.session("idle", NOW).await.unwrap().is_none());
    assert!(store.session("live", NOW + 1_000).await.unwrap().is_some());
    assert_eq!(store.purge_sessions(NOW + 1_000).await.unwrap(), 0);
    assert_eq!(
        store.take_login_flow("live", NOW + 1_000).await.unwrap(),
        Some("flow".into())
    );
}

async fn a_login_flow_is_taken_once(store: SqlStore) {
    store.create_session(ID, &session("{}")).await.unwrap();
    store
        .put_login_flow(ID, "first", NOW + 1_000)
        .await
        .unwrap();
    store
        .put_login_flow(ID, "second", NOW + 1_000)
        .await
        .unwrap();
    assert_eq!(store.take_login_flow("other", NOW).await.unwrap(), None);
    let (a, b) = tokio::join!(
        store.take_login_flow(ID, NOW),
        store.take_login_flow(ID, NOW)
    );
    let taken: Vec<String> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(taken, vec!["second".to_string()], "exactly one taker");
    assert_eq!(store.take_login_flow(ID, NOW).await.unwrap(), None);
}

async fn a_login_flow_expires_and_ends_with_its_session(store: SqlStore) {
    store.create_session(ID, &session("{}")).await.unwrap();
    store.put_login_flow(ID, "flow", NOW + 1_000).await.unwrap();
    assert_eq!(
        store.take_login_flow(ID, NOW + 1_000).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        store.take_login_flow(ID, NOW).await.unwrap(),
        None,
        "and gone"
    );
    store.put_login_flow(ID, "flow", NOW + 1_000).await.unwrap();
    store.delete_session(ID, NOW).await.unwrap();
    assert_eq!(
        store.take_login_flow(ID, NOW).await.unwrap(),
        None,
        "logout"
    );
}

/// Two processes on one database: a session made by one is read, changed and ended
/// by the other.
async fn two_processes_share_a_session(a: SqlStore, b: SqlStore) {
    a.create_session(ID, &session("{\"by\":\"a\"}"))
        .await
        .unwrap();
    assert_eq!(
        b.session(ID, NOW).await.unwrap().unwrap().data,
        "{\"by\":\"a\"}"
    );
    assert!(
        b.update_session(ID, "{\"by\":\"b\"}", NOW + 1_000, NOW)
            .await
            .unwrap()
    );
    assert_eq!(
        a.session(ID, NOW).await.unwrap().unwrap().data,
        "{\"by\":\"b\"}"
    );
    a.put_login_flow(ID, "flow", NOW + 1_000).await.unwrap();
    assert_eq!(
        b.take_login_flow(ID, NOW).await.unwrap(),
        Some("flow".into())
    );
    assert_eq!(a.take_login_flow(ID, NOW).await.unwrap(), None);
    assert!(b.delete_session(ID, NOW).await.unwrap().is_some());
    assert_eq!(a.session(ID, NOW).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_a_session_on_one_sqlite_file() {
    let url = testing::sqlite_url();
    let (a, b) = (
        SqlStore::open(&url).await.unwrap(),
        SqlStore::open(&url).await.unwrap(),
    );
    two_processes_share_a_session(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_a_session_on_one_postgres() {
    let Some(server) = testing::postgres_server_url() else {
        return;
    };
    let url = testing::fresh_postgres_url(&server).await.unwrap();
    let (a, b) = (
        SqlStore::open(&url).await.unwrap(),
        SqlStore::open(&url).await.unwrap(),
    );
    two_processes_share_a_session(a, b).await;
}
