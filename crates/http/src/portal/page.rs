//! What every page shares: the frame around it ([`Chrome`]), the HTML response with its
//! security headers, and the error pages with the API's codes in plain words.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use systembruker_app::AppError;
use systembruker_domain::party::Party;
use systembruker_storage::StoreError;

use super::extract::Visit;
use super::i18n::{LANGUAGES, Texts, code};
use super::names::org_number;
use super::{OVERVIEW, PARTY, assets, with_query};
use crate::problem::ApiError;

/// The chosen organisation, as the header shows it.
pub(crate) struct PartyBadge {
    pub name: String,
    pub org: String,
}

/// One entry of the language switcher.
pub(crate) struct LanguageChoice {
    pub code: &'static str,
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

/// The frame of every page: title, header (language, person, party), navigation.
pub(crate) struct Chrome {
    pub title: String,
    pub css: String,
    pub js: String,
    pub user: Option<String>,
    pub party: Option<PartyBadge>,
    pub switch_party: String,
    pub csrf: String,
    pub languages: Vec<LanguageChoice>,
    /// The main navigation (left out on the vendor request pages and before login).
    pub nav: bool,
    /// Which navigation entry is the current page: `overview`, `create` or empty.
    pub current: &'static str,
    pub dev: bool,
}

impl Chrome {
    pub(crate) fn new(visit: &Visit, title: impl Into<String>) -> Self {
        let t = visit.t;
        let login = visit.session.as_ref().and_then(|s| s.login.as_ref());
        let languages = LANGUAGES
            .iter()
            .map(|&language| LanguageChoice {
                code: code(language),
                label: Texts::new(language).get("language.name"),
                href: with_query(
                    "/accessmanagement/ui/language",
                    &[("lang", code(language)), ("goto", &visit.here)],
                ),
                current: language == t.language(),
            })
            .collect();
        Self {
            title: title.into(),
            css: assets::css_href(),
            js: assets::js_href(),
            user: login.map(|l| l.name.clone()),
            party: None,
            switch_party: with_query(PARTY, &[("goto", &visit.here)]),
            csrf: visit
                .session
                .as_ref()
                .map(|s| s.csrf.clone())
                .unwrap_or_default(),
            languages,
            nav: login.is_some(),
            current: "",
            dev: visit.dev,
        }
    }

    pub(crate) fn party(mut self, party: &Party) -> Self {
        self.party = Some(PartyBadge {
            name: party.name.clone(),
            org: party.org_number().map(org_number).unwrap_or_default(),
        });
        self
    }

    /// A vendor request page: no main navigation, the task alone.
    pub(crate) fn focused(mut self) -> Self {
        self.nav = false;
        self
    }

    pub(crate) fn current(mut self, entry: &'static str) -> Self {
        self.current = entry;
        self
    }
}

/// A rendered page with the portal's headers: never cached (it shows personal data),
/// never framed, scripts and styles from this origin only.
pub(crate) fn html(status: StatusCode, page: &impl Template) -> Response {
    let body = match page.render() {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "portal template failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be shown",
            )
                .into_response();
        }
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// A 303 to `location` (after a form post, the browser follows with a GET).
pub(crate) fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

/// Why a page cannot be shown.
#[derive(Debug)]
pub(crate) enum Failure {
    /// No such page or object.
    NotFound,
    /// A vendor link without a valid request id.
    BadLink,
    /// The person cannot act for the organisation (named when known).
    NoAccess(Option<String>),
    /// The form did not come from our page, or its token is wrong.
    Csrf,
    /// The session ended (logout, timeout, restart) before the form was sent.
    Expired,
    /// The form could not be read.
    BadForm,
    /// The API's rules said no.
    Api(ApiError),
    /// A use case said no; its message key says why in plain words.
    App(AppError),
    /// The person may not do this here; the catalogue key says why in plain words.
    Refused(&'static str),
    /// Go somewhere else first (e.g. choose a party).
    Redirect(String),
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl From<AppError> for Failure {
    fn from(error: AppError) -> Self {
        // Our own failures (storage, a broken policy) show the server's page.
        let api = ApiError::from(error.clone());
        if api.status.is_server_error() {
            Self::Api(api)
        } else {
            Self::App(error)
        }
    }
}

/// A failure of ours (storage, stored data), not a refusal of what the person asked.
pub(crate) fn is_fault(error: &AppError) -> bool {
    ApiError::from(error.clone()).status.is_server_error()
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Self::Api(error.into())
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "portal/error.html")]
struct ErrorPage {
    t: Texts,
    chrome: Chrome,
    heading: String,
    message: String,
    code: Option<String>,
    logged_in: bool,
    login_href: String,
}

impl Failure {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound | Self::BadLink => StatusCode::NOT_FOUND,
            Self::NoAccess(_) | Self::Csrf | Self::Expired | Self::Refused(_) => {
                StatusCode::FORBIDDEN
            }
            Self::BadForm => StatusCode::BAD_REQUEST,
            Self::Api(e) => e.status,
            Self::App(e) => ApiError::from(e.clone()).status,
            Self::Redirect(_) => StatusCode::SEE_OTHER,
        }
    }

