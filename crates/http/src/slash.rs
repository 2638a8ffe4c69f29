//! The reference's APIs answer a path with a trailing slash as the path without it
//! (`systemuser/agent/{party}/{id}/delegation/`, `meta/info/accesspackages/group/`, …);
//! clients written against it send both forms. Here a trailing slash on a path under
//! one of the API prefixes is dropped before routing. The portal, health and OpenAPI
//! paths keep their exact forms.

use axum::Router;
use axum::extract::Request;
use axum::http::Uri;
use axum::http::uri::PathAndQuery;
use tower::ServiceExt;

/// The API prefixes whose routes accept a trailing slash.
const API_PREFIXES: [&str; 5] = [
    "/authentication/api/",
    "/accessmanagement/api/",
    "/resourceregistry/api/",
    "/authorization/api/",
    "/register/api/",
];

/// Wraps `app` so that its API routes also answer with a trailing slash. The rewrite
/// must run before routing, so the whole router is the fallback service of an empty one.
pub(crate) fn accept_trailing_slash(app: Router) -> Router {
    Router::new().fallback_service(app.map_request(trim_trailing_slash))
}

fn trim_trailing_slash(mut request: Request) -> Request {
    if let Some(uri) = trimmed(request.uri()) {
        *request.uri_mut() = uri;
    }
    request
}

/// The URI without its path's trailing slashes, when it is an API path that has some.
fn trimmed(uri: &Uri) -> Option<Uri> {
    let path = uri.path();
    if !path.ends_with('/') || !API_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return None;
    }
    let path = path.trim_end_matches('/');
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_string(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path_and_query).ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trim(uri: &str) -> Option<String> {
        trimmed(&uri.parse::<Uri>().unwrap_or_else(|_| unreachable!())).map(|u| u.to_string())
    }

    #[test]
    fn an_api_path_with_a_trailing_slash_is_the_path_without_it() {
        assert_eq!(
            trim("/authentication/api/v1/systemuser/agent/1/2/delegations/").as_deref(),
            Some("/authentication/api/v1/systemuser/agent/1/2/delegations")
        );
        assert_eq!(
            trim("/accessmanagement/api/v1/meta/info/accesspackages/group/?x=1").as_deref(),
            Some("/accessmanagement/api/v1/meta/info/accesspackages/group?x=1")
        );
        assert_eq!(trim("/authentication/api/v1/systemuser/1"), None);
        assert_eq!(trim("/portal/"), None);
        assert_eq!(trim("/"), None);
    }
}
