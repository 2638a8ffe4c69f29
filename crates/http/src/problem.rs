//! RFC 7807 problem responses with Altinn-style codes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use systembruker_app::AppError;
use systembruker_domain::resource::FieldError;
use systembruker_domain::system::ValidationFailure;
use systembruker_domain::{IdError, RuleError};
use systembruker_storage::StoreError;

tokio::task_local! {
    /// The trace id of the request being handled, set by the observing middleware.
    pub static TRACE_ID: String;
}

/// The current request's trace id, or a fresh one outside a request.
pub fn trace_id() -> String {
    TRACE_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| uuid::Uuid::new_v4().simple().to_string())
}

/// One entry of `errors` in a validation problem.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ValidationError {
    pub code: String,
    pub title: String,
    pub paths: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The problem JSON body.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProblemBody {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub code: String,
    pub trace_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ValidationError>,
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(ignore)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// An error a handler returns; it renders as `application/problem+json`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub title: String,
    pub detail: Option<String>,
    pub errors: Vec<ValidationError>,
    pub extensions: serde_json::Map<String, serde_json::Value>,
    pub www_authenticate: Option<String>,
    /// Seconds for `Retry-After` (a rate limit's 429).
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &str, title: &str) -> Self {
        Self {
            status,
            code: code.to_string(),
            title: title.to_string(),
            detail: None,
            errors: Vec::new(),
            extensions: serde_json::Map::new(),
            www_authenticate: None,
            retry_after: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn extension(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extensions.insert(key.to_string(), value);
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "STD-00001", "Bad request").detail(detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "STD-00004", "Not found").detail(detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "STD-00009", "Conflict").detail(detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "STD-00003", "Forbidden").detail(detail)
    }

    /// The database cannot serve requests now (503, `STD-00503`); clients should retry.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "STD-00503",
            "Service unavailable",
        )
        .detail(detail)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "STD-00500",
            "Internal server error",
        )
        .detail(detail)
    }

    /// A validation problem (400, `STD-00000`) carrying one or more field errors.
    pub fn validation(errors: Vec<ValidationError>) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "STD-00000",
            "One or more validation errors occurred.",
        );
        e.errors = errors;
        e
    }

    /// A validation problem for a single invalid field.
    pub fn invalid_field(code: &str, path: &str, title: impl Into<String>) -> Self {
        Self::validation(vec![ValidationError {
            code: code.to_string(),
            title: title.into(),
            paths: vec![path.to_string()],
            detail: None,
        }])
    }

    /// An invalid identifier in `path` (a route or query parameter, or a JSON pointer).
    pub fn invalid_id(path: &str, err: &IdError) -> Self {
        Self::invalid_field("STD-00010", path, err.to_string())
    }
}

/// `title: detail`, for the command line and the logs (an API caller gets the JSON).
impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.title)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        for error in &self.errors {
            write!(f, "; {}: {}", error.paths.join(", "), error.title)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl From<Vec<FieldError>> for ApiError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::validation(
            errors
                .into_iter()
                .map(|e| ValidationError {
                    code: "STD-00010".into(),
                    title: e.message,
                    paths: vec![e.path],
                    detail: None,
                })
                .collect(),
        )
    }
}

/// The one place where a rule's refusal becomes problem JSON: its code, status, title,
/// message and the lists it carries.
impl From<RuleError> for ApiError {
    fn from(rule: RuleError) -> Self {
        let status = StatusCode::from_u16(rule.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let mut error = Self::new(status, &rule.code(), rule.title()).detail(rule.to_string());
        for (key, value) in rule.extensions() {
            error = error.extension(key, value);
        }
        error
    }
}

/// Validation failures of the system register: `STD-00000` listing each `AUTH.VLD-000NN`.
impl From<Vec<ValidationFailure>> for ApiError {
    fn from(failures: Vec<ValidationFailure>) -> Self {
        Self::validation(
            failures
                .into_iter()
                .map(|f| ValidationError {
                    code: f.code.to_string(),
                    title: f.title,
                    paths: f.paths,
                    detail: None,
                })
                .collect(),
        )
    }
}

/// A use case's error as problem JSON.
impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Rule(rule) => rule.into(),
            AppError::Validation(failures) => failures.into(),
            AppError::InvalidField {
                code,
                path,
                message,
            } => Self::invalid_field(code, &path, message),
            AppError::BadRequest(detail) => Self::bad_request(detail),
            AppError::Forbidden(detail) => Self::forbidden(detail),
            AppError::NotFound(detail) => Self::not_found(detail),
            AppError::Conflict(detail) => Self::conflict(detail),
            AppError::Internal(detail) => Self::internal(detail),
            AppError::Store(store) => store.into(),
            AppError::Port(port) => port.into(),
            AppError::MayNotDelegate { detail, check } => Self::forbidden(detail).extension(
                "delegationCheck",
                serde_json::to_value(&check).unwrap_or_default(),
            ),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => Self::not_found(format!("{what} was not found")),
            StoreError::Conflict(what) => Self::conflict(what.detail),
            StoreError::Invalid(what) => Self::bad_request(what),
            // The one place where "the database is out of reach" becomes 503.
            other if other.is_unavailable() => {
                tracing::warn!(error = %other, "database unavailable");
                Self::unavailable("the database is not available; try again shortly")
            }
            other => {
                tracing::error!(error = %other, "storage failure");
                Self::internal("the request could not be completed; try again later")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ProblemBody {
            problem_type: format!("urn:altinn:error:{}", self.code),
            title: self.title,
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code,
            trace_id: trace_id(),
            errors: self.errors,
            extensions: self.extensions,
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (self.status, json).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(value) = self
            .www_authenticate
            .and_then(|v| HeaderValue::from_str(&v).ok())
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Unknown routes answer with a problem, not an empty body.
pub async fn not_found_fallback(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("there is no endpoint at {}", uri.path()))
}
