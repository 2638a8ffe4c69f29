//! Decision results and their XML / JSON-profile forms.

use crate::error::{RequestError, Status, StatusCode};
use crate::request::{Attribute, Attributes, get, json_value, one_or_many};
use crate::value::{AttributeValue, DataType};
use crate::xml::{Element, parse_document};
use serde_json::{Map, Value as Json, json};
use std::fmt::Write as _;

/// The four XACML decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Permit,
    Deny,
    NotApplicable,
    Indeterminate,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Permit => "Permit",
            Decision::Deny => "Deny",
            Decision::NotApplicable => "NotApplicable",
            Decision::Indeterminate => "Indeterminate",
        }
    }

    pub fn parse(s: &str) -> Option<Decision> {
        [
            Decision::Permit,
            Decision::Deny,
            Decision::NotApplicable,
            Decision::Indeterminate,
        ]
        .into_iter()
        .find(|d| d.as_str() == s.trim())
    }
}

/// One evaluated AttributeAssignment of an obligation or advice.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeAssignment {
    pub attribute_id: String,
    pub category: Option<String>,
    pub issuer: Option<String>,
    pub value: AttributeValue,
}

/// An obligation or advice returned with a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Obligation {
    pub id: String,
    pub assignments: Vec<AttributeAssignment>,
}

/// Advice has the same shape as an obligation.
pub type Advice = Obligation;

/// An entry of the PolicyIdentifierList.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PolicyIdentifier {
    /// true for PolicySetIdReference, false for PolicyIdReference.
    pub is_policy_set: bool,
    pub id: String,
    pub version: String,
}

/// The result of one individual decision request.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionResult {
    pub decision: Decision,
    pub status: Status,
    pub obligations: Vec<Obligation>,
    pub advice: Vec<Advice>,
    /// Request attributes marked IncludeInResult, by category.
    pub attributes: Vec<Attributes>,
    /// Filled when the request asked for ReturnPolicyIdList.
    pub policy_identifiers: Vec<PolicyIdentifier>,
}

impl DecisionResult {
    pub fn new(decision: Decision, status: Status) -> Self {
        DecisionResult {
            decision,
            status,
            obligations: Vec::new(),
            advice: Vec::new(),
            attributes: Vec::new(),
            policy_identifiers: Vec::new(),
        }
    }

    /// Indeterminate with syntax-error, e.g. for a request that did not parse.
    pub fn syntax_error(message: impl Into<String>) -> Self {
        DecisionResult::new(Decision::Indeterminate, Status::syntax_error(message))
    }

    /// Indeterminate with processing-error.
    pub fn processing_error(message: impl Into<String>) -> Self {
        DecisionResult::new(Decision::Indeterminate, Status::processing_error(message))
    }
}

// ---------------------------------------------------------------- JSON

fn short_type(dt: DataType) -> String {
    dt.uri().to_string()
}

fn json_scalar(v: &AttributeValue) -> Json {
    match v {
        AttributeValue::Boolean(b) => json!(b),
        AttributeValue::Integer(i) => json!(i),
        AttributeValue::XPathExpression { category, path, .. } => {
            json!({"XPathCategory": category, "XPath": path})
        }
        other => json!(other.to_string()),
    }
}

fn obligations_json(list: &[Obligation]) -> Json {
    Json::Array(
        list.iter()
            .map(|o| {
                let assignments: Vec<Json> = o
                    .assignments
                    .iter()
                    .map(|a| {
                        let mut m = Map::new();
                        m.insert("attributeId".into(), json!(a.attribute_id));
                        // Altinn's form: the value is always a string.
                        m.insert("value".into(), json!(a.value.to_string()));
                        if let Some(c) = &a.category {
                            m.insert("category".into(), json!(c));
                        }
                        if let Some(i) = &a.issuer {
                            m.insert("issuer".into(), json!(i));
                        }
                        m.insert("dataType".into(), json!(short_type(a.value.data_type())));
                        Json::Object(m)
                    })
                    .collect();
                json!({"id": o.id, "attributeAssignment": assignments})
            })
            .collect(),
    )
}

