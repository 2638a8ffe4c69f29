//! The end-user portal, `/accessmanagement/ui/`: server-rendered pages (askama
//! templates in `templates/portal/`) where a person logs in, picks the organisation
//! they act for, and creates, approves, inspects and deletes system access.
//!
//! The portal holds no rules of its own: every decision goes through the same functions
//! as the JSON API (`crate::authentication`), called with a [`Caller`] built for the
//! session's person, and their `AUTH-000NN` problems become localized messages.
//! HTML works without JavaScript; `assets/portal.js` only adds search-as-you-type, busy
//! buttons and the progress of adding many clients at once.

mod access;
mod activity;
mod assets;
mod changes;
mod clients;
mod create;
mod details;
mod developer;
mod extract;
mod i18n;
mod login;
mod names;
mod overview;
mod page;
pub(crate) mod party;
mod requests;
pub(crate) mod session;

use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use axum::routing::{any, get, post};

use crate::AppState;

pub(crate) use session::{LoginError, Sessions, log_in};

/// The portal's path prefix.
pub(crate) const BASE: &str = "/accessmanagement/ui";
/// Where a logged-in person lands.
pub(crate) const OVERVIEW: &str = "/accessmanagement/ui/systemuser/overview";
/// The login entry point (OpenID Connect, or the test login in dev mode).
pub(crate) const LOGIN: &str = "/accessmanagement/ui/login";
/// The dev-mode test login.
pub(crate) const TEST_LOGIN: &str = "/accessmanagement/ui/login/test";
/// The OpenID Connect callback (the redirect URI registered at the provider).
pub(crate) const LOGIN_CALLBACK: &str = "/accessmanagement/ui/login/callback";
/// After logout (the post-logout redirect URI registered at the provider).
pub(crate) const LOGGED_OUT: &str = "/accessmanagement/ui/logged-out";
/// Choosing the organisation to act for.
pub(crate) const PARTY: &str = "/accessmanagement/ui/party";

/// The portal's state: the platform's, plus the session store and the OpenID Connect
/// relying party (discovered at the first login).
#[derive(Clone)]
pub(crate) struct PortalState {
    pub app: AppState,
    pub sessions: Arc<Sessions>,
    pub oidc: Arc<login::OidcLogin>,
}

impl Deref for PortalState {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.app
    }
}

impl PortalState {
    fn new(app: AppState) -> Self {
        let secure = app.config.public_url.starts_with("https://");
        let oidc = Arc::new(login::OidcLogin::new(app.config.oidc.clone()));
        let sessions = Arc::new(Sessions::new(app.store.clone(), secure));
        Self {
            app,
            sessions,
            oidc,
        }
    }
}

