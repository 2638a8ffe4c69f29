//! Who is calling, and what they may do.
//!
//! Every API handler takes one of the extractors below. Access control is expressed in
//! types: a handler that takes [`Scoped<AdminScope>`] cannot run without a caller that
//! holds the operator scope, and the [`Caller`] it receives says for whom it acts.

use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;

use crate::AppState;
use crate::problem::ApiError;

pub use systembruker_app::{ADMIN_SCOPE, Caller};

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("this endpoint needs a bearer token in the Authorization header")]
    Missing,
    #[error("the bearer token is not valid: {0}")]
    Invalid(String),
}

/// Checks one kind of bearer token. The token service registers a JWT verifier; the
/// static operator token (`--admin-token`) is another.
#[async_trait::async_trait]
pub trait TokenVerifier: Send + Sync {
    /// `Ok(None)` means "not my kind of token": the next verifier is asked.
    async fn verify(&self, token: &str) -> Result<Option<Caller>, AuthError>;
}

/// The static operator token from `--admin-token`. An empty token is never accepted.
pub struct StaticAdminToken(String);

impl StaticAdminToken {
    pub fn new(token: &str) -> Option<Self> {
        let token = token.trim();
        (!token.is_empty()).then(|| Self(token.to_string()))
    }
}

#[async_trait::async_trait]
impl TokenVerifier for StaticAdminToken {
    async fn verify(&self, token: &str) -> Result<Option<Caller>, AuthError> {
        // Constant-time comparison: the token is a shared secret.
        let equal = token.len() == self.0.len()
            && token
                .bytes()
                .zip(self.0.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        Ok(equal.then(|| Caller {
            scopes: BTreeSet::from([ADMIN_SCOPE.to_string()]),
            ..Caller::default()
        }))
    }
}

/// Asks each registered verifier in turn.
#[derive(Default)]
pub struct Authenticator {
    verifiers: Vec<Arc<dyn TokenVerifier>>,
}

impl Authenticator {
    pub fn with(mut self, verifier: Arc<dyn TokenVerifier>) -> Self {
        self.verifiers.push(verifier);
        self
    }

    pub fn add(&mut self, verifier: Arc<dyn TokenVerifier>) {
        self.verifiers.push(verifier);
    }

    pub async fn authenticate(&self, token: &str) -> Result<Caller, AuthError> {
        for verifier in &self.verifiers {
            if let Some(caller) = verifier.verify(token).await? {
                return Ok(caller);
            }
        }
        Err(AuthError::Invalid(
            "it was not issued by this platform, or it has expired".into(),
        ))
    }
}

/// A requirement on the caller's scopes: at least one of `ANY_OF` (an empty list:
/// any valid token).
pub trait ScopeRule: Send + Sync {
    const ANY_OF: &'static [&'static str];
}

/// A caller that holds one of `R::ANY_OF`. Rejects with 401 (no or bad token) or 403
/// (valid token without the scope), as problem JSON with `WWW-Authenticate`.
pub struct Scoped<R: ScopeRule> {
    pub caller: Caller,
    rule: PhantomData<R>,
}

impl<R: ScopeRule> std::ops::Deref for Scoped<R> {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.caller
    }
}

fn unauthorized(err: &AuthError) -> ApiError {
    let mut e = ApiError::new(StatusCode::UNAUTHORIZED, "STD-00401", "Unauthorized")
        .detail(err.to_string());
    e.www_authenticate = Some(match err {
        AuthError::Missing => "Bearer".to_string(),
        AuthError::Invalid(_) => "Bearer error=\"invalid_token\"".to_string(),
    });
    e
}

fn insufficient_scope(required: &[&str]) -> ApiError {
    let scopes = required.join(" ");
    let mut e = ApiError::new(StatusCode::FORBIDDEN, "STD-00403", "Forbidden").detail(format!(
        "the token does not carry a scope this endpoint requires (one of: {scopes})"
    ));
    e.www_authenticate = Some(format!(
        "Bearer error=\"insufficient_scope\", scope=\"{scopes}\""
    ));
    e
}

fn bearer_token(parts: &Parts) -> Result<&str, AuthError> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or(AuthError::Missing)?
        .to_str()
        .map_err(|_| AuthError::Invalid("the Authorization header is not ASCII".into()))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| AuthError::Invalid("expected \"Bearer <token>\"".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Invalid("expected \"Bearer <token>\"".into()));
    }
    Ok(token.trim())
}

/// The caller of a bearer token. Refused tokens count against the source address's
/// failed-token limit; an address past it gets 429 before its token is looked at, so
/// guessing the operator token is slowed to the limit's rate.
pub(crate) async fn authenticate(state: &AppState, parts: &Parts) -> Result<Caller, ApiError> {
    let address = state.limits.address(parts);
    let refused = |err: AuthError| match state.limits.auth_failed(address) {
        Ok(()) => unauthorized(&err),
        Err(limited) => limited.problem(),
    };
    let token = match bearer_token(parts) {
        Ok(token) => token,
        Err(AuthError::Missing) => return Err(unauthorized(&AuthError::Missing)),
        Err(err) => return Err(refused(err)),
    };
    state
        .limits
        .auth_allowed(address)
        .map_err(|limited| limited.problem())?;
    state.auth.authenticate(token).await.map_err(refused)
}