fn categories_json(list: &[Attributes]) -> Json {
    Json::Array(
        list.iter()
            .map(|c| {
                let attrs: Vec<Json> = c
                    .attributes
                    .iter()
                    .flat_map(|a| a.values.iter().map(move |v| (a, v)))
                    .map(|(a, v)| {
                        let mut m = Map::new();
                        m.insert("AttributeId".into(), json!(a.id));
                        m.insert("Value".into(), json_scalar(v));
                        m.insert("DataType".into(), json!(short_type(v.data_type())));
                        if let Some(i) = &a.issuer {
                            m.insert("Issuer".into(), json!(i));
                        }
                        Json::Object(m)
                    })
                    .collect();
                json!({"CategoryId": c.category, "Attribute": attrs})
            })
            .collect(),
    )
}

/// Serialize results to the JSON response form used by Altinn's PDP
/// (`{"Response":[{"Decision":..,"Status":{"StatusCode":{"Value":..}},...}]}`).
pub fn to_json(results: &[DecisionResult]) -> Json {
    let items: Vec<Json> = results.iter().map(result_json).collect();
    json!({ "Response": items })
}

fn result_json(r: &DecisionResult) -> Json {
    let mut m = Map::new();
    m.insert("Decision".into(), json!(r.decision.as_str()));
    let mut status = Map::new();
    status.insert("StatusCode".into(), json!({"Value": r.status.code.uri()}));
    if let Some(msg) = &r.status.message {
        status.insert("StatusMessage".into(), json!(msg));
    }
    m.insert("Status".into(), Json::Object(status));
    if !r.obligations.is_empty() {
        m.insert("Obligations".into(), obligations_json(&r.obligations));
    }
    if !r.advice.is_empty() {
        m.insert("AssociateAdvice".into(), obligations_json(&r.advice));
    }
    if !r.attributes.is_empty() {
        m.insert("Category".into(), categories_json(&r.attributes));
    }
    if !r.policy_identifiers.is_empty() {
        let (sets, policies): (Vec<_>, Vec<_>) =
            r.policy_identifiers.iter().partition(|p| p.is_policy_set);
        let refs = |v: Vec<&PolicyIdentifier>| -> Json {
            Json::Array(
                v.iter()
                    .map(|p| json!({"Id": p.id, "Version": p.version}))
                    .collect(),
            )
        };
        m.insert(
            "PolicyIdentifierList".into(),
            json!({"PolicyIdReference": refs(policies), "PolicySetIdReference": refs(sets)}),
        );
    }
    Json::Object(m)
}

/// Parse a JSON-profile response (PascalCase or camelCase keys).
pub fn results_from_json(text: &str) -> Result<Vec<DecisionResult>, RequestError> {
    let doc: Json = serde_json::from_str(text).map_err(|e| RequestError::Json(e.to_string()))?;
    let items = get(&doc, "Response").map(one_or_many).unwrap_or_default();
    items.into_iter().map(result_from_json).collect()
}

fn result_from_json(v: &Json) -> Result<DecisionResult, RequestError> {
    let bad = |m: &str| RequestError::Invalid {
        what: "response".into(),
        message: m.to_string(),
    };
    let decision = get(v, "Decision")
        .and_then(Json::as_str)
        .and_then(Decision::parse)
        .ok_or_else(|| bad("missing or unknown Decision"))?;
    let code = get(v, "Status")
        .and_then(|s| get(s, "StatusCode"))
        .and_then(|s| get(s, "Value"))
        .and_then(Json::as_str)
        .map_or(Some(StatusCode::Ok), StatusCode::from_uri)
        .ok_or_else(|| bad("unknown status code"))?;
    let mut result = DecisionResult::new(
        decision,
        Status {
            code,
            message: None,
        },
    );
    for key in ["Obligations", "AssociatedAdvice", "AssociateAdvice"] {
        let list = get(v, key).map(one_or_many).unwrap_or_default();
        let parsed = list
            .into_iter()
            .map(obligation_from_json)
            .collect::<Result<Vec<_>, _>>()?;
        if key == "Obligations" {
            result.obligations = parsed;
        } else {
            result.advice.extend(parsed);
        }
    }
    for c in get(v, "Category").map(one_or_many).unwrap_or_default() {
        let category = get(c, "CategoryId")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let mut group = Attributes {
            category: category.to_string(),
            id: None,
            attributes: Vec::new(),
            content: None,
        };
        for a in get(c, "Attribute").map(one_or_many).unwrap_or_default() {
            let dt = get(a, "DataType")
                .and_then(Json::as_str)
                .and_then(DataType::from_uri);
            let value = get(a, "Value").ok_or_else(|| bad("attribute without Value"))?;
            group.attributes.push(Attribute {
                id: get(a, "AttributeId")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string(),
                issuer: get(a, "Issuer").and_then(Json::as_str).map(str::to_string),
                include_in_result: true,
                values: vec![json_value(value, dt)?],
            });
        }
        result.attributes.push(group);
    }
    Ok(result)
}

