//! Decision requests: XML and JSON-profile parsing, and a builder.

use crate::error::RequestError;
use crate::functions::double_from_str;
use crate::value::{AttributeValue, DataType};
use crate::xml::{Element, parse_document};
use crate::xpath;
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};

/// Well-known attribute category identifiers.
pub mod category {
    pub const ACCESS_SUBJECT: &str = "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject";
    pub const RECIPIENT_SUBJECT: &str =
        "urn:oasis:names:tc:xacml:1.0:subject-category:recipient-subject";
    pub const INTERMEDIARY_SUBJECT: &str =
        "urn:oasis:names:tc:xacml:1.0:subject-category:intermediary-subject";
    pub const CODEBASE: &str = "urn:oasis:names:tc:xacml:1.0:subject-category:codebase";
    pub const REQUESTING_MACHINE: &str =
        "urn:oasis:names:tc:xacml:1.0:subject-category:requesting-machine";
    pub const RESOURCE: &str = "urn:oasis:names:tc:xacml:3.0:attribute-category:resource";
    pub const ACTION: &str = "urn:oasis:names:tc:xacml:3.0:attribute-category:action";
    pub const ENVIRONMENT: &str = "urn:oasis:names:tc:xacml:3.0:attribute-category:environment";

    /// JSON-profile shorthand names and the categories they stand for.
    pub(crate) const SHORTHANDS: [(&str, &str); 8] = [
        ("AccessSubject", ACCESS_SUBJECT),
        ("Action", ACTION),
        ("Resource", RESOURCE),
        ("Environment", ENVIRONMENT),
        ("RecipientSubject", RECIPIENT_SUBJECT),
        ("IntermediarySubject", INTERMEDIARY_SUBJECT),
        ("Codebase", CODEBASE),
        ("RequestingMachine", REQUESTING_MACHINE),
    ];
}

/// The XACML `action-id` attribute.
pub const ACTION_ID: &str = "urn:oasis:names:tc:xacml:1.0:action:action-id";

/// The environment attributes the context handler supplies when a request lacks them
/// (XACML 3.0 §10.2.5), with their data types.
const CURRENT_TIME_ATTRIBUTES: [(&str, DataType, &str); 3] = [
    (
        "urn:oasis:names:tc:xacml:1.0:environment:current-time",
        DataType::Time,
        "%H:%M:%S%.fZ",
    ),
    (
        "urn:oasis:names:tc:xacml:1.0:environment:current-date",
        DataType::Date,
        "%Y-%m-%dZ",
    ),
    (
        "urn:oasis:names:tc:xacml:1.0:environment:current-dateTime",
        DataType::DateTime,
        "%Y-%m-%dT%H:%M:%S%.fZ",
    ),
];

/// One request attribute: id, optional issuer and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub id: String,
    pub issuer: Option<String>,
    pub include_in_result: bool,
    pub values: Vec<AttributeValue>,
}

/// All attributes of one category (one `<Attributes>` element).
#[derive(Debug, Clone, PartialEq)]
pub struct Attributes {
    pub category: String,
    /// `xml:id` / JSON `Id`, used by multi-request references.
    pub id: Option<String>,
    pub attributes: Vec<Attribute>,
    /// The category's `<Content>` as a standalone XML document (its root
    /// element stands for `<Content>`), for XPath; `None` when it had none.
    pub content: Option<String>,
}

impl Attributes {
    fn new(category: &str) -> Self {
        Attributes {
            category: category.to_string(),
            id: None,
            attributes: Vec::new(),
            content: None,
        }
    }
}

/// A decision request (possibly several individual requests).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    pub(crate) categories: Vec<Attributes>,
    /// Each entry is the list of `Attributes` ids of one individual request.
    pub(crate) multi_requests: Vec<Vec<String>>,
    pub(crate) return_policy_id_list: bool,
}

impl Request {
    /// Start building a request in code.
    pub fn builder() -> RequestBuilder {
        RequestBuilder::default()
    }

    /// The category groups of the request, in document order.
    pub fn categories(&self) -> &[Attributes] {
        &self.categories
    }

    pub fn return_policy_id_list(&self) -> bool {
        self.return_policy_id_list
    }

    pub fn set_return_policy_id_list(&mut self, on: bool) {
        self.return_policy_id_list = on;
    }

