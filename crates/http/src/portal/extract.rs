//! Who is visiting: the language, the session and its person, and the checked form of a
//! POST (same origin, CSRF token of the session).

use std::collections::BTreeSet;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use systembruker_domain::catalogue::Language;
use uuid::Uuid;

use super::i18n::{Texts, parse_code};
use super::page::Failure;
use super::session::{Login, SESSION_COOKIE, Session, cookie, same_origin, same_secret};
use super::{LOGIN, PortalState, with_query};
use crate::auth::Caller;

/// The language cookie's name.
pub(crate) const LANGUAGE_COOKIE: &str = "sb_portal_lang";
/// Form bodies above this size are refused.
const MAX_FORM_BYTES: usize = 64 * 1024;
/// The header the portal's script sends the session's CSRF token in.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// Any visitor: language, session (if any) and where they are.
pub(crate) struct Visit {
    pub t: Texts,
    /// Path and query of this page, for `goto` links back here (the overview after a
    /// form post, whose path cannot be opened with GET).
    pub here: String,
    pub session_id: Option<String>,
    pub session: Option<Session>,
    /// A session cookie that names no live session: it expired or the server restarted.
    pub stale_cookie: bool,
    pub dev: bool,
}

/// The language: the cookie, else the browser's first choice, else bokmål.
fn language(headers: &HeaderMap) -> Language {
    if let Some(chosen) = cookie(headers, LANGUAGE_COOKIE).and_then(parse_code) {
        return chosen;
    }
    crate::meta::language(headers)
}

impl Visit {
    async fn read(parts: &Parts, state: &PortalState) -> Self {
        let here = if parts.method == Method::GET || parts.method == Method::HEAD {
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| parts.uri.path().to_string())
        } else {
            super::OVERVIEW.to_string()
        };
        let session_id = cookie(&parts.headers, SESSION_COOKIE)
            .filter(|id| !id.is_empty())
            .map(str::to_string);
        let session = match session_id.as_deref() {
            Some(id) => state.sessions.get(id).await,
            None => None,
        };
        Self {
            t: Texts::new(language(&parts.headers)),
            here,
            stale_cookie: session_id.is_some() && session.is_none(),
            session_id: session.as_ref().and(session_id),
            session,
            dev: state.config.dev,
        }
    }

    /// The login page, coming back here afterwards.
    pub(crate) fn login_redirect(&self) -> Response {
        let mut pairs = vec![("goto", self.here.as_str())];
        if self.stale_cookie {
            pairs.push(("expired", "1"));
        }
        Redirect::to(&with_query(LOGIN, &pairs)).into_response()
    }
}

impl FromRequestParts<PortalState> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &PortalState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::read(parts, state).await)
    }
}

/// A logged-in person. Without a login, a page visit goes to the login (and back here
/// afterwards); a form post gets the "session ended" page.
pub(crate) struct Viewer {
    pub visit: Visit,
    pub session_id: String,
    pub login: Login,
    pub party: Option<Uuid>,
}

impl Viewer {
    pub(crate) fn t(&self) -> Texts {
        self.visit.t
    }

    /// The person as the API's handlers see an end user with a portal token.
    pub(crate) fn caller(&self) -> Caller {
        Caller {
            scopes: BTreeSet::from(["altinn:portal/enduser".to_string()]),
            pid: Some(self.login.person),
            user_id: Some(self.login.user_id),
            party_id: Some(self.login.user_id),
            ..Caller::default()
        }
    }

    /// The page, or the failure rendered in the viewer's language.
    pub(crate) fn finish(&self, result: Result<Response, Failure>) -> Response {
        result.unwrap_or_else(|failure| failure.render(&self.visit))
    }
}

impl FromRequestParts<PortalState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &PortalState,
    ) -> Result<Self, Self::Rejection> {
        let visit = Visit::read(parts, state).await;
        let logged_in = visit
            .session
            .as_ref()
            .and_then(|s| s.login.clone().map(|login| (s.clone(), login)));
        let (Some((session, login)), Some(session_id)) = (logged_in, visit.session_id.clone())
        else {
            return Err(
                if parts.method == Method::GET || parts.method == Method::HEAD {
                    visit.login_redirect()
                } else {
                    Failure::Expired.render(&visit)
                },
            );
        };
        Ok(Self {
            session_id,
            login,
            party: session.party,
            visit,
        })
    }
}

#[derive(Deserialize, Default)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A form posted from one of the portal's own pages: the request comes from this
/// origin and carries the session's CSRF token. Anything else gets 403 and a page that
/// says why, and nothing is changed.
pub(crate) struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<PortalState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &PortalState) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let visit = Visit::read(&parts, state).await;
        if !same_origin(&parts.headers, &state.config.public_url) {
            return Err(Failure::Csrf.render(&visit));
        }
        let Some(session) = visit.session.as_ref() else {
            return Err(Failure::Expired.render(&visit));
        };
        let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
            return Err(Failure::BadForm.render(&visit));
        };
        let token: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        if token.csrf.is_empty() || !same_secret(&session.csrf, &token.csrf) {
            tracing::warn!(path = %parts.uri.path(), "portal form refused: CSRF token missing or wrong");
            return Err(Failure::Csrf.render(&visit));
        }
        serde_urlencoded::from_bytes(&bytes)
            .map(CsrfForm)
            .map_err(|_| Failure::BadForm.render(&visit))
    }
}

/// A JSON body posted by the portal's own script: same origin, `Content-Type:
/// application/json` (which no cross-site form can send) and the session's CSRF token in
/// the `X-CSRF-Token` header. Anything else gets a short JSON refusal; the script then
/// falls back to the plain form, whose page explains.
pub(crate) struct CsrfJson<T>(pub T);

/// Why a script's request was refused, as JSON.
fn json_refusal(status: axum::http::StatusCode, reason: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "refused": reason }))).into_response()
}

impl<T: DeserializeOwned> FromRequest<PortalState> for CsrfJson<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &PortalState) -> Result<Self, Self::Rejection> {
        use axum::http::StatusCode;
        let (parts, body) = request.into_parts();
        let visit = Visit::read(&parts, state).await;
        let is_json = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let token = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let Some(session) = visit.session.as_ref() else {
            return Err(json_refusal(StatusCode::FORBIDDEN, "session"));
        };
        if !is_json
            || !same_origin(&parts.headers, &state.config.public_url)
            || token.is_empty()
            || !same_secret(&session.csrf, token)
        {
            tracing::warn!(path = %parts.uri.path(), "portal script call refused: CSRF check failed");
            return Err(json_refusal(StatusCode::FORBIDDEN, "csrf"));
        }
        let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
            return Err(json_refusal(StatusCode::BAD_REQUEST, "body"));
        };
        serde_json::from_slice(&bytes)
            .map(CsrfJson)
            .map_err(|_| json_refusal(StatusCode::BAD_REQUEST, "body"))
    }
}
