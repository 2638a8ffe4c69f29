//! Decision latency for an Altinn-style policy (a few rules, ~20 subject
//! matches) with a PIP-enriched request.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use systembruker_xacml::{AttributeValue, Pdp, Policy, Request, category};

const SUBJECT: &str = "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject";

fn subject_match(attribute: &str, value: &str) -> String {
    format!(
        r#"<xacml:AllOf><xacml:Match MatchId="urn:oasis:names:tc:xacml:3.0:function:string-equal-ignore-case">
  <xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">{value}</xacml:AttributeValue>
  <xacml:AttributeDesignator AttributeId="{attribute}" Category="{SUBJECT}" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
</xacml:Match></xacml:AllOf>"#
    )
}

fn simple_match(category: &str, attribute: &str, value: &str) -> String {
    format!(
        r#"<xacml:AnyOf><xacml:AllOf><xacml:Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
  <xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">{value}</xacml:AttributeValue>
  <xacml:AttributeDesignator AttributeId="{attribute}" Category="{category}" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
</xacml:Match></xacml:AllOf></xacml:AnyOf>"#
    )
}

/// Three Permit rules (read, write, sign), each granting 14 role codes and
/// 6 access packages on one resource.
fn altinn_policy() -> String {
    let roles = [
        "DAGL", "LEDE", "INNH", "DTPR", "DTSO", "BEST", "KOMP", "KONT", "REGN", "REVI", "PRIV",
        "SAM", "BOBE", "ADMAI",
    ];
    let packages = [
        "skattnaering",
        "regnskapsforer-med-signeringsrettighet",
        "ansettelsesforhold",
        "revisormedarbeider",
        "maskinporten-scopes",
        "regnskapsforer-uten-signeringsrettighet",
    ];
    let subjects: String = roles
        .iter()
        .map(|r| subject_match("urn:altinn:rolecode", r))
        .chain(
            packages
                .iter()
                .map(|p| subject_match("urn:altinn:accesspackage", p)),
        )
        .collect();
    let rules: String = ["read", "write", "sign"]
        .iter()
        .map(|action| {
            format!(
                r#"<xacml:Rule RuleId="r-{action}" Effect="Permit"><xacml:Target>
<xacml:AnyOf>{subjects}</xacml:AnyOf>{}{}</xacml:Target></xacml:Rule>"#,
                simple_match(
                    category::RESOURCE,
                    "urn:altinn:resource",
                    "ske-krav-og-betalinger"
                ),
                simple_match(
                    category::ACTION,
                    "urn:oasis:names:tc:xacml:1.0:action:action-id",
                    action
                ),
            )
        })
        .collect();
    format!(
        r#"<xacml:Policy xmlns:xacml="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="bench" Version="1"
  RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides"><xacml:Target/>{rules}
<xacml:ObligationExpressions><xacml:ObligationExpression FulfillOn="Permit" ObligationId="urn:altinn:obligation:authenticationLevel1">
<xacml:AttributeAssignmentExpression AttributeId="urn:altinn:obligation-assignment:1" Category="urn:altinn:minimum-authenticationlevel">
<xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">3</xacml:AttributeValue>
</xacml:AttributeAssignmentExpression></xacml:ObligationExpression></xacml:ObligationExpressions></xacml:Policy>"#
    )
}

fn enriched_request(package: &str) -> Request {
    let mut request = Request::builder()
        .subject(
            "urn:altinn:systemuser:uuid",
            "e2eba2c3-b369-4ff9-8418-99a810d6bb58",
        )
        .resource("urn:altinn:resource", "ske-krav-og-betalinger")
        .resource("urn:altinn:organization:identifier-no", "923609016")
        .action("sign")
        .build();
    for p in ["ansettelsesforhold", "maskinporten-scopes", package] {
        request.add_attribute(
            category::ACCESS_SUBJECT,
            "urn:altinn:accesspackage",
            AttributeValue::string(p),
        );
    }
    request
}

fn bench_decide(c: &mut Criterion) {
    let policy = Policy::from_xml(&altinn_policy()).expect("bench policy");
    let permit = enriched_request("regnskapsforer-uten-signeringsrettighet");
    let not_applicable = enriched_request("something-else");
    c.bench_function("altinn_policy_permit", |b| {
        b.iter(|| Pdp::decide(black_box(&policy), black_box(&permit)))
    });
    c.bench_function("altinn_policy_not_applicable", |b| {
        b.iter(|| Pdp::decide(black_box(&policy), black_box(&not_applicable)))
    });
    let json = r#"{"Request":{"AccessSubject":[{"Attribute":[{"AttributeId":"urn:altinn:rolecode","Value":"DAGL"}]}],
      "Action":[{"Attribute":[{"AttributeId":"urn:oasis:names:tc:xacml:1.0:action:action-id","Value":"read"}]}],
      "Resource":[{"Attribute":[{"AttributeId":"urn:altinn:resource","Value":"ske-krav-og-betalinger"}]}]}}"#;
    c.bench_function("json_parse_and_decide", |b| {
        b.iter(|| {
            let request = Request::from_json(black_box(json)).expect("request");
            Pdp::decide(&policy, &request)
        })
    });
}

criterion_group!(benches, bench_decide);
criterion_main!(benches);
