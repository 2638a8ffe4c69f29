//! Requests as the reference PDP takes them (docs/authorization.md#the-pdp): malformed
//! shapes it tolerates or answers with processing-error, XPath over `<Content>` given
//! in XML and in the JSON profile, and the environment the context handler supplies.

use systembruker_xacml::{
    Decision, DecisionResult, Pdp, Policy, Request, StatusCode, category, results_from_xml, to_xml,
};

/// Permits when the resource's `<Content>` has exactly one `md:location`, and when
/// an `AttributeSelector` reads `Springfield` from it.
const XPATH_POLICY: &str = r#"<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17"
  xmlns:md="urn:example:record" PolicyId="xpath" Version="1.0"
  RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides">
  <Target/>
  <Rule RuleId="count" Effect="Permit">
    <Condition>
      <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:and">
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:integer-equal">
          <Apply FunctionId="urn:oasis:names:tc:xacml:3.0:function:xpath-node-count">
            <AttributeValue DataType="urn:oasis:names:tc:xacml:3.0:data-type:xpathExpression"
              XPathCategory="urn:oasis:names:tc:xacml:3.0:attribute-category:resource">//md:location</AttributeValue>
          </Apply>
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">1</AttributeValue>
        </Apply>
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in">
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">Springfield</AttributeValue>
          <AttributeSelector Category="urn:oasis:names:tc:xacml:3.0:attribute-category:resource"
            Path="md:record/md:location/text()" MustBePresent="true"
            DataType="http://www.w3.org/2001/XMLSchema#string"/>
        </Apply>
      </Apply>
    </Condition>
  </Rule>
</Policy>"#;

fn xpath_policy() -> Policy {
    Policy::from_xml(XPATH_POLICY).expect("policy loads")
}

fn xml_request(content: &str) -> String {
    format!(
        r#"<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" ReturnPolicyIdList="false" CombinedDecision="false">
  <Attributes Category="urn:oasis:names:tc:xacml:3.0:attribute-category:resource">
    <Content>{content}</Content>
    <Attribute AttributeId="urn:altinn:resource" IncludeInResult="false">
      <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">records</AttributeValue>
    </Attribute>
  </Attributes>
</Request>"#
    )
}

fn only(results: Vec<DecisionResult>) -> DecisionResult {
    assert_eq!(results.len(), 1, "{results:?}");
    results.into_iter().next().expect("one result")
}

#[test]
fn xpath_reads_the_content_of_an_xml_request_with_the_policys_prefixes() {
    // The request binds the same namespace to another prefix: names are matched by URI.
    let request = Request::from_xml(&xml_request(
        r#"<r:record xmlns:r="urn:example:record"><r:location>Springfield</r:location></r:record>"#,
    ))
    .expect("request parses");
    assert_eq!(
        Pdp::decide(&xpath_policy(), &request).decision,
        Decision::Permit
    );
    let elsewhere = Request::from_xml(&xml_request(
        r#"<r:record xmlns:r="urn:example:record"><r:location>Shelbyville</r:location></r:record>"#,
    ))
    .expect("request parses");
    assert_eq!(
        Pdp::decide(&xpath_policy(), &elsewhere).decision,
        Decision::NotApplicable
    );
}

#[test]
fn a_required_selector_that_selects_nothing_is_missing_attribute() {
    let policy = Policy::from_xml(
        &XPATH_POLICY
            .replace("//md:location</", "//md:nothing</")
            .replace(
                "<AttributeValue DataType=\"http://www.w3.org/2001/XMLSchema#integer\">1<",
                "<AttributeValue DataType=\"http://www.w3.org/2001/XMLSchema#integer\">0<",
            ),
    )
    .expect("policy loads");
    let request = Request::from_xml(&xml_request(
        r#"<md:record xmlns:md="urn:example:record"><md:place>Springfield</md:place></md:record>"#,
    ))
    .expect("request parses");
    let result = Pdp::decide(&policy, &request);
    assert_eq!(result.decision, Decision::Indeterminate);
    assert_eq!(result.status.code, StatusCode::MissingAttribute);
}

#[test]
fn xpath_without_content_counts_nothing() {
    let request = Request::from_json(
        r#"{"Request":{"Resource":{"Attribute":[{"AttributeId":"urn:altinn:resource","Value":"records"}]}}}"#,
    )
    .expect("request parses");
    let result = Pdp::decide(&xpath_policy(), &request);
    // The count is 0, so `and` is false before the selector is read.
    assert_eq!(result.decision, Decision::NotApplicable);
}

#[test]
fn xpath_reads_json_profile_content_given_as_a_string() {
    let json = r#"{"Request":{"Resource":{"Content":"<?xml version=\"1.0\"?><md:record xmlns:md=\"urn:example:record\"><md:location>Springfield</md:location></md:record>",
        "Attribute":[{"AttributeId":"urn:altinn:resource","Value":"records"}]}}}"#;
    let request = Request::from_json(json).expect("request parses");
    assert_eq!(
        Pdp::decide(&xpath_policy(), &request).decision,
        Decision::Permit
    );
    let broken = json.replace("</md:record>", "");
    assert!(Request::from_json(&broken).is_err(), "ill-formed Content");
}