impl<S, R> FromRequestParts<S> for Scoped<R>
where
    S: Send + Sync,
    AppState: FromRef<S>,
    R: ScopeRule,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let caller = authenticate(&state, parts).await?;
        if !R::ANY_OF.is_empty() && !R::ANY_OF.iter().any(|s| caller.has_scope(s)) {
            return Err(insufficient_scope(R::ANY_OF));
        }
        Ok(Scoped {
            caller,
            rule: PhantomData,
        })
    }
}

macro_rules! scope_rule {
    ($(#[$doc:meta])* $name:ident => [$($scope:expr),+ $(,)?]) => {
        $(#[$doc])*
        pub struct $name;
        impl ScopeRule for $name {
            const ANY_OF: &'static [&'static str] = &[$($scope),+];
        }
    };
}

/// Any valid token, whatever its scopes.
pub struct AnyScope;
impl ScopeRule for AnyScope {
    const ANY_OF: &'static [&'static str] = &[];
}

/// Any authenticated caller.
pub type Authenticated = Scoped<AnyScope>;

scope_rule!(
    /// Operator API.
    AdminScope => [ADMIN_SCOPE]
);
scope_rule!(
    /// Resource owners writing to the resource registry (ownership is checked per resource).
    ResourceWrite => ["altinn:resourceregistry/resource.write", ADMIN_SCOPE]
);
scope_rule!(
    /// Reading person data from the register: personal data, operators only.
    PersonRead => [ADMIN_SCOPE]
);
scope_rule!(
    /// The PDP (`/authorization/api/v1/authorize`); operators may call it too.
    AuthorizeScope => ["altinn:authorization/authorize", "altinn:authorization/authorize.admin", ADMIN_SCOPE]
);
scope_rule!(
    /// A logged-in end user in the portal (the handler also checks `Caller.pid`).
    EndUserScope => ["altinn:portal/enduser"]
);
scope_rule!(
    /// Vendors writing to the system register (ownership is checked per system);
    /// `systemregister.admin` and operators may act for any vendor.
    SystemRegisterWrite => [
        "altinn:authentication/systemregister.write",
        "altinn:authentication/systemregister.admin",
        ADMIN_SCOPE
    ]
);
scope_rule!(
    /// Vendors creating and deleting system-user requests and change requests.
    SystemUserRequestWrite => ["altinn:authentication/systemuser.request.write"]
);
scope_rule!(
    /// Vendors reading their system-user requests and change requests.
    SystemUserRequestRead => ["altinn:authentication/systemuser.request.read"]
);
scope_rule!(
    /// A vendor's system reading a firm's agents and clients for a logged-in client
    /// administrator (the handlers also check the person and the vendor).
    ClientDelegationRead => ["altinn:clientdelegations.read", "altinn:clientdelegations.write"]
);
scope_rule!(
    /// A vendor's system adding and removing clients for a logged-in client administrator.
    ClientDelegationWrite => ["altinn:clientdelegations.write"]
);
scope_rule!(
    /// Maskinporten's system-user lookup (`systemuser/byExternalId`).
    SystemUserLookup => ["altinn:maskinporten/systemuser.read", ADMIN_SCOPE]
);
scope_rule!(
    /// Vendors reading their system users (`systemuser/vendor/*`). The reference asks
    /// for `request.write` on `byquery` and `systemregister.write` on `bysystem`; any
    /// of the vendor scopes is accepted on both (vendor ownership is checked).
    VendorSystemUserRead => [
        "altinn:authentication/systemuser.request.read",
        "altinn:authentication/systemuser.request.write",
        "altinn:authentication/systemregister.write",
        "altinn:authentication/systemregister.admin"
    ]
);

// ----- Maskinporten self-service (the reference's self-service scopes) -----
scope_rule!(
    /// An organisation reading its own Maskinporten clients and keys.
    SelfServiceClientsRead => [
        systembruker_token::scopes::SELF_SERVICE_CLIENTS_READ,
        systembruker_token::scopes::SELF_SERVICE_CLIENTS_WRITE
    ]
);
scope_rule!(
    /// An organisation changing its own Maskinporten clients and keys.
    SelfServiceClientsWrite => [systembruker_token::scopes::SELF_SERVICE_CLIENTS_WRITE]
);
scope_rule!(
    /// An API owner managing its own scopes and who may use them.
    SelfServiceScopesWrite => [systembruker_token::scopes::SELF_SERVICE_SCOPES_WRITE]
);
