//! Access lists of the resource registry over HTTP, and what they do to decisions, on
//! SQLite and PostgreSQL: owners manage their own lists only, bad input is a problem,
//! every change is in the history, an `Enabled` resource permits only listed
//! organisations, and a request without a resource party is enriched with the subject's
//! memberships and party type.
#![allow(clippy::unwrap_used)]

use reqwest::{Client, Method};
use serde_json::{Value, json};
use systembruker_http::demo::{
    DEMO_RESOURCE, PIA, ROR_OG_VANN, SKATTEETATEN, SMARTCLOUD, TALLMAKERNE,
};
use systembruker_http::server_tests;
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};
use systembruker_storage::{HistoryFilter, HistoryStore, ResourceStore};

server_tests!(
    owners_manage_their_own_lists_only,
    bad_input_is_answered_with_a_problem,
    members_and_connections_round_trip_and_every_change_is_in_the_history,
    an_enabled_resource_permits_only_organisations_on_a_connected_list,
    a_request_without_a_party_is_enriched_with_memberships_and_party_type,
);

const WRITE: &str = "altinn:resourceregistry/accesslist.write";
const READ_ONLY: &str = "altinn:resourceregistry/accesslist.read";
const LIST: &str = "/resourceregistry/api/v1/access-lists/skd/godkjente-banker";

