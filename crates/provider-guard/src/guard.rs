//! The guard: checks the bearer token, reads the system user, asks the PDP.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use systembruker_domain::OrgNumber;

use crate::jwks::JwksCache;
use crate::pdp::Pdp;
use crate::{Refusal, TokenSource};

/// What the guard checks and where it asks.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    /// The token issuer: `{platform}/maskinporten/`.
    pub issuer: String,
    /// The issuer's key set: `{platform}/maskinporten/jwk`.
    pub jwks_url: String,
    /// The PDP: `{platform}/authorization/api/v1/authorize`.
    pub pdp_url: String,
    /// The scope every token must carry (the provider's Maskinporten scope).
    pub scope: String,
    /// The resource id in the resource registry the PDP decides on.
    pub resource: String,
    /// The action asked about (`read`, `write`, …).
    pub action: String,
    /// `None`: tokens must have no `aud` (a token meant for another API is refused);
    /// `Some(a)`: `aud` must name `a` (the vendor asked for it with `resource`).
    pub audience: Option<String>,
    /// Clock skew allowed on `exp`, in seconds.
    pub leeway_seconds: u64,
    /// How long the PDP and the key set may take before the guard refuses.
    pub timeout: Duration,
    /// The key set is fetched again for an unknown kid at most this often.
    pub min_key_refresh: Duration,
}

impl GuardConfig {
    /// The settings for a platform at `platform_url` (its public URL): read `read` on
    /// `resource`, tokens with `scope` and without `aud`.
    pub fn new(platform_url: &str, scope: &str, resource: &str) -> Self {
        let platform = platform_url.trim_end_matches('/');
        Self {
            issuer: format!("{platform}/maskinporten/"),
            jwks_url: format!("{platform}/maskinporten/jwk"),
            pdp_url: format!("{platform}/authorization/api/v1/authorize"),
            scope: scope.to_string(),
            resource: resource.to_string(),
            action: "read".to_string(),
            audience: None,
            leeway_seconds: 5,
            timeout: Duration::from_secs(5),
            min_key_refresh: Duration::from_secs(5),
        }
    }
}

/// The system user the PDP allowed, put into the request's extensions for the handler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SystemUser {
    /// The system user's id (`authorization_details[0].systemuser_id[0]`).
    pub id: String,
    /// The organisation that owns it (`systemuser_org`): a customer, or an accounting firm.
    pub owner_org: String,
    /// The organisation the request is for, as the PDP allowed it.
    pub party_org: String,
    pub system_id: Option<String>,
    pub external_ref: Option<String>,
    /// The vendor (`consumer`).
    pub vendor_org: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for SystemUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<SystemUser>()
            .cloned()
            .ok_or_else(|| {
                (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "the provider guard is not installed on this route",
                )
                    .into_response()
            })
    }
}

type PartyOf = dyn Fn(&Request) -> Option<String> + Send + Sync;

/// The guard, cheap to clone (shared state behind an `Arc`).
#[derive(Clone)]
pub struct Guard {
    inner: Arc<Inner>,
}

struct Inner {
    config: GuardConfig,
    keys: JwksCache,
    pdp: Pdp,
    party_of: Box<PartyOf>,
}

#[derive(Debug, Deserialize)]
struct Claims {
    #[serde(default)]
    scope: String,
    #[serde(default)]
    authorization_details: Option<Value>,
    #[serde(default)]
    consumer: Option<Value>,
}

/// `0192:315000009` → `315000009`.
fn org_of(claim: Option<&Value>) -> Option<String> {
    let id = claim?.get("ID").or_else(|| claim?.get("id"))?.as_str()?;
    Some(id.strip_prefix("0192:").unwrap_or(id).to_string())
}

