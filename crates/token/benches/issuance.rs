//! Token issuance in process: verify the client's assertion and sign the access token,
//! against the raw RSA-2048 signing rate of the same library on the same core.
//!
//! Run: `cargo bench -p systembruker-token --bench issuance`. The ports are in memory, so
//! this measures the token logic and the cryptography; `scripts/bench-tokens.sh` measures
//! the whole server over HTTP.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use systembruker_domain::OrgNumber;
use systembruker_token::client::AssertionRequest;
use systembruker_token::jws::RsaAlgorithm;
use systembruker_token::keys::SigningKey;
use systembruker_token::memory::MemoryStore;
use systembruker_token::ports::{Client, ClientKey, ClientRegistry};
use systembruker_token::{TokenService, TokenSettings};

const ISSUER: &str = "http://127.0.0.1:8080/maskinporten/";
const SCOPE: &str = "altinn:systembruker.demo";

fn setup(rt: &tokio::runtime::Runtime) -> (TokenService, SigningKey, String) {
    let store = Arc::new(MemoryStore::default());
    let client_key = SigningKey::generate(Some("bench-client")).unwrap();
    let client_id = uuid::Uuid::new_v4();
    rt.block_on(async {
        store
            .create_client(&Client {
                client_id,
                client_name: "bench".into(),
                description: None,
                consumer_org: OrgNumber::parse("991825827").unwrap(),
                scopes: vec![SCOPE.into()],
                access_token_lifetime: 120,
                created_at: 0,
                updated_at: 0,
            })
            .await
            .unwrap();
        store
            .add_client_keys(&[ClientKey {
                kid: "bench-client".into(),
                client_id,
                jwk: client_key.public_jwk().clone(),
                created_at: 0,
                expires_at: i64::MAX,
            }])
            .await
            .unwrap();
    });
    let service = TokenService::new(
        store,
        TokenSettings {
            issuer: ISSUER.into(),
            key_encryption: None,
        },
    );
    rt.block_on(service.ensure_signing_key()).unwrap();
    (service, client_key, client_id.to_string())
}

fn issuance(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (service, client_key, client_id) = setup(&rt);
    let server_key = SigningKey::generate(None).unwrap();
    // About the size of an access token's signing input.
    let message = vec![b'x'; 600];
    let mut group = c.benchmark_group("token");
    group.bench_function("raw_rsa2048_sign", |b| {
        b.iter(|| server_key.sign(RsaAlgorithm::RS256, &message).unwrap())
    });
    group.bench_function("issue (verify assertion + sign token)", |b| {
        b.iter_batched(
            // The client's work (signing the assertion) is not measured.
            || {
                AssertionRequest::new(&client_id, ISSUER, SCOPE)
                    .sign(&client_key)
                    .unwrap()
            },
            |assertion| rt.block_on(service.issue(&assertion)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let token = rt
        .block_on(
            service.issue(
                &AssertionRequest::new(&client_id, ISSUER, SCOPE)
                    .sign(&client_key)
                    .unwrap(),
            ),
        )
        .unwrap()
        .access_token;
    group.bench_function("verify access token", |b| {
        b.iter(|| rt.block_on(service.verify_access_token(&token)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, issuance);
criterion_main!(benches);
