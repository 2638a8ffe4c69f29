//! Client delegation at scale: a firm with 20,000 clients (issue #6).
//!
//! Starts a real server on PostgreSQL (SYSTEMBRUKER_TEST_POSTGRES_URL, a fresh database)
//! or SQLite (`--sqlite`), gives Tallmakerne AS the REGN role from 20,000 organisations,
//! makes an agent system user with `regnskapsforer-med-signeringsrettighet`, and measures
//! over HTTP what the vendor API and the portal do: list the available clients (p50/p99),
//! add every client in batches of 500, then list the delegated clients.
//!
//! `cargo run --release -p systembruker-http --example clients [-- --sqlite]`

use std::time::{Duration, Instant};

use systembruker_bench::{insert_rows, org_number, org_uuid};
use systembruker_domain::OrgNumber;
use systembruker_domain::catalogue::Catalogue;
use systembruker_domain::clients::plan_client;
use systembruker_domain::systemuser::SystemUserType;
use systembruker_http::demo::{DEMO_SYSTEM, SMARTCLOUD, TALLMAKERNE, TINA};
use systembruker_http::testing::TestServer;
use systembruker_storage::{
    Actor, ClientDelegationStore, Grants, NewClientDelegation, NewSystemUser, RegisterStore,
    SqlStore, SystemUserKey, SystemUserStore, testing,
};
use uuid::Uuid;

const CLIENTS: u64 = 20_000;
const BATCH: usize = 500;
const ROUNDS: usize = 40;
const PACKAGE: &str = "regnskapsforer-med-signeringsrettighet";

async fn open_store(sqlite: bool) -> anyhow::Result<SqlStore> {
    if sqlite {
        return Ok(testing::sqlite_store().await?);
    }
    let server = std::env::var("SYSTEMBRUKER_TEST_POSTGRES_URL")
        .map_err(|_| anyhow::anyhow!("set SYSTEMBRUKER_TEST_POSTGRES_URL (or pass --sqlite)"))?;
    Ok(SqlStore::open(&testing::fresh_postgres_url(&server).await?).await?)
}

/// 20,000 organisations that gave the firm the REGN role.
async fn generate_clients(store: &SqlStore, firm: Uuid) -> anyhow::Result<()> {
    let now = 1_700_000_000_000_i64;
    let mut tx = store.pool().begin().await?;
    insert_rows(
        &mut tx,
        "INSERT INTO parties (party_uuid, party_id, party_type, name, org_number, unit_type, created_at)",
        (0..CLIENTS).map(|i| {
            format!(
                "('{}', {}, 'organization', 'Klient {i:05} AS', '{}', 'AS', {now})",
                org_uuid(i),
                100_000_000 + i,
                org_number(i)
            )
        }),
        2000,
    )
    .await?;
    insert_rows(
        &mut tx,
        "INSERT INTO er_roles (from_party, to_party, role_code, created_at)",
        (0..CLIENTS).map(|i| format!("('{}', '{firm}', 'regnskapsforer', {now})", org_uuid(i))),
        2000,
    )
    .await?;
    tx.commit().await?;
    // As autovacuum would after a bulk load: the planner needs the new row counts.
    if store.backend() == systembruker_storage::Backend::Postgres {
        sqlx::query("ANALYZE").execute(store.pool()).await?;
    }
    Ok(())
}

