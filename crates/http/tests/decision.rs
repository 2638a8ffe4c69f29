//! `POST /authorization/api/v1/decision`: the reference's internal decision endpoint,
//! XACML 3.0 XML or JSON in, the same form out, with the demo data; and malformed
//! requests answered as the reference answers them (docs/authorization.md#the-pdp).
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use systembruker_http::demo::{DEMO_RESOURCE, PIA, ROR_OG_VANN};
use systembruker_http::server_tests;
use systembruker_http::testing::{ADMIN_TOKEN, TestServer};
use systembruker_xacml::{Decision, StatusCode, results_from_xml};

server_tests!(
    xml_request_is_answered_in_xml,
    json_request_is_answered_in_json_as_on_authorize,
    decision_endpoint_refuses_what_it_cannot_read_and_unknown_callers,
    malformed_json_requests_are_answered_as_the_reference_does,
    xml_request_without_a_subject_is_a_processing_error,
);

const DECISION: &str = "/authorization/api/v1/decision";
const PROCESSING_ERROR: &str = "urn:oasis:names:tc:xacml:1.0:status:processing-error";

fn xml_attribute(id: &str, value: &str) -> String {
    format!(
        r#"<Attribute AttributeId="{id}" IncludeInResult="false"><AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">{value}</AttributeValue></Attribute>"#
    )
}

/// The core schema's `<Request>`: a person, an action, the demo resource for a party.
fn xml_request(subject: Option<&str>, action: &str) -> String {
    let subject = subject
        .map(|pid| {
            format!(
                r#"<Attributes Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject">{}</Attributes>"#,
                xml_attribute("urn:altinn:person:identifier-no", pid)
            )
        })
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" ReturnPolicyIdList="false" CombinedDecision="false">
  {subject}
  <Attributes Category="urn:oasis:names:tc:xacml:3.0:attribute-category:action">{}</Attributes>
  <Attributes Category="urn:oasis:names:tc:xacml:3.0:attribute-category:resource">{}{}</Attributes>
</Request>"#,
        xml_attribute("urn:oasis:names:tc:xacml:1.0:action:action-id", action),
        xml_attribute("urn:altinn:resource", DEMO_RESOURCE),
        xml_attribute("urn:altinn:organization:identifier-no", ROR_OG_VANN),
    )
}

fn json_request(subject: Value) -> Value {
    json!({"Request": {
        "AccessSubject": [{"Id": "s1", "Attribute": subject}],
        "Action": [{"Id": "a1", "Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
        "Resource": [{"Id": "r1", "Attribute": [
            {"AttributeId": "urn:altinn:resource", "Value": DEMO_RESOURCE},
            {"AttributeId": "urn:altinn:organization:identifier-no", "Value": ROR_OG_VANN}]}]
    }})
}

fn pia() -> Value {
    json!([{"AttributeId": "urn:altinn:person:identifier-no", "Value": PIA}])
}

async fn post(server: &TestServer, content_type: &str, body: String) -> (u16, String, String) {
    let response = reqwest::Client::new()
        .post(server.at(DECISION))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

async fn post_json(server: &TestServer, body: &Value) -> Value {
    let (status, content_type, text) = post(server, "application/json", body.to_string()).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    serde_json::from_str(&text).unwrap()
}

async fn xml_request_is_answered_in_xml(server: TestServer) {
    let (status, content_type, text) =
        post(&server, "application/xml", xml_request(Some(PIA), "read")).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        content_type.starts_with("application/xml"),
        "{content_type}"
    );
    assert!(text.starts_with("<Response"), "{text}");
    let results = results_from_xml(&text).unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].decision, Decision::Permit, "{text}");
    assert_eq!(results[0].status.code, StatusCode::Ok);
    // The minimum authentication level travels as in JSON.
    assert_eq!(
        results[0].obligations[0].id,
        "urn:altinn:obligation:authenticationLevel1"
    );
    // Only read is granted; text/xml is XML too.
    let (_, _, sign) = post(&server, "text/xml", xml_request(Some(PIA), "sign")).await;
    assert_eq!(
        results_from_xml(&sign).unwrap()[0].decision,
        Decision::NotApplicable
    );
}

