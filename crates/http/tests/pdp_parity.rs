//! Issue 16, "Decisions": the PDP decides as the reference does, with the demo data and
//! small policies of our own, on SQLite and PostgreSQL. Role codes in lower case, a
//! person acting for themselves (PRIV), a Permit through a delegated right with the
//! policy's obligations, and app policies (org + app + task).
#![allow(clippy::unwrap_used)]

mod common;

use common::{VENDOR_SCOPES, call, json_of, register_client};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use systembruker_domain::{OrgNumber, PersonNumber};
use systembruker_http::demo::{BAKERIET, BERNT, OLA, PIA, ROR_OG_VANN, SKATTEETATEN, SMARTCLOUD};
use systembruker_http::server_tests;
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};
use systembruker_storage::{DelegationStore, RegisterStore, ResourceRight};
use uuid::Uuid;

server_tests!(
    a_policy_naming_role_codes_in_lower_case_matches_their_holders,
    a_vendor_may_get_a_right_on_a_lower_case_resource_and_its_system_user_decides,
    a_person_acting_for_themselves_may_read_their_own_data_through_priv,
    a_permit_through_a_delegated_right_carries_obligations_and_included_attributes,
    an_app_policy_decides_requests_naming_org_app_and_task,
    the_context_handler_supplies_the_current_time,
);

const ACTION_ID: &str = "urn:oasis:names:tc:xacml:1.0:action:action-id";
const STRING_EQUAL: &str = "urn:oasis:names:tc:xacml:1.0:function:string-equal";
const ROLE: &str = "urn:altinn:rolecode";
/// The resource with role codes in lower case (and one in upper case).
const LOWER: &str = "parity-lower-case";
/// The app `ttd/parity-app` and its registry id.
const APP_ORG: &str = "ttd";
const APP: &str = "parity-app";
const APP_RESOURCE: &str = "app_ttd_parity-app";

fn string(value: &str) -> String {
    format!(
        "<xacml:AttributeValue DataType=\"http://www.w3.org/2001/XMLSchema#string\">{value}</xacml:AttributeValue>"
    )
}

/// One case-sensitive Match (`string-equal`), as many of the reference's policies have.
fn matches(category: &str, id: &str, value: &str) -> String {
    format!(
        "<xacml:Match MatchId=\"{STRING_EQUAL}\">{}<xacml:AttributeDesignator AttributeId=\"{id}\" \
         Category=\"{category}\" DataType=\"http://www.w3.org/2001/XMLSchema#string\" MustBePresent=\"false\"/></xacml:Match>",
        string(value)
    )
}

fn subject(id: &str, value: &str) -> String {
    matches(
        "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject",
        id,
        value,
    )
}

fn resource_attr(id: &str, value: &str) -> String {
    matches(
        "urn:oasis:names:tc:xacml:3.0:attribute-category:resource",
        id,
        value,
    )
}

/// A Permit rule: one subject attribute, one resource AllOf, one action.
fn rule(n: usize, who: (&str, &str), resource: &str, action: &str) -> String {
    format!(
        "<xacml:Rule RuleId=\"r{n}\" Effect=\"Permit\"><xacml:Target>\
         <xacml:AnyOf><xacml:AllOf>{}</xacml:AllOf></xacml:AnyOf>\
         <xacml:AnyOf><xacml:AllOf>{resource}</xacml:AllOf></xacml:AnyOf>\
         <xacml:AnyOf><xacml:AllOf>{}</xacml:AllOf></xacml:AnyOf>\
         </xacml:Target></xacml:Rule>",
        subject(who.0, who.1),
        matches(
            "urn:oasis:names:tc:xacml:3.0:attribute-category:action",
            ACTION_ID,
            action
        )
    )
}

/// A policy of `rules` whose Permit carries the minimum authentication level `level`.
fn policy(id: &str, rules: &[String], level: u8) -> String {
    format!(
        "<xacml:Policy xmlns:xacml=\"urn:oasis:names:tc:xacml:3.0:core:schema:wd-17\" \
         PolicyId=\"urn:altinn:policyid:{id}\" Version=\"1\" \
         RuleCombiningAlgId=\"urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides\">\
         <xacml:Target/>{}\
         <xacml:ObligationExpressions><xacml:ObligationExpression ObligationId=\"urn:altinn:obligation:authenticationLevel1\" FulfillOn=\"Permit\">\
         <xacml:AttributeAssignmentExpression AttributeId=\"urn:altinn:obligation-assignment:1\" Category=\"urn:altinn:minimum-authenticationlevel\">\
         <xacml:AttributeValue DataType=\"http://www.w3.org/2001/XMLSchema#integer\">{level}</xacml:AttributeValue>\
         </xacml:AttributeAssignmentExpression></xacml:ObligationExpression></xacml:ObligationExpressions>\
         </xacml:Policy>",
        rules.concat()
    )
}

