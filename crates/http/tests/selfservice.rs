//! The journey's set-up phase with real tokens and no operator token, on SQLite and
//! PostgreSQL: Skatteetaten creates a scope and gives SmartCloud AS access; SmartCloud
//! creates a Maskinporten client with a key, registers a system with it and gets a token
//! for the scope, and is refused once the access is revoked; another vendor can neither
//! see nor change SmartCloud's clients, nor create scopes under `skatteetaten:`.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use common::json_of;
use common::portal::{UI, choose_party, get, logged_in, nb, post};
use josekit::jws::{JwsHeader, RS256};
use josekit::jwt::{self, JwtPayload};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use systembruker_http::demo::{
    DEMO_RESOURCE, DEMO_SCOPE, OLA, SKATTEETATEN, SMARTCLOUD, SVERRE, TALLMAKERNE,
};
use systembruker_http::testing::TestServer;
use systembruker_storage::{HistoryFilter, HistoryStore};

systembruker_http::server_tests!(
    set_up_phase_without_an_operator,
    another_vendor_can_neither_see_nor_change_the_clients,
    nobody_else_creates_scopes_under_an_owners_prefix,
    keys_are_public_few_and_expire,
    a_scope_open_to_all_and_its_lifetime_cap,
    self_developed_system_in_the_portal_ends_in_permit,
    the_developer_pages_need_the_package,
    the_operator_gives_prefixes,
);

const SCOPE: &str = "skatteetaten:restanser";
const CLIENTS_WRITE: &str = "idporten:dcr.write";
const SCOPES_WRITE: &str = "idporten:scopes.write";
const VENDOR_SCOPES: &str = "altinn:authentication/systemregister.write";

fn mp(server: &TestServer, method: Method, path: &str, token: &str) -> RequestBuilder {
    Client::new()
        .request(method, server.at(&format!("/maskinporten/api/v1/{path}")))
        .bearer_auth(token)
}

/// A key pair made by josekit (an independent JOSE implementation).
struct KeyPair {
    kid: String,
    public: Value,
    signer: josekit::jws::alg::rsassa::RsassaJwsSigner,
    pem: String,
}

impl KeyPair {
    fn new(name: &str) -> Self {
        let pair = RS256.generate_key_pair(2048).unwrap();
        let kid = format!("{name}-{}", uuid::Uuid::new_v4());
        let mut public = pair.to_jwk_public_key();
        public.set_key_id(&kid);
        Self {
            public: serde_json::to_value(public.as_ref()).unwrap(),
            signer: RS256.signer_from_der(pair.to_der_private_key()).unwrap(),
            pem: String::from_utf8(pair.to_pem_public_key()).unwrap(),
            kid,
        }
    }

    /// A JWT-bearer grant of `client_id` for `scope`.
    fn assertion(&self, server: &TestServer, client_id: &str, scope: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "aud": format!("{}/maskinporten/", server.url), "iss": client_id, "scope": scope,
            "iat": now, "exp": now + 60, "jti": uuid::Uuid::new_v4().to_string(),
        });
        self.sign(&claims)
    }

    /// A grant for a system-user token for the system user `owner` has.
    fn system_user_assertion(&self, server: &TestServer, client_id: &str, owner: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "aud": format!("{}/maskinporten/", server.url), "iss": client_id, "scope": DEMO_SCOPE,
            "iat": now, "exp": now + 60, "jti": uuid::Uuid::new_v4().to_string(),
            "authorization_details": [{"type": "urn:altinn:systemuser",
                "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{owner}")}}],
        });
        self.sign(&claims)
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        header.set_key_id(&self.kid);
        let payload = JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
        jwt::encode_with_signer(&payload, &header, &self.signer).unwrap()
    }

    async fn token(
        &self,
        server: &TestServer,
        client_id: &str,
        scope: &str,
    ) -> (StatusCode, Value) {
        grant(server, &self.assertion(server, client_id, scope)).await
    }
}

