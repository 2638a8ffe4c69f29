//! The HTTP edge: headers every answer carries, and connections closed after answers
//! given before the request body was read.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};

/// Public metadata: the same for every caller and meant to be cached by clients
/// (signing keys, server metadata, the OpenAPI document).
const PUBLIC_METADATA: &[&str] = &[
    "/maskinporten/jwk",
    "/maskinporten/.well-known/",
    "/swagger/",
];

fn is_public_metadata(path: &str) -> bool {
    PUBLIC_METADATA
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| {
            let media = media.trim();
            media.eq_ignore_ascii_case("application/json") || media.ends_with("+json")
        })
}

/// `X-Content-Type-Options: nosniff` on every answer, so a browser never runs JSON or
/// text as a script or page; `Cache-Control: no-store` on JSON answers, which carry
/// tokens, system users, delegations and decisions that no shared cache may keep. Public
/// metadata and answers that set their own cache policy keep it.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let public = is_public_metadata(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    if !public && is_json(headers) && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// Whether the request announces a body (a non-zero length or a chunked one).
fn declares_body(headers: &HeaderMap) -> bool {
    match declared_length(headers) {
        Some(length) => length > 0,
        None => headers.contains_key(header::TRANSFER_ENCODING),
    }
}

/// A client waiting for `100 Continue` before it sends a body larger than any route
/// accepts (curl does so above 1 MiB): refused at once, so it never sends the body.
/// Other clients are already sending: their body is read up to the limit and then
/// refused, so the answer is not lost to a reset of a connection closed mid-body.
fn declared_too_large(headers: &HeaderMap) -> bool {
    let waits = headers
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"));
    waits
        && declared_length(headers).is_some_and(|length| {
            usize::try_from(length).map_or(true, |length| length > crate::MAX_BODY_BYTES)
        })
}

fn close(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Adds `Connection: close` to an answer given before the request body was read to its
/// end (a refused token, a wrong content type, a body over the limit). The server stops
/// reading such a connection; without the header a keep-alive client takes the
/// connection as reusable and waits on it, or writes the rest of its body into a
/// closed socket and loses the answer. With it, the client reads the answer and opens a
/// new connection.
pub async fn close_after_unread_body(request: Request, next: Next) -> Response {
    if !declares_body(request.headers()) {
        return next.run(request).await;
    }
    if declared_too_large(request.headers()) {
        let problem = crate::extract::body_problem(StatusCode::PAYLOAD_TOO_LARGE, String::new());
        return close(problem.into_response());
    }
    let finished = Arc::new(AtomicBool::new(false));
    let tracked = finished.clone();
    let request = request.map(|inner| {
        Body::new(TrackedBody {
            inner,
            finished: tracked,
        })
    });
    let response = next.run(request).await;
    if finished.load(Ordering::Acquire) {
        response
    } else {
        close(response)
    }
}

/// A request body that notes when it has been read to its end.
struct TrackedBody {
    inner: Body,
    finished: Arc<AtomicBool>,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let ended = matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream();
        if ended {
            self.finished.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types_are_recognised() {
        let mut headers = HeaderMap::new();
        for (value, json) in [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("application/problem+json", true),
            ("text/html; charset=utf-8", false),
            ("application/openmetrics-text", false),
        ] {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            assert_eq!(is_json(&headers), json, "{value}");
        }
    }

    #[test]
    fn a_body_is_declared_by_length_or_chunks() {
        let mut headers = HeaderMap::new();
        assert!(!declares_body(&headers));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        assert!(!declares_body(&headers));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("12"));
        assert!(declares_body(&headers));
        headers.remove(header::CONTENT_LENGTH);
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        assert!(declares_body(&headers));
    }

    #[test]
    fn a_body_over_the_limit_is_known_from_its_length() {
        let mut headers = HeaderMap::new();
        assert!(!declared_too_large(&headers));
        let limit = crate::MAX_BODY_BYTES;
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(limit + 1));
        assert!(!declared_too_large(&headers), "a client already sending");
        headers.insert(header::EXPECT, HeaderValue::from_static("100-continue"));
        assert!(declared_too_large(&headers));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(limit));
        assert!(!declared_too_large(&headers));
    }
}
