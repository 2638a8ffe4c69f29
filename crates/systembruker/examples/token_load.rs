//! HTTP load for the token endpoint (used by scripts/bench-tokens.sh): pre-signs COUNT
//! assertions on all cores, then sends them with CONCURRENCY requests in flight and
//! prints the issuance rate. Loopback only; bounded by COUNT and by a 60 s deadline.
//!
//! `token_load URL CLIENT_ID KEY_PEM KID SCOPE COUNT CONCURRENCY [reqwest|poll]`
//!
//! With `SB_BENCH_SYSTEM_USER_ORG=ORGNO` the assertions ask for a system-user token for
//! that organisation's system user of the client's system (the kind the audit records).
//!
//! Two ways to send:
//! - `reqwest` (default): an ordinary async client (tokio, reqwest, keep-alive); its
//!   thread sleeps in epoll between responses.
//! - `poll`: one thread that never sleeps, writing requests and reading responses on
//!   non-blocking keep-alive sockets in turn. On loopback the kernel delivers a response
//!   on the *sender's* core: the server's core runs the client's TCP receive and, when
//!   the client sleeps, wakes it (an inter-processor interrupt, dear in a VM: measured at
//!   ~4.5 % of the server's core). A client across a network costs the server nothing of
//!   that; a client that is always awake needs no wake-up. Only for a client with a core
//!   of its own: on the server's cores it would take their time.
#![allow(clippy::unwrap_used)]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use systembruker_token::client::AssertionRequest;
use systembruker_token::keys::SigningKey;

const DEADLINE: Duration = Duration::from_secs(60);

struct Outcome {
    sent: usize,
    failed: usize,
    seconds: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() == 8 || args.len() == 9,
        "usage: token_load URL CLIENT_ID KEY_PEM KID SCOPE COUNT CONCURRENCY [reqwest|poll]"
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
    let system_user = std::env::var("SB_BENCH_SYSTEM_USER_ORG")
        .ok()
        .map(|org| systembruker_domain::OrgNumber::parse(&org))
        .transpose()?;
    let assertions = sign_assertions(key, &client_id, &issuer, &scope, system_user, count).await?;
    let outcome = match args.get(8).map(String::as_str).unwrap_or("reqwest") {
        "reqwest" => send_with_reqwest(&issuer, assertions, concurrency).await?,
        "poll" => {
            let host = url.trim_start_matches("http://").trim_end_matches('/');
            send_polling(host, &assertions, concurrency)?
        }
        other => anyhow::bail!("unknown sender {other:?}: use reqwest or poll"),
    };
    let Outcome {
        sent,
        failed,
        seconds,
    } = outcome;
    println!(
        "{{\"requests\": {sent}, \"failed\": {failed}, \"seconds\": {seconds:.3}, \"tokens_per_second\": {:.0}}}",
        (sent - failed) as f64 / seconds
    );
    anyhow::ensure!(failed == 0, "{failed} requests failed");
    Ok(())
}

/// Assertions are valid for ±10 s around iat: sign them all first, on every core.
async fn sign_assertions(
    key: Arc<SigningKey>,
    client_id: &str,
    issuer: &str,
    scope: &str,
    system_user: Option<systembruker_domain::OrgNumber>,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let started = Instant::now();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let mut signers = Vec::new();
    for part in 0..cores {
        let (key, client_id, issuer, scope) = (
            key.clone(),
            client_id.to_string(),
            issuer.to_string(),
            scope.to_string(),
        );
        let n = count / cores + usize::from(part < count % cores);
        signers.push(tokio::task::spawn_blocking(move || {
            (0..n)
                .map(|_| {
                    let request = AssertionRequest::new(&client_id, &issuer, &scope);
                    match &system_user {
                        Some(org) => request.system_user(org, None),
                        None => request,
                    }
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
    Ok(assertions)
}

async fn send_with_reqwest(
    issuer: &str,
    assertions: Vec<String>,
    concurrency: usize,
) -> anyhow::Result<Outcome> {
    let assertions = Arc::new(assertions);
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let endpoint = format!("{issuer}token");
    let deadline = Instant::now() + DEADLINE;
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
    Ok(Outcome {
        sent: next.load(Ordering::Relaxed).min(assertions.len()),
        failed: failures.load(Ordering::Relaxed),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// One keep-alive connection of the polling sender, with at most one request in flight.
struct Connection {
    stream: TcpStream,
    request: Vec<u8>,
    written: usize,
    response: Vec<u8>,
}

impl Connection {
    fn open(host: &str) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(host)?;
        stream.set_nodelay(true)?;
        stream.set_nonblocking(true)?;
        Ok(Self {
            stream,
            request: Vec::new(),
            written: 0,
            response: Vec::new(),
        })
    }

    fn busy(&self) -> bool {
        !self.request.is_empty()
    }

    fn start(&mut self, host: &str, assertion: &str) {
        // The grant type's colons, form-encoded; an assertion is base64url and dots.
        let body = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
        );
        self.request = format!(
            "POST /maskinporten/token HTTP/1.1\r\nhost: {host}\r\n\
             content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
        self.written = 0;
        self.response.clear();
    }

    /// Moves the exchange on without waiting; `Some(status)` once the whole response is in.
    fn progress(&mut self, buffer: &mut [u8]) -> anyhow::Result<Option<u16>> {
        if self.written < self.request.len() {
            match self.stream.write(&self.request[self.written..]) {
                Ok(n) => self.written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.into()),
            }
            return Ok(None);
        }
        match self.stream.read(buffer) {
            Ok(0) => anyhow::bail!("the server closed the connection"),
            Ok(n) => self.response.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        let Some(status) = complete_response(&self.response)? else {
            return Ok(None);
        };
        if status != 200 {
            eprintln!("failure: {}", String::from_utf8_lossy(&self.response));
        }
        self.request.clear();
        Ok(Some(status))
    }
}

/// The status of `response` once its head and its `content-length` body are all there.
fn complete_response(response: &[u8]) -> anyhow::Result<Option<u16>> {
    let Some(head_end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&response[..head_end])?.to_ascii_lowercase();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("no status line"))?
        .parse()?;
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .ok_or_else(|| anyhow::anyhow!("no content-length"))?
        .trim()
        .parse()?;
    Ok((response.len() >= head_end + 4 + length).then_some(status))
}

fn send_polling(host: &str, assertions: &[String], concurrency: usize) -> anyhow::Result<Outcome> {
    let mut connections = (0..concurrency)
        .map(|_| Connection::open(host))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut buffer = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + DEADLINE;
    let started = Instant::now();
    let (mut sent, mut answered, mut failed) = (0, 0, 0);
    while answered < assertions.len() && Instant::now() < deadline {
        for connection in &mut connections {
            if !connection.busy() {
                let Some(assertion) = assertions.get(sent) else {
                    continue;
                };
                connection.start(host, assertion);
                sent += 1;
            }
            if let Some(status) = connection.progress(&mut buffer)? {
                answered += 1;
                failed += usize::from(status != 200);
            }
        }
    }
    Ok(Outcome {
        sent: answered,
        failed,
        seconds: started.elapsed().as_secs_f64(),
    })
}