    /// Add a value to `attribute_id` in the first group of `category`,
    /// creating the group or attribute as needed (used for PIP enrichment).
    pub fn add_attribute(&mut self, category: &str, attribute_id: &str, value: AttributeValue) {
        let group = match self.categories.iter().position(|c| c.category == category) {
            Some(i) => &mut self.categories[i],
            None => {
                self.categories.push(Attributes::new(category));
                let last = self.categories.len() - 1;
                &mut self.categories[last]
            }
        };
        match group
            .attributes
            .iter_mut()
            .find(|a| a.id == attribute_id && a.issuer.is_none())
        {
            Some(attr) => attr.values.push(value),
            None => group.attributes.push(Attribute {
                id: attribute_id.to_string(),
                issuer: None,
                include_in_result: false,
                values: vec![value],
            }),
        }
    }

    /// Supplies `current-time`, `current-date` and `current-dateTime` (environment,
    /// from `now`) where the request gives none, as XACML 3.0 §10.2.5 has the context
    /// handler do. Call it on each individual request ([`split`](Self::split)).
    pub fn supply_current_time(&mut self, now: chrono::DateTime<chrono::Utc>) {
        for (id, data_type, format) in CURRENT_TIME_ATTRIBUTES {
            if self.values(category::ENVIRONMENT, id).next().is_some() {
                continue;
            }
            let text = now.format(format).to_string();
            if let Ok(value) = AttributeValue::parse(data_type, &text) {
                self.add_attribute(category::ENVIRONMENT, id, value);
            }
        }
    }

