//! The token service's public keys, fetched from `{platform}/maskinporten/jwk` and kept in
//! memory. A token signed with a key the cache does not know makes the cache fetch the set
//! again (the platform has rotated its key), at most once per `min_refresh`, so a stream of
//! tokens with made-up key ids cannot make the guard hammer the platform.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use crate::Refusal;

#[derive(Debug, Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

#[derive(Debug, Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

pub struct JwksCache {
    url: String,
    http: reqwest::Client,
    keys: RwLock<HashMap<String, DecodingKey>>,
    /// When the set was last fetched (None: never).
    fetched: Mutex<Option<Instant>>,
    min_refresh: Duration,
    max_age: Duration,
}

impl JwksCache {
    pub fn new(url: String, http: reqwest::Client, min_refresh: Duration) -> Self {
        Self {
            url,
            http,
            keys: RwLock::new(HashMap::new()),
            fetched: Mutex::new(None),
            min_refresh,
            max_age: Duration::from_secs(3600),
        }
    }

    /// The key `kid`: from the cache, else after fetching the set again.
    pub async fn key(&self, kid: &str) -> Result<DecodingKey, Refusal> {
        if let Some(key) = self.cached(kid).await {
            return Ok(key);
        }
        self.refresh().await?;
        self.cached(kid)
            .await
            .ok_or_else(|| Refusal::InvalidToken(format!("unknown signing key {kid:?}")))
    }

    async fn cached(&self, kid: &str) -> Option<DecodingKey> {
        let fresh = matches!(*self.fetched.lock().await, Some(at) if at.elapsed() < self.max_age);
        if !fresh {
            return None;
        }
        self.keys.read().await.get(kid).cloned()
    }

    /// Fetches the set unless that was done less than `min_refresh` ago.
    async fn refresh(&self) -> Result<(), Refusal> {
        let mut fetched = self.fetched.lock().await;
        if matches!(*fetched, Some(at) if at.elapsed() < self.min_refresh) {
            return Ok(());
        }
        let keys = self.fetch().await?;
        tracing::debug!(url = %self.url, keys = keys.len(), "fetched the token service's keys");
        *self.keys.write().await = keys;
        *fetched = Some(Instant::now());
        Ok(())
    }

    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, Refusal> {
        let unavailable = |e: String| Refusal::KeysUnavailable(format!("{}: {e}", self.url));
        let response = self
            .http
            .get(&self.url)
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("HTTP {}", response.status())));
        }
        let set: JwkSet = response
            .json()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let mut keys = HashMap::new();
        for jwk in set.keys {
            if jwk.kty != "RSA" {
                continue;
            }
            let (Some(kid), Some(n), Some(e)) = (jwk.kid, jwk.n, jwk.e) else {
                continue;
            };
            match DecodingKey::from_rsa_components(&n, &e) {
                Ok(key) => {
                    keys.insert(kid, key);
                }
                Err(error) => tracing::warn!(%kid, %error, "skipping an unreadable key"),
            }
        }
        Ok(keys)
    }
}