async fn json_request_is_answered_in_json_as_on_authorize(server: TestServer) {
    let body = json_request(pia());
    let on_decision = post_json(&server, &body).await;
    assert_eq!(
        on_decision["Response"][0]["Decision"], "Permit",
        "{on_decision}"
    );
    let on_authorize: Value = reqwest::Client::new()
        .post(server.at("/authorization/api/v1/authorize"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(on_decision, on_authorize);
}

async fn decision_endpoint_refuses_what_it_cannot_read_and_unknown_callers(server: TestServer) {
    let (status, content_type, text) =
        post(&server, "text/plain", xml_request(Some(PIA), "read")).await;
    assert_eq!(status, 415, "{text}");
    assert_eq!(content_type, "application/problem+json");
    for broken in [
        "",
        "<Request",
        "<NotARequest/>",
        "<Request><Attributes/></Request>",
    ] {
        let (status, content_type, text) = post(&server, "application/xml", broken.into()).await;
        assert_eq!(status, 400, "{broken}: {text}");
        assert_eq!(content_type, "application/problem+json");
        let problem: Value = serde_json::from_str(&text).unwrap();
        assert!(
            problem["errors"][0]["title"]
                .as_str()
                .unwrap()
                .contains("not valid"),
            "{problem}"
        );
    }
    let (status, _, _) = post(&server, "application/json", "{\"Request\": 5}".into()).await;
    assert_eq!(status, 400);
    let anonymous = reqwest::Client::new()
        .post(server.at(DECISION))
        .header("content-type", "application/xml")
        .body(xml_request(Some(PIA), "read"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    // A token without the authorize scope may not ask.
    let token = server
        .personal_token(PIA, "altinn:portal/enduser")
        .await
        .unwrap();
    let unscoped = reqwest::Client::new()
        .post(server.at(DECISION))
        .bearer_auth(token)
        .header("content-type", "application/xml")
        .body(xml_request(Some(PIA), "read"))
        .send()
        .await
        .unwrap();
    assert_eq!(unscoped.status().as_u16(), 403);
}

async fn malformed_json_requests_are_answered_as_the_reference_does(server: TestServer) {
    // "Category": null, as the reference's own clients send it, is ignored.
    let mut with_null = json_request(pia());
    with_null["Request"]["Category"] = Value::Null;
    let answer = post_json(&server, &with_null).await;
    assert_eq!(answer["Response"][0]["Decision"], "Permit", "{answer}");

    let indeterminate = |answer: &Value| {
        let results = answer["Response"].as_array().unwrap();
        assert_eq!(results.len(), 1, "{answer}");
        assert_eq!(results[0]["Decision"], "Indeterminate", "{answer}");
        assert_eq!(
            results[0]["Status"]["StatusCode"]["Value"], PROCESSING_ERROR,
            "{answer}"
        );
    };
    // No subject: Indeterminate, processing-error (not NotApplicable).
    let mut no_subject = json_request(pia());
    no_subject["Request"]
        .as_object_mut()
        .unwrap()
        .remove("AccessSubject");
    indeterminate(&post_json(&server, &no_subject).await);
    // No resource: processing-error (not missing-attribute).
    let mut no_resource = json_request(pia());
    no_resource["Request"]
        .as_object_mut()
        .unwrap()
        .remove("Resource");
    indeterminate(&post_json(&server, &no_resource).await);
    // A resource without its id is the same.
    let mut no_resource_id = json_request(pia());
    no_resource_id["Request"]["Resource"][0]["Attribute"]
        .as_array_mut()
        .unwrap()
        .remove(0);
    indeterminate(&post_json(&server, &no_resource_id).await);
    // A MultiRequest naming an unknown reference: one result, processing-error.
    let mut unknown = json_request(pia());
    unknown["Request"]["MultiRequests"] = json!({"RequestReference": [
        {"ReferenceId": ["s1", "a1", "r1"]},
        {"ReferenceId": ["s1", "a1", "r2"]}
    ]});
    indeterminate(&post_json(&server, &unknown).await);
}

async fn xml_request_without_a_subject_is_a_processing_error(server: TestServer) {
    let (status, _, text) = post(&server, "application/xml", xml_request(None, "read")).await;
    assert_eq!(status, 200, "{text}");
    let results = results_from_xml(&text).unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].decision, Decision::Indeterminate);
    assert_eq!(results[0].status.code, StatusCode::ProcessingError);
}
