//! The portal's own stylesheet and script, compiled into the program (no CDN). Pages
//! link them with a content hash in the query, so browsers may keep them for a long
//! time and still get a new version the moment it changes.

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../../assets/portal.css");
const JS: &str = include_str!("../../assets/portal.js");

/// FNV-1a: a short, stable fingerprint of an asset (not a security measure).
fn fingerprint(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

static CSS_TAG: LazyLock<String> = LazyLock::new(|| fingerprint(CSS));
static JS_TAG: LazyLock<String> = LazyLock::new(|| fingerprint(JS));

pub(crate) fn css_href() -> String {
    format!("/accessmanagement/ui/assets/portal.css?v={}", *CSS_TAG)
}

pub(crate) fn js_href() -> String {
    format!("/accessmanagement/ui/assets/portal.js?v={}", *JS_TAG)
}

fn asset(
    headers: &HeaderMap,
    body: &'static str,
    tag: &str,
    content_type: &'static str,
) -> Response {
    let etag = format!("\"{tag}\"");
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|candidate| candidate.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        body.into_response()
    };
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, value);
    }
    response
}

pub(crate) async fn css(headers: HeaderMap) -> Response {
    asset(&headers, CSS, &CSS_TAG, "text/css; charset=utf-8")
}

pub(crate) async fn js(headers: HeaderMap) -> Response {
    asset(&headers, JS, &JS_TAG, "text/javascript; charset=utf-8")
}
