//! Logging in and out: the login entry point with OpenID Connect (as ID-porten) and its
//! callback, the dev-mode test login, logout (also the logout after answering a vendor's
//! request, which ends at the vendor's registered redirect URL or our receipt; after an
//! OpenID Connect login by way of the provider's logout), and the language switch.

use askama::Template;
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use systembruker_domain::PersonNumber;
use systembruker_domain::system::is_allowed_redirect_url;
use systembruker_domain::systemuser::check_redirect_url;
use uuid::Uuid;

use super::extract::{CsrfForm, LANGUAGE_COOKIE, Visit};
use super::i18n::{Texts, parse_code};
use super::page::{Chrome, Failure, html, see_other};
use super::session::{IdToken, LoginFlow, Outcome, PendingAnswer, RequestKind};
use super::{
    LOGGED_OUT, LoginError, OVERVIEW, PortalState, TEST_LOGIN, log_in, safe_goto, with_query,
};
use crate::demo::{BERNT, OLA, PIA, SIGRID, SVERRE, TINA};
use crate::oidc::{OidcClient, OidcConfig, OidcError};

/// Refuses logins past the source address's limit (OpenID Connect logins and their
/// callbacks; test logins as they are sent) with a page that says to wait.
pub(crate) async fn limit_logins(
    State(state): State<PortalState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let address = state.limits.address(&parts);
    let checked = if parts.uri.path() != TEST_LOGIN {
        state.limits.portal_login(address)
    } else if parts.method == Method::POST {
        state.limits.test_login(address)
    } else {
        Ok(())
    };
    if let Err(refused) = checked {
        let visit = match Visit::from_request_parts(&mut parts, &state).await {
            Ok(visit) => visit,
            Err(never) => match never {},
        };
        let mut response = Failure::Api(refused.problem()).render(&visit);
        refused.add_retry_after(response.headers_mut());
        return response;
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Where the portal's bare prefix leads.
pub(crate) async fn home() -> Response {
    see_other(OVERVIEW)
}

#[derive(Deserialize, Default)]
pub(crate) struct GotoQuery {
    goto: Option<String>,
    expired: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/login_unavailable.html")]
struct LoginUnavailablePage {
    t: Texts,
    chrome: Chrome,
}

/// The portal's OpenID Connect relying party. The provider's metadata is read at the
/// first login, not at start, so the server starts (and serves everything else) while
/// the provider is down; a failed discovery is not kept, the next login tries again.
pub(crate) struct OidcLogin {
    config: Option<OidcConfig>,
    http: reqwest::Client,
    client: tokio::sync::OnceCell<OidcClient>,
}

impl OidcLogin {
    pub(crate) fn new(config: Option<OidcConfig>) -> Self {
        Self {
            config,
            http: reqwest::Client::new(),
            client: tokio::sync::OnceCell::new(),
        }
    }

    fn configured(&self) -> bool {
        self.config.is_some()
    }

    /// The relying party, discovered now if it was not yet (concurrent first logins wait
    /// for one discovery). `None` when OpenID Connect is not configured.
    async fn client(&self) -> Option<Result<&OidcClient, OidcError>> {
        let config = self.config.as_ref()?;
        Some(
            self.client
                .get_or_try_init(|| async {
                    let client = OidcClient::discover(config.clone(), self.http.clone()).await;
                    if let Ok(client) = &client {
                        tracing::info!(?client, "OpenID provider discovered");
                    }
                    client
                })
                .await,
        )
    }

    /// The relying party if a login has discovered it (every OpenID Connect session
    /// was made by one, so logout needs no discovery).
    fn discovered(&self) -> Option<&OidcClient> {
        self.client.get()
    }
}

/// `GET /login`: OpenID Connect when configured; in dev mode without it, the test
/// login; otherwise a page saying login is not set up.
pub(crate) async fn login(
    State(state): State<PortalState>,
    visit: Visit,
    Query(query): Query<GotoQuery>,
) -> Response {
    if state.oidc.configured() {
        let goto = safe_goto(query.goto.as_deref()).unwrap_or_else(|| OVERVIEW.to_string());
        return oidc_login(&state, &visit, goto).await;
    }
    if state.config.dev {
        let mut pairs = Vec::new();
        if let Some(goto) = safe_goto(query.goto.as_deref()) {
            pairs.push(("goto", goto));
        }
        if query.expired.is_some() {
            pairs.push(("expired", "1".to_string()));
        }
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        return see_other(&with_query(TEST_LOGIN, &pairs));
    }
    let t = visit.t;
    let page = LoginUnavailablePage {
        t,
        chrome: Chrome::new(&visit, t.get("login.unavailable.title")),
    };
    html(StatusCode::SERVICE_UNAVAILABLE, &page)
}

/// Starts an OpenID Connect login: a fresh session holding the flow (state, nonce, PKCE
/// verifier) and where to go afterwards, then the provider's login.
async fn oidc_login(state: &PortalState, visit: &Visit, goto: String) -> Response {
    if visit.session.as_ref().is_some_and(|s| s.login.is_some()) {
        return see_other(&goto);
    }
    let client = match state.oidc.client().await {
        Some(Ok(client)) => client,
        Some(Err(error)) => {
            tracing::warn!(%error, "the OpenID provider cannot be used; login refused for now");
            return LoginFailure::Unavailable.render(visit, &goto);
        }
        None => return LoginFailure::Unavailable.render(visit, &goto),
    };
    let (auth_url, pending) = client.begin();
    if let Some(old) = &visit.session_id {
        state.sessions.remove(old).await;
    }
    let started = async {
        let (cookie, _) = state.sessions.start_anonymous().await?;
        let flow = LoginFlow { pending, goto };
        state.sessions.put_flow(&cookie.id, &flow).await?;
        Ok::<_, systembruker_storage::StoreError>(cookie)
    };
    let cookie = match started.await {
        Ok(cookie) => cookie,
        Err(error) => return Failure::from(error).render(visit),
    };
    let mut response = see_other(&auth_url);
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookie.set_cookie);
    response
}

#[derive(Deserialize, Default)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    /// The provider's refusal (`access_denied` when the person cancels, …).
    error: Option<String>,
    error_description: Option<String>,
    /// The issuer of the answer (RFC 9207), when the provider names it.
    iss: Option<String>,
}

/// `GET /login/callback?code&state`: the provider's answer. The login flow is taken out
/// of the database first (one statement, so an answer is used at most once, whichever
/// process gets it); the person must be in the register; the logged-in session gets a
/// new id.
pub(crate) async fn callback(
    State(state): State<PortalState>,
    visit: Visit,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let flow = match visit.session_id.as_deref() {
        Some(id) => state.sessions.take_flow(id).await,
        None => Ok(None),
    };
    let flow = match flow {
        Ok(flow) => flow,
        Err(error) => return Failure::from(error).render(&visit),
    };
    let Some(flow) = flow else {
        tracing::info!("OpenID Connect callback without a login in progress");
        return LoginFailure::NotStarted.render(&visit, OVERVIEW);
    };
    let goto = flow.goto.as_str();
    if let Some(error) = &query.error {
        // Debug formatting: the values come from the query, so control characters in
        // them are escaped rather than written into the log.
        tracing::info!(
            error = ?error,
            description = ?query.error_description,
            "the OpenID provider did not log the person in"
        );
        return LoginFailure::Refused.render(&visit, goto);
    }
    let (Some(code), Some(returned_state)) = (query.code.as_deref(), query.state.as_deref()) else {
        return LoginFailure::NotStarted.render(&visit, goto);
    };
    let client = match state.oidc.client().await {
        Some(Ok(client)) => client,
        Some(Err(error)) => {
            tracing::warn!(%error, "the OpenID provider cannot be used");
            return LoginFailure::Unavailable.render(&visit, goto);
        }
        None => return Failure::NotFound.render(&visit),
    };
    if query
        .iss
        .as_deref()
        .is_some_and(|iss| iss != client.config().issuer)
    {
        tracing::warn!(iss = ?query.iss, "OpenID Connect answer from another issuer refused");
        return LoginFailure::Unverified.render(&visit, goto);
    }
    let logged_in = match client.complete(code, returned_state, &flow.pending).await {
        Ok(logged_in) => logged_in,
        Err(error) => {
            tracing::warn!(%error, "OpenID Connect login failed");
            return LoginFailure::from(&error).render(&visit, goto);
        }
    };
    let person = logged_in.pid;
    match log_in(&state, person, Some(IdToken(logged_in.id_token))).await {
        Ok(cookie) => {
            if let Some(old) = &visit.session_id {
                state.sessions.remove(old).await;
            }
            let mut response = see_other(goto);
            response
                .headers_mut()
                .append(header::SET_COOKIE, cookie.set_cookie);
            response
        }
        Err(LoginError::NotInRegister(_)) => {
            tracing::info!("OpenID Connect login of a person who is not in the register");
            LoginFailure::NotInRegister.render(&visit, goto)
        }
        Err(LoginError::Store(e)) => Failure::from(e).render(&visit),
    }
}

/// Why an OpenID Connect login did not succeed, as the person is told (the details go
/// to the log, never to the page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoginFailure {
    /// The provider's metadata cannot be read (it is down or misconfigured).
    Unavailable,
    /// No login in progress in this browser (expired session, another window, a
    /// bookmarked callback) or an answer without code and state.
    NotStarted,
    /// The login was begun too long ago.
    Expired,
    /// The answer's `state` is not this session's.
    StateMismatch,
    /// The provider said no (the person cancelled, or the provider refused the client).
    Refused,
    /// The provider could not be reached for the code exchange.
    ProviderDown,
    /// The code exchange or the id_token did not pass the checks.
    Unverified,
    /// The person is not in the register.
    NotInRegister,
}

