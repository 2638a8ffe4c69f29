//! The PDP, the PIP and resource policies over HTTP, with the demo data, on SQLite and
//! PostgreSQL (issue 4's "done when").
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use systembruker_domain::catalogue::Catalogue;
use systembruker_domain::{OrgNumber, PersonNumber};
use systembruker_http::demo::{
    BAKERIET, BERNT, DEMO_RESOURCE, OLA, PIA, ROR_OG_VANN, TALLMAKERNE, TINA,
};
use systembruker_http::pdp::Enrichment;
use systembruker_http::server_tests;
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};
use systembruker_storage::{DelegationStore, PipStore, RegisterStore, ResourceStore, SqlStore};
use uuid::Uuid;

server_tests!(
    pia_as_daglig_leder_may_read,
    ola_may_read_through_the_delegation_until_it_is_revoked,
    bernt_may_not_read_for_ror_og_vann,
    tallmakerne_holds_the_accountant_packages_for_both_clients,
    multi_request_is_answered_in_order_for_every_party_form,
    system_user_must_be_the_only_subject_attribute,
    caller_may_not_supply_roles_or_packages,
    removed_role_changes_the_next_decision,
    replaced_policy_changes_the_next_decision,
    malformed_requests_are_400_and_tokens_are_checked,
    policy_upload_is_validated_and_rights_are_listed,
    decisions_are_counted_in_metrics,
    ambiguous_resource_party_is_indeterminate,
);

const READ: &str = "read";

fn person(pid: &str) -> Value {
    json!([{"AttributeId": "urn:altinn:person:identifier-no", "Value": pid}])
}

fn org(number: &str) -> Value {
    json!([{"AttributeId": "urn:altinn:organization:identifier-no", "Value": number}])
}

/// One individual request: subject attributes, action, resource party by org number.
fn request(subject: Value, action: &str, party_org: &str) -> Value {
    json!({"Request": {
        "ReturnPolicyIdList": true,
        "AccessSubject": [{"Attribute": subject}],
        "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": action}]}],
        "Resource": [{"Attribute": [
            {"AttributeId": "urn:altinn:resource", "Value": DEMO_RESOURCE},
            {"AttributeId": "urn:altinn:organization:identifier-no", "Value": party_org}]}]
    }})
}