async fn admin(server: &TestServer, method: Method, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, server.at(path))
        .bearer_auth(ADMIN_TOKEN)
}

/// Registers a resource owned by Skatteetaten and uploads its policy.
async fn register(server: &TestServer, resource: Value, policy_xml: String) {
    let id = resource["identifier"].as_str().unwrap().to_string();
    let response = admin(server, Method::POST, "/resourceregistry/api/v1/resource")
        .await
        .json(&resource)
        .send()
        .await
        .unwrap();
    json_of(response, StatusCode::CREATED).await;
    let response = admin(
        server,
        Method::POST,
        &format!("/resourceregistry/api/v1/resource/{id}/policy"),
    )
    .await
    .header("content-type", "application/xml")
    .body(policy_xml)
    .send()
    .await
    .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{text}");
}

fn resource_json(id: &str, resource_type: &str, references: Value) -> Value {
    let text = json!({"nb": "Paritet", "nn": "Paritet", "en": "Parity"});
    json!({
        "identifier": id, "title": text, "description": text, "rightDescription": text,
        "resourceType": resource_type, "delegable": true,
        "resourceReferences": references,
        "hasCompetentAuthority": {"organization": SKATTEETATEN, "orgcode": "skd"}
    })
}

/// `read` for `dagl`, `write` for `regna`, `sign` for `apiadm` (each `string-equal`, in
/// lower case) and `delete` for `DAGL` in upper case.
async fn register_lower_case_resource(server: &TestServer) {
    let on = resource_attr("urn:altinn:resource", LOWER);
    let rules = [
        rule(1, (ROLE, "dagl"), &on, "read"),
        rule(2, (ROLE, "regna"), &on, "write"),
        rule(3, (ROLE, "apiadm"), &on, "sign"),
        rule(4, (ROLE, "DAGL"), &on, "delete"),
    ];
    register(
        server,
        resource_json(LOWER, "GenericAccessResource", json!([])),
        policy(LOWER, &rules, 2),
    )
    .await;
}

fn person(pid: &str) -> Value {
    json!([{"AttributeId": "urn:altinn:person:identifier-no", "Value": pid}])
}

fn action(name: &str) -> Value {
    json!([{"Attribute": [{"AttributeId": ACTION_ID, "Value": name}]}])
}

/// One request: `subject` does `act` on the resource described by `resource` attributes.
fn request(subject: Value, act: &str, resource: Value) -> Value {
    json!({"Request": {
        "AccessSubject": [{"Attribute": subject}],
        "Action": action(act),
        "Resource": [{"Attribute": resource}]
    }})
}

fn on_resource(id: &str, party_attr: &str, party: &str) -> Value {
    json!([
        {"AttributeId": "urn:altinn:resource", "Value": id},
        {"AttributeId": party_attr, "Value": party}])
}

fn for_org(id: &str, org: &str) -> Value {
    on_resource(id, "urn:altinn:organization:identifier-no", org)
}

async fn results(server: &TestServer, body: &Value) -> Value {
    let response = admin(server, Method::POST, "/authorization/api/v1/authorize")
        .await
        .json(body)
        .send()
        .await
        .unwrap();
    let json = json_of(response, StatusCode::OK).await;
    json["Response"][0].clone()
}

async fn decide(server: &TestServer, subject: Value, act: &str, resource: Value) -> String {
    let result = results(server, &request(subject, act, resource)).await;
    result["Decision"].as_str().unwrap().to_string()
}

