//! The reference's routes that vendors and API owners call (issue #16), on SQLite and
//! PostgreSQL: the facilitator form of an agent's delegations and the trailing-slash forms.
#![allow(clippy::unwrap_used)]

mod common;

use common::{PORTAL, VENDOR_SCOPES, VendorClient, call, claims_of, register_client, uuid_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use systembruker_http::demo::{BAKERIET, OLA, PIA, ROR_OG_VANN, SMARTCLOUD, TALLMAKERNE, TINA};
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};

systembruker_http::server_tests!(
    agent_delegations_name_the_facilitator,
    api_paths_accept_a_trailing_slash,
    a_person_acts_for_themselves_and_their_organisations,
    a_system_user_acts_for_its_clients,
    the_system_user_feed_lists_every_change,
    a_maskinporten_token_is_exchanged_and_introspected,
    parameters_naming_the_facilitator_must_name_the_party,
);

/// Tallmakerne AS's party id in the demo data.
const TALLMAKERNE_PARTY: i64 = 70_000_004;
const AGENT_SYSTEM: &str = "991825827_parity_agent";
const ACCOUNTING: &str = "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet";

/// `(method, path, token, body)` against the authentication API; returns the answer.
async fn send(
    server: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = call(server, method, path, token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// SmartCloud's agent system user for Tallmakerne AS, approved by Tina, with Rør og Vann
/// AS as its one client. Returns the vendor's client and the agent's id.
async fn agent_with_a_client(server: &TestServer) -> (VendorClient, String) {
    let client = register_client(server).await;
    let vendor = server
        .enterprise_token(SMARTCLOUD, VENDOR_SCOPES)
        .await
        .unwrap();
    let tina = server.personal_token(TINA, PORTAL).await.unwrap();
    let localized = |text: &str| json!({"nb": text, "nn": text, "en": text});
    let system = json!({
        "id": AGENT_SYSTEM,
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{SMARTCLOUD}")},
        "name": localized("Paritet"), "description": localized("Klientsystem"),
        "rights": [], "accessPackages": [{"urn": ACCOUNTING}],
        "clientId": [client.client_id], "isVisible": false
    });
    let (status, body) = send(
        server,
        Method::POST,
        "systemregister/vendor",
        &vendor,
        Some(system),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let request = json!({"systemId": AGENT_SYSTEM, "partyOrgNo": TALLMAKERNE, "accessPackages": [{"urn": ACCOUNTING}]});
    let (status, body) = send(
        server,
        Method::POST,
        "systemuser/request/vendor/agent",
        &vendor,
        Some(request),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let agent = body["id"].as_str().unwrap().to_string();
    let approve = format!("systemuser/request/agent/{TALLMAKERNE_PARTY}/{agent}/approve");
    let (status, body) = send(server, Method::POST, &approve, &tina, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!(true)));
    let ror = uuid_of(server, ROR_OG_VANN).await;
    let add = format!("systemuser/agent/{TALLMAKERNE_PARTY}/{agent}?client={ror}");
    let (status, body) = send(server, Method::POST, &add, &tina, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (client, agent)
}

async fn agent_delegations_name_the_facilitator(server: TestServer) {
    let (_, agent) = agent_with_a_client(&server).await;
    let tina = server.personal_token(TINA, PORTAL).await.unwrap();
    let firm = uuid_of(&server, TALLMAKERNE).await;
    let ror = uuid_of(&server, ROR_OG_VANN).await;
    let path = |party: &str, facilitator: &str, agent: &str| {
        format!("systemuser/agent/{party}/{facilitator}/{agent}/delegations")
    };
    let party = TALLMAKERNE_PARTY.to_string();

    let (status, body) = send(
        &server,
        Method::GET,
        &path(&party, &firm.to_string(), &agent),
        &tina,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body[0]["agentSystemUserId"], agent);
    assert_eq!(body[0]["customerId"], ror.to_string());
    assert_eq!(body[0]["clientOrganizationNumber"], ROR_OG_VANN);
    assert_eq!(
        body[0]["accessPackages"],
        json!(["regnskapsforer-med-signeringsrettighet"])
    );
    // The party may be named by its uuid too, and the old path still answers the same clients.
    let (status, by_uuid) = send(
        &server,
        Method::GET,
        &path(&firm.to_string(), &firm.to_string(), &agent),
        &tina,
        None,
    )
    .await;
    assert_eq!(
        (status, by_uuid[0]["customerId"].clone()),
        (StatusCode::OK, json!(ror.to_string()))
    );
    let (status, old) = send(
        &server,
        Method::GET,
        &format!("systemuser/agent/{party}/{agent}/delegations"),
        &tina,
        None,
    )
    .await;
    assert_eq!(
        (status, old[0]["clientId"].clone()),
        (StatusCode::OK, json!(ror.to_string()))
    );

    // Another facilitator than the party is refused, as is one that is no uuid.
    for facilitator in [ror.to_string(), "tallmakerne".to_string()] {
        let (status, body) = send(
            &server,
            Method::GET,
            &path(&party, &facilitator, &agent),
            &tina,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["errors"][0]["code"], "STD-00010", "{body}");
    }
    // Someone who is not client administrator of the firm: 403; no token: 401.
    let pia = server.personal_token(PIA, PORTAL).await.unwrap();
    let (status, body) = send(
        &server,
        Method::GET,
        &path(&party, &firm.to_string(), &agent),
        &pia,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let response = reqwest::Client::new()
        .get(server.at(&format!(
            "/authentication/api/v1/{}",
            path(&party, &firm.to_string(), &agent)
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // An agent the firm does not have: 404; an id that is no uuid: 400.
    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, body) = send(
        &server,
        Method::GET,
        &path(&party, &firm.to_string(), &unknown),
        &tina,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = send(
        &server,
        Method::GET,
        &path(&party, &firm.to_string(), "x"),
        &tina,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn api_paths_accept_a_trailing_slash(server: TestServer) {
    let (_, agent) = agent_with_a_client(&server).await;
    let tina = server.personal_token(TINA, PORTAL).await.unwrap();
    let firm = uuid_of(&server, TALLMAKERNE).await;
    for path in [
        format!("systemuser/agent/{TALLMAKERNE_PARTY}/{firm}/{agent}/delegations/"),
        format!("systemuser/agent/{TALLMAKERNE_PARTY}/{agent}/delegations/"),
        format!("systemuser/agent/{TALLMAKERNE_PARTY}/"),
        format!("systemuser/agent/{TALLMAKERNE_PARTY}/{agent}/self/"),
    ] {
        let (status, body) = send(&server, Method::GET, &path, &tina, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    // A write with a trailing slash is the same write: the client is removed.
    let ror = uuid_of(&server, ROR_OG_VANN).await;
    let remove = format!("systemuser/agent/{TALLMAKERNE_PARTY}/{agent}/client/?client={ror}");
    let (status, body) = send(&server, Method::DELETE, &remove, &tina, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!(true)));
    // Outside the APIs the exact path is kept: the health check has no slash form.
    let response = reqwest::Client::new()
        .get(server.at("/health/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

const PARTIES: &str = "/accessmanagement/api/v1/enduser/authorizedparties";
const PARTIES_SCOPE: &str = "altinn:accessmanagement/authorizedparties";

/// `GET {path}` as `token` (none when empty).
async fn get_as(server: &TestServer, path: &str, token: &str) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().get(server.at(path));
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The party with organisation or person number `number` in an authorized-parties list.
fn party<'a>(list: &'a Value, number: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|p| p["organizationNumber"] == number || p["personId"] == number)
        .unwrap_or_else(|| panic!("{number} is not in {list}"))
}

async fn a_person_acts_for_themselves_and_their_organisations(server: TestServer) {
    let pia = server.personal_token(PIA, PORTAL).await.unwrap();
    let (status, list) = get_as(&server, PARTIES, &pia).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    let own = party(&list, PIA);
    assert_eq!(own["type"], "Person");
    assert!(
        own["authorizedRoles"]
            .as_array()
            .unwrap()
            .contains(&json!("PRIV")),
        "{own}"
    );
    let ror = party(&list, ROR_OG_VANN);
    assert_eq!(ror["type"], "Organization");
    assert!(
        ror["authorizedRoles"]
            .as_array()
            .unwrap()
            .contains(&json!("DAGL")),
        "{ror}"
    );
    assert!(
        !ror["authorizedAccessPackages"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{ror}"
    );
    // The older path answers the same.
    assert_eq!(
        get_as(&server, "/accessmanagement/api/v1/authorizedparties", &pia)
            .await
            .1,
        list
    );

    // Ola received a package from Rør og Vann; nobody else's national id is shown.
    let ola = server.personal_token(OLA, PORTAL).await.unwrap();
    let (_, list) = get_as(&server, PARTIES, &ola).await;
    let ror = party(&list, ROR_OG_VANN);
    assert_eq!(
        ror["authorizedAccessPackages"],
        json!(["skatt-naering"]),
        "{ror}"
    );
    assert_eq!(ror["authorizedRoles"], json!([]));
    assert!(!list.to_string().contains(PIA));

    // Tina is daglig leder of Tallmakerne AS, the accountant of two clients: through the
    // key role she acts for them with the accountant's role.
    let tina = server.personal_token(TINA, PORTAL).await.unwrap();
    let (_, list) = get_as(&server, PARTIES, &tina).await;
    for client in [ROR_OG_VANN, BAKERIET] {
        let found = party(&list, client);
        assert!(
            found["authorizedRoles"]
                .as_array()
                .unwrap()
                .contains(&json!("REGN")),
            "{found}"
        );
    }
    assert!(
        party(&list, TALLMAKERNE)["authorizedRoles"]
            .as_array()
            .unwrap()
            .contains(&json!("DAGL"))
    );

    // The parameters acted on, and one that is not.
    let (_, without) = get_as(
        &server,
        &format!("{PARTIES}?includeRoles=false&includeAltinn2=true"),
        &tina,
    )
    .await;
    assert_eq!(party(&without, TALLMAKERNE)["authorizedRoles"], json!([]));
    assert_eq!(
        get_as(&server, &format!("{PARTIES}?includeAltinn3=false"), &tina)
            .await
            .1,
        json!([])
    );
    let (status, body) = get_as(&server, &format!("{PARTIES}?includeInstances=true"), &tina).await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("STD-00010"))
    );

    // No token: 401; a vendor's token without the scope: 403; with it, but naming no
    // person or system user: 403.
    assert_eq!(
        get_as(&server, PARTIES, "").await.0,
        StatusCode::UNAUTHORIZED
    );
    let vendor = server
        .enterprise_token(SMARTCLOUD, VENDOR_SCOPES)
        .await
        .unwrap();
    assert_eq!(
        get_as(&server, PARTIES, &vendor).await.0,
        StatusCode::FORBIDDEN
    );
    let scoped = server
        .enterprise_token(SMARTCLOUD, PARTIES_SCOPE)
        .await
        .unwrap();
    assert_eq!(
        get_as(&server, PARTIES, &scoped).await.0,
        StatusCode::FORBIDDEN
    );
}

async fn a_system_user_acts_for_its_clients(server: TestServer) {
    let (client, _) = agent_with_a_client(&server).await;
    // The vendor's client may ask for the authorized-parties scope.
    let response = reqwest::Client::new()
        .put(server.at(&format!(
            "/admin/api/v1/maskinporten/clients/{}",
            client.client_id
        )))
        .bearer_auth(ADMIN_TOKEN)
        .json(
            &json!({"client_name": "SmartCloud", "consumer_org": SMARTCLOUD,
            "scopes": [common::DEMO_SCOPE, PARTIES_SCOPE]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap()
    );
    let token = |scope: &'static str| {
        let assertion = client.assertion_with_scope(TALLMAKERNE, scope);
        let server = &server;
        async move {
            let response = reqwest::Client::new()
                .post(server.at("/maskinporten/token"))
                .form(&[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", &assertion),
                ])
                .send()
                .await
                .unwrap();
            let body: Value = response.json().await.unwrap();
            body["access_token"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"))
                .to_string()
        }
    };
    // The agent acts for its one client, with the delegated package, not for its owner.
    let (status, list) = get_as(&server, PARTIES, &token(PARTIES_SCOPE).await).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let ror = party(&list, ROR_OG_VANN);
    assert_eq!(
        ror["authorizedAccessPackages"],
        json!(["regnskapsforer-med-signeringsrettighet"])
    );
    // A system-user token without the scope: 403.
    let (status, body) = get_as(&server, PARTIES, &token(common::DEMO_SCOPE).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

const STREAM: &str = "/authentication/api/v1/systemuser/internal/systemusers/stream";

/// Follows the feed from `token` to its end; returns its items and the last token.
async fn follow(server: &TestServer, mut token: i64) -> (Vec<Value>, i64) {
    let mut items = Vec::new();
    loop {
        let (status, page) = get_as(server, &format!("{STREAM}?token={token}"), ADMIN_TOKEN).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let data = page["data"].as_array().unwrap().clone();
        if data.is_empty() {
            assert_eq!(page["links"]["next"], Value::Null, "{page}");
            return (items, token);
        }
        let next = page["links"]["next"].as_str().unwrap();
        token = next.rsplit_once("token=").unwrap().1.parse().unwrap();
        assert_eq!(page["stats"]["pageEnd"], token);
        items.extend(data);
    }
}

async fn the_system_user_feed_lists_every_change(server: TestServer) {
    let (_, before) = follow(&server, 0).await;
    let (_, agent) = agent_with_a_client(&server).await;
    let (items, end) = follow(&server, before).await;
    let created = items
        .iter()
        .rev()
        .find(|i| i["id"] == agent)
        .unwrap_or_else(|| panic!("{items:?}"));
    assert_eq!(created["systemUserType"], "agent");
    assert_eq!(created["partyOrgNo"], TALLMAKERNE);
    assert_eq!(created["isDeleted"], false);
    assert!(created["sequenceNo"].as_i64().unwrap() > before);
    // Deleting the agent is the next change in the feed, marked deleted.
    let tina = server.personal_token(TINA, PORTAL).await.unwrap();
    let delete = format!("systemuser/agent/{TALLMAKERNE_PARTY}/{agent}");
    let (status, body) = send(&server, Method::DELETE, &delete, &tina, None).await;
    assert!(status.is_success(), "{status} {body}");
    let (items, _) = follow(&server, end).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(
        (items[0]["id"].clone(), items[0]["isDeleted"].clone()),
        (json!(agent), json!(true))
    );

    // Only internal callers read it; the token is a sequence number.
    let vendor = server
        .enterprise_token(SMARTCLOUD, VENDOR_SCOPES)
        .await
        .unwrap();
    assert_eq!(
        get_as(&server, STREAM, &vendor).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get_as(&server, STREAM, "").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = get_as(&server, &format!("{STREAM}?token=abc"), ADMIN_TOKEN).await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("STD-00010"))
    );
}

async fn a_maskinporten_token_is_exchanged_and_introspected(server: TestServer) {
    let (client, agent) = agent_with_a_client(&server).await;
    let (status, body) = client.token(&server, TALLMAKERNE).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let original = body["access_token"].as_str().unwrap().to_string();
    let exchange = |query: &str, token: &str| {
        let mut request = reqwest::Client::new().get(server.at(&format!(
            "/authentication/api/v1/exchange/maskinporten{query}"
        )));
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let response = exchange("", &original).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let exchanged = response.text().await.unwrap();
    let (old, new) = (claims_of(&original), claims_of(&exchanged));
    assert_ne!(old["jti"], new["jti"]);
    assert_eq!(
        new["authorization_details"][0]["systemuser_id"],
        json!([agent])
    );
    assert_eq!(new["consumer"], old["consumer"]);
    assert_eq!(new["scope"], old["scope"]);
    assert!(new["exp"].as_i64().unwrap() <= old["exp"].as_i64().unwrap());
    // Person tokens are not Maskinporten tokens; no token is 401; `test=true` and unknown
    // parameters are refused.
    let tina = server.personal_token(TINA, PORTAL).await.unwrap();
    assert_eq!(
        exchange("", &tina).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        exchange("", "").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    for query in ["?test=true", "?org=digdir"] {
        let response = exchange(query, &original).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
    }
    assert_eq!(
        exchange("?test=false", &original).await.unwrap().status(),
        StatusCode::OK
    );

    // Introspection: the exchanged token is active with its claims; anything else is not.
    let vendor = server
        .enterprise_token(SMARTCLOUD, VENDOR_SCOPES)
        .await
        .unwrap();
    let introspect = |form: String, bearer: &str, content_type: &str| {
        let mut request = reqwest::Client::new()
            .post(server.at("/authentication/api/v1/introspection"))
            .header("Content-Type", content_type.to_string())
            .body(form);
        if !bearer.is_empty() {
            request = request.bearer_auth(bearer);
        }
        request.send()
    };
    const FORM: &str = "application/x-www-form-urlencoded";
    let response = introspect(format!("token={exchanged}"), &vendor, FORM)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(
        answer["authorization_details"],
        new["authorization_details"]
    );
    assert_eq!(answer["exp"], new["exp"]);
    let response = introspect("token=not.a.token".into(), &vendor, FORM)
        .await
        .unwrap();
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"active": false})
    );
    let cases = [
        (
            format!("token={exchanged}"),
            "",
            FORM,
            StatusCode::UNAUTHORIZED,
        ),
        (
            format!("{{\"token\": \"{exchanged}\"}}"),
            vendor.as_str(),
            "application/json",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "other=1".to_string(),
            vendor.as_str(),
            FORM,
            StatusCode::BAD_REQUEST,
        ),
        (
            "token=a&token=b".to_string(),
            vendor.as_str(),
            FORM,
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (form, bearer, content_type, expected) in cases {
        let response = introspect(form.clone(), bearer, content_type)
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{form}");
    }
}

async fn parameters_naming_the_facilitator_must_name_the_party(server: TestServer) {
    let (_, agent) = agent_with_a_client(&server).await;
    let tina = server.personal_token(TINA, PORTAL).await.unwrap();
    let (firm, ror, bakeriet) = (
        uuid_of(&server, TALLMAKERNE).await,
        uuid_of(&server, ROR_OG_VANN).await,
        uuid_of(&server, BAKERIET).await,
    );
    let base = format!("systemuser/agent/{TALLMAKERNE_PARTY}");
    let refused = [
        (Method::GET, format!("{base}/clients?facilitator={ror}")),
        (
            Method::POST,
            format!("{base}/{agent}?client={bakeriet}&provider={ror}"),
        ),
        (
            Method::DELETE,
            format!("{base}/{agent}/client?client={ror}&provider=tallmakerne"),
        ),
        (
            Method::DELETE,
            format!("{base}/{agent}?facilitatorId={ror}"),
        ),
    ];
    for (method, path) in refused {
        let (status, body) = send(&server, method.clone(), &path, &tina, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {body}");
        assert_eq!(body["errors"][0]["code"], "STD-00010", "{body}");
    }
    // Nothing was changed by the refused calls: the agent still has its one client.
    let (status, clients) = send(
        &server,
        Method::GET,
        &format!("{base}/{agent}/delegations"),
        &tina,
        None,
    )
    .await;
    assert_eq!(
        (status, clients.as_array().unwrap().len()),
        (StatusCode::OK, 1)
    );
    // Naming the party itself acts as without the parameter.
    let (status, body) = send(
        &server,
        Method::GET,
        &format!("{base}/clients?facilitator={firm}"),
        &tina,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let add = format!("{base}/{agent}?client={bakeriet}&provider={firm}");
    let (status, body) = send(&server, Method::POST, &add, &tina, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let delete = format!("{base}/{agent}?facilitatorId={firm}");
    let (status, body) = send(&server, Method::DELETE, &delete, &tina, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}
