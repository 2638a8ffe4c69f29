//! The token logic over in-memory ports: keys at rest, JWK checks, the system-user grant.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use systembruker_domain::OrgNumber;
use systembruker_token::client::AssertionRequest;
use systembruker_token::jwk::RsaJwk;
use systembruker_token::keys::{KeyEncryptionKey, SigningKey, open_private_key, seal_private_key};
use systembruker_token::memory::MemoryStore;
use systembruker_token::ports::{
    Client, ClientKey, ClientRegistry, SystemUserMatch, SystemUserQuery,
};
use systembruker_token::{KeyError, OAuthError, TokenService, TokenSettings};
use uuid::Uuid;

const ISSUER: &str = "https://sb.example/maskinporten/";
const KEK: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

#[test]
fn sealed_keys_open_only_with_their_key() {
    let key = SigningKey::generate(None).unwrap();
    assert_eq!(key.kid().len(), 43, "RFC 7638 thumbprint");
    let kek = KeyEncryptionKey::from_base64(KEK).unwrap();
    let sealed = seal_private_key(&key, Some(&kek)).unwrap();
    assert!(!sealed.contains(&base64_of_der(&key)));
    let opened = open_private_key(key.kid(), &sealed, Some(&kek)).unwrap();
    assert_eq!(opened.public_jwk(), key.public_jwk());
    let other =
        KeyEncryptionKey::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap();
    assert!(matches!(
        open_private_key(key.kid(), &sealed, Some(&other)),
        Err(KeyError::DecryptionFailed(_))
    ));
    assert!(matches!(
        open_private_key(key.kid(), &sealed, None),
        Err(KeyError::EncryptionKeyMissing(_))
    ));
    // The kid is bound: a sealed key cannot be moved to another row.
    assert!(open_private_key("other-kid", &sealed, Some(&kek)).is_err());
    assert!(KeyEncryptionKey::from_base64("c2hvcnQ=").is_err());
}

fn base64_of_der(key: &SigningKey) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(key.to_pkcs8_der().unwrap())
}

#[test]
fn pem_round_trip() {
    let key = SigningKey::generate(Some("k1")).unwrap();
    let again = SigningKey::from_pem(Some("k1"), &key.to_pem().unwrap()).unwrap();
    assert_eq!(again.public_jwk(), key.public_jwk());
}

#[test]
fn client_jwks_are_checked() {
    let key = SigningKey::generate(Some("k1")).unwrap();
    let public = serde_json::to_value(key.public_jwk()).unwrap();
    assert_eq!(RsaJwk::from_json(&public).unwrap(), *key.public_jwk());
    let mut private = public.clone();
    private["d"] = "AQAB".into();
    assert!(RsaJwk::from_json(&private).is_err());
    let mut small = public.clone();
    small["n"] = "AQAB".into();
    assert!(RsaJwk::from_json(&small).is_err());
    let mut ec = public.clone();
    ec["kty"] = "EC".into();
    assert!(RsaJwk::from_json(&ec).is_err());
    let mut hs = public;
    hs["alg"] = "HS256".into();
    assert!(RsaJwk::from_json(&hs).is_err());
}

/// `key`'s public half as a key of `client`, valid for ever.
fn registered(client: &Client, key: &SigningKey) -> ClientKey {
    ClientKey {
        kid: key.kid().into(),
        client_id: client.client_id,
        jwk: key.public_jwk().clone(),
        created_at: 0,
        expires_at: i64::MAX,
    }
}

/// An assertion of `client` for the demo scope, to be signed.
fn demo_assertion(client: &Client) -> AssertionRequest {
    AssertionRequest::new(
        &client.client_id.to_string(),
        ISSUER,
        "altinn:systembruker.demo",
    )
}

async fn service_with_client(store: Arc<MemoryStore>) -> (TokenService, SigningKey, Client) {
    let client_key = SigningKey::generate(Some("vendor-1")).unwrap();
    let client = Client {
        client_id: Uuid::new_v4(),
        client_name: "SmartCloud".into(),
        description: None,
        consumer_org: OrgNumber::parse("991825827").unwrap(),
        scopes: vec!["altinn:systembruker.demo".into()],
        access_token_lifetime: 120,
        created_at: 0,
        updated_at: 0,
    };
    store.create_client(&client).await.unwrap();
    store
        .add_client_keys(&[registered(&client, &client_key)])
        .await
        .unwrap();
    let service = TokenService::new(
        store,
        TokenSettings {
            issuer: ISSUER.into(),
            key_encryption: None,
        },
    );
    (service, client_key, client)
}

