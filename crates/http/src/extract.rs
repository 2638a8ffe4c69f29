//! Request extractors whose rejections are problem responses.

use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

pub(crate) fn body_problem(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(status, "STD-00413", "Payload too large").detail(format!(
            "the request body is larger than the limit of {} bytes",
            crate::MAX_BODY_BYTES
        ))
    } else if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        ApiError::new(status, "STD-00415", "Unsupported media type").detail(text)
    } else {
        ApiError::bad_request(text)
    }
}

/// JSON body; malformed JSON, wrong content type and oversized bodies become problems.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_problem(rejection)),
        }
    }
}

fn json_problem(rejection: JsonRejection) -> ApiError {
    body_problem(rejection.status(), rejection.body_text())
}

/// Raw body with the size limit applied.
pub struct Body(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::body::Bytes::from_request(req, state)
            .await
            .map(Body)
            .map_err(|r: BytesRejection| body_problem(r.status(), r.body_text()))
    }
}

impl Body {
    /// The body as UTF-8 text, or a 400 saying it is not.
    pub fn text(&self) -> Result<&str, ApiError> {
        std::str::from_utf8(&self.0)
            .map_err(|_| ApiError::bad_request("the request body is not valid UTF-8"))
    }
}

/// Raw body of a request that must say it is JSON (`application/json` or
/// `application/*+json`, as axum's `Json` wants): other or missing content types are
/// refused with 415 before the body is read, as on every JSON endpoint. For handlers
/// that parse the JSON themselves.
pub struct JsonBody(pub Body);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if !content_type.is_some_and(is_json_content_type) {
            return Err(body_problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "expected a body with Content-Type: application/json, not {}",
                    content_type.unwrap_or("none")
                ),
            ));
        }
        Body::from_request(req, state).await.map(JsonBody)
    }
}

impl std::ops::Deref for JsonBody {
    type Target = Body;
    fn deref(&self) -> &Body {
        &self.0
    }
}

/// `application/json` or `application/<anything>+json`, with any parameters.
fn is_json_content_type(value: &str) -> bool {
    let Ok(mime) = value.parse::<mime::Mime>() else {
        return false;
    };
    mime.type_() == mime::APPLICATION
        && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
}

#[cfg(test)]
mod tests {
    use super::is_json_content_type;

    #[test]
    fn json_content_types_are_told_apart() {
        for json in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/problem+json",
        ] {
            assert!(is_json_content_type(json), "{json}");
        }
        for other in ["text/plain", "application/xml", "text/json", "", "json"] {
            assert!(!is_json_content_type(other), "{other}");
        }
    }
}