impl From<&OidcError> for LoginFailure {
    fn from(error: &OidcError) -> Self {
        match error {
            OidcError::LoginExpired => Self::Expired,
            OidcError::StateMismatch => Self::StateMismatch,
            OidcError::Provider { .. } | OidcError::Discovery { .. } => Self::ProviderDown,
            OidcError::Config(_)
            | OidcError::IssuerMismatch { .. }
            | OidcError::Metadata(_)
            | OidcError::TokenRefused { .. }
            | OidcError::InvalidIdToken(_)
            | OidcError::Algorithm(_)
            | OidcError::NonceMismatch
            | OidcError::MissingPid
            | OidcError::InvalidPid(_)
            | OidcError::ClientAssertion(_) => Self::Unverified,
        }
    }
}

#[derive(Template)]
#[template(path = "portal/login_failed.html")]
struct LoginFailedPage {
    t: Texts,
    chrome: Chrome,
    message: String,
    retry_href: String,
}

impl LoginFailure {
    fn status(self) -> StatusCode {
        match self {
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotStarted | Self::Expired | Self::StateMismatch => StatusCode::BAD_REQUEST,
            Self::Refused | Self::NotInRegister => StatusCode::FORBIDDEN,
            Self::ProviderDown | Self::Unverified => StatusCode::BAD_GATEWAY,
        }
    }