async fn grant(server: &TestServer, assertion: &str) -> (StatusCode, Value) {
    let response = Client::new()
        .post(server.at("/maskinporten/token"))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn token_of(server: &TestServer, org: &str, scopes: &str) -> String {
    server.enterprise_token(org, scopes).await.unwrap()
}

/// Skatteetaten's new scope, created through self-service.
async fn create_scope(server: &TestServer, owner: &str, body: Value) -> Value {
    let response = mp(server, Method::POST, "scopes", owner)
        .json(&body)
        .send()
        .await
        .unwrap();
    json_of(response, StatusCode::CREATED).await
}

async fn create_client(server: &TestServer, token: &str, scopes: &[&str], key: &KeyPair) -> String {
    let response = mp(server, Method::POST, "clients", token)
        .json(&json!({
            "client_name": "SmartRegnskap",
            "description": "SmartCloud AS's accounting system",
            "integration_type": "maskinporten",
            "token_endpoint_auth_method": "private_key_jwt",
            "grant_types": ["urn:ietf:params:oauth:grant-type:jwt-bearer"],
            "scopes": scopes,
            "jwks": {"keys": [key.public]},
        }))
        .send()
        .await
        .unwrap();
    let client = json_of(response, StatusCode::CREATED).await;
    assert_eq!(client["consumer_org"], SMARTCLOUD);
    client["client_id"].as_str().unwrap().to_string()
}

async fn history_actions(server: &TestServer, entity: &str) -> Vec<String> {
    server
        .store
        .history(&HistoryFilter {
            entity: Some(entity.to_string()),
            limit: 1000,
            ..HistoryFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {}", e.action, e.entity_id))
        .collect()
}

async fn set_up_phase_without_an_operator(server: TestServer) {
    let skatteetaten = token_of(&server, SKATTEETATEN, SCOPES_WRITE).await;
    let smartcloud = token_of(&server, SMARTCLOUD, CLIENTS_WRITE).await;

    // 1. Skatteetaten creates the scope under its prefix.
    let scope = create_scope(
        &server,
        &skatteetaten,
        json!({"prefix": "skatteetaten", "subscope": "restanser",
               "description": "Restanser for virksomheter", "allowed_integration_types": ["maskinporten"]}),
    )
    .await;
    assert_eq!(scope["scope"], SCOPE);
    assert_eq!(scope["owner_orgno"], SKATTEETATEN);
    assert_eq!(scope["access"], json!([]));

    // 2. SmartCloud cannot put it on a client before it is given access.
    let key = KeyPair::new("smartregnskap");
    let response = mp(&server, Method::POST, "clients", &smartcloud)
        .json(&json!({"client_name": "SmartRegnskap", "scopes": [SCOPE]}))
        .send()
        .await
        .unwrap();
    let refused = json_of(response, StatusCode::BAD_REQUEST).await;
    assert!(refused.to_string().contains("MP-250"), "{refused}");

    // 3. Skatteetaten gives SmartCloud access, and sees who has it.
    let response = mp(
        &server,
        Method::PUT,
        &format!("scopes/access/{SMARTCLOUD}?scope={SCOPE}"),
        &skatteetaten,
    )
    .send()
    .await
    .unwrap();
    let access = json_of(response, StatusCode::CREATED).await;
    assert_eq!(access["consumer_orgno"], SMARTCLOUD);
    let response = mp(
        &server,
        Method::GET,
        &format!("scopes/access?scope={SCOPE}"),
        &skatteetaten,
    )
    .send()
    .await
    .unwrap();
    let list = json_of(response, StatusCode::OK).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["consumer_orgno"], SMARTCLOUD);

    // 4. SmartCloud creates a client with the scope and a key, and adds a second key.
    let client_id = create_client(&server, &smartcloud, &[SCOPE, VENDOR_SCOPES], &key).await;
    let second = KeyPair::new("smartregnskap-2");
    let response = mp(
        &server,
        Method::POST,
        &format!("clients/{client_id}/jwks"),
        &smartcloud,
    )
    .json(&json!({"keys": [second.public]}))
    .send()
    .await
    .unwrap();
    let keys = json_of(response, StatusCode::CREATED).await;
    assert_eq!(keys[0]["kid"], second.kid.as_str());
    let read = token_of(&server, SMARTCLOUD, "idporten:dcr.read").await;
    let response = mp(&server, Method::GET, "clients", &read)
        .send()
        .await
        .unwrap();
    let clients = json_of(response, StatusCode::OK).await;
    let ours: Vec<&Value> = clients
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["client_id"] == client_id.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "{clients}");
    assert_eq!(ours[0]["keys"].as_array().unwrap().len(), 2);
    assert!(
        clients
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["consumer_org"] == SMARTCLOUD)
    );

    // 5. It registers a system with that client, with its own Maskinporten token.
    let (status, vendor) = key.token(&server, &client_id, VENDOR_SCOPES).await;
    assert_eq!(status, StatusCode::OK, "{vendor}");
    let vendor = vendor["access_token"].as_str().unwrap().to_string();
    let system = json!({
        "id": "991825827_restansevakt",
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{SMARTCLOUD}")},
        "name": {"nb": "Restansevakt", "nn": "Restansevakt", "en": "Arrears watch"},
        "description": {"nb": "Følger med på restanser", "nn": "Følgjer med på restansar", "en": "Watches arrears"},
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": DEMO_RESOURCE}]}],
        "clientId": [client_id],
        "isVisible": false
    });
    let response = Client::new()
        .post(server.at("/authentication/api/v1/systemregister/vendor"))
        .bearer_auth(&vendor)
        .json(&system)
        .send()
        .await
        .unwrap();
    json_of(response, StatusCode::OK).await;

    // 6. A token for the scope, with either key.
    let (status, token) = key.token(&server, &client_id, SCOPE).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["scope"], SCOPE);
    let (status, token) = second.token(&server, &client_id, SCOPE).await;
    assert_eq!(status, StatusCode::OK, "{token}");

    // 7. Refused for a scope it has no access to: not on the client, and not addable.
    let (status, refused) = key
        .token(&server, &client_id, "skatteetaten:kravogbetalinger")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"], "invalid_scope");
    create_scope(
        &server,
        &skatteetaten,
        json!({"prefix": "skatteetaten", "subscope": "intern", "description": "Bare for Skatteetaten"}),
    )
    .await;
    let response = mp(
        &server,
        Method::PUT,
        &format!("clients/{client_id}"),
        &smartcloud,
    )
    .json(&json!({"client_name": "SmartRegnskap", "scopes": [SCOPE, "skatteetaten:intern"]}))
    .send()
    .await
    .unwrap();
    let refused = json_of(response, StatusCode::BAD_REQUEST).await;
    assert!(refused.to_string().contains("MP-250"), "{refused}");

    // 8. After the access is revoked, the very next token request is refused.
    let response = mp(
        &server,
        Method::DELETE,
        &format!("scopes/access/{SMARTCLOUD}?scope={SCOPE}"),
        &skatteetaten,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, refused) = key.token(&server, &client_id, SCOPE).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"], "invalid_scope");
    assert!(
        refused["error_description"]
            .as_str()
            .unwrap()
            .contains("MP-250")
            || refused.to_string().contains("not been granted"),
        "{refused}"
    );

    // 9. Every change is in the history.
    let scopes = history_actions(&server, "mp_scope").await;
    assert!(scopes.contains(&format!("created {SCOPE}")), "{scopes:?}");
    let access = history_actions(&server, "mp_scope_access").await;
    assert!(
        access.contains(&format!("granted {SCOPE}/{SMARTCLOUD}")),
        "{access:?}"
    );
    assert!(
        access.contains(&format!("revoked {SCOPE}/{SMARTCLOUD}")),
        "{access:?}"
    );
    let clients = history_actions(&server, "mp_client").await;
    assert!(
        clients.contains(&format!("created {client_id}")),
        "{clients:?}"
    );
    let keys = history_actions(&server, "mp_client_key").await;
    assert!(
        keys.contains(&format!("added {client_id}/{}", second.kid)),
        "{keys:?}"
    );
}

