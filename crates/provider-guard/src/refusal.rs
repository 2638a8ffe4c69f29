//! Why the guard refused a request, as RFC 7807 problem JSON an API provider can return
//! as it is.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A refused request. Each kind has its HTTP status and a stable code (`GUARD-…`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the request has no bearer token")]
    MissingToken,
    #[error("the token is not valid: {0}")]
    InvalidToken(String),
    #[error("the token does not carry the scope {needed}")]
    WrongScope { needed: String },
    #[error("the token names no system user (authorization_details of type urn:altinn:systemuser)")]
    NotSystemUser,
    #[error("the request does not name a valid organisation number: {0}")]
    NoParty(String),
    #[error(
        "the system user {system_user} (owned by {owner}) may not {action} {resource} for {party}: the PDP answered {decision}"
    )]
    Denied {
        system_user: String,
        owner: String,
        party: String,
        action: String,
        resource: String,
        decision: String,
    },
    #[error("the keys of the token service cannot be read: {0}")]
    KeysUnavailable(String),
    #[error("the authorization service (PDP) did not answer: {0}")]
    PdpUnavailable(String),
}

impl Refusal {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::WrongScope { .. } | Self::NotSystemUser | Self::Denied { .. } => {
                StatusCode::FORBIDDEN
            }
            Self::NoParty(_) => StatusCode::BAD_REQUEST,
            Self::KeysUnavailable(_) | Self::PdpUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingToken => "GUARD-401-NO-TOKEN",
            Self::InvalidToken(_) => "GUARD-401-INVALID-TOKEN",
            Self::WrongScope { .. } => "GUARD-403-SCOPE",
            Self::NotSystemUser => "GUARD-403-NOT-SYSTEM-USER",
            Self::Denied { .. } => "GUARD-403-DENIED",
            Self::NoParty(_) => "GUARD-400-PARTY",
            Self::KeysUnavailable(_) => "GUARD-503-KEYS",
            Self::PdpUnavailable(_) => "GUARD-503-PDP",
        }
    }

    fn title(&self) -> &'static str {
        match self.status() {
            StatusCode::UNAUTHORIZED => "Unauthorized",
            StatusCode::FORBIDDEN => "Forbidden",
            StatusCode::BAD_REQUEST => "Bad Request",
            _ => "Service Unavailable",
        }
    }

    /// The problem JSON body.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "type": format!("urn:systembruker:provider-guard:{}", self.code()),
            "title": self.title(),
            "status": self.status().as_u16(),
            "detail": self.to_string(),
            "code": self.code(),
        })
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        let challenge = match &self {
            Self::MissingToken => Some("Bearer".to_string()),
            Self::InvalidToken(_) => Some("Bearer error=\"invalid_token\"".to_string()),
            Self::WrongScope { needed } => Some(format!(
                "Bearer error=\"insufficient_scope\", scope=\"{needed}\""
            )),
            _ => None,
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}
