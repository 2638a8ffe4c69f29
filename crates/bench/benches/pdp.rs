//! Decisions per second and latency of the PDP at realistic scale, side by side with
//! cedar-policy deciding the same questions on the same facts.
//!
//! ```sh
//! SB_BENCH_SCALE=0.01 cargo bench -p systembruker-bench --bench pdp     # smoke
//! SB_BENCH_SCALE=1    cargo bench -p systembruker-bench --bench pdp     # issue 4's scale
//! ```
//! Environment: `SB_BENCH_SCALE` (fraction of 1M orgs / 2M roles / 100k resources / 200k
//! delegations), `SB_BENCH_QUESTIONS` (default 20000), `SB_BENCH_HTTP_SECS` (default 10),
//! `SB_BENCH_HTTP_CONNECTIONS` (default 32), `SB_BENCH_DB` (the SQLite file; default
//! `target/pdp-bench/<scale>.db`, generated on first use and reused).
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cedar_policy::{Authorizer, Context, Entities, EntityUid, PolicySet, RestrictedExpression};
use criterion::Criterion;
use systembruker_bench::{
    Question, Scale, open_or_generate, org_uuid, person_uuid, policy_packages, questions,
    resource_rules,
};
use systembruker_domain::catalogue::Catalogue;
use systembruker_http::auth::{Authenticator, StaticAdminToken};
use systembruker_http::pdp::Enrichment;
use systembruker_http::{AppState, Config};
use systembruker_storage::{PipStore, ResourceStore};
use systembruker_xacml::{AttributeValue, Decision, Pdp, Policy, Request, category};

const TOKEN: &str = "bench-admin-token";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Median and 99th percentile of `samples`, in microseconds.
fn percentiles(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort_unstable();
    let at = |q: f64| {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[index].as_secs_f64() * 1e6
    };
    (at(0.5), at(0.99))
}

fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Everything both engines need for one question, computed once from the same facts.
struct Prepared {
    question: Question,
    request: Request,
    enrichment: Arc<Enrichment>,
}

fn xacml_request(p: &Prepared) -> Request {
    let q = &p.question;
    let mut request = Request::builder()
        .subject(
            "urn:altinn:person:identifier-no",
            systembruker_bench::person_number(q.person),
        )
        .action(q.action)
        .resource("urn:altinn:resource", format!("bench-res-{}", q.resource))
        .build();
    for code in &p.enrichment.role_codes {
        request.add_attribute(
            category::ACCESS_SUBJECT,
            "urn:altinn:rolecode",
            AttributeValue::string(code.clone()),
        );
    }
    for code in &p.enrichment.packages {
        request.add_attribute(
            category::ACCESS_SUBJECT,
            "urn:altinn:accesspackage",
            AttributeValue::string(code.clone()),
        );
    }
    request
}

/// The resource's policy in Cedar: the same rights, with the PIP's facts in the context.
fn cedar_policy_text(packages: &[String], r: u64) -> String {
    let rules = resource_rules(packages, r);
    let list = |items: Vec<String>| {
        items
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "permit(principal, action == Action::\"read\", resource == Resource::\"{id}\") when {{ context.roles.containsAny([{roles}]) || context.packages.containsAny([{packages}]) }};\n\
         permit(principal, action == Action::\"write\", resource == Resource::\"{id}\") when {{ context.roles.contains(\"DAGL\") }};",
        id = rules.id,
        roles = list(rules.read_roles.iter().map(|s| s.to_string()).collect()),
        packages = list(rules.read_packages.clone()),
    )
}

struct CedarSide {
    authorizer: Authorizer,
    entities: Entities,
    sets: HashMap<u64, PolicySet>,
    actions: HashMap<&'static str, EntityUid>,
}

impl CedarSide {
    fn new(prepared: &[Prepared], packages: &[String]) -> Self {
        let mut sets = HashMap::new();
        for p in prepared {
            sets.entry(p.question.resource).or_insert_with(|| {
                cedar_policy_text(packages, p.question.resource)
                    .parse::<PolicySet>()
                    .unwrap()
            });
        }
        let actions = ["read", "write"]
            .into_iter()
            .map(|a| (a, format!("Action::\"{a}\"").parse::<EntityUid>().unwrap()))
            .collect();
        Self {
            authorizer: Authorizer::new(),
            entities: Entities::empty(),
            sets,
            actions,
        }
    }