#[tokio::test]
async fn system_user_grant_carries_authorization_details() {
    let store = Arc::new(MemoryStore::default());
    let (service, key, client) = service_with_client(store.clone()).await;
    let owner = OrgNumber::parse("315000009").unwrap();
    let system_user = Uuid::new_v4();
    store.add_system_user(
        SystemUserQuery {
            client_id: client.client_id,
            vendor_org: client.consumer_org,
            owner_org: owner,
            external_ref: "315000009".into(),
        },
        SystemUserMatch {
            system_user_id: system_user,
            owner_party: Uuid::new_v4(),
            system_id: "991825827_smartcloud".into(),
            external_ref: "315000009".into(),
        },
    );
    let assertion = demo_assertion(&client)
        .system_user(&owner, None)
        .sign(&key)
        .unwrap();
    let issued = service.issue(&assertion).await.unwrap();
    let verified = service
        .verify_access_token(&issued.access_token)
        .await
        .unwrap();
    let details = &verified.raw["authorization_details"][0];
    assert_eq!(details["type"], "urn:altinn:systemuser");
    assert_eq!(details["systemuser_org"]["ID"], "0192:315000009");
    assert_eq!(details["systemuser_id"][0], system_user.to_string());
    assert_eq!(details["system_id"], "991825827_smartcloud");
    assert_eq!(details["externalRef"], "315000009");
    // Another externalRef finds nothing: MP-303.
    let other = demo_assertion(&client)
        .system_user(&owner, Some("another"))
        .sign(&key)
        .unwrap();
    let refused = service.issue(&other).await.unwrap_err();
    assert_eq!(
        (refused.error, refused.code),
        (OAuthError::InvalidAltinnCustomerConfiguration, "MP-303")
    );
}

#[tokio::test]
async fn restricted_platform_scope_needs_the_access_list() {
    use systembruker_token::ports::ScopeRegistry;
    let store = Arc::new(MemoryStore::default());
    let (service, key, mut client) = service_with_client(store.clone()).await;
    client
        .scopes
        .push("altinn:authentication/systemregister.admin".into());
    store.update_client(&client).await.unwrap();
    let ask = || {
        AssertionRequest::new(
            &client.client_id.to_string(),
            ISSUER,
            "altinn:authentication/systemregister.admin",
        )
        .sign(&key)
        .unwrap()
    };
    assert_eq!(service.issue(&ask()).await.unwrap_err().code, "MP-250");
    store
        .grant_scope_access(
            "altinn:authentication/systemregister.admin",
            &client.consumer_org,
        )
        .await
        .unwrap();
    assert!(service.issue(&ask()).await.is_ok());
}

/// Client keys are parsed once and kept, but the store decides: a kid removed and
/// registered again with other key material verifies with the new key only.
#[tokio::test]
async fn a_kid_registered_again_verifies_with_its_new_key() {
    let store = Arc::new(MemoryStore::default());
    let (service, old_key, client) = service_with_client(store.clone()).await;
    let ask = |key: &SigningKey| demo_assertion(&client).sign(key).unwrap();
    assert!(service.issue(&ask(&old_key)).await.is_ok());
    let new_key = SigningKey::generate(Some("vendor-1")).unwrap();
    assert!(
        store
            .remove_client_key(client.client_id, "vendor-1")
            .await
            .unwrap()
    );
    store
        .add_client_keys(&[registered(&client, &new_key)])
        .await
        .unwrap();
    assert_eq!(
        service.issue(&ask(&old_key)).await.unwrap_err().code,
        "MP-124"
    );
    assert!(service.issue(&ask(&new_key)).await.is_ok());
}

/// The token is signed while the jti is being recorded; a replay must still get no token.
#[tokio::test]
async fn a_replayed_assertion_gets_no_token_even_when_sent_at_once() {
    let store = Arc::new(MemoryStore::default());
    let (service, key, client) = service_with_client(store).await;
    let assertion = demo_assertion(&client).sign(&key).unwrap();
    let (first, second) = tokio::join!(service.issue(&assertion), service.issue(&assertion));
    let codes: Vec<_> = [&first, &second]
        .iter()
        .map(|r| r.as_ref().err().map(|e| e.code))
        .collect();
    assert!(
        codes.contains(&None) && codes.contains(&Some("MP-012")),
        "exactly one token: {codes:?}"
    );
}
