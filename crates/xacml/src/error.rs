//! Error and status types.

use std::fmt;

/// XACML status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusCode {
    Ok,
    MissingAttribute,
    SyntaxError,
    ProcessingError,
}

impl StatusCode {
    pub fn uri(self) -> &'static str {
        match self {
            StatusCode::Ok => "urn:oasis:names:tc:xacml:1.0:status:ok",
            StatusCode::MissingAttribute => "urn:oasis:names:tc:xacml:1.0:status:missing-attribute",
            StatusCode::SyntaxError => "urn:oasis:names:tc:xacml:1.0:status:syntax-error",
            StatusCode::ProcessingError => "urn:oasis:names:tc:xacml:1.0:status:processing-error",
        }
    }

    pub fn from_uri(uri: &str) -> Option<StatusCode> {
        [
            StatusCode::Ok,
            StatusCode::MissingAttribute,
            StatusCode::SyntaxError,
            StatusCode::ProcessingError,
        ]
        .into_iter()
        .find(|c| c.uri() == uri.trim())
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.uri())
    }
}

/// Status of a decision: a code plus an optional human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub code: StatusCode,
    pub message: Option<String>,
}

impl Status {
    pub fn ok() -> Self {
        Status {
            code: StatusCode::Ok,
            message: None,
        }
    }
    pub fn processing_error(message: impl Into<String>) -> Self {
        Status {
            code: StatusCode::ProcessingError,
            message: Some(message.into()),
        }
    }
    pub fn syntax_error(message: impl Into<String>) -> Self {
        Status {
            code: StatusCode::SyntaxError,
            message: Some(message.into()),
        }
    }
}

/// An evaluation failure; becomes an Indeterminate decision with this status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EvalError(pub Status);

impl EvalError {
    pub fn processing(message: impl Into<String>) -> Self {
        EvalError(Status::processing_error(message))
    }
    pub fn syntax(message: impl Into<String>) -> Self {
        EvalError(Status::syntax_error(message))
    }
    pub fn missing(message: impl Into<String>) -> Self {
        EvalError(Status {
            code: StatusCode::MissingAttribute,
            message: Some(message.into()),
        })
    }
}

/// Why a policy could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy XML is not well-formed at line {line}: {message}; fix the XML syntax")]
    Xml { line: usize, message: String },
    #[error(
        "root element is <{found}> but a policy must be <Policy> or <PolicySet> (namespace urn:oasis:names:tc:xacml:3.0:core:schema:wd-17)"
    )]
    NotAPolicy { found: String },
    #[error("<{element}> at line {line} lacks the required attribute {attribute}; add it")]
    MissingAttribute {
        element: String,
        line: usize,
        attribute: &'static str,
    },
    #[error("<{element}> at line {line}: {message}")]
    Invalid {
        element: String,
        line: usize,
        message: String,
    },
    #[error(
        "<{element}> at line {line} uses unknown {kind} `{id}`; use one of the XACML 3.0 identifiers"
    )]
    UnknownIdentifier {
        element: String,
        line: usize,
        kind: &'static str,
        id: String,
    },
    #[error(
        "policy `{policy_id}` contains no <Rule> at all; a policy must grant or deny something, add at least one rule"
    )]
    NoRules { policy_id: String },
}

impl PolicyError {
    pub(crate) fn invalid(el: &crate::xml::Element, message: impl Into<String>) -> Self {
        PolicyError::Invalid {
            element: el.name.clone(),
            line: el.line,
            message: message.into(),
        }
    }
    pub(crate) fn missing(el: &crate::xml::Element, attribute: &'static str) -> Self {
        PolicyError::MissingAttribute {
            element: el.name.clone(),
            line: el.line,
            attribute,
        }
    }
}

/// Why a request could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("request XML is not well-formed at line {line}: {message}")]
    Xml { line: usize, message: String },
    #[error("request JSON is not valid: {0}")]
    Json(String),
    #[error("request is missing {what}; {hint}")]
    Missing { what: String, hint: &'static str },
    #[error("request has an invalid {what}: {message}")]
    Invalid { what: String, message: String },
}