async fn another_vendor_can_neither_see_nor_change_the_clients(server: TestServer) {
    let smartcloud = token_of(&server, SMARTCLOUD, CLIENTS_WRITE).await;
    let key = KeyPair::new("smartregnskap");
    let client_id = create_client(&server, &smartcloud, &[], &key).await;
    let other = token_of(&server, TALLMAKERNE, "idporten:dcr.write idporten:dcr.read").await;

    let response = mp(&server, Method::GET, "clients", &other)
        .send()
        .await
        .unwrap();
    let listed = json_of(response, StatusCode::OK).await;
    assert!(!listed.to_string().contains(&client_id), "{listed}");
    for (method, path) in [
        (Method::GET, format!("clients/{client_id}")),
        (Method::DELETE, format!("clients/{client_id}")),
        (Method::GET, format!("clients/{client_id}/jwks")),
        (
            Method::DELETE,
            format!("clients/{client_id}/jwks/{}", key.kid),
        ),
    ] {
        let response = mp(&server, method.clone(), &path, &other)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    let response = mp(
        &server,
        Method::PUT,
        &format!("clients/{client_id}"),
        &other,
    )
    .json(&json!({"client_name": "Taken over"}))
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let intruder = KeyPair::new("intruder");
    let response = mp(
        &server,
        Method::POST,
        &format!("clients/{client_id}/jwks"),
        &other,
    )
    .json(&json!({"keys": [intruder.public]}))
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // Nothing changed: SmartCloud's client still has its one key and its name.
    let response = mp(
        &server,
        Method::GET,
        &format!("clients/{client_id}"),
        &smartcloud,
    )
    .send()
    .await
    .unwrap();
    let client = json_of(response, StatusCode::OK).await;
    assert_eq!(client["client_name"], "SmartRegnskap");
    assert_eq!(client["keys"].as_array().unwrap().len(), 1);
    let (status, _) = intruder.token(&server, &client_id, VENDOR_SCOPES).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A token without a self-service scope is refused (403), as is one without a consumer.
    let plain = token_of(&server, SMARTCLOUD, VENDOR_SCOPES).await;
    let response = mp(&server, Method::GET, "clients", &plain)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = mp(
        &server,
        Method::DELETE,
        &format!("clients/{client_id}"),
        &smartcloud,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, _) = key.token(&server, &client_id, VENDOR_SCOPES).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a deleted client gets no token"
    );
}

