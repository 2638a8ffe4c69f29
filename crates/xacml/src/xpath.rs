//! XPath 1.0 over a request category's `<Content>` (XACML 3.0 §5.30, §A.3.15):
//! `AttributeSelector` and the `xpath-node-count/-equal/-match` functions.
//!
//! The content is kept as text in the request ([`content_document`]) and parsed
//! with `sxd-document` only when a policy asks for it; `sxd-xpath` evaluates the
//! expression with the `<Content>` element as context node and the namespace
//! prefixes in scope where the expression was written (the policy's).

use crate::error::EvalError;
use crate::value::{AttributeValue, DataType};
use crate::xml;
use std::collections::HashSet;
use sxd_document::Package;
use sxd_document::dom::{ChildOfElement, ChildOfRoot, Element};
use sxd_xpath::nodeset::Node;
use sxd_xpath::{Context, Factory, Value};

/// Longest XPath expression evaluated; the parser recurses on nesting.
const MAX_EXPRESSION_LEN: usize = 2048;
/// Most parentheses / brackets open at once in an expression.
const MAX_NESTING: usize = 32;

/// The standalone document a category's `<Content>` is evaluated in: a root
/// `<Content>` element declaring every namespace in scope where the original
/// stood, around the original children as written.
pub(crate) fn content_document(inner: &str, namespaces: &[(String, String)]) -> String {
    let mut doc = String::from("<Content");
    let mut seen = HashSet::new();
    for (prefix, uri) in namespaces.iter().rev() {
        if !seen.insert(prefix.as_str()) {
            continue;
        }
        let uri = uri.replace('"', "&quot;");
        if prefix.is_empty() {
            doc.push_str(&format!(" xmlns=\"{uri}\""));
        } else {
            doc.push_str(&format!(" xmlns:{prefix}=\"{uri}\""));
        }
    }
    doc.push('>');
    doc.push_str(inner);
    doc.push_str("</Content>");
    doc
}

/// Checks that `doc` is well-formed and not hostile (depth), so it can be
/// parsed again at evaluation time.
pub(crate) fn check_content(doc: &str) -> Result<(), String> {
    xml::parse_document(doc)
        .map(|_| ())
        .map_err(|e| format!("<Content> is not well-formed XML: {}", e.message))
}

/// One parsed `<Content>` document. When `<Content>` holds one element (the usual
/// case) that element is made the document element, so the document node stands
/// for `<Content>` and `//*` counts only what it holds (as the OASIS suite has it).
pub(crate) struct Content {
    package: Package,
    /// Whether the `<Content>` wrapper is still the document element.
    wrapped: bool,
}

fn document_element<'d>(document: &sxd_document::dom::Document<'d>) -> Option<Element<'d>> {
    document
        .root()
        .children()
        .into_iter()
        .find_map(|c| match c {
            ChildOfRoot::Element(e) => Some(e),
            _ => None,
        })
}

impl Content {
    pub fn parse(doc: &str) -> Result<Content, EvalError> {
        let package = sxd_document::parser::parse(doc)
            .map_err(|e| EvalError::processing(format!("<Content> cannot be read: {e:?}")))?;
        let wrapped = {
            let document = package.as_document();
            let wrapper = document_element(&document)
                .ok_or_else(|| EvalError::processing("<Content> has no element"))?;
            let held: Vec<Element<'_>> = wrapper
                .children()
                .into_iter()
                .filter_map(|c| match c {
                    ChildOfElement::Element(e) => Some(e),
                    _ => None,
                })
                .collect();
            if let [only] = held.as_slice() {
                document
                    .root()
                    .replace_children([ChildOfRoot::Element(*only)]);
                false
            } else {
                true
            }
        };
        Ok(Content { package, wrapped })
    }

    /// Evaluates `path` with the node standing for `<Content>` as context node; the
    /// result must be a node-set. `f` sees the nodes (in document order).
    pub fn select<T>(
        &self,
        path: &str,
        namespaces: &[(String, String)],
        f: impl FnOnce(&[Node<'_>]) -> Result<T, EvalError>,
    ) -> Result<T, EvalError> {
        let document = self.package.as_document();
        let context = match document_element(&document) {
            Some(wrapper) if self.wrapped => Node::Element(wrapper),
            _ => Node::Root(document.root()),
        };
        let nodes = evaluate(context, path, namespaces)?;
        f(&nodes)
    }
}

fn evaluate<'d>(
    context_node: Node<'d>,
    path: &str,
    namespaces: &[(String, String)],
) -> Result<Vec<Node<'d>>, EvalError> {
    let xpath = compile(path)?;
    // sxd-xpath panics on a prefix it cannot resolve: refuse those first.
    if let Some(unbound) = prefixes(path)
        .into_iter()
        .find(|p| !namespaces.iter().any(|(bound, _)| bound == p))
    {
        return Err(EvalError::processing(format!(
            "XPath `{path}` uses the prefix `{unbound}`, which is not declared where it is written"
        )));
    }
    let mut context = Context::new();
    for (prefix, uri) in namespaces.iter().filter(|(p, _)| !p.is_empty()) {
        context.set_namespace(prefix, uri);
    }
    // A net under the crate's remaining internal panics: they become processing-errors.
    let evaluated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        xpath.evaluate(&context, context_node)
    }));
    match evaluated {
        Ok(Ok(Value::Nodeset(set))) => Ok(set.document_order()),
        Ok(Ok(_)) => Err(EvalError::processing(format!(
            "XPath `{path}` does not select nodes"
        ))),
        Ok(Err(e)) => Err(EvalError::processing(format!(
            "XPath `{path}` failed: {e:?}"
        ))),
        Err(_) => Err(EvalError::processing(format!(
            "XPath `{path}` could not be evaluated"
        ))),
    }
}