/// Every portal route. Not part of the OpenAPI document: these are pages, not an API.
pub fn routes(state: &AppState) -> Router<AppState> {
    let portal = PortalState::new(state.clone());
    let mut logins = Router::new()
        .route(LOGIN, get(login::login))
        .route(LOGIN_CALLBACK, get(login::callback));
    if state.config.dev {
        // Outside dev mode the test login does not exist at all (404, GET and POST).
        logins = logins.route(
            TEST_LOGIN,
            get(login::test_login).post(login::test_login_post),
        );
    }
    let logins = logins.route_layer(axum::middleware::from_fn_with_state(
        portal.clone(),
        login::limit_logins,
    ));
    Router::new()
        .merge(logins)
        .route(BASE, get(login::home))
        .route("/accessmanagement/ui/", get(login::home))
        .route("/accessmanagement/ui/assets/portal.css", get(assets::css))
        .route("/accessmanagement/ui/assets/portal.js", get(assets::js))
        .route("/accessmanagement/ui/logout", post(login::logout))
        .route(
            "/accessmanagement/ui/logout/answered",
            get(login::logout_answered),
        )
        .route(LOGGED_OUT, get(login::logged_out))
        .route("/accessmanagement/ui/loggedout", get(login::logged_out))
        .route("/accessmanagement/ui/receipt", get(login::receipt))
        .route("/accessmanagement/ui/language", get(login::language))
        .route(PARTY, get(party::party_page).post(party::choose_post))
        .route(OVERVIEW, get(overview::overview))
        .route(
            "/accessmanagement/ui/systemuser/create",
            get(create::create).post(create::create_post),
        )
        .route(
            "/accessmanagement/ui/systemuser/request",
            get(requests::standard),
        )
        .route(
            "/accessmanagement/ui/systemuser/agentrequest",
            get(requests::agent),
        )
        .route(
            "/accessmanagement/ui/systemuser/request/{action}",
            post(requests::answer_standard),
        )
        .route(
            "/accessmanagement/ui/systemuser/agentrequest/{action}",
            post(requests::answer_agent),
        )
        .route(
            "/accessmanagement/ui/systemuser/changerequest",
            get(changes::change),
        )
        .route(
            "/accessmanagement/ui/systemuser/changerequest/{action}",
            post(changes::answer),
        )
        .route(
            "/accessmanagement/ui/systemuser/{id}",
            get(details::standard),
        )
        .route(
            "/accessmanagement/ui/systemuser/{id}/agentdelegation",
            get(details::agent),
        )
        .route(
            "/accessmanagement/ui/systemuser/{id}/delete",
            get(details::confirm_delete).post(details::delete),
        )
        .route(
            "/accessmanagement/ui/systemuser/{id}/agentdelegation/clients",
            get(clients::add_page),
        )
        .route(
            "/accessmanagement/ui/systemuser/{id}/agentdelegation/clients/add",
            post(clients::add_post),
        )
        .route(
            "/accessmanagement/ui/systemuser/{id}/agentdelegation/clients/remove",
            post(clients::remove_post),
        )
        .route(
            "/accessmanagement/ui/systemuser/{id}/agentdelegation/clients/add-all",
            post(clients::add_all_post),
        )
        .route(
            "/accessmanagement/ui/systemuser/{id}/agentdelegation/clients/add-all/batch",
            post(clients::add_all_batch),
        )
        .route(
            "/accessmanagement/ui/systemuser/{id}/agentdelegation/self",
            post(clients::self_post),
        )
        // Users and access (access management for people).
        .route(access::ACCESS, get(access::overview))
        .route("/accessmanagement/ui/access/find", post(access::find))
        .route(
            "/accessmanagement/ui/access/give",
            get(access::give_page).post(access::give),
        )
        .route(
            "/accessmanagement/ui/access/give/confirm",
            post(access::confirm),
        )
        .route("/accessmanagement/ui/access/revoke", post(access::revoke))
        .route(
            "/accessmanagement/ui/access/ask",
            get(access::ask_page).post(access::ask),
        )
        .route(
            "/accessmanagement/ui/access/ask/request",
            post(access::ask_for_request),
        )
        .route(
            "/accessmanagement/ui/access/asks/{id}/{answer}",
            post(access::answer),
        )
        // "For developers": Maskinporten self-service and the system register.
        .route(developer::DEVELOPER, get(developer::page))
        .route(
            "/accessmanagement/ui/developer/clients",
            post(developer::create_client),
        )
        .route(
            "/accessmanagement/ui/developer/clients/delete",
            post(developer::delete_client),
        )
        .route(
            "/accessmanagement/ui/developer/keys/add",
            post(developer::add_key),
        )
        .route(
            "/accessmanagement/ui/developer/keys/remove",
            post(developer::remove_key),
        )
        .route(
            "/accessmanagement/ui/developer/scopes",
            post(developer::create_scope),
        )
        .route(
            "/accessmanagement/ui/developer/scopes/grant",
            post(developer::grant),
        )
        .route(
            "/accessmanagement/ui/developer/scopes/revoke",
            post(developer::revoke),
        )
        .route(
            "/accessmanagement/ui/developer/system",
            get(developer::system_form).post(developer::save_system),
        )
        .route(
            "/accessmanagement/ui/systemuser/{id}/activity",
            get(activity::activity),
        )
        .route("/accessmanagement/ui/{*rest}", any(page::not_found))
        .with_state(portal)
}

/// A `goto` that is safe to redirect to: a path inside the portal, never another site
/// (no scheme, no `//`, no `..`, no backslashes or encoded separators, no control
/// characters), so login and party links cannot be turned into open redirects.
pub(crate) fn safe_goto(goto: Option<&str>) -> Option<String> {
    let goto = goto?.trim();
    if goto.len() > 2048 || goto.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    let inside = goto == BASE || goto.starts_with("/accessmanagement/ui/");
    let path = goto.split(['?', '#']).next().unwrap_or_default();
    let lowered = path.to_ascii_lowercase();
    let tricky = ["//", "..", "\\", "%2e", "%2f", "%5c", "%00"]
        .iter()
        .any(|bad| lowered.contains(bad));
    (inside && !tricky).then(|| goto.to_string())
}

/// `path?name=value` with the value form-encoded.
pub(crate) fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    match serde_urlencoded::to_string(pairs) {
        Ok(query) if !query.is_empty() => format!("{path}?{query}"),
        _ => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goto_stays_inside_the_portal() {
        for good in [
            "/accessmanagement/ui/systemuser/overview",
            "/accessmanagement/ui/systemuser/request?id=1&DONTCHOOSEREPORTEE=true",
            "/accessmanagement/ui",
        ] {
            assert_eq!(safe_goto(Some(good)).as_deref(), Some(good), "{good}");
        }
        for bad in [
            "https://evil.example/",
            "//evil.example/accessmanagement/ui/",
            "/\\evil.example",
            "/accessmanagement/ui//evil.example",
            "/accessmanagement/ui/../../evil",
            "/accessmanagement/ui/%2e%2e/x",
            "/accessmanagement/uix",
            "/authentication/api/v1/systemuser",
            "javascript:alert(1)",
            "/accessmanagement/ui/x\r\nLocation: https://evil.example",
            "",
        ] {
            assert_eq!(safe_goto(Some(bad)), None, "{bad}");
        }
        assert_eq!(safe_goto(None), None);
    }

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            with_query("/a", &[("goto", "/b?c=d&e")]),
            "/a?goto=%2Fb%3Fc%3Dd%26e"
        );
        assert_eq!(with_query("/a", &[]), "/a");
    }
}