async fn nobody_else_creates_scopes_under_an_owners_prefix(server: TestServer) {
    let other = token_of(&server, TALLMAKERNE, SCOPES_WRITE).await;
    let smartcloud = token_of(&server, SMARTCLOUD, SCOPES_WRITE).await;
    let body = json!({"prefix": "skatteetaten", "subscope": "falsk", "description": "Not ours"});
    for token in [&other, &smartcloud] {
        let response = mp(&server, Method::POST, "scopes", token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    // A prefix no one gave it is refused too; its own prefix works.
    let response = mp(&server, Method::POST, "scopes", &other)
        .json(&json!({"prefix": "tallmakerne", "subscope": "x", "description": "No prefix"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let own = create_scope(
        &server,
        &smartcloud,
        json!({"prefix": "smartcloud", "subscope": "logistikk", "description": "Logistics API"}),
    )
    .await;
    assert_eq!(own["scope"], "smartcloud:logistikk");
    // Another owner's scope is not found: not listed, not changeable, no access to give.
    let response = mp(
        &server,
        Method::GET,
        "scopes?scope=skatteetaten:kravogbetalinger",
        &smartcloud,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = mp(&server, Method::GET, "scopes", &smartcloud)
        .send()
        .await
        .unwrap();
    let listed = json_of(response, StatusCode::OK).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let response = mp(
        &server,
        Method::PUT,
        &format!("scopes/access/{TALLMAKERNE}?scope=skatteetaten:kravogbetalinger"),
        &smartcloud,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = mp(
        &server,
        Method::PUT,
        "scopes?scope=skatteetaten:kravogbetalinger",
        &smartcloud,
    )
    .json(&json!({"description": "Taken over"}))
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // Nor through the resource registry: a resource of SmartCloud cannot name a scope
    // under skatteetaten: — the database refuses it as well.
    let stored = systembruker_storage::ScopeDetails {
        name: "skatteetaten:bakdor".into(),
        owner_org: systembruker_domain::OrgNumber::parse(SMARTCLOUD).unwrap(),
        description: None,
        long_description: None,
        integration_types: vec!["maskinporten".into()],
        at_max_age: None,
        accessible_for_all: false,
        delegation_source: None,
        created_at: 0,
        updated_at: None,
    };
    let refused = systembruker_storage::SelfServiceStore::create_scope_recorded(
        &server.store,
        &stored,
        &systembruker_storage::Actor::named("test"),
    )
    .await;
    assert!(
        matches!(refused, Err(systembruker_storage::StoreError::Conflict(_))),
        "{refused:?}"
    );
}

async fn keys_are_public_few_and_expire(server: TestServer) {
    let smartcloud = token_of(&server, SMARTCLOUD, CLIENTS_WRITE).await;
    let first = KeyPair::new("k0");
    let client_id = create_client(&server, &smartcloud, &[], &first).await;
    // A private key is refused and never stored.
    let pair = RS256.generate_key_pair(2048).unwrap();
    let mut private = pair.to_jwk_private_key();
    private.set_key_id("private-one");
    let response = mp(
        &server,
        Method::POST,
        &format!("clients/{client_id}/jwks"),
        &smartcloud,
    )
    .json(&json!({"keys": [serde_json::to_value(private.as_ref()).unwrap()]}))
    .send()
    .await
    .unwrap();
    let refused = json_of(response, StatusCode::BAD_REQUEST).await;
    assert!(refused.to_string().contains("private"), "{refused}");
    // Up to five active keys; the sixth is refused.
    for i in 1..5 {
        let key = KeyPair::new(&format!("k{i}"));
        let response = mp(
            &server,
            Method::POST,
            &format!("clients/{client_id}/jwks"),
            &smartcloud,
        )
        .json(&json!({"keys": [key.public]}))
        .send()
        .await
        .unwrap();
        let added = json_of(response, StatusCode::CREATED).await;
        // Each expires a year after upload.
        let created =
            chrono::DateTime::parse_from_rfc3339(added[0]["created"].as_str().unwrap()).unwrap();
        let expires =
            chrono::DateTime::parse_from_rfc3339(added[0]["expires"].as_str().unwrap()).unwrap();
        assert_eq!((expires - created).num_days(), 365);
    }
    let sixth = KeyPair::new("k5");
    let response = mp(
        &server,
        Method::POST,
        &format!("clients/{client_id}/jwks"),
        &smartcloud,
    )
    .json(&json!({"keys": [sixth.public]}))
    .send()
    .await
    .unwrap();
    let refused = json_of(response, StatusCode::BAD_REQUEST).await;
    assert!(refused.to_string().contains("at most 5"), "{refused}");
    // Removing one makes room.
    let response = mp(
        &server,
        Method::DELETE,
        &format!("clients/{client_id}/jwks/{}", first.kid),
        &smartcloud,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, _) = first.token(&server, &client_id, VENDOR_SCOPES).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a removed key gets no token"
    );
    let response = mp(
        &server,
        Method::POST,
        &format!("clients/{client_id}/jwks"),
        &smartcloud,
    )
    .json(&json!({"keys": [sixth.public]}))
    .send()
    .await
    .unwrap();
    json_of(response, StatusCode::CREATED).await;
    // The PEM form of a key is what the portal also takes; the API takes JWKs.
    assert!(first.pem.contains("BEGIN PUBLIC KEY"));
    let jwk = systembruker_app::selfservice::clients::read_public_key(&first.pem, Some("pem-kid"))
        .unwrap();
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(first.public["n"].as_str().unwrap())
        .unwrap();
    let read = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&jwk.n)
        .unwrap();
    assert_eq!(read, expected);
}

async fn a_scope_open_to_all_and_its_lifetime_cap(server: TestServer) {
    let skatteetaten = token_of(&server, SKATTEETATEN, SCOPES_WRITE).await;
    let scope = create_scope(
        &server,
        &skatteetaten,
        json!({"prefix": "skatteetaten", "subscope": "apen", "description": "Open to all",
               "accessible_for_all": true, "at_max_age": 30,
               "delegation_source": "https://delegering.example/register"}),
    )
    .await;
    assert_eq!(scope["accessible_for_all"], true);
    assert_eq!(scope["at_max_age"], 30);
    // Tallmakerne was given nothing, yet may use the open scope; its tokens live 30 s.
    let tallmakerne = token_of(&server, TALLMAKERNE, CLIENTS_WRITE).await;
    let key = KeyPair::new("tallmakerne");
    let response = mp(&server, Method::POST, "clients", &tallmakerne)
        .json(
            &json!({"client_name": "Tallmakerne", "scopes": ["skatteetaten:apen"],
                      "access_token_lifetime": 600, "jwks": {"keys": [key.public]}}),
        )
        .send()
        .await
        .unwrap();
    let client = json_of(response, StatusCode::CREATED).await;
    let client_id = client["client_id"].as_str().unwrap();
    let (status, token) = key.token(&server, client_id, "skatteetaten:apen").await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["expires_in"], 30);
    // Closing it again stops the next token.
    let response = mp(
        &server,
        Method::PUT,
        "scopes?scope=skatteetaten:apen",
        &skatteetaten,
    )
    .json(&json!({"description": "Closed now", "accessible_for_all": false}))
    .send()
    .await
    .unwrap();
    let updated = json_of(response, StatusCode::OK).await;
    assert_eq!(updated["accessible_for_all"], false);
    let (status, refused) = key.token(&server, client_id, "skatteetaten:apen").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    // Bad settings are refused with the field named.
    let response = mp(&server, Method::POST, "scopes", &skatteetaten)
        .json(&json!({"prefix": "skatteetaten", "subscope": "bad one", "description": "x"}))
        .send()
        .await
        .unwrap();
    let refused = json_of(response, StatusCode::BAD_REQUEST).await;
    assert!(refused.to_string().contains("subscope"), "{refused}");
    let response = mp(&server, Method::POST, "scopes", &skatteetaten)
        .json(&json!({"prefix": "skatteetaten", "subscope": "apen", "description": "again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
}

async fn self_developed_system_in_the_portal_ends_in_permit(server: TestServer) {
    let browser = logged_in(&server, SVERRE).await;
    choose_party(&browser, &server, "SmartCloud AS").await;
    let page = get(&browser, &server, &format!("{UI}/developer")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_has(&nb("developer.clients.heading"));
    let csrf = page.csrf();

    // A private key is refused, and no client is made.
    let pair = RS256.generate_key_pair(2048).unwrap();
    let private_pem = String::from_utf8(pair.to_pem_private_key()).unwrap();
    let refused = post(
        &browser,
        &server,
        &format!("{UI}/developer/clients"),
        &[
            ("csrf", &csrf),
            ("name", "SmartCloud Intern"),
            ("key", &private_pem),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("private key"), "{}", refused.body);
    let smartcloud = systembruker_domain::OrgNumber::parse(SMARTCLOUD).unwrap();
    use systembruker_storage::SelfServiceStore;
    assert!(
        server
            .store
            .consumer_clients(&smartcloud)
            .await
            .unwrap()
            .is_empty()
    );

    // The client with a public PEM key.
    let key = KeyPair::new("intern");
    let done = post(
        &browser,
        &server,
        &format!("{UI}/developer/clients"),
        &[
            ("csrf", &csrf),
            ("name", "SmartCloud Intern"),
            ("scope", DEMO_SCOPE),
            ("key", &key.pem),
            ("kid", &key.kid),
        ],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let clients = server.store.consumer_clients(&smartcloud).await.unwrap();
    assert_eq!(clients.len(), 1);
    let client_id = clients[0].client_id.to_string();

    // The system, with the register's rules: a missing description is the API's refusal.
    let system_form = |description: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("editing", "false".to_string()),
            ("suffix", "intern".to_string()),
            ("name_nb", "Intern".to_string()),
            ("name_nn", "Intern".to_string()),
            ("name_en", "Internal".to_string()),
            ("description_nb", description.to_string()),
            ("description_nn", "Eige system".to_string()),
            ("description_en", "Our own system".to_string()),
            ("resource", DEMO_RESOURCE.to_string()),
            ("client", client_id.clone()),
        ]
    };
    let as_pairs = |form: &Vec<(&'static str, String)>| -> Vec<(String, String)> {
        form.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    };
    let post_system = |form: Vec<(String, String)>| {
        let browser = browser.clone();
        let url = server.at(&format!("{UI}/developer/system"));
        async move {
            let response = browser.post(url).form(&form).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    let (status, body) = post_system(as_pairs(&system_form(""))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("AUTH.VLD"), "{body}");
    let (status, body) = post_system(as_pairs(&system_form("Eget system"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let system_id = format!("{SMARTCLOUD}_intern");

    // A system user for SmartCloud itself, from the portal (no vendor request).
    let confirm = get(
        &browser,
        &server,
        &format!("{UI}/systemuser/create?system={system_id}"),
    )
    .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    let created = post(
        &browser,
        &server,
        &format!("{UI}/systemuser/create"),
        &[("csrf", &confirm.csrf()), ("system", &system_id)],
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.location();
    let system_user = location.split("new=").nth(1).unwrap().to_string();

    // Its token names the system user, and the PDP permits it for SmartCloud.
    let (status, token) = grant(
        &server,
        &key.system_user_assertion(&server, &client_id, SMARTCLOUD),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let claims = common::claims_of(token["access_token"].as_str().unwrap());
    assert_eq!(
        claims["authorization_details"][0]["systemuser_id"][0],
        system_user.as_str()
    );
    let pdp = token_of(&server, SKATTEETATEN, "altinn:authorization/authorize").await;
    assert_eq!(
        common::decision(&server, &pdp, &system_user, SMARTCLOUD).await,
        "Permit"
    );
}

async fn the_developer_pages_need_the_package(server: TestServer) {
    // Ola acts for Rør og Vann AS through a delegated tax package, not as daglig leder.
    let browser = logged_in(&server, OLA).await;
    choose_party(&browser, &server, "Rør og Vann AS").await;
    let page = get(&browser, &server, &format!("{UI}/developer")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    page.assert_lacks(&nb("developer.clients.heading"));
    let refused = post(
        &browser,
        &server,
        &format!("{UI}/developer/clients"),
        &[("csrf", &page.csrf()), ("name", "Sneaky")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let ror = systembruker_domain::OrgNumber::parse(systembruker_http::demo::ROR_OG_VANN).unwrap();
    use systembruker_storage::SelfServiceStore;
    assert!(
        server
            .store
            .consumer_clients(&ror)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The operator's one part: giving a prefix. A prefix cannot be given to a second owner.
async fn the_operator_gives_prefixes(server: TestServer) {
    let admin = systembruker_http::testing::ADMIN_TOKEN;
    let give = |prefix: &str, owner: &str| {
        Client::new()
            .post(server.at("/admin/api/v1/maskinporten/prefixes"))
            .bearer_auth(admin)
            .json(&json!({"prefix": prefix, "owner_org": owner}))
            .send()
    };
    assert_eq!(
        give("tallmakerne", TALLMAKERNE).await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        give("tallmakerne", TALLMAKERNE).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        give("skatteetaten", TALLMAKERNE).await.unwrap().status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        give("Bad Prefix", TALLMAKERNE).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    let tallmakerne = token_of(&server, TALLMAKERNE, SCOPES_WRITE).await;
    let response = mp(&server, Method::GET, "scopes/prefixes", &tallmakerne)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(response, StatusCode::OK).await,
        json!(["tallmakerne"])
    );
    let scope = create_scope(
        &server,
        &tallmakerne,
        json!({"prefix": "tallmakerne", "subscope": "bilag", "description": "Bilag"}),
    )
    .await;
    assert_eq!(scope["owner_orgno"], TALLMAKERNE);
    let given = server
        .store
        .history(&HistoryFilter {
            entity: Some("mp_scope_prefix".into()),
            limit: 100,
            ..HistoryFilter::default()
        })
        .await
        .unwrap();
    assert!(
        given
            .iter()
            .any(|e| e.entity_id == "tallmakerne" && e.actor == "operator")
    );
}
