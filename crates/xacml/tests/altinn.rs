//! Altinn-shaped policy: decisions for JSON requests (docs/authorization.md#the-pdp)
//! and the rights listing.

use systembruker_xacml::{
    AttributeValue, Decision, Pdp, Policy, PolicyError, Request, Right, StatusCode, SubjectMatch,
    category, to_json,
};

const POLICY: &str = include_str!("data/ske-krav-og-betalinger.xml");

fn policy() -> Policy {
    Policy::from_xml(POLICY).expect("demo policy loads")
}

/// A request as the PDP takes it (docs/authorization.md#the-pdp): systemuser subject,
/// action, resource, multi-request.
fn json_request(action: &str, resource: &str, extra_subject_attrs: &str) -> String {
    format!(
        r#"{{"Request":{{"ReturnPolicyIdList":true,
 "AccessSubject":[{{"Id":"s1","Attribute":[{{"AttributeId":"urn:altinn:systemuser:uuid","Value":"e2eba2c3-b369-4ff9-8418-99a810d6bb58"}}{extra_subject_attrs}]}}],
 "Action":[{{"Id":"a1","Attribute":[{{"AttributeId":"urn:oasis:names:tc:xacml:1.0:action:action-id","Value":"{action}"}}]}}],
 "Resource":[{{"Id":"r1","Attribute":[{{"AttributeId":"urn:altinn:resource","Value":"{resource}"}},
   {{"AttributeId":"urn:altinn:organization:identifier-no","Value":"923609016"}}]}}],
 "MultiRequests":{{"RequestReference":[{{"ReferenceId":["s1","a1","r1"]}}]}}}}}}"#
    )
}

fn decide(json: &str) -> Decision {
    let request = Request::from_json(json).expect("request parses");
    let results = Pdp::evaluate(&policy(), &request);
    assert_eq!(results.len(), 1);
    results[0].decision
}

#[test]
fn package_holder_may_read() {
    let extra = r#",{"AttributeId":"urn:altinn:accesspackage","Value":["ansettelsesforhold","skattnaering"]}"#;
    let request = Request::from_json(&json_request("read", "ske-krav-og-betalinger", extra))
        .expect("request parses");
    let results = Pdp::evaluate(&policy(), &request);
    assert_eq!(results[0].decision, Decision::Permit);
    assert_eq!(results[0].status.code, StatusCode::Ok);
    let obligation = &results[0].obligations[0];
    assert_eq!(obligation.id, "urn:altinn:obligation:authenticationLevel1");
    assert_eq!(obligation.assignments[0].value, AttributeValue::Integer(3));

    let json = to_json(&results);
    let first = &json["Response"][0];
    assert_eq!(first["Decision"], "Permit");
    assert_eq!(
        first["Status"]["StatusCode"]["Value"],
        "urn:oasis:names:tc:xacml:1.0:status:ok"
    );
    let assignment = &first["Obligations"][0]["attributeAssignment"][0];
    assert_eq!(assignment["value"], "3");
    assert_eq!(
        assignment["category"],
        "urn:altinn:minimum-authenticationlevel"
    );
    assert_eq!(
        assignment["dataType"],
        "http://www.w3.org/2001/XMLSchema#integer"
    );
}

#[test]
fn role_code_matches_case_insensitively_and_camel_case_keys_work() {
    let json = r#"{"request":{"accessSubject":[{"attribute":[{"attributeId":"urn:altinn:rolecode","value":"dagl"}]}],
      "action":[{"attribute":[{"attributeId":"urn:oasis:names:tc:xacml:1.0:action:action-id","value":"read"}]}],
      "resource":[{"attribute":[{"attributeId":"urn:altinn:resource","value":"ske-krav-og-betalinger"}]}]}}"#;
    assert_eq!(decide(json), Decision::Permit);
}

#[test]
fn not_applicable_without_package_or_for_other_action_or_resource() {
    let pkg = r#",{"AttributeId":"urn:altinn:accesspackage","Value":"skattnaering"}"#;
    assert_eq!(
        decide(&json_request("read", "ske-krav-og-betalinger", "")),
        Decision::NotApplicable
    );
    assert_eq!(
        decide(&json_request("sign", "ske-krav-og-betalinger", pkg)),
        Decision::NotApplicable
    );
    assert_eq!(
        decide(&json_request("read", "another-resource", pkg)),
        Decision::NotApplicable
    );
}

#[test]
fn builder_and_enrichment_give_the_same_decision() {
    let mut request = Request::builder()
        .subject(
            "urn:altinn:systemuser:uuid",
            "e2eba2c3-b369-4ff9-8418-99a810d6bb58",
        )
        .resource("urn:altinn:resource", "ske-krav-og-betalinger")
        .action("read")
        .build();
    let policy = policy();
    assert_eq!(
        Pdp::decide(&policy, &request).decision,
        Decision::NotApplicable
    );
    // The PIP adds the packages the system user holds.
    request.add_attribute(
        category::ACCESS_SUBJECT,
        "urn:altinn:accesspackage",
        AttributeValue::string("regnskapsforer-med-signeringsrettighet"),
    );
    assert_eq!(Pdp::decide(&policy, &request).decision, Decision::Permit);
}