    /// All values of `attribute_id` in `category` (any issuer, any group).
    pub fn values<'a>(
        &'a self,
        category: &'a str,
        attribute_id: &'a str,
    ) -> impl Iterator<Item = &'a AttributeValue> + 'a {
        self.categories
            .iter()
            .filter(move |c| c.category == category)
            .flat_map(|c| c.attributes.iter())
            .filter(move |a| a.id == attribute_id)
            .flat_map(|a| a.values.iter())
    }

    /// Split into individual, simple requests (multiple decision profile), in
    /// order; a request with an unknown reference is one error, the message for its
    /// single processing-error result.
    /// A context handler enriches each one on its own (its subject and party
    /// may differ from the others') before [`Pdp::decide`](crate::Pdp::decide).
    pub fn split(&self) -> Vec<Result<Request, String>> {
        self.individuals().collect()
    }

    /// As [`split`](Self::split), one individual request at a time: each is built when
    /// it is taken, so only one copy of its attributes is alive at once.
    pub fn individuals(&self) -> impl Iterator<Item = Result<Request, String>> + '_ {
        let selections = if self.is_simple() {
            Vec::new()
        } else {
            self.individual_requests()
        };
        let whole = self.is_simple().then(|| Ok(self.clone()));
        whole
            .into_iter()
            .chain(selections.into_iter().map(|selection| {
                selection.map(|indexes| Request {
                    categories: indexes
                        .iter()
                        .filter_map(|i| self.categories.get(*i).cloned())
                        .collect(),
                    multi_requests: Vec::new(),
                    return_policy_id_list: self.return_policy_id_list,
                })
            }))
    }

    /// Number of individual requests this request expands to.
    pub fn individual_count(&self) -> usize {
        self.individual_requests().len()
    }

    /// How many individual decisions this request asks for, counted without expanding
    /// it: the `MultiRequests` references, or else the product of the number of groups
    /// of each category (saturating, so a hostile product cannot overflow). A caller
    /// checks this against its limit before any decision work is done.
    pub fn decision_count(&self) -> usize {
        if !self.multi_requests.is_empty() {
            if self.unknown_reference().is_some() {
                return 1;
            }
            return self.multi_requests.len();
        }
        let mut per_category: HashMap<&str, usize> = HashMap::new();
        for c in &self.categories {
            *per_category.entry(c.category.as_str()).or_default() += 1;
        }
        per_category
            .values()
            .fold(1usize, |product, count| product.saturating_mul(*count))
    }

    /// The number of `AttributesReference`s over all `MultiRequests` references: each
    /// one copies a group of attributes into an individual request.
    pub fn reference_count(&self) -> usize {
        self.multi_requests.iter().map(Vec::len).sum()
    }

    /// About how many bytes of `IncludeInResult` attributes the results of all individual
    /// requests repeat, computed without expanding: each group's share times the number
    /// of individual requests that select it. A small request with one large echoed
    /// attribute and many decisions would otherwise make a response far larger than
    /// itself.
    pub fn echoed_bytes(&self) -> usize {
        let weights: Vec<usize> = self.categories.iter().map(echoed_weight).collect();
        if weights.iter().all(|w| *w == 0) {
            return 0;
        }
        if !self.multi_requests.is_empty() {
            let by_id = self.groups_by_id();
            return self
                .multi_requests
                .iter()
                .flatten()
                .filter_map(|r| by_id.get(r.as_str()))
                .fold(0usize, |sum, i| {
                    sum.saturating_add(weights.get(*i).copied().unwrap_or(0))
                });
        }
        let mut per_category: HashMap<&str, usize> = HashMap::new();
        for c in &self.categories {
            *per_category.entry(c.category.as_str()).or_default() += 1;
        }
        let decisions = self.decision_count();
        self.categories
            .iter()
            .zip(&weights)
            .fold(0usize, |sum, (c, weight)| {
                let groups = per_category.get(c.category.as_str()).copied().unwrap_or(1);
                sum.saturating_add(weight.saturating_mul(decisions / groups.max(1)))
            })
    }

    /// Expand into individual requests, each a list of indexes into
    /// `categories` (or an error message for a bad reference).
    pub(crate) fn individual_requests(&self) -> Vec<Result<Vec<usize>, String>> {
        if !self.multi_requests.is_empty() {
            // One unknown reference spoils the whole request, as in the reference PDP:
            // a single Indeterminate (processing-error) answers it.
            if let Some(unknown) = self.unknown_reference() {
                return vec![Err(format!(
                    "RequestReference names unknown Attributes id `{unknown}`"
                ))];
            }
            let by_id = self.groups_by_id();
            return self
                .multi_requests
                .iter()
                .map(|refs| resolve_references(&by_id, refs))
                .collect();
        }
        if !self.has_repeated_category() {
            return vec![Ok((0..self.categories.len()).collect())];
        }
        self.cartesian_product().into_iter().map(Ok).collect()
    }

    /// The first `MultiRequests` reference that names no `Attributes` id.
    fn unknown_reference(&self) -> Option<&str> {
        let by_id = self.groups_by_id();
        self.multi_requests
            .iter()
            .flatten()
            .find(|r| !by_id.contains_key(r.as_str()))
            .map(String::as_str)
    }

    /// The reference PDP's rule for a request as a whole: it needs an access subject
    /// and a resource (some attribute in each); without either it is Indeterminate
    /// with processing-error, before any policy is looked at.
    pub fn check_subject_and_resource(&self) -> Result<(), crate::DecisionResult> {
        for (what, cat) in [
            ("an access subject", category::ACCESS_SUBJECT),
            ("a resource", category::RESOURCE),
        ] {
            let present = self
                .categories
                .iter()
                .any(|c| c.category == cat && !c.attributes.is_empty());
            if !present {
                return Err(crate::DecisionResult::processing_error(format!(
                    "the request has no attributes for {what} ({cat})"
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn is_simple(&self) -> bool {
        self.multi_requests.is_empty() && !self.has_repeated_category()
    }

    /// Each `Attributes` id and the index of its first group (one map, so resolving
    /// many references stays linear).
    fn groups_by_id(&self) -> HashMap<&str, usize> {
        let mut by_id = HashMap::new();
        for (i, c) in self.categories.iter().enumerate() {
            if let Some(id) = c.id.as_deref() {
                by_id.entry(id).or_insert(i);
            }
        }
        by_id
    }

    fn has_repeated_category(&self) -> bool {
        let mut seen = HashSet::new();
        !self
            .categories
            .iter()
            .all(|c| seen.insert(c.category.as_str()))
    }

    /// Multiple Decision Profile, repeated categories: one individual request
    /// per combination of one group from each category.
    fn cartesian_product(&self) -> Vec<Vec<usize>> {
        // Categories in order of first appearance, found through a map so that many
        // distinct categories stay linear.
        let mut position: HashMap<&str, usize> = HashMap::new();
        let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, c) in self.categories.iter().enumerate() {
            match position.get(c.category.as_str()) {
                Some(at) => groups[*at].1.push(i),
                None => {
                    position.insert(&c.category, groups.len());
                    groups.push((&c.category, vec![i]));
                }
            }
        }
        let mut combos: Vec<Vec<usize>> = vec![Vec::new()];
        for (_, members) in &groups {
            combos = combos
                .iter()
                .flat_map(|combo| {
                    members.iter().map(move |m| {
                        let mut next = combo.clone();
                        next.push(*m);
                        next
                    })
                })
                .collect();
        }
        combos
    }

    // ------------------------------------------------------------------ XML

    /// Parse an XACML 3.0 `<Request>` document.
    pub fn from_xml(xml: &str) -> Result<Request, RequestError> {
        let root = parse_document(xml).map_err(|e| RequestError::Xml {
            line: e.line,
            message: e.message,
        })?;
        if root.name != "Request" {
            return Err(RequestError::Invalid {
                what: "root element".into(),
                message: format!("expected <Request>, found <{}>", root.name),
            });
        }
        let mut request = Request {
            return_policy_id_list: root.attr("ReturnPolicyIdList").map(str::trim) == Some("true"),
            ..Request::default()
        };
        for group in root.children_named("Attributes") {
            request.categories.push(xml_attributes(group)?);
        }
        if let Some(multi) = root.child("MultiRequests") {
            for reference in multi.children_named("RequestReference") {
                let ids = reference
                    .children_named("AttributesReference")
                    .map(|r| {
                        r.attr("ReferenceId").map(str::to_string).ok_or_else(|| {
                            missing(
                                "ReferenceId on <AttributesReference>",
                                "add the xml:id it refers to",
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                request.multi_requests.push(ids);
            }
        }
        Ok(request)
    }

    // ----------------------------------------------------------------- JSON

    /// Parse a JSON-profile request (`{"Request": {...}}`); keys are matched
    /// case-insensitively.
    pub fn from_json(json: &str) -> Result<Request, RequestError> {
        let doc: Json =
            serde_json::from_str(json).map_err(|e| RequestError::Json(e.to_string()))?;
        let body = get(&doc, "Request").ok_or_else(|| {
            missing(
                "the top-level \"Request\" object",
                "wrap the request as {\"Request\": {...}}",
            )
        })?;
        if !body.is_object() {
            return Err(invalid("Request", "must be a JSON object"));
        }
        let mut request = Request {
            return_policy_id_list: get(body, "ReturnPolicyIdList").and_then(Json::as_bool)
                == Some(true),
            ..Request::default()
        };
        // A category given as `null` (as the reference's own clients send
        // `"Category": null`) is absent, not an error.
        for (short, uri) in category::SHORTHANDS {
            if let Some(v) = get(body, short) {
                for obj in one_or_many(v).into_iter().filter(|o| !o.is_null()) {
                    request.categories.push(json_attributes(obj, Some(uri))?);
                }
            }
        }
        if let Some(v) = get(body, "Category") {
            for obj in one_or_many(v).into_iter().filter(|o| !o.is_null()) {
                request.categories.push(json_attributes(obj, None)?);
            }
        }
        if let Some(multi) = get(body, "MultiRequests").filter(|m| !m.is_null()) {
            let refs = get(multi, "RequestReference")
                .map(one_or_many)
                .unwrap_or_default();
            for r in refs {
                let ids = get(r, "ReferenceId").map(one_or_many).unwrap_or_default();
                let ids = ids
                    .iter()
                    .map(|id| {
                        id.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| invalid("ReferenceId", "must be strings"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                request.multi_requests.push(ids);
            }
        }
        Ok(request)
    }
}

/// The size of a group's `IncludeInResult` attributes (ids and values, as text).
fn echoed_weight(group: &Attributes) -> usize {
    group
        .attributes
        .iter()
        .filter(|a| a.include_in_result)
        .map(|a| {
            a.id.len()
                + a.issuer.as_ref().map_or(0, String::len)
                + a.values.iter().map(|v| v.to_string().len()).sum::<usize>()
        })
        .sum()
}

fn resolve_references(by_id: &HashMap<&str, usize>, refs: &[String]) -> Result<Vec<usize>, String> {
    refs.iter()
        .map(|r| {
            by_id
                .get(r.as_str())
                .copied()
                .ok_or_else(|| format!("RequestReference names unknown Attributes id `{r}`"))
        })
        .collect()
}

fn missing(what: &str, hint: &'static str) -> RequestError {
    RequestError::Missing {
        what: what.to_string(),
        hint,
    }
}

fn invalid(what: &str, message: impl Into<String>) -> RequestError {
    RequestError::Invalid {
        what: what.to_string(),
        message: message.into(),
    }
}

fn xml_attributes(group: &Element) -> Result<Attributes, RequestError> {
    let category = group.attr("Category").ok_or_else(|| {
        missing(
            "Category on <Attributes>",
            "give every <Attributes> a Category URI",
        )
    })?;
    let mut out = Attributes::new(category);
    out.id = group.attr("id").map(str::to_string);
    out.content = group.child("Content").map(|c| {
        xpath::content_document(c.raw_inner.as_deref().unwrap_or_default(), &c.namespaces)
    });
    for attr in group.children_named("Attribute") {
        let id = attr.attr("AttributeId").ok_or_else(|| {
            missing(
                "AttributeId on <Attribute>",
                "every <Attribute> needs an AttributeId",
            )
        })?;
        let values = attr
            .children_named("AttributeValue")
            .map(xml_value)
            .collect::<Result<Vec<_>, _>>()?;
        out.attributes.push(Attribute {
            id: id.to_string(),
            issuer: attr.attr("Issuer").map(str::to_string),
            include_in_result: attr.attr("IncludeInResult").map(str::trim) == Some("true"),
            values,
        });
    }
    Ok(out)
}

fn xml_value(el: &Element) -> Result<AttributeValue, RequestError> {
    let uri = el
        .attr("DataType")
        .ok_or_else(|| missing("DataType on <AttributeValue>", "add a DataType URI"))?;
    let dt =
        DataType::from_uri(uri).ok_or_else(|| invalid("DataType", format!("unknown `{uri}`")))?;
    if dt == DataType::XPathExpression {
        return Ok(AttributeValue::XPathExpression {
            category: el.attr("XPathCategory").unwrap_or_default().to_string(),
            path: el.text.trim().to_string(),
            namespaces: el.namespaces.as_ref().clone(),
        });
    }
    AttributeValue::parse(dt, &el.text).map_err(|e| invalid("AttributeValue", e.to_string()))
}

/// Case-insensitive object member lookup (Altinn mixes PascalCase and camelCase).
pub(crate) fn get<'a>(v: &'a Json, key: &str) -> Option<&'a Json> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

pub(crate) fn one_or_many(v: &Json) -> Vec<&Json> {
    match v {
        Json::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn json_attributes(obj: &Json, shorthand: Option<&str>) -> Result<Attributes, RequestError> {
    let category = match shorthand {
        Some(uri) => uri.to_string(),
        None => {
            let id = get(obj, "CategoryId")
                .and_then(Json::as_str)
                .ok_or_else(|| {
                    missing("CategoryId in a Category object", "add the category URI")
                })?;
            expand_category(id).to_string()
        }
    };
    let mut out = Attributes::new(&category);
    out.id = get(obj, "Id").and_then(Json::as_str).map(str::to_string);
    out.content = match get(obj, "Content") {
        None | Some(Json::Null) => None,
        Some(Json::String(text)) => Some(json_content(text)?),
        Some(_) => return Err(invalid("Content", "must be a string of XML")),
    };
    if let Some(attrs) = get(obj, "Attribute").filter(|a| !a.is_null()) {
        for a in one_or_many(attrs) {
            out.attributes.push(json_attribute(a)?);
        }
    }
    Ok(out)
}

/// JSON profile: `Content` is a string of XML (an XML declaration allowed).
fn json_content(text: &str) -> Result<String, RequestError> {
    let mut inner = text.trim_start();
    if inner.starts_with("<?xml")
        && let Some(end) = inner.find("?>")
    {
        inner = &inner[end + 2..];
    }
    let doc = xpath::content_document(inner, &[]);
    xpath::check_content(&doc).map_err(|m| invalid("Content", m))?;
    Ok(doc)
}

/// Namespace bindings given with a JSON-profile XPath value
/// (`"Namespaces": [{"Prefix": "md", "Namespace": "urn:..."}]`).
fn json_namespaces(v: &Json) -> Vec<(String, String)> {
    get(v, "Namespaces")
        .map(one_or_many)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|n| {
            let uri = get(n, "Namespace")?.as_str()?;
            let prefix = get(n, "Prefix").and_then(Json::as_str).unwrap_or_default();
            Some((prefix.to_string(), uri.to_string()))
        })
        .collect()
}

fn expand_category(id: &str) -> &str {
    category::SHORTHANDS
        .iter()
        .find(|(short, _)| short.eq_ignore_ascii_case(id))
        .map_or(id, |(_, uri)| uri)
}

fn json_attribute(a: &Json) -> Result<Attribute, RequestError> {
    let id = get(a, "AttributeId")
        .and_then(Json::as_str)
        .ok_or_else(|| {
            missing(
                "AttributeId in an Attribute object",
                "every attribute needs an AttributeId",
            )
        })?;
    let declared = match get(a, "DataType").and_then(Json::as_str) {
        Some(uri) => Some(
            DataType::from_uri(uri)
                .ok_or_else(|| invalid("DataType", format!("unknown `{uri}`")))?,
        ),
        None => None,
    };
    let raw = get(a, "Value")
        .ok_or_else(|| missing("Value in an Attribute object", "give the attribute a value"))?;
    let values = one_or_many(raw)
        .into_iter()
        .map(|v| json_value(v, declared))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Attribute {
        id: id.to_string(),
        issuer: get(a, "Issuer").and_then(Json::as_str).map(str::to_string),
        include_in_result: get(a, "IncludeInResult").and_then(Json::as_bool) == Some(true),
        values,
    })
}

/// JSON profile: without a DataType the type is inferred from the JSON type.
pub(crate) fn json_value(
    v: &Json,
    declared: Option<DataType>,
) -> Result<AttributeValue, RequestError> {
    let bad = |m: String| invalid("Value", m);
    let inferred = match v {
        Json::Bool(_) => DataType::Boolean,
        Json::Number(n) if n.is_i64() || n.is_u64() => DataType::Integer,
        Json::Number(_) => DataType::Double,
        _ => DataType::String,
    };
    let dt = declared.unwrap_or(inferred);
    let text = match v {
        Json::String(s) => s.clone(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::Object(_) if dt == DataType::XPathExpression => {
            return Ok(AttributeValue::XPathExpression {
                category: get(v, "XPathCategory")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string(),
                path: get(v, "XPath")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string(),
                namespaces: json_namespaces(v),
            });
        }
        other => return Err(bad(format!("unsupported JSON value {other}"))),
    };
    if dt == DataType::Double
        && let Json::Number(n) = v
        && let Some(d) = n.as_f64().or_else(|| double_from_str(&text))
    {
        return Ok(AttributeValue::Double(d));
    }
    AttributeValue::parse(dt, &text).map_err(|e| bad(e.to_string()))
}

/// Builds a [`Request`] in code.
#[derive(Debug, Clone, Default)]
pub struct RequestBuilder {
    request: Request,
}

impl RequestBuilder {
    /// Add a string attribute to the access-subject category.
    pub fn subject(self, attribute_id: &str, value: impl Into<String>) -> Self {
        self.attribute(
            category::ACCESS_SUBJECT,
            attribute_id,
            AttributeValue::string(value),
        )
    }

    /// Add a string attribute to the resource category.
    pub fn resource(self, attribute_id: &str, value: impl Into<String>) -> Self {
        self.attribute(
            category::RESOURCE,
            attribute_id,
            AttributeValue::string(value),
        )
    }

    /// Set the action (`action-id`, string).
    pub fn action(self, action_id: impl Into<String>) -> Self {
        self.attribute(
            category::ACTION,
            ACTION_ID,
            AttributeValue::string(action_id),
        )
    }

    /// Add a string attribute to the environment category.
    pub fn environment(self, attribute_id: &str, value: impl Into<String>) -> Self {
        self.attribute(
            category::ENVIRONMENT,
            attribute_id,
            AttributeValue::string(value),
        )
    }

    /// Add a typed attribute value to any category.
    pub fn attribute(mut self, category: &str, attribute_id: &str, value: AttributeValue) -> Self {
        self.request.add_attribute(category, attribute_id, value);
        self
    }

    pub fn return_policy_id_list(mut self, on: bool) -> Self {
        self.request.return_policy_id_list = on;
        self
    }

    pub fn build(self) -> Request {
        self.request
    }
}