fn obligation_from_json(v: &Json) -> Result<Obligation, RequestError> {
    let id = get(v, "Id")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let mut assignments = Vec::new();
    for a in get(v, "AttributeAssignment")
        .map(one_or_many)
        .unwrap_or_default()
    {
        let dt = get(a, "DataType")
            .and_then(Json::as_str)
            .and_then(DataType::from_uri);
        let value =
            get(a, "Value").map_or(Ok(AttributeValue::string("")), |x| json_value(x, dt))?;
        assignments.push(AttributeAssignment {
            attribute_id: get(a, "AttributeId")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string(),
            category: get(a, "Category")
                .and_then(Json::as_str)
                .map(str::to_string),
            issuer: get(a, "Issuer").and_then(Json::as_str).map(str::to_string),
            value,
        });
    }
    Ok(Obligation { id, assignments })
}

// ----------------------------------------------------------------- XML

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            other => out.push(other),
        }
    }
    out
}

fn write_assignments(out: &mut String, tag: &str, id_attr: &str, list: &[Obligation]) {
    for o in list {
        let _ = write!(out, "<{tag} {id_attr}=\"{}\">", escape(&o.id));
        for a in &o.assignments {
            let _ = write!(
                out,
                "<AttributeAssignment AttributeId=\"{}\" DataType=\"{}\"",
                escape(&a.attribute_id),
                a.value.data_type().uri()
            );
            if let Some(c) = &a.category {
                let _ = write!(out, " Category=\"{}\"", escape(c));
            }
            if let Some(i) = &a.issuer {
                let _ = write!(out, " Issuer=\"{}\"", escape(i));
            }
            let _ = write!(
                out,
                ">{}</AttributeAssignment>",
                escape(&a.value.to_string())
            );
        }
        let _ = write!(out, "</{tag}>");
    }
}

/// Serialize results to an XACML 3.0 `<Response>` document.
pub fn to_xml(results: &[DecisionResult]) -> String {
    let mut out =
        String::from("<Response xmlns=\"urn:oasis:names:tc:xacml:3.0:core:schema:wd-17\">");
    for r in results {
        let _ = write!(out, "<Result><Decision>{}</Decision>", r.decision.as_str());
        let _ = write!(
            out,
            "<Status><StatusCode Value=\"{}\"/>",
            r.status.code.uri()
        );
        if let Some(m) = &r.status.message {
            let _ = write!(out, "<StatusMessage>{}</StatusMessage>", escape(m));
        }
        out.push_str("</Status>");
        if !r.obligations.is_empty() {
            out.push_str("<Obligations>");
            write_assignments(&mut out, "Obligation", "ObligationId", &r.obligations);
            out.push_str("</Obligations>");
        }
        if !r.advice.is_empty() {
            out.push_str("<AssociatedAdvice>");
            write_assignments(&mut out, "Advice", "AdviceId", &r.advice);
            out.push_str("</AssociatedAdvice>");
        }
        for c in &r.attributes {
            let _ = write!(out, "<Attributes Category=\"{}\">", escape(&c.category));
            for a in &c.attributes {
                let _ = write!(
                    out,
                    "<Attribute AttributeId=\"{}\" IncludeInResult=\"true\"",
                    escape(&a.id)
                );
                if let Some(i) = &a.issuer {
                    let _ = write!(out, " Issuer=\"{}\"", escape(i));
                }
                out.push('>');
                for v in &a.values {
                    let _ = write!(
                        out,
                        "<AttributeValue DataType=\"{}\">{}</AttributeValue>",
                        v.data_type().uri(),
                        escape(&v.to_string())
                    );
                }
                out.push_str("</Attribute>");
            }
            out.push_str("</Attributes>");
        }
        if !r.policy_identifiers.is_empty() {
            out.push_str("<PolicyIdentifierList>");
            for p in &r.policy_identifiers {
                let tag = if p.is_policy_set {
                    "PolicySetIdReference"
                } else {
                    "PolicyIdReference"
                };
                let _ = write!(
                    out,
                    "<{tag} Version=\"{}\">{}</{tag}>",
                    escape(&p.version),
                    escape(&p.id)
                );
            }
            out.push_str("</PolicyIdentifierList>");
        }
        out.push_str("</Result>");
    }
    out.push_str("</Response>");
    out
}

