//! Verifying the platform's own tokens, so that every API accepts them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use systembruker_domain::PersonNumber;
use systembruker_token::{AccessToken, TokenService, VerifyError};

use crate::auth::{AuthError, Caller, TokenVerifier};

// ----- verifying our tokens for every API -----

/// Accepts the platform's own tokens in `Authorization: Bearer`.
pub struct PlatformTokens {
    service: Arc<TokenService>,
    /// Tokens verified before, by their exact text, with the caller they gave and their
    /// `exp`. A token's signature and claims cannot change, so a repeated call with the
    /// same token only needs its expiry checked again, not an RSA verification.
    verified: Mutex<HashMap<String, (Caller, i64)>>,
}

/// Verified tokens kept before the cache starts over.
const VERIFIED_TOKENS: usize = 10_000;

impl PlatformTokens {
    pub fn new(service: Arc<TokenService>) -> Self {
        Self {
            service,
            verified: Mutex::default(),
        }
    }

    fn verified(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Caller, i64)>> {
        // A plain map behind the lock: usable after a panic elsewhere.
        self.verified.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait::async_trait]
impl TokenVerifier for PlatformTokens {
    async fn verify(&self, token: &str) -> Result<Option<Caller>, AuthError> {
        if token.split('.').count() != 3 {
            return Ok(None);
        }
        let now = Utc::now().timestamp();
        if let Some((caller, exp)) = self.verified().get(token)
            && now < *exp
        {
            return Ok(Some(caller.clone()));
        }
        match self.service.verify_access_token(token).await {
            Ok(verified) => {
                let exp = verified.claims.exp;
                let caller = caller_from(verified)?;
                let mut cache = self.verified();
                if cache.len() >= VERIFIED_TOKENS {
                    cache.retain(|_, (_, exp)| now < *exp);
                    if cache.len() >= VERIFIED_TOKENS {
                        cache.clear();
                    }
                }
                cache.insert(token.to_string(), (caller.clone(), exp));
                Ok(Some(caller))
            }
            Err(VerifyError::NotOurs(why)) => {
                tracing::debug!(%why, "bearer token not issued by this platform");
                Ok(None)
            }
            Err(VerifyError::Keys(why)) => {
                tracing::error!(%why, "cannot verify tokens: signing keys unavailable");
                Err(AuthError::Invalid(
                    "the platform cannot check tokens right now; try again later".into(),
                ))
            }
            Err(other) => Err(AuthError::Invalid(other.to_string())),
        }
    }
}

fn numeric_id(value: Option<&str>, name: &str) -> Result<Option<i64>, AuthError> {
    value
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| AuthError::Invalid(format!("claim {name} is not a number")))
        })
        .transpose()
}

/// Maps token claims to the caller the handlers see.
fn caller_from(token: AccessToken) -> Result<Caller, AuthError> {
    let claims = token.claims;
    let consumer_org = claims
        .consumer
        .as_ref()
        .map(|c| c.org())
        .transpose()
        .map_err(|e| AuthError::Invalid(format!("claim consumer: {e}")))?;
    let pid = claims
        .pid
        .as_deref()
        .map(PersonNumber::parse)
        .transpose()
        .map_err(|e| AuthError::Invalid(format!("claim pid: {e}")))?;
    Ok(Caller {
        scopes: claims.scopes().map(str::to_string).collect(),
        consumer_org,
        client_id: claims.client_id.clone(),
        pid,
        user_id: numeric_id(claims.user_id.as_deref(), "urn:altinn:userid")?,
        party_id: numeric_id(claims.party_id.as_deref(), "urn:altinn:partyid")?,
        claims: token.raw,
    })
}
