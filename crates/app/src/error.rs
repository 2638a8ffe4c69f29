//! The use cases' error: a refusal by a rule, invalid input, something missing, or a
//! storage failure. The HTTP layer maps it to problem JSON in one place
//! (`http/src/problem.rs`); the portal shows the text behind its message key.

use systembruker_domain::RuleError;
use systembruker_domain::catalogue::DelegationCheck;
use systembruker_domain::resource::FieldError;
use systembruker_domain::system::ValidationFailure;
use systembruker_storage::StoreError;
use systembruker_token::PortError;

/// Why a use case did not do what it was asked.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// A rule of the platform refused it (`AUTH-000NN`).
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The input broke validation rules of the system register (`AUTH.VLD-000NN`).
    #[error("{} validation failure(s)", .0.len())]
    Validation(Vec<ValidationFailure>),
    /// One input field is not valid (`STD-000NN` code, the field's path, why).
    #[error("{path}: {message}")]
    InvalidField {
        code: &'static str,
        path: String,
        message: String,
    },
    /// The request is not valid for another reason (400).
    #[error("{0}")]
    BadRequest(String),
    /// The caller may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// There is no such thing, or the caller may not know it exists (404).
    #[error("{0}")]
    NotFound(String),
    /// It clashes with what exists (409).
    #[error("{0}")]
    Conflict(String),
    /// Something the platform keeps is broken, e.g. a stored policy that no longer
    /// loads (500).
    #[error("{0}")]
    Internal(String),
    /// Storage failed or refused (mapped by the kind of failure).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The token service's storage port failed or refused (e.g. reading a Maskinporten
    /// client while validating a system).
    #[error(transparent)]
    Port(#[from] PortError),
    /// The caller may not delegate the package (403), with the check that says why.
    #[error("{detail}")]
    MayNotDelegate {
        detail: String,
        check: Box<DelegationCheck>,
    },
}

pub type AppResult<T> = Result<T, AppError>;

/// Invalid fields of a service resource: one `STD-00010` failure each.
impl From<Vec<FieldError>> for AppError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Validation(
            errors
                .into_iter()
                .map(|e| ValidationFailure {
                    code: "STD-00010",
                    title: e.message,
                    paths: vec![e.path],
                })
                .collect(),
        )
    }
}

impl AppError {
    /// An invalid identifier or value in one field, with the standard code `STD-00010`.
    pub fn invalid_field(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidField {
            code: "STD-00010",
            path: path.into(),
            message: message.into(),
        }
    }

    /// The portal's text for this error (a key of its nb/nn/en texts).
    pub fn message_key(&self) -> &'static str {
        match self {
            Self::Rule(rule) => rule.message_key(),
            Self::NotFound(_) => "error.not_found.text",
            Self::Store(StoreError::NotFound(_)) => "error.not_found.text",
            _ => "error.api.generic",
        }
    }
}