async fn agent_of(store: &SqlStore, firm: Uuid) -> anyhow::Result<Uuid> {
    let id = Uuid::new_v4();
    let user = NewSystemUser {
        id,
        key: SystemUserKey {
            system_id: DEMO_SYSTEM.into(),
            org: TALLMAKERNE.into(),
            external_ref: "bench".into(),
        },
        owner_party_uuid: firm,
        integration_title: "SmartRegnskap".into(),
        user_type: SystemUserType::Agent,
        access_packages: vec![PACKAGE.into()],
    };
    store
        .create_system_user(&user, &Grants::default(), &Actor::named("bench"))
        .await?;
    Ok(id)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// What a list costs: the first call after a change (the server rebuilds its cached
/// list) and the p50/p99 of the calls after it.
struct ListTimes {
    first: Duration,
    p50: Duration,
    p99: Duration,
    count: usize,
}

impl ListTimes {
    fn row(&self, what: &str) -> String {
        format!(
            "| {what} (HTTP, {} clients) | p50 {:.1} ms | p99 {:.1} ms | first call after a change {:.1} ms |",
            self.count,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.first.as_secs_f64() * 1e3
        )
    }
}

/// GETs `url` once after a change and then `ROUNDS` times.
async fn measure_list(http: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<ListTimes> {
    let mut times = Vec::with_capacity(ROUNDS);
    let mut count = 0;
    for _ in 0..=ROUNDS {
        let start = Instant::now();
        let response = http.get(url).bearer_auth(token).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
        let body: serde_json::Value = response.json().await?;
        times.push(start.elapsed());
        count = body["data"].as_array().map_or(0, Vec::len);
    }
    let first = times.remove(0);
    times.sort();
    Ok(ListTimes {
        first,
        p50: percentile(&times, 0.5),
        p99: percentile(&times, 0.99),
        count,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sqlite = std::env::args().any(|a| a == "--sqlite");
    let store = open_store(sqlite).await?;
    let server = TestServer::start_with(store.clone(), true).await?;
    let firm = store
        .organization(&OrgNumber::parse(TALLMAKERNE)?)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo data missing"))?
        .uuid;
    let started = Instant::now();
    generate_clients(&store, firm).await?;
    eprintln!("generated {CLIENTS} clients in {:?}", started.elapsed());
    let agent = agent_of(&store, firm).await?;
    let token = server
        .vendor_personal_token(
            TINA,
            SMARTCLOUD,
            "altinn:clientdelegations.read altinn:clientdelegations.write",
        )
        .await?;
    let http = reqwest::Client::new();
    let base = server.at("/authentication/api/v1/enduser/systemuser");

    let available_url = format!("{base}/clients/available?agent={agent}");
    let available = measure_list(&http, &available_url, &token).await?;
    println!("{}", available.row("list available clients"));
    let count = available.count;
    anyhow::ensure!(count as u64 >= CLIENTS, "only {count} clients available");

    let mut query_times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let candidates = store.clients_of(firm).await?;
        query_times.push(start.elapsed());
        anyhow::ensure!(candidates.len() as u64 >= CLIENTS);
    }
    query_times.sort();
    println!(
        "| uncached storage query alone (in process) | p50 {:.1} ms | p99 {:.1} ms |",
        percentile(&query_times, 0.5).as_secs_f64() * 1e3,
        percentile(&query_times, 0.99).as_secs_f64() * 1e3
    );

    // Add all, as the portal's "add all": one list, then batches of BATCH.
    let catalogue = Catalogue::builtin();
    let started = Instant::now();
    let candidates = store.clients_of(firm).await?;
    let required = vec![PACKAGE.to_string()];
    let mut plans = Vec::with_capacity(candidates.len());
    for candidate in &candidates {
        if let Ok(packages) = plan_client(
            catalogue,
            candidate.unit_type.as_deref(),
            &candidate.relations,
            &required,
        )? {
            plans.push(NewClientDelegation {
                client: candidate.party,
                packages,
            });
        }
    }
    let mut added = 0;
    for batch in plans.chunks(BATCH) {
        added += store
            .add_clients(agent, firm, batch, &Actor::named("bench"))
            .await?;
    }
    let add_time = started.elapsed();
    println!(
        "| add {added} clients in batches of {BATCH} | {:.2} s total | |",
        add_time.as_secs_f64()
    );

    let delegated_url = format!("{base}/clients?agent={agent}");
    let delegated = measure_list(&http, &delegated_url, &token).await?;
    println!("{}", delegated.row("list delegated clients"));
    println!("backend: {}", if sqlite { "SQLite" } else { "PostgreSQL" });
    Ok(())
}