    fn message(self, t: Texts) -> &'static str {
        match self {
            Self::Unavailable => t.get("login.failed.unavailable"),
            Self::NotStarted => t.get("login.failed.not_started"),
            Self::Expired => t.get("login.failed.expired"),
            Self::StateMismatch => t.get("login.failed.state"),
            Self::Refused => t.get("login.failed.refused"),
            Self::ProviderDown => t.get("login.failed.provider"),
            Self::Unverified => t.get("login.failed.unverified"),
            Self::NotInRegister => t.get("login.failed.not_in_register"),
        }
    }

    /// The page, with a link that starts the login again towards `goto`. The language
    /// links lead to `goto` too, not back to the callback (its code and state are used up,
    /// and have no business in the page's links).
    fn render(self, visit: &Visit, goto: &str) -> Response {
        let t = visit.t;
        let mut visit = visit_clone(visit);
        visit.here = goto.to_string();
        let page = LoginFailedPage {
            t,
            chrome: Chrome::new(&visit, t.get("login.failed.title")),
            message: self.message(t).to_string(),
            retry_href: with_query(super::LOGIN, &[("goto", goto)]),
        };
        html(self.status(), &page)
    }
}

/// One person on the test login page.
struct TestPerson {
    pid: String,
    name: String,
}

#[derive(Template)]
#[template(path = "portal/login_test.html")]
struct TestLoginPage {
    t: Texts,
    chrome: Chrome,
    persons: Vec<TestPerson>,
    goto: String,
    expired: bool,
    error: Option<String>,
    typed: String,
}

/// The demo persons that are in the register.
async fn demo_persons(state: &PortalState) -> Result<Vec<TestPerson>, Failure> {
    let mut persons = Vec::new();
    for pid in [PIA, OLA, TINA, BERNT, SIGRID, SVERRE] {
        let Ok(number) = PersonNumber::parse(pid) else {
            continue;
        };
        if let Some(person) = state.store.person(&number).await? {
            persons.push(TestPerson {
                pid: pid.to_string(),
                name: person.name,
            });
        }
    }
    Ok(persons)
}

