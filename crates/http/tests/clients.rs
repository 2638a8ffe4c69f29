//! The second journey over HTTP with real tokens, on SQLite and PostgreSQL: an accounting
//! firm's agent system user, its clients, the PDP's answers for them, and the cascade
//! when a client relation ends. Plus every error of client delegation.
#![allow(clippy::unwrap_used)]

mod common;

use common::{PORTAL, VENDOR_SCOPES, call, claims_of, decision, json_of, register_client, uuid_of};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use systembruker_http::demo::{
    BAKERIET, OLA, PIA, ROR_OG_VANN, SKATTEETATEN, SMARTCLOUD, TALLMAKERNE, TINA,
};
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};
use systembruker_storage::{
    ClientDelegationStore, DelegationStore, HistoryFilter, HistoryStore, StoredPackageDelegation,
};
use uuid::Uuid;

systembruker_http::server_tests!(
    second_journey,
    vendor_api_errors,
    client_checks,
    only_client_administrators_manage_clients,
    another_vendor_cannot_touch_the_agent,
    end_user_routes_and_agent_deletion,
    the_firm_adds_itself,
);

const SYSTEM: &str = "991825827_smartregnskap_klient";
const PACKAGE: &str = "regnskapsforer-med-signeringsrettighet";
const CLIENT_SCOPES: &str = "altinn:clientdelegations.read altinn:clientdelegations.write";
/// Tallmakerne AS's party id in the demo data.
const TALLMAKERNE_PARTY: i64 = 70_000_004;
/// An organisation of the reference's test parties (AS), not a client of Tallmakerne.
const VAGLAND: &str = "910480081";

/// SmartCloud's agent system, bound to `client_id`.
async fn register_agent_system(server: &TestServer, vendor: &str, client_id: &str) {
    register_system_with(server, vendor, client_id, SYSTEM, PACKAGE).await;
}

async fn register_system_with(
    server: &TestServer,
    vendor: &str,
    client_id: &str,
    system_id: &str,
    package: &str,
) {
    let system = json!({
        "id": system_id,
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{SMARTCLOUD}")},
        "name": {"nb": "SmartRegnskap klient", "nn": "SmartRekneskap klient", "en": "SmartAccounting client"},
        "description": {"nb": "For regnskapsførere", "nn": "For rekneskapsførarar", "en": "For accountants"},
        "rights": [],
        "accessPackages": [{"urn": format!("urn:altinn:accesspackage:{package}")}],
        "clientId": [client_id],
        "isVisible": false
    });
    let response = call(server, Method::POST, "systemregister/vendor", vendor)
        .json(&system)
        .send()
        .await
        .unwrap();
    json_of(response, StatusCode::OK).await;
}

/// SmartCloud asks Tallmakerne AS for an agent system user; Tina approves. Returns its id.
async fn approved_agent(server: &TestServer, vendor: &str) -> String {
    approved_agent_of(server, vendor, SYSTEM, PACKAGE).await
}

async fn approved_agent_of(
    server: &TestServer,
    vendor: &str,
    system: &str,
    package: &str,
) -> String {
    let response = call(
        server,
        Method::POST,
        "systemuser/request/vendor/agent",
        vendor,
    )
    .json(&json!({
        "systemId": system, "partyOrgNo": TALLMAKERNE,
        "accessPackages": [{"urn": format!("urn:altinn:accesspackage:{package}")}]
    }))
    .send()
    .await
    .unwrap();
    let request = json_of(response, StatusCode::CREATED).await;
    let id = request["id"].as_str().unwrap().to_string();
    assert!(
        request["confirmUrl"].as_str().unwrap().contains(&format!(
            "/accessmanagement/ui/systemuser/agentrequest?id={id}"
        )),
        "{request}"
    );
    let tina = server.personal_token(TINA, PORTAL).await.unwrap();
    let approve = format!("systemuser/request/agent/{TALLMAKERNE_PARTY}/{id}/approve");
    let approved = json_of(
        call(server, Method::POST, &approve, &tina)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved, true);
    id
}

/// A system with an approved agent, ready for client delegation.
async fn agent_setup(server: &TestServer) -> (common::VendorClient, String) {
    let client = register_client(server).await;
    let vendor = server
        .enterprise_token(SMARTCLOUD, VENDOR_SCOPES)
        .await
        .unwrap();
    register_agent_system(server, &vendor, &client.client_id).await;
    let agent = approved_agent(server, &vendor).await;
    (client, agent)
}