/// The namespace prefixes an expression uses (`p:name`, `p:*`), outside string
/// literals; axis names (`child::`) are not prefixes.
fn prefixes(path: &str) -> Vec<String> {
    let chars: Vec<char> = path.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += 1;
            }
            i += 1;
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | '.'))
            {
                i += 1;
            }
            let is_prefix = chars.get(i) == Some(&':') && chars.get(i + 1) != Some(&':');
            if is_prefix {
                found.push(chars[start..i].iter().collect());
            }
            continue;
        }
        i += 1;
    }
    found
}

fn compile(path: &str) -> Result<sxd_xpath::XPath, EvalError> {
    if path.len() > MAX_EXPRESSION_LEN {
        return Err(EvalError::syntax(format!(
            "XPath expression longer than {MAX_EXPRESSION_LEN} characters"
        )));
    }
    let mut depth = 0usize;
    for c in path.chars() {
        match c {
            '(' | '[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(EvalError::syntax(format!(
                        "XPath expression nested deeper than {MAX_NESTING}"
                    )));
                }
            }
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    match Factory::new().build(path) {
        Ok(Some(xpath)) => Ok(xpath),
        Ok(None) => Err(EvalError::syntax("empty XPath expression")),
        Err(e) => Err(EvalError::processing(format!(
            "`{path}` is not a valid XPath 1.0 expression: {e}"
        ))),
    }
}

/// `xpath-node-match`: whether a node of `second` is a node of `first` or lies
/// below one (attributes included).
pub(crate) fn node_match(first: &[Node<'_>], second: &[Node<'_>]) -> bool {
    second.iter().any(|n| {
        let mut current = Some(*n);
        while let Some(node) = current {
            if first.contains(&node) {
                return true;
            }
            current = node.parent();
        }
        false
    })
}

/// `xpath-node-equal`: whether the two node sets share a node.
pub(crate) fn node_equal(first: &[Node<'_>], second: &[Node<'_>]) -> bool {
    second.iter().any(|n| first.contains(n))
}

/// An `AttributeSelector`'s bag: each selected node's string value as `data_type`.
pub(crate) fn node_values(
    nodes: &[Node<'_>],
    data_type: DataType,
) -> Result<Vec<AttributeValue>, EvalError> {
    nodes
        .iter()
        .map(|n| {
            AttributeValue::parse(data_type, &n.string_value())
                .map_err(|e| EvalError::syntax(e.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns() -> Vec<(String, String)> {
        vec![("md".to_string(), "urn:md".to_string())]
    }

    fn content() -> Content {
        let doc = content_document(
            r#"<md:record><md:name>Bart</md:name><md:item type="a">x</md:item></md:record>"#,
            &ns(),
        );
        Content::parse(&doc).expect("content parses")
    }

    #[test]
    fn content_is_the_context_node_and_prefixes_come_from_the_expression() {
        let c = content();
        let count = c.select("md:record/md:name", &ns(), |n| Ok(n.len()));
        assert_eq!(count, Ok(1));
        let absolute = c.select("//md:item/@type", &ns(), |n| {
            node_values(n, DataType::String)
        });
        assert_eq!(absolute, Ok(vec![AttributeValue::string("a")]));
    }

    #[test]
    fn an_unbound_prefix_or_bad_syntax_is_an_error_not_a_match() {
        let c = content();
        assert!(c.select("//x:name", &ns(), |n| Ok(n.len())).is_err());
        let bad = c.select("//md:record[?]", &ns(), |n| Ok(n.len()));
        // processing-error, as the OASIS suite has it (IIIF005).
        assert_eq!(
            bad.map_err(|e| e.0.code),
            Err(crate::StatusCode::ProcessingError)
        );
    }

    #[test]
    fn prefixes_are_found_outside_literals_and_axes() {
        assert_eq!(
            prefixes("//md:a/child::x:b[@y:c = 'p:q'] | ancestor::*"),
            ["md", "x", "y"]
        );
    }

    #[test]
    fn a_hostile_expression_is_refused_before_parsing() {
        let c = content();
        let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
        assert!(c.select(&deep, &ns(), |n| Ok(n.len())).is_err());
    }

    #[test]
    fn node_match_accepts_descendants_node_equal_only_the_same_nodes() {
        let c = content();
        let matched = c.select("//md:record", &ns(), |records| {
            c.select("//md:item/@type", &ns(), |attrs| {
                Ok((node_match(records, attrs), node_equal(records, attrs)))
            })
        });
        assert_eq!(matched, Ok((true, false)));
    }
}
