//! HTTP load for the token endpoint (used by scripts/bench-tokens.sh): pre-signs COUNT
//! assertions on all cores, then sends them with CONCURRENCY requests in flight and
//! prints the issuance rate. Loopback only; bounded by COUNT and by a 60 s deadline.
//!
//! `token_load URL CLIENT_ID KEY_PEM KID SCOPE COUNT CONCURRENCY`
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use systembruker_token::client::AssertionRequest;
use systembruker_token::keys::SigningKey;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() == 8,
        "usage: token_load URL CLIENT_ID KEY_PEM KID SCOPE COUNT CONCURRENCY"
    );
    let (url, client_id, kid, scope) = (&args[1], args[2].clone(), &args[4], args[5].clone());
    anyhow::ensure!(
        url.starts_with("http://127.") || url.starts_with("http://localhost"),
        "the load goes to loopback only"
    );
    let count: usize = args[6].parse()?;
    let concurrency: usize = args[7].parse()?;
    let key = Arc::new(SigningKey::from_pem(
        Some(kid),
        &std::fs::read_to_string(&args[3])?,
    )?);
    let issuer = format!("{}/maskinporten/", url.trim_end_matches('/'));

    // Assertions are valid for ±10 s around iat: sign them all first, then send at once.
    let started = Instant::now();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let mut signers = Vec::new();
    for part in 0..cores {
        let (key, client_id, issuer, scope) = (
            key.clone(),
            client_id.clone(),
            issuer.clone(),
            scope.clone(),
        );
        let n = count / cores + usize::from(part < count % cores);
        signers.push(tokio::task::spawn_blocking(move || {
            (0..n)
                .map(|_| {
                    AssertionRequest::new(&client_id, &issuer, &scope)
                        .sign(&key)
                        .unwrap()
                })
                .collect::<Vec<_>>()
        }));
    }
    let mut assertions = Vec::with_capacity(count);
    for signer in signers {
        assertions.extend(signer.await?);
    }
    eprintln!(
        "signed {count} assertions in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let assertions = Arc::new(assertions);
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let endpoint = format!("{issuer}token");
    let deadline = Instant::now() + Duration::from_secs(60);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (assertions, next, failures, http, endpoint) = (
            assertions.clone(),
            next.clone(),
            failures.clone(),
            http.clone(),
            endpoint.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= assertions.len() || Instant::now() > deadline {
                    break;
                }
                let response = http
                    .post(&endpoint)
                    .form(&[
                        ("grant_type", systembruker_token::JWT_BEARER_GRANT),
                        ("assertion", assertions[i].as_str()),
                    ])
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                    }
                    Ok(r) => {
                        if failures.fetch_add(1, Ordering::Relaxed) == 0 {
                            eprintln!("first failure: {}", r.text().await.unwrap_or_default());
                        }
                    }
                    Err(e) => {
                        failures.fetch_add(1, Ordering::Relaxed);
                        eprintln!("request failed: {e}");
                    }
                }
            }
        }));
    }
    for worker in workers {
        worker.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let sent = next.load(Ordering::Relaxed).min(count);
    let failed = failures.load(Ordering::Relaxed);
    println!(
        "{{\"requests\": {sent}, \"failed\": {failed}, \"seconds\": {elapsed:.3}, \"tokens_per_second\": {:.0}}}",
        (sent - failed) as f64 / elapsed
    );
    anyhow::ensure!(failed == 0, "{failed} requests failed");
    Ok(())
}