/// A call to the vendor API `enduser/systemuser/{path}` with `token`.
async fn vendor_api(
    server: &TestServer,
    method: Method,
    path: &str,
    token: &str,
) -> (StatusCode, Value) {
    let response = call(server, method, &format!("enduser/systemuser/{path}"), token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn client_orgs(list: &Value) -> Vec<String> {
    let mut orgs: Vec<String> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["clientOrganizationNumber"].as_str().unwrap().to_string())
        .collect();
    orgs.sort();
    orgs
}

async fn second_journey(server: TestServer) {
    let (client, agent) = agent_setup(&server).await;
    let tina = server
        .vendor_personal_token(TINA, SMARTCLOUD, CLIENT_SCOPES)
        .await
        .unwrap();

    // Tina, through SmartRegnskap, finds the agent and both demo clients.
    let (status, agents) = vendor_api(
        &server,
        Method::GET,
        &format!("agents?party={TALLMAKERNE}"),
        &tina,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{agents}");
    assert_eq!(agents[0]["id"], agent.as_str());
    assert_eq!(agents[0]["userType"], "agent");
    assert_eq!(
        agents[0]["accessPackages"][0]["urn"],
        format!("urn:altinn:accesspackage:{PACKAGE}")
    );
    let (status, available) = vendor_api(
        &server,
        Method::GET,
        &format!("clients/available?agent={agent}"),
        &tina,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{available}");
    assert_eq!(
        available["systemUserInformation"]["systemUserId"],
        agent.as_str()
    );
    assert_eq!(client_orgs(&available), [ROR_OG_VANN, BAKERIET]);

    // She adds Rør og Vann AS.
    let ror = uuid_of(&server, ROR_OG_VANN).await;
    let (status, added) = vendor_api(
        &server,
        Method::POST,
        &format!("clients?agent={agent}&client={ror}"),
        &tina,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added, json!({"agent": agent, "client": ror}));
    let (_, delegated) = vendor_api(
        &server,
        Method::GET,
        &format!("clients?agent={agent}"),
        &tina,
    )
    .await;
    assert_eq!(client_orgs(&delegated), [ROR_OG_VANN]);

    // The agent's token is for the firm, never for the client.
    let (status, token) = client.token(&server, TALLMAKERNE).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let claims = claims_of(token["access_token"].as_str().unwrap());
    assert_eq!(
        claims["authorization_details"][0]["systemuser_id"][0],
        agent.as_str()
    );
    assert_eq!(
        claims["authorization_details"][0]["systemuser_org"]["ID"],
        format!("0192:{TALLMAKERNE}")
    );
    let (status, refused) = client.token(&server, ROR_OG_VANN).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");

    // The PDP permits for the delegated client only.
    let skatteetaten = server
        .enterprise_token(SKATTEETATEN, "altinn:authorization/authorize")
        .await
        .unwrap();
    assert_eq!(
        decision(&server, &skatteetaten, &agent, ROR_OG_VANN).await,
        "Permit"
    );
    assert_ne!(
        decision(&server, &skatteetaten, &agent, BAKERIET).await,
        "Permit"
    );

    // The operator removes the REGN role: the very next decision is no Permit, and the
    // client is gone from the agent's list, with the removal in the history.
    let response = Client::new()
        .delete(server.at("/admin/api/v1/register/roles"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"from": ROR_OG_VANN, "to": TALLMAKERNE, "role": "REGN"}))
        .send()
        .await
        .unwrap();
    json_of(response, StatusCode::OK).await;
    assert_ne!(
        decision(&server, &skatteetaten, &agent, ROR_OG_VANN).await,
        "Permit"
    );
    let (_, delegated) = vendor_api(
        &server,
        Method::GET,
        &format!("clients?agent={agent}"),
        &tina,
    )
    .await;
    assert_eq!(client_orgs(&delegated), Vec::<String>::new());
    let (_, available) = vendor_api(
        &server,
        Method::GET,
        &format!("clients/available?agent={agent}"),
        &tina,
    )
    .await;
    assert_eq!(client_orgs(&available), [BAKERIET]);
    let history = server
        .store
        .history(&HistoryFilter {
            entity: Some("system_user".into()),
            entity_id: Some(agent.clone()),
            limit: 100,
            ..HistoryFilter::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert!(
        actions.ends_with(&["client_added", "client_removed"]),
        "{actions:?}"
    );
}

async fn vendor_api_errors(server: TestServer) {
    let (_, agent) = agent_setup(&server).await;
    let tina = server
        .vendor_personal_token(TINA, SMARTCLOUD, CLIENT_SCOPES)
        .await
        .unwrap();
    let vld = |body: &Value| body["errors"][0]["code"].as_str().unwrap_or("").to_string();

    // AUTH.VLD-00014: no agent, or an id that names no system user.
    let (status, body) = vendor_api(&server, Method::GET, "clients/available", &tina).await;
    assert_eq!(
        (status, vld(&body)),
        (StatusCode::BAD_REQUEST, "AUTH.VLD-00014".into())
    );
    let (status, body) = vendor_api(
        &server,
        Method::GET,
        &format!("clients?agent={}", Uuid::new_v4()),
        &tina,
    )
    .await;
    assert_eq!(
        (status, vld(&body)),
        (StatusCode::BAD_REQUEST, "AUTH.VLD-00014".into())
    );

    // AUTH.VLD-00016: no client, or not a uuid.
    for query in [
        format!("clients?agent={agent}"),
        format!("clients?agent={agent}&client=315000009"),
    ] {
        let (status, body) = vendor_api(&server, Method::POST, &query, &tina).await;
        assert_eq!(
            (status, vld(&body)),
            (StatusCode::BAD_REQUEST, "AUTH.VLD-00016".into())
        );
    }

    // AUTH.VLD-00015: a standard system user is not an agent.
    let vendor = server
        .enterprise_token(SMARTCLOUD, VENDOR_SCOPES)
        .await
        .unwrap();
    let response = call(&server, Method::POST, "systemuser/request/vendor", &vendor)
        .json(
            &json!({"systemId": "991825827_smartregnskap", "partyOrgNo": TALLMAKERNE,
            "accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}]}),
        )
        .send()
        .await
        .unwrap();
    let request = json_of(response, StatusCode::CREATED).await;
    let standard = request["id"].as_str().unwrap();
    let tina_portal = server.personal_token(TINA, PORTAL).await.unwrap();
    let approve = format!("systemuser/request/{TALLMAKERNE_PARTY}/{standard}/approve");
    let response = call(&server, Method::POST, &approve, &tina_portal)
        .send()
        .await
        .unwrap();
    json_of(response, StatusCode::OK).await;
    let (status, body) = vendor_api(
        &server,
        Method::GET,
        &format!("clients?agent={standard}"),
        &tina,
    )
    .await;
    assert_eq!(
        (status, vld(&body)),
        (StatusCode::BAD_REQUEST, "AUTH.VLD-00015".into())
    );

    // AUTH-00034 on the end-user routes for the same standard system user.
    let response = call(
        &server,
        Method::GET,
        &format!("systemuser/agent/{TALLMAKERNE_PARTY}/{standard}/delegations"),
        &tina_portal,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        json_of(response, StatusCode::BAD_REQUEST).await["code"],
        "AUTH-00034"
    );

    // AUTH-00038: removing a client that was never added.
    let bakeriet = uuid_of(&server, BAKERIET).await;
    let (status, body) = vendor_api(
        &server,
        Method::DELETE,
        &format!("clients?agent={agent}&client={bakeriet}"),
        &tina,
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("AUTH-00038"))
    );

    // Scopes: reading needs clientdelegations.read (or write), writing needs write.
    let reader = server
        .vendor_personal_token(TINA, SMARTCLOUD, "altinn:clientdelegations.read")
        .await
        .unwrap();
    let (status, _) = vendor_api(
        &server,
        Method::POST,
        &format!("clients?agent={agent}&client={bakeriet}"),
        &reader,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = vendor_api(
        &server,
        Method::GET,
        &format!("clients?agent={agent}"),
        &reader,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = vendor_api(
        &server,
        Method::GET,
        &format!("clients?agent={agent}"),
        &tina_portal,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the portal scope is not enough"
    );

    // AUTH-00023: an end-user token that names no vendor.
    let anonymous = server.personal_token(TINA, CLIENT_SCOPES).await.unwrap();
    let (status, body) = vendor_api(
        &server,
        Method::GET,
        &format!("clients?agent={agent}"),
        &anonymous,
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("AUTH-00023"))
    );
}

async fn client_checks(server: TestServer) {
    let (_, agent) = agent_setup(&server).await;
    let tina = server
        .vendor_personal_token(TINA, SMARTCLOUD, CLIENT_SCOPES)
        .await
        .unwrap();
    // AUTH-00079: Skatteetaten gave Tallmakerne no client relation.
    let skatteetaten = uuid_of(&server, SKATTEETATEN).await;
    let (status, body) = vendor_api(
        &server,
        Method::POST,
        &format!("clients?agent={agent}&client={skatteetaten}"),
        &tina,
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("AUTH-00079"))
    );
    // AUTH-00080: Vågland gave Tallmakerne only the tax package, not the accountant one.
    let vagland = uuid_of(&server, VAGLAND).await;
    let tallmakerne = uuid_of(&server, TALLMAKERNE).await;
    server
        .store
        .add_package_delegation(&StoredPackageDelegation {
            from: vagland,
            to: tallmakerne,
            package_code: "skatt-naering".into(),
            can_delegate: false,
            created_at: 0,
            created_by: "test".into(),
        })
        .await
        .unwrap();
    let (status, body) = vendor_api(
        &server,
        Method::POST,
        &format!("clients?agent={agent}&client={vagland}"),
        &tina,
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("AUTH-00080"))
    );
    assert_eq!(body["missingPackages"], json!([PACKAGE]));
    // And it is not offered as available.
    let (_, available) = vendor_api(
        &server,
        Method::GET,
        &format!("clients/available?agent={agent}"),
        &tina,
    )
    .await;
    assert_eq!(client_orgs(&available), [ROR_OG_VANN, BAKERIET]);
    // Nothing was delegated by the refused calls.
    let (_, delegated) = vendor_api(
        &server,
        Method::GET,
        &format!("clients?agent={agent}"),
        &tina,
    )
    .await;
    assert_eq!(client_orgs(&delegated), Vec::<String>::new());
}

async fn only_client_administrators_manage_clients(server: TestServer) {
    let (_, agent) = agent_setup(&server).await;
    let ror = uuid_of(&server, ROR_OG_VANN).await;
    // Pia runs Rør og Vann AS and Ola has a package from it: neither is client
    // administrator for Tallmakerne AS.
    for person in [PIA, OLA] {
        let token = server
            .vendor_personal_token(person, SMARTCLOUD, CLIENT_SCOPES)
            .await
            .unwrap();
        for (method, path) in [
            (Method::GET, format!("agents?party={TALLMAKERNE}")),
            (Method::GET, format!("clients/available?agent={agent}")),
            (Method::POST, format!("clients?agent={agent}&client={ror}")),
        ] {
            let (status, body) = vendor_api(&server, method, &path, &token).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{person} {path}: {body}");
        }
        let portal = server.personal_token(person, PORTAL).await.unwrap();
        let response = call(
            &server,
            Method::POST,
            &format!("systemuser/agent/{TALLMAKERNE_PARTY}/{agent}?client={ror}"),
            &portal,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    let tina = server
        .vendor_personal_token(TINA, SMARTCLOUD, CLIENT_SCOPES)
        .await
        .unwrap();
    let (_, delegated) = vendor_api(
        &server,
        Method::GET,
        &format!("clients?agent={agent}"),
        &tina,
    )
    .await;
    assert_eq!(client_orgs(&delegated), Vec::<String>::new());
}

async fn another_vendor_cannot_touch_the_agent(server: TestServer) {
    let (_, agent) = agent_setup(&server).await;
    let ror = uuid_of(&server, ROR_OG_VANN).await;
    // Tina logged in through another vendor's app (Skatteetaten stands in for one).
    let other = server
        .vendor_personal_token(TINA, SKATTEETATEN, CLIENT_SCOPES)
        .await
        .unwrap();
    for (method, path) in [
        (Method::GET, format!("clients/available?agent={agent}")),
        (Method::GET, format!("clients?agent={agent}")),
        (Method::POST, format!("clients?agent={agent}&client={ror}")),
        (
            Method::DELETE,
            format!("clients?agent={agent}&client={ror}"),
        ),
    ] {
        let (status, body) = vendor_api(&server, method, &path, &other).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["errors"][0]["code"], "AUTH.VLD-00014", "{path}");
    }
    let (status, agents) = vendor_api(
        &server,
        Method::GET,
        &format!("agents?party={TALLMAKERNE}"),
        &other,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(agents, json!([]), "another vendor's agents are not listed");
    let tina = server
        .vendor_personal_token(TINA, SMARTCLOUD, CLIENT_SCOPES)
        .await
        .unwrap();
    let (_, delegated) = vendor_api(
        &server,
        Method::GET,
        &format!("clients?agent={agent}"),
        &tina,
    )
    .await;
    assert_eq!(client_orgs(&delegated), Vec::<String>::new());
}

async fn end_user_routes_and_agent_deletion(server: TestServer) {
    let (client, agent) = agent_setup(&server).await;
    let tina = server.personal_token(TINA, PORTAL).await.unwrap();
    let base = format!("systemuser/agent/{TALLMAKERNE_PARTY}");
    let get = |path: String| {
        let server = &server;
        let tina = tina.clone();
        async move {
            let response = call(server, Method::GET, &path, &tina)
                .send()
                .await
                .unwrap();
            json_of(response, StatusCode::OK).await
        }
    };
    let clients = get(format!("{base}/clients?packages={PACKAGE}")).await;
    assert_eq!(clients.as_array().unwrap().len(), 2, "{clients}");
    assert_eq!(
        clients[0]["relations"][0],
        json!({"kind": "role", "code": "regnskapsforer"})
    );
    let available = get(format!("{base}/{agent}/clients/available")).await;
    assert_eq!(available.as_array().unwrap().len(), 2);
    let bakeriet = uuid_of(&server, BAKERIET).await;
    let ror = uuid_of(&server, ROR_OG_VANN).await;
    for (client_party, org) in [(ror, ROR_OG_VANN), (bakeriet, BAKERIET)] {
        let response = call(
            &server,
            Method::POST,
            &format!("{base}/{agent}?client={client_party}"),
            &tina,
        )
        .send()
        .await
        .unwrap();
        let added = json_of(response, StatusCode::OK).await;
        assert_eq!(added[0]["clientOrganizationNumber"], org, "{added}");
        assert_eq!(added[0]["accessPackages"], json!([PACKAGE]));
    }
    let delegations = get(format!("{base}/{agent}/delegations")).await;
    assert_eq!(delegations.as_array().unwrap().len(), 2);
    assert_eq!(delegations[0]["accessPackages"], json!([PACKAGE]));
    // Removing one client leaves the other.
    let response = call(
        &server,
        Method::DELETE,
        &format!("{base}/{agent}/client?client={bakeriet}"),
        &tina,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(json_of(response, StatusCode::OK).await, true);
    let delegations = get(format!("{base}/{agent}/delegations")).await;
    assert_eq!(delegations[0]["clientId"], ror.to_string());
    // The accountant packages are for clients only: the firm cannot add itself.
    let status = get(format!("{base}/{agent}/self")).await;
    assert_eq!(status["possible"], false);
    let response = call(
        &server,
        Method::POST,
        &format!("{base}/{agent}/self"),
        &tina,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        json_of(response, StatusCode::BAD_REQUEST).await["code"],
        "AUTH-00064"
    );
    // Deleting the agent removes its clients at once: no token, no Permit.
    let skatteetaten = server
        .enterprise_token(SKATTEETATEN, "altinn:authorization/authorize")
        .await
        .unwrap();
    assert_eq!(
        decision(&server, &skatteetaten, &agent, ROR_OG_VANN).await,
        "Permit"
    );
    let response = call(&server, Method::DELETE, &format!("{base}/{agent}"), &tina)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(response, StatusCode::ACCEPTED).await, 1);
    assert_ne!(
        decision(&server, &skatteetaten, &agent, ROR_OG_VANN).await,
        "Permit"
    );
    let (status, _) = client.token(&server, TALLMAKERNE).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let agent_id = Uuid::parse_str(&agent).unwrap();
    assert!(
        server
            .store
            .delegated_clients(agent_id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_firm_adds_itself(server: TestServer) {
    // An agent whose package (skatt-naering) is assignable as well as delegable.
    let client = register_client(&server).await;
    let vendor = server
        .enterprise_token(SMARTCLOUD, VENDOR_SCOPES)
        .await
        .unwrap();
    let system = "991825827_smartskatt_klient";
    register_system_with(&server, &vendor, &client.client_id, system, "skatt-naering").await;
    let agent = approved_agent_of(&server, &vendor, system, "skatt-naering").await;
    let tina = server.personal_token(TINA, PORTAL).await.unwrap();
    let path = format!("systemuser/agent/{TALLMAKERNE_PARTY}/{agent}/self");
    let status = json_of(
        call(&server, Method::GET, &path, &tina)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (status["possible"].clone(), status["delegated"].clone()),
        (json!(true), json!(false))
    );
    let added = json_of(
        call(&server, Method::POST, &path, &tina)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(added["delegated"], true);
    // Pia may not add Tallmakerne to its own agent.
    let pia = server.personal_token(PIA, PORTAL).await.unwrap();
    let response = call(&server, Method::DELETE, &path, &pia)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let removed = json_of(
        call(&server, Method::DELETE, &path, &tina)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(removed["delegated"], false);
}
