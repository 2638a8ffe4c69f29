//! Decisions per second and latency of the PDP at realistic scale, side by side with
//! cedar-policy deciding the same questions on the same facts.
//!
//! ```sh
//! SB_BENCH_SCALE=0.01 cargo bench -p systembruker-bench --bench pdp     # smoke
//! SB_BENCH_SCALE=1    cargo bench -p systembruker-bench --bench pdp     # issue 4's scale
//! ```
//! Environment: `SB_BENCH_SCALE` (fraction of 1M orgs / 2M roles / 100k resources / 200k
//! delegations), `SB_BENCH_QUESTIONS` (default 20000), `SB_BENCH_HTTP_SECS` (default 10),
//! `SB_BENCH_HTTP_CONNECTIONS` (default 32), `SB_BENCH_AUDIT` (`both`, the default: every
//! HTTP run twice, with the server's audit off and on, alternating; or `on` / `off`),
//! `SB_BENCH_DB` (the SQLite file; default
//! `target/pdp-bench/<scale>.db`, generated on first use and reused).
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hyper::body::Bytes;

use cedar_policy::{Authorizer, Context, Entities, EntityUid, PolicySet, RestrictedExpression};
use criterion::Criterion;
use systembruker_app::pdp::{CacheLimits, ContextHandler, Enrichment};
use systembruker_bench::{
    Question, Scale, open_or_generate, org_uuid, person_uuid, policy_packages, questions,
    resource_rules,
};
use systembruker_domain::catalogue::Catalogue;
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

/// (resident, peak resident) MiB of this process.
fn rss_mib() -> (f64, f64) {
    rss_of("/proc/self/status")
}