async fn send(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = Client::new()
        .request(method, server.at(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn skd(server: &TestServer) -> String {
    server.enterprise_token(SKATTEETATEN, WRITE).await.unwrap()
}

fn org_urn(number: &str) -> Value {
    json!(format!("urn:altinn:organization:identifier-no:{number}"))
}

/// Adds Rør og Vann to the list's members.
async fn add_ror_og_vann(server: &TestServer, token: &str) -> (u16, Value) {
    send(
        server,
        token,
        Method::POST,
        &format!("{LIST}/members"),
        Some(json!({"data": [org_urn(ROR_OG_VANN)]})),
    )
    .await
}

async fn create_list(server: &TestServer, token: &str) {
    let (status, body) = send(
        server,
        token,
        Method::PUT,
        LIST,
        Some(json!({"name": "Godkjente banker"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

async fn owners_manage_their_own_lists_only(server: TestServer) {
    let skd = skd(&server).await;
    let (status, body) = send(
        &server,
        &skd,
        Method::PUT,
        LIST,
        Some(json!({"name": "Banker", "description": "Banker med avtale"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["urn"], "urn:altinn:access-list:skd:godkjente-banker");
    assert_eq!(body["identifier"], "godkjente-banker");
    assert_eq!(body["description"], "Banker med avtale");
    let (status, body) = send(
        &server,
        &skd,
        Method::PUT,
        LIST,
        Some(json!({"name": "Godkjente banker"})),
    )
    .await;
    assert_eq!(
        (status, body["name"].as_str()),
        (200, Some("Godkjente banker")),
        "an update"
    );
    let (status, body) = send(
        &server,
        &skd,
        Method::GET,
        "/resourceregistry/api/v1/access-lists/skd",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["links"]["next"], Value::Null);
    // Skatteetaten may also name itself by organisation number.
    let by_number = format!("/resourceregistry/api/v1/access-lists/{SKATTEETATEN}");
    assert_eq!(
        send(&server, &skd, Method::GET, &by_number, None).await.0,
        200
    );

    // Another organisation reads and writes nothing of Skatteetaten's.
    let other = server.enterprise_token(SMARTCLOUD, WRITE).await.unwrap();
    for (method, path, body) in [
        (
            Method::GET,
            "/resourceregistry/api/v1/access-lists/skd".to_string(),
            None,
        ),
        (Method::GET, LIST.to_string(), None),
        (
            Method::PUT,
            LIST.to_string(),
            Some(json!({"name": "Kapret"})),
        ),
        (Method::DELETE, LIST.to_string(), None),
        (
            Method::POST,
            format!("{LIST}/members"),
            Some(json!({"data": [org_urn(SMARTCLOUD)]})),
        ),
    ] {
        let (status, problem) = send(&server, &other, method.clone(), &path, body).await;
        assert_eq!(status, 403, "{method} {path}: {problem}");
        assert!(problem["code"].as_str().is_some(), "{problem}");
    }
    // SmartCloud manages lists of its own.
    let own = format!("/resourceregistry/api/v1/access-lists/{SMARTCLOUD}/kunder");
    assert_eq!(
        send(
            &server,
            &other,
            Method::PUT,
            &own,
            Some(json!({"name": "Kunder"}))
        )
        .await
        .0,
        201
    );

    // The read scope reads but does not write; no token is 401.
    let reader = server
        .enterprise_token(SKATTEETATEN, READ_ONLY)
        .await
        .unwrap();
    assert_eq!(send(&server, &reader, Method::GET, LIST, None).await.0, 200);
    assert_eq!(
        send(
            &server,
            &reader,
            Method::PUT,
            LIST,
            Some(json!({"name": "x"}))
        )
        .await
        .0,
        403
    );
    let response = Client::new().get(server.at(LIST)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    // Operators manage any owner's lists.
    assert_eq!(
        send(&server, ADMIN_TOKEN, Method::GET, LIST, None).await.0,
        200
    );
}

async fn bad_input_is_answered_with_a_problem(server: TestServer) {
    let skd = skd(&server).await;
    let bad_identifier = "/resourceregistry/api/v1/access-lists/skd/Ikke%20gyldig";
    let (status, problem) = send(
        &server,
        &skd,
        Method::PUT,
        bad_identifier,
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["errors"][0]["paths"][0], "/identifier", "{problem}");
    let (status, problem) = send(
        &server,
        &skd,
        Method::PUT,
        LIST,
        Some(json!({"name": "  "})),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["paths"][0].as_str()),
        (400, Some("/name")),
        "{problem}"
    );
    let (status, _) = send(
        &server,
        &skd,
        Method::PUT,
        LIST,
        Some(json!({"description": "no name"})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, problem) = send(&server, &skd, Method::GET, LIST, None).await;
    assert_eq!(status, 404, "{problem}");
    let (status, _) = add_ror_og_vann(&server, &skd).await;
    assert_eq!(status, 404, "no such list yet");

    create_list(&server, &skd).await;
    let members = format!("{LIST}/members");
    for (member, why) in [
        (json!("315000009"), "not a URN"),
        (org_urn("315000008"), "a bad org number"),
        (
            json!(format!("urn:altinn:person:identifier-no:{PIA}")),
            "a person",
        ),
        (json!("urn:altinn:party:id:99999999"), "not in the register"),
    ] {
        let (status, problem) = send(
            &server,
            &skd,
            Method::POST,
            &members,
            Some(json!({"data": [org_urn(ROR_OG_VANN), member]})),
        )
        .await;
        assert_eq!(status, 400, "{why}: {problem}");
        assert_eq!(
            problem["errors"][0]["paths"][0], "/data/1",
            "{why}: {problem}"
        );
    }
    let pia_party = json!("urn:altinn:party:id:70000011");
    let (status, problem) = send(
        &server,
        &skd,
        Method::POST,
        &members,
        Some(json!({"data": [pia_party]})),
    )
    .await;
    assert_eq!(status, 400, "a person is no member: {problem}");
    let too_many: Vec<Value> = (0..101).map(|_| org_urn(ROR_OG_VANN)).collect();
    let (status, _) = send(
        &server,
        &skd,
        Method::PUT,
        &members,
        Some(json!({"data": too_many})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = send(&server, &skd, Method::GET, &members, None).await;
    assert_eq!(
        (status, body["data"].as_array().map(Vec::len)),
        (200, Some(0)),
        "nothing was added"
    );
    let connection = format!("{LIST}/resource-connections/finnes-ikke");
    assert_eq!(
        send(&server, &skd, Method::PUT, &connection, Some(json!({})))
            .await
            .0,
        404
    );
    let blank = format!("{LIST}/resource-connections/{DEMO_RESOURCE}");
    assert_eq!(
        send(
            &server,
            &skd,
            Method::PUT,
            &blank,
            Some(json!({"actionFilters": [" "]}))
        )
        .await
        .0,
        400
    );
}

async fn members_and_connections_round_trip_and_every_change_is_in_the_history(server: TestServer) {
    let skd = skd(&server).await;
    create_list(&server, &skd).await;
    let members = format!("{LIST}/members");
    let (status, body) = send(
        &server,
        &skd,
        Method::POST,
        &members,
        Some(json!({"data": [org_urn(ROR_OG_VANN), org_urn(TALLMAKERNE)]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert!(
        data[0]["id"]
            .as_str()
            .unwrap()
            .starts_with("urn:altinn:party:uuid:")
    );
    let numbers: Vec<&str> = data
        .iter()
        .map(|m| {
            m["identifiers"]["urn:altinn:organization:identifier-no"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(
        numbers.contains(&ROR_OG_VANN) && numbers.contains(&TALLMAKERNE),
        "{body}"
    );
    let (_, body) = send(
        &server,
        &skd,
        Method::DELETE,
        &members,
        Some(json!({"data": [org_urn(TALLMAKERNE)]})),
    )
    .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    let (_, body) = send(
        &server,
        &skd,
        Method::PUT,
        &members,
        Some(json!({"data": [org_urn(TALLMAKERNE)]})),
    )
    .await;
    assert_eq!(
        body["data"][0]["identifiers"]["urn:altinn:organization:identifier-no"],
        TALLMAKERNE
    );

    let connection = format!("{LIST}/resource-connections/{DEMO_RESOURCE}");
    let (status, body) = send(
        &server,
        &skd,
        Method::PUT,
        &connection,
        Some(json!({"actionFilters": ["read"]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["resourceIdentifier"], DEMO_RESOURCE);
    assert_eq!(body["actionFilters"], json!(["read"]));
    let (_, body) = send(
        &server,
        &skd,
        Method::GET,
        &format!("{LIST}/resource-connections"),
        None,
    )
    .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1, "{body}");
    // A list is connected to its owner's resources only.
    let other = server.enterprise_token(SMARTCLOUD, WRITE).await.unwrap();
    let own = format!("/resourceregistry/api/v1/access-lists/{SMARTCLOUD}/kunder");
    send(
        &server,
        &other,
        Method::PUT,
        &own,
        Some(json!({"name": "Kunder"})),
    )
    .await;
    let foreign = format!("{own}/resource-connections/{DEMO_RESOURCE}");
    assert_eq!(
        send(&server, &other, Method::PUT, &foreign, Some(json!({})))
            .await
            .0,
        403
    );

    assert_eq!(
        send(&server, &skd, Method::DELETE, &connection, None)
            .await
            .0,
        200
    );
    assert_eq!(
        send(&server, &skd, Method::DELETE, &connection, None)
            .await
            .0,
        204
    );
    assert_eq!(send(&server, &skd, Method::DELETE, LIST, None).await.0, 200);
    assert_eq!(send(&server, &skd, Method::DELETE, LIST, None).await.0, 204);

    let history = server
        .store
        .history(&HistoryFilter {
            entity: Some("access_list".into()),
            entity_id: Some("skd/godkjente-banker".into()),
            after: 0,
            limit: 100,
        })
        .await
        .unwrap();
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "created",
            "members_added",
            "members_removed",
            "members_replaced",
            "resource_connected",
            "resource_disconnected",
            "deleted"
        ]
    );
    assert!(
        history
            .iter()
            .all(|e| e.actor == format!("org:{SKATTEETATEN}")),
        "{history:?}"
    );
}

async fn authorize(server: &TestServer, subject: Value, action: &str, resource: Value) -> Value {
    let body = json!({"Request": {
        "AccessSubject": [{"Attribute": subject}],
        "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": action}]}],
        "Resource": [{"Attribute": resource}]
    }});
    let (status, json) = send(
        server,
        ADMIN_TOKEN,
        Method::POST,
        "/authorization/api/v1/authorize",
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{json}");
    json["Response"][0].clone()
}

/// Pia (daglig leder) reads the demo resource for Rør og Vann.
async fn pia_reads(server: &TestServer) -> String {
    let subject = json!([{"AttributeId": "urn:altinn:person:identifier-no", "Value": PIA}]);
    let resource = json!([
        {"AttributeId": "urn:altinn:resource", "Value": DEMO_RESOURCE},
        {"AttributeId": "urn:altinn:organization:identifier-no", "Value": ROR_OG_VANN}]);
    authorize(server, subject, "read", resource).await["Decision"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn set_mode(server: &TestServer, mode: &str) {
    let mut resource = server
        .store
        .resource(DEMO_RESOURCE)
        .await
        .unwrap()
        .unwrap()
        .resource;
    resource.access_list_mode = Some(mode.into());
    server.store.update_resource(&resource).await.unwrap();
}

async fn an_enabled_resource_permits_only_organisations_on_a_connected_list(server: TestServer) {
    assert_eq!(pia_reads(&server).await, "Permit", "without access lists");
    set_mode(&server, "Enabled").await;
    assert_eq!(
        pia_reads(&server).await,
        "Deny",
        "Rør og Vann is on no list"
    );
    let skd = skd(&server).await;
    create_list(&server, &skd).await;
    let (status, body) = add_ror_og_vann(&server, &skd).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        pia_reads(&server).await,
        "Deny",
        "the list is not connected yet"
    );
    let connection = format!("{LIST}/resource-connections/{DEMO_RESOURCE}");
    send(&server, &skd, Method::PUT, &connection, Some(json!({}))).await;
    assert_eq!(
        pia_reads(&server).await,
        "Permit",
        "on a connected list without a filter"
    );
    send(
        &server,
        &skd,
        Method::PUT,
        &connection,
        Some(json!({"actionFilters": ["write"]})),
    )
    .await;
    assert_eq!(
        pia_reads(&server).await,
        "Deny",
        "the filter lets only write through"
    );
    send(
        &server,
        &skd,
        Method::PUT,
        &connection,
        Some(json!({"actionFilters": ["read"]})),
    )
    .await;
    assert_eq!(pia_reads(&server).await, "Permit");
    send(
        &server,
        &skd,
        Method::DELETE,
        &format!("{LIST}/members"),
        Some(json!({"data": [org_urn(ROR_OG_VANN)]})),
    )
    .await;
    assert_eq!(pia_reads(&server).await, "Deny", "removed from the list");
    set_mode(&server, "Disabled").await;
    assert_eq!(pia_reads(&server).await, "Permit", "the gate is open again");
}

const CONSENT: &str = "skd-samtykke-test";

fn rule(id: &str, attribute: &str, value: &str, action: &str) -> String {
    let string = "http://www.w3.org/2001/XMLSchema#string";
    format!(
        r#"<xacml:Rule RuleId="{id}" Effect="Permit"><xacml:Target>
<xacml:AnyOf><xacml:AllOf><xacml:Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal"><xacml:AttributeValue DataType="{string}">{value}</xacml:AttributeValue><xacml:AttributeDesignator AttributeId="{attribute}" Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject" DataType="{string}" MustBePresent="false"/></xacml:Match></xacml:AllOf></xacml:AnyOf>
<xacml:AnyOf><xacml:AllOf><xacml:Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal"><xacml:AttributeValue DataType="{string}">{CONSENT}</xacml:AttributeValue><xacml:AttributeDesignator AttributeId="urn:altinn:resource" Category="urn:oasis:names:tc:xacml:3.0:attribute-category:resource" DataType="{string}" MustBePresent="false"/></xacml:Match></xacml:AllOf></xacml:AnyOf>
<xacml:AnyOf><xacml:AllOf><xacml:Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal"><xacml:AttributeValue DataType="{string}">{action}</xacml:AttributeValue><xacml:AttributeDesignator AttributeId="urn:oasis:names:tc:xacml:1.0:action:action-id" Category="urn:oasis:names:tc:xacml:3.0:attribute-category:action" DataType="{string}" MustBePresent="false"/></xacml:Match></xacml:AllOf></xacml:AnyOf>
</xacml:Target></xacml:Rule>"#
    )
}

/// A consent resource: organisations on Skatteetaten's list may request consent, and
/// persons may give it.
async fn consent_resource(server: &TestServer) {
    let resource = json!({
        "identifier": CONSENT,
        "title": {"nb": "Samtykke", "nn": "Samtykke", "en": "Consent"},
        "description": {"nb": "a", "nn": "b", "en": "c"},
        "resourceType": "Consent",
        "delegable": false,
        "hasCompetentAuthority": {"organization": SKATTEETATEN, "orgcode": "skd"}
    });
    let (status, body) = send(
        server,
        ADMIN_TOKEN,
        Method::POST,
        "/resourceregistry/api/v1/resource",
        Some(resource),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let policy = format!(
        r#"<xacml:Policy xmlns:xacml="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="p" Version="1" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides"><xacml:Target/>{}{}</xacml:Policy>"#,
        rule(
            "r1",
            "urn:altinn:access-list",
            "skd:godkjente-banker",
            "requestconsent"
        ),
        rule("r2", "urn:altinn:partytype", "person", "consent"),
    );
    let response = Client::new()
        .put(server.at(&format!(
            "/resourceregistry/api/v1/resource/{CONSENT}/policy"
        )))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/xml")
        .body(policy)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        200,
        "{}",
        response.text().await.unwrap()
    );
}

async fn consent_decision(server: &TestServer, subject: Value, action: &str) -> Value {
    authorize(
        server,
        subject,
        action,
        json!([{"AttributeId": "urn:altinn:resource", "Value": CONSENT}]),
    )
    .await
}

fn org_subject(number: &str) -> Value {
    json!([{"AttributeId": "urn:altinn:organization:identifier-no", "Value": number}])
}

async fn a_request_without_a_party_is_enriched_with_memberships_and_party_type(server: TestServer) {
    consent_resource(&server).await;
    let request = consent_decision(&server, org_subject(ROR_OG_VANN), "requestconsent").await;
    assert_eq!(
        request["Decision"], "NotApplicable",
        "on no list: {request}"
    );
    let skd = skd(&server).await;
    create_list(&server, &skd).await;
    let (status, body) = add_ror_og_vann(&server, &skd).await;
    assert_eq!(status, 200, "{body}");
    let request = consent_decision(&server, org_subject(ROR_OG_VANN), "requestconsent").await;
    assert_eq!(request["Decision"], "Permit", "on the list: {request}");
    let other = consent_decision(&server, org_subject(TALLMAKERNE), "requestconsent").await;
    assert_eq!(other["Decision"], "NotApplicable", "{other}");

    let person = json!([{"AttributeId": "urn:altinn:person:identifier-no", "Value": PIA}]);
    assert_eq!(
        consent_decision(&server, person, "consent").await["Decision"],
        "Permit"
    );
    assert_eq!(
        consent_decision(&server, org_subject(ROR_OG_VANN), "consent").await["Decision"],
        "NotApplicable",
        "an organisation is no person"
    );

    // No one claims a membership the register does not give them.
    let claimed = json!([
        {"AttributeId": "urn:altinn:organization:identifier-no", "Value": TALLMAKERNE},
        {"AttributeId": "urn:altinn:access-list", "Value": "skd:godkjente-banker"}]);
    let refused = consent_decision(&server, claimed, "requestconsent").await;
    assert_eq!(refused["Decision"], "Indeterminate", "{refused}");
}