/// The system user named by the token's `authorization_details`.
fn system_user_of(claims: &Claims, party: &str) -> Result<SystemUser, Refusal> {
    let details = claims
        .authorization_details
        .as_ref()
        .and_then(Value::as_array)
        .and_then(|all| {
            all.iter()
                .find(|d| d["type"] == systembruker_token::SYSTEMUSER_DETAILS_TYPE)
        })
        .ok_or(Refusal::NotSystemUser)?;
    let id = details["systemuser_id"]
        .as_array()
        .and_then(|ids| ids.first())
        .and_then(Value::as_str)
        .filter(|id| uuid::Uuid::parse_str(id).is_ok())
        .ok_or(Refusal::NotSystemUser)?;
    let owner_org = org_of(details.get("systemuser_org")).ok_or(Refusal::NotSystemUser)?;
    Ok(SystemUser {
        id: id.to_string(),
        owner_org,
        party_org: party.to_string(),
        system_id: details["system_id"].as_str().map(str::to_string),
        external_ref: details["externalRef"].as_str().map(str::to_string),
        vendor_org: org_of(claims.consumer.as_ref()),
    })
}

fn bearer(request: &Request) -> Result<&str, Refusal> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(Refusal::MissingToken)?
        .to_str()
        .map_err(|_| Refusal::InvalidToken("the Authorization header is not text".into()))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() => {
            Ok(token.trim())
        }
        _ => Err(Refusal::MissingToken),
    }
}

fn token_error(error: &jsonwebtoken::errors::Error) -> Refusal {
    let reason = match error.kind() {
        ErrorKind::ExpiredSignature => "the token has expired".to_string(),
        ErrorKind::InvalidIssuer => "the token was issued by another token service".to_string(),
        ErrorKind::InvalidAudience => "the token is meant for another API (aud)".to_string(),
        ErrorKind::InvalidSignature => "the signature does not verify".to_string(),
        ErrorKind::InvalidAlgorithm => "only RS256 is accepted".to_string(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the claim {claim} is missing"),
        other => format!("{other:?}"),
    };
    Refusal::InvalidToken(reason)
}

impl Guard {
    /// A guard for `config`. `credentials` gives the token the guard shows the PDP (scope
    /// `altinn:authorization/authorize`); `party_of` reads the organisation number a
    /// request is about (from its path, query or a header).
    pub fn new(
        config: GuardConfig,
        credentials: Arc<dyn TokenSource>,
        party_of: impl Fn(&Request) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(config.timeout).build()?;
        let keys = JwksCache::new(
            config.jwks_url.clone(),
            http.clone(),
            config.min_key_refresh,
        );
        let pdp = Pdp {
            url: config.pdp_url.clone(),
            http,
            credentials,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                keys,
                pdp,
                party_of: Box::new(party_of),
            }),
        })
    }

    pub fn config(&self) -> &GuardConfig {
        &self.inner.config
    }

    /// Checks a token's signature, issuer, expiry, audience and scope, and reads the
    /// system user it names; `party` is the organisation the call is for.
    pub async fn verify(&self, token: &str, party: &str) -> Result<SystemUser, Refusal> {
        let config = &self.inner.config;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| Refusal::InvalidToken(format!("not a JWT: {e}")))?;
        if header.alg != Algorithm::RS256 {
            return Err(Refusal::InvalidToken("only RS256 is accepted".into()));
        }
        let kid = header
            .kid
            .ok_or_else(|| Refusal::InvalidToken("the token names no key (kid)".into()))?;
        let key = self.inner.keys.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = config.leeway_seconds;
        validation.set_issuer(&[&config.issuer]);
        // Without a configured audience, jsonwebtoken refuses any token with an `aud`.
        validation.validate_aud = true;
        match &config.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                validation.set_required_spec_claims(&["exp", "iss", "aud"]);
            }
            None => validation.set_required_spec_claims(&["exp", "iss"]),
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| token_error(&e))?
            .claims;
        if !claims.scope.split(' ').any(|s| s == config.scope) {
            return Err(Refusal::WrongScope {
                needed: config.scope.clone(),
            });
        }
        system_user_of(&claims, party)
    }

    /// Asks the PDP whether `user` may do the configured action on the resource for its
    /// `party_org`. Only `Permit` passes.
    pub async fn decide(&self, user: &SystemUser) -> Result<(), Refusal> {
        let config = &self.inner.config;
        let decision = self
            .inner
            .pdp
            .decide(&user.id, &config.action, &config.resource, &user.party_org)
            .await?;
        if decision == "Permit" {
            return Ok(());
        }
        Err(Refusal::Denied {
            system_user: user.id.clone(),
            owner: user.owner_org.clone(),
            party: user.party_org.clone(),
            action: config.action.clone(),
            resource: config.resource.clone(),
            decision,
        })
    }

    /// Everything for one request: token, party, decision.
    pub async fn authorize(&self, request: &Request) -> Result<SystemUser, Refusal> {
        // Read what is needed before the first await: a body is not `Sync`, so a future
        // holding `&Request` across an await could not be sent between threads.
        let (token, party) = self.read_request(request);
        self.authorize_call(token?, party?).await
    }

    fn read_request(
        &self,
        request: &Request,
    ) -> (Result<String, Refusal>, Result<String, Refusal>) {
        let token = bearer(request).map(str::to_string);
        let party = (self.inner.party_of)(request)
            .ok_or_else(|| Refusal::NoParty("none given".into()))
            .and_then(|party| match OrgNumber::parse(&party) {
                Ok(_) => Ok(party),
                Err(e) => Err(Refusal::NoParty(format!("{party:?}: {e}"))),
            });
        (token, party)
    }

    /// A call with bearer `token` about organisation `party`: token, then decision.
    pub async fn authorize_call(
        &self,
        token: String,
        party: String,
    ) -> Result<SystemUser, Refusal> {
        let user = self.verify(&token, &party).await?;
        self.decide(&user).await?;
        Ok(user)
    }
}