#[test]
fn referenced_attribute_ids_tell_what_to_fetch() {
    let ids = policy().referenced_attribute_ids();
    assert!(ids.contains(&"urn:altinn:accesspackage".to_string()));
    assert!(ids.contains(&"urn:altinn:rolecode".to_string()));
    assert!(ids.contains(&"urn:altinn:resource".to_string()));
}

#[test]
fn rights_lists_action_resource_and_subjects() {
    let p = policy();
    assert_eq!(p.rule_count(), 1);
    let pair = |id: &str, value: &str| SubjectMatch {
        attribute_id: id.to_string(),
        value: value.to_string(),
    };
    assert_eq!(
        p.rights(),
        vec![Right {
            action: "read".into(),
            resource: vec![pair("urn:altinn:resource", "ske-krav-og-betalinger")],
            subjects: vec![
                pair("urn:altinn:rolecode", "DAGL"),
                pair("urn:altinn:accesspackage", "skattnaering"),
                pair(
                    "urn:altinn:accesspackage",
                    "regnskapsforer-med-signeringsrettighet"
                ),
            ],
        }]
    );
}

#[test]
fn policy_without_rules_is_rejected_with_a_helpful_error() {
    let xml = r#"<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="empty"
      RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides"><Target/></Policy>"#;
    let err = Policy::from_xml(xml).expect_err("no rules");
    assert!(matches!(err, PolicyError::NoRules { .. }));
    assert!(err.to_string().contains("add at least one rule"));
}

#[test]
fn errors_say_where() {
    let xml = "<Policy PolicyId=\"p\"\n RuleCombiningAlgId=\"urn:bogus\"><Rule RuleId=\"r\" Effect=\"Permit\"/></Policy>";
    let err = Policy::from_xml(xml).expect_err("unknown algorithm");
    let text = err.to_string();
    assert!(
        text.contains("line 1") && text.contains("urn:bogus"),
        "{text}"
    );
    let missing = Policy::from_xml("<Policy PolicyId=\"p\"><Rule/></Policy>").expect_err("missing");
    assert!(missing.to_string().contains("RuleCombiningAlgId"));
}

#[test]
fn missing_must_be_present_attribute_is_indeterminate() {
    let xml = r#"<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="p"
      RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides">
      <Rule RuleId="r" Effect="Permit"><Target><AnyOf><AllOf>
        <Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">x</AttributeValue>
          <AttributeDesignator AttributeId="urn:altinn:userid" Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject"
            DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="true"/>
        </Match></AllOf></AnyOf></Target></Rule></Policy>"#;
    let policy = Policy::from_xml(xml).expect("loads");
    let result = Pdp::decide(&policy, &Request::builder().action("read").build());
    assert_eq!(result.decision, Decision::Indeterminate);
    assert_eq!(result.status.code, StatusCode::MissingAttribute);
}

#[test]
fn a_permit_outside_the_policy_carries_its_obligations_and_included_attributes() {
    let json = r#"{"Request":{"ReturnPolicyIdList":true,
      "AccessSubject":[{"Attribute":[{"AttributeId":"urn:altinn:userid","Value":"1337"}]}],
      "Action":[{"Attribute":[{"AttributeId":"urn:oasis:names:tc:xacml:1.0:action:action-id","Value":"read"}]}],
      "Resource":[{"Attribute":[{"AttributeId":"urn:altinn:resource","Value":"ske-krav-og-betalinger"},
        {"AttributeId":"urn:altinn:partyid","Value":"50001","IncludeInResult":true}]}]}}"#;
    let request = Request::from_json(json).expect("request parses");
    // The rules themselves do not apply to this subject…
    assert_eq!(
        Pdp::decide(&policy(), &request).decision,
        Decision::NotApplicable
    );
    // …but a Permit decided by a delegation carries the policy's obligation.
    let result = Pdp::permit_outside(Some(&policy()), &request);
    assert_eq!(result.decision, Decision::Permit);
    assert_eq!(
        result.obligations[0].id,
        "urn:altinn:obligation:authenticationLevel1"
    );
    assert_eq!(
        result.obligations[0].assignments[0].value,
        AttributeValue::Integer(3)
    );
    assert_eq!(result.attributes.len(), 1);
    assert_eq!(result.attributes[0].attributes[0].id, "urn:altinn:partyid");
    // Without a policy there is nothing to carry but the included attributes.
    let bare = Pdp::permit_outside(None, &request);
    assert_eq!(bare.decision, Decision::Permit);
    assert!(bare.obligations.is_empty());
    assert_eq!(bare.attributes.len(), 1);
}
