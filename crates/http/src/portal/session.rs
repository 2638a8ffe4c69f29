//! Server-side sessions of the portal, named by a random 256-bit id in an HttpOnly,
//! SameSite=Lax cookie limited to the portal's path. The cookie holds nothing but the id:
//! the person, the chosen party and the CSRF token stay on the server — in the database
//! (`SessionStore`), so every process behind a load balancer serves every request, and
//! logging out in one ends the session in all. The database keeps only a hash of the id.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use serde::{Deserialize, Serialize};
use systembruker_domain::PersonNumber;
use systembruker_storage::{Store, StoreError, StoreResult, StoredSession, now_millis};
use uuid::Uuid;

use super::{BASE, PortalState};
use crate::oidc::{PENDING_LOGIN_MAX_AGE_SECS, PendingLogin};

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "sb_portal_session";
/// A session unused this long is gone.
const IDLE_LIMIT: Duration = Duration::from_secs(30 * 60);
/// No session lives longer than this, used or not.
const AGE_LIMIT: Duration = Duration::from_secs(8 * 3600);
/// A visit moves the idle deadline only when the last move is older than this: a page
/// view then costs one read, not a read and a write, and the deadline is at most this
/// much early.
const TOUCH_AFTER: Duration = Duration::from_secs(60);
/// Expired sessions and logins are purged at most this often by each process, when a
/// new session is made.
const PURGE_EVERY: Duration = Duration::from_secs(5 * 60);

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The logged-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Login {
    pub person: PersonNumber,
    /// The person's party uuid in the register.
    pub person_uuid: Uuid,
    /// The person's party id, which doubles as the user id (the register has no accounts).
    pub user_id: i64,
    pub name: String,
}

/// Which kind of request a vendor link was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum RequestKind {
    Standard,
    Agent,
    Change,
}

/// What the user did with a vendor's request, for the page after logout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PendingAnswer {
    pub kind: RequestKind,
    pub id: Uuid,
    pub outcome: Outcome,
}

/// An OpenID Connect login between the redirect to the provider and the callback.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LoginFlow {
    pub pending: PendingLogin,
    /// Where to go after login: a path inside the portal ([`super::safe_goto`]).
    pub goto: String,
}

/// A raw id_token; its `Debug` does not show it, so it never reaches a log.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct IdToken(pub String);

impl std::fmt::Debug for IdToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdToken(..)")
    }
}

/// One visitor's session. Before login it only carries the CSRF token of the login form
/// (an OpenID Connect login in progress is kept beside it, see [`Sessions::put_flow`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Session {
    pub login: Option<Login>,
    /// The organisation the user acts for.
    pub party: Option<Uuid>,
    pub csrf: String,
    pub pending: Option<PendingAnswer>,
    /// The id_token of an OpenID Connect login, sent back to the provider at logout
    /// (`id_token_hint`) so its single sign-on session ends too.
    pub id_token: Option<IdToken>,
}

