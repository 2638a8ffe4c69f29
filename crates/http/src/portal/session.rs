//! Server-side sessions of the portal, kept in memory and named by a random 256-bit id
//! in an HttpOnly, SameSite=Lax cookie limited to the portal's path. The cookie holds
//! nothing but the id: the person, the chosen party and the CSRF token stay on the
//! server, so logging out (or a restart) ends the session for good.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, header};
use systembruker_domain::PersonNumber;
use uuid::Uuid;

use super::{BASE, PortalState};
use crate::oidc::PendingLogin;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "sb_portal_session";
/// A session unused this long is gone.
const IDLE_LIMIT: Duration = Duration::from_secs(30 * 60);
/// No session lives longer than this, used or not.
const AGE_LIMIT: Duration = Duration::from_secs(8 * 3600);
/// Expired sessions are swept when the store grows past this many.
const SWEEP_ABOVE: usize = 1_000;

/// The logged-in person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Login {
    pub person: PersonNumber,
    /// The person's party uuid in the register.
    pub person_uuid: Uuid,
    /// The person's party id, which doubles as the user id (the register has no accounts).
    pub user_id: i64,
    pub name: String,
}

/// Which kind of request a vendor link was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    Standard,
    Agent,
    Change,
}

/// What the user did with a vendor's request, for the page after logout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Approved,
    Rejected,
    Escalated,
    Closed,
}

impl Outcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Escalated => "escalated",
            Self::Closed => "closed",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        [
            Self::Approved,
            Self::Rejected,
            Self::Escalated,
            Self::Closed,
        ]
        .into_iter()
        .find(|o| o.as_str() == text)
    }
}

/// A vendor request the user has answered: after logout they go to its redirect URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PendingAnswer {
    pub kind: RequestKind,
    pub id: Uuid,
    pub outcome: Outcome,
}

/// An OpenID Connect login between the redirect to the provider and the callback.
#[derive(Debug, Clone)]
pub(crate) struct LoginFlow {
    pub pending: PendingLogin,
    /// Where to go after login: a path inside the portal ([`super::safe_goto`]).
    pub goto: String,
}

/// A raw id_token; its `Debug` does not show it, so it never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct IdToken(pub String);

impl std::fmt::Debug for IdToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdToken(..)")
    }
}

/// One visitor's session. Before login it only carries the CSRF token of the login form
/// (and, for OpenID Connect, the flow in progress).
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub login: Option<Login>,
    /// The organisation the user acts for.
    pub party: Option<Uuid>,
    pub csrf: String,
    pub pending: Option<PendingAnswer>,
    /// An OpenID Connect login in progress (state, nonce, PKCE verifier, goto), kept
    /// between the login route and the callback; taken out, once, by the callback.
    pub login_flow: Option<LoginFlow>,
    /// The id_token of an OpenID Connect login, sent back to the provider at logout
    /// (`id_token_hint`) so its single sign-on session ends too.
    pub id_token: Option<IdToken>,
    created: Instant,
    seen: Instant,
}

impl Session {
    fn new(login: Option<Login>) -> Self {
        let now = Instant::now();
        Self {
            login,
            party: None,
            csrf: random_token(),
            pending: None,
            login_flow: None,
            id_token: None,
            created: now,
            seen: now,
        }
    }

    fn expired(&self, now: Instant) -> bool {
        now.duration_since(self.seen) > IDLE_LIMIT || now.duration_since(self.created) > AGE_LIMIT
    }
}

/// 32 random bytes from the thread's CSPRNG, as hex.
pub(crate) fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets in time that depends only on their lengths.
pub(crate) fn same_secret(expected: &str, given: &str) -> bool {
    expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The in-memory session store.
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    /// Cookies get `Secure` when the portal is served over https.
    secure: bool,
}

/// A `Set-Cookie` value for a new session, with its id.
pub(crate) struct SessionCookie {
    pub id: String,
    pub set_cookie: HeaderValue,
}