async fn authorize_raw(server: &TestServer, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(server.at("/authorization/api/v1/authorize"))
        .bearer_auth(ADMIN_TOKEN)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn decisions(server: &TestServer, body: &Value) -> Vec<String> {
    let (status, json) = authorize_raw(server, body).await;
    assert_eq!(status, 200, "{json}");
    json["Response"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Decision"].as_str().unwrap().to_string())
        .collect()
}

async fn decision(server: &TestServer, subject: Value, party_org: &str) -> String {
    decisions(server, &request(subject, READ, party_org))
        .await
        .remove(0)
}

async fn uuid_of(store: &SqlStore, identifier: &str) -> Uuid {
    let party = if identifier.len() == 11 {
        store
            .person(&PersonNumber::parse(identifier).unwrap())
            .await
    } else {
        store
            .organization(&OrgNumber::parse(identifier).unwrap())
            .await
    };
    party.unwrap().unwrap().uuid
}

async fn pia_as_daglig_leder_may_read(server: TestServer) {
    let (status, json) = authorize_raw(&server, &request(person(PIA), READ, ROR_OG_VANN)).await;
    assert_eq!(status, 200);
    let result = &json["Response"][0];
    assert_eq!(result["Decision"], "Permit", "{json}");
    assert_eq!(
        result["Status"]["StatusCode"]["Value"],
        "urn:oasis:names:tc:xacml:1.0:status:ok"
    );
    let obligation = &result["Obligations"][0];
    assert_eq!(
        obligation["id"],
        "urn:altinn:obligation:authenticationLevel1"
    );
    assert_eq!(obligation["attributeAssignment"][0]["value"], "3");
    assert_eq!(
        obligation["attributeAssignment"][0]["category"],
        "urn:altinn:minimum-authenticationlevel"
    );
    assert_eq!(
        result["PolicyIdentifierList"]["PolicyIdReference"][0]["Id"],
        "urn:altinn:policyid:ske-krav-og-betalinger"
    );
    // Only read is granted.
    let sign = decisions(&server, &request(person(PIA), "sign", ROR_OG_VANN)).await;
    assert_eq!(sign, ["NotApplicable"]);
}

async fn ola_may_read_through_the_delegation_until_it_is_revoked(server: TestServer) {
    assert_eq!(decision(&server, person(OLA), ROR_OG_VANN).await, "Permit");
    // Not for another organisation: the delegation is Rør og Vann's.
    assert_eq!(
        decision(&server, person(OLA), BAKERIET).await,
        "NotApplicable"
    );
    let removed = server
        .store
        .remove_package_delegation(
            uuid_of(&server.store, ROR_OG_VANN).await,
            uuid_of(&server.store, OLA).await,
            "skatt-naering",
            "test",
        )
        .await
        .unwrap();
    assert!(removed);
    assert_eq!(
        decision(&server, person(OLA), ROR_OG_VANN).await,
        "NotApplicable"
    );
}

async fn bernt_may_not_read_for_ror_og_vann(server: TestServer) {
    assert_eq!(
        decision(&server, person(BERNT), ROR_OG_VANN).await,
        "NotApplicable"
    );
    // …but he may for his own bakery.
    assert_eq!(decision(&server, person(BERNT), BAKERIET).await, "Permit");
}

async fn tallmakerne_holds_the_accountant_packages_for_both_clients(server: TestServer) {
    let firm = uuid_of(&server.store, TALLMAKERNE).await;
    for client in [ROR_OG_VANN, BAKERIET] {
        let facts = server
            .store
            .subject_facts(firm, uuid_of(&server.store, client).await)
            .await
            .unwrap();
        let enrichment = Enrichment::from_facts(Catalogue::builtin(), facts).unwrap();
        for package in [
            "regnskapsforer-med-signeringsrettighet",
            "regnskapsforer-uten-signeringsrettighet",
            "regnskapsforer-lonn",
        ] {
            assert!(
                enrichment.packages.iter().any(|p| p == package),
                "{client}: {:?}",
                enrichment.packages
            );
        }
        assert!(enrichment.role_codes.contains(&"REGN".to_string()));
        // The firm and, through her key role, its daglig leder may read for the client.
        assert_eq!(decision(&server, org(TALLMAKERNE), client).await, "Permit");
        assert_eq!(decision(&server, person(TINA), client).await, "Permit");
    }
}

async fn multi_request_is_answered_in_order_for_every_party_form(server: TestServer) {
    let ror = server
        .store
        .organization(&OrgNumber::parse(ROR_OG_VANN).unwrap())
        .await
        .unwrap()
        .unwrap();
    let body = json!({"Request": {
        "AccessSubject": [
            {"Id": "pia", "Attribute": person(PIA)},
            {"Id": "bernt", "Attribute": person(BERNT)}],
        "Action": [{"Id": "read", "Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
        "Resource": [
            {"Id": "by-uuid", "Attribute": [{"AttributeId": "urn:altinn:resource", "Value": DEMO_RESOURCE},
                {"AttributeId": "urn:altinn:party:uuid", "Value": ror.uuid.to_string()}]},
            {"Id": "by-id", "Attribute": [{"AttributeId": "urn:altinn:resource", "Value": DEMO_RESOURCE},
                {"AttributeId": "urn:altinn:partyid", "Value": ror.id.to_string()}]},
            {"Id": "by-org", "Attribute": [{"AttributeId": "urn:altinn:resource", "Value": DEMO_RESOURCE},
                {"AttributeId": "urn:altinn:organization:identifier-no", "Value": ROR_OG_VANN}]}],
        "MultiRequests": {"RequestReference": [
            {"ReferenceId": ["pia", "read", "by-uuid"]},
            {"ReferenceId": ["bernt", "read", "by-uuid"]},
            {"ReferenceId": ["pia", "read", "by-id"]},
            {"ReferenceId": ["pia", "read", "by-org"]},
            {"ReferenceId": ["bernt", "read", "by-org"]}]}
    }});
    // (An unknown reference makes the whole request one processing-error, as in the
    // reference: tests/decision.rs.)
    let got = decisions(&server, &body).await;
    assert_eq!(
        got,
        [
            "Permit",
            "NotApplicable",
            "Permit",
            "Permit",
            "NotApplicable"
        ]
    );
}

async fn system_user_must_be_the_only_subject_attribute(server: TestServer) {
    let system_user = Uuid::new_v4().to_string();
    let alone = json!([{"AttributeId": "urn:altinn:systemuser:uuid", "Value": system_user}]);
    assert_eq!(decision(&server, alone, ROR_OG_VANN).await, "NotApplicable");
    let ror = uuid_of(&server.store, ROR_OG_VANN).await;
    // A standard system user is rettighetshaver of its organisation: give it the package.
    server
        .store
        .add_package_delegation(&systembruker_storage::StoredPackageDelegation {
            from: ror,
            to: Uuid::parse_str(&system_user).unwrap(),
            package_code: "skatt-naering".into(),
            can_delegate: false,
            created_at: 0,
            created_by: "test".into(),
        })
        .await
        .unwrap();
    let alone = json!([{"AttributeId": "urn:altinn:systemuser:uuid", "Value": system_user}]);
    assert_eq!(decision(&server, alone, ROR_OG_VANN).await, "Permit");
    let crowded = json!([
        {"AttributeId": "urn:altinn:systemuser:uuid", "Value": system_user},
        {"AttributeId": "urn:altinn:person:identifier-no", "Value": PIA}]);
    let (_, json) = authorize_raw(&server, &request(crowded, READ, ROR_OG_VANN)).await;
    assert_eq!(json["Response"][0]["Decision"], "Indeterminate");
    assert_eq!(
        json["Response"][0]["Status"]["StatusCode"]["Value"],
        "urn:oasis:names:tc:xacml:1.0:status:processing-error"
    );
}

async fn caller_may_not_supply_roles_or_packages(server: TestServer) {
    let forged = json!([
        {"AttributeId": "urn:altinn:person:identifier-no", "Value": BERNT},
        {"AttributeId": "urn:altinn:rolecode", "Value": "DAGL"}]);
    assert_eq!(
        decision(&server, forged, ROR_OG_VANN).await,
        "Indeterminate"
    );
}

async fn removed_role_changes_the_next_decision(server: TestServer) {
    assert_eq!(decision(&server, person(PIA), ROR_OG_VANN).await, "Permit");
    let (ror, pia) = (
        uuid_of(&server.store, ROR_OG_VANN).await,
        uuid_of(&server.store, PIA).await,
    );
    assert!(
        server
            .store
            .remove_role(ror, pia, "daglig-leder", "test")
            .await
            .unwrap()
    );
    assert_eq!(
        decision(&server, person(PIA), ROR_OG_VANN).await,
        "NotApplicable"
    );
    assert!(
        server
            .store
            .add_role(ror, pia, "daglig-leder", "test")
            .await
            .unwrap()
    );
    assert_eq!(decision(&server, person(PIA), ROR_OG_VANN).await, "Permit");
}

/// The demo policy granting write instead of read.
fn policy_for_write() -> String {
    include_str!("../../app/data/ske-krav-og-betalinger.xml").replace(">read<", ">write<")
}

async fn put_policy(
    server: &TestServer,
    method: reqwest::Method,
    id: &str,
    xml: &str,
) -> (u16, Value) {
    let response = reqwest::Client::new()
        .request(
            method,
            server.at(&format!("/resourceregistry/api/v1/resource/{id}/policy")),
        )
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/xml")
        .body(xml.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn replaced_policy_changes_the_next_decision(server: TestServer) {
    assert_eq!(decision(&server, person(PIA), ROR_OG_VANN).await, "Permit");
    let (status, body) = put_policy(
        &server,
        reqwest::Method::PUT,
        DEMO_RESOURCE,
        &policy_for_write(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        decision(&server, person(PIA), ROR_OG_VANN).await,
        "NotApplicable"
    );
    let write = decisions(&server, &request(person(PIA), "write", ROR_OG_VANN)).await;
    assert_eq!(write, ["Permit"]);
}

async fn malformed_requests_are_400_and_tokens_are_checked(server: TestServer) {
    let client = reqwest::Client::new();
    let url = server.at("/authorization/api/v1/authorize");
    for body in ["", "{", "[]", "{\"Request\": 5}", "{\"NotRequest\": {}}"] {
        let response = client
            .post(&url)
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{body}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Value = response.json().await.unwrap();
        assert!(
            problem["errors"][0]["title"]
                .as_str()
                .unwrap()
                .contains("not valid"),
            "{problem}"
        );
    }
    let anonymous = client
        .post(&url)
        .json(&request(person(PIA), READ, ROR_OG_VANN))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    // Unknown resources and parties are not errors: nothing applies.
    let mut unknown = request(person(PIA), READ, ROR_OG_VANN);
    unknown["Request"]["Resource"][0]["Attribute"][0]["Value"] = json!("no-such-resource");
    assert_eq!(decisions(&server, &unknown).await, ["NotApplicable"]);
    let bad_party = request(person(PIA), READ, "123");
    let (_, json) = authorize_raw(&server, &bad_party).await;
    assert_eq!(json["Response"][0]["Decision"], "Indeterminate");
    assert_eq!(
        json["Response"][0]["Status"]["StatusCode"]["Value"],
        "urn:oasis:names:tc:xacml:1.0:status:syntax-error"
    );
}

async fn policy_upload_is_validated_and_rights_are_listed(server: TestServer) {
    let broken = "<Policy PolicyId=\"p\"\n  RuleCombiningAlgId=\"urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides\">\n<Rule RuleId=\"r\" Effect=\"Maybe\"/></Policy>";
    let (status, problem) = put_policy(&server, reqwest::Method::POST, DEMO_RESOURCE, broken).await;
    assert_eq!(status, 400);
    let title = problem["errors"][0]["title"].as_str().unwrap();
    assert!(title.contains("line 3"), "{title}");
    let (status, problem) =
        put_policy(&server, reqwest::Method::PUT, DEMO_RESOURCE, "<Policy>").await;
    assert_eq!(status, 400);
    assert!(
        problem["errors"][0]["title"]
            .as_str()
            .unwrap()
            .contains("not well-formed"),
        "{problem}"
    );
    let no_rules = "<Policy PolicyId=\"p\" RuleCombiningAlgId=\"urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides\"/>";
    let (status, problem) =
        put_policy(&server, reqwest::Method::PUT, DEMO_RESOURCE, no_rules).await;
    assert_eq!(status, 400);
    assert!(
        problem["errors"][0]["title"]
            .as_str()
            .unwrap()
            .contains("rule"),
        "{problem}"
    );
    // The stored policy is unchanged and its rights are listed.
    let rights: Value = reqwest::get(server.at(&format!(
        "/resourceregistry/api/v1/resource/{DEMO_RESOURCE}/policy/rights"
    )))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(rights[0]["rightKey"], "ske-krav-og-betalinger:read");
    assert_eq!(rights[0]["action"], "read");
    assert_eq!(rights[0]["roleCodes"], json!(["DAGL"]));
    assert_eq!(
        rights[0]["accessPackages"],
        json!(["skatt-naering", "regnskapsforer-med-signeringsrettighet"])
    );
    let missing = reqwest::get(server.at("/resourceregistry/api/v1/resource/nope/policy/rights"))
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let stored = server.store.policy(DEMO_RESOURCE).await.unwrap().unwrap();
    assert!(stored.xml.contains(">DAGL<"));
}

async fn decisions_are_counted_in_metrics(server: TestServer) {
    decision(&server, person(PIA), ROR_OG_VANN).await;
    decision(&server, person(BERNT), ROR_OG_VANN).await;
    let text = server.metrics_text().await.unwrap();
    assert!(
        text.contains("systembruker_authorization_decisions_total{decision=\"Permit\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("systembruker_authorization_decisions_total{decision=\"NotApplicable\"} 1"),
        "{text}"
    );
}

/// Two processes on one PostgreSQL database: a change made through one is seen by the
/// other's very next decision, although both cache policies and PIP facts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres_see_every_change_at_once() {
    let Some(server_url) = systembruker_storage::testing::postgres_server_url() else {
        return;
    };
    let url = systembruker_storage::testing::fresh_postgres_url(&server_url)
        .await
        .unwrap();
    let a = TestServer::start_with(SqlStore::open(&url).await.unwrap(), true)
        .await
        .unwrap();
    let b = TestServer::start_with(SqlStore::open(&url).await.unwrap(), true)
        .await
        .unwrap();
    // Warm both caches.
    for server in [&a, &b] {
        assert_eq!(decision(server, person(OLA), ROR_OG_VANN).await, "Permit");
        assert_eq!(decision(server, person(PIA), ROR_OG_VANN).await, "Permit");
    }
    // Revoke the package on A; B decides next.
    let (ror, ola, pia) = (
        uuid_of(&a.store, ROR_OG_VANN).await,
        uuid_of(&a.store, OLA).await,
        uuid_of(&a.store, PIA).await,
    );
    assert!(
        a.store
            .remove_package_delegation(ror, ola, "skatt-naering", "test")
            .await
            .unwrap()
    );
    assert_eq!(
        decision(&b, person(OLA), ROR_OG_VANN).await,
        "NotApplicable"
    );
    // Remove a role on B; A decides next.
    assert!(
        b.store
            .remove_role(ror, pia, "daglig-leder", "test")
            .await
            .unwrap()
    );
    assert_eq!(
        decision(&a, person(PIA), ROR_OG_VANN).await,
        "NotApplicable"
    );
    assert!(
        b.store
            .add_role(ror, pia, "daglig-leder", "test")
            .await
            .unwrap()
    );
    assert_eq!(decision(&a, person(PIA), ROR_OG_VANN).await, "Permit");
    assert_eq!(decision(&b, person(PIA), ROR_OG_VANN).await, "Permit");
    // Replace the policy through A's API; B decides next.
    let (status, _) =
        put_policy(&a, reqwest::Method::PUT, DEMO_RESOURCE, &policy_for_write()).await;
    assert_eq!(status, 200);
    assert_eq!(
        decision(&b, person(PIA), ROR_OG_VANN).await,
        "NotApplicable"
    );
}

/// Pia's request for read, with the resource party given by `party` attributes.
fn request_for_party(party: Value) -> Value {
    let mut body = request(person(PIA), READ, ROR_OG_VANN);
    let mut attributes =
        vec![json!({"AttributeId": "urn:altinn:resource", "Value": DEMO_RESOURCE})];
    attributes.extend(party.as_array().unwrap().iter().cloned());
    body["Request"]["Resource"][0]["Attribute"] = Value::Array(attributes);
    body
}

/// Issue 14: party attributes that name two parties made the PDP pick one (Pia, daglig
/// leder of Rør og Vann only, got Permit for Bakeriet's resource party); the request is
/// ambiguous, so Indeterminate. Attributes naming one party in two ways still decide.
async fn ambiguous_resource_party_is_indeterminate(server: TestServer) {
    let ror_party_id = json!({"AttributeId": "urn:altinn:partyid", "Value": "70000003"});
    let ror_uuid = uuid_of(&server.store, ROR_OG_VANN).await.to_string();
    let org = |number: &str| json!({"AttributeId": "urn:altinn:organization:identifier-no", "Value": number});
    let ambiguous = [
        json!([org(BAKERIET), ror_party_id]),
        json!([org(BAKERIET), {"AttributeId": "urn:altinn:party:uuid", "Value": ror_uuid}]),
        json!([{"AttributeId": "urn:altinn:organization:identifier-no", "Value": [ROR_OG_VANN, BAKERIET]}]),
        json!([org(ROR_OG_VANN), {"AttributeId": "urn:altinn:organizationnumber", "Value": BAKERIET}]),
    ];
    for party in ambiguous {
        let (status, json) = authorize_raw(&server, &request_for_party(party.clone())).await;
        assert_eq!(status, 200);
        let result = &json["Response"][0];
        assert_eq!(result["Decision"], "Indeterminate", "{party}: {json}");
        assert!(
            result["Status"]["StatusMessage"]
                .as_str()
                .unwrap()
                .contains("ambiguous"),
            "{json}"
        );
    }
    let same_party = json!([org(ROR_OG_VANN), ror_party_id]);
    assert_eq!(
        decisions(&server, &request_for_party(same_party)).await,
        ["Permit"]
    );
}