#[test]
fn category_null_is_ignored_as_the_reference_clients_send_it() {
    let request = Request::from_json(
        r#"{"Request":{"AccessSubject":[{"Attribute":[{"AttributeId":"urn:altinn:userid","Value":"1"}]}],
            "Resource":[{"Attribute":[{"AttributeId":"urn:altinn:resource","Value":"records"}]}],
            "Action":null,"Category":null,"MultiRequests":null}}"#,
    )
    .expect("a null category is no error");
    assert_eq!(request.categories().len(), 2);
    assert_eq!(request.decision_count(), 1);
    let in_array = Request::from_json(
        r#"{"Request":{"Category":[null,{"CategoryId":"urn:custom","Attribute":null}]}}"#,
    )
    .expect("null entries are skipped");
    assert_eq!(in_array.categories().len(), 1);
}

#[test]
fn request_without_subject_or_resource_is_a_processing_error() {
    let no_subject = Request::builder()
        .resource("urn:altinn:resource", "records")
        .action("read")
        .build();
    let refused = no_subject
        .check_subject_and_resource()
        .expect_err("no subject");
    assert_eq!(refused.decision, Decision::Indeterminate);
    assert_eq!(refused.status.code, StatusCode::ProcessingError);

    let no_resource = Request::builder()
        .subject("urn:altinn:userid", "1")
        .action("read")
        .build();
    let refused = no_resource
        .check_subject_and_resource()
        .expect_err("no resource");
    assert_eq!(refused.status.code, StatusCode::ProcessingError);

    let whole = Request::builder()
        .subject("urn:altinn:userid", "1")
        .resource("urn:altinn:resource", "records")
        .build();
    assert!(whole.check_subject_and_resource().is_ok());
}

#[test]
fn multi_request_with_an_unknown_reference_is_one_processing_error() {
    let request = Request::from_json(
        r#"{"Request":{"AccessSubject":[{"Id":"s1","Attribute":[{"AttributeId":"urn:altinn:userid","Value":"1"}]}],
            "Resource":[{"Id":"r1","Attribute":[{"AttributeId":"urn:altinn:resource","Value":"records"}]}],
            "MultiRequests":{"RequestReference":[{"ReferenceId":["s1","r1"]},{"ReferenceId":["s1","nope"]},{"ReferenceId":["s1","r1"]}]}}}"#,
    )
    .expect("request parses");
    assert_eq!(request.decision_count(), 1);
    let individuals = request.split();
    assert_eq!(individuals.len(), 1);
    assert!(individuals[0].as_ref().is_err_and(|m| m.contains("nope")));
    let result = only(Pdp::evaluate(&xpath_policy(), &request));
    assert_eq!(result.decision, Decision::Indeterminate);
    assert_eq!(result.status.code, StatusCode::ProcessingError);
}

#[test]
fn the_context_handler_supplies_the_current_time_only_where_missing() {
    let now = chrono::DateTime::parse_from_rfc3339("2026-03-04T05:06:07Z")
        .expect("time")
        .to_utc();
    let mut request = Request::builder().action("read").build();
    request.supply_current_time(now);
    let value = |id: &str| {
        request
            .values(category::ENVIRONMENT, id)
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    let date = value("urn:oasis:names:tc:xacml:1.0:environment:current-date");
    assert_eq!(date.len(), 1);
    assert!(date[0].starts_with("2026-03-04"), "{date:?}");
    assert_eq!(
        value("urn:oasis:names:tc:xacml:1.0:environment:current-time").len(),
        1
    );
    // A request that gives the time keeps its own.
    let mut given = Request::builder()
        .attribute(
            category::ENVIRONMENT,
            "urn:oasis:names:tc:xacml:1.0:environment:current-dateTime",
            systembruker_xacml::AttributeValue::parse(
                systembruker_xacml::DataType::DateTime,
                "2001-01-01T00:00:00Z",
            )
            .expect("dateTime"),
        )
        .build();
    given.supply_current_time(now);
    let times: Vec<String> = given
        .values(
            category::ENVIRONMENT,
            "urn:oasis:names:tc:xacml:1.0:environment:current-dateTime",
        )
        .map(ToString::to_string)
        .collect();
    assert_eq!(times.len(), 1);
    assert!(times[0].starts_with("2001-01-01"), "{times:?}");
}

#[test]
fn xml_responses_read_back_as_the_same_results() {
    let request = Request::from_xml(&xml_request(
        r#"<md:record xmlns:md="urn:example:record"><md:location>Springfield</md:location></md:record>"#,
    ))
    .expect("request parses");
    let results = Pdp::evaluate(&xpath_policy(), &request);
    let back = results_from_xml(&to_xml(&results)).expect("our XML reads back");
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].decision, Decision::Permit);
    assert_eq!(back[0].status.code, StatusCode::Ok);
}