impl Session {
    fn new(login: Option<Login>) -> Self {
        Self {
            login,
            party: None,
            csrf: random_token(),
            pending: None,
            id_token: None,
        }
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

/// The session store: the database's sessions, seen through this process.
pub(crate) struct Sessions {
    store: Arc<dyn Store>,
    /// Cookies get `Secure` when the portal is served over https.
    secure: bool,
    /// When this process purges expired sessions next (unix milliseconds).
    next_purge: AtomicI64,
}

/// A `Set-Cookie` value for a new session, with its id.
pub(crate) struct SessionCookie {
    pub id: String,
    pub set_cookie: HeaderValue,
}

impl Sessions {
    pub(crate) fn new(store: Arc<dyn Store>, secure: bool) -> Self {
        Self {
            store,
            secure,
            next_purge: AtomicI64::new(0),
        }
    }

    /// The live session `id`, marked as used; `None` when unknown or expired, or when
    /// the database cannot be read (logged: the visitor is then treated as logged out).
    pub(crate) async fn get(&self, id: &str) -> Option<Session> {
        match self.read(id).await {
            Ok(session) => session,
            Err(error) => {
                tracing::error!(%error, "portal session cannot be read");
                None
            }
        }
    }

    async fn read(&self, id: &str) -> StoreResult<Option<Session>> {
        let now = now_millis();
        let Some(stored) = self.store.session(id, now).await? else {
            return Ok(None);
        };
        let idle_until = now + millis(IDLE_LIMIT);
        if idle_until - stored.idle_expires_at > millis(TOUCH_AFTER) {
            self.store.touch_session(id, idle_until, now).await?;
        }
        Ok(Some(serde_json::from_str(&stored.data)?))
    }

    /// Changes the live session `id`; `None` when it is gone (or cannot be written).
    pub(crate) async fn update<R>(
        &self,
        id: &str,
        change: impl FnOnce(&mut Session) -> R,
    ) -> Option<R> {
        let result = async {
            let Some(mut session) = self.read(id).await? else {
                return Ok(None);
            };
            let answer = change(&mut session);
            let now = now_millis();
            let data = serde_json::to_string(&session).map_err(StoreError::from)?;
            let written = self
                .store
                .update_session(id, &data, now + millis(IDLE_LIMIT), now)
                .await?;
            Ok::<_, StoreError>(written.then_some(answer))
        }
        .await;
        result.unwrap_or_else(|error| {
            tracing::error!(%error, "portal session cannot be changed");
            None
        })
    }

    /// Stores a new session under a fresh id.
    async fn insert(&self, session: &Session) -> StoreResult<SessionCookie> {
        let id = random_token();
        let now = now_millis();
        let stored = StoredSession {
            data: serde_json::to_string(session).map_err(StoreError::from)?,
            idle_expires_at: now + millis(IDLE_LIMIT),
            expires_at: now + millis(AGE_LIMIT),
        };
        self.store.create_session(&id, &stored).await?;
        self.purge_now_and_then(now);
        Ok(SessionCookie {
            set_cookie: self.cookie(&id),
            id,
        })
    }

    /// Purges expired sessions in the background, when this process's turn has come.
    fn purge_now_and_then(&self, now: i64) {
        let due = self.next_purge.load(Ordering::Relaxed);
        let next = now + millis(PURGE_EVERY);
        if now < due
            || self
                .next_purge
                .compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let store = self.store.clone();
        tokio::spawn(async move {
            match store.purge_sessions(now).await {
                Ok(0) => {}
                Ok(purged) => tracing::debug!(purged, "expired portal sessions purged"),
                Err(error) => tracing::warn!(%error, "expired portal sessions not purged"),
            }
        });
    }

    /// A session without a login, for the login form's CSRF token.
    pub(crate) async fn start_anonymous(&self) -> StoreResult<(SessionCookie, Session)> {
        let session = Session::new(None);
        Ok((self.insert(&session).await?, session))
    }

    /// Ends the session `id`, returning what it held.
    pub(crate) async fn remove(&self, id: &str) -> Option<Session> {
        let removed = self.store.delete_session(id, now_millis()).await;
        match removed {
            Ok(stored) => stored.and_then(|s| serde_json::from_str(&s.data).ok()),
            Err(error) => {
                tracing::error!(%error, "portal session cannot be ended");
                None
            }
        }
    }

    /// Keeps the OpenID Connect login in progress of session `id`, for as long as
    /// the login may take.
    pub(crate) async fn put_flow(&self, id: &str, flow: &LoginFlow) -> StoreResult<()> {
        let data = serde_json::to_string(flow).map_err(StoreError::from)?;
        let expires_at = now_millis() + PENDING_LOGIN_MAX_AGE_SECS * 1000;
        self.store.put_login_flow(id, &data, expires_at).await
    }

    /// Takes out the login in progress of session `id`: only the first caller, in any
    /// process, gets it.
    pub(crate) async fn take_flow(&self, id: &str) -> StoreResult<Option<LoginFlow>> {
        let Some(data) = self.store.take_login_flow(id, now_millis()).await? else {
            return Ok(None);
        };
        Ok(Some(serde_json::from_str(&data).map_err(StoreError::from)?))
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
    Ok(state.sessions.insert(&session).await?)
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

    #[tokio::test]
    async fn sessions_end_on_remove() {
        let store = systembruker_storage::testing::sqlite_store()
            .await
            .expect("store opens");
        let sessions = Sessions::new(Arc::new(store), true);
        let (cookie, _) = sessions.start_anonymous().await.expect("session made");
        let text = cookie.set_cookie.to_str().unwrap_or_default().to_string();
        assert!(text.contains("HttpOnly") && text.contains("SameSite=Lax"));
        assert!(text.contains("Secure") && text.contains("Path=/accessmanagement/ui"));
        assert!(sessions.get(&cookie.id).await.is_some());
        assert!(sessions.remove(&cookie.id).await.is_some());
        assert!(sessions.get(&cookie.id).await.is_none());
    }
}