async fn uuid_of(server: &TestServer, identifier: &str) -> Uuid {
    let store = &server.store;
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

async fn a_policy_naming_role_codes_in_lower_case_matches_their_holders(server: TestServer) {
    register_lower_case_resource(&server).await;
    // Pia is daglig leder of Rør og Vann: DAGL, and the REGNA and APIADM it gives.
    for act in ["read", "write", "sign", "delete"] {
        assert_eq!(
            decide(&server, person(PIA), act, for_org(LOWER, ROR_OG_VANN)).await,
            "Permit",
            "{act}"
        );
    }
    // Bernt holds no role in Rør og Vann.
    assert_eq!(
        decide(&server, person(BERNT), "read", for_org(LOWER, ROR_OG_VANN)).await,
        "NotApplicable"
    );
    // The delegation check reads the same rules: Pia may pass every right on.
    let pia = server
        .personal_token(PIA, "altinn:portal/enduser")
        .await
        .unwrap();
    let response = reqwest::Client::new()
        .get(server.at("/accessmanagement/api/v1/enduser/connections/resources/delegationcheck"))
        .bearer_auth(&pia)
        .query(&[("party", ROR_OG_VANN), ("resource", LOWER)])
        .send()
        .await
        .unwrap();
    let check = json_of(response, StatusCode::OK).await;
    let rights = check["rights"].as_array().unwrap();
    assert_eq!(rights.len(), 4, "{check}");
    for right in rights {
        assert_eq!(right["result"], true, "{right}");
        assert_eq!(right["reasonCodes"], json!(["RoleAccess"]), "{right}");
    }
}

/// The reference refused nothing here, but we did: a vendor's request for a resource
/// whose policy names `dagl` failed the approval with AUTH-00018.
async fn a_vendor_may_get_a_right_on_a_lower_case_resource_and_its_system_user_decides(
    server: TestServer,
) {
    register_lower_case_resource(&server).await;
    let client = register_client(&server).await;
    let vendor = server
        .enterprise_token(SMARTCLOUD, VENDOR_SCOPES)
        .await
        .unwrap();
    let system_id = "991825827_parity";
    let rights = json!([{"resource": [{"id": "urn:altinn:resource", "value": LOWER}]}]);
    let system = json!({
        "id": system_id,
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{SMARTCLOUD}")},
        "name": {"nb": "Paritet", "nn": "Paritet", "en": "Parity"},
        "description": {"nb": "Paritet", "nn": "Paritet", "en": "Parity"},
        "rights": rights,
        "clientId": [client.client_id],
        "allowedRedirectUrls": ["https://smartcloud.example/receipt"],
        "isVisible": true
    });
    let response = call(&server, Method::POST, "systemregister/vendor", &vendor)
        .json(&system)
        .send()
        .await
        .unwrap();
    json_of(response, StatusCode::OK).await;
    let body = json!({"systemId": system_id, "partyOrgNo": ROR_OG_VANN, "rights": rights,
        "redirectUrl": "https://smartcloud.example/receipt"});
    let response = call(&server, Method::POST, "systemuser/request/vendor", &vendor)
        .json(&body)
        .send()
        .await
        .unwrap();
    let request_id = json_of(response, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pia = server
        .personal_token(PIA, "altinn:portal/enduser")
        .await
        .unwrap();
    let approve = format!("systemuser/request/70000003/{request_id}/approve");
    let response = call(&server, Method::POST, &approve, &pia)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(response, StatusCode::OK).await, true);
    // The system user (it takes the request's id) decides through its delegated right,
    // with the policy's minimum authentication level.
    let subject = json!([{"AttributeId": "urn:altinn:systemuser:uuid", "Value": request_id}]);
    let result = results(
        &server,
        &request(subject.clone(), "read", for_org(LOWER, ROR_OG_VANN)),
    )
    .await;
    assert_eq!(result["Decision"], "Permit", "{result}");
    assert_eq!(
        result["Obligations"][0]["attributeAssignment"][0]["value"],
        "2"
    );
    assert_eq!(
        decide(&server, subject, "read", for_org(LOWER, BAKERIET)).await,
        "NotApplicable"
    );
}

async fn a_person_acting_for_themselves_may_read_their_own_data_through_priv(server: TestServer) {
    let id = "parity-own-data";
    let on = resource_attr("urn:altinn:resource", id);
    let rules = [
        rule(1, (ROLE, "priv"), &on, "read"),
        rule(
            2,
            (
                "urn:altinn:accesspackage",
                "innbygger-skatteforhold-privatpersoner",
            ),
            &on,
            "write",
        ),
    ];
    register(
        &server,
        resource_json(id, "GenericAccessResource", json!([])),
        policy(id, &rules, 2),
    )
    .await;
    let own = |pid: &str| on_resource(id, "urn:altinn:person:identifier-no", pid);
    // Pia reads her own data (role PRIV) and writes it (PRIV's package).
    assert_eq!(
        decide(&server, person(PIA), "read", own(PIA)).await,
        "Permit"
    );
    assert_eq!(
        decide(&server, person(PIA), "write", own(PIA)).await,
        "Permit"
    );
    // Not Ola's data, and not for Rør og Vann, where she is daglig leder but no PRIV.
    assert_eq!(
        decide(&server, person(PIA), "read", own(OLA)).await,
        "NotApplicable"
    );
    assert_eq!(
        decide(&server, person(PIA), "read", for_org(id, ROR_OG_VANN)).await,
        "NotApplicable"
    );
}

async fn a_permit_through_a_delegated_right_carries_obligations_and_included_attributes(
    server: TestServer,
) {
    register_lower_case_resource(&server).await;
    let ror = uuid_of(&server, ROR_OG_VANN).await;
    // Rør og Vann gives Ola (a person) and Bakeriet (an organisation) `read` directly.
    for to in [OLA, BAKERIET] {
        let right = ResourceRight {
            from: ror,
            to: uuid_of(&server, to).await,
            resource_id: LOWER.into(),
            action: "read".into(),
            created_at: 0,
            created_by: "test".into(),
        };
        assert!(server.store.add_resource_right(&right).await.unwrap());
    }
    let party = json!([
        {"AttributeId": "urn:altinn:resource", "Value": LOWER},
        {"AttributeId": "urn:altinn:partyid", "Value": "70000003", "IncludeInResult": true}]);
    let result = results(&server, &request(person(OLA), "read", party.clone())).await;
    assert_eq!(result["Decision"], "Permit", "{result}");
    let obligation = &result["Obligations"][0];
    assert_eq!(
        obligation["id"],
        "urn:altinn:obligation:authenticationLevel1"
    );
    assert_eq!(obligation["attributeAssignment"][0]["value"], "2");
    assert_eq!(
        obligation["attributeAssignment"][0]["category"],
        "urn:altinn:minimum-authenticationlevel"
    );
    let included = &result["Category"][0];
    assert_eq!(
        included["CategoryId"],
        "urn:oasis:names:tc:xacml:3.0:attribute-category:resource"
    );
    assert_eq!(
        included["Attribute"][0]["AttributeId"],
        "urn:altinn:partyid"
    );
    assert_eq!(included["Attribute"][0]["Value"], "70000003");
    // The organisation that received the right decides the same way.
    let bakeriet =
        json!([{"AttributeId": "urn:altinn:organization:identifier-no", "Value": BAKERIET}]);
    let result = results(&server, &request(bakeriet, "read", party.clone())).await;
    assert_eq!(result["Decision"], "Permit", "{result}");
    assert_eq!(
        result["Obligations"][0]["attributeAssignment"][0]["value"],
        "2"
    );
    // Only the delegated action.
    assert_eq!(
        decide(&server, person(OLA), "write", party).await,
        "NotApplicable"
    );
}

/// An app's policy (`urn:altinn:org` + `urn:altinn:app`, rules per task) is registered
/// as the resource `app_{org}_{app}` and decides requests naming org, app and task.
async fn an_app_policy_decides_requests_naming_org_app_and_task(server: TestServer) {
    let task = |name: &str| {
        [
            resource_attr("urn:altinn:org", APP_ORG),
            resource_attr("urn:altinn:app", APP),
            resource_attr("urn:altinn:task", name),
        ]
        .concat()
    };
    let app_only = [
        resource_attr("urn:altinn:org", APP_ORG),
        resource_attr("urn:altinn:app", APP),
    ]
    .concat();
    let rules = [
        rule(1, (ROLE, "dagl"), &task("Task_1"), "write"),
        rule(2, (ROLE, "dagl"), &app_only, "read"),
        rule(3, (ROLE, "priv"), &app_only, "instantiate"),
    ];
    let references = json!([{"referenceSource": "Altinn3", "reference": format!("{APP_ORG}/{APP}"),
        "referenceType": "ApplicationId"}]);
    register(
        &server,
        resource_json(APP_RESOURCE, "AltinnApp", references),
        policy(APP_RESOURCE, &rules, 2),
    )
    .await;
    let app = |task: Option<&str>, party_attr: &str, party: &str| {
        let mut attributes = vec![
            json!({"AttributeId": "urn:altinn:org", "Value": APP_ORG}),
            json!({"AttributeId": "urn:altinn:app", "Value": APP}),
            json!({"AttributeId": party_attr, "Value": party}),
        ];
        if let Some(task) = task {
            attributes.push(json!({"AttributeId": "urn:altinn:task", "Value": task}));
        }
        Value::Array(attributes)
    };
    let ror = |task| app(task, "urn:altinn:partyid", "70000003");
    assert_eq!(
        decide(&server, person(PIA), "write", ror(Some("Task_1"))).await,
        "Permit"
    );
    assert_eq!(
        decide(&server, person(PIA), "write", ror(Some("Task_2"))).await,
        "NotApplicable"
    );
    assert_eq!(
        decide(&server, person(PIA), "read", ror(Some("Task_2"))).await,
        "Permit"
    );
    assert_eq!(
        decide(&server, person(BERNT), "read", ror(None)).await,
        "NotApplicable"
    );
    // A person starts the app for themselves (PRIV).
    let own = app(None, "urn:altinn:person:identifier-no", PIA);
    assert_eq!(
        decide(&server, person(PIA), "instantiate", own).await,
        "Permit"
    );
    // A right on the app delegated directly is the registry resource's right.
    let right = ResourceRight {
        from: uuid_of(&server, ROR_OG_VANN).await,
        to: uuid_of(&server, OLA).await,
        resource_id: APP_RESOURCE.into(),
        action: "read".into(),
        created_at: 0,
        created_by: "test".into(),
    };
    assert!(server.store.add_resource_right(&right).await.unwrap());
    assert_eq!(
        decide(&server, person(OLA), "read", ror(Some("Task_1"))).await,
        "Permit"
    );
    // The delegation check reads the app's rules as the registry resource's.
    let pia = server
        .personal_token(PIA, "altinn:portal/enduser")
        .await
        .unwrap();
    let response = reqwest::Client::new()
        .get(server.at("/accessmanagement/api/v1/enduser/connections/resources/delegationcheck"))
        .bearer_auth(&pia)
        .query(&[("party", ROR_OG_VANN), ("resource", APP_RESOURCE)])
        .send()
        .await
        .unwrap();
    let check = json_of(response, StatusCode::OK).await;
    let write = check["rights"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["right"]["action"] == "write")
        .unwrap();
    assert_eq!(write["result"], true, "{check}");
}

/// XACML 3.0 §10.2.5: a condition on `current-dateTime` (which must be present) is decided
/// with the time the context handler supplies; the caller does not send it.
async fn the_context_handler_supplies_the_current_time(server: TestServer) {
    const TIMED: &str = "parity-timed";
    let on = resource_attr("urn:altinn:resource", TIMED);
    let before = |n: usize, action: &str, until: &str| {
        rule(n, (ROLE, "dagl"), &on, action).replace(
            "</xacml:Target></xacml:Rule>",
            &format!(
                "</xacml:Target><xacml:Condition>\
                 <xacml:Apply FunctionId=\"urn:oasis:names:tc:xacml:1.0:function:dateTime-less-than\">\
                 <xacml:Apply FunctionId=\"urn:oasis:names:tc:xacml:1.0:function:dateTime-one-and-only\">\
                 <xacml:AttributeDesignator AttributeId=\"urn:oasis:names:tc:xacml:1.0:environment:current-dateTime\" \
                 Category=\"urn:oasis:names:tc:xacml:3.0:attribute-category:environment\" \
                 DataType=\"http://www.w3.org/2001/XMLSchema#dateTime\" MustBePresent=\"true\"/></xacml:Apply>\
                 <xacml:AttributeValue DataType=\"http://www.w3.org/2001/XMLSchema#dateTime\">{until}</xacml:AttributeValue>\
                 </xacml:Apply></xacml:Condition></xacml:Rule>"
            ),
        )
    };
    let rules = [
        before(1, "read", "2999-01-01T00:00:00Z"),
        before(2, "write", "2001-01-01T00:00:00Z"),
    ];
    register(
        &server,
        resource_json(TIMED, "GenericAccessResource", json!([])),
        policy(TIMED, &rules, 2),
    )
    .await;
    assert_eq!(
        decide(&server, person(PIA), "read", for_org(TIMED, ROR_OG_VANN)).await,
        "Permit"
    );
    assert_eq!(
        decide(&server, person(PIA), "write", for_org(TIMED, ROR_OG_VANN)).await,
        "NotApplicable"
    );
}