    /// The page for this failure, in the visitor's language.
    pub(crate) fn render(self, visit: &Visit) -> Response {
        let t = visit.t;
        let status = self.status();
        let (heading, message, code) = match &self {
            Self::Redirect(location) => return see_other(location),
            Self::NotFound => (
                t.get("error.not_found.title"),
                t.get("error.not_found.text").to_string(),
                None,
            ),
            Self::BadLink => (
                t.get("error.bad_link.title"),
                t.get("error.bad_link.text").to_string(),
                None,
            ),
            Self::NoAccess(Some(org)) => (
                t.get("error.no_access.title"),
                t.with("error.no_access.named", "org", org),
                None,
            ),
            Self::NoAccess(None) => (
                t.get("error.no_access.title"),
                t.get("error.no_access.text").to_string(),
                None,
            ),
            Self::Csrf => (
                t.get("error.csrf.title"),
                t.get("error.csrf.text").to_string(),
                None,
            ),
            Self::Expired => (
                t.get("error.expired.title"),
                t.get("error.expired.text").to_string(),
                None,
            ),
            Self::BadForm => (
                t.get("error.bad_form.title"),
                t.get("error.bad_form.text").to_string(),
                None,
            ),
            Self::Refused(key) => (t.get("error.refused.title"), t.get(key).to_string(), None),
            Self::Api(e) if e.status.is_server_error() => (
                t.get("error.server.title"),
                t.get("error.server.text").to_string(),
                Some(e.code.clone()),
            ),
            Self::Api(e) => (
                t.get("error.refused.title"),
                t.get(status_message_key(e.status)).to_string(),
                Some(e.code.clone()),
            ),
            Self::App(e) => (
                t.get("error.refused.title"),
                t.get(e.message_key()).to_string(),
                Some(ApiError::from(e.clone()).code),
            ),
        };
        let logged_in = visit.session.as_ref().is_some_and(|s| s.login.is_some());
        let page = ErrorPage {
            t,
            chrome: Chrome::new(visit, heading),
            heading: heading.to_string(),
            message,
            code,
            logged_in,
            login_href: with_query(super::LOGIN, &[("goto", OVERVIEW)]),
        };
        html(status, &page)
    }
}

/// The text for a problem that is no rule's refusal (a rate limit, a missing thing),
/// by its status.
fn status_message_key(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "error.not_found.text",
        StatusCode::TOO_MANY_REQUESTS => "error.api.too_many_requests",
        _ => "error.api.generic",
    }
}

/// The `?error=` a form's redirect carries: the refusal's message key, so the page it
/// lands on shows the same words (never an Altinn code read back out of a string).
pub(crate) fn error_param(error: &AppError) -> &'static str {
    error.message_key()
}

/// The words for `?error=`: a message key of the portal's error texts; anything else
/// (an edited link) reads as the generic refusal.
pub(crate) fn error_text(t: Texts, key: &str) -> String {
    let text = t.get(key);
    if key.starts_with("error.") && text != key {
        text.to_string()
    } else {
        t.get("error.api.generic").to_string()
    }
}

/// Unknown portal paths: our own page, not the API's problem JSON.
pub(crate) async fn not_found(visit: Visit) -> Response {
    Failure::NotFound.render(&visit)
}

#[cfg(test)]
mod tests {
    use systembruker_domain::RuleError;
    use systembruker_domain::catalogue::Language;

    use super::*;

    #[test]
    fn every_lack_of_the_delegation_check_has_a_text() {
        for t in LANGUAGES.map(Texts::new) {
            for lack in systembruker_domain::rules::Lack::ALL {
                let key = lack.message_key();
                assert_ne!(t.get(key), key, "{key}");
            }
        }
    }

    #[test]
    fn every_refusal_has_a_text() {
        // The keys `RuleError::message_key` and `AppError::message_key` give.
        for t in LANGUAGES.map(Texts::new) {
            for key in [
                "error.api.not_access_manager",
                "error.api.request_not_found",
                "error.api.already_answered",
                "error.api.already_exists",
                "error.api.system_user_not_found",
                "error.api.system_not_found",
                "error.api.missing_rights",
                "error.api.not_delegable",
                "error.api.package_not_allowed",
                "error.api.wrong_party",
                "error.api.party_missing",
                "error.api.agent_delete",
                "error.api.not_a_client",
                "error.api.client_lacks_packages",
                "error.api.client_not_added",
                "error.api.not_agent",
                "error.api.generic",
                "error.not_found.text",
            ] {
                assert_ne!(t.get(key), key, "{key} has no text in {}", t.code());
            }
        }
    }

    #[test]
    fn a_refusal_travels_as_its_message_key_and_reads_as_its_text() {
        let t = Texts::new(Language::Nb);
        let refusal = AppError::from(RuleError::ClientNotAdded { client: "x".into() });
        let key = error_param(&refusal);
        assert_eq!(key, "error.api.client_not_added");
        assert_eq!(error_text(t, key), t.get("error.api.client_not_added"));
        let not_found = AppError::NotFound("gone".into());
        assert_eq!(
            error_text(t, error_param(&not_found)),
            t.get("error.not_found.text")
        );
    }

    #[test]
    fn an_unknown_error_parameter_reads_as_the_generic_refusal() {
        let t = Texts::new(Language::Nb);
        let generic = t.get("error.api.generic");
        assert_ne!(generic, "error.api.generic");
        for param in ["AUTH-00080", "error.no.such.key", "common.delivered_by", ""] {
            assert_eq!(error_text(t, param), generic, "{param}");
        }
    }

    #[test]
    fn a_problem_without_a_rule_reads_by_its_status() {
        let t = Texts::new(Language::Nb);
        for status in [
            StatusCode::NOT_FOUND,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::BAD_REQUEST,
        ] {
            let key = status_message_key(status);
            assert_ne!(t.get(key), key, "{status} → {key} has no text");
        }
    }
}