/// The axum middleware: `route_layer(axum::middleware::from_fn_with_state(guard, check))`.
/// A refused request never reaches the handler; an allowed one carries its [`SystemUser`].
pub async fn check(State(guard): State<Guard>, mut request: Request, next: Next) -> Response {
    let (token, party) = guard.read_request(&request);
    let outcome = match (token, party) {
        (Ok(token), Ok(party)) => guard.authorize_call(token, party).await,
        (Err(refusal), _) | (_, Err(refusal)) => Err(refusal),
    };
    match outcome {
        Ok(user) => {
            tracing::info!(system_user = %user.id, owner = %user.owner_org, party = %user.party_org, "allowed");
            request.extensions_mut().insert(user);
            next.run(request).await
        }
        Err(refusal) => {
            tracing::info!(code = refusal.code(), reason = %refusal, "refused");
            refusal.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(details: Value) -> Claims {
        Claims {
            scope: "s".into(),
            authorization_details: Some(details),
            consumer: Some(json!({"authority": "iso6523-actorid-upis", "ID": "0192:991825827"})),
        }
    }

    #[test]
    fn the_system_user_is_read_from_authorization_details() {
        let user = system_user_of(
            &claims(json!([{
                "type": "urn:altinn:systemuser",
                "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:315000009"},
                "systemuser_id": ["0b8d8d5e-4d0c-4a47-9f38-3c8e5b7c2f10"],
                "system_id": "991825827_smartregnskap",
                "externalRef": "abc"
            }])),
            "315000009",
        )
        .unwrap();
        assert_eq!(user.id, "0b8d8d5e-4d0c-4a47-9f38-3c8e5b7c2f10");
        assert_eq!(user.owner_org, "315000009");
        assert_eq!(user.vendor_org.as_deref(), Some("991825827"));
        assert_eq!(user.external_ref.as_deref(), Some("abc"));
    }

    #[test]
    fn a_token_without_a_system_user_is_not_a_system_user_token() {
        for details in [
            json!([]),
            json!([{"type": "other"}]),
            json!([{"type": "urn:altinn:systemuser", "systemuser_id": ["not-a-uuid"],
                    "systemuser_org": {"ID": "0192:315000009"}}]),
            json!([{"type": "urn:altinn:systemuser", "systemuser_id": ["0b8d8d5e-4d0c-4a47-9f38-3c8e5b7c2f10"]}]),
        ] {
            assert_eq!(
                system_user_of(&claims(details), "315000009"),
                Err(Refusal::NotSystemUser)
            );
        }
    }

    #[test]
    fn the_pdp_question_names_subject_action_resource_and_party() {
        let body = crate::pdp::request_body("id-1", "read", "res", "315000009");
        assert_eq!(
            body.pointer("/Request/AccessSubject/0/Attribute/0/Value"),
            Some(&json!("id-1"))
        );
        assert_eq!(
            body.pointer("/Request/Resource/0/Attribute/1/Value"),
            Some(&json!("315000009"))
        );
    }
}