impl Sessions {
    pub(crate) fn new(secure: bool) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            secure,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding the lock leaves the map usable: take it anyway.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the live session `id`, marked as used; `None` when unknown or expired.
    pub(crate) fn get(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut map = self.lock();
        match map.get_mut(id) {
            Some(session) if !session.expired(now) => {
                session.seen = now;
                Some(session.clone())
            }
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    /// Changes the live session `id`; `None` when it is gone.
    pub(crate) fn update<R>(&self, id: &str, change: impl FnOnce(&mut Session) -> R) -> Option<R> {
        let now = Instant::now();
        let mut map = self.lock();
        let session = map.get_mut(id).filter(|s| !s.expired(now))?;
        session.seen = now;
        Some(change(session))
    }

    /// Stores a new session under a fresh id.
    fn insert(&self, session: Session) -> SessionCookie {
        let id = random_token();
        let mut map = self.lock();
        if map.len() > SWEEP_ABOVE {
            let now = Instant::now();
            map.retain(|_, s| !s.expired(now));
        }
        map.insert(id.clone(), session);
        drop(map);
        SessionCookie {
            set_cookie: self.cookie(&id),
            id,
        }
    }

    /// A session without a login, for the login form's CSRF token.
    pub(crate) fn start_anonymous(&self) -> (SessionCookie, Session) {
        let session = Session::new(None);
        (self.insert(session.clone()), session)
    }

    /// Ends the session `id`, returning what it held.
    pub(crate) fn remove(&self, id: &str) -> Option<Session> {
        self.lock().remove(id)
    }

    fn attributes(&self) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("Path={BASE}; HttpOnly; SameSite=Lax{secure}")
    }

    fn cookie(&self, id: &str) -> HeaderValue {
        let text = format!("{SESSION_COOKIE}={id}; {}", self.attributes());
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// A `Set-Cookie` value that removes the session cookie.
    pub(crate) fn clear_cookie(&self) -> HeaderValue {
        let text = format!("{SESSION_COOKIE}=; Max-Age=0; {}", self.attributes());
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// Whether cookies are marked `Secure`.
    pub(crate) fn secure(&self) -> bool {
        self.secure
    }
}

/// Why a person could not be logged in.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LoginError {
    #[error("person {0} is not in the register")]
    NotInRegister(PersonNumber),
    #[error("the register could not be read: {0}")]
    Store(#[from] systembruker_storage::StoreError),
}

/// Logs `person` in with a new session (a new id, so an id planted before login is
/// worthless) and, when the person can act for exactly one organisation, chooses it.
/// Both the test login and the OpenID Connect callback (with its `id_token`, for the
/// logout) end here; the caller removes the visitor's previous session and sends
/// `set_cookie`.
pub(crate) async fn log_in(
    state: &PortalState,
    person: PersonNumber,
    id_token: Option<IdToken>,
) -> Result<SessionCookie, LoginError> {
    let party = state
        .store
        .person(&person)
        .await?
        .ok_or(LoginError::NotInRegister(person))?;
    let mut session = Session::new(Some(Login {
        person,
        person_uuid: party.uuid,
        user_id: party.id,
        name: party.name,
    }));
    session.id_token = id_token;
    let choices = super::party::representable(state, party.uuid).await?;
    if let [only] = choices.as_slice() {
        session.party = Some(only.uuid);
    }
    Ok(state.sessions.insert(session))
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// What the browser says about where a state-changing request comes from.
enum Source {
    Absent,
    Ours,
    Foreign,
}

/// `Origin` or `Referer`, compared by scheme, host and port with the portal's own
/// origins. `null` and anything unparsable are foreign.
fn source(headers: &HeaderMap, name: header::HeaderName, ours: &[url::Origin]) -> Source {
    let Some(value) = headers.get(name) else {
        return Source::Absent;
    };
    match value
        .to_str()
        .ok()
        .and_then(|v| url::Url::parse(v.trim()).ok())
    {
        Some(url) if ours.contains(&url.origin()) => Source::Ours,
        _ => Source::Foreign,
    }
}

/// The portal's origins: the public URL's, and the host the request reached under the
/// public URL's scheme (a server reached by another name than its public URL). The
/// `Host` cannot be set by another site's page, and the scheme is never taken from the
/// request: an `https` page does not pass for an `http` portal, or the other way round.
fn our_origins(headers: &HeaderMap, public_url: &str) -> Vec<url::Origin> {
    let Ok(public) = url::Url::parse(public_url) else {
        return Vec::new();
    };
    let mut origins = vec![public.origin()];
    let reached = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|host| url::Url::parse(&format!("{}://{host}", public.scheme())).ok());
    origins.extend(reached.map(|url| url.origin()));
    origins
}

/// A state-changing request from the portal's own pages, as far as the browser tells:
/// every `Origin` and `Referer` given names this portal exactly, and `Sec-Fetch-Site`
/// is not `cross-site`. `same-site` (a sibling host) or an unknown value passes only
/// when `Origin` or `Referer` proves the page was ours; `same-origin`, `none` (the user
/// typed or bookmarked it) and no header at all (older clients) need no proof. The
/// CSRF token is checked besides.
pub(crate) fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let ours = our_origins(headers, public_url);
    let mut proven = false;
    for name in [header::ORIGIN, header::REFERER] {
        match source(headers, name, &ours) {
            Source::Absent => {}
            Source::Ours => proven = true,
            Source::Foreign => return false,
        }
    }
    let site = headers
        .get("sec-fetch-site")
        .map(|v| v.to_str().unwrap_or_default().trim().to_ascii_lowercase());
    match site.as_deref() {
        None | Some("same-origin") | Some("none") => true,
        Some("cross-site") => false,
        Some(_) => proven,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_long() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", "a"));
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    const PUBLIC: &str = "http://127.0.0.1:8080";

    #[test]
    fn origin_must_be_ours() {
        let ok = |pairs: &[(&'static str, &'static str)]| same_origin(&headers(pairs), PUBLIC);
        assert!(ok(&[]), "no Origin, no Referer, no Sec-Fetch-Site");
        assert!(ok(&[("origin", "http://127.0.0.1:8080")]));
        assert!(ok(&[(
            "referer",
            "http://127.0.0.1:8080/accessmanagement/ui/x?y=1"
        )]));
        assert!(!ok(&[("origin", "https://evil.example")]));
        assert!(!ok(&[("origin", "null")]));
        // Scheme and port count, not only the host.
        assert!(!ok(&[("origin", "https://127.0.0.1:8080")]));
        assert!(!ok(&[("origin", "http://127.0.0.1:8081")]));
        assert!(!ok(&[("referer", "https://evil.example/form")]));
        // The host the request reached, under the public URL's scheme only.
        assert!(ok(&[
            ("host", "portal.example"),
            ("origin", "http://portal.example")
        ]));
        assert!(!ok(&[
            ("host", "portal.example"),
            ("origin", "https://portal.example")
        ]));
        // Default ports are the same origin.
        assert!(same_origin(
            &headers(&[("origin", "https://portal.example")]),
            "https://portal.example:443"
        ));
    }

    #[test]
    fn sec_fetch_site_is_heeded() {
        let ok = |pairs: &[(&'static str, &'static str)]| same_origin(&headers(pairs), PUBLIC);
        assert!(!ok(&[("sec-fetch-site", "cross-site")]));
        assert!(!ok(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://127.0.0.1:8080")
        ]));
        assert!(ok(&[("sec-fetch-site", "same-origin")]));
        assert!(ok(&[("sec-fetch-site", "none")]));
        assert!(!ok(&[
            ("sec-fetch-site", "none"),
            ("referer", "https://evil.example/")
        ]));
        // same-site needs proof that the page was ours.
        assert!(!ok(&[("sec-fetch-site", "same-site")]));
        assert!(ok(&[
            ("sec-fetch-site", "same-site"),
            ("origin", "http://127.0.0.1:8080")
        ]));
        assert!(!ok(&[("sec-fetch-site", "something-new")]));
    }

    #[test]
    fn sessions_end_on_remove() {
        let sessions = Sessions::new(true);
        let (cookie, _) = sessions.start_anonymous();
        let text = cookie.set_cookie.to_str().unwrap_or_default().to_string();
        assert!(text.contains("HttpOnly") && text.contains("SameSite=Lax"));
        assert!(text.contains("Secure") && text.contains("Path=/accessmanagement/ui"));
        assert!(sessions.get(&cookie.id).is_some());
        assert!(sessions.remove(&cookie.id).is_some());
        assert!(sessions.get(&cookie.id).is_none());
    }
}