    fn decide(&self, p: &Prepared) -> bool {
        let q = &p.question;
        let principal: EntityUid = format!("User::\"{}\"", person_uuid(q.person))
            .parse()
            .unwrap();
        let resource: EntityUid = format!("Resource::\"bench-res-{}\"", q.resource)
            .parse()
            .unwrap();
        let set = |items: &[String]| {
            RestrictedExpression::new_set(
                items
                    .iter()
                    .map(|s| RestrictedExpression::new_string(s.clone())),
            )
        };
        let context = Context::from_pairs([
            ("roles".to_string(), set(&p.enrichment.role_codes)),
            ("packages".to_string(), set(&p.enrichment.packages)),
        ])
        .unwrap();
        let request = cedar_policy::Request::new(
            principal,
            self.actions[q.action].clone(),
            resource,
            context,
            None,
        )
        .unwrap();
        let answer =
            self.authorizer
                .is_authorized(&request, &self.sets[&q.resource], &self.entities);
        answer.decision() == cedar_policy::Decision::Allow
    }
}

fn main() {
    let scale = Scale::from_env();
    let count: usize = env_or("SB_BENCH_QUESTIONS", 20_000);
    let http_secs: u64 = env_or("SB_BENCH_HTTP_SECS", 10);
    let connections: usize = env_or("SB_BENCH_HTTP_CONNECTIONS", 32);
    let path = std::env::var("SB_BENCH_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/pdp-bench")
                .join(scale.file_name())
        });
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (rss_start, _) = rss_mib();

    let started = Instant::now();
    let store = runtime.block_on(open_or_generate(&path, &scale)).unwrap();
    println!(
        "data: {scale:?} ({} ER roles) in {} ({:.1} s to open/generate)",
        scale.er_roles(),
        path.display(),
        started.elapsed().as_secs_f64()
    );

    let auth = Authenticator::default().with(Arc::new(StaticAdminToken::new(TOKEN).unwrap()));
    let state = AppState::new(
        Arc::new(store.clone()),
        Config::new("http://127.0.0.1", false),
        auth,
    );
    let pdp = state.pdp.clone();
    let catalogue = Catalogue::builtin();
    let packages = policy_packages(catalogue);

    // Prepare the questions: parsed requests, and the PIP's facts for the engine-only runs.
    let qs = questions(&scale, count);
    let prepared: Vec<Prepared> = runtime.block_on(async {
        let mut out = Vec::with_capacity(qs.len());
        for q in qs {
            let facts = store
                .subject_facts(person_uuid(q.person), org_uuid(q.org))
                .await
                .unwrap();
            let enrichment = Arc::new(Enrichment::from_facts(catalogue, facts).unwrap());
            let request = Request::from_json(&q.json()).unwrap();
            out.push(Prepared {
                question: q,
                request,
                enrichment,
            });
        }
        out
    });

    // Warm the context handler: every resource's policy once (the whole policy cache at
    // this scale), then every question.
    let warm = Instant::now();
    runtime.block_on(async {
        for r in 0..scale.resources {
            let q = Question {
                person: 0,
                org: 0,
                resource: r,
                action: "read",
            };
            pdp.authorize(&Request::from_json(&q.json()).unwrap()).await;
        }
        for p in &prepared {
            pdp.authorize(&p.request).await;
        }
    });
    let (rss_warm, _) = rss_mib();
    println!(
        "warm-up (all {} policies compiled, {} questions): {:.1} s; RSS {:.0} MiB (at start {:.0} MiB)",
        scale.resources,
        prepared.len(),
        warm.elapsed().as_secs_f64(),
        rss_warm,
        rss_start
    );

    // The engines must agree on every question before they are timed.
    let cedar = CedarSide::new(&prepared, &packages);
    let policies: HashMap<u64, Policy> = runtime.block_on(async {
        let mut map = HashMap::new();
        for p in &prepared {
            if let std::collections::hash_map::Entry::Vacant(slot) = map.entry(p.question.resource)
            {
                let xml = store
                    .policy(&format!("bench-res-{}", p.question.resource))
                    .await
                    .unwrap()
                    .unwrap()
                    .xml;
                slot.insert(Policy::from_xml(&xml).unwrap());
            }
        }
        map
    });
    let mut permits = 0;
    for p in &prepared {
        let ours = Pdp::decide(&policies[&p.question.resource], &xacml_request(p)).decision
            == Decision::Permit;
        let full = runtime.block_on(pdp.authorize(&p.request))[0].decision == Decision::Permit;
        assert_eq!(
            ours,
            cedar.decide(p),
            "engines disagree on {:?}",
            p.question
        );
        assert_eq!(
            ours, full,
            "context handler and engine disagree on {:?}",
            p.question
        );
        permits += usize::from(ours);
    }
    println!(
        "questions: {} ({} Permit, {} NotApplicable); XACML, cedar and the context handler agree on all",
        prepared.len(),
        permits,
        prepared.len() - permits
    );

    // Per-decision latency, sampled one by one.
    let sample = |f: &mut dyn FnMut(&Prepared)| -> (f64, f64) {
        let mut times = Vec::with_capacity(prepared.len());
        for p in &prepared {
            let t = Instant::now();
            f(p);
            times.push(t.elapsed());
        }
        percentiles(&mut times)
    };
    let xacml = sample(&mut |p| {
        std::hint::black_box(Pdp::decide(
            &policies[&p.question.resource],
            &xacml_request(p),
        ));
    });
    let cedar_times = sample(&mut |p| {
        std::hint::black_box(cedar.decide(p));
    });
    let handler = runtime.block_on(async {
        let mut times = Vec::with_capacity(prepared.len());
        for p in &prepared {
            let t = Instant::now();
            std::hint::black_box(pdp.authorize(&p.request).await);
            times.push(t.elapsed());
        }
        percentiles(&mut times)
    });

    // Criterion, for its statistics on the same three.
    let mut criterion = Criterion::default()
        .configure_from_args()
        .sample_size(30)
        .measurement_time(Duration::from_secs(5));
    let mut group = criterion.benchmark_group("decision");
    let mut i = 0usize;
    group.bench_function("xacml engine (enriched request)", |b| {
        b.iter(|| {
            i = (i + 1) % prepared.len();
            let p = &prepared[i];
            Pdp::decide(&policies[&p.question.resource], &xacml_request(p))
        })
    });
    group.bench_function("cedar-policy (same facts in context)", |b| {
        b.iter(|| {
            i = (i + 1) % prepared.len();
            cedar.decide(&prepared[i])
        })
    });
    group.bench_function("context handler (counters + PIP cache + policy)", |b| {
        b.iter(|| {
            i = (i + 1) % prepared.len();
            runtime.block_on(pdp.authorize(&prepared[i].request))
        })
    });
    group.finish();

    let http = runtime.block_on(http_load(
        state,
        &prepared,
        connections,
        Duration::from_secs(http_secs),
    ));
    let (rss_end, rss_peak) = rss_mib();

    println!("\n## results (scale {:?})\n", scale);
    println!("| measurement | median µs | p99 µs |");
    println!("|---|---|---|");
    println!(
        "| XACML engine, enriched request (in-process) | {:.2} | {:.2} |",
        xacml.0, xacml.1
    );
    println!(
        "| cedar-policy, same facts in context (in-process) | {:.2} | {:.2} |",
        cedar_times.0, cedar_times.1
    );
    println!(
        "| context handler: counters + PIP + policy (in-process) | {:.2} | {:.2} |",
        handler.0, handler.1
    );
    println!(
        "| HTTP on loopback, {} connections | {:.0} | {:.0} |",
        connections, http.1, http.2
    );
    println!(
        "\nHTTP: {:.0} decisions/s over {} s; RSS after warm-up {:.0} MiB, at end {:.0} MiB, peak {:.0} MiB",
        http.0, http_secs, rss_warm, rss_end, rss_peak
    );
}

/// Serves the app on loopback and drives it with `connections` concurrent keep-alive
/// clients for `duration`: (requests/s, p50 µs, p99 µs).
async fn http_load(
    state: AppState,
    prepared: &[Prepared],
    connections: usize,
    duration: Duration,
) -> (f64, f64, f64) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/authorization/api/v1/authorize",
        listener.local_addr().unwrap()
    );
    let app = systembruker_http::app(state);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(systembruker_http::serve(listener, app, async move {
        let _ = stop_rx.await;
    }));
    let bodies: Arc<Vec<String>> = Arc::new(prepared.iter().map(|p| p.question.json()).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..connections {
        let (bodies, stop, url) = (bodies.clone(), stop.clone(), url.clone());
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut times = Vec::new();
            let mut k = w;
            while !stop.load(Ordering::Relaxed) {
                let body = bodies[k % bodies.len()].clone();
                k += connections;
                let t = Instant::now();
                let response = client
                    .post(&url)
                    .bearer_auth(TOKEN)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success());
                response.bytes().await.unwrap();
                times.push(t.elapsed());
            }
            times
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let _ = stop_tx.send(());
    let rate = all.len() as f64 / elapsed;
    let (p50, p99) = percentiles(&mut all);
    (rate, p50, p99)
}