fn rss_of(status_file: &str) -> (f64, f64) {
    let status = std::fs::read_to_string(status_file).unwrap_or_default();
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
    let connection_counts: Vec<usize> = std::env::var("SB_BENCH_HTTP_CONNECTIONS")
        .unwrap_or_else(|_| "4,8,16,32".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
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

    let catalogue = Catalogue::builtin();
    let pdp = ContextHandler::new(Arc::new(store.clone()), catalogue, CacheLimits::default());
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
    // The agreed answer per question, which the HTTP run checks again.
    let mut agreed = Vec::with_capacity(prepared.len());
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
        agreed.push(ours);
    }
    let permits = agreed.iter().filter(|&&permit| permit).count();
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

    // Over HTTP: the real server in a process of its own, on the same database file.
    drop(pdp);
    let answers: Arc<Vec<(Bytes, Option<bool>)>> = Arc::new(
        prepared
            .iter()
            .zip(&agreed)
            .map(|(p, &permit)| (Bytes::from(p.question.json()), Some(permit)))
            .collect(),
    );
    let audits = audit_modes();
    // What an earlier run's audit left in the bench database goes, so every run starts
    // from the same table.
    runtime
        .block_on(systembruker_storage::AuditStore::purge_audit(
            &store,
            i64::MAX,
        ))
        .unwrap();
    let mut servers = Vec::new();
    for &audit in &audits {
        servers.push(warm_server(&runtime, &path, &scale, &answers, audit));
    }
    let warm_secs = servers.iter().map(|(_, secs)| secs).sum::<f64>();
    let server_warm = servers
        .iter()
        .map(|(server, _)| server.rss_mib().0)
        .fold(0.0, f64::max);
    // Alternating short runs: on a shared machine two long runs minutes apart compare
    // different machines.
    let runs: Vec<HttpRun> = connection_counts
        .iter()
        .flat_map(|&connections| {
            servers
                .iter()
                .map(|(server, _)| {
                    runtime.block_on(http_load(
                        server,
                        &answers,
                        connections,
                        Some(Duration::from_secs(http_secs)),
                    ))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let (server_end, server_peak) = servers
        .iter()
        .map(|(server, _)| server.rss_mib())
        .fold((0.0, 0.0), |(end, peak), (e, p)| {
            (f64::max(end, e), f64::max(peak, p))
        });
    drop(servers);
    let (rss_end, rss_peak) = rss_mib();
    print_results(
        &scale,
        [xacml, cedar_times, handler],
        &runs,
        http_secs,
        (warm_secs, server_warm, server_end, server_peak),
        (rss_warm, rss_end, rss_peak),
    );
}

/// Which audit settings the HTTP runs use (`SB_BENCH_AUDIT`).
fn audit_modes() -> Vec<bool> {
    match std::env::var("SB_BENCH_AUDIT").as_deref() {
        Ok("on") => vec![true],
        Ok("off") => vec![false],
        _ => vec![false, true],
    }
}

/// A server on the bench data, warmed as in process: every policy once, then every
/// question; with the seconds the warm-up took.
fn warm_server(
    runtime: &tokio::runtime::Runtime,
    path: &std::path::Path,
    scale: &Scale,
    answers: &Arc<Vec<(Bytes, Option<bool>)>>,
    audit: bool,
) -> (Server, f64) {
    runtime.block_on(async {
        let server = Server::start(path, audit).await;
        // The same warm-up as in process: every policy once, then every question.
        let warm = Instant::now();
        let every_policy: Arc<Vec<(Bytes, Option<bool>)>> = Arc::new(
            (0..scale.resources)
                .map(|r| {
                    let q = Question {
                        person: 0,
                        org: 0,
                        resource: r,
                        action: "read",
                    };
                    (Bytes::from(q.json()), None)
                })
                .collect(),
        );
        http_load(&server, &every_policy, 8, None).await;
        http_load(&server, answers, 8, None).await;
        (server, warm.elapsed().as_secs_f64())
    })
}

fn print_results(
    scale: &Scale,
    [xacml, cedar_times, handler]: [(f64, f64); 3],
    runs: &[HttpRun],
    http_secs: u64,
    (warm_secs, server_warm, server_end, server_peak): (f64, f64, f64, f64),
    (rss_warm, rss_end, rss_peak): (f64, f64, f64),
) {
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
    println!("\n| HTTP on loopback, server process | audit | decisions/s | median µs | p99 µs |");
    println!("|---|---|---|---|---|");
    for run in runs {
        println!(
            "| {} connections, {} s | {} | {:.0} | {:.0} | {:.0} |",
            run.connections,
            http_secs,
            if run.audit { "on" } else { "off" },
            run.rate,
            run.p50_us,
            run.p99_us
        );
    }
    println!(
        "\nserver process: warm-up over HTTP {warm_secs:.1} s; RSS after warm-up {server_warm:.0} MiB, \
         at end {server_end:.0} MiB, peak {server_peak:.0} MiB"
    );
    println!(
        "bench process (in-process runs, load client): RSS after its warm-up {rss_warm:.0} MiB, \
         at end {rss_end:.0} MiB, peak {rss_peak:.0} MiB"
    );
}

/// The benchmark's view of a running `systembruker serve` process on the bench data.
struct Server {
    child: std::process::Child,
    base: String,
    token: String,
    /// Whether the server records every decision (`--audit on`).
    audit: bool,
}

impl Server {
    /// Starts the release binary on the bench database with the test tools on (`--dev`,
    /// for a real resource-owner token; no demo data is loaded), and waits until ready.
    async fn start(db: &std::path::Path, audit: bool) -> Server {
        let binary = std::env::var("SB_BENCH_SERVER").map_or_else(
            |_| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../target/release/systembruker")
            },
            std::path::PathBuf::from,
        );
        assert!(
            binary.exists(),
            "{} is missing: run `cargo build --release -p systembruker` first (or set SB_BENCH_SERVER)",
            binary.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let audit_flag = if audit { "on" } else { "off" };
        let log =
            std::fs::File::create(db.with_extension(format!("server-audit-{audit_flag}.log")))
                .unwrap();
        let child = std::process::Command::new(&binary)
            .args(["serve", "--dev", "--log-format", "json"])
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--database-url")
            .arg(format!("sqlite://{}", db.display()))
            .arg("--admin-token")
            .arg(TOKEN)
            .arg("--audit")
            .arg(audit_flag)
            .env("RUST_LOG", "warn")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        // Skatteetaten (the resource owner) asks, as in production, with its own token.
        let url = format!(
            "{base}/testtools/api/GetEnterpriseToken?orgNo=974761076&scopes=altinn:authorization/authorize&ttl=3600"
        );
        let deadline = Instant::now() + Duration::from_secs(120);
        let token = loop {
            assert!(Instant::now() < deadline, "the server did not start");
            tokio::time::sleep(Duration::from_millis(200)).await;
            if let Ok(response) = reqwest::get(&url).await
                && response.status().is_success()
            {
                break response
                    .text()
                    .await
                    .unwrap()
                    .trim()
                    .trim_matches('"')
                    .to_string();
            }
        };
        Server {
            child,
            base,
            token,
            audit,
        }
    }

    fn rss_mib(&self) -> (f64, f64) {
        rss_of(&format!("/proc/{}/status", self.child.id()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one HTTP load run measured.
struct HttpRun {
    connections: usize,
    audit: bool,
    rate: f64,
    p50_us: f64,
    p99_us: f64,
}

/// Drives the server with `connections` concurrent keep-alive HTTP/1.1 connections for
/// `duration`, each sending the prepared questions in turn, and checks every answer's
/// decision against the one the engines agreed on.
async fn http_load(
    server: &Server,
    bodies: &Arc<Vec<(Bytes, Option<bool>)>>,
    connections: usize,
    duration: Option<Duration>,
) -> HttpRun {
    let authority = server.base.trim_start_matches("http://").to_string();
    let authorization = format!("Bearer {}", server.token);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..connections {
        let (bodies, stop) = (bodies.clone(), stop.clone());
        let (authority, authorization) = (authority.clone(), authorization.clone());
        workers.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(&authority).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(connection);
            let mut times = Vec::new();
            let mut k = w;
            // Without a duration: each question once (the warm-up).
            while !stop.load(Ordering::Relaxed) && (duration.is_some() || k < bodies.len()) {
                let (body, permit) = &bodies[k % bodies.len()];
                k += connections;
                let request = hyper::Request::post("/authorization/api/v1/authorize")
                    .header("host", authority.as_str())
                    .header("authorization", authorization.as_str())
                    .header("content-type", "application/json")
                    .body(http_body_util::Full::new(body.clone()))
                    .unwrap();
                let t = Instant::now();
                let response = sender.send_request(request).await.unwrap();
                assert!(response.status().is_success(), "{}", response.status());
                let answer = http_body_util::BodyExt::collect(response.into_body())
                    .await
                    .unwrap()
                    .to_bytes();
                times.push(t.elapsed());
                if let Some(permit) = permit {
                    let said_permit = answer.windows(8).any(|w| w == b"\"Permit\"");
                    assert_eq!(said_permit, *permit, "HTTP answer differs from the engines");
                }
            }
            times
        }));
    }
    if let Some(duration) = duration {
        tokio::time::sleep(duration).await;
        stop.store(true, Ordering::Relaxed);
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rate = all.len() as f64 / elapsed;
    let (p50_us, p99_us) = percentiles(&mut all);
    HttpRun {
        connections,
        audit: server.audit,
        rate,
        p50_us,
        p99_us,
    }
}