/// Parse an XACML 3.0 `<Response>` document (used to compare with expected
/// responses, e.g. the OASIS conformance suite).
pub fn results_from_xml(xml: &str) -> Result<Vec<DecisionResult>, RequestError> {
    let root = parse_document(xml).map_err(|e| RequestError::Xml {
        line: e.line,
        message: e.message,
    })?;
    root.children_named("Result").map(result_from_xml).collect()
}

fn xml_invalid(what: &str, message: String) -> RequestError {
    RequestError::Invalid {
        what: what.to_string(),
        message,
    }
}

fn result_from_xml(el: &Element) -> Result<DecisionResult, RequestError> {
    let decision_text = el
        .child("Decision")
        .map(|d| d.text.as_str())
        .unwrap_or_default();
    let decision = Decision::parse(decision_text)
        .ok_or_else(|| xml_invalid("Decision", format!("`{decision_text}`")))?;
    let code = el
        .child("Status")
        .and_then(|s| s.child("StatusCode"))
        .and_then(|s| s.attr("Value"))
        .map_or(Some(StatusCode::Ok), StatusCode::from_uri)
        .ok_or_else(|| xml_invalid("StatusCode", "unknown".into()))?;
    let mut result = DecisionResult::new(
        decision,
        Status {
            code,
            message: None,
        },
    );
    if let Some(obls) = el.child("Obligations") {
        result.obligations = effect_list_from_xml(obls, "Obligation", "ObligationId")?;
    }
    if let Some(adv) = el.child("AssociatedAdvice") {
        result.advice = effect_list_from_xml(adv, "Advice", "AdviceId")?;
    }
    for group in el.children_named("Attributes") {
        let mut attrs = Attributes {
            category: group.attr("Category").unwrap_or_default().to_string(),
            id: None,
            attributes: Vec::new(),
            content: None,
        };
        for a in group.children_named("Attribute") {
            let values = a
                .children_named("AttributeValue")
                .map(value_from_xml)
                .collect::<Result<Vec<_>, _>>()?;
            attrs.attributes.push(Attribute {
                id: a.attr("AttributeId").unwrap_or_default().to_string(),
                issuer: a.attr("Issuer").map(str::to_string),
                include_in_result: true,
                values,
            });
        }
        result.attributes.push(attrs);
    }
    if let Some(list) = el.child("PolicyIdentifierList") {
        for r in &list.children {
            result.policy_identifiers.push(PolicyIdentifier {
                is_policy_set: r.name == "PolicySetIdReference",
                id: r.text.trim().to_string(),
                version: r.attr("Version").unwrap_or("1.0").to_string(),
            });
        }
    }
    Ok(result)
}

fn value_from_xml(el: &Element) -> Result<AttributeValue, RequestError> {
    let uri = el.attr("DataType").unwrap_or(DataType::String.uri());
    let dt = DataType::from_uri(uri).ok_or_else(|| xml_invalid("DataType", uri.to_string()))?;
    if dt == DataType::XPathExpression {
        return Ok(AttributeValue::XPathExpression {
            category: el.attr("XPathCategory").unwrap_or_default().to_string(),
            path: el.text.trim().to_string(),
            namespaces: el.namespaces.as_ref().clone(),
        });
    }
    AttributeValue::parse(dt, &el.text).map_err(|e| xml_invalid("AttributeValue", e.to_string()))
}

fn effect_list_from_xml(
    parent: &Element,
    tag: &str,
    id_attr: &str,
) -> Result<Vec<Obligation>, RequestError> {
    parent
        .children_named(tag)
        .map(|o| {
            let assignments = o
                .children_named("AttributeAssignment")
                .map(|a| {
                    Ok(AttributeAssignment {
                        attribute_id: a.attr("AttributeId").unwrap_or_default().to_string(),
                        category: a.attr("Category").map(str::to_string),
                        issuer: a.attr("Issuer").map(str::to_string),
                        value: value_from_xml(a)?,
                    })
                })
                .collect::<Result<Vec<_>, RequestError>>()?;
            Ok(Obligation {
                id: o.attr(id_attr).unwrap_or_default().to_string(),
                assignments,
            })
        })
        .collect()
}
