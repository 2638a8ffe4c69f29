//! A tiny owned DOM on top of quick-xml.
//!
//! Policies and requests are small, and compiling them wants random access to
//! children and attributes, so we first read the whole document into this tree.
//! Namespace prefixes are dropped (Altinn writes `xacml:Policy`, OASIS writes
//! `Policy`); only local names are kept.

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use std::sync::Arc;

/// One XML element with its local name, attributes, children and text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// Concatenated direct text content (entity references resolved).
    pub text: String,
    /// 1-based line of the start tag, for error messages.
    pub line: usize,
    /// Namespace declarations in scope here (`""` is the default namespace),
    /// inherited ones first: XPath expressions and `<Content>` need them.
    pub namespaces: Arc<Vec<(String, String)>>,
    /// For a `<Content>` element: its children as written in the document.
    pub raw_inner: Option<String>,
}

/// Guards against stack exhaustion on hostile, deeply nested input.
const MAX_DEPTH: usize = 256;

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// Parse error of the XML layer: message and 1-based line.
#[derive(Debug, Clone)]
pub(crate) struct XmlError {
    pub message: String,
    pub line: usize,
}

fn line_of(input: &str, pos: u64) -> usize {
    let end = usize::try_from(pos).unwrap_or(usize::MAX).min(input.len());
    input.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn start_element(
    e: &BytesStart<'_>,
    line: usize,
    inherited: Option<&Arc<Vec<(String, String)>>>,
) -> Result<Element, XmlError> {
    let mut el = Element {
        name: local(e.name().as_ref()).to_string(),
        line,
        namespaces: inherited.cloned().unwrap_or_default(),
        ..Element::default()
    };
    let mut declared: Vec<(String, String)> = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| XmlError {
            message: format!("bad attribute: {err}"),
            line,
        })?;
        let key = attr.key.as_ref();
        if key == "xmlns" || key.starts_with("xmlns:") {
            // Keep namespace declarations under their full name: XPath values need them.
            let value = attr.value.to_string();
            let prefix = key.strip_prefix("xmlns").unwrap_or_default();
            declared.push((prefix.trim_start_matches(':').to_string(), value.clone()));
            el.attrs.push((key.to_string(), value));
            continue;
        }
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|err| XmlError {
                message: format!("bad attribute value: {err}"),
                line,
            })?;
        el.attrs.push((local(key).to_string(), value.into_owned()));
    }
    if !declared.is_empty() {
        let mut scope = el.namespaces.as_ref().clone();
        scope.extend(declared);
        el.namespaces = Arc::new(scope);
    }
    Ok(el)
}

/// Whether an element's children are kept as written (`<Content>`: XPath reads them).
fn keeps_raw(el: &Element) -> bool {
    el.name == "Content"
}

/// Parse a document and return its root element.
pub(crate) fn parse_document(input: &str) -> Result<Element, XmlError> {
    let mut reader = quick_xml::Reader::from_str(input);
    let mut stack: Vec<Element> = Vec::new();
    // Where each open element's content starts, for those kept as written.
    let mut raw_starts: Vec<Option<usize>> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event().map_err(|err| XmlError {
            message: err.to_string(),
            line: line_of(input, reader.error_position()),
        })?;
        let line = line_of(input, pos);
        match event {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError {
                        message: format!("elements nested deeper than {MAX_DEPTH}"),
                        line,
                    });
                }
                let el = start_element(&e, line, stack.last().map(|p| &p.namespaces))?;
                let after = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
                raw_starts.push(keeps_raw(&el).then_some(after));
                stack.push(el);
            }
            Event::Empty(e) => {
                let mut el = start_element(&e, line, stack.last().map(|p| &p.namespaces))?;
                if keeps_raw(&el) {
                    el.raw_inner = Some(String::new());
                }
                attach(&mut stack, &mut root, el, line)?;
            }
            Event::End(_) => {
                let mut el = stack.pop().ok_or_else(|| XmlError {
                    message: "unexpected end tag".into(),
                    line,
                })?;
                if let Some(Some(start)) = raw_starts.pop() {
                    let end = usize::try_from(pos).unwrap_or(usize::MAX);
                    el.raw_inner = input.get(start..end).map(str::to_string);
                }
                attach(&mut stack, &mut root, el, line)?;
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content()),
            Event::CData(t) => push_text(&mut stack, &t),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => resolve_predefined_entity(&r)
                        .map(str::to_string)
                        .ok_or_else(|| XmlError {
                            message: format!("unknown entity &{};", &*r),
                            line,
                        })?,
                };
                push_text(&mut stack, &resolved);
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError {
            message: "document ended inside an element".into(),
            line: line_of(input, reader.buffer_position()),
        });
    }
    root.ok_or(XmlError {
        message: "document has no root element".into(),
        line: 1,
    })
}

fn push_text(stack: &mut [Element], text: &str) {
    if let Some(top) = stack.last_mut() {
        top.text.push_str(text);
    }
}

fn attach(
    stack: &mut [Element],
    root: &mut Option<Element>,
    el: Element,
    line: usize,
) -> Result<(), XmlError> {
    if let Some(parent) = stack.last_mut() {
        parent.children.push(el);
        return Ok(());
    }
    if root.is_some() {
        return Err(XmlError {
            message: "more than one root element".into(),
            line,
        });
    }
    *root = Some(el);
    Ok(())
}