/// Renders the test login page, with a session (for the form's CSRF token) made first
/// when the visitor has none.
async fn test_login_page(
    state: &PortalState,
    mut visit: Visit,
    goto: String,
    error: Option<String>,
    typed: String,
) -> Result<Response, Failure> {
    let mut new_cookie = None;
    if visit.session.is_none() {
        let (cookie, session) = state.sessions.start_anonymous().await?;
        visit.session_id = Some(cookie.id.clone());
        visit.session = Some(session);
        new_cookie = Some(cookie.set_cookie);
    }
    let t = visit.t;
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = TestLoginPage {
        t,
        chrome: Chrome::new(&visit, t.get("login.test.title")),
        persons: demo_persons(state).await?,
        goto,
        expired: visit.stale_cookie,
        error,
        typed,
    };
    let mut response = html(status, &page);
    if let Some(cookie) = new_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// `GET /login/test` (dev mode only; 404 otherwise).
pub(crate) async fn test_login(
    State(state): State<PortalState>,
    mut visit: Visit,
    Query(query): Query<GotoQuery>,
) -> Response {
    if !state.config.dev {
        return Failure::NotFound.render(&visit);
    }
    visit.stale_cookie |= query.expired.is_some();
    let goto = safe_goto(query.goto.as_deref()).unwrap_or_else(|| OVERVIEW.to_string());
    let result = test_login_page(&state, visit_clone(&visit), goto, None, String::new()).await;
    result.unwrap_or_else(|failure| failure.render(&visit))
}

/// A copy of the visit (the session is a snapshot, so copying is cheap and safe).
fn visit_clone(visit: &Visit) -> Visit {
    Visit {
        t: visit.t,
        here: visit.here.clone(),
        session_id: visit.session_id.clone(),
        session: visit.session.clone(),
        stale_cookie: visit.stale_cookie,
        dev: visit.dev,
    }
}

#[derive(Deserialize)]
pub(crate) struct TestLoginForm {
    pid: String,
    goto: Option<String>,
}

/// `POST /login/test`: log in as any person in the register (dev mode only).
pub(crate) async fn test_login_post(
    State(state): State<PortalState>,
    visit: Visit,
    CsrfForm(form): CsrfForm<TestLoginForm>,
) -> Response {
    if !state.config.dev {
        return Failure::NotFound.render(&visit);
    }
    let goto = safe_goto(form.goto.as_deref()).unwrap_or_else(|| OVERVIEW.to_string());
    let t = visit.t;
    let typed: String = form.pid.chars().filter(|c| !c.is_whitespace()).collect();
    let message = match PersonNumber::parse(&typed) {
        Err(_) => t.get("login.test.invalid_pid"),
        Ok(person) => match log_in(&state, person, None).await {
            Ok(cookie) => {
                if let Some(old) = &visit.session_id {
                    state.sessions.remove(old).await;
                }
                let mut response = see_other(&goto);
                response
                    .headers_mut()
                    .append(header::SET_COOKIE, cookie.set_cookie);
                return response;
            }
            Err(LoginError::NotInRegister(_)) => t.get("login.test.unknown_pid"),
            Err(LoginError::Store(e)) => return Failure::from(e).render(&visit),
        },
    };
    let result = test_login_page(
        &state,
        visit_clone(&visit),
        goto,
        Some(message.to_string()),
        typed,
    )
    .await;
    result.unwrap_or_else(|failure| failure.render(&visit))
}

#[derive(Deserialize)]
pub(crate) struct LogoutForm {
    /// A vendor request the user leaves from (the escalation box's buttons).
    request: Option<String>,
    kind: Option<String>,
    outcome: Option<String>,
}

/// `POST /logout`: ends the session. Sent from a vendor request page, it ends where
/// answering would: at the vendor's registered redirect URL, or our receipt.
pub(crate) async fn logout(
    State(state): State<PortalState>,
    visit: Visit,
    CsrfForm(form): CsrfForm<LogoutForm>,
) -> Response {
    let left = match (form.request.as_deref(), form.kind.as_deref()) {
        (Some(id), Some(kind)) => Uuid::parse_str(id.trim()).ok().and_then(|id| {
            let kind = match kind {
                "standard" => RequestKind::Standard,
                "agent" => RequestKind::Agent,
                "change" => RequestKind::Change,
                _ => return None,
            };
            let outcome = match form.outcome.as_deref().and_then(Outcome::parse) {
                Some(Outcome::Escalated) => Outcome::Escalated,
                _ => Outcome::Closed,
            };
            Some(PendingAnswer { kind, id, outcome })
        }),
        _ => None,
    };
    let session = match visit.session_id.as_deref() {
        Some(id) => state.sessions.remove(id).await,
        None => None,
    };
    let (pending, id_token) = match session {
        Some(session) => (left.or(session.pending), session.id_token),
        None => (left, None),
    };
    finish_logout(&state, pending, id_token).await
}

/// `GET /logout/answered`: the end of an answered vendor request (see [`logout`]).
pub(crate) async fn logout_answered(State(state): State<PortalState>, visit: Visit) -> Response {
    let session = match visit.session_id.as_deref() {
        Some(id) => state.sessions.remove(id).await,
        None => None,
    };
    let (pending, id_token) = match session {
        Some(session) => (session.pending, session.id_token),
        None => (None, None),
    };
    finish_logout(&state, pending, id_token).await
}

/// Ends the logout (the session is already gone). After an OpenID Connect login the
/// browser goes to the provider's logout first, which sends it back to our logged-out
/// page (the one address registered there); an answered vendor request rides along in a
/// session of its own, so that page can send the browser on to the vendor.
async fn finish_logout(
    state: &PortalState,
    pending: Option<PendingAnswer>,
    id_token: Option<IdToken>,
) -> Response {
    let provider_logout = id_token.and_then(|token| {
        let back = format!(
            "{}{LOGGED_OUT}",
            state.config.public_url.trim_end_matches('/')
        );
        state
            .oidc
            .discovered()?
            .end_session_url(Some(&token.0), &back)
    });
    let Some(provider_logout) = provider_logout else {
        return leave(state, pending).await;
    };
    let mut response = see_other(&provider_logout);
    let cookie = match pending {
        Some(answer) => match state.sessions.start_anonymous().await {
            Ok((cookie, _)) => {
                state
                    .sessions
                    .update(&cookie.id, |session| session.pending = Some(answer))
                    .await;
                cookie.set_cookie
            }
            // Without a session the vendor's redirect is lost, but the logout is not.
            Err(error) => {
                tracing::error!(%error, "no session for the answered request after logout");
                state.sessions.clear_cookie()
            }
        },
        None => state.sessions.clear_cookie(),
    };
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// Clears the cookie and sends the browser on: to the vendor's redirect URL when the
/// request has one that the system (still) allows, else to our receipt or logout page.
async fn leave(state: &PortalState, pending: Option<PendingAnswer>) -> Response {
    let target = match pending {
        Some(answer) => match vendor_redirect(state, answer).await {
            Some(url) => url,
            None => with_query(
                "/accessmanagement/ui/receipt",
                &[("outcome", answer.outcome.as_str())],
            ),
        },
        None => LOGGED_OUT.to_string(),
    };
    let mut response = see_other(&target);
    response
        .headers_mut()
        .append(header::SET_COOKIE, state.sessions.clear_cookie());
    response
}

/// The request's redirect URL, re-checked against its system's allowed URLs now (it
/// was checked when the vendor made the request, but the vendor may have changed them).
async fn vendor_redirect(state: &PortalState, answer: PendingAnswer) -> Option<String> {
    let (url, system_id) = match answer.kind {
        RequestKind::Standard | RequestKind::Agent => {
            let request = state.store.request(answer.id).await.ok()??;
            (request.redirect_url?, request.system_id)
        }
        RequestKind::Change => {
            let request = state.store.change_request(answer.id).await.ok()??;
            (request.redirect_url?, request.system_id)
        }
    };
    let system = state.store.system(&system_id).await.ok()??.system;
    let allowed = !system.is_deleted
        && check_redirect_url(Some(&url), &system).is_ok()
        && is_allowed_redirect_url(&url, state.config.dev);
    allowed.then_some(url)
}

#[derive(Template)]
#[template(path = "portal/logged_out.html")]
struct LoggedOutPage {
    t: Texts,
    chrome: Chrome,
    heading: String,
    text: String,
    login_href: String,
}

/// `GET /logged-out` (also `/loggedout`). Coming back from the provider's logout with
/// an answered vendor request, it sends the browser on to the vendor (see
/// [`finish_logout`]).
pub(crate) async fn logged_out(State(state): State<PortalState>, visit: Visit) -> Response {
    if let (Some(id), Some(session)) = (&visit.session_id, &visit.session)
        && session.login.is_none()
        && let Some(answer) = session.pending
    {
        state.sessions.remove(id).await;
        return leave(&state, Some(answer)).await;
    }
    let t = visit.t;
    let page = LoggedOutPage {
        t,
        chrome: Chrome::new(&visit, t.get("logout.title")),
        heading: t.get("logout.title").to_string(),
        text: t.get("logout.text").to_string(),
        login_href: with_query(super::LOGIN, &[("goto", OVERVIEW)]),
    };
    html(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub(crate) struct ReceiptQuery {
    outcome: Option<String>,
}

/// `GET /receipt`: after answering a vendor request that has no redirect URL.
pub(crate) async fn receipt(visit: Visit, Query(query): Query<ReceiptQuery>) -> Response {
    let t = visit.t;
    let (heading, text) = match query.outcome.as_deref().and_then(Outcome::parse) {
        Some(Outcome::Approved) => (
            t.get("receipt.approved.title"),
            t.get("receipt.approved.text"),
        ),
        Some(Outcome::Rejected) => (
            t.get("receipt.rejected.title"),
            t.get("receipt.rejected.text"),
        ),
        Some(Outcome::Escalated) => (
            t.get("receipt.escalated.title"),
            t.get("receipt.escalated.text"),
        ),
        Some(Outcome::Closed) | None => (t.get("logout.title"), t.get("receipt.closed.text")),
    };
    let page = LoggedOutPage {
        t,
        chrome: Chrome::new(&visit, heading),
        heading: heading.to_string(),
        text: text.to_string(),
        login_href: with_query(super::LOGIN, &[("goto", OVERVIEW)]),
    };
    html(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub(crate) struct LanguageQuery {
    lang: Option<String>,
    goto: Option<String>,
}

/// `GET /language?lang=nn&goto=…`: remembers the language for a year, then goes back.
pub(crate) async fn language(
    State(state): State<PortalState>,
    Query(query): Query<LanguageQuery>,
) -> Response {
    let goto = safe_goto(query.goto.as_deref()).unwrap_or_else(|| OVERVIEW.to_string());
    let mut response = see_other(&goto);
    if let Some(language) = query.lang.as_deref().and_then(parse_code) {
        let secure = if state.sessions.secure() {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!(
            "{LANGUAGE_COOKIE}={}; Path=/accessmanagement/ui; Max-Age=31536000; HttpOnly; SameSite=Lax{secure}",
            super::i18n::code(language)
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response.into_response()
}

#[cfg(test)]
mod tests {
    use systembruker_domain::catalogue::Language;

    use super::*;

    /// Every way an OpenID Connect login can fail is a page the person can read, in each
    /// language, with a 4xx/5xx status that is never a plain 500.
    #[test]
    fn every_login_failure_is_a_readable_page() {
        let errors = [
            (OidcError::LoginExpired, LoginFailure::Expired),
            (OidcError::StateMismatch, LoginFailure::StateMismatch),
            (
                OidcError::Provider {
                    endpoint: "token_endpoint",
                    reason: "timeout".into(),
                },
                LoginFailure::ProviderDown,
            ),
            (
                OidcError::TokenRefused {
                    status: 400,
                    error: "invalid_grant".into(),
                    description: None,
                },
                LoginFailure::Unverified,
            ),
            (OidcError::NonceMismatch, LoginFailure::Unverified),
            (OidcError::MissingPid, LoginFailure::Unverified),
            (
                OidcError::InvalidIdToken("expired".into()),
                LoginFailure::Unverified,
            ),
        ];
        for (error, expected) in &errors {
            assert_eq!(LoginFailure::from(error), *expected, "{error}");
        }
        for failure in [
            LoginFailure::Unavailable,
            LoginFailure::NotStarted,
            LoginFailure::Expired,
            LoginFailure::StateMismatch,
            LoginFailure::Refused,
            LoginFailure::ProviderDown,
            LoginFailure::Unverified,
            LoginFailure::NotInRegister,
        ] {
            let status = failure.status();
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{failure:?}"
            );
            assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{failure:?}");
            for language in [Language::Nb, Language::Nn, Language::En] {
                let text = failure.message(Texts::new(language));
                assert!(
                    !text.starts_with("login.failed."),
                    "{failure:?} has no text"
                );
            }
        }
        assert_ne!(
            LoginFailure::Expired.message(Texts::new(Language::Nb)),
            LoginFailure::StateMismatch.message(Texts::new(Language::Nb))
        );
    }
}
